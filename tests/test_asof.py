"""Links that keep their numbers (crmlens.asof, store.snapshot_at): a link's older data version opens the view as
of that DuckLake snapshot, with a notice and a button to the latest; on the DuckDB file store the latest is shown
with the "data changed" notice; an unknown or malformed version says so and shows the latest.

One DuckLake catalog (a throw-away PostgreSQL, tests/pg.py) for the module, holding three loads:
  v1  tests/fixtures/tiny (period 2024-07-01..2024-12-31: 3 orders, revenue 900; see test_overview_queries)
  vX  the model's recorded version set to 1, standing for a load made by an older CRM Lens (its model differs)
  v2  orders_august.csv appended: O99, customer C1, 2024-08-01, 100 (the period: 4 orders, revenue 1,000)
Figures (`metrics --json`) taken right after v1 must be the ones read as of v1 after v2.
"""

from __future__ import annotations

import functools
import json

import pytest
from click.testing import CliRunner

from crmlens import asof, chrome, cli, i18n, ingest, store
from tests.conftest import FIXTURES, app_test

PERIOD = ["2024-07-01", "2024-12-31"]


def metrics_json(db, *args) -> dict:
    result = CliRunner().invoke(cli.cli, ["metrics", "--json", "--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def history(postgres, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("asof")
    lake, data_path = postgres.lake(tmp / "lake-files")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(store.DATA_PATH_ENV, data_path)
        ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=lake)
        v1 = store.snapshot(lake).version
        before = metrics_json(lake)
        with store.writer(lake) as con:  # a data version whose model an older CRM Lens built
            con.execute("update model_info set model_version = 1")
        old_model = store.snapshot(lake).version
        orders = tmp / "orders_august.csv"
        orders.write_text("order_id,customer_id,order_date,amount\nO99,C1,2024-08-01,100\n")
        ingest.load_files([orders], db=lake, mode="append")
        v2 = store.snapshot(lake).version
        yield {"lake": lake, "data_path": data_path, "v1": v1, "old_model": old_model, "v2": v2, "before": before}


@pytest.fixture
def lake(history, monkeypatch):
    monkeypatch.setenv(store.DATA_PATH_ENV, history["data_path"])
    monkeypatch.setenv("CRMLENS_DB", history["lake"])
    return history["lake"]


def test_the_figures_as_of_an_older_version_are_those_before_the_next_load(history, lake):
    v1, v2 = history["v1"], history["v2"]
    assert v1 < history["old_model"] < v2
    latest = metrics_json(lake)
    assert latest["data_version"] == v2
    assert latest["overview"]["orders"] != history["before"]["overview"]["orders"]  # the second load counts
    then = metrics_json(lake, "--data-version", str(v1))
    assert then == history["before"]  # every figure, the data version and its load time too
    assert then["data_version"] == v1
    # read straight from the snapshot too, not through the CLI
    snap = store.snapshot_at(v1, lake)
    assert (snap.version, snap.identity) == (v1, ("ducklake", v1))
    assert snap.query("select count(*) as n from orders")["n"][0] == 7  # tiny's 7 orders, O99 not yet
    assert store.snapshot(lake).query("select count(*) as n from orders")["n"][0] == 8


def test_a_version_no_load_made_is_refused(history, lake):
    runner = CliRunner()
    # snapshot 1 is the catalog's empty tables (made before the first load), v2 + 5 does not exist yet
    for version in (1, history["v2"] + 5):
        with pytest.raises(store.VersionUnavailable) as refused:
            store.snapshot_at(version, lake)
        assert refused.value.reason == "unknown"
        result = runner.invoke(cli.cli, ["metrics", "--json", "--db", lake, "--data-version", str(version)])
        assert result.exit_code != 0
        assert f"data version {version} cannot be opened" in result.output
    result = runner.invoke(cli.cli, ["metrics", "--json", "--db", lake, "--data-version", str(history["old_model"])])
    assert result.exit_code != 0 and "older CRM Lens" in result.output


@pytest.mark.parametrize("asked, kind, shown", [
    (None, "latest", "v2"), ("{v2}", "latest", "v2"), ("{v1}", "as_of", "v1"), ("{old_model}", "outdated", "v2"),
    ("1", "unknown", "v2"), ("999999", "unknown", "v2"), ("0x1", "malformed", "v2"), ("²", "malformed", "v2"),
    ("", "malformed", "v2"), ("-1", "malformed", "v2"), ("12345678901234567890", "malformed", "v2"),
])
def test_what_a_link_version_opens(history, lake, asked, kind, shown):
    view = asof.resolve(store.snapshot(lake), asked.format(**history) if asked else asked)
    assert (view.kind, view.shown.version, view.latest.version) == (kind, history[shown], history["v2"])


def test_on_the_file_store_an_older_version_shows_the_latest_and_says_so(tiny_db, tmp_path):
    orders = tmp_path / "orders_august.csv"
    orders.write_text("order_id,customer_id,order_date,amount\nO99,C1,2024-08-01,100\n")
    ingest.load_files([orders], db=tiny_db, mode="append")
    latest = store.snapshot(tiny_db)
    assert not store.keeps_history(tiny_db)
    view = asof.resolve(latest, "1", db=tiny_db)
    assert (view.kind, view.shown) == ("changed", latest)
    text = asof.notice_text(view, "en", functools.partial(i18n.translate, "en"))
    assert "made on data version 1" in text and "keeps no older data versions" in text
    with pytest.raises(store.VersionUnavailable) as refused:
        store.snapshot_at(1, tiny_db)
    assert refused.value.reason == "no_history"
    assert asof.resolve(latest, "3", db=tiny_db).kind == "unknown"  # never made: versions are 1 and 2


# --- the page ---------------------------------------------------------------------------------------------

def overview_figures(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric if m.label in ("Orders", "Revenue")}


def test_a_link_with_the_older_version_shows_its_numbers_until_the_reader_opens_the_latest(history, lake):
    # The latest first, so its results are in the cache: the older version must not be served from it.
    at = app_test("overview", period=PERIOD, lang="English")
    assert not at.exception
    assert overview_figures(at) == {"Orders": "4", "Revenue": "1,000"}
    assert not at.warning

    at = app_test("overview", period=PERIOD, lang="English", v=str(history["v1"]))
    assert not at.exception
    assert overview_figures(at) == {"Orders": "3", "Revenue": "900"}  # what the sender saw
    notice = at.warning[0].value
    assert "as of " in notice and f"(data version {history['v1']})" in notice
    assert f"Newer data has been loaded since (version {history['v2']}" in notice
    sidebar = " ".join(str(getattr(e, "value", "")) for e in at.sidebar)
    assert f"Data version {history['v1']}," in sidebar
    assert "v=" not in sidebar  # the share box is closed: its link is drawn only while it is open
    at.session_state[chrome.SHARE_BOX_KEY] = True  # a person opens it
    at.run()
    sidebar = " ".join(str(getattr(e, "value", "")) for e in at.sidebar)
    assert f"v={history['v1']}" in sidebar  # the share box passes the same version on

    # Moving to another page drops the address's parameters (Streamlit); the session keeps the link's version.
    del at.query_params["v"]
    at.run()
    assert overview_figures(at) == {"Orders": "3", "Revenue": "900"}
    assert at.query_params["v"] == str(history["v1"])

    at.button(key="asof_open_latest").click().run()
    assert not at.exception
    assert at.query_params["v"] == str(history["v2"])  # the address names what is shown
    assert overview_figures(at) == {"Orders": "4", "Revenue": "1,000"}
    assert not at.warning


def test_a_link_in_chinese_with_an_unknown_version_says_so_and_shows_the_latest(history, lake):
    at = app_test("overview", period=PERIOD, lang="中文", v="999999")
    assert not at.exception
    notice = at.warning[0].value
    assert "数据版本 `999999`" in notice and f"最新数据（版本 {history['v2']}" in notice
    assert at.button(key="asof_open_latest").label == "打开最新数据"


def test_opening_older_versions_never_detaches_the_latest(history, lake, monkeypatch):
    """Each process keeps a few snapshots attached; links to many versions push out the least recently used
    older ones, never the latest that every other session reads, and a pushed-out one is attached again."""
    monkeypatch.setattr(store, "_KEEP_ATTACHED", 1)
    n_orders = "select count(*) as n from orders"
    latest = store.snapshot(lake)
    for version in (history["v1"], history["old_model"], history["v1"]):
        then = store.snapshot_at(version, lake)
        assert then.version == version
        assert then.query(n_orders)["n"][0] == 7
        assert store.snapshot(lake) is latest and latest.query(n_orders)["n"][0] == 8
    assert store._lake_bases[store.db_path(lake)].attached[-1] == f"crm_s{history['v1']}"


def test_the_churn_and_data_pages_open_on_an_older_version_too(history, lake):
    for page in ("churn", "data"):
        at = app_test(page, lang="English", v=str(history["v1"]))
        assert not at.exception, page
        assert f"(data version {history['v1']})" in at.warning[0].value, page


def test_the_readers_own_load_moves_the_links_version_to_the_one_it_made(db_env):
    """A link's `v` names the version shown; after a load of the reader's own, that is the version just made."""
    before = store.snapshot(db_env).version
    at = app_test("data", lang="English", v=str(before))
    at.file_uploader[0].set_value(("surveys.csv", b"customer_id,nps\nC1,9\n", "text/csv")).run()
    at.button[0].click().run()
    assert not at.exception
    assert "1 row" in at.success[0].value
    assert at.query_params["v"] == str(before + 1) == str(store.snapshot(db_env).version)
    assert not at.warning  # the reader sees what they loaded, nothing to say about versions
