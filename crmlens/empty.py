"""What a reader sees before any data is loaded: where to load it, and for an admin a button that loads the demo
data (a browser user cannot run `python -m crmlens demo`)."""

from __future__ import annotations

import streamlit as st

from crmlens import ingest, store
from crmlens.ui import t

DEMO_CUSTOMERS = 2000
DEMO_SEED = 42


def no_data_notice() -> None:
    st.info(f"**{t('nodata.title')}**\n\n{t('nodata.body')}")
    from crmlens.digest.widgets import can_manage  # the admin rule of the Data page (signin.admin_gate)

    if not can_manage():
        st.caption(t("nodata.ask_admin"))
        return
    if st.button(t("nodata.demo_button"), icon=":material/science:", key="load_demo_data", help=t("nodata.demo_help")):
        from crmlens import demo

        with st.spinner(t("nodata.demo_loading")):
            try:
                ingest.load_tables(demo.generate(n_customers=DEMO_CUSTOMERS, seed=DEMO_SEED),
                                   source=f"demo (customers={DEMO_CUSTOMERS}, seed={DEMO_SEED}), loaded in the app")
            except store.StoreBusy:
                st.warning(t("nodata.demo_busy"))
                return
        st.rerun()
