"""CRM Lens entry point: page config, navigation and the sidebar every page shares."""

import streamlit as st

from crmlens import ui

st.set_page_config(page_title="CRM Lens", page_icon=":material/insights:", layout="wide")

ui.language_switch()
snap = ui.begin_run()

pages = {
    ui.t("nav.section.views"): [
        st.Page("pages/overview.py", title=ui.t("nav.overview"), icon=":material/dashboard:", url_path="overview", default=True),
    ],
    ui.t("nav.section.data"): [
        st.Page("pages/data.py", title=ui.t("nav.data"), icon=":material/database:", url_path="data"),
    ],
}
page = st.navigation(pages)
ui.data_version_note(snap)
page.run()
