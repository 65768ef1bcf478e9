"""Issue 14 on the pages: the definitions are shown next to the numbers (margin source, which retention a CLV
group uses, the recency wording of the quadrants, the what-if's lifetime gain with the loyalty CLV settings)."""

from tests.conftest import app_test, serve_fixture


def test_loyalty_clv_says_where_the_margin_and_the_retention_come_from(monkeypatch, tmp_path):
    """tests/fixtures/loyalty/value has no cost column: the margin is the 30% default and the page says so; the
    rung comparison uses the overall retention (0.8, test_value_definitions), the channel one each channel's own.
    A typed margin (the churn page's key) is named as typed."""
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="Lifetime value",
                  loyalty_clv_group="Rung")
    captions = " ".join(c.value for c in at.caption)
    assert "Margin: 30.0% of revenue. The orders carry no cost, so this is the default" in captions
    assert "the overall year-on-year retention (80.0%)" in captions
    assert at.number_input(key="churn_margin_pct").value is None
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="Lifetime value",
                  loyalty_clv_group="Acquisition channel", churn_margin_pct="45")
    captions = " ".join(c.value for c in at.caption)
    assert "Margin: 45.0% of revenue, as typed" in captions
    assert "each group's own year-on-year retention" in captions


def test_quadrants_say_when_risk_is_recency(monkeypatch, tmp_path):
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="Value quadrants")
    captions = " ".join(c.value for c in at.caption)
    assert "Risk here is recency" in captions and "more than 90 days" in captions
    table = next(d.value for d in at.dataframe if "Recommended treatment" in d.value.columns)
    assert any("already stopped buying" in x for x in table["Recommended treatment"])
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="Value quadrants",
                  loyalty_risk_measure="Complaints")
    captions = " ".join(c.value for c in at.caption)
    assert "1+ complaints in the period" in captions and "Risk here is recency" not in captions


def test_what_if_shows_the_lifetime_gain_with_the_loyalty_settings(monkeypatch, tmp_path):
    """tests/fixtures/churn with a 30-day rule: the 12-month churn rate is 0 (see test_churn_page), so nothing
    can be cut: retention 100% before and after, lifetime gain 0. The loyalty page's discount rate from the
    link (20%) is the one in the formula."""
    serve_fixture(monkeypatch, tmp_path, "churn")
    at = app_test("churn", timeout=90, period=["2024-01-01", "2024-03-31"], churn_days="30", churn_multiplier="0",
                  churn_whatif_points="10", churn_tab="What if", loyalty_discount_rate="20")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Lifetime profit gained (discounted)"] == "0"
    text = " ".join(m.value for m in at.markdown)
    assert "Over the customers' lifetime (discounted)" in text and "(r / (1 + 20.0%))^t" in text
    assert at.number_input(key="loyalty_discount_rate").value == 20


def test_the_what_if_starts_from_the_ladders_lifetime_value(monkeypatch, tmp_path):
    """The same customers get one lifetime value: the Churn what-if's value today is the Loyalty ladder's forward CLV
    for the same period and settings (tests/fixtures/loyalty/value: retention 4 / 5, margin 30% of 950 over 8
    customers = 35.625 a year, x 2.5563 discounted years = 91.07). Before, the what-if took 1 - the 12-month churn
    rate as the retention and revenue per active customer x margin as the margin, and gave another value.
    With a 250-day rule the 12-month churn rate is 40% (X7 and Y1 of X1, X2, X3, X7, Y1): 5 points off it raise the
    retention to 85%: 35.625 x sum (0.85 / 1.1)^t = 111.93; gain 8 x (111.93 - 91.07) = 167."""
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    period = ["2024-01-01", "2024-12-31"]
    ladder = app_test("loyalty", timeout=90, period=period, loyalty_tab="Lifetime value")
    formula = next(c.value for c in ladder.code if "forward CLV" in c.value)
    assert formula.rstrip().endswith("= 91.07")
    at = app_test("churn", timeout=90, period=period, churn_whatif_points="5", churn_tab="What if", churn_days="250",
                  churn_multiplier="0")
    text = " ".join(m.value for m in at.markdown)
    assert "the 12-month churn rate is 40.0%; it falls to 35.0%" in text
    assert "80.0% today; churn down by 5.0 points raises it to 85.0%" in text
    assert "m = 35.62" in text and ": 91.07 today, 111.93 after" in text
    assert "Gain = 8 customers who bought in the last 365 days × (111.93 − 91.07) = 167" in text
