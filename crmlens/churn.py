"""Churn and retention: the settings, which churn definition applies, survival statistics and the what-if.

Every number about customers comes from queries/churn_*.sql. What is here works on what those
queries return: the choice of definition from the loaded columns, Kaplan-Meier curves and the
log-rank test on the compact (group, days, lost, count) frame of churn_survival, a chi-square
test per attribute on the churn_drivers counts, and the what-if arithmetic.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from crmlens import fmt, queries, store, survival
from crmlens import margin as margins

# Settings (all changeable on the page and kept in the URL). The churn rule is the one in
# DOMAIN.md: lost after max(churn_days, churn_multiplier x the customer's median gap) days
# without an order.
CHURN_DAYS = 90
CHURN_MULTIPLIER = 3.0
GRAIN = "month"
GRAINS = ("month", "quarter")
DEFINITIONS = ("auto", "orders", "explicit")
SURVIVAL_GROUPS = ("none", "segment", "channel", "region", "owner", "contract", "complaint")
COHORT_MODES = ("in", "or_later")
AT_RISK_SORTS = ("value", "score", "days", "last_order")
RISK_SORTS = ("expected", "probability", "value", "tenure")  # subscribers (explicit churn data)
RISK_HORIZON_MONTHS = 3
PAGE_SIZE = 25
DOWNLOAD_ROWS = 10_000  # the at-risk CSV holds at most this many customers, highest value first
MAX_LEVELS = 30  # an attribute with more distinct values (ids, amounts) is not a driver
WHATIF_POINTS = 5.0
DEFAULT_MARGIN = margins.FALLBACK  # used when orders carry no cost; one setting with the loyalty CLV (crmlens.margin)
CONFIDENCE = survival.CONFIDENCE
DAYS_PER_MONTH = 30.4375
AT_RISK_TICKS_MONTHS = (0, 3, 6, 12, 18, 24, 36)


def available_definitions(source: pd.Series) -> list[str]:
    """'explicit' when customers carry a churned flag or a churn date; 'orders' when there are orders."""
    found = []
    if source["n_churn_flag"] > 0 or source["n_churn_date"] > 0:
        found.append("explicit")
    if source["n_orders"] > 0:
        found.append("orders")
    return found


def choose_definition(source: pd.Series, wanted: str = "auto") -> str | None:
    """The definition the page uses: the one asked for if its data is there, else explicit data first."""
    found = available_definitions(source)
    if wanted in found:
        return wanted
    return found[0] if found else None


# Survival by complaint history starts the clock this many days after the first order (a landmark), counting
# complaints up to it: a setting on the page (churn_landmark), see queries/churn_survival.sql.
LANDMARK_DAYS = 90


def query_params(start: dt.date, end: dt.date, definition: str, churn_days: int = CHURN_DAYS,
                 churn_multiplier: float = CHURN_MULTIPLIER, segment=(), region=(), channel=(), owner=(),
                 **more) -> dict:
    """The parameters every churn query shares (queries.bind passes each query what it uses)."""
    return {"start": start, "end": end, "definition": definition, "churn_days": int(churn_days),
            "churn_multiplier": float(churn_multiplier), "segment": list(segment), "region": list(region),
            "channel": list(channel), "owner": list(owner), "max_levels": MAX_LEVELS,
            "landmark_days": LANDMARK_DAYS, "margin_fallback": margins.FALLBACK, **more}


# --- Kaplan-Meier -------------------------------------------------------------------------

def kaplan_meier(days: np.ndarray, lost: np.ndarray, counts: np.ndarray, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Kaplan-Meier survival on (days, lost?, how many) rows, with Greenwood bands (crmlens.survival).

    Returns one row per time with a loss, plus t = 0: months, n_days, survival, lower, upper, n_at_risk, n_lost.
    """
    return survival_curve(survival.fit(days, lost, counts), confidence)


def survival_curve(sf, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """kaplan_meier's frame from a fitted curve (survival.fit / survival.fit_counts; None: no event, flat at 1)."""
    if sf is None:
        curve = pd.DataFrame(columns=["n_days", "survival", "lower", "upper", "n_at_risk", "n_lost"], dtype=float)
        n_total = 0.0
    else:
        lower, upper = survival.band(sf, confidence)
        curve = pd.DataFrame({"n_days": np.asarray(sf.surv_times, float), "survival": np.asarray(sf.surv_prob, float),
                              "lower": lower, "upper": upper,
                              "n_at_risk": np.asarray(sf.n_risk, float), "n_lost": np.asarray(sf.n_events, float)})
        n_total = float(np.sum(sf.freq_weights)) if getattr(sf, "freq_weights", None) is not None else float(sf.n_risk[0])
    start = pd.DataFrame({"n_days": [0.0], "survival": [1.0], "lower": [1.0], "upper": [1.0],
                          "n_at_risk": [n_total], "n_lost": [0.0]})
    curve = pd.concat([start, curve[curve["n_days"] > 0]], ignore_index=True) if len(curve) else start
    curve["months"] = curve["n_days"] / DAYS_PER_MONTH
    return curve


def survival_curves(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One Kaplan-Meier curve per group of the churn_survival frame, largest group first."""
    sizes = frame.groupby("grp")["n_customers"].sum().sort_values(ascending=False)
    return {grp: kaplan_meier(g["n_days"], g["is_lost"], g["n_customers"])
            for grp in sizes.index for g in [frame[frame["grp"] == grp]]}


def survival_table(frame: pd.DataFrame, curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per group: customers, lost, median lifetime (months; NaN = not reached) and survival at 12 months."""
    rows = []
    for grp, curve in curves.items():
        g = frame[frame["grp"] == grp]
        median = median_lifetime_days(curve)
        at_12 = curve.loc[curve["months"] <= 12, "survival"]
        observed_12 = curve["months"].max() >= 12
        rows.append({"grp": grp, "n_customers": int(g["n_customers"].sum()),
                     "n_lost": int(g.loc[g["is_lost"], "n_customers"].sum()),
                     "median_months": median / DAYS_PER_MONTH if median is not None else float("nan"),
                     "survival_12m": float(at_12.iloc[-1]) if observed_12 and len(at_12) else float("nan")})
    return pd.DataFrame(rows, columns=["grp", "n_customers", "n_lost", "median_months", "survival_12m"])


def median_lifetime_days(curve: pd.DataFrame) -> float | None:
    """The first time survival falls to 50% or below (None: it never does in the data)."""
    below = curve.loc[curve["survival"] <= 0.5, "n_days"]
    return float(below.iloc[0]) if len(below) else None


def at_risk_counts(frame: pd.DataFrame, ticks_months=AT_RISK_TICKS_MONTHS) -> pd.DataFrame:
    """Customers still observed (not lost, not yet censored) at each tick, per group."""
    rows = []
    for grp, g in frame.groupby("grp", sort=True):
        for m in ticks_months:
            rows.append({"grp": grp, "months": m,
                         "n_at_risk": int(g.loc[g["n_days"] >= m * DAYS_PER_MONTH, "n_customers"].sum())})
    return pd.DataFrame(rows, columns=["grp", "months", "n_at_risk"])


def leave_chances(frame: pd.DataFrame, curves: dict[str, pd.DataFrame],
                  horizon_months: int = RISK_HORIZON_MONTHS) -> pd.DataFrame:
    """Per group and whole month of tenure m: the chance that a customer still there after m months
    leaves within the horizon, 1 - S(m + h) / S(m), on the group's Kaplan-Meier curve (`frame` is the
    churn_survival input of `curves`). Months run as far as the group's longest lifetime still covers
    m + h; the query carries the last chance on for longer tenures."""
    rows = []
    for grp, curve in curves.items():
        days, surv = curve["n_days"].to_numpy(), curve["survival"].to_numpy()
        followed = round(frame.loc[frame["grp"] == grp, "n_days"].max() / DAYS_PER_MONTH)

        def survival_at(months: int) -> float:  # days as churn_survival counts them: tenure x 30.4375, half up
            return float(surv[np.searchsorted(days, math.floor(months * DAYS_PER_MONTH + 0.5), side="right") - 1])

        for m in range(0, max(followed - horizon_months, 0) + 1):
            before = survival_at(m)
            rows.append({"grp": grp, "tenure_month": m,
                         "p_leave": 1 - survival_at(m + horizon_months) / before if before > 0 else float("nan")})
    return pd.DataFrame(rows, columns=["grp", "tenure_month", "p_leave"])


def risk_params(chances: pd.DataFrame) -> dict:
    """The leave_chances table as the three lists churn_subscription_risk takes."""
    return {"risk_groups": chances["grp"].astype(str).tolist(), "risk_months": chances["tenure_month"].astype(int).tolist(),
            "risk_probs": chances["p_leave"].astype(float).tolist()}


def logrank(frame: pd.DataFrame) -> dict | None:
    """Log-rank test that the groups share one survival curve, on (grp, n_days, is_lost, n_customers);
    `verdict` (survival.verdict: too few to tell when a group has fewer than survival.MIN_GROUP customers) and
    `differ` (the verdict is 'real')."""
    f = frame.dropna(subset=["grp"])
    counts = pd.DataFrame({"grp": f["grp"], "t": f["n_days"],
                           "n_event": np.where(f["is_lost"], f["n_customers"], 0),
                           "n_censored": np.where(f["is_lost"], 0, f["n_customers"])})
    test = survival.logrank(counts)
    if test is None:
        return None
    verdict = survival.verdict(test["p_value"], counts.groupby("grp")[["n_event", "n_censored"]].sum().sum(axis=1))
    return {**test, "verdict": verdict, "differ": verdict == "real"}


# --- drivers ------------------------------------------------------------------------------

def attribute_tests(drivers: pd.DataFrame) -> pd.DataFrame:
    """Chi-square test per attribute: does the churn rate really differ between its values?

    With many attributes one differs by chance: p_adjusted is Holm-adjusted over the tested attributes (the
    funnel's breakdown uses the same correction, survival.holm); verdict 'differs' below survival.SIGNIFICANCE
    after adjustment, else 'chance', 'untestable' without a test."""
    rows = []
    for attribute, g in drivers.groupby("attribute", sort=False):
        table = np.column_stack([g["n_churned"], g["n_customers"] - g["n_churned"]]).astype(float)
        table = table[table.sum(axis=1) > 0]
        if len(table) < 2 or (table.sum(axis=0) == 0).any():
            p = None
        else:
            from scipy import stats  # imported here: it takes about a second, which every load would pay

            p = float(stats.chi2_contingency(table, correction=False)[1])
        spread = float(g["rate_churn"].max() - g["rate_churn"].min())
        rows.append({"attribute": attribute, "source": g["source"].iloc[0], "n_levels": len(g),
                     "spread": spread, "p_value": p})
    out = pd.DataFrame(rows, columns=["attribute", "source", "n_levels", "spread", "p_value"])
    out["p_adjusted"] = survival.holm(out["p_value"])
    out["verdict"] = np.where(out["p_adjusted"].isna(), "untestable",
                              np.where(out["p_adjusted"] < survival.SIGNIFICANCE, "differs", "chance"))
    return out.sort_values("spread", ascending=False, ignore_index=True)


# --- what-if ------------------------------------------------------------------------------

def what_if(summary: pd.Series, points: float, margin: float) -> dict:
    """What cutting the 12-month churn rate by `points` percentage points is worth over 12 months.

    customers kept = active customers x points / 100; each buys like today's average active
    customer (12-month revenue / active customers); losses are spread over the year, so a kept
    customer would have bought for half the year anyway: the gain is half a year of their
    revenue. Profit = revenue x margin.
    """
    rate = summary.get("rate_churn_12m")
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        rate = summary.get("rate_churn")
    n_active = float(summary.get("n_active") or 0)
    revenue = float(summary.get("amt_revenue_12m") or 0) if not pd.isna(summary.get("amt_revenue_12m")) else 0.0
    per_customer = revenue / n_active if n_active else 0.0
    cut = min(points / 100.0, float(rate)) if rate is not None and not pd.isna(rate) else points / 100.0
    kept = n_active * cut
    gained = kept * per_customer * 0.5
    return {"rate_churn_12m": None if rate is None or pd.isna(rate) else float(rate),
            "rate_after": None if rate is None or pd.isna(rate) else float(rate) - cut,
            "n_active": n_active, "n_kept": kept, "amt_revenue_per_customer": per_customer,
            "amt_revenue_gained": gained, "amt_profit_gained": gained * margin, "margin": margin}


# The Loyalty ladder's CLV settings the what-if's lifetime gain uses (same address keys: loyalty_<name>).
CLV_SETTINGS = ("discount_rate", "horizon_years", "marketing_cost", "risk_cost_pct")


def clv_basis_params(params: dict, margin_pct: float | None) -> dict:
    """clv_basis's parameters from the page's query parameters (period and filters) and the margin setting as typed
    (None: not typed; each order's cost, else margin.FALLBACK, decides, as on the Loyalty ladder)."""
    return {**{key: params[key] for key in ("start", "end", "churn_days", "churn_multiplier", *FILTERS)},
            **margins.params(margin_pct)}


def lifetime_basis(result: dict, definition: str, clv_row: pd.Series | None) -> pd.Series | None:
    """The yearly retention, margin a year per customer and customers the what-if's lifetime gain reckons with.

    Churn from orders: clv_row, clv_basis's row (the Loyalty ladder's basis: r = 1 - the 12-month churn rate by the
    lost rule). Churn from the customer list's flags ('explicit'): that definition's own 12-month churn rate, the
    revenue per active customer x margin and the active customers (the ladder reads orders: its CLV is another one).
    None when there is no retention, margin or customer to reckon with."""
    if definition == "orders":
        basis = clv_row
    else:
        rate = result["rate_churn_12m"]
        basis = pd.Series({"rate_retention": np.nan if rate is None else 1 - rate,
                           "amt_margin_year_per_active": result["amt_revenue_per_customer"] * result["margin"],
                           "n_active_year": result["n_active"]})
    if basis is None or pd.isna(basis["rate_retention"]) or pd.isna(basis["amt_margin_year_per_active"]) \
            or not basis["n_active_year"]:
        return None
    return basis


def lifetime_params(result: dict, basis: pd.Series, clv: dict) -> dict:
    """churn_whatif_lifetime's parameters: the yearly retention (clv_basis, the Loyalty ladder's) today and raised by
    the points cut off the churn rate, the margin a year per customer who bought in the last 365 days, the CLV
    settings."""
    before = float(basis["rate_retention"])
    return {"retention_before": before, "retention_after": min(1.0, before + result["rate_churn_12m"] - result["rate_after"]),
            "discount_rate": float(clv["discount_rate"]), "horizon_years": int(clv["horizon_years"]),
            "margin_year": float(basis["amt_margin_year_per_active"]),
            "risk_cost_pct": float(clv["risk_cost_pct"]), "marketing_cost": float(clv["marketing_cost"])}


def what_if_lifetime(result: dict, basis: pd.Series, clv: dict, snap: store.Snapshot | None = None,
                     factors: pd.Series | None = None) -> dict | None:
    """The what-if over the customers' lifetime (seed 002: the NPV of a customer's future profit at today's
    defection rate against the value after the cut), with the Loyalty ladder's CLV formula, settings and basis.

    `basis` is lifetime_basis's row: r = the yearly retention (of the customers active a year before the as-of day,
    the share still active: 1 - the 12-month churn rate), m = the margin a year per customer (from orders: per
    customer who bought in the last 365 days). Cutting churn by p points raises r by p points (at most to 100%). CLV per customer = (m x (1 - risk) - marketing) x clv_factor(r,
    discount, horizon), before and after; the gain is every such customer's CLV after minus before. So the CLV
    before the cut is the Loyalty ladder's CLV per active customer for the same period, filters and settings.
    `factors` (factor_before, factor_after, amt_clv_before, amt_clv_after) is churn_whatif_lifetime's row, run
    here when not given. None without a churn rate or a basis (lifetime_basis: nobody active a year before the as-of
    day, or nobody to apply it to).
    """
    if result["rate_churn_12m"] is None or result["rate_after"] is None or basis is None:
        return None
    params = lifetime_params(result, basis, clv)
    if factors is None:
        factors = queries.run("churn_whatif_lifetime", params, snap=snap).iloc[0]
    before, after = float(factors["amt_clv_before"]), float(factors["amt_clv_after"])
    n_customers = int(basis["n_active_year"])
    return {"rate_retention_before": params["retention_before"], "rate_retention_after": params["retention_after"],
            "amt_margin_per_customer": params["margin_year"], "n_customers": n_customers,
            "factor_before": float(factors["factor_before"]), "factor_after": float(factors["factor_after"]),
            "amt_clv_before": before, "amt_clv_after": after, "amt_profit_gained_lifetime": n_customers * (after - before)}


# --- metrics --json -----------------------------------------------------------------------

# The page's number settings as its address keeps them (key: default, lowest, highest, step); the
# loyalty and complaints pages use the same keys for the same rule.
NUMBER_SETTINGS = {"churn_days": (CHURN_DAYS, 1, 3650, 1), "churn_multiplier": (CHURN_MULTIPLIER, 0.0, 20.0, 0.5)}
FILTERS = ("segment", "region", "channel", "owner")


def headline_params(snap: store.Snapshot, start: dt.date, end: dt.date, definition: str = "auto",
                    churn_days: int = CHURN_DAYS, churn_multiplier: float = CHURN_MULTIPLIER, grain: str = GRAIN,
                    **more) -> dict | None:
    """The churn queries' parameters for the page's settings (its defaults unless given) and filters
    (segment, region, channel, owner: lists, empty = all), as crmlens.viewparams reads them from the
    page's address; `more` also takes other query parameters. None when there is no churn data."""
    definition = choose_definition(queries.run("churn_source", snap=snap).iloc[0], definition)
    if definition is None:
        return None
    return query_params(start, end, definition, churn_days, churn_multiplier, grain=grain, **more)


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> dict:
    """The churn figures for `metrics --json`, with the page's settings and filters (headline_params)."""
    params = headline_params(snap, start, end, **settings)
    if params is None:
        return {"definition": None, "periods": [], "overall_churn_rate": None, "at_risk_count": None}
    definition, grain = params["definition"], params["grain"]
    bucket = queries.run("churn_bucket", params, snap=snap)
    summary = queries.run("churn_summary", params, snap=snap).iloc[0]
    periods = [{"period": r.period_start.date().isoformat()[:7] if grain == "month" else r.period_start.date().isoformat(),
                "start": int(r.n_start), "new": int(r.n_new), "reactivated": int(r.n_reactivated),
                "lost": int(r.n_lost), "end": int(r.n_end), "churn_rate": fmt.json_value(r.rate_churn)}
               for r in bucket.itertuples()]
    return {
        "definition": definition,
        "periods": periods,
        # lost in the period / active at its start (the leaky bucket's denominator; churn_summary.sql)
        "overall_churn_rate": fmt.json_value(summary["rate_churn"]),
        "at_risk_count": fmt.json_value(summary["n_at_risk"]) if definition == "orders" else None,
    }
