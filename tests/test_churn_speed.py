"""The churn page's summary and leaky bucket rewritten for speed (issue 13, model 26) against the SQL they replaced,
on a demo with order quirks (refunds, lines without a cost, guest orders), for the default view, other churn rules,
filters, other periods and both grains.

The former SQL (model 25) is kept in tests/fixtures/sql_before_churn2/: churn_summary, churn_bucket and the piece
churn_spells as they were. Each case runs the query as it is now (queries.run: marts and variants as the snapshot
allows) and the former text with the same parameters (the use_*_mart flags as queries.run sets them), and the two
must give the same rows. See the README, "Performance", for what changed.
"""

import datetime as dt
import pathlib
import re

import pytest

from crmlens import churn, model, period, queries
from tests.conftest import assert_same_frames, demo_with_order_quirks, run_as_the_app

BEFORE = pathlib.Path(__file__).parent / "fixtures" / "sql_before_churn2"
PIECES = ("churn_spells",)  # shared pieces kept as they were


def former_sql(name: str) -> str:
    """The query as it was at model 25: its former file with the former pieces (others as they are today)."""
    text = (BEFORE / f"{name}.sql").read_text(encoding="utf-8")
    for piece in PIECES:
        was = (BEFORE / f"{piece}.sql").read_text(encoding="utf-8").rstrip("\n")
        text = re.sub(rf"^[ \t]*-- include: {piece}[ \t]*$", lambda m: was, text, flags=re.M)
    return queries.expand(text)


def former(snap, name: str, params: dict):
    return run_as_the_app(snap, former_sql(name), params)


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month; every third order line loses its cost, every 17th becomes a refund and every 29th
    #   a guest's (no customer id)
    return demo_with_order_quirks(tmp_path_factory, "churn_speed", seed=5, end_date=dt.date(2026, 5, 19),
                                  guest_every=29)


def cases(snap):
    start, end = period.default_period(snap)
    return [
        ("default", start, end, {}),
        ("60 days", start, end, {"churn_days": 60}),
        ("segment business", start, end, {"segment": ["business"]}),
        ("60 days, segment business", start, end, {"churn_days": 60, "segment": ["business"]}),
        ("multiplier 2, two regions", start, end, {"churn_multiplier": 2.0, "region": ["East", "South"]}),
        ("20 days, multiplier 0", start, end, {"churn_days": 20, "churn_multiplier": 0.0}),
        ("a quarter to the end, 120 days", end - dt.timedelta(days=91), end, {"churn_days": 120}),
        ("a year back", start - dt.timedelta(days=365), end - dt.timedelta(days=365), {}),
        ("three years, mid-month start, 45 days", dt.date(2023, 7, 17), end, {"churn_days": 45}),
        ("past the data's end", end - dt.timedelta(days=100), end + dt.timedelta(days=200), {}),
    ]


N_CASES = 10


def test_the_cases_cover_the_marts(demo_snap):
    """The default case reads the rows kept at load (the page as it opens), the others the kept lifetimes or not."""
    flags, kept = [], []
    for label, start, end, settings in cases(demo_snap):
        params = {**churn.query_params(start, end, "orders", **settings), "grain": churn.GRAIN}
        flags.append(model.use_spells_mart(demo_snap, params))
        kept.append([model.kept_view(demo_snap, name, params) for name in ("churn_summary", "churn_bucket")])
    assert len(flags) == N_CASES and flags[0] and flags[2] and not flags[1] and not flags[7]
    assert kept[0] == ["mart_churn_summary_kept", "mart_churn_bucket_kept"]
    assert all(k == [None, None] for k in kept[1:])
    start, end = period.default_period(demo_snap)
    quarter = {**churn.query_params(start, end, "orders"), "grain": "quarter"}
    assert model.kept_view(demo_snap, "churn_bucket", quarter) is None
    assert model.kept_view(demo_snap, "churn_summary", quarter) == "mart_churn_summary_kept"  # (no grain there)
    assert model.kept_view(demo_snap, "churn_summary", churn.query_params(start, end, "explicit")) is None


@pytest.mark.parametrize("name", ["churn_summary", "churn_bucket"])
def test_the_kept_rows_are_the_query_s(demo_snap, monkeypatch, name):
    """The rows kept at load for the page as it opens against the query run on the marts (kept views off)."""
    start, end = period.default_period(demo_snap)
    params = {**churn.query_params(start, end, "orders"), "grain": churn.GRAIN}
    sql, bound = queries.prepared(name, params, demo_snap)
    assert "_kept" in sql and bound == {}
    kept = queries.run(name, params, snap=demo_snap)
    monkeypatch.setattr(model, "USE_KEPT_VIEWS", False)
    live = queries.run(name, params, snap=demo_snap)
    assert (len(kept) == 1) == (name == "churn_summary") and kept.iloc[0]["n_start"] > 0
    assert_same_frames(kept, live)


@pytest.mark.parametrize("grain", ["month", "quarter"])
@pytest.mark.parametrize("case", range(N_CASES))
def test_churn_bucket_is_the_former_query(demo_snap, case, grain):
    label, start, end, settings = cases(demo_snap)[case]
    params = {**churn.query_params(start, end, "orders", **settings), "grain": grain}
    new = queries.run("churn_bucket", params, snap=demo_snap)
    old = former(demo_snap, "churn_bucket", params)
    assert len(new) > 0, label
    if start <= end - dt.timedelta(days=60):
        assert new["n_start"].sum() > 0 and new["n_lost"].sum() > 0, label
    assert_same_frames(new, old)


@pytest.mark.parametrize("case", range(N_CASES))
def test_churn_summary_is_the_former_query(demo_snap, case):
    label, start, end, settings = cases(demo_snap)[case]
    params = churn.query_params(start, end, "orders", **settings)
    new = queries.run("churn_summary", params, snap=demo_snap)
    old = former(demo_snap, "churn_summary", params)
    assert len(new) == 1 and new.iloc[0]["n_active"] > 0, label
    assert_same_frames(new, old)


@pytest.mark.parametrize("name", ["churn_summary", "churn_bucket"])
def test_explicit_churn_is_the_former_query(demo_snap, name):
    start, end = period.default_period(demo_snap)
    params = {**churn.query_params(start, end, "explicit"), "grain": "month"}
    assert_same_frames(queries.run(name, params, snap=demo_snap), former(demo_snap, name, params))


def test_the_former_text_is_not_todays():
    """(The comparisons above would compare a query with itself if the former text were today's.)"""
    assert former_sql("churn_bucket") != queries.sql_text("churn_bucket")
    assert "n_lines_customer" not in former_sql("churn_bucket")


@pytest.mark.parametrize("churn_days, multiplier", [(30, 0.0), (31, 3.0), (60, 3.0), (200, 0.5), (45, 20.0)])
def test_lifetimes_from_the_long_gaps_are_the_ones_from_every_order_day(demo_snap, churn_days, multiplier):
    """customer_spells(..., from_gaps := true) (mart_customer_long_gaps) against the same rule over every order day,
    for everybody and for a list of customers, on the newest order day and after it."""
    day = demo_snap.query("select max(order_date) as d from mart_customer_days").iloc[0]["d"].date()
    some = list(demo_snap.query("select customer_id from mart_customer_churn where customer_id is not null "
                                "order by customer_id limit 90")["customer_id"])
    for as_of in (day, day + dt.timedelta(days=40)):
        for only in (None, some):
            sql = ("select * from customer_spells($as_of, $churn_days, $churn_multiplier, only_customers := $only, "
                   "from_gaps := $from_gaps) order by customer_id, spell_no")
            args = {"as_of": as_of, "churn_days": churn_days, "churn_multiplier": multiplier, "only": only}
            new = demo_snap.query(sql, {**args, "from_gaps": True})
            old = demo_snap.query(sql, {**args, "from_gaps": False})
            assert len(new) > (80 if only else 250) and new["spell_no"].max() > 1
            assert_same_frames(new, old)


def test_kept_rows_of_another_text_of_the_query_are_not_read(demo_snap, monkeypatch):
    """The kept rows carry a digest of the query's SQL: a changed query runs instead of reading rows an older text kept."""
    start, end = period.default_period(demo_snap)
    params = {**churn.query_params(start, end, "orders"), "grain": churn.GRAIN}
    assert model.kept_view(demo_snap, "churn_summary", params) == "mart_churn_summary_kept"
    text = queries.sql_text("churn_summary")
    monkeypatch.setattr(queries, "sql_text", lambda name, *a: text + "\n" if name == "churn_summary" else "")
    assert model.kept_view(demo_snap, "churn_summary", params) is None
