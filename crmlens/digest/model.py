"""Digests, alerts and deliveries: what they are, what makes them valid, and when they are due.

storage.py keeps them in the database with the data.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass, field

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints")
LANGUAGES = ("zh", "en")
CHAT_KINDS = ("wecom", "dingtalk", "feishu", "slack")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A figure the pages show -> the page it belongs to (see figures.alert_value for how each is read).
ALERT_METRICS = {
    "churn_rate": "churn",             # churn rate in the period (0-1)
    "at_risk_value": "churn",          # revenue at stake of the at-risk customers (last 365 days)
    "sla_breach_rate": "complaints",   # share of complaints past their SLA (0-1)
    "complaints_week_ratio": "complaints",  # complaints in the last 7 days / the 7 days before
    "owner_revenue_share": "funnel",   # the largest share of revenue one sales owner holds (0-1)
    "load_rejected_rows": "data",      # rows the latest load rejected
}

# An alert's figure by its page's name where a page shows it (digest.metric.<name> for the others).
ALERT_LABELS = {"churn_rate": "churn.kpi.rate", "sla_breach_rate": "complaints.kpi.breach"}


def metric_key(metric: str) -> str:
    """The translation key of an alert's figure: the page's own where the page shows it."""
    return ALERT_LABELS.get(metric, f"digest.metric.{metric}")


OPERATORS = ("above", "below")
NAME_RE = re.compile(r"^[\w .\-]{1,60}$")
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class InvalidSetting(ValueError):
    """A digest or alert that cannot be saved as given (the message says which part)."""


# --- parts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where a message goes: an e-mail address, or a chat webhook (with a signing secret for DingTalk/Feishu)."""

    kind: str  # "email" or one of CHAT_KINDS
    address: str  # e-mail address or webhook URL
    secret: str = ""

    def masked(self) -> str:
        """For lists and the delivery log: a webhook's token is a password, so only its host shows."""
        if self.kind == "email":
            return self.address
        parts = urllib.parse.urlsplit(self.address)
        return f"{self.kind}: {parts.scheme}://{parts.netloc}/…"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "address": self.address, **({"secret": self.secret} if self.secret else {})}


def target(kind: str, address: str, secret: str = "") -> Target:
    kind, address = kind.strip().lower(), address.strip()
    if kind == "email":
        if not EMAIL_RE.match(address):
            raise InvalidSetting(f"not an e-mail address: {address!r}")
    elif kind in CHAT_KINDS:
        if urllib.parse.urlsplit(address).scheme not in ("http", "https"):
            raise InvalidSetting(f"a {kind} webhook must be an http(s) URL: {address!r}")
    else:
        raise InvalidSetting(f"unknown kind {kind!r}; use email, {', '.join(CHAT_KINDS)}")
    return Target(kind, address, secret.strip())


def parse_params(text: str | list | None) -> list[tuple[str, str]]:
    """A view's address parameters: "segment=business&period=2025-01-01&period=2025-12-31" (or
    a leading "?", or a list of "k=v"), in order; lang and v are the digest's own, so they are dropped."""
    if not text:
        return []
    if isinstance(text, (list, tuple)):
        pairs = [tuple(p) if not isinstance(p, str) else tuple(p.split("=", 1)) for p in text]
    else:
        pairs = urllib.parse.parse_qsl(text.lstrip("?"), keep_blank_values=False, strict_parsing=False)
    out = []
    for pair in pairs:
        if len(pair) != 2 or not pair[0]:
            raise InvalidSetting(f"not key=value: {'='.join(pair)!r}")
        if pair[0] not in ("lang", "v"):
            out.append((str(pair[0]), str(pair[1])))
    return out


def params_period(params: list[tuple[str, str]]) -> tuple[dt.date, dt.date] | None:
    """The view's period (two `period` values, as the pages keep it), or None for the default period."""
    values = [v for k, v in params if k == "period"]
    if len(values) != 2:
        return None
    try:
        start, end = (dt.date.fromisoformat(v) for v in values)
    except ValueError as e:
        raise InvalidSetting(f"period must be two dates YYYY-MM-DD: {values}") from e
    if start > end:
        raise InvalidSetting(f"period starts after it ends: {values}")
    return start, end


# --- schedules ---------------------------------------------------------------------------------

def parse_schedule(text: str) -> str:
    """daily, weekly:mon .. weekly:sun, monthly:1 .. monthly:31 (a day past the month's end = its last day)."""
    s = (text or "").strip().lower()
    if s == "daily":
        return s
    kind, _, arg = s.partition(":")
    if kind == "weekly" and arg in WEEKDAYS:
        return s
    if kind == "monthly" and arg.isdigit() and 1 <= int(arg) <= 31:
        return f"monthly:{int(arg)}"
    raise InvalidSetting(f"schedule {text!r}: use daily, weekly:mon..sun or monthly:1..31")


def last_occurrence(schedule: str, today: dt.date) -> dt.date:
    """The latest day on or before `today` that the schedule names."""
    kind, _, arg = parse_schedule(schedule).partition(":")
    if kind == "daily":
        return today
    if kind == "weekly":
        return today - dt.timedelta(days=(today.weekday() - WEEKDAYS.index(arg)) % 7)
    day = int(arg)
    year, month = today.year, today.month
    while True:
        candidate = dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate <= today:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def is_due(schedule: str, created_at: dt.datetime, last_sent_at: dt.datetime | None, now: dt.datetime,
           hour: int = 0) -> bool:
    """Due when the schedule's latest day (from `hour` o'clock on) has come since the digest was made, and
    nothing went out on or after that day.

    A run of send-due missed (server down on Monday) sends the weekly digest at the next run; a digest
    made on a Wednesday for Mondays waits for the next Monday.
    """
    day = last_occurrence(schedule, (now - dt.timedelta(hours=hour)).date())
    if created_at.date() > day:
        return False
    return last_sent_at is None or last_sent_at.date() < day


# --- the items ---------------------------------------------------------------------------------

@dataclass
class Digest:
    name: str
    page: str
    params: list[tuple[str, str]]
    targets: list[Target]
    schedule: str
    lang: str
    created_by: str = ""
    created_at: dt.datetime | None = None
    revision: int = 1
    last_sent_at: dt.datetime | None = None


@dataclass
class Alert:
    name: str
    metric: str
    operator: str
    threshold: float
    params: list[tuple[str, str]]
    targets: list[Target]
    lang: str
    created_by: str = ""
    created_at: dt.datetime | None = None
    revision: int = 1
    is_firing: bool = False
    last_value: float | None = None
    changed_at: dt.datetime | None = None

    @property
    def page(self) -> str:
        return ALERT_METRICS[self.metric]

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return value > self.threshold if self.operator == "above" else value < self.threshold


@dataclass
class Delivery:
    item_kind: str  # digest or alert
    item_name: str
    event: str  # scheduled, test, fired, cleared
    channel: str
    target: str  # masked
    ok: bool
    n_attempts: int
    error: str = ""
    data_version: int | None = None
    sent_at: dt.datetime = field(default_factory=dt.datetime.now)


def _check_common(name: str, targets: list[Target], lang: str, params) -> None:
    if not NAME_RE.match(name or ""):
        raise InvalidSetting(f"name {name!r}: 1-60 letters, digits, spaces, . _ -")
    if not targets:
        raise InvalidSetting("give at least one recipient (--to) or webhook (--webhook)")
    if lang not in LANGUAGES:
        raise InvalidSetting(f"language {lang!r}: use zh or en")
    params_period(params)


def make_digest(name: str, page: str, params, targets: list[Target], schedule: str, lang: str,
                created_by: str = "") -> Digest:
    page = page.strip().lower()
    if page not in PAGES:
        raise InvalidSetting(f"page {page!r}: use one of {', '.join(PAGES)}")
    params = parse_params(params)
    _check_common(name, targets, lang, params)
    return Digest(name.strip(), page, params, list(targets), parse_schedule(schedule), lang, created_by)


def make_alert(name: str, metric: str, operator: str, threshold: float, params, targets: list[Target], lang: str,
               created_by: str = "") -> Alert:
    if metric not in ALERT_METRICS:
        raise InvalidSetting(f"metric {metric!r}: use one of {', '.join(ALERT_METRICS)}")
    if operator not in OPERATORS:
        raise InvalidSetting(f"operator {operator!r}: use above or below")
    params = parse_params(params)
    _check_common(name, targets, lang, params)
    return Alert(name.strip(), metric, operator, float(threshold), params, list(targets), lang, created_by)
