"""Follow-up coverage (回访): settings, the payoff tests and the headline figures.

Seed 003: nearly 50% of a car dealer's customers said nobody called after a service, about 20% were called
every time. Every number is SQL (queries/followup_*.sql over stg_activities); here: the defaults, the
parameter dict, the significance tests of the payoff (followed up against not), and `metrics --json`.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from crmlens import churn, fmt, funnel, queries, store, survival, vocab

FOLLOWUP_DAYS = 7      # a record counts as followed up when an activity comes within this many days
OUTCOME_DAYS = 180     # payoff: churn, repeat purchase and satisfaction judged this many days after the window
WORKLIST_ROWS = 500    # the work list shows this many customers (the download holds all)
EXPORT_ROWS = 100_000
SETTING_RANGES = {"followup_days": (FOLLOWUP_DAYS, 1, 365, 1), "followup_outcome_days": (OUTCOME_DAYS, 30, 1095, 30)}
KINDS = ("order", "complaint", "won_deal")
GROUPS = ("followed", "not_followed")


def params(start: dt.date, end: dt.date, followup_days: int = FOLLOWUP_DAYS, outcome_days: int = OUTCOME_DAYS,
           owner=(), churn_days: int = churn.CHURN_DAYS, churn_multiplier: float = churn.CHURN_MULTIPLIER,
           limit: int = WORKLIST_ROWS, won_stages=vocab.WON_STAGES, lost_stages=vocab.LOST_STAGES) -> dict:
    """The follow-up queries' parameters; won_stages, lost_stages: the funnel's stage settings (stage_lists; by
    default the known closing stage names, stg_opportunities.status's rule)."""
    return {"start": start, "end": end, "followup_days": int(followup_days), "outcome_days": int(outcome_days),
            "owner": list(owner), "churn_days": int(churn_days), "churn_multiplier": float(churn_multiplier),
            "limit": int(limit), "won_stages": list(won_stages), "lost_stages": list(lost_stages)}


def stage_lists(stage_vocab: pd.DataFrame) -> dict:
    """{won_stages, lost_stages}: the funnel's proposed stage settings (crmlens.funnel.propose) on funnel_stage_vocab,
    a stage marked both counting as lost as on the funnel page: which deals are won deals to follow up."""
    _, won, lost = funnel.propose(stage_vocab)
    return {"won_stages": [k for k in won if k not in lost], "lost_stages": list(lost)}


def payoff_tests(payoff: pd.DataFrame) -> dict[str, float | None]:
    """p-values of followed against not followed: churn and repeat purchase (chi-square on the 2 x 2 counts,
    no continuity correction), satisfaction (Welch's t-test on the means and sample variances). None when a
    group is missing or too small to test (a zero margin, fewer than two surveys)."""
    rows = payoff.set_index("grp")
    if not set(GROUPS) <= set(rows.index):
        return {"churn": None, "repeat": None, "satisfaction": None}
    a, b = rows.loc["followed"], rows.loc["not_followed"]
    from scipy import stats  # imported here: it takes about a second, which every app server would pay

    def chi2(col: str) -> float | None:
        table = [[a[col], a["n_customers"] - a[col]], [b[col], b["n_customers"] - b[col]]]
        if min(sum(r) for r in table) == 0 or min(table[0][j] + table[1][j] for j in (0, 1)) == 0:
            return None
        return float(stats.chi2_contingency(table, correction=False)[1])

    def welch() -> float | None:
        if a["n_surveyed"] < 2 or b["n_surveyed"] < 2:
            return None
        va, vb = float(a["var_satisfaction"]), float(b["var_satisfaction"])
        if va + vb == 0 or math.isnan(va + vb):
            return None
        res = stats.ttest_ind_from_stats(float(a["avg_satisfaction"]), math.sqrt(va), int(a["n_surveyed"]),
                                         float(b["avg_satisfaction"]), math.sqrt(vb), int(b["n_surveyed"]),
                                         equal_var=False)
        return float(res.pvalue)

    return {"churn": chi2("n_churned"), "repeat": chi2("n_repeat"), "satisfaction": welch()}


def verdicts(payoff: pd.DataFrame) -> dict[str, tuple[str, float | None]]:
    """{measure: (survival.verdict, p)} for churn, repeat purchase and satisfaction: too few to tell when either
    group has fewer than survival.MIN_GROUP customers (surveys, for satisfaction)."""
    tests = payoff_tests(payoff)
    rows = payoff.set_index("grp")
    size = {m: [rows.loc[g, col] if g in rows.index else 0 for g in GROUPS]
            for m, col in (("churn", "n_customers"), ("repeat", "n_customers"), ("satisfaction", "n_surveyed"))}
    return {m: (survival.verdict(p, size[m]), p) for m, p in tests.items()}


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> dict:
    """`metrics --json` follow_up: coverage, median_delay_days, churn_followed, churn_not_followed (None when the
    data cannot tell: no activities, or no record whose window is over)."""
    p = params(start, end, **settings, **stage_lists(queries.run("funnel_stage_vocab", snap=snap)))
    cov = queries.run("followup_coverage", p, snap=snap)
    total = cov[cov["dim"] == "total"]
    has_activities = len(total) and int(total["n_activities"].iloc[0] or 0) > 0
    pay = queries.run("followup_payoff", p, snap=snap).set_index("grp") if has_activities else pd.DataFrame()

    def churn_of(grp: str):
        return fmt.json_value(pay.loc[grp, "rate_churn"]) if grp in pay.index else None

    row = total.iloc[0] if len(total) else None
    usable = row is not None and has_activities and row["n_events"] > 0
    return {
        "coverage": fmt.json_value(row["rate_coverage"]) if usable else None,
        "median_delay_days": fmt.json_value(row["median_delay_days"]) if usable else None,
        "churn_followed": churn_of("followed"),
        "churn_not_followed": churn_of("not_followed"),
    }
