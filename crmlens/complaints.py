"""Complaints view: the category mapping, query parameters, survival statistics and headline figures.

Every count and rate comes from queries/complaints_*.sql. This module holds what is not SQL:
the mapping of category names (Chinese and English) to one category, passed to SQL as two
parallel lists; the SLA hours per severity; and the statistics on compact, already aggregated
frames (Kaplan-Meier with frequency weights, the log-rank test, a Cox regression on a sample
of complainers).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from statsmodels.duration.survfunc import SurvfuncRight

from crmlens import churn, i18n, period, queries, store, survival, vocab

# Category key -> names that mean it (normalised as in SQL: lower case, runs of space, _ and - as one space).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "product_quality": ("product quality", "quality", "quality issue", "defect", "defective product", "faulty product",
                        "质量", "产品质量", "质量问题", "产品问题", "商品质量", "产品缺陷"),
    "service_attitude": ("service attitude", "attitude", "staff attitude", "rude staff", "服务态度", "态度",
                         "客服态度", "人员态度", "服务态度差"),
    "price": ("price", "pricing", "price too high", "too expensive", "价格", "价格过高", "价格太高", "定价", "收费"),
    "delivery": ("delivery", "shipping", "logistics", "late delivery", "物流", "配送", "快递", "发货", "送货", "运输"),
    "billing": ("billing", "invoice", "invoicing", "charge", "charges", "账单", "发票", "扣费", "计费"),
    "after_sales_repair": ("after sales repair", "after sales", "aftersales", "repair", "repairs", "maintenance",
                           "warranty", "售后", "维修", "售后维修", "保修", "售后服务"),
}


# Default resolution SLA (hours) by severity name; a setting per severity on the page.
DEFAULT_SLA_HOURS = 72.0
SLA_LEVEL_HOURS = {"high": 24.0, "medium": 48.0, "low": 72.0}
SLA_DEFAULTS: dict[str, float] = {word: SLA_LEVEL_HOURS[level] for level, words in vocab.SEVERITY_LEVELS.items()
                                  for word in words}
CODED_SEVERITY = vocab.CODED_SEVERITY

# Optional columns found among a complaints file's extra columns (names as ingest stores them).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "sub_category": ("sub_category", "subcategory", "sub_cause", "sub_type", "子类别", "二级类别", "二级分类",
                     "投诉子类", "细分类别", "子类"),
    "product": ("product", "product_name", "item", "产品", "商品", "产品名称", "商品名称"),
    "handler": ("owner", "assigned_to", "assignee", "agent", "handler", "处理人", "负责人", "客服", "受理人"),
    "reopen": ("reopen_count", "reopened", "is_reopened", "reopens", "重开次数", "是否重开", "重开"),
    # the export's own SLA verdict per complaint: it knows each ticket's SLA, which the SLA hours only approximate
    "sla_met": ("made_sla", "sla_met", "met_sla", "within_sla", "sla_achieved", "是否达标", "sla达标", "是否按时"),
}

# Which statuses close or reopen a complaint: crmlens/vocab.py (stg_complaints.is_closed reads it).

DIMENSIONS = ("category", "sub_category", "channel", "severity", "product", "region", "segment", "owner")
BAND_HOURS = [4.0, 24.0, 72.0, 168.0]  # resolution-time bands: <=4 h, 4-24 h, 1-3 d, 3-7 d, > 7 d (plus open)
# Lost: the churn page's rule and defaults (customer_spells), so both pages agree on every customer.
DEFAULTS = {"churn_days": churn.CHURN_DAYS, "churn_multiplier": churn.CHURN_MULTIPLIER, "repeat_days": 90, "revenue_days": 365,
            "follow_days": 90}  # follow_days: complainers and others followed for the same days (complaints_churn)
COX_MAX_ROWS = 20_000
# A fitted term whose log hazard ratio has a standard error above this has no usable figure: its 95% range spans a
# factor of more than e^(2 x 1.96 x 5), about 300 million (a nearly one-sided category).
COX_MAX_SE = 5.0
# Events per term below which a Cox fit is rough (the rule of thumb of Peduzzi et al., 1995: 10 per variable).
COX_EVENTS_PER_TERM = 10


def normalise(name: str) -> str:
    """The form SQL compares category names in: lower case, runs of space, _ and - as one space."""
    return re.sub(r"[\s_-]+", " ", name.strip().lower())


def category_params() -> dict:
    mapping: dict[str, str] = {}
    for key, names in CATEGORIES.items():
        for name in (key, *names):
            alias = normalise(name)
            if mapping.setdefault(alias, key) != key:
                raise ValueError(f"category name {name!r} maps to both {mapping[alias]} and {key}")
    return {"category_aliases": list(mapping), "category_keys": list(mapping.values())}


SEVERITY_WORDS = vocab.SEVERITY_WORDS


def category_key(name) -> str | None:
    """The known category a name stands for ('service attitude', '服务态度' -> service_attitude), else None."""
    if not isinstance(name, str):
        return None
    params = category_params()
    return dict(zip(params["category_aliases"], params["category_keys"])).get(normalise(name))


def value_label(lang: str, dimension: str, value) -> str:
    """A complaint's category or severity as the reader reads it: a known word in the reader's language
    ('service attitude' -> 服务态度, 'high' -> 高); anything else is the user's own word and stays as typed."""
    if dimension == "category" and category_key(value):
        return i18n.translate(lang, f"complaints.cat.{category_key(value)}")
    if dimension == "severity" and isinstance(value, str):
        if value.strip().lower() in SEVERITY_WORDS:
            return i18n.translate(lang, f"complaints.sev.{value.strip().lower()}")
        if (coded := CODED_SEVERITY.match(value)) and coded[2].lower() in SEVERITY_WORDS:
            return f"{coded[1]} - " + i18n.translate(lang, f"complaints.sev.{coded[2].lower()}")
    return str(value)


def sla_default(severity: str | None) -> float:
    """The default SLA hours of a severity: by its word ("high", "高"), its label's word ("2 - High"), else its code."""
    name = (severity or "").strip().lower()
    coded = CODED_SEVERITY.match(name)
    for key in (name, coded and coded[2], coded and coded[1]):
        if key in SLA_DEFAULTS:
            return float(SLA_DEFAULTS[key])
    return DEFAULT_SLA_HOURS


def optional_columns(snap: store.Snapshot) -> dict[str, str]:
    """Which optional complaint columns the data has: {role: column name} ('' when absent)."""
    return optional_columns_of(snap.columns("complaints"))


def optional_columns_of(columns) -> dict[str, str]:
    """optional_columns of a complaints table with these columns."""
    present = set(columns)
    return {role: next((c for c in names if c in present), "") for role, names in OPTIONAL_COLUMNS.items()}


def params(snap: store.Snapshot, start: dt.date, end: dt.date, filters: dict | None = None,
           sla: dict[str, float] | None = None, **settings) -> dict:
    """Every parameter the complaints queries take (each query binds the ones it uses)."""
    return params_for_columns(optional_columns(snap), start, end, filters, sla, **settings)


# The page's queries that run before it reads its SLA settings (pages/complaints.py): they are passed no SLA hours.
BEFORE_SLA_SETTINGS = ("complaints_filter_options", "complaints_coverage")


def opening_params(query: str, columns, severities: list[str], start: dt.date, end: dt.date) -> dict:
    """The parameters the page runs `query` with as it opens on a period (pages/complaints.py: no filter, every setting
    at its default) for a complaints table with these columns and these severities (complaints_filter_options' order):
    the first SLA_SETTINGS_SHOWN severities have an SLA setting, at its default (but BEFORE_SLA_SETTINGS); the volume's
    grain is the period's (period.trend_grain). crmlens.model keeps the page's rows for them at load (KEPT_VIEWS)."""
    sla = {} if query in BEFORE_SLA_SETTINGS else {severity: hours for severity, _, hours in sla_settings(severities)}
    return params_for_columns(optional_columns_of(columns), start, end, sla=sla, grain=period.trend_grain(start, end))


def params_for_columns(cols: dict[str, str], start: dt.date, end: dt.date, filters: dict | None = None,
                       sla: dict[str, float] | None = None, **settings) -> dict:
    """params, with the optional columns given (optional_columns)."""
    filters = filters or {}
    sla = sla or {}
    p = {
        "start": start, "end": end,
        "category": list(filters.get("category", [])), "severity": list(filters.get("severity", [])),
        "complaint_channel": list(filters.get("complaint_channel", [])), "region": list(filters.get("region", [])),
        "segment": list(filters.get("segment", [])), "owner": list(filters.get("owner", [])),
        "reopened_statuses": list(vocab.REOPENED_COMPLAINT_STATUSES), "yes_tokens": list(vocab.YES_TOKENS),
        "sla_severities": [s.strip().lower() for s in sla], "sla_hours": [float(h) for h in sla.values()],
        "sla_default_hours": DEFAULT_SLA_HOURS,
        "band_hours": list(BAND_HOURS),
        "subcategory_col": cols["sub_category"], "product_col": cols["product"],
        "handler_col": cols["handler"], "reopen_col": cols["reopen"], "sla_met_col": cols["sla_met"],
        "sla_met_words": list(vocab.SLA_MET_TOKENS), "sla_missed_words": list(vocab.SLA_MISSED_TOKENS),
        "grain": "month", "dimension": "category", "limit": 20, "cox_max_rows": COX_MAX_ROWS,
        **DEFAULTS,
        **category_params(),
    }
    p.update(settings)
    return p


def loaded_outside(span: pd.DataFrame, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the loaded complaints when none of them falls in start..end (data_span's rows): a
    manager who loads tickets of 2016-2023 beside orders of this year sees an empty page and should be told where
    the complaints are. None when complaints are loaded in the period (then filters left none) or none at all."""
    rows = span.set_index("table_name")
    if "complaints" not in rows.index or pd.isna(rows.loc["complaints", "first_date"]):
        return None
    first, last = (pd.Timestamp(rows.loc["complaints", c]).date() for c in ("first_date", "last_date"))
    return (first, last) if last < start or first > end else None


def sla_for(snap: store.Snapshot, p: dict) -> dict[str, float]:
    """Default SLA hours for every severity found in the data."""
    options = queries.run("complaints_filter_options", p, snap=snap)
    return {v: sla_default(v) for v in options.loc[options["dimension"] == "severity", "value"]}


# ---- survival statistics on aggregated frames -------------------------------------------------

def kaplan_meier(df: pd.DataFrame) -> SurvfuncRight | None:
    """Kaplan-Meier from an aggregated frame (t, n_event, n_censored) (crmlens.survival)."""
    return survival.fit_counts(df)


km_quantile = survival.quantile
greenwood_se = survival.greenwood_se


def km_curve(df: pd.DataFrame, group_col: str = "grp") -> pd.DataFrame:
    """Step curve per group: grp, t, surv, lower, upper (starting at t=0, surv=1)."""
    parts = []
    for grp, sub in df.groupby(group_col, sort=True):
        sf = kaplan_meier(sub)
        if sf is None:
            continue
        lo, hi = survival.band(sf)
        # Start at (0, 100%) and carry the last step on to the longest follow-up (censored times included).
        end = float(sub["t"].max())
        parts.append(pd.DataFrame({"grp": grp, "t": np.r_[0.0, sf.surv_times, end],
                                   "surv": np.r_[1.0, sf.surv_prob, sf.surv_prob[-1]],
                                   "lower": np.r_[1.0, lo, lo[-1]], "upper": np.r_[1.0, hi, hi[-1]]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["grp", "t", "surv", "lower", "upper"])


def log_rank(df: pd.DataFrame, group_col: str = "grp") -> dict:
    """Log-rank test on (grp, t, n_event, n_censored) (crmlens.survival); chi2 None when it cannot be computed."""
    groups = df[group_col].nunique()
    return survival.logrank(df, group_col) or {"chi2": None, "df": max(groups - 1, 0), "p_value": None}


def cox(df: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Cox regression of time to churn on category (dummies), resolution days and SLA breach.

    df: one row per complainer (duration_days, is_churned, category, resolution_days, is_breached).
    Returns term, hazard_ratio, lower, upper, p_value, is_estimable (False: a category whose complainers were all
    lost or none was, or a term whose fit drifted off (its standard error above COX_MAX_SE): its figures blank),
    reference, n_lost (lost complainers in the fit), n_terms (terms fitted) (empty when there is too little data).
    """
    empty = pd.DataFrame(columns=["term", "hazard_ratio", "lower", "upper", "p_value", "is_estimable"])
    df = df.dropna(subset=["duration_days", "is_churned", "resolution_days"])
    if len(df) < 20 or df["is_churned"].sum() < 5:
        return empty
    cats = df["category"].fillna("-").astype(str)
    reference = reference or cats.value_counts().idxmax()
    dummies = pd.get_dummies(cats, prefix="category", prefix_sep=":", dtype=float)
    dummies = dummies.drop(columns=f"category:{reference}", errors="ignore")
    dummies = dummies.loc[:, dummies.sum() >= 3]  # categories too rare to estimate are pooled with the reference
    # a category where none of the complainers was lost (or all were) has no finite hazard ratio: the fit would drift
    # to 0 (or infinity) with a range of 0 to infinity. Its rows stay in the fit (with the reference), its term is
    # listed blank, marked not estimable.
    lost = dummies.mul(df["is_churned"].to_numpy(float), axis=0).sum()
    one_sided = [c for c in dummies.columns if lost[c] == 0 or lost[c] == dummies[c].sum()]
    dummies = dummies.drop(columns=one_sided)
    exog = pd.concat([dummies, df[["resolution_days"]].astype(float), df[["is_breached"]].astype(float)], axis=1)
    exog = exog.loc[:, exog.std() > 0]
    if exog.empty:
        return empty
    try:  # statsmodels' PHReg(..., ties="efron").fit(), vectorised (crmlens.survival.cox_efron)
        res = survival.cox_efron(df["duration_days"].to_numpy(float), df["is_churned"].to_numpy(int), exog.to_numpy(float))
    except (np.linalg.LinAlgError, ValueError):
        return empty
    # a term nearly one-sided (one lost of five, and at the wrong time) drifts like a one-sided one: a hazard ratio
    # near 0 or infinity whose range spans more than COX_MAX_SE standard errors of reach; it is blanked the same way
    adrift = ~np.isfinite(res["bse"]) | (res["bse"] > COX_MAX_SE)
    with np.errstate(over="ignore", under="ignore"):
        fitted = pd.DataFrame({"term": list(exog.columns), "hazard_ratio": np.exp(res["params"]),
                               "lower": np.exp(res["lower"]), "upper": np.exp(res["upper"]), "p_value": res["p_value"],
                               "is_estimable": ~adrift})
    fitted.loc[adrift, ["hazard_ratio", "lower", "upper", "p_value"]] = np.nan
    blank = pd.DataFrame({"term": one_sided, "hazard_ratio": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan,
                          "is_estimable": False})
    out = pd.concat([fitted, blank] if one_sided else [fitted], ignore_index=True)
    return out.assign(reference=reference, n_lost=int(df["is_churned"].sum()), n_terms=len(exog.columns))


def cox_is_rough(fit: pd.DataFrame) -> bool:
    """Whether a Cox fit (cox) has fewer than COX_EVENTS_PER_TERM lost complainers per fitted term."""
    return not fit.empty and fit["n_lost"].iloc[0] < COX_EVENTS_PER_TERM * fit["n_terms"].iloc[0]


# ---- headline for `metrics --json` -----------------------------------------------------------

def _num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    x = x.item() if hasattr(x, "item") else x
    return round(x, 4) if isinstance(x, float) else x


# The page's number settings as its address keeps them (key: default, lowest, highest, step). The churn
# rule's keys are the churn page's; each severity's SLA hours are under sla_key(severity), for the
# first SLA_SETTINGS_SHOWN severities, the others take complaints_sla_other.
NUMBER_SETTINGS = {
    "churn_days": churn.NUMBER_SETTINGS["churn_days"], "churn_multiplier": churn.NUMBER_SETTINGS["churn_multiplier"],
    "complaints_revenue_days": (DEFAULTS["revenue_days"], 1, 3650, 1),
    "complaints_follow_days": (DEFAULTS["follow_days"], 1, 3650, 1),
    "complaints_repeat_days": (DEFAULTS["repeat_days"], 1, 3650, 1),
    "complaints_sla_other": (DEFAULT_SLA_HOURS, 1.0, 24.0 * 365, 1.0),
}
SLA_SETTINGS_SHOWN = 5
FILTER_KEYS = {"category": "category", "complaints_severity": "severity", "complaints_channel": "complaint_channel",
               "region": "region", "segment": "segment", "owner": "owner"}  # address key -> filter


def sla_key(severity: str) -> str:
    """The address key of a severity's SLA hours."""
    return "complaints_sla_" + re.sub(r"\W+", "_", severity, flags=re.UNICODE).strip("_")


def sla_settings(severities: list[str]) -> list[tuple[str, str, float]]:
    """(severity, address key, default hours) of the severities the page has an SLA setting for: the first
    SLA_SETTINGS_SHOWN of `severities` (the most frequent), most severe first."""
    out, keys = [], set()
    for i, severity in enumerate(severities[:SLA_SETTINGS_SHOWN]):
        key = sla_key(severity)
        key = key if key not in keys else f"{key}_{i}"  # "high!" and "high?": two settings, not one key
        keys.add(key)
        out.append((severity, key, sla_default(severity)))
    return sorted(out, key=lambda setting: severity_rank(setting[0]))


def severity_rank(severity) -> int:
    """Where a severity stands, most severe first: a coded label by its code ("1 - Critical" before "5 - Planning"),
    a known word by its level and its place among that level's words (vocab.SEVERITY_LEVELS), anything else (and no
    severity) after them. Sorted by it, a stable sort keeps the rest in the order they came."""
    if severity is None or severity != severity:
        return 10_000
    text = str(severity).strip().lower()
    coded = CODED_SEVERITY.match(text)
    if coded:
        return int(coded.group(1))
    for level, words in enumerate(vocab.SEVERITY_LEVELS.values()):
        if text in words:
            return 100 * (level + 1) + words.index(text)
    return 1_000


def headline_params(snap: store.Snapshot, start: dt.date, end: dt.date, filters: dict | None = None,
                    sla: dict[str, float] | None = None, **settings) -> dict:
    """The complaints queries' parameters for the page's filters (as params() takes them), SLA hours per
    severity (default: every severity's default) and settings (sla_default_hours, churn_days,
    churn_multiplier, ...), as crmlens.viewparams reads them from the page's address."""
    p = params(snap, start, end, filters, **settings)
    if sla is None:
        sla = sla_for(snap, params(snap, start, end))
    p.update(sla_severities=[s.lower() for s in sla], sla_hours=[float(h) for h in sla.values()])
    return p


def headline(snap: store.Snapshot, start: dt.date, end: dt.date, **settings) -> dict:
    """total, by_category, median_resolution_hours (Kaplan-Meier, open complaints censored),
    sla_breach_rate, churn_rate_complainers, churn_rate_others, with the page's filters and settings
    (headline_params)."""
    p = headline_params(snap, start, end, **settings)
    p["dimension"] = "category"
    by_cat = queries.run("complaints_by_dimension", p, snap=snap)
    speed = queries.run("complaints_speed", p, snap=snap)
    total = speed.loc[speed["severity"].isna() & (speed["level"] == "all")].iloc[0]
    km = kaplan_meier(queries.run("complaints_resolution_survival", p, snap=snap))
    churn = queries.run("complaints_churn", p, snap=snap)
    overall = churn[churn["kind"] == "all"].set_index("grp")
    # like with like: the same eligibility and the same follow-up window for both groups (complaints_churn.sql)
    rate = lambda g: _num(overall.loc[g, "rate_churn_followed"]) if g in overall.index else None  # noqa: E731
    return {
        "total": int(total["n_complaints"]),
        "by_category": {str(k if k is not None and k == k else "-"): int(n)
                        for k, n in zip(by_cat["value"], by_cat["n_complaints"])},
        "median_resolution_hours": _num(km_quantile(km, 0.5)),
        "sla_breach_rate": _num(total["rate_breach"]),
        "churn_rate_complainers": rate("complainers"),
        "churn_rate_others": rate("others"),
    }


def within_data(volume: pd.DataFrame) -> pd.DataFrame:
    """complaints_volume's buckets that hold a day of the data's span: a month of the period after the data's last
    day (or before its first) is not a month without complaints, nothing is known of it (it was drawn as a zero bar
    marked "partial", and the backlog fell to zero there)."""
    return volume[volume["first_day"] <= volume["last_day"]]


def band_labels(t) -> dict[int, str]:
    """Labels of the resolution-time bands of complaints_*.sql (band numbers -2..len(BAND_HOURS))."""
    def span(h: float) -> str:
        return t("complaints.unit.h", n=f"{h:g}") if h < 24 else t("complaints.unit.d", n=f"{h / 24:g}")
    labels = {-2: t("complaints.band.closed_no_time"), -1: t("complaints.band.open"), 0: f"≤ {span(BAND_HOURS[0])}"}
    for i in range(1, len(BAND_HOURS)):
        labels[i] = f"{span(BAND_HOURS[i - 1])} – {span(BAND_HOURS[i])}"
    labels[len(BAND_HOURS)] = f"> {span(BAND_HOURS[-1])}"
    return labels


def bilingual_label(key: str) -> str:
    """'Product quality · 产品质量' for a known category (the same text in both languages), else the name itself."""
    if key in CATEGORIES:
        return " · ".join(i18n.translate(lang, f"complaints.cat.{key}") for lang in ("en", "zh"))
    return str(key)
