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
from tests.conftest import assert_same_frames, demo_with_order_quirks

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
    sql = former_sql(name)
    merged = {**queries.DEFAULT_PARAMS, **params}
    bound = {p: (getattr(model, p)(snap, merged) if re.fullmatch(r"use_\w+_mart", p) else merged[p])
             for p in queries.parameters(sql)}
    return snap.query(sql, bound)


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
    """The default case reads the kept lifetimes, the others do not (or not all)."""
    flags = []
    for label, start, end, settings in cases(demo_snap):
        params = churn.query_params(start, end, "orders", **settings)
        flags.append(model.use_spells_mart(demo_snap, params))
    assert len(flags) == N_CASES and flags[0] and flags[2] and not flags[1] and not flags[7]


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
