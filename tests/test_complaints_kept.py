"""The complaints page as it opens, kept at load (model 29): every query the page runs with the default period, no
filter and every setting at its default reads rows worked out at load by the query itself (crmlens.model.KEPT_VIEWS,
mart_complaints_*_kept, as the churn page's two: tests/test_churn_speed.py); anything else runs the query.

The page's queries and parameters are recorded by opening it in AppTest (bench.pages.recorded), on a demo with order
quirks (refunds, lines without a cost, guest orders) and on tests/fixtures/complaints (worked by hand in
test_complaints_queries.py for the first quarter of 2024; here its default period, 2023-07-02..2024-06-30). The kept
rows must be the query's own (kept views switched off), in the same order.
"""

import datetime as dt

import pandas as pd
import pytest

from crmlens import complaints as cx
from crmlens import ingest, model, period, queries, store
from tests.conftest import FIXTURES, demo_with_order_quirks
from tests.kept_views import (assert_every_call_reads_kept_rows, assert_kept_rows_are_the_query_s,
                               assert_opening_parameters_are_the_page_s, recorded_calls)


def opening_calls(snap) -> list[tuple[str, dict]]:
    """The complaints queries the page runs as it opens on snap's database, with their parameters."""
    return recorded_calls("complaints", snap, lambda name: name.startswith("complaints_"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    snap = demo_with_order_quirks(tmp_path_factory, "complaints_kept", seed=31, end_date=dt.date(2026, 2, 14),
                                  guest_every=13)
    return snap, opening_calls(snap)


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    db = tmp_path_factory.mktemp("complaints_kept_fixture") / "c.duckdb"
    ingest.load_files(sorted((FIXTURES / "complaints").glob("*.csv")), db=db, max_reject_share=0.2)  # K9 rejected
    snap = store.snapshot(db)
    return snap, opening_calls(snap)


@pytest.fixture(params=["demo", "by_hand"])
def opened(request):
    return request.getfixturevalue(request.param)


def test_every_query_of_the_page_as_it_opens_reads_kept_rows(opened):
    snap, calls = opened
    assert [name for name, _ in calls] == list(model.KEPT_PAGES["complaints"])
    assert_every_call_reads_kept_rows(snap, calls)


def test_the_kept_rows_are_the_query_s(opened, monkeypatch):
    """Each query's kept rows against the query run on the marts (kept views off), row for row in the query's order."""
    snap, calls = opened
    kept = assert_kept_rows_are_the_query_s(snap, calls, monkeypatch)
    # the comparison has rows to compare: every query but the lists of open complaints and repeat complainers, which
    # may be empty, returns some
    empty = {name for name, df in kept.items() if df.empty}
    assert empty <= {"complaints_oldest_open", "complaints_repeat_customers"}
    assert kept["complaints_churn"]["n_customers"].sum() > 0


def test_the_kept_rows_by_hand(by_hand):
    """tests/fixtures/complaints at its default period 2023-07-02..2024-06-30 (the newest date: C5's order of
    06-30). Created in it: K1-K8, K10, K11 (K9 rejected at load) = 10, all but K5 with a customer. Ordered in it
    (completed): C1 O01-O03, C2 O04 O05, C3 O06-O08, C4 O09 (O10 cancelled), C5 O11 O12 = 5 customers, 11 orders.
    SLA hours at their defaults for the data's severities (low 72, high 24, medium 48; K5 has none: the other
    severities' 72): breached K2 (72 h > 24), K6 (120 > 72), K8 (312 > 72), K10 (336 > 72) and the open K4 (530 h by
    the newest time, K10's resolution 2024-04-11 10:00, > 48) and K5 (252 h > 72); K1 took exactly its 24 h, K3 12,
    K7 24, K11 4: within. 6 of 10 judged, 2 open."""
    snap, calls = by_hand
    rows = {name: queries.run(name, params, snap=snap) for name, params in calls}
    cover = rows["complaints_coverage"].iloc[0]
    assert (cover["n_complaints"], cover["n_with_customer"]) == (10, 9)
    assert (cover["n_active_customers"], cover["n_orders"]) == (5, 11)
    assert cover["rate_per_100_customers"] == pytest.approx(200.0)
    total = rows["complaints_speed"].query("level == 'all'").iloc[0]
    assert (total["n_breached"], total["n_decided"], total["n_open"]) == (6, 10, 2)
    options = rows["complaints_filter_options"].query("dimension == 'severity'")
    assert list(options["value"]) == ["low", "high", "medium"]  # 5, 2 (high and High), 2
    assert list(rows["complaints_volume"]["bucket_start"].dt.strftime("%Y-%m")) == (
        ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]
        + ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"])  # month: the year's grain


def changed_views(snap, params: dict) -> dict[str, dict]:
    """The page as it opens with one filter or setting changed (each changes the parameters it names)."""
    start, end = params["start"], params["end"]
    return {
        "segment": {"segment": ["business"]},
        "category": {"category": ["delivery"]},
        "an SLA hour": {"sla_hours": [h + 1 for h in params["sla_hours"]]},
        "the other severities' SLA": {"sla_default_hours": 96.0},
        "60 days": {"churn_days": 60},
        "multiplier 2": {"churn_multiplier": 2.0},
        "revenue 180 days": {"revenue_days": 180},
        "follow-up 30 days": {"follow_days": 30},
        "repeat within 30 days": {"repeat_days": 30},
        "by week": {"grain": "week"},
        "by severity": {"dimension": "severity"},
        "the year before": dict(zip(("start", "end"), period.same_period_last_year(start, end))),
    }


def test_any_other_parameter_runs_the_query(demo):
    """A view with a filter or setting changed reads kept rows only for the queries that do not read what changed."""
    snap, calls = demo
    for label, change in changed_views(snap, dict(calls[-1][1])).items():
        for name, params in calls:
            reads = set(queries.parameters(queries.sql_text(name)))
            changed = {**params, **change}
            expected = None if reads & set(change) else f"mart_{name}_kept"
            assert model.kept_view(snap, name, changed) == expected, (label, name)
            frame = model.kept_frame(snap, name, {**queries.DEFAULT_PARAMS, **changed})
            assert (frame is None) == (expected is None), (label, name)
    assert all(any(set(change) & set(queries.parameters(queries.sql_text(name))) for name, _ in calls)
               for change in changed_views(snap, dict(calls[-1][1])).values())


def test_an_edited_query_or_the_marts_switched_off_run_the_query(demo, monkeypatch):
    """The kept rows carry a digest of the query's SQL: an edited query runs instead of reading rows an older text
    kept; a test that switches the complaint marts off runs every query."""
    snap, calls = demo
    name, params = calls[1]  # complaints_coverage
    assert model.kept_view(snap, name, params) == "mart_complaints_coverage_kept"
    with monkeypatch.context() as m:
        m.setattr(model, "USE_COMPLAINT_MARTS", False)
        assert all(model.kept_view(snap, n, p) is None for n, p in calls)
    text = queries.sql_text(name)
    monkeypatch.setattr(queries, "sql_text", lambda query, *a: text + "\n" if query == name else "")
    assert model.kept_view(snap, name, params) is None
    assert model.kept_frame(snap, name, {**queries.DEFAULT_PARAMS, **params}) is None


def test_the_page_as_it_opens_reads_every_kept_row_in_one_round_trip(demo, monkeypatch):
    """The page's 15 queries through queries.run: one cursor on the snapshot for all of them (model.KEPT_FRAMES); each
    caller gets a frame of its own (changing one leaves the next read as it was)."""
    snap, calls = demo
    model.forget_kept_frames()
    opened = []
    cursor = store.Snapshot.cursor
    monkeypatch.setattr(store.Snapshot, "cursor", lambda self: opened.append(self) or cursor(self))
    rows = {name: queries.run(name, params, snap=snap) for name, params in calls}
    assert len(opened) == 1 and len(rows) == len(model.KEPT_PAGES["complaints"])
    coverage = dict(calls)["complaints_coverage"]
    n_complaints = rows["complaints_coverage"].loc[0, "n_complaints"]
    rows["complaints_coverage"].loc[0, "n_complaints"] = -1
    assert queries.run("complaints_coverage", coverage, snap=snap).loc[0, "n_complaints"] == n_complaints > 0
    assert len(opened) == 1


def test_the_opening_parameters_are_the_page_s(by_hand):
    """crmlens.complaints.opening_params, what the load keeps the rows for, against the page's own (recorded): on the
    model's opening facts, and on the fixture's columns and severities as the page lists them."""
    snap, calls = by_hand
    assert_opening_parameters_are_the_page_s(snap, "complaints", calls)
    start, end = period.default_period(snap)
    columns = snap.columns("complaints")
    for name, params in calls:
        mine = cx.opening_params(name, columns, ["low", "high", "medium"], start, end)
        assert queries.bind(name, mine) == queries.bind(name, params), name


def test_without_a_complaint_nothing_is_kept(tmp_path):
    """tests/fixtures/tiny's customers and orders, no complaint: the complaints tables are built empty (settings NULL
    alone: the queries are not run at load) and the page's queries run; the churn page's are kept."""
    db = tmp_path / "tiny.duckdb"
    ingest.load_files([FIXTURES / "tiny" / "customers.csv", FIXTURES / "tiny" / "orders.csv"], db=db)
    snap = store.snapshot(db)
    for query in model.KEPT_PAGES["complaints"]:
        assert snap.query(f"select * from mart_{query}_kept").columns.tolist() == ["settings"]  # (our own names)
    start, end = period.default_period(snap)
    p = cx.params(snap, start, end)
    assert model.kept_view(snap, "complaints_coverage", p) is None
    assert queries.run("complaints_coverage", p, snap=snap).iloc[0]["n_complaints"] == 0
    assert snap.query("select count(*) as n from mart_churn_summary_kept where settings is not null").iloc[0]["n"] == 1


def test_a_kept_frame_that_cannot_be_read_gives_the_kept_table_s_rows(demo, monkeypatch):
    """A frame this server cannot decode (damaged, or written by another pandas) is not an error for the page: the
    query reads its kept table instead, the same rows."""
    snap, calls = demo
    name, params = calls[1]  # complaints_coverage
    expected = queries.run(name, params, snap=snap)
    frames = model._snapshot_frames(snap)
    monkeypatch.setitem(frames, name, (frames[name][0], b"not an Arrow stream"))
    assert model.kept_frame(snap, name, {**queries.DEFAULT_PARAMS, **params}) is None
    pd.testing.assert_frame_equal(queries.run(name, params, snap=snap), expected)
