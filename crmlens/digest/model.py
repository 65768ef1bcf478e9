"""Digests, alerts and deliveries: what they are, when they are due, and their tables.

They live in the database with the data (tables `digests`, `alerts`, `deliveries`) and are
written, like loads, through `store.writer()`: a copy changed in one transaction and published
atomically. Changing them does not change any figure, so the data version stays (links made
before raise no "data changed" notice); each row carries its own revision and time instead.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import urllib.parse
from dataclasses import dataclass, field

import pandas as pd

from crmlens import store

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
OPERATORS = ("above", "below")
NAME_RE = re.compile(r"^[\w .\-]{1,60}$")
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")

DDL = """
create table if not exists digests (
    name varchar, page varchar, params_json varchar, targets_json varchar, schedule varchar, lang varchar,
    created_at timestamp, created_by varchar, revision bigint, updated_at timestamp, last_sent_at timestamp
);
create table if not exists alerts (
    name varchar, metric varchar, operator varchar, threshold double, params_json varchar, targets_json varchar,
    lang varchar, created_at timestamp, created_by varchar, revision bigint, updated_at timestamp,
    is_firing boolean, last_value double, checked_at timestamp, changed_at timestamp
);
create table if not exists deliveries (
    delivery_id bigint, sent_at timestamp, item_kind varchar, item_name varchar, event varchar, channel varchar,
    target varchar, ok boolean, n_attempts integer, error varchar, data_version bigint
);
"""


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


def is_due(schedule: str, created_at: dt.datetime, last_sent_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Due when the schedule's latest day has come since the digest was made, and nothing went out on or after it.

    A run of send-due missed (server down on Monday) sends the weekly digest at the next run; a digest
    made on a Wednesday for Mondays waits for the next Monday.
    """
    day = last_occurrence(schedule, now.date())
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


# --- reading (from a snapshot) -----------------------------------------------------------------

def _targets(text: str) -> list[Target]:
    return [Target(d["kind"], d["address"], d.get("secret", "")) for d in json.loads(text or "[]")]


def _params(text: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in json.loads(text or "[]")]


def _ts(value) -> dt.datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def digests(snap: store.Snapshot) -> list[Digest]:
    if "digests" not in snap.tables():
        return []
    rows = snap.query("select * from digests order by name")
    return [Digest(r.name, r.page, _params(r.params_json), _targets(r.targets_json), r.schedule, r.lang,
                   r.created_by or "", _ts(r.created_at), int(r.revision), _ts(r.last_sent_at))
            for r in rows.itertuples()]


def alerts(snap: store.Snapshot) -> list[Alert]:
    if "alerts" not in snap.tables():
        return []
    rows = snap.query("select * from alerts order by name")
    return [Alert(r.name, r.metric, r.operator, float(r.threshold), _params(r.params_json), _targets(r.targets_json),
                  r.lang, r.created_by or "", _ts(r.created_at), int(r.revision), bool(r.is_firing),
                  None if pd.isna(r.last_value) else float(r.last_value), _ts(r.changed_at))
            for r in rows.itertuples()]


def deliveries(snap: store.Snapshot, limit: int = 200) -> pd.DataFrame:
    if "deliveries" not in snap.tables():
        return pd.DataFrame(columns=["delivery_id", "sent_at", "item_kind", "item_name", "event", "channel",
                                     "target", "ok", "n_attempts", "error", "data_version"])
    return snap.query("select * from deliveries order by delivery_id desc limit $limit", {"limit": limit})


# --- writing (through store.writer, like loads) ------------------------------------------------

def _writer(db):
    return store.writer(db, new_version=False)


def save_digest(db, d: Digest) -> Digest:
    """Add a digest, or replace the one of the same name (its revision goes up, its send history stays)."""
    with _writer(db) as con:
        con.execute(DDL)
        old = con.execute("select revision, created_at, last_sent_at from digests where name = $n",
                          {"n": d.name}).fetchone()
        revision, created_at, last_sent = (old[0] + 1, old[1], old[2]) if old else (1, dt.datetime.now(), None)
        con.execute("delete from digests where name = $n", {"n": d.name})
        con.execute(
            "insert into digests values ($name, $page, $params, $targets, $schedule, $lang, $created_at, $by, "
            "$revision, current_localtimestamp(), $last_sent)",
            {"name": d.name, "page": d.page, "params": json.dumps(d.params, ensure_ascii=False),
             "targets": json.dumps([t.as_dict() for t in d.targets], ensure_ascii=False), "schedule": d.schedule,
             "lang": d.lang, "created_at": created_at, "by": d.created_by, "revision": revision,
             "last_sent": last_sent})
    d.revision, d.created_at, d.last_sent_at = revision, created_at, last_sent
    return d


def save_alert(db, a: Alert) -> Alert:
    """Add an alert, or replace the one of the same name (a changed rule starts quiet)."""
    with _writer(db) as con:
        con.execute(DDL)
        old = con.execute("select revision, created_at from alerts where name = $n", {"n": a.name}).fetchone()
        revision, created_at = (old[0] + 1, old[1]) if old else (1, dt.datetime.now())
        con.execute("delete from alerts where name = $n", {"n": a.name})
        con.execute(
            "insert into alerts values ($name, $metric, $op, $threshold, $params, $targets, $lang, $created_at, $by, "
            "$revision, current_localtimestamp(), false, null, null, null)",
            {"name": a.name, "metric": a.metric, "op": a.operator, "threshold": a.threshold,
             "params": json.dumps(a.params, ensure_ascii=False),
             "targets": json.dumps([t.as_dict() for t in a.targets], ensure_ascii=False), "lang": a.lang,
             "created_at": created_at, "by": a.created_by, "revision": revision})
    a.revision, a.created_at = revision, created_at
    return a


def remove(db, kind: str, name: str) -> bool:
    table = {"digest": "digests", "alert": "alerts"}[kind]
    with _writer(db) as con:
        con.execute(DDL)
        n = con.execute(f"select count(*) from {table} where name = $n", {"n": name}).fetchone()[0]  # table: fixed dict
        con.execute(f"delete from {table} where name = $n", {"n": name})
    return bool(n)


def record(db, deliveries_made: list[Delivery], sent_digests: dict[str, dt.datetime] | None = None,
           alert_states: dict[str, tuple[bool, float | None, bool]] | None = None) -> None:
    """One write for a run: the delivery log, digests sent, alerts' new states {name: (firing, value, changed)}."""
    if not deliveries_made and not sent_digests and not alert_states:
        return
    with _writer(db) as con:
        con.execute(DDL)
        next_id = con.execute("select coalesce(max(delivery_id), 0) + 1 from deliveries").fetchone()[0]
        for i, d in enumerate(deliveries_made):
            con.execute("insert into deliveries values ($id, $at, $kind, $name, $event, $channel, $target, $ok, "
                        "$n, $error, $v)",
                        {"id": next_id + i, "at": d.sent_at, "kind": d.item_kind, "name": d.item_name,
                         "event": d.event, "channel": d.channel, "target": d.target, "ok": d.ok,
                         "n": d.n_attempts, "error": d.error[:500], "v": d.data_version})
        for name, at in (sent_digests or {}).items():
            con.execute("update digests set last_sent_at = $at where name = $n", {"at": at, "n": name})
        for name, (firing, value, changed) in (alert_states or {}).items():
            con.execute("update alerts set is_firing = $f, last_value = $v, checked_at = current_localtimestamp(), "
                        "changed_at = case when $changed then current_localtimestamp() else changed_at end "
                        "where name = $n", {"f": firing, "v": value, "changed": changed, "n": name})
