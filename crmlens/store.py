"""The only module that opens DuckDB.

Design (see README, "How the data is stored"): the database file is an immutable
snapshot. Readers, in any number of processes, attach it read-only from an
in-memory connection and hand out a cursor per call. A writer (an upload in the
app, or `python -m crmlens load` from a shell) takes a lock file, copies the
current file, changes the copy in one transaction and atomically renames it over
the original. Readers notice the new file on their next query and re-attach;
queries already running finish on the snapshot they started on. A failed or
killed load leaves only an unreferenced temporary file: the data is unchanged.

A second kind of store, for more than one app server (README, "Several app servers"): when the
address is `ducklake:...` (e.g. `ducklake:postgres:dbname=crmlens host=db`), the data is a DuckLake
catalog in PostgreSQL with its Parquet files in CRMLENS_DATA_PATH. The same interface: a Snapshot is
the catalog attached read-only at one DuckLake snapshot id, a writer is one DuckLake transaction
(appends write new files, nothing is copied), and the data version is the DuckLake snapshot id of the
last load. Loads from several processes are not serialised by a lock: a load that finds another one
committed while it ran is refused (WriteConflict) and nothing of it is written; ingest runs it again.
DuckLake keeps every load's snapshot, so an earlier data version can be read as it was (snapshot_at: the
version a shared link names, crmlens.asof); the file store's views read the current file only.
Only this module knows which kind of store it talks to.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pathlib
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import duckdb
import pandas as pd

from crmlens import contract, interrupt

PROJECT_DIR = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_DIR / "data" / "crm.duckdb"
WRITE_LOCK_TIMEOUT_S = 30.0
# Per snapshot connection; two snapshots can be alive briefly while one replaces the other.
MEMORY_LIMIT = os.environ.get("CRMLENS_MEMORY_LIMIT", "4GB")
THREADS = int(os.environ.get("CRMLENS_THREADS", str(os.cpu_count() or 2)))

META_DDL = """
create table if not exists meta (version bigint not null, updated_at timestamp not null);
create table if not exists loads (
    load_id bigint, version bigint, loaded_at timestamp, file_name varchar,
    table_name varchar, mode varchar, n_rows bigint, n_rejected bigint, content_hash varchar
);
create table if not exists mappings (
    signature varchar, table_name varchar, mapping_json varchar, saved_at timestamp
);
"""


class NoData(Exception):
    """The database file does not exist yet."""


class NotOurDatabase(Exception):
    """The file at the database path is no CRM Lens database: never read as one, never written into.

    reason: "unreadable" (not a DuckDB file: text, empty, cut short, damaged) or "foreign" (a DuckDB
    database that CRM Lens did not write). str() names the file and the cause, for logs and the CLI.
    """

    def __init__(self, path: pathlib.Path | Lake, reason: str, cause: Exception | None = None):
        what = ("is a DuckDB database that CRM Lens did not write" if reason == "foreign"
                else "cannot be opened as a DuckLake catalog" if isinstance(path, Lake)
                else "cannot be read as a DuckDB database")
        super().__init__(f"{path} {what}" + (f" ({cause})" if cause else ""))
        self.path, self.reason = path, reason


class StoreBusy(Exception):
    """Another load holds the write lock for longer than we wait."""


class WriteConflict(StoreBusy):
    """DuckLake: another process committed to the catalog while this writer ran; nothing of it was written."""


class VersionUnavailable(Exception):
    """A data version (a shared link's `v`) that cannot be opened as it was. reason: "no_history" (the DuckDB
    file store: views read the current file only) or "unknown" (no load of this store made that version, or
    DuckLake's history of it was expired)."""

    def __init__(self, version: int, reason: str):
        super().__init__(f"data version {version} cannot be opened ({reason})")
        self.version, self.reason = version, reason


class QueryFailed(Exception):
    def __init__(self, name: str, params: dict, cause: Exception):
        super().__init__(f"query {name} failed with params {params}: {cause}")
        self.name, self.params = name, params


LAKE_PREFIX = "ducklake:"
DATA_PATH_ENV = "CRMLENS_DATA_PATH"
# The SQL value of the data version a writer publishes (loads record it in their history).
NEXT_VERSION_SQL = "getvariable('crmlens_next_version')"


@dataclass(frozen=True)
class Lake:
    """A DuckLake catalog address (`ducklake:postgres:dbname=... host=...`) and its data folder or bucket.

    Stands where a database file's path stands (str() gives the address back); `with_name` gives a
    local file for this catalog's lock files, in the temporary folder."""

    address: str
    data_path: str | None

    def __str__(self) -> str:
        return self.address

    @property
    def name(self) -> str:
        return "ducklake-" + hashlib.sha256(f"{self.address}|{self.data_path}".encode()).hexdigest()[:16]

    @property
    def parent(self) -> pathlib.Path:
        return pathlib.Path(tempfile.gettempdir())

    def with_name(self, name: str) -> pathlib.Path:
        return self.parent / name

    def resolve(self) -> Lake:
        return self

    def exists(self) -> bool:
        return exists(self)


def db_path(path: str | os.PathLike | Lake | None = None) -> pathlib.Path | Lake:
    """The store: an explicit path or DuckLake address, else $CRMLENS_DB, else data/crm.duckdb.
    A `ducklake:` address takes its data folder from $CRMLENS_DATA_PATH."""
    if isinstance(path, Lake):
        return path
    value = path or os.environ.get("CRMLENS_DB") or DEFAULT_DB
    if isinstance(value, str) and value.startswith(LAKE_PREFIX):
        return Lake(value, os.environ.get(DATA_PATH_ENV) or None)
    return pathlib.Path(value).resolve()


def is_lake(path: str | os.PathLike | Lake | None = None) -> bool:
    return isinstance(db_path(path), Lake)


# DuckDB's extensions come from pip packages, never from the network (autoinstall and autoload are off).
# DuckDB 1.5: one package per extension (`duckdb-extension-<name>`), holding
# `duckdb_extension_<name>/extensions/v<version>/<name>.duckdb_extension`, loaded by path. DuckDB takes an
# extension's entry point from its file name, and the postgres file is named `postgres` where its entry point
# is `postgres_scanner`: such a file is loaded through a link with the right name in a private folder.
# DuckDB 1.4 (`duckdb-ext-*` packages): one `duckdb_ext` folder given as extension_directory, loaded by name.
_EXTENSION_ENTRY_NAMES = {"postgres": "postgres_scanner"}
_extension_links: pathlib.Path | None = None
_extension_links_lock = threading.Lock()


def _extension_dir() -> str | None:
    """DuckDB 1.4's extension folder (the `duckdb_ext` package), when it is installed."""
    try:
        import duckdb_ext
    except ImportError:
        return None
    return str(pathlib.Path(list(duckdb_ext.__path__)[0]) / "extensions")


def extension_file(name: str) -> pathlib.Path | None:
    """The file of extension `name` from its `duckdb-extension-<name>` package for the running DuckDB, loadable
    by path (named after its entry point); None without that package."""
    global _extension_links
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = pathlib.Path(list(spec.submodule_search_locations)[0]) / "extensions" / f"v{duckdb.__version__}"
    path = folder / f"{name}.duckdb_extension"
    if not path.is_file():
        return None
    entry = _EXTENSION_ENTRY_NAMES.get(name, name)
    if entry == name:
        return path
    with _extension_links_lock:
        if _extension_links is None:
            _extension_links = pathlib.Path(tempfile.mkdtemp(prefix="crmlens-duckdb-extensions-"))
            atexit.register(shutil.rmtree, _extension_links, True)
        link = _extension_links / f"{entry}.duckdb_extension"
        if not link.exists():
            link.symlink_to(path)
    return link


def load_extension(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Load DuckDB extensions (encodings, excel, ducklake, postgres, httpfs) from their pip packages, offline.
    The one place that knows how; a missing package fails with DuckDB's "not found" for that extension."""
    for name in names:
        path = extension_file(name)
        con.execute(f"load {_sql_string(str(path))}" if path else f"load {name}")


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with our limits, extensions off until load_extension (offline, from pip packages)."""
    config = {
        "threads": THREADS,
        "memory_limit": MEMORY_LIMIT,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if ext_dir := _extension_dir():
        config["extension_directory"] = ext_dir
    con = duckdb.connect(database, config=config)
    con.execute("set enable_progress_bar = false")  # a session option: no bars in logs and the CLI
    return con


_scratch: duckdb.DuckDBPyConnection | None = None
_scratch_lock = threading.Lock()


def scratch() -> duckdb.DuckDBPyConnection:
    """A connection of its own (temporary tables its own) to the process's one in-memory database for reading
    files before a load. Extensions loaded there stay loaded: loading `encodings` checks the signature of its
    350 MB file, about 1.2 s of CPU, which every file inspection of a GBK upload paid on a database of its own."""
    global _scratch
    with _scratch_lock:
        if _scratch is None:
            _scratch = connect()
    cur = _scratch.cursor()
    cur.execute("set enable_progress_bar = false")
    return cur


def _sql_string(value: str) -> str:
    # ATTACH takes no parameters; the path is our own configuration, never user input.
    return "'" + str(value).replace("'", "''") + "'"


def _file_identity(path: pathlib.Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class Snapshot:
    """One version of the data, read-only. Safe to share between threads."""

    path: pathlib.Path
    identity: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    version: int
    updated_at: pd.Timestamp | None
    catalog: str = "crm"  # the attached database the queries read (DuckLake: one per snapshot id)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        catalog = self.catalog  # read once: a read copy's thread may point it elsewhere meanwhile
        if catalog != "crm":
            catalog = _lake_attached(self, catalog)  # attached again if other versions' opening detached it
        cur = self.con.cursor()
        if catalog == "crm":
            cur.execute("use crm; set enable_progress_bar = false")
        else:  # DuckLake keeps no macros: the model's live in the in-memory database (_lake_base)
            cur.execute(f"use {catalog}; set search_path = '{catalog}.main,memory.main'; "
                        "set enable_progress_bar = false")
        return cur

    def query(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        cur = self.cursor()
        try:
            with interrupt.when_abandoned(cur):  # a session that reruns or ends does not wait for it
                return cur.execute(sql, params or {}).df()
        finally:
            cur.close()

    def tables(self) -> set[str]:
        return set(self.query("select table_name from duckdb_tables() where database_name = $c",
                              {"c": self.catalog})["table_name"])

    def columns(self, table: str) -> list[str]:
        """A table's columns in order ([] when it is missing). pragma_table_info reads this database only:
        duckdb_columns() lists every attached database's columns, on DuckLake a round trip per catalog."""
        name = ".".join('"' + part.replace('"', '""') + '"' for part in (self.catalog, "main", table))
        try:
            df = self.query("select name from pragma_table_info($t) order by cid", {"t": name})
        except duckdb.CatalogException:
            return []
        return list(df["name"])


_HEADER_BYTES = 3 * 4096  # a DuckDB file: its header and two database headers, then the blocks
_snapshots: dict[pathlib.Path, Snapshot] = {}
_snapshots_lock = threading.Lock()


def _open_snapshot(path: pathlib.Path) -> Snapshot:
    while True:
        before = _file_identity(path)
        if before is None:
            raise NoData(str(path))
        con = connect()
        try:
            con.execute(f"attach {_sql_string(path)} as crm (read_only)")
        except duckdb.Error as e:  # text, an empty file, a file cut short
            con.close()
            raise NotOurDatabase(path, "unreadable", e) from e
        if _file_identity(path) == before:
            break
        con.close()  # replaced while we attached: take the newer file
    try:
        # The blocks in use cannot fit in fewer bytes (free blocks at the end may be cut off, used ones not).
        block_size, n_used = con.execute(
            "select block_size, used_blocks from pragma_database_size() where database_name = 'crm'").fetchone()
        if before[2] < _HEADER_BYTES + n_used * block_size:
            raise duckdb.IOException(f"the file has {before[2]} bytes, its blocks need at least "
                                     f"{_HEADER_BYTES + n_used * block_size}: it was cut short")
        row = con.execute("select version, updated_at from crm.meta").fetchone()
    except (duckdb.CatalogException, duckdb.BinderException) as e:
        con.close()
        raise NotOurDatabase(path, "foreign", e) from e
    except duckdb.Error as e:  # damaged where the bookkeeping is
        con.close()
        raise NotOurDatabase(path, "unreadable", e) from e
    version, updated_at = row if row else (0, None)
    return Snapshot(path, before, con, int(version), pd.Timestamp(updated_at) if updated_at else None)


def snapshot(path: str | os.PathLike | Lake | None = None) -> Snapshot:
    """The current data. Re-attaches when a load has replaced the file (a new DuckLake snapshot)."""
    path = db_path(path)
    if isinstance(path, Lake):
        return _lake_snapshot(path)
    identity = _file_identity(path)
    current = _snapshots.get(path)
    if current is not None and current.identity == identity:
        return current
    with _snapshots_lock:
        current = _snapshots.get(path)
        if current is None or current.identity != _file_identity(path):
            current = _open_snapshot(path)
            _snapshots[path] = current
        return current


def exists(path: str | os.PathLike | Lake | None = None) -> bool:
    path = db_path(path)
    if isinstance(path, Lake):
        try:
            _lake_snapshot(path)
        except NoData:
            return False
        return True
    return path.exists()


@contextlib.contextmanager
def file_lock(lock_path: pathlib.Path, timeout_s: float, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold an exclusive lock on lock_path (any process on this machine); raise busy() after timeout_s."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_lock(path: pathlib.Path, timeout_s: float):
    return file_lock(path.with_name(path.name + ".lock"), timeout_s, lambda: StoreBusy(
        f"another load into {path} has been running for over {timeout_s:g} s; wait for it to finish and try again"))


def existing_tables(con: duckdb.DuckDBPyConnection, names) -> set[str]:
    """Which of `names` (our own table names) are tables of the writer's database (schema main). On the DuckDB file:
    from duckdb_tables(). On DuckLake each one is looked up by name (a view of that name would count too; a current
    model has none): duckdb_tables() lists every attached
    database, and each DuckLake snapshot an app server keeps attached (up to _KEEP_ATTACHED) is a catalog loaded from
    PostgreSQL for it: 0.2-5 s per listing at 1.16M orders, against milliseconds for the writer's own catalog."""
    names = list(names)
    kind = con.execute("select type from duckdb_databases() where database_name = current_database()").fetchone()
    if not (kind and kind[0] == "ducklake"):
        return set(names) & {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' "
            "and database_name = current_database()").fetchall()}
    database = con.execute("select current_database()").fetchone()[0]
    found = set()
    for name in names:
        qualified = ".".join('"' + part.replace('"', '""') + '"' for part in (database, "main", name))
        try:
            con.execute("select 1 from pragma_table_info($t) limit 0", {"t": qualified})
        except duckdb.CatalogException:
            continue
        found.add(name)
    return found


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables and every canonical table that is missing (empty)."""
    con.execute(META_DDL)
    existing = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main' "
                                          "and database_name = current_database()").fetchall()}
    for table in contract.TABLES.values():
        if table.name not in existing:
            cols = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
            con.execute(f'create table "{table.name}" ({cols})')


@contextlib.contextmanager
def writer(path: str | os.PathLike | None = None, lock_timeout_s: float = WRITE_LOCK_TIMEOUT_S,
           new_version: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a copy of the data, published atomically on success.

    Everything done through the connection is one transaction: when the block
    raises, the copy is discarded and the published file is untouched. A change
    that leaves every figure as it was (new_version=False) keeps the data version,
    so links made on it raise no "data changed" notice.

    On DuckLake the block is one DuckLake transaction; WriteConflict when another process committed
    first (nothing written: run it again). The version it publishes is NEXT_VERSION_SQL in SQL.
    """
    path = db_path(path)
    if isinstance(path, Lake):
        with _lake_writer(path, new_version) as con:
            yield con
        return
    with _write_lock(path, lock_timeout_s):
        remove_orphans(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        existed = path.exists()
        old_version = 0
        if existed:  # a whole CRM Lens database, or NotOurDatabase: never write into another file
            current = _open_snapshot(path)
            old_version = current.version
            current.con.close()
        try:
            if existed:
                shutil.copyfile(path, tmp)
            con = connect(str(tmp))
        except duckdb.Error as e:  # not a DuckDB database (text, empty, cut short): never written into
            _remove_copy(tmp)
            raise NotOurDatabase(path, "unreadable", e) from e
        except BaseException:  # e.g. disk full
            _remove_copy(tmp)
            raise
        try:
            con.execute(f"set variable crmlens_next_version = {int(old_version) + 1}")
            ensure_schema(con)
            con.execute("begin")
            yield con
            if new_version:
                _bump_version(con)
            con.execute("commit")
            con.execute("checkpoint")
            con.close()
            if existed and new_version:  # the snapshot being replaced is kept, to roll back to (versions.py)
                from crmlens import versions

                versions.keep(path, old_version)
            _publish(tmp, path)
        except BaseException:
            con.close()
            _remove_copy(tmp)
            raise


def _orphan_pattern(path: pathlib.Path) -> re.Pattern:
    # The copy a writer works on (.crm.duckdb.<uuid>.tmp), its write-ahead log and DuckDB's spill folder.
    return re.compile(r"\." + re.escape(path.name) + r"\.[0-9a-f]{32}\.tmp(\.wal|\.tmp)?")


def remove_orphans(path: pathlib.Path) -> list[pathlib.Path]:
    """Delete the copies killed loads left beside the database. Call only while holding the write lock:
    every load works under it, so no copy found then belongs to a live load."""
    pattern = _orphan_pattern(path)
    removed = []
    for entry in path.parent.iterdir() if path.parent.is_dir() else ():
        if pattern.fullmatch(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _remove_copy(tmp: pathlib.Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _bump_version(con: duckdb.DuckDBPyConnection, updated_at=None) -> None:
    con.execute("delete from meta")
    con.execute(f"insert into meta values ({NEXT_VERSION_SQL}, coalesce($at, current_localtimestamp()))",
                {"at": updated_at})


def _publish(tmp: pathlib.Path, path: pathlib.Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_macro(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run a model macro's `create or replace macro` on a writer's connection. A DuckLake catalog keeps no
    macros: there it is made for this connection only (readers make theirs in _lake_base)."""
    kind = con.execute("select type from duckdb_databases() where database_name = current_database()").fetchone()
    if kind and kind[0] == "ducklake":
        sql = re.sub(r"create\s+or\s+replace\s+macro", "create or replace temp macro", sql, count=1, flags=re.I)
    con.execute(sql)


# --- DuckLake: a catalog in PostgreSQL, Parquet files in a folder or bucket ------------------------------

_WRITE_ALIAS = "crm_w"  # attached read-write at the latest snapshot: writers and "is there a newer one?"
_KEEP_ATTACHED = 8  # snapshots attached at once per process (sessions still reading an older one)


@dataclass
class _LakeBase:
    """One DuckDB instance per catalog and process: the extensions loaded once, the model's macros in its
    in-memory database, and each snapshot readers use attached read-only under its own name."""

    con: duckdb.DuckDBPyConnection
    lock: threading.Lock
    attached: list[str]
    macros_made: bool = False  # the model's macros are in the in-memory database (made once: the same text)


_lake_bases: dict[Lake, _LakeBase] = {}
_lake_bases_lock = threading.Lock()


def _attach_options(lake: Lake, extra: str = "") -> str:
    options = [f"data_path {_sql_string(lake.data_path)}"] if lake.data_path else []
    return "(" + ", ".join(options + ([extra] if extra else [])) + ")" if options or extra else ""


def _lake_base(lake: Lake) -> _LakeBase:
    base = _lake_bases.get(lake)
    if base is not None:
        return base
    with _lake_bases_lock:
        if lake in _lake_bases:
            return _lake_bases[lake]
        if not lake.data_path:
            raise NotOurDatabase(lake, "unreadable", ValueError(
                f"{DATA_PATH_ENV} is not set: name the folder (or s3:// bucket) that holds the catalog's data files"))
        con = connect()
        try:
            load_extension(con, "ducklake", "postgres")
            if lake.data_path.startswith(("s3://", "gs://", "r2://", "http://", "https://")):
                load_extension(con, "httpfs")
            if "://" not in lake.data_path:
                pathlib.Path(lake.data_path).mkdir(parents=True, exist_ok=True)
            # DuckLake 1.0 (DuckDB 1.5) keeps inserts of up to 10 rows in the catalog database by default ("data
            # inlining"); every table's rows stay Parquet files in the data folder, as with DuckDB 1.4.
            con.execute(f"attach {_sql_string(lake.address)} as {_WRITE_ALIAS} "
                        f"{_attach_options(lake, 'data_inlining_row_limit 0')}")
            con.execute("set global ducklake_max_retry_count = 0")  # a load that lost the race is run again, not merged
            con.execute("set global parquet_metadata_cache = true")  # the data files never change: read each footer once
        except duckdb.Error as e:
            con.close()
            raise NotOurDatabase(lake, "unreadable", e) from e
        base = _LakeBase(con, threading.Lock(), [])
        _lake_bases[lake] = base
        return base


def _create_reader_macros(cur: duckdb.DuckDBPyConnection, alias: str) -> bool:
    """The model's macros in the in-memory database, checked against snapshot `alias` (DuckDB binds a macro's
    tables when it is made); queries find them through their search path. A snapshot without the model
    (an older or empty catalog) has none until model.ensure builds it. Whether every one was made: they are made
    once per process (a macro's tables are bound again where it is used, in the snapshot a query reads; making them
    again for each new snapshot cost 0.4-0.7 s of catalog round trips per version at 1.16M orders)."""
    from crmlens import model  # model builds on this module

    cur.execute(f"use {alias}; set search_path = '{alias}.main,memory.main'")
    try:
        for name in model.MACROS:
            cur.execute(model.sql(name).replace("create or replace macro ", "create or replace macro memory.main.", 1))
    except duckdb.CatalogException:
        return False
    return True


def _lake_current(base: _LakeBase) -> int:
    cur = base.con.cursor()
    try:
        return int(cur.execute(f"select id from {_WRITE_ALIAS}.current_snapshot()").fetchone()[0])
    finally:
        cur.close()


def _lake_snapshot(lake: Lake) -> Snapshot:
    base = _lake_base(lake)
    try:
        snapshot_id = _lake_current(base)
    except duckdb.Error as e:  # PostgreSQL gone, the catalog damaged
        raise NotOurDatabase(lake, "unreadable", e) from e
    current = _snapshots.get(lake)
    if current is not None and current.identity == ("ducklake", snapshot_id) and _lake_alias(current) in base.attached:
        _read_copy_wanted(lake, base, current)
        return current
    with base.lock:
        current = _snapshots.get(lake)
        if current is None or current.identity != ("ducklake", snapshot_id) or _lake_alias(current) not in base.attached:
            current = _open_lake_snapshot(lake, base, snapshot_id)
            _snapshots[lake] = current
    _read_copy_wanted(lake, base, current)
    return current


def _lake_alias(snap: Snapshot) -> str:
    """The alias a DuckLake snapshot is attached under (its catalog, unless a read copy serves it)."""
    return f"crm_s{snap.identity[1]}"


def _open_lake_snapshot(lake: Lake, base: _LakeBase, snapshot_id: int) -> Snapshot:
    """The catalog as of one DuckLake snapshot, attached read-only (call under base.lock)."""
    alias = f"crm_s{snapshot_id}"
    cur = base.con.cursor()
    try:
        if alias not in base.attached:
            cur.execute(f"attach {_sql_string(lake.address)} as {alias} "
                        f"{_attach_options(lake, f'snapshot_version {snapshot_id}, read_only')}")
            base.attached.append(alias)
            _detach_least_recent(lake, base, cur, keep=alias)
        # (meta read at once: listing the tables, duckdb_tables(), asks PostgreSQL about every attached catalog, 2.4-4 s
        # for a new version at 1.16M orders, where this read takes 0.3 s)
        try:
            row = cur.execute(f"select version, updated_at from {alias}.meta").fetchone()
        except duckdb.CatalogException:
            raise NoData(str(lake)) from None
        if not base.macros_made:
            base.macros_made = _create_reader_macros(cur, alias)
    except duckdb.Error as e:
        raise NotOurDatabase(lake, "unreadable", e) from e
    finally:
        cur.close()
    version, updated_at = row if row else (0, None)
    return Snapshot(lake, ("ducklake", snapshot_id), base.con, int(version),
                    pd.Timestamp(updated_at) if updated_at else None, catalog=alias)


def _lake_attached(snap: Snapshot, catalog: str) -> str:
    """The catalog a DuckLake Snapshot reads (`catalog`), attached: a snapshot's own alias (crm_s<id>) that
    _detach_least_recent detached meanwhile (more versions opened than _KEEP_ATTACHED) is attached again at the
    same snapshot id, so a page run or a link holding an older version reads that version, never an error and
    never another version's rows. Read copies (crm_c<id>) are kept by their own rules (_ReadCopies)."""
    if not catalog.startswith("crm_s") or not isinstance(snap.path, Lake):
        return catalog
    base = _lake_bases.get(snap.path)
    if base is None or catalog in base.attached:
        return catalog
    with base.lock:
        if catalog not in base.attached:
            cur = base.con.cursor()
            try:
                cur.execute(f"attach if not exists {_sql_string(snap.path.address)} as {catalog} "
                            f"{_attach_options(snap.path, f'snapshot_version {int(snap.identity[1])}, read_only')}")
                base.attached.append(catalog)
                _detach_least_recent(snap.path, base, cur, keep=catalog)
            except duckdb.Error as e:  # PostgreSQL gone, the snapshot expired
                raise NotOurDatabase(snap.path, "unreadable", e) from e
            finally:
                cur.close()
    return catalog


def _detach_least_recent(lake: Lake, base: _LakeBase, cur: duckdb.DuckDBPyConnection, keep: str) -> None:
    """Keep at most _KEEP_ATTACHED snapshots attached: detach the least recently used ones, never the one just
    opened nor the latest (every session without a link's older version reads it). Call under base.lock."""
    latest = _snapshots.get(lake)
    spared = {keep, _lake_alias(latest) if latest is not None else keep}
    for alias in [a for a in base.attached if a not in spared][:max(0, len(base.attached) - _KEEP_ATTACHED)]:
        cur.execute(f"detach {alias}")
        base.attached.remove(alias)


# Earlier snapshots opened for links that name their data version: (catalog, data version) -> Snapshot.
_as_of: dict[tuple[Lake, int], Snapshot] = {}


def keeps_history(path: str | os.PathLike | Lake | None = None) -> bool:
    """Whether a view can be read as of an earlier data version (snapshot_at): DuckLake keeps every load's
    snapshot; the DuckDB file store's views read the current file only."""
    return is_lake(path)


def snapshot_at(version: int, path: str | os.PathLike | Lake | None = None) -> Snapshot:
    """The data exactly as data version `version` left it, read-only (DuckLake time travel: the catalog
    attached at the snapshot id that load committed). VersionUnavailable when the store keeps no history
    (the DuckDB file) or this version is not one of its loads' (never made, made by another store, or
    expired); NoData / NotOurDatabase as snapshot()."""
    path = db_path(path)
    if not isinstance(path, Lake):
        raise VersionUnavailable(version, "no_history")
    latest = _lake_snapshot(path)
    if version == latest.version:
        return latest
    base = _lake_base(path)
    found = _as_of.get((path, version))
    with base.lock:
        if found is not None and found.catalog in base.attached:
            base.attached.remove(found.catalog)  # most recently used: detached last
            base.attached.append(found.catalog)
            return found
        cur = base.con.cursor()
        try:
            known = cur.execute(f"select count(*) from {_WRITE_ALIAS}.snapshots() where snapshot_id = $v",
                                {"v": version}).fetchone()[0]
        except duckdb.Error as e:  # PostgreSQL gone, the catalog damaged
            raise NotOurDatabase(path, "unreadable", e) from e
        finally:
            cur.close()
        if not known:
            raise VersionUnavailable(version, "unknown")
        try:
            found = _open_lake_snapshot(path, base, version)
        except NoData:  # a snapshot before the first load
            raise VersionUnavailable(version, "unknown") from None
        # A data version is the snapshot id of the load that made it; any other snapshot (a model upgrade,
        # a saved mapping, a migrated history's numbering) is refused rather than shown as that version.
        if found.version != version:
            raise VersionUnavailable(version, "unknown")
        if len(_as_of) > 64:
            _as_of.clear()
        _as_of[(path, version)] = found
        return found


@contextlib.contextmanager
def _lake_writer(lake: Lake, new_version: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckLake transaction. Its data version is the snapshot id its commit makes: the catalog
    refuses the commit (no retry, no merge) when another one took that id first."""
    base = _lake_base(lake)
    con = base.con.cursor()
    try:
        con.execute(f"use {_WRITE_ALIAS}; set search_path = '{_WRITE_ALIAS}.main,memory.main'; "
                    "set enable_progress_bar = false")
        _lake_ensure_schema(con, lake)
        con.execute("begin")
        started_at = con.execute(f"select max(snapshot_id) from {_WRITE_ALIAS}.snapshots()").fetchone()[0]
        con.execute(f"set variable crmlens_next_version = {int(started_at or 0) + 1}")
        yield con
        if new_version:
            _bump_version(con)
        try:
            con.execute("commit")
        except duckdb.TransactionException as e:
            raise WriteConflict(f"another load into {lake} was committed while this one ran; nothing of this "
                                f"one was written: load it again") from e
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()


def _lake_ensure_schema(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Make the missing tables in a transaction of their own. (DuckLake 0.3 loses the tables a transaction
    made when it replaces one of them again in that transaction: a load replaces tables it must find made.)"""
    needed = {"meta", "loads", "mappings", *(t.name for t in contract.TABLES.values())}
    if needed <= existing_tables(con, needed):
        return
    con.execute("begin")
    ensure_schema(con)
    try:
        con.execute("commit")
    except duckdb.TransactionException as e:
        raise WriteConflict(f"another server was setting up {lake} at the same time; nothing was written: "
                            "try again") from e


def attempts(action: Callable[[], object], n: int = 3):
    """Run a write (action) again when another process committed first (DuckLake); the last refusal stands."""
    for attempt in range(n):
        try:
            return action()
        except WriteConflict:
            if attempt == n - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def copy_store(source: str | os.PathLike | Lake, target: str | os.PathLike | Lake) -> int:
    """Copy every table of one store into another (e.g. a DuckDB file into a DuckLake catalog) in one write:
    the data, the load history, saved mappings, digests, with their column types; the model is rebuilt.
    Returns the target's data version (a DuckLake snapshot id on DuckLake)."""
    from crmlens import model

    source = db_path(source)
    src = snapshot(source)  # NoData / NotOurDatabase before anything is written
    tables = sorted(src.tables() - {"meta"} - set(model.OBJECTS) - {"vocabulary", "model_info", model.KEPT_FRAMES})
    with writer_reading(target, source, new_version=False) as (con, alias):
        for table in tables:
            name = '"' + table.replace('"', '""') + '"'
            con.execute(f"create or replace table {name} as select * from {alias}.main.{name}")
        model.build(con)
        _bump_version(con, src.updated_at.to_pydatetime() if src.updated_at is not None else None)
        version = con.execute(f"select {NEXT_VERSION_SQL}").fetchone()[0]
    return int(version)


@dataclass(frozen=True)
class LakeAt:
    """A DuckLake catalog as of one earlier snapshot (a data version to roll back to): DuckLake keeps them."""

    lake: Lake
    snapshot_id: int

    def __str__(self) -> str:
        return f"{self.lake} (snapshot {self.snapshot_id})"


def earlier_versions(path: Lake) -> dict[int, LakeAt]:
    """DuckLake: the data versions of earlier loads whose snapshots the catalog still has (oldest first)."""
    try:
        snap = _lake_snapshot(path)
    except NoData:
        return {}
    if "loads" not in snap.tables():
        return {}
    versions = snap.query("select distinct version from loads where version < $v order by 1", {"v": snap.version})
    cur = snap.con.cursor()
    try:
        alive = {r[0] for r in cur.execute(f"select snapshot_id from {_WRITE_ALIAS}.snapshots()").fetchall()}
    finally:
        cur.close()
    return {int(v): LakeAt(path, int(v)) for v in versions["version"] if int(v) in alive}


def attach_read_only(con: duckdb.DuckDBPyConnection, source: pathlib.Path | Lake | LakeAt, alias: str) -> None:
    """Attach a store (a DuckDB file, a DuckLake catalog at its newest snapshot) or a kept version (a snapshot
    file, or a DuckLake snapshot) to a writer's connection as `alias`."""
    if isinstance(source, LakeAt):
        con.execute(f"attach {_sql_string(source.lake.address)} as {alias} "
                    f"{_attach_options(source.lake, f'snapshot_version {int(source.snapshot_id)}, read_only')}")
    elif isinstance(source, Lake):
        con.execute(f"attach {_sql_string(source.address)} as {alias} {_attach_options(source, 'read_only')}")
    else:
        con.execute(f"attach {_sql_string(str(source))} as {alias} (read_only)")


@contextlib.contextmanager
def writer_reading(target: str | os.PathLike | Lake | None, source: pathlib.Path | Lake | LakeAt,
                   new_version: bool = True) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """writer(target) with `source` attached read-only (attach_read_only) under the alias it yields.
    The source stays attached until the write has ended: DuckDB 1.5 refuses to detach, inside a transaction,
    a database the transaction read. A file writer's connection goes with its copy; on DuckLake the shared
    instance detaches it after the commit (or the rollback)."""
    alias = f"crm_source_{uuid.uuid4().hex[:12]}"
    try:
        with writer(target, new_version=new_version) as con:
            attach_read_only(con, source, alias)
            yield con, alias
    finally:
        lake = db_path(target)
        base = _lake_bases.get(lake) if isinstance(lake, Lake) else None
        if base is not None:
            with base.lock:
                cur = base.con.cursor()
                try:
                    cur.execute(f"detach database if exists {alias}")
                finally:
                    cur.close()


# --- DuckLake: a local read copy of the latest snapshot, per server -----------------------------------------
# Measured (README, "What a page query costs on DuckLake"): a query on the catalog asks PostgreSQL for the files,
# delete files and statistics of every table it reads (about four round trips per table, 15-60 ms each, on
# every query: DuckLake 1.0 caches none of it), then decodes Parquet. So each server copies the latest snapshot,
# once per data version, into a DuckDB file of its own (a background thread; until it is ready, queries read the
# catalog) and the latest snapshot's queries read that copy: the file store's speed, the same rows. Earlier
# versions (shared links, time travel) read the catalog as before. CRMLENS_LAKE_READ_COPY: a folder for the
# copies (default: crmlens-read-copies in the temporary folder), or "off".
# Only a long-running app server makes copies (a Streamlit runtime in the process), or a process that asks
# (ask_for_read_copies: the benchmarks, the tests): a command (`python -m crmlens load`, `metrics`, ...) reads a
# few queries and exits, so copying the whole snapshot would cost it far more than reading the catalog.

READ_COPY_ENV = "CRMLENS_LAKE_READ_COPY"
_READ_COPIES_KEPT = 2  # per catalog and process: the latest's and the one before (page runs still on it)


@dataclass
class _ReadCopies:
    ready: dict[int, tuple[str, pathlib.Path]]  # snapshot id -> (alias attached read-only, file), oldest first
    building: int | None = None  # the snapshot id a thread is copying
    failed: set[int] = field(default_factory=set)  # copies that failed: read from the catalog, not tried again
    served: dict[int, list[Snapshot]] = field(default_factory=dict)  # snapshot id -> the Snapshots reading its copy
    cursor: duckdb.DuckDBPyConnection | None = None  # the copying thread's (interrupted at exit)
    seconds: dict[int, float] = field(default_factory=dict)  # snapshot id -> how long its copy took
    reused: dict[int, list[str]] = field(default_factory=dict)  # snapshot id -> tables taken from the copy before
    thread: threading.Thread | None = None


_read_copies: dict[Lake, _ReadCopies] = {}
_read_copies_lock = threading.Lock()


def read_copy_folder() -> pathlib.Path | None:
    """Where this server keeps its read copies of DuckLake snapshots; None when they are turned off."""
    value = os.environ.get(READ_COPY_ENV, "").strip()
    if value.lower() in ("off", "0", "false", "no"):
        return None
    return pathlib.Path(value) if value else pathlib.Path(tempfile.gettempdir()) / "crmlens-read-copies"


READ_COPIES_ASKED = False  # set by ask_for_read_copies (tests set it with monkeypatch)


def ask_for_read_copies(on: bool = True) -> None:
    """Make read copies in this process although it is no app server (a benchmark, a long-running job)."""
    global READ_COPIES_ASKED
    READ_COPIES_ASKED = on


def makes_read_copies() -> bool:
    """Whether this process copies the latest DuckLake snapshot for its queries: copies are not turned off, and
    it is an app server (a Streamlit runtime exists: `streamlit run`, AppTest) or asked for them. The command line
    never imports Streamlit's runtime, so its loads and `metrics` read the catalog."""
    if read_copy_folder() is None:
        return False
    if READ_COPIES_ASKED:
        return True
    runtime = sys.modules.get("streamlit.runtime")
    try:
        return runtime is not None and bool(runtime.exists())
    except Exception:  # a Streamlit without runtime.exists(): no copies (the catalog is read; slower, same rows)
        return False


def _read_copy_wanted(lake: Lake, base: _LakeBase, snap: Snapshot) -> None:
    """Point the latest snapshot at its read copy when it is ready; else start copying it (once), in a process
    that makes read copies (makes_read_copies)."""
    folder = read_copy_folder()
    if folder is None:
        return
    snapshot_id = snap.identity[1]
    with _read_copies_lock:
        copies = _read_copies.setdefault(lake, _ReadCopies({}))
        if snapshot_id in copies.ready:
            if snap.catalog != copies.ready[snapshot_id][0]:
                snap.catalog = copies.ready[snapshot_id][0]
                copies.served.setdefault(snapshot_id, []).append(snap)
            return
        if copies.building is not None or snapshot_id in copies.failed or not makes_read_copies():
            return
        copies.building = snapshot_id
        copies.thread = threading.Thread(target=_build_read_copy, args=(lake, base, snap, folder), daemon=True,
                                         name=f"crmlens-read-copy-s{snapshot_id}")
        copies.thread.start()


def _build_read_copy(lake: Lake, base: _LakeBase, snap: Snapshot, folder: pathlib.Path) -> None:
    snapshot_id = snap.identity[1]
    source = _lake_alias(snap)
    path = folder / f"{lake.name}-p{os.getpid()}-s{snapshot_id}-{uuid.uuid4().hex[:8]}.duckdb"
    building, alias = f"crm_copying_{uuid.uuid4().hex[:12]}", f"crm_c{snapshot_id}"
    cur = base.con.cursor()
    started = time.perf_counter()
    with _read_copies_lock:
        copies = _read_copies[lake]
        copies.cursor = cur
        earlier = max((sid for sid in copies.ready if sid < snapshot_id), default=None)
        earlier_path = copies.ready[earlier][1] if earlier is not None else None
    reused: list[str] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_dead_read_copies(folder)
        unchanged, inserted = _table_changes(cur, earlier, snapshot_id) if earlier is not None else (set(), set())
        if unchanged or inserted:  # start from the earlier copy (a local file copy): copy what the loads since changed
            shutil.copyfile(earlier_path, path)
        cur.execute(f"attach {_sql_string(str(path))} as {building}")
        try:
            tables = [r[0] for r in cur.execute("select table_name from duckdb_tables() where database_name = $c "
                                                "and schema_name = 'main' order by 1", {"c": source}).fetchall()]
            views = [r[0] for r in cur.execute("select sql from duckdb_views() where database_name = $c and "
                                               "schema_name = 'main' and not internal order by view_name",
                                               {"c": source}).fetchall()]
            for (view,) in cur.execute("select view_name from duckdb_views() where database_name = $c and "
                                       "schema_name = 'main' and not internal", {"c": building}).fetchall():
                quoted = '"' + view.replace('"', '""') + '"'
                cur.execute(f"drop view if exists {building}.main.{quoted}")
            had = {r[0] for r in cur.execute("select table_name from duckdb_tables() where database_name = $c and "
                                             "schema_name = 'main'", {"c": building}).fetchall()}
            for table in sorted(had - (set(tables) & (unchanged | inserted))):  # changed since, or gone
                name = '"' + table.replace('"', '""') + '"'
                cur.execute(f"drop table {building}.main.{name}")
            for table in tables:
                name = '"' + table.replace('"', '""') + '"'
                if table in unchanged and table in had:
                    reused.append(table)
                    continue
                if table in inserted and table in had:  # only rows added since: add them (DuckLake's insertions)
                    cur.execute(f"insert into {building}.main.{name} select * from ducklake_table_insertions("
                                f"$catalog, 'main', $table, $earlier::bigint + 1, $later::bigint)",
                                {"catalog": _WRITE_ALIAS, "table": table, "earlier": earlier, "later": snapshot_id})
                    reused.append(table + " (rows added)")
                    continue
                cur.execute(f"create table {building}.main.{name} as select * from {source}.main.{name}")
            cur.execute(f"use {building}")  # a view binds its tables in the database it is made in
            while views:  # a view on another view waits for it
                waiting = []
                for sql in views:
                    try:
                        cur.execute(sql)
                    except duckdb.CatalogException:
                        waiting.append(sql)
                if len(waiting) == len(views):
                    cur.execute(waiting[0])  # no progress: the error says which view cannot be made
                views = waiting
            cur.execute("use memory")
            cur.execute(f"checkpoint {building}")
        finally:
            cur.execute(f"detach database if exists {building}")
        cur.execute(f"attach {_sql_string(str(path))} as {alias} (read_only)")
    except BaseException:  # e.g. the disk full, the folder not writable, PostgreSQL gone: read the catalog
        with contextlib.suppress(Exception):
            cur.execute(f"detach database if exists {building}")
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        with _read_copies_lock:
            copies = _read_copies[lake]
            copies.building, copies.cursor = None, None
            copies.failed.add(snapshot_id)
        return
    finally:
        cur.close()
    with _read_copies_lock:
        copies = _read_copies[lake]
        copies.ready[snapshot_id] = (alias, path)
        copies.building, copies.cursor = None, None
        copies.seconds[snapshot_id] = time.perf_counter() - started
        copies.reused[snapshot_id] = reused
        for sid in list(copies.ready)[:-_READ_COPIES_KEPT]:  # the oldest copies go
            old_alias, old_path = copies.ready.pop(sid)
            for held in copies.served.pop(sid, []):  # a run still on that version reads it from the catalog again
                held.catalog = f"crm_s{sid}"
            detaching = base.con.cursor()
            try:
                detaching.execute(f"detach database if exists {old_alias}")
            except duckdb.Error:
                pass
            finally:
                detaching.close()
            with contextlib.suppress(OSError):
                old_path.unlink(missing_ok=True)
        latest = _snapshots.get(lake)
        if latest is not None and latest.identity == snap.identity:
            latest.catalog = alias  # the same rows: queries from now on read the copy
            copies.served.setdefault(snapshot_id, []).append(latest)


def _unchanged_tables(cur: duckdb.DuckDBPyConnection, earlier: int, later: int) -> set[str]:
    """The tables of schema main that no commit after snapshot `earlier` up to `later` changed: the same DuckLake
    table (id) at both, and no snapshot in between created, dropped, altered, inserted into or deleted from it
    (its `changes`). Any doubt (the metadata unreadable) gives the empty set: every table is copied again."""
    return _table_changes(cur, earlier, later)[0]


def _table_changes(cur: duckdb.DuckDBPyConnection, earlier: int, later: int) -> tuple[set[str], set[str]]:
    """(unchanged, only inserted into): the tables of schema main that no commit after snapshot `earlier` up to
    `later` changed (see _unchanged_tables), and those that the commits only inserted rows into (the same table id,
    in no change but `tables_inserted_into`: an order append's orders). ((), ()) when in doubt."""
    try:
        changes = cur.execute(f"select changes from {_WRITE_ALIAS}.snapshots() where snapshot_id > $a "
                              "and snapshot_id <= $b", {"a": earlier, "b": later}).fetchall()
        live = ("select t.table_id, t.table_name from __ducklake_metadata_{w}.ducklake_table t "
                "join __ducklake_metadata_{w}.ducklake_schema s on s.schema_id = t.schema_id "
                "and s.begin_snapshot <= $s and (s.end_snapshot is null or s.end_snapshot > $s) "
                "where s.schema_name = 'main' and t.begin_snapshot <= $s "
                "and (t.end_snapshot is null or t.end_snapshot > $s)").format(w=_WRITE_ALIAS)
        at_earlier = set(cur.execute(live, {"s": earlier}).fetchall())
        at_later = set(cur.execute(live, {"s": later}).fetchall())
    except duckdb.Error:
        return set(), set()
    touched_ids, touched_names, inserted_ids = set(), set(), set()
    for (change,) in changes:
        for kind, values in dict(change or {}).items():
            for value in values or ():
                value = str(value)
                if value.isdigit():
                    (inserted_ids if kind == "tables_inserted_into" else touched_ids).add(int(value))
                else:
                    touched_names.add(value.split(".", 1)[-1].strip('"'))
    both = {(table_id, name) for table_id, name in at_earlier & at_later
            if table_id not in touched_ids and name not in touched_names}
    return ({name for table_id, name in both if table_id not in inserted_ids},
            {name for table_id, name in both if table_id in inserted_ids})


def _remove_dead_read_copies(folder: pathlib.Path) -> None:
    """Delete the read copies of processes that are gone (killed before their exit handler ran)."""
    for entry in folder.glob("ducklake-*-p*-s*.duckdb*"):
        match = re.search(r"-p(\d+)-s", entry.name)
        if match and not _process_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_copy_ready(path: str | os.PathLike | Lake | None = None, timeout_s: float = 0.0) -> bool:
    """Whether the latest snapshot's queries read this server's local copy (waits up to timeout_s for it).
    Always False on the DuckDB file store, with CRMLENS_LAKE_READ_COPY=off, or in a process that makes no read
    copies (makes_read_copies: the command line)."""
    path = db_path(path)
    if not isinstance(path, Lake) or not makes_read_copies():
        return False
    deadline = time.monotonic() + timeout_s
    while True:
        snap = _lake_snapshot(path)
        if snap.catalog != _lake_alias(snap):
            return True
        with _read_copies_lock:
            copies = _read_copies.get(path)
            hopeless = copies is None or snap.identity[1] in copies.failed
        if hopeless or time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def read_copy_reused(path: str | os.PathLike | Lake | None = None) -> dict[int, list[str]]:
    """For each snapshot this process copied: the tables it took from its earlier copy (unchanged since)."""
    with _read_copies_lock:
        copies = _read_copies.get(db_path(path))
        return {k: list(v) for k, v in copies.reused.items()} if copies else {}


def read_copy_seconds(path: str | os.PathLike | Lake | None = None) -> dict[int, float]:
    """How long this process took to copy each DuckLake snapshot it copied (snapshot id -> seconds)."""
    with _read_copies_lock:
        copies = _read_copies.get(db_path(path))
        return dict(copies.seconds) if copies else {}


@atexit.register
def _remove_read_copies() -> None:
    """At exit: stop a copy being made (its thread removes its file) and delete the finished ones."""
    for copies in list(_read_copies.values()):
        if copies.cursor is not None:
            with contextlib.suppress(Exception):
                copies.cursor.interrupt()
        if copies.thread is not None:
            copies.thread.join(timeout=10)
        for _alias, path in list(copies.ready.values()):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def catalog_snapshot(path: str | os.PathLike | Lake | None = None) -> Snapshot:
    """The latest DuckLake snapshot read from the catalog itself, never from the read copy (to compare the two:
    bench.ducklake, the tests). On the DuckDB file store: snapshot()."""
    snap = snapshot(path)
    if not isinstance(snap.path, Lake) or snap.catalog == _lake_alias(snap):
        return snap
    return Snapshot(snap.path, snap.identity, snap.con, snap.version, snap.updated_at, catalog=_lake_alias(snap))
