"""The complaints page's default view with fewer rows and passes (model 26): the numbers stay what they were.

Old against new on demo data with refunds, missing costs and guest orders (demo_with_order_quirks): every complaints
query as it was in model 25 (kept in tests/fixtures/complaints_sql_model25/, with model 25's piece swap for the default
rule and period) against the query now, for the default view (which now counts the customers without a complaint in
the period per row of complaints_churn_base_kept: mart_complaint_customers.complained_in_period) and for views with a
filter or setting changed (the live pieces, each customer one row with n = 1). By hand on tests/fixtures/complaints:
complained_in_period and the lost day (listed_lost_date) in mart_complaint_customers.
"""

import datetime as dt

import pytest

from crmlens import complaints as cx
from crmlens import ingest, model, period, queries, store
from tests.conftest import FIXTURES, assert_same_frames, demo_with_order_quirks
from tests.test_complaints_marts import ADDED_SINCE, CHANGED_SINCE
from tests.test_complaints_marts import run_now, views

MODEL25 = FIXTURES / "complaints_sql_model25"
QUERIES = sorted(p.stem for p in MODEL25.glob("complaints_*.sql"))
KEYS = ("kind", "grp", "level", "severity", "value", "dimension", "band", "t", "bucket_start", "customer_id",
        "complaint_id", "category", "month_start")


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return demo_with_order_quirks(tmp_path_factory, "complaints_speed", seed=27, end_date=dt.date(2025, 9, 30),
                                  guest_every=7)


def run_model25(snap, monkeypatch, name: str, params: dict):
    with monkeypatch.context() as m:
        m.setattr(queries, "QUERY_DIR", MODEL25)
        m.setattr(queries, "SHARED_DIR", MODEL25 / "shared")
        m.setattr(model, "COMPLAINT_PIECES", {"complaints_churn_state": "complaints_churn_state_kept"})
        queries.sql_text.cache_clear()
        try:
            return queries.run(name, params, snap=snap)
        finally:
            queries.sql_text.cache_clear()


@pytest.mark.parametrize("view", ["default", "segment", "region_and_category", "churn_60_days_k2",
                                  "revenue_180_follow_30", "year_before", "cut_months_by_month"])
def test_every_complaints_query_gives_what_it_gave_in_model_25(snap, monkeypatch, view):
    p = views(snap)[view]
    for name in QUERIES:
        old, new = run_model25(snap, monkeypatch, name, p), run_now(snap, name, p)
        assert_same_frames(old.drop(columns=[c for c in CHANGED_SINCE if c in old.columns]),
                           new.drop(columns=[c for c in ADDED_SINCE + CHANGED_SINCE if c in new.columns]),
                           [c for c in KEYS if c in new.columns], abs_tol=1e-6)


def test_the_default_view_counts_the_others_per_row(snap, monkeypatch):
    """The default view takes complaints_churn_base_kept, its others counted at load (mart_complaint_others), with a
    customer filter counted per query; its figures are the live pieces' (one row a customer), the follow-up setting
    applied to the counted rows too."""
    monkeypatch.setattr(model, "USE_KEPT_VIEWS", False)  # (else the default view reads the rows kept at load)
    p = views(snap)["default"]
    assert model.complaint_pieces(snap, "complaints_churn", p) == "complaints_unfiltered"
    assert model.complaint_pieces(snap, "complaints_churn", views(snap)["segment"]) == "complaints"
    assert "\n    from mart_complaint_others\n" in queries.sql_text("complaints_churn", "complaints_unfiltered")
    assert "\n    from mart_complaint_others\n" not in queries.sql_text("complaints_churn", "complaints")
    assert "complaints_churn_base_kept" in queries.sql_text("complaints_churn", "complaints")
    for follow, segment in ((90, []), (30, []), (400, []), (90, ["business"]), (30, ["consumer", "business"])):
        q = {**p, "follow_days": follow, "segment": segment}
        kept = {name: queries.run(name, q, snap=snap) for name in ("complaints_churn", "complaints_churn_survival")}
        with monkeypatch.context() as m:
            m.setattr(model, "COMPLAINT_PIECES", {"complaints_churn_state": "complaints_churn_state_kept"})
            queries.sql_text.cache_clear()
            try:
                for name, df in kept.items():
                    one_a_row = queries.run(name, q, snap=snap)
                    assert_same_frames(one_a_row, df, [c for c in ("kind", "grp", "t") if c in df.columns], abs_tol=1e-9)
            finally:
                queries.sql_text.cache_clear()
    others = queries.run("complaints_churn", p, snap=snap).set_index(["kind", "grp"]).loc[("all", "others")]
    kept_rows = snap.query("select count(*) as n_rows, sum(n) as n from mart_complaint_others").iloc[0]
    assert kept_rows["n"] == others["n_customers"]
    assert 0 < kept_rows["n_rows"] < others["n_customers"]  # fewer rows than customers: what the mart saves


def test_complained_in_period_and_the_lost_day_by_hand(tmp_path):
    """tests/fixtures/complaints, default period 2023-07-02..2024-06-30 (365 days to the newest date, C5's order of
    06-30): C1-C4 each have a complaint in it (K1-K11 are all 2023-12-20..2024-03-28), C5 none (no complaint at all).
    The customer list says C1 left on 2024-05-01 (before the newest order day 06-30: lost that day), C2 is flagged
    churned (lost at the last order, 06-20), C3 churned = false (kept), C4 a churn date after the newest order day
    (2024-09-01: not lost yet, its day the last order 02-01); C5 is not on the list: the order rule (last order 06-30,
    the newest order day: not lost, no day)."""
    import shutil

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
    assert period.default_period(small) == (dt.date(2023, 7, 2), dt.date(2024, 6, 30))
    rows = small.query("select customer_id, complained_in_period, is_churned, coalesce(lost_date::varchar, '-') as lost_date "
                       "from mart_complaint_customers order by 1").values.tolist()
    assert rows == [["C1", True, True, "2024-05-01"], ["C2", True, True, "2024-06-20"], ["C3", True, False, "2024-03-10"],
                    ["C4", True, False, "2024-02-01"], ["C5", False, False, "-"]]
    # the default view: C5 is the only other, first order in the period 03-15, censored at 06-30 (107 days)
    start, end = period.default_period(small)
    p = cx.params(small, start, end, sla={"high": 24.0, "medium": 48.0, "low": 72.0})
    surv = queries.run("complaints_churn_survival", p, snap=small)
    assert surv[surv["grp"] == "others"][["t", "n_event", "n_censored"]].values.tolist() == [[107, 0, 1]]
