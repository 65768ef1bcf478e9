"""Loyalty ladder: default rules, the parameters the loyalty queries take, and the headline figures.

Every rule itself (which rung a customer sits on, RFM scores, ABC classes, CLV, value quadrants)
is SQL in queries/loyalty_*.sql; this module only names the defaults, builds the parameter dict,
reads what the data can and cannot tell apart, and fills in the CLV formula for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from crmlens import churn, margin, queries, store

RUNGS = ("prospect", "customer", "client", "supporter", "advocate", "partner")
UPPER_RUNGS = RUNGS[3:]  # "supporters and above": customers who like us, not only buy from us
STATES = ("new", *RUNGS, "lost")  # movement states: not yet known, a rung, or lost (no purchase for N days)
DIRECTIONS = ("climbed", "joined", "returned", "stayed", "fell", "left")
ABC_CLASSES = ("A", "B", "C")
RFM_SEGMENTS = ("champions", "loyal", "potential", "new", "at_risk", "cant_lose", "hibernating", "lost")
QUADRANTS = ("key", "risky", "marginal", "dog")
MEASURES = ("revenue", "profit")
RISK_MEASURES = ("recency", "complaints")
GRAINS = ("month", "quarter")
SORTS = ("lifetime", "revenue_period", "clv", "recency", "customer_id")
FILTERS = ("segment", "region", "channel", "owner")

# Rung rules (DOMAIN.md, "Loyalty ladder"): every one is a setting on the page and in the URL.
RULE_DEFAULTS = {
    "min_orders_client": 2,      # client: this many completed orders or more
    "satisfaction_min": 4,       # supporter: latest satisfaction (1-5) at least this ...
    "nps_supporter_min": 7,      # ... or latest NPS at least this
    "max_unresolved": 0,         # supporter: at most this many unresolved complaints
    "nps_advocate_min": 9,       # advocate: a client (min_orders_client+) whose latest NPS is at least this ...
    "min_referrals": 1,          # ... or referred at least this many customers
    "use_partner_flag": True,    # partner: customers flagged is_partner, not in a consumer segment
    "survey_days": 365,          # supporter, advocate: only surveys at most this many days old count
    "churn_days": churn.CHURN_DAYS,              # lost: the churn rule (customer_spells), as on the
    "churn_multiplier": churn.CHURN_MULTIPLIER,  # churn page: max(N days, k x the usual gap) without an order
}
VALUE_DEFAULTS = {
    "measure": "revenue",        # ABC and quadrants rank by revenue or profit
    "abc_a": 80,                 # A: customers making the first 80% of value
    "abc_b": 15,                 # B: the next 15%; C: the rest
    "top_pct": 20,               # "the top 20% of customers hold X% of revenue"
    "discount_rate": 10,         # CLV: % a year
    "horizon_years": 10,         # CLV: years counted
    "marketing_cost": 0,         # CLV: marketing cost a year per customer
    "risk_cost_pct": 0,          # CLV: risk cost, % of margin
    "margin_pct": None,          # CLV and the churn what-if: typed margin % (None: each order's cost, else
                                 #   margin.FALLBACK); one setting, address key margin.KEY
    "value_pct": 50,             # quadrants: value at or above this percentile is high
    "risk_measure": "recency",   # quadrants: risk from recency or complaints
    "risk_days": 90,             # quadrants: high risk after this many days without a purchase
    "risk_complaints": 1,        # quadrants: high risk from this many complaints in the period
}
DEFAULTS = {**RULE_DEFAULTS, **VALUE_DEFAULTS, "grain": "month"}
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


def params(start: dt.date, end: dt.date, settings: dict | None = None, filters: dict | None = None) -> dict:
    """The parameter dict every loyalty query takes (each uses the subset it needs)."""
    out = {**DEFAULTS, **(settings or {})}
    out.update({f: list((filters or {}).get(f) or []) for f in FILTERS})
    out.update(start=start, end=end)
    for key in ("min_orders_client", "max_unresolved", "min_referrals", "churn_days", "horizon_years",
                "risk_days", "risk_complaints", "survey_days"):
        out[key] = int(out[key])
    out["use_partner_flag"] = bool(out["use_partner_flag"])
    out["churn_multiplier"] = float(out["churn_multiplier"])
    out.update(margin.params(out.pop("margin_pct")))
    return out


@dataclass(frozen=True)
class Coverage:
    """What the rung rules can read in this data."""

    has_customers: bool  # a customer list is loaded
    has_partner_flags: bool
    has_referrals: bool
    has_cost: bool
    has_satisfaction: bool
    has_nps: bool
    has_complaints: bool
    knows_customers: bool  # someone to place on the ladder: a customer list, orders or opportunities with a customer

    @classmethod
    def from_row(cls, row: pd.Series) -> "Coverage":
        return cls(
            has_customers=row["n_customer_rows"] > 0,
            has_partner_flags=row["n_partner_flags"] > 0,
            has_referrals=row["n_referred"] > 0,
            has_cost=row["n_orders_with_cost"] > 0,
            has_satisfaction=row["n_surveys_satisfaction"] > 0,
            has_nps=row["n_surveys_nps"] > 0,
            has_complaints=row["n_complaints_with_customer"] > 0,
            knows_customers=(row["n_customer_rows"] > 0 or row["n_orders"] > 0
                             or row["n_opportunities_with_customer"] > 0),
        )

    def blind_spots(self) -> list[str]:
        """Message keys for the rungs this data cannot tell apart (shown, never guessed)."""
        notes = []
        if not self.has_satisfaction and not self.has_nps:
            notes.append("loyalty.blind.no_surveys_referrals" if self.has_referrals else "loyalty.blind.no_surveys")
        elif not self.has_nps and not self.has_referrals:
            notes.append("loyalty.blind.no_nps")
        if not self.has_complaints and (self.has_satisfaction or self.has_nps):
            notes.append("loyalty.blind.no_complaints")
        if not self.has_partner_flags:
            notes.append("loyalty.blind.no_partner_flag")
        return notes

    def merged_rungs(self) -> dict[str, str]:
        """Rungs whose count may hold customers of a higher rung: {shown rung: hidden rung(s) key}."""
        if not self.has_satisfaction and not self.has_nps:
            return {"client": "loyalty.merged.client_no_surveys"}
        return {}


def treatment_key(quadrant: str, risk_measure: str) -> str:
    """The message key of a quadrant's treatment (seed 003: 重点型 keep, 风险型 watch, 鸡肋型 reduce the cost to serve,
    瘦狗型 let go). When risk is recency, the high-risk quadrants hold customers who have stopped buying: their
    wording says so (win back the risky ones while they are worth it; no win-back spend on the dogs)."""
    if quadrant in ("risky", "dog") and risk_measure == "recency":
        return f"loyalty.quad.{quadrant}.treatment.recency"
    return f"loyalty.quad.{quadrant}.treatment"


def clv_formula_values(total: pd.Series, settings: dict) -> dict:
    """The numbers of the CLV formula for display, from the 'total' row of loyalty_summary."""
    return {
        "margin": total["amt_margin_year_per_active"],
        "retention": total["rate_retention"],
        "discount": settings["discount_rate"] / 100.0,
        "horizon": int(settings["horizon_years"]),
        "marketing": settings["marketing_cost"],
        "risk": settings["risk_cost_pct"] / 100.0,
        "factor": total["factor_discounted_years"],
        "years": total["years_expected"],
        "clv": total["amt_clv_forward"],
    }


# The page's number settings (address key loyalty_<name>): lowest, highest, step; defaults in DEFAULTS.
# The churn rule's two are the churn page's own keys and ranges (churn.NUMBER_SETTINGS).
SETTING_RANGES = {
    "min_orders_client": (2, 100, 1), "satisfaction_min": (1, 5, 1), "nps_supporter_min": (0, 10, 1),
    "max_unresolved": (0, 100, 1), "nps_advocate_min": (0, 10, 1), "min_referrals": (1, 100, 1),
    "survey_days": (1, 3650, 1),
    "abc_a": (1, 99, 1), "abc_b": (0, 99, 1), "top_pct": (1, 99, 1),
    "discount_rate": (0, 100, 0.5), "horizon_years": (1, 50, 1), "marketing_cost": (0, 1e9, 10), "risk_cost_pct": (0, 100, 1),
    "value_pct": (1, 99, 1), "risk_days": (1, 3650, 1), "risk_complaints": (1, 100, 1),
}
CHOICES = {"measure": MEASURES, "risk_measure": RISK_MEASURES}  # shown as words (loyalty.opt.<choice>)


def number_setting(name: str) -> tuple:
    """(default, lowest, highest, step) of a loyalty_<name> setting, all of one type as the page's input
    wants them: float when any of them is a float."""
    spec = (DEFAULTS[name], *SETTING_RANGES[name])
    cast = float if any(isinstance(x, float) for x in spec) else int
    return tuple(cast(x) for x in spec)


def headline_params(snap: store.Snapshot, start: dt.date, end: dt.date, settings: dict | None = None,
                    filters: dict | None = None) -> dict:
    """The loyalty queries' parameters for the page's settings and filters (its defaults and all customers
    unless given), as crmlens.viewparams reads them from the page's address."""
    settings = dict(settings or {})
    if settings.get("measure", "revenue") != "revenue" and \
            not Coverage.from_row(queries.run("loyalty_coverage", snap=snap).iloc[0]).has_cost:
        settings["measure"] = "revenue"  # as on the page: without order costs there is no profit to rank by
    return params(start, end, settings, filters)


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> dict:
    """`metrics --json` figures: rungs at the period end, ABC classes, top-20% share, RFM segments, with the
    page's settings and filters (headline_params)."""
    summary = queries.run("loyalty_summary", headline_params(snap, start, end, **settings), snap=snap)

    def counts(kind: str, keys: tuple[str, ...]) -> dict[str, int]:
        part = summary[summary["kind"] == kind].set_index("key")["n_customers"]
        return {k: int(part.get(k, 0)) for k in keys}

    total = summary[summary["kind"] == "total"].iloc[0]
    share = total["share_value_top"]
    return {
        "rungs": counts("rung", RUNGS),
        "abc": counts("abc", ABC_CLASSES),
        "top20_revenue_share": None if pd.isna(share) else round(float(share), 4),
        "rfm_segments": counts("rfm", RFM_SEGMENTS),
    }
