"""At the default period, grain (month) and settings, the loyalty movements count the moves kept in mart_loyalty_moves
and the customers behind a move come from mart_loyalty_customer_moves (both built at load with the movements' own
pieces), for any filter, and give the same rows as the moves worked out per query (from mart_loyalty_months, and from
the order lines), on demo data with refunds, orders without a cost, guests, surveys, complaints and referrals. Any
other period, grain or setting works them out per query."""

import datetime as dt
import json

import pytest

from crmlens import ingest, loyalty, model, period, queries, store
from tests.conftest import assert_same_frames, demo_with_order_quirks

FILTERS = [{}, {"segment": ["business"]}, {"owner": ["Li Wei", "Zhang Min"]}, {"region": ["North"]},
           {"channel": ["online"]}, {"segment": ["business", "distributor"], "channel": ["online", "events"]}]


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month (the default period ends on a day that is not a month end), with every third order
    #   line without a cost, every 17th a refund and every 23rd a guest's order
    return demo_with_order_quirks(tmp_path_factory, "loyalty_moves_mart", seed=5, end_date=dt.date(2026, 8, 19),
                                  guest_every=23)


def default_params(snap, **changes):
    start, end = period.default_period(snap)
    return {**queries.DEFAULT_PARAMS, **loyalty.params(start, end), "grain": "month", **changes}


def every_way(snap, name, params, monkeypatch):
    """The query from the moves marts (which it must read), then from mart_loyalty_months, then from the order lines."""
    assert model.default_moves(snap, name, params) == "moves", name
    text = queries.sql_text(name, from_marts="moves")
    assert "rung_states" not in text and "from mart_loyalty_customer_moves" in text or "from mart_loyalty_moves" in text
    out = [queries.run(name, params, snap=snap)]
    monkeypatch.setattr(model, "USE_MOVES_MART", False)
    assert model.default_moves(snap, name, params) is False
    assert model.use_loyalty_mart(snap, name, params)
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.setattr(model, "USE_LOYALTY_MART", False)
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.undo()
    return out


def same(a, b):
    """Revenue summed per customer and then per move may differ from one sum in the last bits of a double."""
    assert_same_frames(a, b, abs_tol=1e-6)


@pytest.mark.parametrize("filters", FILTERS)
def test_the_default_movements_from_the_marts_are_the_ones_worked_out_per_query(demo_snap, monkeypatch, filters):
    p = default_params(demo_snap, **filters)
    moves, *others = every_way(demo_snap, "loyalty_movements", p, monkeypatch)
    assert moves["n_customers"].sum() > (50 if filters else 400)
    if not filters:
        assert set(moves["direction"]) >= {"joined", "climbed", "fell", "left", "returned", "stayed"}
        assert moves["to_date"].max().date() == p["end"] and (p["end"] + dt.timedelta(days=1)).day != 1
    for other in others:
        same(moves, other)


@pytest.mark.parametrize("filters", [FILTERS[0], FILTERS[2]])
def test_the_customers_of_each_move_from_the_marts_are_the_ones_worked_out_per_query(demo_snap, monkeypatch, filters):
    """Every move of the last step (and of the first, unfiltered), all its customers, then pages of them from the
    marts: a middle page and past the last row."""
    p = default_params(demo_snap, **filters)
    moves = queries.run("loyalty_movements", p, snap=demo_snap)
    steps = moves[moves["to_date"].isin([moves["to_date"].max(), *([] if filters else [moves["to_date"].min()])])]
    assert len(steps) > 8
    for move in steps.itertuples(index=False):
        q = {**p, "from_date": move.from_date.date(), "to_date": move.to_date.date(), "from_state": move.from_state,
             "to_state": move.to_state}
        who, *others = every_way(demo_snap, "loyalty_flow_customers", {**q, "limit": 100_000, "offset": 0}, monkeypatch)
        assert len(who) == move.n_customers and (who["n_matching"] == move.n_customers).all()
        for other in others:
            same(who, other)
        for limit, offset in ((7, 5), (10, int(move.n_customers))):
            page = queries.run("loyalty_flow_customers", {**q, "limit": limit, "offset": offset}, snap=demo_snap)
            same(page, who.iloc[offset:offset + limit].reset_index(drop=True))


def other_settings(snap):
    start, end = period.default_period(snap)
    day = dt.timedelta(days=1)
    return [
        {"grain": "quarter"}, {"start": start + day}, {"start": start - dt.timedelta(days=40)},
        {"end": end - day, "start": start - day}, {"survey_days": 90}, {"min_orders_client": 3},
        {"churn_days": 60}, {"churn_multiplier": 2.0}, {"use_partner_flag": False}, {"satisfaction_min": 3},
        {"nps_supporter_min": 8}, {"max_unresolved": 1}, {"nps_advocate_min": 10}, {"min_referrals": 2},
    ]


@pytest.mark.parametrize("case", range(14))
def test_any_other_period_grain_or_setting_works_the_moves_out_per_query(demo_snap, case):
    p = default_params(demo_snap, **other_settings(demo_snap)[case])
    assert model.default_moves(demo_snap, "loyalty_movements", p) is False
    moves = queries.run("loyalty_movements", p, snap=demo_snap)
    last = moves[moves["to_date"] == moves["to_date"].max()].iloc[0]
    flow = {**p, "from_date": last["from_date"].date(), "to_date": last["to_date"].date(), "from_state": last["from_state"],
            "to_state": last["to_state"], "limit": 50, "offset": 0}
    assert model.default_moves(demo_snap, "loyalty_flow_customers", flow) is False


def test_a_flow_between_dates_that_are_not_one_kept_move_is_worked_out_per_query(demo_snap):
    p = default_params(demo_snap)
    moves = queries.run("loyalty_movements", p, snap=demo_snap)
    ends = sorted(moves["to_date"].unique())
    flow = {**p, "from_state": "client", "to_state": "client", "limit": 50, "offset": 0}
    kept = {**flow, "from_date": ends[-2].date(), "to_date": ends[-1].date()}
    assert model.default_moves(demo_snap, "loyalty_flow_customers", kept) == "moves"
    for dates in ((ends[-3], ends[-1]), (ends[-1], ends[-2]), (ends[-2], ends[-1] + dt.timedelta(days=1))):
        assert model.default_moves(demo_snap, "loyalty_flow_customers",
                                   {**flow, "from_date": dates[0], "to_date": dates[1]}) is False
    # the page passes its grain as it is (month) with a flow: the flow does not read it, so any grain finds the move
    assert model.default_moves(demo_snap, "loyalty_flow_customers", {**kept, "grain": "quarter"}) == "moves"


def test_the_page_s_numbers_as_floats_and_dates_as_timestamps_still_read_the_marts(demo_snap):
    p = default_params(demo_snap)
    as_floats = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in p.items()}
    assert model.default_moves(demo_snap, "loyalty_movements", as_floats) == "moves"
    assert model.default_moves(demo_snap, "loyalty_movements",
                               {**p, "end": dt.datetime.combine(p["end"], dt.time())}) == "moves"


def test_the_marts_keep_every_known_customer_at_each_month_end_and_the_settings_they_were_built_with(demo_snap):
    p = default_params(demo_snap)
    kept = demo_snap.query("select count(*) as n, count(distinct (customer_id, to_date)) as keys, "
                           "count(distinct to_date) as n_dates, max(to_date) as last from mart_loyalty_customer_moves"
                           ).iloc[0]
    assert kept["n"] == kept["keys"] and kept["last"].date() == p["end"] and kept["n_dates"] in (12, 13)
    counted = demo_snap.query("select sum(n_customers) as n, count(distinct settings) as n_settings, "
                              "any_value(settings) as settings from mart_loyalty_moves").iloc[0]
    assert counted["n"] == kept["n"] and counted["n_settings"] == 1
    settings = json.loads(counted["settings"])
    assert settings["start"] == p["start"].isoformat() and settings["grain"] == "month"
    assert not set(settings) & set(model.MOVES_FILTERS)  # the filters apply when a query reads the marts
    # every parameter of the replaced pieces is a setting or a filter, so none can differ unseen
    pieces = "\n".join(queries.expand(f"-- include: {piece}", (), model.MART_PIECES)
                       for piece in (*model.MOVES_PIECES["loyalty_movements"], "loyalty_step_dates"))
    assert set(queries.parameters(pieces)) - {"use_spells_mart"} == set(settings) | set(model.MOVES_FILTERS)


def test_without_orders_the_marts_are_empty_and_never_read(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_date\nC1,2026-03-01\nC2,2026-04-15\n", encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([path], db=db)
    snap = store.snapshot(db)
    assert snap.query("select count(*) as n from mart_loyalty_moves").iloc[0]["n"] == 0
    assert snap.query("select count(*) as n from mart_loyalty_customer_moves").iloc[0]["n"] == 0
    p = default_params(snap)
    assert model.default_moves(snap, "loyalty_movements", p) is False
    moves = queries.run("loyalty_movements", p, snap=snap)
    assert set(moves["direction"]) <= {"joined", "stayed"} and set(moves["to_state"]) == {"prospect"}
