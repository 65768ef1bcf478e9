"""Links that keep their numbers: a shared link's data version (`v`, crmlens.share) opened as of that version.

On DuckLake every load is a snapshot the catalog keeps (store.snapshot_at), so a link whose `v` names an older
version opens the whole view (every page run, every query, the default period) as of it: the figures the sender
saw. That is the default, because a shared link is shared for its numbers. A notice says whose data it is (when
that version was loaded, which newer one exists) and a button opens the latest; the button writes the latest
version into the address, so the address keeps naming exactly what is shown, and a reload or a copy of it shows
the same numbers.

On the DuckDB file store a view reads the current file only: the latest is shown, with the notice that the data
changed since the link was made (as before), saying that older versions cannot be opened here.

Fail closed: a `v` that is no version number (malformed), one this store never made or no longer keeps (unknown),
or one written by an older CRM Lens whose model differs (outdated), shows the latest with a notice saying so:
never an error, never another version's numbers without saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import streamlit as st

from crmlens import fmt, model, share, store

VERSION_KEY = share.VERSION_KEY
_VIEW_KEY = "_crmlens_link_view"
_KEPT_KEY = "_crmlens_link_version"  # the version this session's pages show, kept across pages
_VERSION = re.compile(r"[0-9]{1,15}")
SHOWN_RAW = 40  # characters of a malformed value shown back


@dataclass(frozen=True)
class LinkView:
    """What a page run shows for the link's `v`.

    kind: "latest" (no `v`, or it names the latest version), "as_of" (an older version, opened as of it),
    "changed" (an older version on a store that keeps no history: the latest is shown), "unknown", "malformed",
    "outdated" (the latest is shown instead)."""

    kind: str
    shown: store.Snapshot | None
    latest: store.Snapshot | None
    asked: str | None = None


def parse(value: str | None) -> int | None:
    """The version number in a link's `v` (ASCII digits only), or None."""
    return int(value) if value is not None and _VERSION.fullmatch(value) else None


_model_current: dict[tuple, bool] = {}


def _model_is_current(snap: store.Snapshot) -> bool:
    key = (str(snap.path), snap.identity)
    if key not in _model_current:
        if len(_model_current) > 256:
            _model_current.clear()
        _model_current[key] = model.is_current(snap)
    return _model_current[key]


def resolve(latest: store.Snapshot | None, asked: str | None, db=None) -> LinkView:
    """The snapshot to show for a link's `v` (`asked`, the text in the address) given the latest data."""
    if latest is None or asked is None:
        return LinkView("latest", latest, latest, asked)
    version = parse(asked)
    if version is None:
        return LinkView("malformed", latest, latest, asked)
    if version == latest.version:
        return LinkView("latest", latest, latest, asked)
    if version > latest.version:  # no load of this store has made it (yet)
        return LinkView("unknown", latest, latest, asked)
    if not store.keeps_history(db):
        return LinkView("changed", latest, latest, asked)
    try:
        then = store.snapshot_at(version, db)
        current_model = _model_is_current(then)
    except (store.VersionUnavailable, duckdb.Error):  # e.g. its data files removed by a cleanup job
        return LinkView("unknown", latest, latest, asked)
    if not current_model:
        return LinkView("outdated", latest, latest, asked)
    return LinkView("as_of", then, latest, asked)


def choose(latest: store.Snapshot | None) -> store.Snapshot | None:
    """This run's snapshot for the address's `v` (ui.begin_run); remembered for notice().

    On DuckLake, a session that opened a link on a version it can show keeps it from page to page: Streamlit
    drops the address's parameters when the reader moves to another page, so `v` is put back (as the
    language is), until the reader opens the latest data."""
    asked = st.query_params.get(VERSION_KEY)
    if asked is None and _KEPT_KEY in st.session_state:
        asked = st.session_state[_KEPT_KEY]
        st.query_params[VERSION_KEY] = asked
    view = resolve(latest, asked)
    if view.kind in ("as_of", "latest") and asked is not None and store.keeps_history():
        st.session_state[_KEPT_KEY] = asked
    else:
        st.session_state.pop(_KEPT_KEY, None)
    st.session_state[_VIEW_KEY] = view
    return view.shown


def current_view() -> LinkView | None:
    return st.session_state.get(_VIEW_KEY)


def open_latest() -> None:
    """The button's action: the address names the newest version, so the next run shows it."""
    try:
        st.query_params[VERSION_KEY] = st.session_state[_KEPT_KEY] = str(store.snapshot().version)
    except (store.NoData, store.NotOurDatabase):
        st.query_params.pop(VERSION_KEY, None)
        st.session_state.pop(_KEPT_KEY, None)


def follow_own_load() -> None:
    """After a load (or rollback) of this reader's own, show what it made: a link's older `v` gives way."""
    if VERSION_KEY in st.query_params:
        open_latest()


def notice_text(view: LinkView, lang: str, t) -> str | None:
    """The notice for a run's LinkView, or None when the view is the latest as asked."""
    if view.kind == "latest" or view.latest is None:
        return None

    def when(snap: store.Snapshot) -> str:
        return fmt.timestamp(snap.updated_at.to_pydatetime(), lang) if snap.updated_at is not None else "–"

    latest = {"latest": view.latest.version, "latest_when": when(view.latest)}
    if view.kind == "as_of":
        return t("asof.as_of", version=view.shown.version, when=when(view.shown), **latest)
    if view.kind == "changed":
        return t("share.version_changed", link_version=parse(view.asked), version=view.latest.version,
                 when=when(view.latest)) + " " + t("asof.no_history")
    asked = view.asked if len(view.asked) <= SHOWN_RAW else view.asked[:SHOWN_RAW] + "…"
    # shown as inline code: a crafted value cannot become a link or markup
    return t(f"asof.{view.kind}", asked="`" + asked.replace("`", "'") + "`", **latest)


def notice(lang: str, t) -> None:
    """The run's notice at the top of the page, with the button to the latest data where there is one."""
    view = current_view()
    text = notice_text(view, lang, t) if view is not None else None
    if not text:
        return
    st.warning(text, icon=":material/history:")
    if view.kind != "changed":
        st.button(t("asof.open_latest"), key="asof_open_latest", icon=":material/update:", on_click=open_latest)
