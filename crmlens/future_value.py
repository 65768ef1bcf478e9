"""Each customer's expected future value (the loyalty page's "Future value" and `metrics --json`):
the summary per customer in SQL (queries/future_value_summary.sql), BG/NBD and Gamma-Gamma fitted
on it (crmlens.customer_base), calibration ending at the period end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlens import customer_base, queries, store
from crmlens.customer_base import TooLittleData

DEFAULT_MONTHS = 12
ALIVE_MIN = 0.5  # P(alive) from which a repeat buyer counts as alive in the headline


@dataclass
class FutureValue:
    end: dt.date
    months: float
    model: customer_base.Fit
    customers: pd.DataFrame  # the summary with the predictions, one row per customer
    holdout_weeks: float  # 0 when the data stops at the calibration end

    @property
    def n_alive(self) -> int:
        """Repeat buyers with P(alive) >= ALIVE_MIN. BG/NBD gives every one-time buyer P(alive) = 1 (it cannot
        tell), so counting them would call someone who bought once, years ago, alive."""
        return int(is_alive(self.customers).sum())

    @property
    def n_one_time(self) -> int:
        return int((self.customers["n_repeat"] == 0).sum())

    @property
    def expected_value(self) -> float:
        return float(self.customers["amt_expected_value"].sum())

    @property
    def expected_purchases(self) -> float:
        return float(self.customers["n_expected"].sum())

    @property
    def expected_holdout(self) -> float | None:
        return float(self.customers["n_expected_holdout"].sum()) if self.holdout_weeks > 0 else None

    @property
    def actual_holdout(self) -> int | None:
        return int(self.customers["n_repeat_holdout"].sum()) if self.holdout_weeks > 0 else None


def compute(summary: pd.DataFrame, end: dt.date, months: float = DEFAULT_MONTHS) -> FutureValue:
    """Fit both models on the summary and predict; raises TooLittleData when the data cannot answer."""
    if summary.empty:
        raise TooLittleData("no purchases by the calibration end")
    model = customer_base.fit(summary)
    newest = pd.Timestamp(summary["newest_ordered_at"].iloc[0]).date()
    holdout_weeks = max((newest - end).days, 0) / customer_base.DAYS_PER_WEEK
    predicted = customer_base.predict(model, summary, months, holdout_weeks=holdout_weeks)
    customers = summary.merge(predicted, on="customer_id", how="left", validate="one_to_one")
    return FutureValue(end, months, model, customers, holdout_weeks)


def summary(snap: store.Snapshot, end: dt.date) -> pd.DataFrame:
    return queries.run("future_value_summary", {"end": end}, snap=snap)


def headline(snap: store.Snapshot, start: dt.date, end: dt.date) -> dict:
    """The `future_value` block of metrics --json (issue 19's names); params None when the data cannot answer.
    Calibration ends at the period end; the holdout runs from it to the newest order day."""
    try:
        fv = compute(summary(snap, end), end, 12)
    except TooLittleData as e:
        return {"params": None, "n_alive": None, "expected_value_12m": None,
                "expected_purchases_holdout": None, "actual_purchases_holdout": None, "note": str(e)}
    return {
        "params": {k: round(v, 6) for k, v in fv.model.params.items()},
        "calibration_end": end.isoformat(),
        "time_unit": "week",
        "n_customers": int(len(fv.customers)),
        "n_alive": fv.n_alive,
        "n_one_time_buyers": fv.n_one_time,
        "expected_value_12m": round(fv.expected_value, 2),
        "expected_purchases_holdout": None if fv.expected_holdout is None else round(fv.expected_holdout, 2),
        "actual_purchases_holdout": fv.actual_holdout,
        "holdout_weeks": round(fv.holdout_weeks, 2),
    }


def is_alive(customers: pd.DataFrame) -> pd.Series:
    return (customers["p_alive"] >= ALIVE_MIN) & (customers["n_repeat"] > 0)


def told_p_alive(customers: pd.DataFrame) -> pd.Series:
    """P(alive) where the model can tell: blank (NaN) for a one-time buyer, whom BG/NBD gives 1 whatever they did."""
    return customers["p_alive"].where(customers["n_repeat"] > 0)


def by_group(fv: FutureValue, groups: pd.DataFrame, column: str) -> pd.DataFrame:
    """Sums per rung or segment: customers, repeat buyers alive (P >= 0.5), expected purchases and value (the page's filters
    are in `groups`: customers not in it are left out)."""
    joined = fv.customers.merge(groups[["customer_id", column]], on="customer_id", how="inner")
    joined[column] = joined[column].fillna("")
    joined["is_alive"] = is_alive(joined)
    joined["p_alive"] = told_p_alive(joined)
    out = joined.groupby(column, dropna=False).agg(
        n_customers=("customer_id", "size"),
        n_alive=("is_alive", "sum"),
        p_alive_avg=("p_alive", "mean"),  # of the repeat buyers: blank where a group has none
        n_expected=("n_expected", "sum"),
        amt_expected_value=("amt_expected_value", "sum"),
    ).reset_index()
    return out.sort_values("amt_expected_value", ascending=False, ignore_index=True)


def top_customers(fv: FutureValue, groups: pd.DataFrame | None, limit: int = 200) -> pd.DataFrame:
    """The customers of the highest expected value first: who they are, the value and what it is made of, then the
    history the model read (so the figures the list is sorted by stay in view on a narrow screen)."""
    cols = ["customer_id", "amt_expected_value", "p_alive", "n_expected", "amt_expected_per_purchase", "n_repeat",
            "weeks_recency", "weeks_age"]
    df = fv.customers[cols].assign(p_alive=told_p_alive(fv.customers))
    if groups is not None:
        df = df.merge(groups[["customer_id", "rung", "segment"]], on="customer_id", how="inner")
        df = df[["customer_id", "rung", "segment", *cols[1:]]]
    return df.sort_values("amt_expected_value", ascending=False, ignore_index=True).head(limit)


def check_numbers(fv: FutureValue) -> bool:
    """Every prediction is a finite number (a fit that ran away shows as 'cannot answer', not as NaN)."""
    cols = ["p_alive", "n_expected", "amt_expected_value"]
    return bool(np.isfinite(fv.customers[cols].to_numpy(float)).all())
