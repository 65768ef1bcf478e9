"""Each page's headline numbers for the default view in pandas, from the raw tables held as DataFrames.

The same figures and rules as bench/raw_sql.py (the test in tests/test_bench_raw.py checks that both equal the
page's): what a analyst's notebook would do with the exported tables. `frames(snap)` reads the raw tables (timed
apart: that is the notebook's load), `numbers(frames, page, start, end)` computes one page's figures.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bench import raw_sql
from crmlens import store

TABLES = {
    "orders": "customer_id, order_date, amount, cost, status",
    "customers": "customer_id, segment, signup_date, is_partner, referred_by",
    "opportunities": "opportunity_id, stage, created_date, customer_id, amount, close_date",
    "opportunity_stage_history": "opportunity_id, entered_at",
    "complaints": "customer_id, created_at, first_response_at, resolved_at, status",
    "surveys": "customer_id, survey_date, nps, satisfaction",
}


def frames(snap: store.Snapshot) -> dict[str, pd.DataFrame]:
    """The raw tables, the columns the pages' figures read (a missing optional column comes as NULL)."""
    out = {}
    for table, columns in TABLES.items():
        have = set(snap.columns(table)) if table in snap.tables() else set()
        if not have:
            raise ValueError(f"table {table} is missing")
        cols = ", ".join(c if c in have else f"null as {c}" for c in (c.strip() for c in columns.split(",")))
        out[table] = snap.query(f"select {cols} from {table}")
    return out


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.normalize()


def _words(series: pd.Series) -> pd.Series:
    return series.astype("object").where(series.notna(), "").astype(str).str.strip().str.lower()


def orders_ruled(f: dict, p: dict) -> pd.DataFrame:
    o = f["orders"].copy()
    o["order_date"] = _dates(o["order_date"])
    o["is_void"] = _words(o["status"]).isin(p["void_words"])
    amount = o["amount"].fillna(0)
    o["is_order"] = ~o["is_void"] & (amount > 0)
    o["revenue"] = amount.where(~o["is_void"], 0.0)
    return o


def opportunity_dates(f: dict, p: dict) -> pd.DataFrame:
    o = f["opportunities"].copy()
    h = f["opportunity_stage_history"]
    first = _dates(h["entered_at"]).groupby(h["opportunity_id"]).min().rename("first_entered")
    o = o.join(first, on="opportunity_id")
    stage = _words(o["stage"])
    o["status"] = np.select([stage.isin(p["won_words"]), stage.isin(p["lost_words"])], ["won", "lost"], "open")
    o["close_date"] = _dates(o["close_date"])
    o["counts_from"] = _dates(o["created_date"]).fillna(o[["first_entered", "close_date"]].min(axis=1))
    return o


def spells(orders: pd.DataFrame, p: dict) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Lifetimes by the default churn rule (raw_sql.SPELLS), and the as-of day."""
    end = _day(p["end"])
    days = (orders.loc[orders["is_order"] & orders["customer_id"].notna(), ["customer_id", "order_date"]]
            .drop_duplicates().sort_values(["customer_id", "order_date"]))
    as_of = min(end, days["order_date"].max()) if len(days) else end
    days = days[days["order_date"] <= as_of].copy()
    days["gap"] = days.groupby("customer_id")["order_date"].diff().dt.days
    everybody = days.loc[days["gap"] > 0, "gap"].median()
    per = days.groupby("customer_id").agg(last_order=("order_date", "max"))
    per["usual_gap"] = days[days["gap"] > 0].groupby("customer_id")["gap"].median()
    per["usual_gap"] = per["usual_gap"].fillna(everybody)
    per["n_days"] = np.maximum(p["churn_days"], np.floor(p["churn_multiplier"] * per["usual_gap"].fillna(0))).astype(int)
    d = days.join(per, on="customer_id")
    starts = d[d["gap"].isna() | (d["gap"] > d["n_days"])].copy()
    # a spell ends at the order day before the next spell's start, the last one at the customer's last order
    before_next = (starts["order_date"] - pd.to_timedelta(starts["gap"], unit="D")).groupby(starts["customer_id"]).shift(-1)
    starts["spell_end"] = before_next.fillna(starts["last_order"])
    lost_on = starts["spell_end"] + pd.to_timedelta(starts["n_days"], unit="D")
    out = pd.DataFrame({"customer_id": starts["customer_id"], "spell_start": starts["order_date"],
                        "last_order": starts["spell_end"], "usual_gap": starts["usual_gap"],
                        "is_lost": lost_on <= as_of})
    out["lost_date"] = lost_on.where(out["is_lost"])
    return out, as_of


def overview(f: dict, p: dict) -> dict:
    start, end = _day(p["start"]), _day(p["end"])
    o = orders_ruled(f, p)
    in_period = o["order_date"].between(start, end)
    first = o[o["is_order"] & o["customer_id"].notna()].groupby("customer_id")["order_date"].min().rename("first_order")
    c = f["customers"][["customer_id", "signup_date"]].assign(is_listed=True)
    c["signup_date"] = _dates(c["signup_date"])
    known = c.merge(first.reset_index(), on="customer_id", how="outer")
    known["is_listed"] = known["is_listed"].fillna(False).astype(bool)
    known = known[known["is_listed"] | known["first_order"].notna()]
    since = known[["signup_date", "first_order"]].min(axis=1)
    n_customers = int(((known["is_listed"] & known["signup_date"].isna()) | (since <= end)).sum())
    opp = opportunity_dates(f, p)
    created_ok = (opp["counts_from"] <= end) | opp["counts_from"].isna()
    closed = (opp["close_date"] <= end).where(opp["close_date"].notna(), opp["status"] != "open").astype(bool)
    k = f["complaints"]
    return {
        "n_customers": n_customers,
        "n_active_customers": int(o.loc[o["is_order"] & in_period, "customer_id"].nunique()),
        "n_new_customers": int(known["first_order"].between(start, end).sum()),
        "amt_revenue": float(o.loc[in_period, "revenue"].sum()),
        "n_orders": int((o["is_order"] & in_period).sum()),
        "n_open_opportunities": int((created_ok & ~closed).sum()),
        "n_complaints": int(_dates(k["created_at"]).between(start, end).sum()),
    }


def funnel(f: dict, p: dict) -> dict:
    o = opportunity_dates(f, p)
    o = o[o["counts_from"].between(_day(p["start"]), _day(p["end"]))]
    n = o["status"].value_counts()
    won, lost = int(n.get("won", 0)), int(n.get("lost", 0))
    return {"n_opportunities": len(o), "n_won": won, "n_lost": lost, "n_open": int(n.get("open", 0)),
            "amt_won": float(o.loc[o["status"] == "won", "amount"].sum()),
            "amt_open_pipeline": float(o.loc[o["status"] == "open", "amount"].sum()),
            "rate_win": won / (won + lost) if won + lost else None}


def churn(f: dict, p: dict) -> dict:
    start = _day(p["start"])
    s, as_of = spells(orders_ruled(f, p), p)
    from_start = (s["spell_start"] < start) & ((s["lost_date"] >= start) | s["lost_date"].isna())
    lost_in = s["lost_date"].between(start, as_of)
    active = ~s["is_lost"]
    n_start, n_lost_from_start = int(from_start.sum()), int(((s["spell_start"] < start) & lost_in).sum())
    return {"n_start": n_start, "n_lost_from_start": n_lost_from_start, "n_lost": int(lost_in.sum()),
            "rate_churn": n_lost_from_start / n_start if n_start else None, "n_active": int(active.sum()),
            "n_at_risk": int((active & ((as_of - s["last_order"]).dt.days > s["usual_gap"])).sum())}


def loyalty(f: dict, p: dict) -> dict:
    end = _day(p["end"])
    far = pd.Timestamp("1900-01-01")  # stands for "always known" / an undated survey (day 1 in the SQL)
    o = orders_ruled(f, p)
    c = f["customers"].copy()
    c["signup_date"] = _dates(c["signup_date"])
    opp = f["opportunities"]
    seen = pd.concat([
        pd.DataFrame({"customer_id": c["customer_id"], "seen": c["signup_date"].fillna(far)}),
        o[o["customer_id"].notna()].groupby("customer_id", as_index=False)["order_date"].min()
        .rename(columns={"order_date": "seen"}),
        pd.DataFrame({"customer_id": opp["customer_id"], "seen": _dates(opp["created_date"]).fillna(far)}),
    ])
    seen = seen[seen["customer_id"].notna()].groupby("customer_id")["seen"].min()
    known = seen[seen <= end].index
    placed = pd.DataFrame(index=pd.Index(known, name="customer_id"))
    placed["n_orders"] = (o[o["is_order"] & (o["order_date"] <= end) & o["customer_id"].notna()]
                          .groupby("customer_id").size())
    placed["n_orders"] = placed["n_orders"].fillna(0)
    sv = f["surveys"].copy()
    sv["day"] = _dates(sv["survey_date"]).fillna(far)
    sv = sv[sv["customer_id"].notna() & (sv["day"] <= end)]
    by_day = sv.groupby(["customer_id", "day"], as_index=False)[["satisfaction", "nps"]].mean()
    for col in ("satisfaction", "nps"):
        answered = by_day[by_day[col].notna()]
        latest = answered.loc[answered.groupby("customer_id")["day"].idxmax()].set_index("customer_id")
        fresh = (latest["day"] == far) | ((end - latest["day"]).dt.days <= p["survey_days"])
        placed[col] = latest.loc[fresh, col]
    k = f["complaints"]
    created, resolved = _dates(k["created_at"]), _dates(k["resolved_at"])
    closed = k["resolved_at"].notna() | _words(k["status"]).isin(p["closed_words"])
    is_open = k["customer_id"].notna() & (created <= end) & ((resolved > end) | ~closed)
    placed["n_open"] = k[is_open].groupby("customer_id").size()
    placed["n_open"] = placed["n_open"].fillna(0)
    r = c[c["referred_by"].notna() & (c["referred_by"] != c["customer_id"]) & c["customer_id"].isin(known)]
    placed["n_referrals"] = r.groupby("referred_by").size()
    placed["n_referrals"] = placed["n_referrals"].fillna(0)
    s, _ = spells(o, p)
    alive = s[(s["spell_start"] <= end) & (s["lost_date"].isna() | (s["lost_date"] > end))]["customer_id"].unique()
    profile = c.drop_duplicates("customer_id").set_index("customer_id")
    partner = (profile["is_partner"].fillna(False).astype(bool)
               & ~_words(profile["segment"]).where(profile["segment"].notna(), "\0").isin(p["consumer_words"]))
    placed["partner"] = partner.reindex(placed.index).fillna(False).astype(bool) & p["use_partner_flag"]
    client = placed["n_orders"] >= p["min_orders_client"]
    rung = np.select(
        [placed["partner"],
         client & ((placed["nps"] >= p["nps_advocate_min"]) | (placed["n_referrals"] >= p["min_referrals"])),
         client & ((placed["satisfaction"] >= p["satisfaction_min"]) | (placed["nps"] >= p["nps_supporter_min"]))
         & (placed["n_open"] <= p["max_unresolved"]),
         client, placed["n_orders"] >= 1],
        ["partner", "advocate", "supporter", "client", "customer"], "prospect")
    counts = pd.Series(rung).value_counts()
    lapsed = (placed["n_orders"] >= 1) & ~placed.index.isin(alive)
    out = {"n_customers": len(placed)}
    out.update({f"n_{name}": int(counts.get(name, 0))
                for name in ("prospect", "customer", "client", "supporter", "advocate", "partner")})
    out["n_lapsed"] = int(lapsed.sum())
    return out


def complaints(f: dict, p: dict) -> dict:
    start, end = _day(p["start"]), _day(p["end"])
    k = f["complaints"]
    created = pd.to_datetime(k["created_at"])
    k = k[(created >= start) & (created < end + pd.Timedelta(days=1))]
    created = pd.to_datetime(k["created_at"])
    closed = k["resolved_at"].notna() | _words(k["status"]).isin(p["closed_words"])
    o = orders_ruled(f, p)
    active = int(o.loc[o["is_order"] & o["order_date"].between(start, end), "customer_id"].nunique())
    def median(s: pd.Series) -> float | None:
        return None if s.dropna().empty else float(s.median())

    return {"n_complaints": len(k), "n_active_customers": active,
            "rate_per_100_customers": 100.0 * len(k) / active if active else None,
            "n_open": int((~closed).sum()),
            "median_hours_to_response": median((pd.to_datetime(k["first_response_at"]) - created).dt.total_seconds() / 3600),
            "median_hours_to_resolve": median((pd.to_datetime(k["resolved_at"]) - created).dt.total_seconds() / 3600)}


PAGES = {"overview": overview, "funnel": funnel, "churn": churn, "loyalty": loyalty, "complaints": complaints}


def numbers(f: dict, page: str, start: dt.date, end: dt.date) -> dict:
    out = PAGES[page](f, raw_sql.params(start, end))
    return {name: raw_sql._plain(out[name]) for name in raw_sql.FIGURES[page]}
