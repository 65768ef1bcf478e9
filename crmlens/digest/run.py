"""What `send-due`, `send --now` and the check after a load do.

Sending happens outside Streamlit: cron or a systemd timer runs `python -m crmlens send-due`,
which sends what is due and exits. After a load, `after_load` starts the alert check as a
separate process, so a slow or unreachable mail server never holds up the load.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field

import duckdb

from crmlens import store
from crmlens.digest import deliver, figures, model, render, storage

log = logging.getLogger(__name__)
RUN_LOCK_TIMEOUT_S = 600.0
DEFAULT_SEND_HOUR = 7


@dataclass
class RunReport:
    deliveries: list[model.Delivery] = field(default_factory=list)
    digests_sent: list[str] = field(default_factory=list)
    alerts_changed: list[tuple[str, str, float | None]] = field(default_factory=list)  # (name, fired/cleared, value)

    def lines(self) -> list[str]:
        out = [f"{d.item_kind} {d.item_name} ({d.event}) -> {d.target}: "
               f"{'sent' if d.ok else 'FAILED'} after {d.n_attempts} attempt(s){': ' + d.error if d.error else ''}"
               for d in self.deliveries]
        return out or ["nothing due"]


def send_hour() -> int:
    """Digests go out from this hour of their day on: $CRMLENS_DIGEST_HOUR, digest_hour in secrets.toml, else 7."""
    value = os.environ.get("CRMLENS_DIGEST_HOUR") or render.secrets_file().get("digest_hour") or DEFAULT_SEND_HOUR
    try:
        return min(max(int(value), 0), 23)
    except ValueError:
        raise model.InvalidSetting(f"CRMLENS_DIGEST_HOUR / digest_hour {value!r}: an hour 0-23") from None


def send_digest(snap: store.Snapshot, digest: model.Digest, event: str,
                delays=None, smtp=None) -> list[model.Delivery]:
    try:
        message = render.digest_message(snap, digest)
    except (store.QueryFailed, duckdb.Error) as e:  # recorded per target; the other digests still go
        log.exception("digest %s could not be made", digest.name)
        return [model.Delivery("digest", digest.name, event, x.kind, x.masked(), False, 0, f"{type(e).__name__}: {e}",
                               snap.version) for x in digest.targets]
    return deliver.deliver(message, digest.targets, "digest", digest.name, event, snap.version, delays, smtp)


def check_alerts(snap: store.Snapshot, alerts: list[model.Alert], report: RunReport,
                 delays=None, smtp=None) -> dict[str, tuple[bool, float | None, bool]]:
    """Each rule on the current data: a message when it becomes true and when it clears, none while it holds."""
    states, values = {}, {}
    for alert in alerts:
        key = (alert.metric, tuple(alert.params))  # the value depends on nothing else
        if key not in values:
            values[key] = figures.alert_value(snap, alert)
        value = values[key]
        holds = alert.holds(value)
        changed = holds != alert.is_firing
        if changed:
            message = render.alert_message(snap, alert, value, fired=holds)
            event = "fired" if holds else "cleared"
            report.deliveries += deliver.deliver(message, alert.targets, "alert", alert.name, event, snap.version,
                                                 delays, smtp)
            report.alerts_changed.append((alert.name, event, value))
        stored = None if value is None or value == float("inf") else float(value)
        if changed or stored != alert.last_value:  # each write copies the database: only what changed
            states[alert.name] = (holds, stored, changed)
    return states


class AlreadyRunning(Exception):
    """Another send-due has held the lock for longer than we wait."""


def _one_at_a_time(db, timeout_s: float = RUN_LOCK_TIMEOUT_S):
    """send-due runs one after the other (cron and the check after a load may overlap): each reads
    what the previous one recorded, so nothing is sent twice."""
    path = store.db_path(db)
    return store.file_lock(path.with_name(path.name + ".send.lock"), timeout_s,
                           lambda: AlreadyRunning(f"another send-due on {path} has run for over {timeout_s:g} s"))


def send_due(db=None, now: dt.datetime | None = None, alerts_only: bool = False,
             delays=None, smtp=None) -> RunReport:
    """Send every digest due now and check every alert; record it all in one write."""
    store.snapshot(db)  # NoData before any lock file is made
    with _one_at_a_time(db):
        return _send_due(db, now or dt.datetime.now(), alerts_only, delays, smtp)


def _send_due(db, now: dt.datetime, alerts_only: bool, delays, smtp) -> RunReport:
    snap = store.snapshot(db)
    report = RunReport()
    sent = {}
    if not alerts_only:
        for digest in storage.digests(snap):
            if model.is_due(digest.schedule, digest.created_at, digest.last_sent_at, now, send_hour()):
                made = send_digest(snap, digest, "scheduled", delays, smtp)
                report.deliveries += made
                if any(d.ok for d in made):  # all failed: due again at the next run
                    sent[digest.name] = now
                    report.digests_sent.append(digest.name)
    states = check_alerts(snap, storage.alerts(snap), report, delays, smtp)
    storage.record(db, report.deliveries, sent, states)
    return report


def send_now(db=None, name: str = "", delays=None, smtp=None) -> RunReport:
    """A test send of one digest, whatever its schedule (its schedule is not moved)."""
    snap = store.snapshot(db)
    found = [d for d in storage.digests(snap) if d.name == name]
    if not found:
        raise KeyError(name)
    report = RunReport(deliveries=send_digest(snap, found[0], "test", delays, smtp))
    storage.record(db, report.deliveries)
    return report


def after_load(db=None) -> None:
    """Check the alerts on the data just loaded, in a process of its own (the load does not wait)."""
    try:
        snap = store.snapshot(db)
        if "alerts" not in snap.tables() or not storage.alerts(snap):
            return
        subprocess.Popen([sys.executable, "-m", "crmlens", "send-due", "--alerts-only", "--db", str(store.db_path(db))],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, cwd=str(store.PROJECT_DIR), env=os.environ.copy())
    except (OSError, store.NoData, duckdb.Error) as e:  # the load stands; the next send-due checks the alerts
        log.warning("alert check after the load of %s not started: %s", db, e)
