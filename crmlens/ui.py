"""What every page shares: language, the run's data snapshot, cached queries, the sidebar."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging

import duckdb
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from crmlens import access, downloads, export, fmt, i18n, ingest, period, queries, safe, share, store, tempfiles

LANG_KEY = "lang"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}  # also the language's value in the address
LANGUAGE_CODES = {**{name: code for code, name in LANGUAGE_NAMES.items()}, **{code: code for code in LANGUAGE_NAMES}}
_SWITCH_KEY = "_crmlens_language"
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
    return _language_in_link() or i18n.language_from_locale(st.context.locale)


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
    lang = lang or i18n.language_from_locale(st.context.locale)
    if value != LANGUAGE_NAMES[lang]:
        st.query_params[LANG_KEY] = LANGUAGE_NAMES[lang]
    st.session_state[_SWITCH_KEY] = lang
    st.sidebar.segmented_control("Language / 语言", options=list(i18n.LANGUAGES), format_func=LANGUAGE_NAMES.get,
                                 key=_SWITCH_KEY, required=True, on_change=_switch_language)
    return lang


def _switch_language() -> None:
    """Put the new language in the address, and the choices kept there in its words: Streamlit
    writes a bound choice as the label shown, and does so again when its value is assigned."""
    st.query_params[LANG_KEY] = LANGUAGE_NAMES[st.session_state[_SWITCH_KEY]]
    for key in list(st.query_params):
        if key != LANG_KEY and key in st.session_state:
            st.session_state[key] = st.session_state[key]


def begin_run() -> store.Snapshot | None:
    """Read the data snapshot once per script run, so no view mixes two versions."""
    tempfiles.sweep_once()  # uploads a killed server left behind
    try:
        _upgrade(store.db_path())
        snap = store.snapshot()
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
    """Run queries/<name>.sql on this run's snapshot; cached per data version."""
    snap = snapshot()
    if snap is None:
        raise store.NoData(str(store.db_path()))
    bound = queries.bind(name, params or {})
    with _stop_when_damaged():
        return _cached_query(name, bound, str(snap.path), snap.identity, snap)


@contextlib.contextmanager
def _stop_when_damaged():
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
        st.info(f"**{t('nodata.title')}**\n\n{t('nodata.body')}")
        st.stop()
    return snap


@st.cache_data(max_entries=64, show_spinner=False)
def _default_period(db: str, identity: tuple, _snap: store.Snapshot) -> tuple[dt.date, dt.date]:
    return period.default_period(_snap)


def period_filter(snap: store.Snapshot | None) -> tuple[dt.date, dt.date]:
    """The sidebar date range (kept in the URL as ?period=start&period=end)."""
    with _stop_when_damaged():
        default = _default_period(str(snap.path), snap.identity, snap) if snap else period.default_period_without_data()
    value = st.sidebar.date_input(
        t("sidebar.period"),
        value=default,
        key=PERIOD_KEY,
        bind="query-params",
        help=t("sidebar.period.help"),
        format="YYYY-MM-DD",
    )
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(value)
    st.sidebar.caption(t("sidebar.period_invalid"))
    return default


def data_version_note(snap: store.Snapshot | None) -> None:
    if snap is not None and snap.updated_at is not None:
        st.sidebar.caption(t("sidebar.data_version", version=snap.version,
                             when=fmt.timestamp(snap.updated_at.to_pydatetime(), language())))


def filter_options(dimension: str) -> list[str]:
    """Values of a dimension in the data (see queries/filter_options.sql), most frequent first."""
    options = run_query("filter_options")
    return list(options.loc[options["dimension"] == dimension, "value"])


def choice_filter(key: str, label: str, options: list[str], container=None) -> list[str]:
    """A multi-select kept in the URL (?key=a&key=b). Empty means all.

    Pass the result to SQL as a list parameter: `(len($key) = 0 or list_contains($key, col))`.
    """
    container = container or st.sidebar
    chosen = container.multiselect(label, options, default=[], key=key, bind="query-params",
                                   placeholder=t("filter.all"))
    return [c for c in chosen if c in options]


def number_setting(key: str, label: str, default: float, min_value: float, max_value: float,
                   step: float, help: str | None = None, container=None) -> float:
    """A threshold or other setting kept in the URL, shown next to what it drives."""
    container = container or st
    share.drop_infinite_number(key)
    return container.number_input(label, min_value=min_value, max_value=max_value, value=default, step=step,
                                  key=key, bind="query-params", help=help)


def drop_infinite_link_value(key: str) -> None:
    """See share.drop_infinite_number: call before a number box bound to the address."""
    share.drop_infinite_number(key)


def download_csv(df: pd.DataFrame, file_name: str, key: str | None = None) -> None:
    """A download button for a table (UTF-8 with BOM for Excel; spreadsheet formulas neutralised)."""
    downloads.button(t("common.download_csv"), lambda: export.to_csv_bytes(df), file_name=file_name,
                     key=key or f"download_{file_name}", icon=":material/download:")


def _who() -> str:
    return st.context.ip_address or "local"


def _password_form(role: str, stored: str, key: str) -> bool:
    """A password field for `role`; True (and remembered for the session) when it is right."""
    flag = f"_crmlens_{role}_ok"
    if st.session_state.get(flag):
        return True
    with st.form(key):
        password = st.text_input(t(f"access.{role}.password"), type="password")
        submitted = st.form_submit_button(t("access.sign_in"))
    if submitted:
        if access.check_with_throttle(password, stored, _who(), role):
            st.session_state[flag] = True
            st.rerun()
        st.error(t("access.wrong_password"))
    return False


def _sso() -> bool:
    """Single sign-on through Streamlit's OIDC login is configured ([auth] in secrets.toml)."""
    return access.sso_configured(st.secrets)


def settings_gate() -> None:
    """Stop every page while the secrets file is there but broken: never read it as "no password"."""
    try:
        access.check_settings(st.secrets)
    except access.SettingsBroken as e:
        st.error(t(e.key, **{k: safe.md(v) for k, v in e.values.items()}), icon=":material/lock:")
        st.stop()


def viewer_allowed() -> bool:
    """Whether this reader may see the pages now (no sign-in needed, or signed in)."""
    settings_gate()
    if _sso():
        return bool(st.user.is_logged_in)
    return (access.configured_hash("viewer", st.secrets) is None or bool(st.session_state.get("_crmlens_admin_ok"))
            or bool(st.session_state.get("_crmlens_viewer_ok")))


def viewer_gate() -> None:
    """With single sign-on, or a viewer password, nothing shows until the reader signs in."""
    settings_gate()
    if _sso():
        if not st.user.is_logged_in:
            st.title(t("app.title"))
            st.button(t("access.sso_login"), on_click=st.login, type="primary", icon=":material/login:")
            st.stop()
        return
    stored = access.configured_hash("viewer", st.secrets)
    if stored and not st.session_state.get("_crmlens_admin_ok") and not _password_form("viewer", stored, "viewer_login"):
        st.stop()


def _sso_admin() -> bool | None:
    """With single sign-on and an admin_emails list: whether the signed-in user is an admin."""
    admins = access.admin_emails(st.secrets) if _sso() else None
    if admins is None:
        return None
    # Only an address the identity provider verified counts (self-registration could claim any).
    return (st.user.is_logged_in and st.user.get("email_verified", True) is not False
            and str(st.user.get("email", "")).lower() in admins)


def admin_gate() -> bool:
    """Show the admin sign-in where data can be changed; True when changes are allowed."""
    sso_admin = _sso_admin()
    if sso_admin is not None:
        if not sso_admin:
            st.info(t("access.admin_needed_sso"))
        return sso_admin
    stored = access.configured_hash("admin", st.secrets)
    if stored is None:
        return True
    st.info(t("access.admin_needed"))
    return _password_form("admin", stored, "admin_login")


def access_note() -> None:
    if _sso() and st.user.is_logged_in:
        role = "access.sso_admin" if _sso_admin() else "access.sso_viewer"
        st.sidebar.caption(":material/person: " + t(role, email=safe.md(st.user.get("email", ""))))
        st.sidebar.button(t("access.sso_logout"), on_click=st.logout, icon=":material/logout:")
    elif access.configured_hash("admin", st.secrets) is None:
        st.sidebar.caption(":material/lock_open: " + t("access.no_password"))
    elif st.session_state.get("_crmlens_admin_ok"):
        st.sidebar.caption(":material/admin_panel_settings: " + t("access.signed_in_admin"))
    else:
        st.sidebar.caption(":material/visibility: " + t("access.viewer"))


def share_box(snap: store.Snapshot | None) -> None:
    """A copyable link to exactly this view (the code block has a copy button)."""
    with st.sidebar.expander(t("share.title"), icon=":material/link:"):
        st.code(share.share_link(snap, (LANG_KEY, LANGUAGE_NAMES[language()])), language=None, wrap_lines=True)
        st.caption(t("share.help"))


def link_notices(snap: store.Snapshot | None) -> None:
    """Tell the reader when the data changed since the link was made."""
    notice = share.version_notice(snap, language(), t)
    if notice:
        st.warning(notice, icon=":material/history:")


def refused_link_notice() -> None:
    refused = share.refused_link_values()
    if refused:
        st.sidebar.warning(t("share.refused", values=", ".join(refused)), icon=":material/block:")


APP_CSS = """<style>
/* The grid's own CSV export keeps spreadsheet formulas and only the rows shown: every table has a
   download button of the app's own instead (ui.download_csv). */
[data-testid="stElementToolbarButton"]:has(button[aria-label="Download as CSV"]) { display: none !important; }
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stElementToolbar"] { display: none !important; }
  [data-testid="stMain"] { margin-left: 0 !important; }
  [data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0 !important; }
  [data-testid="stPlotlyChart"], [data-testid="stMetric"], [data-testid="stDataFrame"] { break-inside: avoid; }
}
</style>"""


def app_style() -> None:
    """No unsafe grid export; a printed page shows the content only: no sidebar, no toolbars, charts not cut in two."""
    st.html(APP_CSS)


# Streamlit writes a changed bound widget into the address with history.replaceState, so the
# back button would skip every filter change. This turns exactly those writes (made by the
# frontend's updateUrlParam, found on the call stack) into history entries; Streamlit already
# reruns the page with the old address when the back button pops one. Two writes of the app's
# own stay out of the history: adding the language to an address that had none, and rewriting
# the choices in the words of a language just switched to.
HISTORY_JS = """
if (!window.__crmlensHistorySteps) {
  window.__crmlensHistorySteps = true;
  const LANG = "LANG_KEY", NAMES = LANGUAGE_NAMES;
  const push = window.history.pushState.bind(window.history);
  const replace = window.history.replaceState.bind(window.history);
  const address = (url) => new URL(url || window.location.href, window.location.href);
  const rest = (u) => { const p = new URLSearchParams(u.search); p.delete(LANG); return p.toString(); };
  const keys = (u) => [...new URLSearchParams(u.search).keys()].sort().join("&");
  let switchedTo = null;  // the language just switched to, while the app rewrites the choices

  window.history.replaceState = function (state, title, url) {
    const fromWidget = (new Error().stack || "").includes("updateUrlParam");
    if (!fromWidget || address().search === address(url).search) return replace(state, title, url);
    switchedTo = null;
    return push(state, title, url);
  };

  window.history.pushState = function (state, title, url) {
    const before = address(), after = address(url);
    const lang = after.searchParams.get(LANG);
    if (before.pathname === after.pathname && rest(before) === rest(after)) {
      // the language added to an address without one, or written out (lang=en, an unknown value)
      if (!NAMES.includes(before.searchParams.get(LANG))) return replace(state, title, url);
      switchedTo = lang;
      return push(state, title, url);
    }
    if (before.pathname === after.pathname && switchedTo !== null && lang === switchedTo && keys(before) === keys(after)) {
      return replace(state, title, url);  // a choice rewritten in the new language
    }
    switchedTo = null;
    return push(state, title, url);
  };
}
"""


def history_steps() -> None:
    """The back button steps back through filter and setting changes."""
    script = HISTORY_JS.replace("LANG_KEY", LANG_KEY).replace("LANGUAGE_NAMES", json.dumps(list(LANGUAGE_NAMES.values())))
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)
