"""Issue 21, item 9: an infinite number in a link (1e309, inf, -Infinity) is refused like any other
bad link value, on every number box of every page, never an OverflowError."""

from __future__ import annotations

import pytest

from tests.conftest import app_test, load_fixture, serve_fixture

PERIOD = ["2024-01-01", "2024-12-31"]
INFINITE = ["1e309", "inf", "-inf", "Infinity", "-1E999", "+INF"]
LOYALTY = ["min_orders_client", "satisfaction_min", "nps_supporter_min", "max_unresolved",
           "nps_advocate_min", "min_referrals", "abc_a", "abc_b", "top_pct", "discount_rate", "horizon_years",
           "marketing_cost", "risk_cost_pct", "value_pct", "risk_days", "risk_complaints", "survey_days"]
# page and the tab open (only the open tab's boxes are on the page; None: the page's first tab): the keys
#   of its number boxes kept in the address
NUMBER_BOXES = {
    ("churn", "At risk"): ["churn_days", "churn_multiplier", "churn_min_value", "churn_page"],
    ("churn", "What if"): ["churn_whatif_points", "churn_margin_pct", "loyalty_discount_rate", "loyalty_horizon_years",
                           "loyalty_marketing_cost", "loyalty_risk_cost_pct"],  # the loyalty CLV settings, shared
    ("funnel", None): ["funnel_page", "funnel_window"],
    ("funnel", "Who converts"): ["funnel_top"],
    ("funnel", "Owner risk"): ["funnel_risk_share"],
    # the churn rule's two settings have the same keys on the churn, complaints and loyalty pages
    ("complaints", None): ["complaints_repeat_days", "churn_days", "churn_multiplier", "complaints_revenue_days",
                           "complaints_follow_days"],
    ("loyalty", None): [f"loyalty_{name}" for name in LOYALTY] + ["churn_days", "churn_multiplier", "churn_margin_pct"],
    ("loyalty", "Climbing: worth it?"): [f"climb_cost_{rung}" for rung in ("prospect", "customer", "client", "supporter",
                                                                          "advocate")],
    ("followup", None): ["followup_days", "followup_outcome_days", "churn_days", "churn_multiplier",
                         "departure_inactive_days", "departure_window_days"],
}


def refused_notice(at) -> str:
    return " ".join(str(e.value) for e in at.sidebar if "were not valid" in str(getattr(e, "value", "")))


@pytest.mark.parametrize("page, tab", list(NUMBER_BOXES))
def test_infinite_numbers_in_a_link_are_refused(page, tab, monkeypatch, tmp_path):
    if page == "complaints":  # one complaint of that fixture is refused on purpose (resolved before created)
        db = load_fixture(tmp_path / "complaints.duckdb", "complaints", max_reject_share=0.2)
        monkeypatch.setenv("CRMLENS_DB", str(db))
    else:
        serve_fixture(monkeypatch, tmp_path, "tiny")
    keys = NUMBER_BOXES[page, tab]
    query = {key: INFINITE[i % len(INFINITE)] for i, key in enumerate(keys)}
    at = app_test(page, period=PERIOD, **query, **({f"{page}_tab": tab} if tab else {}))
    assert not at.exception, [e.value for e in at.exception]
    assert at.title
    notice = refused_notice(at)
    shown = {box.key for box in at.number_input}
    assert shown, "the page shows no number box"
    for key in keys:
        assert f"{key}={query[key]}" in notice
        assert key not in at.query_params  # left out of the address, so a shared link is clean
        assert at.number_input(key=key).value not in (float("inf"), float("-inf"))
    assert shown >= set(keys)  # every box of the list was on the page and checked (30 in all, tab by tab)


def test_every_number_box_is_covered(monkeypatch, tmp_path):
    """All the boxes the pages show on the tiny data are in NUMBER_BOXES (a new one gets tested too)."""
    serve_fixture(monkeypatch, tmp_path, "tiny")
    for (page, tab), keys in NUMBER_BOXES.items():
        at = app_test(page, period=PERIOD, **({f"{page}_tab": tab} if tab else {}))
        listed = {k for (p, _), ks in NUMBER_BOXES.items() if p == page for k in ks}
        # the sidebar's digest and alert forms are not kept in the address
        bound = {box.key for box in at.number_input
                 if box.key and not box.key.startswith(("loyalty_page", "digest_"))}
        assert bound <= listed | {"loyalty_flow_page", "complaints_sla_other"} | {
            k for k in bound if k.startswith("complaints_sla")}, bound - listed


def test_a_finite_value_still_works(monkeypatch, tmp_path):
    serve_fixture(monkeypatch, tmp_path, "tiny")
    at = app_test("churn", period=PERIOD, churn_days="120")
    assert at.number_input(key="churn_days").value == 120
    assert "churn_days" not in refused_notice(at)
