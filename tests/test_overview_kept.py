"""The overview as it opens, kept at load (model 32): its headline figures against the previous period and its trend
at the default period read rows worked out at load by the queries themselves (crmlens.model.KEPT_VIEWS,
mart_overview_kpis_kept and mart_overview_trend_kept, as the churn and complaints pages' tables); any other period or
comparison runs the query.

The page's queries and parameters are recorded by opening it in AppTest (bench.pages.recorded), on a demo with order
quirks (refunds, lines without a cost, guest orders) and on tests/fixtures/tiny. The kept rows must be the query's own
(kept views switched off), in the same order.
"""

import datetime as dt

import pytest

from crmlens import ingest, model, period, queries, store
from tests.conftest import FIXTURES, demo_with_order_quirks
from tests.kept_views import (assert_every_call_reads_kept_rows, assert_kept_rows_are_the_query_s,
                               assert_opening_parameters_are_the_page_s, recorded_calls)

KEPT = model.KEPT_PAGES["overview"]


def overview_calls(snap, **address) -> list[tuple[str, dict]]:
    """The overview queries the page runs on snap's database (opened with these address parameters)."""
    return recorded_calls("overview", snap, lambda name: name in KEPT, **address)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    snap = demo_with_order_quirks(tmp_path_factory, "overview_kept", seed=32, end_date=dt.date(2024, 6, 30),
                                  guest_every=11)
    return snap, overview_calls(snap)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    db = tmp_path_factory.mktemp("overview_kept_tiny") / "t.duckdb"
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=db)
    snap = store.snapshot(db)
    return snap, overview_calls(snap)


@pytest.fixture(params=["demo", "tiny"])
def opened(request):
    return request.getfixturevalue(request.param)


def test_the_overview_as_it_opens_reads_kept_rows(opened):
    snap, calls = opened
    assert [name for name, _ in calls] == list(KEPT)
    assert_every_call_reads_kept_rows(snap, calls)


def test_the_kept_rows_are_the_query_s(opened, monkeypatch):
    """Each query's kept rows against the query run on the marts (kept views off), row for row in the query's order."""
    snap, calls = opened
    kept = assert_kept_rows_are_the_query_s(snap, calls, monkeypatch)
    kpis = kept["overview_kpis"].set_index("period")
    assert list(kpis.index) == ["current", "previous"]
    assert kpis.loc["current", "n_orders"] > 0 and kept["overview_trend"]["n_orders"].sum() > 0


def test_guest_orders_are_in_the_kept_figures(demo):
    """The demo's every 11th order line has no customer id: the kept current period counts some guest orders."""
    snap, calls = demo
    kpis = queries.run("overview_kpis", dict(calls)["overview_kpis"], snap=snap).set_index("period")
    assert kpis.loc["current", "n_orders_no_customer"] > 0


def test_the_opening_parameters_are_the_page_s(opened):
    """What the load keeps the rows for (the model's opening parameters) against the page's own, recorded: the
    default period (the 365 days up to the newest date in the data) and its trend grain."""
    snap, calls = opened
    assert_opening_parameters_are_the_page_s(snap, "overview", calls)
    start, end = period.default_period(snap)
    assert dict(calls)["overview_trend"]["grain"] == period.trend_grain(start, end)


def test_another_period_or_comparison_runs_the_queries(demo):
    """A shorter period, or the same period compared with a year before, is not what was kept: the query runs. (The
    demo ends on 2024-06-30, so a year before its default period, 2022-07-02..2023-06-30, is not the 365 days just
    before it, 2022-07-03..2023-07-01: the leap day 2024-02-29 lies between.)"""
    snap, _ = demo
    start, end = period.default_period(snap)
    shorter = overview_calls(snap, period=[str(end - dt.timedelta(days=89)), str(end)])
    assert [name for name, _ in shorter] == list(KEPT)
    assert dict(shorter)["overview_kpis"]["start"] == end - dt.timedelta(days=89)
    last_year = dict(zip(("start", "end"), period.comparison_period(start, end, "last_year")))
    assert last_year == {"start": dt.date(2022, 7, 2), "end": dt.date(2023, 6, 30)}
    for name, params in [*shorter, ("overview_kpis", last_year)]:
        assert model.kept_view(snap, name, params) is None, name
        assert "_kept " not in queries.prepared(name, params, snap)[0]
