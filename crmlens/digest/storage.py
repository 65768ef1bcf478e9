"""Digests, alerts and deliveries in the database with the data (tables `digests`, `alerts`, `deliveries`).

They are written, like loads, through `store.writer()`: a copy changed in one transaction and
published atomically. Changing them does not change any figure, so the data version stays (links
made before raise no "data changed" notice); each row carries its own revision and time instead.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from crmlens import store
from crmlens.digest.model import Alert, Delivery, Digest, Target

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
