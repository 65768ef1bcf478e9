"""A digest or an alert as a message in its language: the words and numbers, the link, the chart.

`Message` holds what every channel shows; deliver.py turns it into an e-mail or a chat payload.
Values that come from data or from people (names, link parameters) are escaped for each format:
HTML in e-mail, Markdown in chat; they never become markup.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import tomllib
import urllib.parse
from dataclasses import dataclass, field

from crmlens import fmt, i18n, store, viewparams
from crmlens.digest import figures, model

# The language as the pages write it in the address (crmlens.ui.LANGUAGE_NAMES; tested equal).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
DEFAULT_PUBLIC_URL = "http://localhost:8501"
log = logging.getLogger(__name__)


@dataclass
class Message:
    subject: str
    title: str
    lines: list[tuple[str, str]]  # (label, value) as text
    notes: list[str]  # plain sentences under the figures (period, data version, filters)
    link: str
    link_label: str
    png: bytes | None = None
    data: dict = field(default_factory=dict)  # machine-readable figures (attached to e-mails as JSON)
    lang: str = "en"


def secrets_file() -> dict:
    """.streamlit/secrets.toml of the working directory or the project (the app reads the same file)."""
    for folder in (pathlib.Path.cwd(), store.PROJECT_DIR):
        path = folder / ".streamlit" / "secrets.toml"
        if path.is_file():
            with path.open("rb") as fh:
                return tomllib.load(fh)
    return {}


def public_url() -> str:
    """Where readers open the app: $CRMLENS_PUBLIC_URL, else public_url in secrets.toml, else localhost."""
    return (os.environ.get("CRMLENS_PUBLIC_URL") or str(secrets_file().get("public_url") or "")
            or DEFAULT_PUBLIC_URL).rstrip("/")


def link(page: str, params: list[tuple[str, str]], lang: str, version: int | None) -> str:
    """The live view: the page, the view's parameters (choices shown as words in the digest's language), its
    language as the pages write it, the data version."""
    pairs = [*viewparams.in_language(params, lang), ("lang", LANGUAGE_NAMES[lang])]
    if version is not None:
        pairs.append(("v", str(version)))
    path = "" if page == "overview" else page
    return f"{public_url()}/{path}?{urllib.parse.urlencode(pairs)}"


def show(value, kind: str, lang: str) -> str:
    if value is None:
        return "–"
    if kind == "percent":
        return fmt.percent(value)
    if kind == "money2":
        return fmt.number(value, lang, 2)
    if kind == "ratio":
        return "∞" if value == float("inf") else f"{fmt.number(value, lang, 2)}×"
    if kind == "hours":
        return fmt.duration(value, lang)
    if kind == "days":
        return fmt.number(value, lang, 1)
    return fmt.number(value, lang)


def _t(lang: str):
    return lambda key, **values: i18n.translate(lang, key, **values)


def _settings_notes(t, reading) -> list[str]:
    """The view's filters and settings the figures use, and those left out as the page leaves them out."""
    notes = []
    if reading.applied:
        notes.append(t("digest.note.applied", values=", ".join(f"{k}={v}" for k, v in reading.applied)))
    if reading.refused:
        notes.append(t("digest.note.refused", values=", ".join(r.pair for r in reading.refused)))
    return notes


def digest_message(snap: store.Snapshot, d: model.Digest, with_image: bool = True) -> Message:
    t = _t(d.lang)
    start, end = figures.view_period(snap, d.params)
    reading = figures.view_settings(snap, d.page, d.params, start, end)
    sec = figures.section(snap, d.page, start, end, reading.kwargs)
    lines = []
    for key, path, kind in figures.SHOWN[d.page]:
        value = show(figures.value_at(sec, path), kind, d.lang)
        if kind in figures.UNIT_KEYS and value != "–":  # with its unit, as the page writes it
            unit_key, name = figures.UNIT_KEYS[kind]
            value = t(unit_key, **{name: value})
        change = fmt.signed_percent(fmt.change(figures.value_at(sec, path), figures.previous_value(sec, path)))
        lines.append((t(key, **figures.LABEL_VALUES.get(key, {})), f"{value} ({change})" if change else value))
    page_name = t(f"digest.page.{d.page}")
    notes = [t("digest.note.period", start=fmt.date(start, d.lang), end=fmt.date(end, d.lang)),
             t("digest.note.version", version=snap.version,
               when=fmt.timestamp(snap.updated_at.to_pydatetime(), d.lang) if snap.updated_at is not None else "–")]
    if d.page == "overview":
        notes.append(t("digest.note.previous"))
    notes += _settings_notes(t, reading)
    image = None
    if with_image:
        try:
            image = figures.png(figures.main_chart(snap, d.page, start, end, t, d.lang, reading.kwargs))
        except (RuntimeError, OSError) as e:  # no browser for the export: the figures and the link still go
            log.warning("chart of digest %s not exported: %s", d.name, e)
            notes.append(t("digest.note.no_chart"))
    return Message(
        subject=t("digest.subject", page=page_name, name=d.name, end=fmt.date(end, d.lang)),
        title=t("digest.title", page=page_name, name=d.name),
        lines=lines, notes=notes,
        link=link(d.page, d.params, d.lang, snap.version), link_label=t("digest.link"),
        png=image,
        data={"digest": d.name, "page": d.page, "data_version": snap.version,
              "period": {"start": start.isoformat(), "end": end.isoformat()}, d.page: sec},
        lang=d.lang,
    )


def alert_message(snap: store.Snapshot, a: model.Alert, value: float | None, fired: bool) -> Message:
    t = _t(a.lang)
    start, end = figures.view_period(snap, a.params)
    metric = t(model.metric_key(a.metric))
    kind = ALERT_KINDS[a.metric]
    shown, threshold = show(value, kind, a.lang), show(a.threshold, kind, a.lang)
    state = "fired" if fired else "cleared"
    notes = [t(f"digest.alert.rule.{a.operator}", metric=metric, threshold=threshold),
             t("digest.note.period", start=fmt.date(start, a.lang), end=fmt.date(end, a.lang)),
             t("digest.note.version", version=snap.version,
               when=fmt.timestamp(snap.updated_at.to_pydatetime(), a.lang) if snap.updated_at is not None else "–")]
    notes += _settings_notes(t, figures.view_settings(snap, a.page, a.params, start, end))
    return Message(
        subject=t(f"digest.alert.subject.{state}", name=a.name, metric=metric, value=shown),
        title=t(f"digest.alert.title.{state}", name=a.name),
        lines=[(metric, shown), (t("digest.alert.threshold"), threshold)], notes=notes,
        link=link(a.page, a.params, a.lang, snap.version), link_label=t("digest.link"),
        data={"alert": a.name, "metric": a.metric, "value": value, "threshold": a.threshold, "state": state,
              "data_version": snap.version},
        lang=a.lang,
    )


ALERT_KINDS = {"churn_rate": "percent", "at_risk_value": "money", "sla_breach_rate": "percent",
               "complaints_week_ratio": "ratio", "owner_revenue_share": "percent", "load_rejected_rows": "count"}


def figures_json(message: Message) -> bytes:
    return json.dumps(message.data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
