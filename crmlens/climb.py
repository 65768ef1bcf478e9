"""The ladder as an investment (seed 004: climbing is not always worth what it costs).

queries/loyalty_climb.sql reads the loyalty page's rungs at every month end and counts, from each rung, the
customers who stood higher within 12 months. Here: the cost-to-climb settings, the value of a climb (the
forward CLV of the rung above minus that of the rung below, from loyalty_summary with the loyalty page's CLV
settings) and whether it pays, and `metrics --json`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from crmlens import fmt, loyalty, queries, store

# What moving one customer up a rung costs (offers, visits, service), per rung climbed from: settings.
COST_DEFAULTS = {"prospect": 200, "customer": 300, "client": 500, "supporter": 800, "advocate": 2000}
COST_RANGE = (0, 1e9, 50)
TRIAGE = {"key": "keep", "risky": "watch", "marginal": "reduce_cost", "dog": "let_go"}  # seed 003, per quadrant


def cost_key(rung: str) -> str:
    return f"climb_cost_{rung}"


def worth(climbs: pd.DataFrame, summary: pd.DataFrame, costs: dict[str, float]) -> pd.DataFrame:
    """Each climb with the forward CLV per active customer on both rungs, the value of a climb (the
    difference), its cost, the net and whether it pays (net > 0). A prospect has bought nothing: its CLV is 0.
    Another rung without a CLV (no active customers, no retention to reckon with) leaves the climb's value
    unknown: is_paying is None ("cannot tell"), never a verdict."""
    rungs = summary[summary["kind"] == "rung"].set_index("key")["amt_clv_forward"]
    clv = {r: float(rungs.get(r, float("nan"))) for r in loyalty.RUNGS}
    if pd.isna(clv["prospect"]):
        clv["prospect"] = 0.0
    out = climbs.copy()
    out["amt_clv_from"] = [clv[r] for r in out["from_rung"]]
    out["amt_clv_to"] = [clv[r] for r in out["to_rung"]]
    out["amt_value_climb"] = out["amt_clv_to"] - out["amt_clv_from"]
    out["amt_cost_climb"] = [float(costs.get(r, COST_DEFAULTS[r])) for r in out["from_rung"]]
    out["amt_net_climb"] = out["amt_value_climb"] - out["amt_cost_climb"]
    out["is_paying"] = [None if pd.isna(net) else bool(net > 0) for net in out["amt_net_climb"]]
    return out


def verdict_key(is_paying: bool | None) -> str:
    return {True: "climb.pays", False: "climb.does_not_pay", None: "climb.cannot_tell"}[is_paying]


def triage(df: pd.DataFrame) -> pd.DataFrame:
    """loyalty_triage as one row per rung, a column per treatment (keep, watch, reduce_cost, let_go) and
    'no_purchase' for customers without a quadrant."""
    df = df.assign(treatment=[TRIAGE.get(q, "no_purchase") if isinstance(q, str) else "no_purchase" for q in df["quadrant"]])
    wide = df.pivot_table(index="rung", columns="treatment", values="n_customers", aggfunc="sum", fill_value=0)
    cols = [*TRIAGE.values(), "no_purchase"]
    return wide.reindex(index=[r for r in loyalty.RUNGS if r in wide.index], columns=cols, fill_value=0).astype(int)


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> list[dict]:
    """`metrics --json` ladder_climb: one {from, to, rate_12m, median_days} per rung climbed from."""
    p = loyalty.headline_params(snap, start, end, **settings)
    df = queries.run("loyalty_climb", p, snap=snap)
    return [{"from": r.from_rung, "to": r.to_rung, "rate_12m": fmt.json_value(r.rate_12m),
             "median_days": fmt.json_value(r.median_days)} for r in df.itertuples(index=False)]
