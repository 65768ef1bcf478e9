"""What frames every page: the sidebar's data version, share box and link notices, print styles, history steps."""

from __future__ import annotations

import json

import streamlit as st

from crmlens import asof, fmt, share, store
from crmlens.ui import LANG_KEY, LANGUAGE_NAMES, language, t


def data_version_note(snap: store.Snapshot | None) -> None:
    if snap is not None and snap.updated_at is not None:
        st.sidebar.caption(t("sidebar.data_version", version=snap.version,
                             when=fmt.timestamp(snap.updated_at.to_pydatetime(), language())))


SHARE_BOX_KEY = "_crmlens_share_box"


def share_box(snap: store.Snapshot | None) -> None:
    """A copyable link to exactly this view (the code block has a copy button), drawn only while the box is open:
    a code block makes the browser load and run its syntax highlighter (1.5 MB of script) on every page opened."""
    box = st.sidebar.expander(t("share.title"), icon=":material/link:", key=SHARE_BOX_KEY, on_change="rerun")
    if box.open:
        with box:
            st.code(share.share_link(snap, (LANG_KEY, LANGUAGE_NAMES[language()])), language=None, wrap_lines=True)
            st.caption(t("asof.share_help" if store.keeps_history() else "share.help"))


def link_notices(snap: store.Snapshot | None) -> None:
    """Tell the reader which data version the link's view shows: as of the link's (DuckLake), or the latest
    because the data changed, or because the link's version cannot be opened (crmlens.asof)."""
    asof.notice(language(), t)


def refused_link_notice() -> None:
    refused = share.refused_link_values()
    if refused:
        st.sidebar.warning(t("share.refused", values=", ".join(refused)), icon=":material/block:")


APP_CSS = """<style>
/* The grid's own CSV export keeps spreadsheet formulas and only the rows shown: every table has a
   download button of the app's own instead (controls.download_csv). */
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
    if language() != "en":
        st.html(uploader_words())


def _css_text(text: str) -> str:
    """A CSS string: quoted, with quotes and backslashes escaped, other characters as they are (json.dumps's
    "\\u9009" is not a CSS escape: the reader saw "u9009u62e9" for 选择)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ") + '"'



def uploader_words() -> str:
    """The file uploader's own English (its button, "1GB per file") in the reader's language. Streamlit offers no
    option for these words, so they are hidden (not only made small: the reader and a screen reader do not get
    them) and the translation is drawn in their place."""
    limit_mb = st.get_option("server.maxUploadSize")
    limit = f"{limit_mb // 1024}GB" if limit_mb % 1024 == 0 else f"{limit_mb}MB"
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    note = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    return f"""<style>
{button}, {note} {{ visibility: hidden; font-size: 0; }}
{button}::after {{ content: {_css_text(t("upload.button"))}; visibility: visible; font-size: 0.875rem; }}
{note}::after {{ content: {_css_text(t("upload.limit", limit=limit))}; visibility: visible; font-size: 0.875rem; }}
</style>"""


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
