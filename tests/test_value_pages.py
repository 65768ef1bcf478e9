"""Issue 14 on the pages: the definitions are shown next to the numbers (margin source, which retention a CLV
group uses, the recency wording of the quadrants, the what-if's lifetime gain with the loyalty CLV settings)."""

from tests.conftest import app_test, serve_fixture


def test_loyalty_clv_says_where_the_margin_and_the_retention_come_from(monkeypatch, tmp_path):
    """tests/fixtures/loyalty/value has no cost column: the margin is the 30% default and the page says so; the
    rung comparison uses the overall retention (0.8 with a year-long lost rule, test_value_definitions), the channel
    one each channel's own.
    A typed margin (the churn page's key) is named as typed."""
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="Lifetime value",
                  loyalty_clv_group="Rung", churn_days="365", churn_multiplier="0")
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
    """The same customers get one lifetime value and one yearly retention: the Churn what-if's value today is the
    Loyalty ladder's forward CLV for the same link, and its retention is 1 - the 12-month churn rate on the same page.
    tests/fixtures/loyalty/value with a year-long lost rule: of X1, X2, X3, X7, Y1 (active a year before the end) Y1
    was lost: 12-month churn 20%, retention 80%; margin 30% of 950 over the 8 customers who bought in 2024 = 35.625
    a year, x 2.5563 discounted years = 91.07. 5 points off the churn rate raise the retention to 85%: 35.625 x sum
    (0.85 / 1.1)^t = 111.93; gain 8 x (111.93 - 91.07) = 167. Before, the what-if took 1 - the 12-month churn
    rate and the revenue per active customer x margin while the ladder counted buyers of two years in a row."""
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    link = {"period": ["2024-01-01", "2024-12-31"], "churn_days": "365", "churn_multiplier": "0"}
    ladder = app_test("loyalty", timeout=90, loyalty_tab="Lifetime value", **link)
    formula = next(c.value for c in ladder.code if "forward CLV" in c.value)
    assert "= 80.0%" in formula and formula.rstrip().endswith("= 91.07")
    at = app_test("churn", timeout=90, churn_whatif_points="5", churn_tab="What if", **link)
    text = " ".join(m.value for m in at.markdown)
    assert "the 12-month churn rate is 20.0%; it falls to 15.0%" in text
    assert "1 − the 12-month churn rate (the Loyalty ladder's retention): 80.0% today; churn down by 5.0 points " \
           "raises it to 85.0%" in text
    assert "m = 35.62" in text and ": 91.07 today, 111.93 after" in text
    assert "Gain = 8 customers who bought in the last 365 days × (111.93 − 91.07) = 167" in text


def test_rfm_segments_say_they_are_not_the_churn_rule(monkeypatch, tmp_path):
    """RFM names two segments "Lost" and "At risk", the words the Lost customers card and the Churn page's at-risk
    list use for the churn rule; on a demo 4 RFM-"Lost" customers were active by that rule and 25 of 35 RFM-"At risk"
    customers already lost. The tab says the names rank buyers against each other and are not the churn rule."""
    serve_fixture(monkeypatch, tmp_path, "loyalty/value")
    at = app_test("loyalty", timeout=90, period=["2024-01-01", "2024-12-31"], loyalty_tab="RFM segments")
    captions = " ".join(c.value for c in at.caption)
    assert 'an RFM "Lost" customer may still be active' in captions
    assert any(m.label == "Lost customers" for m in at.metric)


def test_the_what_if_on_churn_flags_reckons_that_churn_rate(monkeypatch, tmp_path):
    """tests/fixtures/churn_subscription: a customer list with churn flags and no orders (the explicit definition).
    clv_basis reads orders, so it has no retention here; the what-if takes its own churn rate: 3 of 8 lost, 37.5%
    (no 12-month rate: the period's), r = 62.5%, 5 points off -> 67.5%; m = 648 revenue per active customer x 30% =
    194.40; CLV 194.40 x sum (0.625 / 1.1)^t = 254.89 -> 306.42; gain 5 active x 51.53 = 258. The page says the
    Loyalty ladder's lifetime value (from orders) is another figure."""
    serve_fixture(monkeypatch, tmp_path, "churn_subscription")
    at = app_test("churn", timeout=90, churn_whatif_points="5", churn_tab="What if")
    assert {m.label: m.value for m in at.metric}["Lifetime profit gained (discounted)"] == "258"
    text = " ".join(m.value for m in at.markdown)
    assert "1 − the 12-month churn rate (from the customer list's churn flags; the Loyalty ladder reads orders" in text
    assert "62.5% today; churn down by 5.0 points raises it to 67.5%" in text
    assert "m = 194.40" in text and ": 254.89 today, 306.42 after" in text and "Gain = 5 active customers" in text
