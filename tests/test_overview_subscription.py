"""Issue 16, defect 4 (left over): a subscription export (no orders) showed "–" for active customers on the
Overview while the Churn page counts 5 active subscribers. tests/fixtures/churn_subscription: S1..S8,
Churn = Yes for S1, S2, S5 (test_churn_queries): 5 active, the same figure on both pages, in both languages."""

from __future__ import annotations

import pytest

from tests.conftest import app_test, serve_fixture


@pytest.mark.parametrize("lang, label, churn_label", [("English", "Active subscribers", "Active now"),
                                                      ("中文", "活跃订阅用户", "当前活跃")])
def test_overview_counts_the_active_subscribers_the_churn_page_counts(lang, label, churn_label, monkeypatch, tmp_path):
    serve_fixture(monkeypatch, tmp_path, "churn_subscription")
    at = app_test("overview", lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    cards = {m.label: m.value for m in at.metric}
    assert cards[label] == "5"
    assert cards[next(k for k in cards if k in ("Revenue", "收入"))] == "–"  # still no revenue to show
    churn = app_test("churn", lang=lang)
    assert {m.label: m.value for m in churn.metric}[churn_label] == cards[label]


def test_order_data_keeps_the_buying_customers_card(monkeypatch, tmp_path):
    """tests/fixtures/tiny has orders: the card stays "Active customers" (bought in the period)."""
    serve_fixture(monkeypatch, tmp_path, "tiny")
    cards = {m.label: m.value for m in app_test("overview", period=["2024-07-01", "2024-12-31"]).metric}
    assert "Active subscribers" not in cards and cards["Active customers"] == "3"
