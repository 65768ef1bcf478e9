"""Shared fixtures: tiny hand-made databases whose numbers are worked out in the tests."""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import functools
import hashlib
import os
import pathlib
import re
import shutil
import tempfile

import pandas as pd
import pytest
from streamlit.components.v2 import manifest_scanner
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from crmlens import ingest, store

def pytest_configure(config):
    """With xdist workers (make test: -n 2 on two cores), each worker's DuckDB gets its share of the cores, one thread
    each: set here, before the workers start, they read it as crmlens.store is imported and pass it on to the app
    servers and commands the tests start. Measured on four of the heaviest store files with -n 2: 123-126 s against
    157-160 s at two threads each, a quarter less CPU."""
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 1 and "CRMLENS_THREADS" not in os.environ:
        os.environ["CRMLENS_THREADS"] = str(max(1, (os.cpu_count() or 2) // workers))


FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
PUBLIC_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "public"
APP = str(pathlib.Path(__file__).resolve().parents[1] / "app.py")

# Each new AppTest's first run scans the metadata of every installed package for Streamlit components (1.1 s of CPU
# here, 287 packages); the server scans once when it starts. The packages do not change during a test session: the
# tests scan once per process too.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


def app_test(page: str | None = None, timeout: float = 60, **query) -> AppTest:
    """app.py in AppTest with these address parameters, run on pages/<page>.py (default: the first page)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in query.items():
        at.query_params[key] = value
    return (at.switch_page(f"pages/{page}.py") if page else at).run()


def shown_text(markdown: str) -> str:
    """Markdown as the reader sees it: backslash escapes (crmlens.safe.md) resolved."""
    return re.sub(r"\\(.)", r"\1", markdown)


def fetch(db: pathlib.Path, sql: str) -> list[tuple]:
    """Rows as plain Python values (date, datetime, float, bool, None)."""
    cur = store.snapshot(db).cursor()
    try:
        return cur.execute(sql).fetchall()
    finally:
        cur.close()


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rejects_of(result_or_error) -> list[tuple]:
    """The reject list as (row, column, value, reason) tuples; a missing value is None."""
    return [(int(r["row"]), r["column"], None if pd.isna(r["value"]) else r["value"], r["reason"])
            for _, r in result_or_error.rejects.iterrows()]


# Loaded fixtures: each load is made once per test session, into a folder the xdist workers share (under a
# lock), and each test gets a copy of its own (a load takes a second or more, a copy a few milliseconds).
_TEMPLATE_DIR: list[pathlib.Path] = []


@pytest.fixture(scope="session", autouse=True)
def shared_loads(tmp_path_factory):
    """The folder of the session's loaded fixtures: the session's temporary folder (its workers share it)."""
    folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = folder.parent
    _TEMPLATE_DIR[:] = [folder / "loaded-fixtures"]
    _TEMPLATE_DIR[0].mkdir(exist_ok=True)
    yield _TEMPLATE_DIR[0]


def _template_dir() -> pathlib.Path:
    if not _TEMPLATE_DIR:  # outside a pytest session
        folder = pathlib.Path(tempfile.mkdtemp(prefix="crmlens-fixtures-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMPLATE_DIR.append(folder)
    return _TEMPLATE_DIR[0]


def _load_key(*what) -> str:
    """What a load depends on besides `what` (its files' bytes, its options): the CRMLENS_* settings (e.g. the
    date window), the day (dates are checked against today) and the model version (the marts built at load)."""
    from crmlens import model

    settings = sorted((k, v) for k, v in os.environ.items()
                      if k.startswith("CRMLENS_") and k not in ("CRMLENS_DB", store.DATA_PATH_ENV))
    key = repr((what, settings, dt.date.today().isoformat(), model.MODEL_VERSION))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _copy_of_load(db: pathlib.Path, key: str, load) -> pathlib.Path:
    """db as a copy of the database `load(path)` makes; the load runs once per session and key. When the load
    kept earlier data versions (several loads: versions.folder beside the database), db gets copies of them."""
    from crmlens import versions

    folder = _template_dir()
    template = folder / f"{key}.duckdb"
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            making = folder / f"{key}.making.duckdb"
            making.unlink(missing_ok=True)
            shutil.rmtree(versions.folder(making), ignore_errors=True)
            load(making)
            if versions.folder(making).exists():
                shutil.rmtree(versions.folder(template), ignore_errors=True)
                os.replace(versions.folder(making), versions.folder(template))
            os.replace(making, template)
    shutil.copyfile(template, db)
    if versions.folder(template).exists():
        shutil.copytree(versions.folder(template), versions.folder(db))
    return db


def load_fixture(db: pathlib.Path, name: str, **options) -> pathlib.Path:
    """Load every CSV of tests/fixtures/<name>/ into db (one load; options go to ingest.load_files).

    A new database file is a copy of the same load made once in the test session (_copy_of_load): the same
    tables, marts and load history, a file of its own. Loading into an existing database, or a DuckLake
    catalog, is a real load."""
    files = sorted((FIXTURES / name).glob("*.csv"))
    if not isinstance(db, pathlib.Path) or db.exists():
        ingest.load_files(files, db=db, **options)
        return db
    key = _load_key("fixture", name, [(f.name, sha256(f)) for f in files], sorted(options.items()))
    return _copy_of_load(db, key, lambda path: ingest.load_files(files, db=path, **options))


def load_texts(db: pathlib.Path, files: dict[str, str], **options) -> pathlib.Path:
    """Files of these names and texts loaded (one load; options go to ingest.load_files) into the new database
    file db: a copy of the same load made once in the test session, like load_fixture."""
    def load(path: pathlib.Path) -> None:
        folder = path.with_name(path.name + ".files")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        ingest.load_files([folder / name for name in files], db=path, **options)
        shutil.rmtree(folder)

    key = _load_key("texts", list(files.items()), sorted(options.items()))
    return _copy_of_load(db, key, load)


def load_demo(db: pathlib.Path, **generate) -> pathlib.Path:
    """crmlens.demo.generate(**generate) loaded into the new database file db (a copy of one load per session)."""
    from crmlens import demo

    key = _load_key("demo", sorted((k, str(v)) for k, v in generate.items()))
    return _copy_of_load(db, key, lambda path: ingest.load_tables(demo.generate(**generate), db=path))


def fixture_snapshot(tmp_path_factory, name: str):
    """A read snapshot of tests/fixtures/<name>/ loaded into a fresh database (for module-scoped fixtures)."""
    db = tmp_path_factory.mktemp(name.replace("/", "_")) / "fixture.duckdb"
    return store.snapshot(load_fixture(db, name))


def assert_same_frames(a: pd.DataFrame, b: pd.DataFrame, keys: list[str] | None = None, abs_tol: float = 1e-9) -> None:
    """Equal row for row (sorted by `keys` first: equal sums may tie in another order); doubles to a relative 1e-9
    and `abs_tol` (sums of the same doubles in another order differ in their last bits)."""
    if keys:
        a, b = a.sort_values(keys, ignore_index=True), b.sort_values(keys, ignore_index=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            assert a[col].to_numpy() == pytest.approx(b[col].to_numpy(), rel=1e-9, abs=abs_tol, nan_ok=True), col
        else:
            assert a[col].isna().tolist() == b[col].isna().tolist(), col
            assert _plain_values(a[col].dropna()) == _plain_values(b[col].dropna()), col


def _plain_values(column: pd.Series) -> list:
    """A column's values, list values (DuckDB lists arrive as numpy arrays) as lists, so that they compare."""
    return [value.tolist() if hasattr(value, "tolist") and not isinstance(value, str) else value for value in column]


def run_as_the_app(snap, sql: str, params: dict) -> pd.DataFrame:
    """SQL text run with the parameters queries.run would bind: the query defaults, then `params`, the
    use_*_mart flags as crmlens.model works them out for the snapshot (for queries as they were, kept in fixtures)."""
    from crmlens import model, queries
    merged = {**queries.DEFAULT_PARAMS, **params}
    bound = {p: (getattr(model, p)(snap, merged) if re.fullmatch(r"use_\w+_mart", p) else merged[p])
             for p in queries.parameters(sql)}
    return snap.query(sql, bound)


def demo_with_order_quirks(tmp_path_factory, name: str, seed: int, end_date: dt.date, guest_every: int | None = None):
    """A read snapshot of a 400-customer demo whose history ends on end_date, where every third order line has no
    cost, every 17th (from the 6th) is a refund (a negative amount, not void) and, with guest_every, every
    guest_every-th (from the 8th) has no customer id (a guest's order)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlens import demo
    db = tmp_path_factory.mktemp(name) / "demo.duckdb"
    tables = demo.generate(n_customers=400, seed=seed, end_date=end_date)
    orders = tables["orders"]
    row = pa.array(range(orders.num_rows))

    def every(n, at):
        return pc.equal(pc.subtract(row, pc.multiply(pc.divide(row, n), n)), at)

    def replace(column, where, value):
        return orders.set_column(orders.schema.get_field_index(column), column, pc.if_else(where, value, orders[column]))

    orders = replace("cost", every(3, 0), pa.scalar(None, pa.float64()))
    orders = replace("amount", every(17, 5), pc.negate(orders["amount"]))
    if guest_every:
        orders = replace("customer_id", every(guest_every, 7), pa.scalar(None, pa.string()))
    ingest.load_tables({**tables, "orders": orders}, db=db)
    return store.snapshot(db)


def serve_fixture(monkeypatch, tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    """Load tests/fixtures/<name>/ into a fresh database and point the app (CRMLENS_DB) at it."""
    db = load_fixture(tmp_path / (name.replace("/", "_") + ".duckdb"), name)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    return db


@pytest.fixture
def tiny_db(tmp_path) -> pathlib.Path:
    """tests/fixtures/tiny: 4 customers, 7 orders, 4 opportunities, 4 complaints (see test_overview_queries)."""
    return load_fixture(tmp_path / "tiny.duckdb", "tiny")


@pytest.fixture
def db_env(monkeypatch, tiny_db) -> pathlib.Path:
    """Point the app (store.db_path) at the tiny database."""
    monkeypatch.setenv("CRMLENS_DB", str(tiny_db))
    return tiny_db


@pytest.fixture(autouse=True)
def served_like_the_real_app(monkeypatch):
    """Run app.py on every AppTest run, as the real server does.

    AppTest resets Streamlit's "pages/ folder" flag before each run, so its second
    run would execute the page file alone (the old multipage mode). The real
    server clears that flag for good once app.py calls st.navigation.
    """
    init = PagesManager.__init__

    def init_then_clear(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init_then_clear)


# --- the two kinds of store: a DuckDB file, a DuckLake catalog in a throw-away PostgreSQL (tests/pg.py) ---

@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster of its own for this test session, stopped and deleted at the end."""
    from tests import pg

    cluster = pg.Cluster.new().start()
    yield cluster
    cluster.stop()
    cluster.remove()


@pytest.fixture
def new_lake(request, monkeypatch, tmp_path):
    """A function making an empty DuckLake catalog (its address; CRMLENS_DATA_PATH points at its folder)."""
    def make(name: str = "lake") -> str:
        cluster = request.getfixturevalue("postgres")
        address, data_path = cluster.lake(tmp_path / f"{name}-files")
        monkeypatch.setenv(store.DATA_PATH_ENV, data_path)
        return address
    return make


@pytest.fixture
def db(tmp_path) -> pathlib.Path:
    """A database file that does not exist yet: the first load creates it (test files with a loaded fixture
    database define their own `db`)."""
    return tmp_path / "crm.duckdb"


@pytest.fixture(params=["file", "ducklake"])
def empty_store(request, tmp_path, new_lake):
    """Where a test writes: a DuckDB file path, or the address of an empty DuckLake catalog."""
    return tmp_path / "crm.duckdb" if request.param == "file" else new_lake()


@pytest.fixture
def tiny_store(empty_store):
    """tests/fixtures/tiny in each kind of store (see tiny_db)."""
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=empty_store)
    return empty_store
