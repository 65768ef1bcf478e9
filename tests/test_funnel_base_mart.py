"""With the proposed stage settings and no stage date column the funnel queries take funnel_base_mart: each
opportunity's status, furthest history step and close day from mart_opportunities' default_* columns, the reach rules
on the row itself, nothing materialised, and the opportunity list's page read by its row. The same rows as funnel_base
(reading the same columns, materialised) and as the live path (every history gone through), on the hand-made fixture
(histories, a tie, an undated deal, a stage outside the order, another spelling) and on a demo with order quirks, for
several periods, filters and list pages. A stage date column or other stage settings keep funnel_base."""

import datetime as dt

import pytest

from crmlens import funnel, model, period, queries, store
from tests.conftest import demo_with_order_quirks, fixture_snapshot, load_texts
from tests.test_page_sql_speedups import FUNNEL_QUERIES, same


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month; every third order line without a cost, every 17th a refund, every 29th a guest's
    return demo_with_order_quirks(tmp_path_factory, "funnel_base_mart", seed=3, end_date=dt.date(2026, 7, 22),
                                  guest_every=29)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "funnel/mixed")


def three_ways(snap, name, params, monkeypatch):
    """The query through funnel_base_mart, through funnel_base with the default_* columns, and live (never the rows
    kept for the page as it opens: tests/test_funnel_kept.py)."""
    monkeypatch.setattr(model, "USE_KEPT_VIEWS", False)
    assert model.funnel_pieces(snap, name, params) == "funnel"
    sql, bound = queries.prepared(name, params, snap)
    assert "shared piece funnel_base_mart" in sql and "use_funnel_mart" not in bound
    assert "o.history" not in sql and "as materialized" not in sql  # no history read, nothing materialised
    if name == "funnel_stage_times":  # the days between stages from default_moves, no window over the histories
        assert "shared piece funnel_step_moves_mart" in sql and "lead(" not in sql
    out = [queries.run(name, params, snap=snap)]
    monkeypatch.setattr(model, "USE_FUNNEL_BASE_MART", False)
    sql, bound = queries.prepared(name, params, snap)
    assert "shared piece funnel_base_mart" not in sql and "funnel_step_moves_mart" not in sql
    assert bound["use_funnel_mart"] is True
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.setattr(model, "USE_FUNNEL_MART", False)
    assert queries.prepared(name, params, snap)[1]["use_funnel_mart"] is False
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.undo()
    return out


def proposed_cases(snap, all_from: dt.date):
    start, end = period.default_period(snap)
    order, won, lost = funnel.propose(queries.run("funnel_stage_vocab", snap=snap))
    return [
        ("proposed", funnel.params(start, end, order, won, lost)),
        ("proposed, segment business", funnel.params(start, end, order, won, lost, segment=["business"])),
        ("proposed, owner and source", funnel.params(start, end, order, won, lost, owner=["A", "Li Wei", "Zhang Min"],
                                                     source=["web", "call", "referral", "website"])),
        ("proposed, all data with the undated", funnel.params(all_from, end, order, won, lost, include_undated=True)),
        ("proposed, the year before, a window", funnel.params(start - dt.timedelta(days=365),
                                                              end - dt.timedelta(days=365), order, won, lost,
                                                              window_days=45)),
    ]


def check_every_query(snap, params, label, monkeypatch, lists):
    for name, more in {**FUNNEL_QUERIES, "funnel_breakdown": {"by": "segment"}}.items():
        mart, *others = three_ways(snap, name, {**params, **more}, monkeypatch)
        for other in others:
            same(mart, other)
    steps = list(queries.run("funnel_stage_counts", params, snap=snap)["stage_key"])
    for stage, mode, limit, offset in lists(steps):
        more = {"list_stage": stage, "list_mode": mode, "limit": limit, "offset": offset}
        page, *others = three_ways(snap, "funnel_opportunities", {**params, **more}, monkeypatch)
        for other in others:
            same(page, other)
        yield label, stage, mode, page


@pytest.mark.parametrize("case", range(5))
def test_the_demo_s_funnel_from_the_mart_piece(demo_snap, monkeypatch, case):
    label, params = proposed_cases(demo_snap, dt.date(2000, 1, 1))[case]
    summary = queries.run("funnel_summary", params, snap=demo_snap).iloc[0]
    assert summary["n_opportunities"] > 20 and summary["n_rule_history"] > 0, label

    def lists(steps):
        return ((steps[0], "reached", 25, 0), (steps[1], "dropped", 10, 0), (steps[0], "reached", 25, 40),
                (steps[-1], "reached", 5, 3), (steps[2], "dropped", 25, 100_000))
    pages = list(check_every_query(demo_snap, params, label, monkeypatch, lists))
    assert all(len(page) > 0 for *_, page in pages[:4])
    assert len(pages[-1][3]) == 0


@pytest.mark.parametrize("include_undated", [False, True])
def test_the_hand_made_funnel_from_the_mart_piece(mixed, monkeypatch, include_undated):
    """The fixture's proposed settings (\"on hold\" an unknown step after the known ones) without its date columns:
    every rule but lost_dates applies; N8 (no date at all) counts in the view that covers all the data."""
    order, won, lost = funnel.propose(queries.run("funnel_stage_vocab", snap=mixed))
    params = funnel.params(dt.date(2024, 1, 1), dt.date(2024, 12, 31), order, won, lost,
                           include_undated=include_undated)
    s = queries.run("funnel_summary", params, snap=mixed).iloc[0]
    assert s["n_opportunities"] == 11 + include_undated and s["n_rule_history"] == 4 and s["n_rule_lost_dates"] == 0
    assert s["n_undated_in"] == include_undated

    def lists(steps):
        return [(step, mode, 50, 0) for step in steps for mode in ("reached", "dropped")]
    pages = list(check_every_query(mixed, params, "mixed", monkeypatch, lists))
    first = next(page for _, stage, mode, page in pages if stage == order[0] and mode == "reached")
    assert len(first) == s["n_opportunities"] and first["n_total"].iloc[0] == s["n_opportunities"]


def test_a_stage_date_column_or_other_settings_keep_funnel_base(mixed):
    order, won, lost = funnel.propose(queries.run("funnel_stage_vocab", snap=mixed))
    year = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    cases = [
        funnel.params(*year, order, won, lost, {"qualified_date": "qualified"}),  # a date column: lost deals' reach
        funnel.params(*year, [order[1], order[0], *order[2:]], won, lost),  # two steps swapped
        funnel.params(*year, order, [], [*won, *lost]),  # the won stage counted as lost
    ]
    for params in cases:
        for name in model.FUNNEL_BASE_QUERIES:
            assert model.funnel_pieces(mixed, name, params) is False
            more = {"list_stage": "lead", "list_mode": "reached", "limit": 5, "offset": 0, "by": "owner", "top_n": 3,
                    "risk_share": 0.15}
            assert "shared piece funnel_base_mart" not in queries.prepared(name, {**params, **more}, mixed)[0]
    assert model.funnel_pieces(mixed, "funnel_summary", funnel.params(*year, order, won, lost)) == "funnel"
    assert model.funnel_pieces(mixed, "forecast_opportunities", funnel.params(*year, order, won, lost)) is False


def test_every_query_taking_funnel_base_is_listed():
    taking = {n for n in queries.names() if "-- include: funnel_base\n" in (queries.QUERY_DIR / f"{n}.sql").read_text()}
    assert taking == set(model.FUNNEL_BASE_QUERIES)


HISTORY_EDGES = {
    "opportunities.csv": "opportunity_id,customer_id,stage,created_date\nT1,C1,won,2024-01-01\nT2,C1,lead,2024-02-01\n",
    # T1: a tie at 09:00 (lost, lead), a stage entered twice (qualified: its first entry counts); T2: three stages at
    # one time, listed out of order
    "opportunity_stage_history.csv": "opportunity_id,stage,entered_at\n"
                                     "T1,qualified,2024-01-05 10:00\nT1,lost,2024-01-03 09:00\n"
                                     "T1,lead,2024-01-03 09:00\nT1,qualified,2024-01-02 08:00\nT1,won,2024-01-09 12:00\n"
                                     "T2,proposal,2024-02-02 10:00\nT2,lead,2024-02-02 10:00\n"
                                     "T2,negotiation,2024-02-02 10:00\n",
}


def test_the_history_lists_each_stage_once_earliest_first_ties_in_stage_order(tmp_path):
    """mart_opportunities.history (sorted with list_sort since model 30): each stage's first entry, earliest first,
    a tie in the order of the stage keys, as `order by entered_at, stage_key`."""
    snap = store.snapshot(load_texts(tmp_path / "crm.duckdb", HISTORY_EDGES))
    got = dict(snap.query("select opportunity_id, history from mart_opportunities").itertuples(index=False))
    at = lambda text: dt.datetime.fromisoformat(text)  # noqa: E731
    assert [(e["stage_key"], e["entered_at"]) for e in got["T1"]] == [
        ("qualified", at("2024-01-02 08:00")), ("lead", at("2024-01-03 09:00")), ("lost", at("2024-01-03 09:00")),
        ("won", at("2024-01-09 12:00"))]
    assert [e["stage_key"] for e in got["T2"]] == ["lead", "negotiation", "proposal"]
