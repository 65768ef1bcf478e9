"""What every page run shares: the reader's language and the run's data snapshot, with its cached queries."""

from __future__ import annotations

import contextlib
import logging

import duckdb
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from crmlens import asof, i18n, ingest, queries, share, store, tempfiles

LANG_KEY = "lang"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}  # also the language's value in the address
LANGUAGE_CODES = {**{name: code for code, name in LANGUAGE_NAMES.items()}, **{code: code for code in LANGUAGE_NAMES}}
_SWITCH_KEY = "_crmlens_language"
_CHOSEN_KEY = "_crmlens_language_chosen"  # the session's language: a click in the sidebar opens a page without `lang`
PERIOD_KEY = "period"
_SNAPSHOT_KEY = "_crmlens_snapshot"
_APP_RAN_KEY = "_crmlens_app_ran"
log = logging.getLogger(__name__)


def run_through_app() -> None:
    """Make sure app.py's navigation (sidebar, language, data snapshot) wraps this page.

    When the first visitor of a fresh server opens a page URL such as /data (and
    in every AppTest run), Streamlit runs pages/data.py on its own: the old
    multipage mode it keeps for folders named pages/, until a run calls
    st.navigation. Switch that mode off, as st.navigation itself does, and rerun
    through app.py. begin_run() (in app.py) leaves a mark that the page takes.
    """
    if not st.session_state.pop(_APP_RAN_KEY, False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def language() -> str:
    """The address's language, else the one this session read in (the sidebar's links drop the address's
    parameters that no widget of the next page keeps), else the browser's."""
    return _language_in_link() or st.session_state.get(_CHOSEN_KEY) or i18n.language_from_locale(st.context.locale)


def _language_in_link() -> str | None:
    return LANGUAGE_CODES.get(st.query_params.get(LANG_KEY, ""))


def t(key: str, **values) -> str:
    """Every visible string goes through here."""
    return i18n.translate(language(), key, **values)


def language_switch() -> str:
    """The sidebar switch, defaulting to the browser's language.

    The address always names the language, the browser's own too: the choices in it are the
    words shown, so whoever opens it must read it in the same language. The app writes the
    parameter itself (a bound widget would drop it whenever it equals the default).
    """
    value = st.query_params.get(LANG_KEY)
    lang = _language_in_link()
    if lang is None and value is not None:
        share.refuse_link_value(LANG_KEY, value)
    lang = language()
    st.session_state[_CHOSEN_KEY] = lang
    if value != LANGUAGE_NAMES[lang]:
        st.query_params[LANG_KEY] = LANGUAGE_NAMES[lang]
    st.session_state[_SWITCH_KEY] = lang
    st.sidebar.segmented_control("Language / 语言", options=list(i18n.LANGUAGES), format_func=LANGUAGE_NAMES.get,
                                 key=_SWITCH_KEY, required=True, on_change=_switch_language)
    return lang


def _switch_language() -> None:
    """Put the new language in the address, and the choices kept there in its words: Streamlit
    writes a bound choice as the label shown, and does so again when its value is assigned."""
    st.session_state[_CHOSEN_KEY] = st.session_state[_SWITCH_KEY]
    st.query_params[LANG_KEY] = LANGUAGE_NAMES[st.session_state[_SWITCH_KEY]]
    for key in list(st.query_params):
        if key != LANG_KEY and key in st.session_state:
            st.session_state[key] = st.session_state[key]


def begin_run() -> store.Snapshot | None:
    """Read the data snapshot once per script run, so no view mixes two versions: the latest, or the one
    a shared link names (crmlens.asof)."""
    tempfiles.sweep_once()  # uploads a killed server left behind
    try:
        _upgrade(store.db_path())
        snap = asof.choose(store.snapshot())  # a link's older data version: the view as of it (DuckLake)
    except store.NoData:
        snap = None
    except store.NotOurDatabase as e:  # the reader is told what is wrong; the server path goes to the log only
        log.error("%s", e)
        st.error(t(f"store.not_ours.{e.reason}"), icon=":material/database_off:")
        st.stop()
    st.session_state[_SNAPSHOT_KEY] = snap
    st.session_state[_APP_RAN_KEY] = True
    return snap


def _upgrade(path) -> None:
    """A database written by an older version (or copied in) gets the tables it lacks; a cheap check
    when it has them. While a load runs this waits no longer: the load builds them, or the next run does."""
    try:
        ingest.ensure_derived(path, lock_timeout_s=0.2)
    except store.StoreBusy:
        pass


def snapshot() -> store.Snapshot | None:
    return st.session_state.get(_SNAPSHOT_KEY)


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached_query(name: str, params: dict, db: str, identity: tuple, _snap: store.Snapshot) -> pd.DataFrame:
    return queries.run(name, params, snap=_snap)


def run_query(name: str, params: dict | None = None) -> pd.DataFrame:
    """Run queries/<name>.sql on this run's snapshot; cached per snapshot identity (a DuckLake snapshot id, or
    the file's): a link's older version (crmlens.asof) never shares results with the latest."""
    snap = snapshot()
    if snap is None:
        raise store.NoData(str(store.db_path()))
    bound = queries.bind(name, params or {})
    with stop_when_damaged():
        return _cached_query(name, bound, str(snap.path), snap.identity, snap)


@contextlib.contextmanager
def stop_when_damaged():
    """A block of the database that cannot be read (damaged on disk): the reader is told, not shown a trace."""
    try:
        yield
    except store.QueryFailed as e:
        if not isinstance(e.__cause__, duckdb.IOException):
            raise
        log.error("%s", e)
        st.error(t("store.not_ours.unreadable"), icon=":material/database_off:")
        st.stop()


def require_data() -> store.Snapshot:
    """Stop the page with a friendly message when there is no database yet."""
    snap = snapshot()
    if snap is None:
        from crmlens import empty  # it builds on this module

        empty.no_data_notice()
        st.stop()
    return snap
