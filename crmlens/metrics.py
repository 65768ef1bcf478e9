"""Headline figures of every view, as plain Python values (for `metrics --json`)."""

from __future__ import annotations

import datetime as dt

from crmlens import (churn, climb, complaints, departures, fmt, followup, forecast, funnel, future_value, loyalty,
                     period, queries, store)

OVERVIEW_FIELDS = (
    "n_customers", "n_active_customers", "n_new_customers", "amt_revenue",
    "n_orders", "amt_avg_order", "n_open_opportunities", "n_complaints",
    "amt_revenue_no_customer", "n_orders_no_customer",  # guest orders: in revenue and orders, no customer
)




def overview(snap: store.Snapshot, start: dt.date, end: dt.date) -> dict:
    kpis = queries.run("overview_kpis", {"start": start, "end": end}, snap=snap).set_index("period")
    current, previous = kpis.loc["current"], kpis.loc["previous"]
    out = {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "previous_period": {k: fmt.json_value(previous[k]) for k in OVERVIEW_FIELDS},
    }
    out.update({k: fmt.json_value(current[k]) for k in OVERVIEW_FIELDS})
    # Short names asked for by the metrics contract.
    out["customers"], out["orders"], out["revenue"] = out["n_customers"], out["n_orders"], out["amt_revenue"]
    return out


def collect(snap: store.Snapshot, start: dt.date | None = None, end: dt.date | None = None,
            settings: dict[str, dict] | None = None) -> dict:
    """Every view's headline figures; `settings`: each view's filters and settings as its headline takes
    them (crmlens.viewparams.for_views reads them from a page's address), default: the pages' defaults."""
    default_start, default_end = period.default_period(snap)
    start, end = start or default_start, end or default_end
    settings = settings or {}
    return {
        "data_version": snap.version,
        "data_updated_at": fmt.json_value(snap.updated_at.to_pydatetime()) if snap.updated_at is not None else None,
        "overview": overview(snap, start, end),
        "funnel": funnel.headline(snap, start, end, **settings.get("funnel", {})),
        "loyalty": loyalty.headline(snap, start, end, **settings.get("loyalty", {})),
        "churn": churn.headline(snap, start, end, **settings.get("churn", {})),
        "complaints": complaints.headline(snap, start, end, **settings.get("complaints", {})),
        "follow_up": followup.headline(snap, start, end, **settings.get("follow_up", {})),
        "departures": departures.headline(snap, end, **settings.get("departures", {})),
        "ladder_climb": climb.headline(snap, start, end, **settings.get("loyalty", {})),
        "forecast": forecast.headline(snap, start, end, **settings.get("funnel", {})),
        "future_value": future_value.headline(snap, start, end),
    }
