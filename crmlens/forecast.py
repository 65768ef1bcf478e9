"""Weighted pipeline forecast and targets (the funnel page's "Forecast" and `metrics --json`).

Every number comes from queries/forecast_*.sql (the pipeline as of a date, step win rates from the closed
history, actual wins, targets); this module picks the dates (as of, quarters, the back-test) and adds
them up into the figures sales teams know: best case / commit / weighted, attainment and pace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import pandas as pd

from crmlens import fmt, funnel, queries, store, survival

COMMIT_MIN = 0.7  # a deal this likely or more counts as "commit" (a setting)
MIN_CLOSED = survival.MIN_GROUP  # an owner's own win rate is used from this many closed deals at the step (a setting)
RANGE_LEVEL = 0.95  # the range around the weighted forecast (binomial spread, normal approximation)
BACKTEST_MONTHS = 3  # the back-test forecasts from this many months before the as-of date (a setting)
Z = NormalDist().inv_cdf(0.5 + RANGE_LEVEL / 2)


def month_dates(values) -> pd.Series:
    """A month column as Python dates (None where missing), whatever type the query gave it (an empty result
    has no dates to compare, and pandas refuses comparing datetime64 with a date)."""
    values = pd.Series(values)
    return pd.Series([pd.Timestamp(v).date() if pd.notna(v) else None for v in values], index=values.index,
                     dtype=object)


def _between(months: pd.Series, first: dt.date, end_exclusive: dt.date) -> pd.Series:
    return months.map(lambda m: m is not None and first <= m < end_exclusive).astype(bool)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(first: dt.date) -> dt.date:
    return add_months(first, 1) - dt.timedelta(days=1)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it has fewer days)."""
    first = add_months(day, -months)
    return min(first.replace(day=1) + dt.timedelta(days=day.day - 1), month_end(first))


RATE_BY = ("pooled", "owner", "product")  # whose own win rates: everyone's, or each owner's / product's when enough


def params(as_of: dt.date, stages: list[str], won: list[str], lost: list[str], owner: list[str] | None = None,
           rate_by: str = "pooled", min_closed: int = MIN_CLOSED, commit_min: float = COMMIT_MIN) -> dict:
    if rate_by not in RATE_BY:
        raise ValueError(f"rate_by must be one of {RATE_BY}, not {rate_by!r}")
    return {"as_of": as_of, "stages": list(stages), "won_stages": list(won), "lost_stages": list(lost),
            "owner": list(owner or []), "rate_by": rate_by, "min_closed": int(min_closed),
            "commit_min": float(commit_min), "z": Z}


@dataclass
class Quarters:
    """This quarter (won so far + weighted for the rest) and the next (weighted), with the targets."""

    this_start: dt.date
    won_to_date: float
    weighted_rest: float
    weighted_next: float
    target_this: float | None
    elapsed_share: float  # of this quarter's days, by the as-of date

    @property
    def expected_this(self) -> float:
        return self.won_to_date + self.weighted_rest

    @property
    def attainment(self) -> float | None:
        return self.expected_this / self.target_this if self.target_this else None

    @property
    def pace(self) -> float | None:
        """Won so far against the target's share for the days gone (1 = on pace)."""
        due = (self.target_this or 0) * self.elapsed_share
        return self.won_to_date / due if due else None


Run = Callable[[str, dict], pd.DataFrame]  # (query name, params) -> frame: queries.run on a snapshot, or the page's cache


def runner(snap: store.Snapshot) -> Run:
    """queries.run on snap (the command line); the page passes crmlens.ui.run_query, cached per data version."""
    return lambda name, params: queries.run(name, params, snap=snap)


def actuals_params(p: dict, after: dt.date | None = None) -> dict:
    """forecast_actuals' parameters: won after `after` (default: the day before this quarter) up to the as-of date."""
    after = quarter_start(p["as_of"]) - dt.timedelta(days=1) if after is None else after
    return {"from": after, "to": p["as_of"], "won_stages": p["won_stages"], "lost_stages": p["lost_stages"],
            "owner": p["owner"]}


def targets_params(p: dict) -> dict:
    """forecast_targets' parameters: the three months of the as-of date's quarter."""
    start = quarter_start(p["as_of"])
    return {"from_month": start, "to_month": add_months(start, 2)}


def undated_params(p: dict) -> dict:
    return {"won_stages": p["won_stages"], "lost_stages": p["lost_stages"], "owner": p["owner"]}


def quarters(snap: store.Snapshot, p: dict, months: pd.DataFrame | None = None, won: pd.DataFrame | None = None,
             targets: pd.DataFrame | None = None) -> Quarters:
    """This quarter and the next; months, won (forecast_actuals on actuals_params) and targets (forecast_targets on
    targets_params) are run here unless given (the page runs them once, through its cache, for every figure)."""
    as_of = p["as_of"]
    start = quarter_start(as_of)
    next_start = add_months(start, 3)
    months = queries.run("forecast_months", p, snap=snap) if months is None else months
    month = month_dates(months["month"])
    rest = months.loc[_between(month, dt.date.min, next_start), "amt_weighted"].sum()
    nxt = months.loc[_between(month, next_start, add_months(next_start, 3)), "amt_weighted"].sum()
    won = queries.run("forecast_actuals", actuals_params(p), snap=snap) if won is None else won
    targets = queries.run("forecast_targets", targets_params(p), snap=snap) if targets is None else targets
    quarter_days = (next_start - start).days
    return Quarters(start, float(won["amt_won"].sum()), float(rest), float(nxt), total_target(targets, p["owner"]),
                    ((as_of - start).days + 1) / quarter_days)


def total_target(targets: pd.DataFrame, owners: list[str]) -> float | None:
    """The company's own target rows when there are (and no owner filter), else the owners' summed."""
    if targets.empty:
        return None
    company = targets[targets["owner"].isna()]
    if owners:
        chosen = targets[targets["owner"].isin(owners)]
        return float(chosen["amt_target"].sum()) if len(chosen) else None
    if len(company):
        return float(company["amt_target"].sum())
    return float(targets["amt_target"].sum())


def by_owner(snap: store.Snapshot, p: dict, opportunities: pd.DataFrame, won: pd.DataFrame | None = None,
             targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per owner this quarter: target, won to date, weighted forecast for the rest, attainment and pace (won and
    targets as in quarters)."""
    as_of = p["as_of"]
    start = quarter_start(as_of)
    next_start = add_months(start, 3)
    won = queries.run("forecast_actuals", actuals_params(p), snap=snap) if won is None else won
    targets = queries.run("forecast_targets", targets_params(p), snap=snap) if targets is None else targets
    month = month_dates(opportunities["month"])
    rest = opportunities[_between(month, dt.date.min, next_start)].groupby("owner", dropna=False)["amt_weighted"].sum()
    out = pd.concat([
        targets.dropna(subset=["owner"]).groupby("owner")["amt_target"].sum().rename("amt_target"),
        won.groupby("owner", dropna=False)["amt_won"].sum().rename("amt_won_to_date"),
        rest.rename("amt_weighted_rest"),
    ], axis=1).fillna({"amt_won_to_date": 0.0, "amt_weighted_rest": 0.0})
    out.index.name = "owner"
    out = out.reset_index()
    if p["owner"]:
        out = out[out["owner"].isin(p["owner"])]
    elapsed = ((as_of - start).days + 1) / (next_start - start).days
    out["amt_expected"] = out["amt_won_to_date"] + out["amt_weighted_rest"]
    out["rate_attainment"] = out["amt_expected"] / out["amt_target"].where(out["amt_target"] > 0)
    out["rate_pace"] = out["amt_won_to_date"] / (out["amt_target"] * elapsed).where(out["amt_target"] > 0)
    return out.sort_values("amt_expected", ascending=False, ignore_index=True)


def backtest(snap: store.Snapshot, p: dict, months_back: int = BACKTEST_MONTHS, run: Run | None = None) -> pd.DataFrame:
    """The forecast made as of `months_back` months before p's as-of date, per month up to it, against what was
    won: month, amt_weighted, amt_low, amt_high, amt_won. run: how to run a query (default runner(snap))."""
    run = run or runner(snap)
    as_of = p["as_of"]
    then = months_before(as_of, months_back)
    made = run("forecast_months", {**p, "as_of": then})
    made = made[made["month"].notna()]
    made = made[_between(month_dates(made["month"]), dt.date.min, as_of + dt.timedelta(days=1))]
    won = run("forecast_actuals", actuals_params(p, after=then))
    actual = won.groupby("month")["amt_won"].sum()
    out = made[["month", "amt_weighted", "amt_low", "amt_high"]].set_index("month").join(actual, how="outer")
    out = out.fillna({"amt_weighted": 0.0, "amt_low": 0.0, "amt_high": 0.0, "amt_won": 0.0}).reset_index()
    out.attrs["as_of"] = then
    return out.sort_values("month", ignore_index=True)


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, order: list[str] | None = None,
             won: list[str] | None = None, lost: list[str] | None = None, owner: list[str] | None = None,
             **_ignored) -> dict:
    """The `forecast` block of metrics --json (issue 19's names), as of the period end, pooled win rates."""
    order, won, lost, _ = funnel.settings_for(snap, order, won, lost)
    p = params(end, order, won, lost, owner)
    q = quarters(snap, p)
    return {
        "as_of": end.isoformat(),
        "quarter_start": q.this_start.isoformat(),
        "expected_won_this_quarter": fmt.json_value(round(q.expected_this, 2)),
        "won_this_quarter_to_date": fmt.json_value(round(q.won_to_date, 2)),
        "expected_won_next_quarter": fmt.json_value(round(q.weighted_next, 2)),
        "target_this_quarter": fmt.json_value(q.target_this),
        "attainment": fmt.json_value(None if q.attainment is None else round(q.attainment, 4)),
    }


def quarter_months(snap: store.Snapshot, p: dict, months: pd.DataFrame, won: pd.DataFrame | None = None,
                   targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """This quarter month by month, cumulative: target (the pace line), won, won + weighted forecast (won and
    targets as in quarters)."""
    start = quarter_start(p["as_of"])
    firsts = [add_months(start, i) for i in range(3)]
    won = queries.run("forecast_actuals", actuals_params(p), snap=snap) if won is None else won
    targets = queries.run("forecast_targets", targets_params(p), snap=snap) if targets is None else targets
    target_months = month_dates(targets["month"])
    by_month_target = {m: total_target(targets[target_months == m], p["owner"]) or 0.0 for m in firsts}
    won_by = won.assign(m=month_dates(won["month"])).groupby("m")["amt_won"].sum()
    fc = months[months["month"].notna()]
    fc_by = fc.assign(m=month_dates(fc["month"])).groupby("m")["amt_weighted"].sum()
    out = pd.DataFrame({"month": firsts})
    out["amt_target"] = [by_month_target[m] for m in firsts]
    out["amt_won"] = [float(won_by.get(m, 0.0)) for m in firsts]
    out["amt_weighted"] = [float(fc_by.get(m, 0.0)) for m in firsts]
    out["amt_target_cum"] = out["amt_target"].cumsum()
    out["amt_won_cum"] = out["amt_won"].cumsum().where([m <= p["as_of"] for m in firsts])
    out["amt_expected_cum"] = (out["amt_won"] + out["amt_weighted"]).cumsum()
    return out
