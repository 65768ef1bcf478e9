"""The margin: one definition and one setting for the loyalty page's lifetime value and the churn page's what-if.

The rule itself is SQL (queries/model/order_margin.sql), per order line: a margin rate the reader typed x the
amount; else the amount minus the order's cost when the order has one; else FALLBACK x the amount. The
setting is one number box on both pages under one address key (KEY), so a link that sets it sets it on
both, and it is empty until typed (then each order's own cost, or FALLBACK, decides).
"""

from __future__ import annotations

import math

FALLBACK = 0.30  # the margin of an order without a cost, unless the reader types one (DOMAIN.md: a setting)
KEY = "churn_margin_pct"  # the address key both pages read (the churn page's key since before it was shared)
RANGE = (0.0, 100.0, 0.5)  # lowest, highest, step, in %
SOURCES = ("typed", "costs", "fallback")


def rate(margin_pct: float | None) -> float | None:
    """The typed margin as a share (0-1), None when nothing (or nothing usable) was typed."""
    if margin_pct is None or (isinstance(margin_pct, float) and math.isnan(margin_pct)):
        return None
    return float(margin_pct) / 100.0


def params(margin_pct: float | None) -> dict:
    """The two query parameters order_margin reads: $margin_rate (typed, or NULL) and $margin_fallback."""
    return {"margin_rate": rate(margin_pct), "margin_fallback": FALLBACK}


def source(margin_pct: float | None, has_cost: bool) -> str:
    """Where the margin comes from: 'typed', the orders' 'costs', or the 'fallback' rate."""
    if rate(margin_pct) is not None:
        return "typed"
    return "costs" if has_cost else "fallback"
