"""CRM Lens entry point: page config, navigation and the sidebar every page shares."""

import streamlit as st

from crmlens import chrome, share, signin, ui
from crmlens.digest import widgets as digest_widgets

st.set_page_config(page_title="CRM Lens", page_icon=":material/insights:", layout="wide")

chrome.app_style()
chrome.history_steps()
share.remember_incoming_link()
ui.language_switch()
signin.settings_gate()  # a broken secrets file stops here, before anything reads who may do what

overview = st.Page("pages/overview.py", title=ui.t("nav.overview"), icon=":material/dashboard:", url_path="overview")


def _to_overview() -> None:
    """The app's root address opens the overview at /overview, a natural address that would otherwise be
    Streamlit's "Page not found" (a default page is served at / only, yet reserves its own path)."""
    st.switch_page(overview, query_params={k: st.query_params.get_all(k) for k in st.query_params})


home = st.Page(_to_overview, title=ui.t("nav.overview"), url_path="home", default=True, visibility="hidden")
pages = {
    ui.t("nav.section.views"): [
        home,
        overview,
        st.Page("pages/funnel.py", title=ui.t("nav.funnel"), icon=":material/filter_alt:", url_path="funnel"),
        st.Page("pages/loyalty.py", title=ui.t("nav.loyalty"), icon=":material/military_tech:", url_path="loyalty"),
        st.Page("pages/churn.py", title=ui.t("nav.churn"), icon=":material/trending_down:", url_path="churn"),
        st.Page("pages/complaints.py", title=ui.t("nav.complaints"), icon=":material/support_agent:", url_path="complaints"),
        st.Page("pages/followup.py", title=ui.t("nav.followup"), icon=":material/phone_callback:", url_path="followup"),
    ],
    ui.t("nav.section.data"): [
        st.Page("pages/data.py", title=ui.t("nav.data"), icon=":material/database:", url_path="data"),
        # Digests and alerts: admins only, viewers do not see the page at all.
        *([st.Page("pages/digests.py", title=ui.t("digest.nav"), icon=":material/forward_to_inbox:", url_path="digests")]
          if digest_widgets.can_manage() else []),
    ],
}
# Navigation first, so the page the link named is the page shown after signing in; hidden until then.
page = st.navigation(pages, position="sidebar" if signin.viewer_allowed() else "hidden")
signin.viewer_gate()
snap = ui.begin_run()
chrome.data_version_note(snap)
signin.access_note()
chrome.share_box(snap)
digest_widgets.subscribe_box(page.url_path)
chrome.link_notices(snap)
try:
    page.run()
finally:  # also when the page stops early: the widgets that refused link values have run by then
    if page is not home:  # the root address only passes its link on: the overview's run tells what it refused
        chrome.refused_link_notice()
