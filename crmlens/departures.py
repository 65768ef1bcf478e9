"""A departing salesperson's book (客户随着销售员的流失而流失, seed 001): settings, survival and headline.

queries/departures*.sql find who left (marked in the team list, gone from the customer list at a load, or
silent for N days), what they held and what became of it; here: defaults, parameters, the Kaplan-Meier
curves and log-rank test from the departure day (crmlens.survival), and `metrics --json`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from crmlens import churn, fmt, queries, store, survival

INACTIVE_DAYS = 60   # an owner with no activity and no new opportunity for this many days has left
WINDOW_DAYS = 180    # their customers' churn is counted over this many days after the departure
SETTING_RANGES = {"departure_inactive_days": (INACTIVE_DAYS, 14, 730, 1), "departure_window_days": (WINDOW_DAYS, 30, 730, 30)}
GROUPS = ("held", "stayed")
HOW = ("marked", "list", "inactive")


def params(end: dt.date, inactive_days: int = INACTIVE_DAYS, window_days: int = WINDOW_DAYS,
           churn_days: int = churn.CHURN_DAYS, churn_multiplier: float = churn.CHURN_MULTIPLIER,
           departed_owner: str = "") -> dict:
    return {"end": end, "inactive_days": int(inactive_days), "window_days": int(window_days),
            "churn_days": int(churn_days), "churn_multiplier": float(churn_multiplier),
            "departed_owner": departed_owner or ""}


def curves(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier curve per group ('held', 'stayed') of departures_survival (t, n_event, n_censored)."""
    out = {}
    for grp in GROUPS:
        g = frame[frame["grp"] == grp]
        if g["n_event"].sum() + g["n_censored"].sum() == 0:
            continue
        out[grp] = churn.survival_curve(survival.fit_counts(g))
    return out


def logrank(frame: pd.DataFrame) -> dict:
    """Log-rank test that the departed owner's customers and the others share one curve (p_value None: no test
    could be made), with its verdict (survival.verdict on the customers of each group: too few to tell under
    survival.MIN_GROUP)."""
    test = survival.logrank(frame, "grp")
    sizes = [frame.loc[frame["grp"] == g, ["n_event", "n_censored"]].to_numpy().sum() for g in GROUPS]
    return {**(test or {"p_value": None}), "verdict": survival.verdict(test["p_value"] if test else None, sizes)}


def headline(snap: store.Snapshot, end: dt.date, **settings) -> list[dict]:
    """`metrics --json` departures: one {owner, left_on, customers, revenue_share, churn_after,
    churn_comparable} per departure found."""
    df = queries.run("departures", params(end, **settings), snap=snap)
    return [{"owner": r.owner, "left_on": fmt.json_value(r.left_on), "customers": int(r.n_customers),
             "revenue_share": fmt.json_value(r.share_revenue), "churn_after": fmt.json_value(r.rate_churn_after),
             "churn_comparable": fmt.json_value(r.rate_churn_comparable)}
            for r in df.itertuples(index=False)]
