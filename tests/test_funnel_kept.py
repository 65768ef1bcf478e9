"""The funnel as it opens, kept at load (model 32): its summary, its steps and the list of the first step's
opportunities at the default period with the proposed stage settings and no filter read rows worked out at load by the
queries themselves (crmlens.model.KEPT_VIEWS, mart_funnel_*_kept, as the other pages' tables); any other period, stage
setting, filter or list page runs the query.

The page's queries and parameters are recorded by opening it in AppTest (bench.pages.recorded), on a demo and on
tests/fixtures/funnel/mixed (worked by hand in test_funnel_queries.py). The kept rows must be the query's own (kept views
switched off), in the same order.
"""

import datetime as dt

import pytest

from crmlens import funnel, ingest, model, period, store
from tests.conftest import FIXTURES, demo_with_order_quirks
from tests.kept_views import (assert_every_call_reads_kept_rows, assert_kept_rows_are_the_query_s,
                               assert_opening_parameters_are_the_page_s, recorded_calls)

KEPT = model.KEPT_PAGES["funnel"]


def funnel_calls(snap, **address) -> list[tuple[str, dict]]:
    """The funnel queries the page runs on snap's database (opened with these address parameters)."""
    return recorded_calls("funnel", snap, lambda name: name in KEPT, **address)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    snap = demo_with_order_quirks(tmp_path_factory, "funnel_kept", seed=33, end_date=dt.date(2025, 11, 20))
    return snap, funnel_calls(snap)


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    db = tmp_path_factory.mktemp("funnel_kept_fixture") / "f.duckdb"
    ingest.load_files(sorted((FIXTURES / "funnel" / "mixed").glob("*.csv")), db=db)
    snap = store.snapshot(db)
    return snap, funnel_calls(snap)


@pytest.fixture(params=["demo", "by_hand"])
def opened(request):
    return request.getfixturevalue(request.param)


def test_the_funnel_as_it_opens_reads_kept_rows(opened):
    snap, calls = opened
    assert [name for name, _ in calls] == list(KEPT)
    assert_every_call_reads_kept_rows(snap, calls)


def test_the_kept_rows_are_the_query_s(opened, monkeypatch):
    """Each query's kept rows against the query run on the marts (kept views off), row for row in the query's order."""
    snap, calls = opened
    kept = assert_kept_rows_are_the_query_s(snap, calls, monkeypatch)
    assert kept["funnel_summary"].iloc[0]["n_opportunities"] > 0
    assert kept["funnel_stage_counts"]["n_reached"].iloc[0] > 0 and not kept["funnel_opportunities"].empty


def test_the_opening_parameters_are_the_page_s(opened):
    """crmlens.funnel.opening_params on the model's opening facts, what the load keeps the rows for, against the page's
    own (recorded)."""
    snap, calls = opened
    assert_opening_parameters_are_the_page_s(snap, "funnel", calls)
    listed = dict(calls)["funnel_opportunities"]
    assert (listed["list_mode"], listed["offset"], listed["limit"]) == ("reached", 0, funnel.LIST_PAGE_SIZE)
    assert listed["list_stage"] == listed["stages"][0]


def test_another_view_runs_the_queries(demo):
    """A shorter period, a filter, another stage order or the list's second page is not what was kept: the query
    runs."""
    snap, opening = demo
    start, end = period.default_period(snap)
    stages = dict(opening)["funnel_summary"]["stages"]
    views = {"period": funnel_calls(snap, period=[str(end - dt.timedelta(days=89)), str(end)]),
             "filter": funnel_calls(snap, region=["East"]),
             "order": funnel_calls(snap, funnel_stages=[stages[1], stages[0], *stages[2:]]),
             "page": funnel_calls(snap, funnel_page="2")}
    for view, calls in views.items():
        assert [name for name, _ in calls] == list(KEPT), view
        read_live = [name for name, params in calls if model.kept_view(snap, name, params) is None]
        assert read_live == (["funnel_opportunities"] if view == "page" else list(KEPT)), view
    assert dict(views["period"])["funnel_summary"]["start"] == end - dt.timedelta(days=89)
    assert dict(views["filter"])["funnel_summary"]["region"] == ["East"]
    assert dict(views["page"])["funnel_opportunities"]["offset"] == funnel.LIST_PAGE_SIZE
