"""Sales funnel logic that is not SQL: the proposed stage order, stage date columns,
the query parameters, the significance test on aggregated counts, and the headline
figures for `metrics --json`. Every number itself comes from queries/funnel_*.sql."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

from crmlens import fmt, queries, store, survival
from crmlens.funnel_stages import KNOWN_OPEN_STAGES, normalise, propose  # noqa: F401 (the proposed order, kept apart)

MIN_GROUP_SIZE = survival.MIN_GROUP  # closed opportunities a group needs before its win rate is tested
ALPHA = survival.SIGNIFICANCE
OWNER_SHARE_LIMIT_PCT = 15.0  # an owner holding more of the revenue is flagged (customers leave with them)
BREAKDOWN_DIMENSIONS = ("owner", "source", "segment", "region", "product")
RULES = ("history", "won", "open", "lost_dates", "lost_first")
DATE_SUFFIXES = ("_date", "_at", "_time", "_on", "date", "日期", "时间")
LIST_PAGE_SIZE = 50  # opportunities per page of the page's list


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def stage_date_columns(columns: list[str], stage_keys: list[str]) -> dict[str, str]:
    """Extra opportunity columns that date a stage (engage_date -> engaging, 谈判日期 -> 谈判).

    A column matches a stage when its name without the date suffix spells the stage, or
    both share a prefix of at least 4 letters that covers all but the last 3 of the shorter
    (engage ~ engaging, qualification ~ qualified). Each stage takes at most one column.
    """
    out: dict[str, str] = {}
    for col in columns:
        lowered = col.lower()
        suffix = next((s for s in DATE_SUFFIXES if lowered.endswith(s) and len(lowered) > len(s)), None)
        if suffix is None:
            continue
        stem = re.sub(r"[\W_]+", "", lowered[: -len(suffix)])
        for key in stage_keys:
            target = re.sub(r"[\W_]+", "", key)
            if not stem or not target or key in out.values():
                continue
            shared = _common_prefix(stem, target)
            if stem == target or (shared >= 4 and shared >= min(len(stem), len(target)) - 3):
                out[col] = key
                break
    return out


def params(start: dt.date, end: dt.date, order: list[str], won: list[str], lost: list[str],
           date_columns: dict[str, str] | None = None, include_undated: bool = False, window_days: int = 0, **filters) -> dict:
    """The parameters every funnel query shares (filters default to 'all')."""
    date_columns = date_columns or {}
    return {
        "start": start, "end": end,
        "owner": list(filters.get("owner") or []), "source": list(filters.get("source") or []),
        "segment": list(filters.get("segment") or []), "region": list(filters.get("region") or []),
        "stages": list(order), "won_stages": list(won), "lost_stages": list(lost),
        "date_columns": list(date_columns), "date_stages": list(date_columns.values()),
        # opportunities with no date at all count ("undated") only in a view that covers all the data
        "include_undated": bool(include_undated),
        # the conversion window (days; 0 = none): won within this many days of creation (funnel_summary)
        "window_days": int(window_days),
    }


def significance(groups: pd.DataFrame, min_n: int = MIN_GROUP_SIZE, alpha: float = ALPHA) -> pd.DataFrame:
    """Does each group's win rate (won / closed) differ from the rest's by more than chance?

    Two-proportion z-test (pooled) of the group against all other groups together, on the
    aggregated counts of funnel_breakdown. Groups with fewer than `min_n` closed
    opportunities are 'too_small'. p-values are Holm-adjusted over the tested groups, so
    with many owners one lucky one is not flagged. Adds p_value, p_adjusted, rate_win_rest
    and verdict ('higher', 'lower', 'no_difference', 'too_small').
    """
    out = groups.copy()
    closed = (out["n_won"] + out["n_lost"]).astype(float)
    won_total, closed_total = float(out["n_won"].sum()), float(closed.sum())
    rest_won, rest_closed = won_total - out["n_won"].astype(float), closed_total - closed
    out["rate_win_rest"] = rest_won / rest_closed.where(rest_closed > 0)
    p_values = []
    for n_won, n_closed, r_won, r_closed in zip(out["n_won"].astype(float), closed, rest_won, rest_closed):
        pooled = (n_won + r_won) / (n_closed + r_closed) if n_closed + r_closed else math.nan
        if n_closed < min_n or r_closed < min_n or pooled in (0.0, 1.0) or math.isnan(pooled):
            p_values.append(math.nan)
            continue
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_closed + 1 / r_closed))
        z = (n_won / n_closed - r_won / r_closed) / se
        p_values.append(math.erfc(abs(z) / math.sqrt(2)))  # two-sided normal p-value
    out["p_value"] = p_values
    tested = out["p_value"].notna()
    out["p_adjusted"] = survival.holm(out["p_value"])
    rate = out["n_won"] / closed.where(closed > 0)
    out["verdict"] = "no_difference"
    out.loc[out["p_adjusted"] < alpha, "verdict"] = "higher"
    out.loc[(out["p_adjusted"] < alpha) & (rate < out["rate_win_rest"]), "verdict"] = "lower"
    out.loc[~tested, "verdict"] = "too_small"
    return out


def settings_for(snap: store.Snapshot, order: list[str] | None = None, won: list[str] | None = None,
                 lost: list[str] | None = None) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """The stage settings (the proposed ones unless given, e.g. from the page's address) and the stage
    date columns, with the page's rules (settings_from)."""
    vocab = queries.run("funnel_stage_vocab", snap=snap)
    columns = list(queries.run("funnel_columns", snap=snap)["column_name"])
    return settings_from(vocab, columns, order, won, lost)


def settings_from(vocab: pd.DataFrame, columns: list[str], order: list[str] | None = None,
                  won: list[str] | None = None, lost: list[str] | None = None
                  ) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """settings_for on funnel_stage_vocab's rows and funnel_columns' names: a stage marked both won and lost counts as
    lost, and date columns are looked for among the steps that are neither."""
    proposed_order, proposed_won, proposed_lost = propose(vocab)
    order = proposed_order if order is None else list(order)
    lost = proposed_lost if lost is None else list(lost)
    won = [k for k in (proposed_won if won is None else won) if k not in lost]
    funnel_steps = [s for s in order if s not in lost and s not in won]
    return order, won, lost, stage_date_columns(columns, funnel_steps)


def opening_params(query: str, vocab: pd.DataFrame, columns: list[str], span: pd.DataFrame, start: dt.date,
                   end: dt.date) -> dict:
    """The parameters the page runs `query` with as it opens on a period (pages/funnel.py: the proposed stage
    settings, no conversion window, no filter; the list shows the first step's opportunities that reached it, page
    one). crmlens.model keeps the page's rows for them at load (KEPT_VIEWS)."""
    order, won, lost, date_columns = settings_from(vocab, columns)
    p = params(start, end, order, won, lost, date_columns, covers_all_data(None, start, end, span))
    if query == "funnel_opportunities":
        first_step = next((k for k in order if k not in lost), None)
        p.update({"list_stage": first_step, "list_mode": "reached", "limit": LIST_PAGE_SIZE, "offset": 0})
    return p


# Filters as the page's address keeps them; the owner filter offers opportunity and customer owners.
FILTERS = ("owner", "source", "segment", "region")
OWNER_OPTIONS = ("opportunity_owner", "owner")  # filter_options dimensions, in this order
STAGE_KEYS = {"funnel_stages": "order", "funnel_won": "won", "funnel_lost": "lost"}  # address key -> setting


def headline_params(snap: store.Snapshot, start: dt.date, end: dt.date, order: list[str] | None = None,
                    won: list[str] | None = None, lost: list[str] | None = None, **filters) -> dict:
    """The funnel queries' parameters for the page's stage settings (the proposed ones unless given) and
    filters (owner, source, segment, region: lists, empty = all), as crmlens.viewparams reads them."""
    order, won, lost, date_columns = settings_for(snap, order, won, lost)
    return params(start, end, order, won, lost, date_columns, covers_all_data(snap, start, end), **filters)


def covers_all_data(snap: store.Snapshot | None, start: dt.date, end: dt.date, span: pd.DataFrame | None = None) -> bool:
    """Whether start..end holds every dated opportunity (the whole data): then the undated ones (no creation,
    stage or close date) are counted too, as "undated", rather than left out of every period. span: data_span's
    frame when the caller has it (the page runs it through its cache), else run here."""
    span = (queries.run("data_span", snap=snap) if span is None else span).set_index("table_name")
    first, last = span.loc["opportunities", "first_date"], span.loc["opportunities", "last_date"]
    if pd.isna(first) or pd.isna(last):
        return True  # nothing dated: every opportunity is undated, and no period can hold them
    return start <= pd.Timestamp(first).date() and end >= pd.Timestamp(last).date()


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> dict:
    """Funnel figures for `metrics --json`, with the page's stage settings and filters (headline_params)."""
    p = headline_params(snap, start, end, **settings)
    labels = dict(zip(*queries.run("funnel_stage_vocab", snap=snap)[["stage_key", "label"]].T.values))
    steps = queries.run("funnel_stage_counts", p, snap=snap)
    summary = queries.run("funnel_summary", p, snap=snap).iloc[0]
    return {
        "stages": [{"stage": labels.get(r.stage_key, r.stage_key), "reached": fmt.json_value(r.n_reached),
                    "value": fmt.json_value(r.amt_reached), "conversion_from_previous": fmt.json_value(r.rate_step)}
                   for r in steps.itertuples()],
        "won": fmt.json_value(summary["n_won"]),
        "lost": fmt.json_value(summary["n_lost"]),
        "open": fmt.json_value(summary["n_open"]),
        "win_rate": fmt.json_value(summary["rate_win"]),
        "avg_cycle_days": fmt.json_value(summary["days_avg_cycle"]),
    }
