"""mart_complaints and mart_complaint_customers (model 23) and the vectorised Cox fit: the complaints page's numbers
stay what they were.

Old against new on demo data with refunds, missing costs and guest orders (demo_with_order_quirks): every complaints
query as it was before these marts (kept in tests/fixtures/complaints_sql_before/, run through the same query runner)
against the query now, for the default view (which reads the marts: crmlens.model.complaint_marts) and for views with
a filter or setting changed (which work their figures out from mart_customer_days, mart_customer_months and the
lifetimes as before), and with the marts switched off (model.USE_COMPLAINT_MARTS). The hand-worked numbers are in
test_complaints_queries.py; the appends that update these marts by key in test_append_marts.py.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from crmlens import complaints as cx
from crmlens import model, period, queries, store, survival
from tests.conftest import FIXTURES, assert_same_frames, demo_with_order_quirks

BEFORE = FIXTURES / "complaints_sql_before"
QUERIES = sorted(p.stem for p in BEFORE.glob("complaints_*.sql"))


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return demo_with_order_quirks(tmp_path_factory, "complaints_marts", seed=13, end_date=dt.date(2025, 6, 30),
                                  guest_every=11)


RENAMED = {"complaints_category_month": "complaints_dimension_month"}  # a query's name then -> now


def run_now(snap, name: str, params: dict) -> pd.DataFrame:
    """The query as it is, by its name then: the heatmap by category is complaints_dimension_month by category."""
    if name not in RENAMED:
        return queries.run(name, params, snap=snap)
    now = queries.run(RENAMED[name], {**params, "dimension": "category"}, snap=snap)
    assert (now["n_values"] <= params["limit"]).all()  # every category in the heatmap, as then
    return now.rename(columns={"value": "category"}).drop(columns="n_values")


def run_both(snap, monkeypatch, name: str, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query as it was (tests/fixtures/complaints_sql_before) and as it is, on the same snapshot."""
    new = run_now(snap, name, params)
    with monkeypatch.context() as m:
        m.setattr(queries, "QUERY_DIR", BEFORE)
        m.setattr(queries, "SHARED_DIR", BEFORE / "shared")
        m.setattr(model, "COMPLAINT_PIECES", {})  # the SQL before the marts has no piece to swap
        queries.sql_text.cache_clear()
        try:
            old = queries.run(name, params, snap=snap)
        finally:
            queries.sql_text.cache_clear()
    return old, new


def views(snap) -> dict[str, dict]:
    start, end = period.default_period(snap)
    sla = cx.sla_for(snap, cx.params(snap, start, end))
    base = {"filters": None, "sla": sla}
    year_before = (start - dt.timedelta(days=365), end - dt.timedelta(days=365))
    settings = {
        "default": ((start, end), base, {}),
        "segment": ((start, end), {**base, "filters": {"segment": ["business"]}}, {}),
        "region_and_category": ((start, end), {**base, "filters": {"region": ["North", "East"], "category": ["delivery"]}}, {}),
        "churn_60_days_k2": ((start, end), base, {"churn_days": 60, "churn_multiplier": 2.0}),
        "revenue_180_follow_30": ((start, end), base, {"revenue_days": 180, "follow_days": 30}),
        "year_before": (year_before, base, {}),
        "quarter_by_week": ((end - dt.timedelta(days=90), end), base, {"grain": "week"}),
        "cut_months_by_day": ((start + dt.timedelta(days=17), end - dt.timedelta(days=9)), base, {"grain": "day"}),
        "cut_months_by_month": ((start + dt.timedelta(days=17), end - dt.timedelta(days=9)),
                                {**base, "filters": {"owner": ["Li Wei"]}}, {}),
    }
    return {key: cx.params(snap, *dates, **kw, **extra) for key, (dates, kw, extra) in settings.items()}


def test_the_default_view_reads_the_marts(snap):
    p = views(snap)["default"]
    assert model.complaint_marts(snap, p) == dict.fromkeys(model.COMPLAINT_FLAGS, True)
    assert model.complaint_marts(snap, views(snap)["year_before"])["complaint_period_mart"] is False
    assert model.complaint_marts(snap, views(snap)["churn_60_days_k2"])["complaint_rule_mart"] is False
    assert model.complaint_marts(snap, views(snap)["revenue_180_follow_30"])["complaint_revenue_mart"] is False
    # the demo has what the comparison needs: complainers, lost customers, open complaints
    churn = queries.run("complaints_churn", p, snap=snap)
    overall = churn[churn["kind"] == "all"].set_index("grp")
    assert overall.loc["complainers", "n_churned"] > 0 and overall.loc["others", "n_customers"] > 0
    assert overall.loc["complainers", "amt_revenue_lost"] > 0


# columns the queries return since (complaints_speed: the export's own SLA verdicts; complaints_oldest_open: days open)
ADDED_SINCE = ("n_sla_given", "days_open")
# Columns whose definition changed since that SQL: lost within the follow-up is now the first loss after the start,
# even if the customer came back (the follow-up page's rule; test_complaints_queries.test_a_returner_lost_within_the_
# follow_up_counts_lost): compared between the marts and the live path below, not with the former SQL.
CHANGED_SINCE = ("n_churned_followed", "rate_churn_followed", "amt_revenue_lost_followed")


@pytest.mark.parametrize("view", ["default", "segment", "region_and_category", "churn_60_days_k2",
                                  "revenue_180_follow_30", "year_before", "quarter_by_week", "cut_months_by_day",
                                  "cut_months_by_month"])
def test_every_complaints_query_gives_what_it_gave_before_the_marts(snap, monkeypatch, view):
    p = views(snap)[view]
    for name in QUERIES:
        for dimension in (("category", "region", "severity") if name == "complaints_by_dimension" else ("category",)):
            old, new = run_both(snap, monkeypatch, name, {**p, "dimension": dimension})
            keys = [c for c in ("kind", "grp", "level", "severity", "value", "dimension", "band", "t", "bucket_start",
                                "customer_id", "complaint_id", "category", "month_start") if c in new.columns]
            assert_same_frames(old.drop(columns=[c for c in CHANGED_SINCE if c in old.columns]),
                               new.drop(columns=[c for c in ADDED_SINCE + CHANGED_SINCE if c in new.columns]), keys,
                               abs_tol=1e-6)


def test_the_live_paths_give_the_marts_figures(snap, monkeypatch):
    p = views(snap)["default"]
    kept = {name: queries.run(name, p, snap=snap) for name in ("complaints_churn", "complaints_churn_survival",
                                                               "complaints_churn_cox", "complaints_coverage",
                                                               "complaints_volume")}
    monkeypatch.setattr(model, "USE_COMPLAINT_MARTS", False)
    assert model.complaint_marts(snap, p) == dict.fromkeys(model.COMPLAINT_FLAGS, False)
    for name, df in kept.items():
        live = queries.run(name, p, snap=snap)
        keys = [c for c in ("kind", "grp", "t", "bucket_start", "customer_id") if c in df.columns]
        assert_same_frames(live, df, keys, abs_tol=1e-6)


# --- the Cox fit: statsmodels' PHReg(ties="efron") numbers --------------------------------------------------------

def cox_data(seed: int, n: int, p: int, tie_days: float, zero_share: float = 0.0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.random(n) < 0.3 for _ in range(p - 1)] + [rng.exponential(2.0, n)]).astype(float)
    rate = np.exp(X @ rng.normal(0, 0.5, p))
    t = np.floor(rng.exponential(100 / rate) / tie_days) * tie_days  # whole days: many tied times
    t[rng.random(n) < zero_share] = 0.0
    censor = rng.uniform(0, 300, n)
    status = (t <= censor).astype(int)
    return np.minimum(t, np.floor(censor)), status, X


@pytest.mark.parametrize("seed, n, p, tie_days, zero_share", [
    (1, 5000, 6, 1.0, 0.0),     # like the page: whole days, a few categories and a duration
    (2, 300, 3, 7.0, 0.05),     # heavy ties, some zero durations
    (3, 80, 2, 0.001, 0.0),     # almost no ties
    (4, 2000, 8, 30.0, 0.02),   # months: hundreds of events per time
])
def test_cox_efron_gives_statsmodels_numbers(seed, n, p, tie_days, zero_share):
    t, status, X = cox_data(seed, n, p, tie_days, zero_share)
    ref = PHReg(t, X, status=status, ties="efron").fit()
    got = survival.cox_efron(t, status, X)
    ci = np.asarray(ref.conf_int())
    assert got["params"] == pytest.approx(np.asarray(ref.params), rel=1e-9, abs=1e-12)
    assert got["bse"] == pytest.approx(np.asarray(ref.bse), rel=1e-9)
    assert got["p_value"] == pytest.approx(np.asarray(ref.pvalues), rel=1e-7, abs=1e-300)
    assert got["lower"] == pytest.approx(ci[:, 0], rel=1e-9, abs=1e-12)
    assert got["upper"] == pytest.approx(ci[:, 1], rel=1e-9, abs=1e-12)


def test_cox_efron_refuses_what_statsmodels_cannot_fit():
    t, status, X = cox_data(5, 200, 3, 1.0)
    with pytest.raises(np.linalg.LinAlgError):
        survival.cox_efron(t, status, np.column_stack([X, X[:, 0]]))  # a column twice: singular
    with pytest.raises(ValueError):
        survival.cox_efron(t, np.zeros_like(status), X)  # no event


def test_the_customer_lists_churn_date_and_flag_win_in_the_mart_as_before(tmp_path, monkeypatch):
    """tests/fixtures/complaints with a customer list that says who left: C1 a churn date (2024-05-01, before the
    newest order day 2024-06-30: lost then), C2 a churned flag (lost at its last order), C3 churned = false (kept
    whatever its orders say), C4 a churn date after the newest order day (not lost yet). The default view reads the
    mart; the figures are the ones the SQL before the marts gives."""
    import shutil

    from crmlens import ingest
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("complaints.csv", "orders.csv"):
        shutil.copy(FIXTURES / "complaints" / name, folder / name)
    (folder / "customers.csv").write_text(
        "customer_id,name,region,segment,owner,churned,churn_date\n"
        "C1,Alice,East,consumer,Li Wei,,2024-05-01\nC2,Bob,West,business,Wang Fang,true,\n"
        "C3,Carol,East,consumer,Li Wei,false,\nC4,Dan,West,consumer,Wang Fang,,2024-09-01\n", encoding="utf-8")
    ingest.load_files(sorted(folder.glob("*.csv")), db=tmp_path / "c.duckdb", max_reject_share=0.2)
    small = store.snapshot(tmp_path / "c.duckdb")
    start, end = period.default_period(small)
    p = cx.params(small, start, end, sla={"high": 24.0, "medium": 48.0, "low": 72.0})
    assert model.complaint_marts(small, p) == dict.fromkeys(model.COMPLAINT_FLAGS, True)
    state = small.query("select customer_id, is_churned, lost_date::varchar as lost_date from mart_complaint_customers "
                        "where customer_id in ('C1', 'C2', 'C3', 'C4') order by 1")
    assert state.values.tolist() == [["C1", True, "2024-05-01"], ["C2", True, "2024-06-20"], ["C3", False, "2024-03-10"],
                                     ["C4", False, "2024-02-01"]]
    for name in ("complaints_churn", "complaints_churn_survival", "complaints_churn_cox", "complaints_coverage"):
        old, new = run_both(small, monkeypatch, name, p)
        keys = [c for c in ("kind", "grp", "t", "customer_id") if c in new.columns]
        assert_same_frames(old, new, keys, abs_tol=1e-6)
