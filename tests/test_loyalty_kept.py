"""The loyalty summary as the page opens, kept at load (model 32): the ladder, ABC, RFM, CLV and quadrant figures at the
default period with every setting at its default and no filter read rows worked out at load by the query itself, with
the measures mart_loyalty_customers keeps (crmlens.model.KEPT_VIEWS and KEPT_VARIANTS: mart_loyalty_summary_kept); any
other period, setting or filter runs the query.

The page's queries and parameters are recorded by opening it in AppTest (bench.pages.recorded), on a demo with order
quirks and on tests/fixtures/loyalty/ladder (worked by hand in test_loyalty_queries.py). The kept rows must be the
query's own with every mart of the loyalty page switched off (the rung inputs worked out from the order lines), in the
same order.
"""

import datetime as dt

import pytest

from crmlens import model, period, queries
from tests.conftest import demo_with_order_quirks, fixture_snapshot
from tests.kept_views import (assert_every_call_reads_kept_rows, assert_kept_rows_are_the_query_s,
                               assert_opening_parameters_are_the_page_s, recorded_calls)


def summary_calls(snap, **address) -> list[tuple[str, dict]]:
    """The loyalty_summary calls the page makes on snap's database (opened with these address parameters)."""
    return recorded_calls("loyalty", snap, lambda name: name == "loyalty_summary", **address)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    snap = demo_with_order_quirks(tmp_path_factory, "loyalty_kept", seed=34, end_date=dt.date(2025, 9, 17),
                                  guest_every=19)
    return snap, summary_calls(snap)


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    snap = fixture_snapshot(tmp_path_factory, "loyalty/ladder")
    return snap, summary_calls(snap)


@pytest.fixture(params=["demo", "by_hand"])
def opened(request):
    return request.getfixturevalue(request.param)


def test_the_summary_as_the_page_opens_reads_kept_rows(opened):
    snap, calls = opened
    assert len(calls) == 1
    assert_every_call_reads_kept_rows(snap, calls)


def test_the_kept_rows_are_the_query_s(opened, monkeypatch):
    """The kept rows against the query with its rung inputs worked out from the order lines (every loyalty mart off),
    row for row in the query's order."""
    snap, calls = opened
    kept = assert_kept_rows_are_the_query_s(snap, calls, monkeypatch, (
        "USE_KEPT_VIEWS", "USE_DEFAULT_MART", "USE_STATES_MART", "USE_END_MARTS", "USE_PERIOD_MART",
        "USE_LOYALTY_MART"))["loyalty_summary"]
    assert "loyalty_measures_mart" not in queries.prepared(*calls[0], snap)[0]
    total = kept[kept["kind"] == "total"].iloc[0]
    assert total["n_customers"] > 0 and set(kept["kind"]) >= {"rung", "abc", "rfm"}


def test_the_opening_parameters_are_the_page_s(opened):
    """What the load keeps the rows for (loyalty.params at the model's default period) against the page's own,
    recorded."""
    snap, calls = opened
    assert_opening_parameters_are_the_page_s(snap, "loyalty", calls)


@pytest.mark.parametrize("address", [{"segment": "business"}, {"loyalty_abc_a": "70"}, {"churn_margin_pct": "30"},
                                     {"period": "shorter"}])
def test_another_view_runs_the_query(demo, address):
    """A filter, another ABC share, a margin setting or a shorter period is not what was kept: the query runs, and its
    parameters are the page's."""
    snap, _ = demo
    start, end = period.default_period(snap)
    if address == {"period": "shorter"}:
        address = {"period": [str(end - dt.timedelta(days=89)), str(end)]}
    (name, params), = summary_calls(snap, **address)
    assert model.kept_view(snap, name, params) is None
    assert "from mart_loyalty_summary_kept " not in queries.prepared(name, params, snap)[0]
    key = next(iter(address))
    changed = {"segment": params["segment"] == ["business"], "loyalty_abc_a": float(params["abc_a"]) == 70.0,
               "churn_margin_pct": params["margin_rate"] == pytest.approx(0.3),
               "period": params["start"] == end - dt.timedelta(days=89)}
    assert changed[key], params
