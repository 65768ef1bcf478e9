"""Weighted pipeline forecast and targets on tests/fixtures/forecast, worked out by hand.

Opportunities (stages lead < qualified < proposal, then won / lost), as of 2025-03-31:
  closed by then  C1 won  A 100 created 01-01 closed 01-31 (30 days)   reach: every step (3)
                  C2 won  B 200 created 01-10 closed 02-19 (40 days)   reach 3
                  C3 lost A  -  closed 02-01, no history               reach 1 (first step only)
                  C4 lost B  -  closed 02-10, no history               reach 1
                  C5 lost A 400 history lead, qualified, proposal, lost 03-01   reach 3
  open then       O1 lead      A 1000 created 03-01, no close date
                  O2 proposal  B  300 close date 05-20
                  O3 qualified A  600 close date 03-20 (passed)
                  O4 won later B  500 created 03-10, closes 04-15, no history: step unknown then -> first step
Win rates: step 1 (lead): 5 closed reached it, 2 won -> 0.4; steps 2 and 3: C1, C2, C5 reached -> 2/3.
Median cycle of won deals: (30 + 40) / 2 = 35 days.
Expected close: O1 03-01 + 35 = 04-05; O2 05-20; O3 03-15 + 35 = 04-19 (its own date has passed); O4 04-15.
April: O1 0.4 x 1000 + O3 2/3 x 600 + O4 0.4 x 500 = 400 + 400 + 200 = 1000 weighted; best case 2100;
  commit (chance >= 60%) 600; sd = sqrt(0.24 x 1000^2 + 2/9 x 600^2 + 0.24 x 500^2) = sqrt(380,000) = 616.4.
May: O2 2/3 x 300 = 200; best 300; commit 300; sd = sqrt(2/9 x 90,000) = 141.4.
Q1 2025: won 100 (C1, Jan) + 200 (C2, Feb) = 300, nothing left to close in Q1 -> expected 300.
Q2: 1000 + 200 = 1200. Targets Q1: company (全部) 400 x 3 = 1200 -> attainment 300 / 1200 = 25%;
  A 3 x 100 = 300, won 100 -> 1/3; B 3 x 150 (months written 2025年1月 ...) = 450, won 200 -> 4/9.
Back-test as of 2025-01-31 (2 months back): closed then only C1 (won): every rate 1/1 = 1.0. Open then:
  C2 (200, closes 02-19, step unknown -> first), C3, C4 (no amount, February), C5 (400, qualified by then,
  closes 03-01). Expected: February 200, March 400; won since: February 200 (C2), March 0.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from crmlens import forecast, i18n, queries, store, vocab
from tests.conftest import app_test, load_fixture, serve_fixture

AS_OF = dt.date(2025, 3, 31)
STAGES = ["lead", "qualified", "proposal", "won", "lost"]


@pytest.fixture
def db(tmp_path):
    return load_fixture(tmp_path / "forecast.duckdb", "forecast")


def p(**more):
    return forecast.params(AS_OF, STAGES, list(vocab.WON_STAGES), list(vocab.LOST_STAGES), **more)


def run(db, name, params):
    return queries.run(name, params, snap=store.snapshot(db))


def test_win_rate_per_step(db):
    steps = run(db, "forecast_steps", p())
    assert [tuple(r) for r in steps[["stage_key", "n_closed", "n_won"]].itertuples(index=False)] == [
        ("lead", 5, 2), ("qualified", 3, 2), ("proposal", 3, 2)]
    assert list(steps["rate_win"]) == [pytest.approx(0.4), pytest.approx(2 / 3), pytest.approx(2 / 3)]


def test_each_open_deal_its_chance_and_month(db):
    opps = run(db, "forecast_opportunities", p()).set_index("opportunity_id")
    assert sorted(opps.index) == ["O1", "O2", "O3", "O4"]
    assert opps.loc["O1", "rate_win"] == pytest.approx(0.4)
    assert opps.loc["O3", "rate_win"] == pytest.approx(2 / 3)
    assert bool(opps.loc["O4", "is_stage_unknown"]) and opps.loc["O4", "rate_win"] == pytest.approx(0.4)
    assert {k: str(v)[:10] for k, v in opps["expected_close_on"].items()} == {
        "O1": "2025-04-05", "O2": "2025-05-20", "O3": "2025-04-19", "O4": "2025-04-15"}


def test_months_best_case_commit_weighted_and_range(db):
    months = run(db, "forecast_months", p(commit_min=0.6))
    april, may = months.iloc[0], months.iloc[1]
    assert (str(april["month"])[:10], april["n_open"], april["amt_best_case"], april["amt_commit"]) == \
        ("2025-04-01", 3, 2100, 600)
    assert april["amt_weighted"] == pytest.approx(1000)
    assert april["amt_sd"] == pytest.approx(380_000 ** 0.5)
    assert april["amt_high"] == pytest.approx(1000 + forecast.Z * 380_000 ** 0.5)
    assert april["amt_low"] == 0  # 1000 - 1.96 x 616 is below 0
    assert (may["amt_best_case"], may["amt_commit"]) == (300, 300)
    assert may["amt_weighted"] == pytest.approx(200)
    assert (may["amt_low"], may["amt_high"]) == (0, pytest.approx(200 + forecast.Z * 20_000 ** 0.5))  # 200 - 277 < 0


def test_per_owner_rates_only_when_enough_closed(db):
    # A closed C1, C3, C5 (3 from the first step, 1 won): with min_closed 3 A's own 1/3 replaces the pooled 0.4.
    opps = run(db, "forecast_opportunities", p(rate_by="owner", min_closed=3)).set_index("opportunity_id")
    assert (opps.loc["O1", "rate_source"], opps.loc["O1", "rate_win"]) == ("owner", pytest.approx(1 / 3))
    # B closed only C2 and C4 from the first step: too few, pooled.
    assert (opps.loc["O4", "rate_source"], opps.loc["O4", "rate_win"]) == ("pooled", pytest.approx(0.4))


def test_quarters_attainment_and_owners(db):
    snap = store.snapshot(db)
    q = forecast.quarters(snap, p())
    assert (q.won_to_date, q.weighted_rest, q.target_this) == (300, 0, 1200)
    assert q.weighted_next == pytest.approx(1200)
    assert q.attainment == pytest.approx(0.25)
    owners = forecast.by_owner(snap, p(), run(db, "forecast_opportunities", p())).set_index("owner")
    assert owners.loc["A", "amt_target"] == 300 and owners.loc["A", "rate_attainment"] == pytest.approx(1 / 3)
    assert owners.loc["B", "amt_target"] == 450 and owners.loc["B", "rate_attainment"] == pytest.approx(4 / 9)


def test_targets_read_months_in_either_language(db):
    rows = run(db, "forecast_targets", {"from_month": dt.date(2025, 1, 1), "to_month": dt.date(2025, 4, 1)})
    assert len(rows) == 10 and rows["n_rows_bad_month"].iloc[0] == 0
    assert rows.loc[rows["owner"] == "B", "amt_target"].sum() == 450  # 2025年1月 .. 2025年3月
    assert rows["owner"].isna().sum() == 4  # 全部: the whole company


def test_backtest_forecast_then_against_won_since(db):
    back = forecast.backtest(store.snapshot(db), p(), months_back=2)
    assert back.attrs["as_of"] == dt.date(2025, 1, 31)
    assert [(str(m)[:7], w, a) for m, w, a in back[["month", "amt_weighted", "amt_won"]].itertuples(index=False)] == [
        ("2025-02", 200, 200), ("2025-03", 400, 0)]


def test_metrics_json_has_forecast_and_future_value(db):
    from crmlens.cli import cli
    result = CliRunner().invoke(cli, ["metrics", "--json", "--db", str(db), "--start", "2025-01-01", "--end", "2025-03-31"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {k: out["forecast"][k] for k in ("expected_won_this_quarter", "expected_won_next_quarter", "attainment")} == \
        {"expected_won_this_quarter": 300, "expected_won_next_quarter": 1200, "attainment": 0.25}
    # No orders in this fixture: the customer-base model cannot answer, and says so.
    assert out["future_value"]["params"] is None and out["future_value"]["n_alive"] is None


# --- the funnel page's Forecast tab --------------------------------------------------------------

@pytest.fixture
def forecast_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "forecast")


def test_forecast_queries_run_only_when_the_tab_is_open(forecast_env):
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English")
    assert not at.exception
    assert "Expected won this quarter" not in {m.label for m in at.metric}


def test_forecast_tab_in_english_and_chinese(forecast_env):
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast")
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Expected won this quarter"], shown["Expected won next quarter"],
            shown["Expected attainment"], shown["Pace (won / target so far)"]) == ("300", "1,200", "25%", "25%")
    assert any("Forecast as of 2024-12-31" in c.value for c in at.caption)
    zh = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="中文", funnel_tab="预测")
    assert not zh.exception
    shown = {m.label: m.value for m in zh.metric}
    assert shown["本季度预期赢单额"] == "300" and shown["达成率（预期 / 目标）"] == "25%"


def test_backtest_months_and_commit_are_settings_in_the_address(forecast_env):
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast",
                  forecast_backtest_months="2", forecast_commit_pct="60")
    assert not at.exception
    assert any("Forecast as of 2025-01-31 for the months up to 2025-03-31: 600 expected, 200 won." in c.value
               for c in at.caption)


def test_actuals_query_counts_won_deals_by_close_month(db):
    """Won in (2024-12-31, 2025-04-30]: C1 100 (January, A), C2 200 (February, B), O4 500 (April, B)."""
    rows = run(db, "forecast_actuals", {"from": dt.date(2024, 12, 31), "to": dt.date(2025, 4, 30),
                                        "won_stages": list(vocab.WON_STAGES), "lost_stages": list(vocab.LOST_STAGES),
                                        "owner": []})
    assert [(str(m)[:7], o, n, a) for m, o, n, a in rows.itertuples(index=False)] == [
        ("2025-01", "A", 1, 100), ("2025-02", "B", 1, 200), ("2025-04", "B", 1, 500)]


def test_per_owner_rates_chosen_in_the_address(forecast_env):
    # A's own first-step rate (1/3 from C1, C3, C5) with 3 closed deals enough: O1 0.33 x 1000 + O3 2/3 x 600
    # (A has 2 closed from step 2: pooled) + O4 0.4 x 500 = 333 + 400 + 200 = 933 in April; May 200 -> 1,133.
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast",
                  forecast_by="Per owner", forecast_min_closed="3")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Expected won next quarter"] == "1,133"


def test_no_open_pipeline_and_no_targets_give_zero_and_none_not_an_error(db):
    """As of 2024-12-31 nothing exists yet: nothing won, nothing open, no targets for Q4 2024."""
    q = forecast.quarters(store.snapshot(db), forecast.params(dt.date(2024, 12, 31), STAGES, list(vocab.WON_STAGES),
                                                              list(vocab.LOST_STAGES)))
    assert (q.won_to_date, q.weighted_rest, q.weighted_next, q.target_this, q.attainment) == (0, 0, 0, None, None)


def test_targets_for_months_ahead_do_not_move_the_default_period(db):
    """Targets run to 2025-04 (全部); the newest activity is O3's creation, 2025-03-15 (data_span dates
    opportunities by their created date; the stage history ends 2025-03-01)."""
    from crmlens import period
    assert period.latest_data_date(store.snapshot(db)) == dt.date(2025, 3, 15)


def test_per_product_rates(tmp_path):
    """The fixture with a product: X on C1, C3, C5 and O1 (A's deals), Y on the others. Product X closed 3 from the
    first step (1 won): with min_closed 3, O1 takes X's 1/3; O4 (product Y: C2, C4 closed, too few) the pooled 0.4."""
    import shutil
    folder = tmp_path / "fixture"
    shutil.copytree(load_fixture.__globals__["FIXTURES"] / "forecast", folder)
    lines = (folder / "opportunities.csv").read_text().splitlines()
    lines = [lines[0] + ",product"] + [line + ("," + ("X" if line.split(",")[0] in ("C1", "C3", "C5", "O1") else "Y"))
                                       for line in lines[1:]]
    (folder / "opportunities.csv").write_text("\n".join(lines) + "\n")
    from crmlens import ingest
    db = tmp_path / "p.duckdb"
    ingest.load_files(sorted(folder.glob("*.csv")), db=db)
    opps = run(db, "forecast_opportunities", p(rate_by="product", min_closed=3)).set_index("opportunity_id")
    assert (opps.loc["O1", "rate_source"], opps.loc["O1", "rate_win"]) == ("product", pytest.approx(1 / 3))
    assert (opps.loc["O4", "rate_source"], opps.loc["O4", "rate_win"]) == ("pooled", pytest.approx(0.4))
    with pytest.raises(ValueError):
        p(rate_by="region")


def test_undated_deals_add_no_cycle_and_no_closed_then(tmp_path):
    """The fixture and three deals without some date:
      W1 won  A 300, no created date, closed 02-15: dated by its close date (02-15), so it adds no sales cycle
      W2 lost B  -   created 01-02, no close date, no history: closed on a day nobody knows
      U1 lead A 800, no date at all: in no pipeline
    The opportunities reach 04-15 (O4's close), after the as-of day 03-31, so W2 is neither closed nor open on
    03-31 nor on 01-31: it is in no win rate.
    As of 03-31: closed C1, C2, W1 won, C3, C4, C5 lost: step 1 3/6 = 0.5; steps 2, 3 C1, C2, W1, C5 = 3/4.
      Median cycle of C1 30, C2 40 = 35 (W1's 0 days left out): O1 03-01 + 35 = 04-05, O3 03-15 + 35 = 04-19.
      Won this quarter: C1 100 + C2 200 + W1 300 = 600. Undated: U1 open (800), W2 closed without a day.
    Back-test as of 01-31: closed then C1 only (W2 is not "lost then"): rates 1.0, February C2 200, March C5 400;
      won since: February C2 200 + W1 300 = 500, March 0."""
    db = _forecast_with_undated_deals(tmp_path)
    steps = run(db, "forecast_steps", p())
    assert [tuple(r) for r in steps[["stage_key", "n_closed", "n_won"]].itertuples(index=False)] == [
        ("lead", 6, 3), ("qualified", 4, 3), ("proposal", 4, 3)]
    opps = run(db, "forecast_opportunities", p()).set_index("opportunity_id")
    assert sorted(opps.index) == ["O1", "O2", "O3", "O4"]
    assert {k: str(v)[:10] for k, v in opps["expected_close_on"].items()} == {
        "O1": "2025-04-05", "O2": "2025-05-20", "O3": "2025-04-19", "O4": "2025-04-15"}
    assert forecast.quarters(store.snapshot(db), p()).won_to_date == 600
    undated = run(db, "forecast_undated", forecast.undated_params(p())).iloc[0]
    assert (undated["n_undated_open"], undated["amt_undated_open"], undated["n_closed_undated"]) == (1, 800, 1)
    back = forecast.backtest(store.snapshot(db), p(), months_back=2)
    assert [(str(m)[:7], w, a) for m, w, a in back[["month", "amt_weighted", "amt_won"]].itertuples(index=False)] == [
        ("2025-02", 200, 500), ("2025-03", 400, 0)]


def test_funnel_and_forecast_share_closed_on_and_cycle(tmp_path):
    """One "closed on" (opportunity_closed_on) and one cycle rule (opportunity_cycle_days): a deal without a close
    date closes on the day its history entered a won or lost stage; one dated by its close date has no cycle."""
    snap = store.snapshot(load_fixture(tmp_path / "f.duckdb", "forecast"))
    df = snap.query("select opportunity_id, opportunity_closed_on(close_date, history, ['won'], ['lost']) as closed_on, "
                    "opportunity_cycle_days(dated_by, effective_created, opportunity_closed_on(close_date, history, "
                    "['won'], ['lost'])) as days from mart_opportunities where opportunity_id in ('C1', 'C5', 'O1') "
                    "order by 1")
    assert df["opportunity_id"].tolist() == ["C1", "C5", "O1"]
    assert [str(d)[:10] for d in df["closed_on"][:2]] == ["2025-01-31", "2025-03-01"] and pd.isna(df["closed_on"][2])
    assert df["days"][:2].tolist() == [30, 57] and pd.isna(df["days"][2])  # C5: created 01-03, closed 03-01
    no_close = snap.query("select opportunity_closed_on(null, [{'stage_key': 'proposal', 'entered_at': "
                          "timestamp '2025-02-10'}, {'stage_key': 'lost', 'entered_at': timestamp '2025-03-01'}], "
                          "['won'], ['lost']) as d, opportunity_cycle_days('close', date '2025-02-15', "
                          "date '2025-02-15') as c, opportunity_status('won', ['won'], ['lost']) as s")
    assert (str(no_close["d"].iloc[0])[:10], no_close["c"].isna().iloc[0], no_close["s"].iloc[0]) == ("2025-03-01", True, "won")


def test_forecast_tab_runs_actuals_and_targets_once_through_the_cache(forecast_env, monkeypatch):
    """forecast_actuals and forecast_targets run once on the first view (the back-test's actuals, 3 months back from
    03-31, are this quarter's: won after 2024-12-31, the same query from the cache; before, the quarter, owner
    and pace figures and the back-test ran it four times uncached), and nothing again on a rerun (nor data_span,
    which the funnel page ran uncached on every render to know whether the period covers all the data)."""
    calls = []
    real_run = queries.run
    monkeypatch.setattr(queries, "run", lambda name, *a, **k: (calls.append(name), real_run(name, *a, **k))[1])
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast")
    assert not at.exception
    assert (calls.count("forecast_actuals"), calls.count("forecast_targets")) == (1, 1)
    calls.clear()
    at.run()
    assert not at.exception
    assert (calls.count("forecast_actuals"), calls.count("forecast_targets"), calls.count("forecast_months")) == (0, 0, 0)
    assert calls.count("data_span") == 0  # funnel.covers_all_data reads it through the cache too


@pytest.mark.parametrize(("min_closed", "note"), [
    ("3", None),  # steps closed 5, 3, 3: none under 3
    ("4", "Some steps have fewer than 4 closed deals behind their win rate: read those rates as rough."),
])
def test_thin_history_note_follows_the_setting(forecast_env, min_closed, note):
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast",
                  forecast_min_closed=min_closed)
    assert not at.exception
    thin = [c.value for c in at.caption if c.value.startswith("Some steps have fewer than")]
    assert thin == ([note] if note else [])


def test_forecast_tab_says_how_many_deals_have_no_date(monkeypatch, tmp_path):
    """The fixture with W1, W2, U1 (test_undated_deals_add_no_cycle_and_no_closed_then): U1, open, 800, no date."""
    db = _forecast_with_undated_deals(tmp_path)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test("funnel", timeout=90, period=["2025-01-01", "2025-03-31"], lang="English", funnel_tab="Forecast")
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert ("1 open opportunities have no date at all (no creation, stage or close date), worth 800: no day can place "
            "them in a pipeline, so they are not in the forecast.") in captions
    assert any(c.startswith("1 won or lost opportunities have no close date and no stage history") for c in captions)


def test_target_words_for_the_whole_company_come_from_vocab(tmp_path):
    """stg_targets reads its "everyone" words from the vocabulary table (crmlens.vocab.EVERYONE_OWNERS), like every
    other word list: "合计", " Total " and an empty owner mean the whole company; "Totals" is an owner."""
    (tmp_path / "targets.csv").write_text("owner,month,target\n合计,2025-01,10\n Total ,2025-01,20\n,2025-01,30\n"
                                          "Totals,2025-01,40\n", encoding="utf-8")
    db = tmp_path / "t.duckdb"
    from crmlens import ingest
    ingest.load_files([tmp_path / "targets.csv"], db=db)
    snap = store.snapshot(db)
    assert set(vocab.EVERYONE_OWNERS) <= set(snap.query("select word from vocabulary where kind = 'everyone_owner'")["word"])
    rows = snap.query("select owner_key, amount from stg_targets order by amount")
    assert rows["owner_key"].isna().tolist() == [True, True, True, False] and rows["owner_key"].iloc[3] == "Totals"


def _forecast_with_undated_deals(tmp_path):
    """The forecast fixture plus W1 (won, no created day, closed 2025-02-15), W2 (lost, no amount, no close day) and
    U1 (open, 800, no day)."""
    import shutil

    from crmlens import ingest
    folder = tmp_path / "fixture"
    shutil.copytree(load_fixture.__globals__["FIXTURES"] / "forecast", folder)
    with (folder / "opportunities.csv").open("a") as f:
        f.write("W1,won,,300,A,2025-02-15\nW2,lost,2025-01-02,,B,\nU1,lead,,800,A,\n")
    db = tmp_path / "u.duckdb"
    ingest.load_files(sorted(folder.glob("*.csv")), db=db)
    return db


@pytest.mark.parametrize("lang, labels", [("en", ["2026-11", "2026-12", "2027-01"]),
                                          ("zh", ["2026年11月", "2026年12月", "2027年1月"])])
def test_the_month_charts_put_one_mark_under_each_months_own_name(lang, labels):
    """Plotly read the English "2026-11" as a date: January's bar sat under a tick "2026-12-31" and the pace chart's
    quarter target was reached on its last month's first day. Each month is a category named as the tables name it."""
    from crmlens.charts import forecast as forecast_charts

    months = pd.to_datetime(["2026-11-01", "2026-12-01", "2027-01-01"])
    money = {c: [1.0, 2.0, 3.0] for c in ("amt_best_case", "amt_commit", "amt_weighted", "amt_high", "amt_low",
                                          "amt_won", "amt_target_cum", "amt_won_cum", "amt_expected_cum")}
    df = pd.DataFrame({"month": months, **money})
    t = functools.partial(i18n.translate, lang)
    for chart in (forecast_charts.months, forecast_charts.backtest, forecast_charts.pace):
        fig = chart(df, t, lang)
        assert fig.layout.xaxis.type == "category" and not fig.layout.xaxis.tickformatstops, chart.__name__
        assert all(list(trace.x) == labels for trace in fig.data), chart.__name__
