"""The Data page's undo: roll back to a kept data version, or clear a table (admins only; crmlens.versions)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crmlens import asof, contract, ingest, safe, store, ui, versions
from crmlens.ui import t


def undo_section(loads: pd.DataFrame) -> None:
    """`loads`: the load history as the page shows it (version, loaded_at, file_name, table_name, ...)."""
    st.subheader(t("importer.versions.title"))
    for message in st.session_state.pop("_undo_messages", []):
        st.success(message)
    try:
        n_keep = versions.keep_setting()
    except ingest.IngestError as e:
        st.error(safe.md(str(e)))
        return
    st.caption(t("importer.versions.help", n=n_keep))
    kept = versions.kept(store.db_path())
    left, right = st.columns(2)
    if not kept:
        left.caption(t("importer.versions.none"))
    else:
        by_version = loads.drop_duplicates("version").set_index("version")

        def label(v: int) -> str:
            if v not in by_version.index:
                return f"{v}"
            row = by_version.loc[v]
            what = f"{row['file_name']} → {row['table_name']}" if row["file_name"] else row["table_name"]
            return t("importer.versions.option", version=v, loaded_at=f"{pd.Timestamp(row['loaded_at']):%Y-%m-%d %H:%M}",
                     what=what)

        # Labels as options (no format_func: the widget's value is then the same text in every run).
        choices = {label(v): v for v in sorted(kept, reverse=True)}
        version = choices[left.selectbox(t("importer.versions.choose"), list(choices), key="undo_version")]
        sure = left.checkbox(t("importer.versions.confirm", version=version), key="undo_sure")
        if left.button(t("importer.versions.button"), disabled=not sure, key="undo_button"):
            _run(lambda: t("importer.versions.done", version=version, new=versions.rollback(version)))
    tables = {t(f"table.{n}"): n for n in contract.TABLES}
    table = tables[right.selectbox(t("importer.clear.choose"), list(tables), key="clear_table")]
    sure = right.checkbox(t("importer.clear.confirm", table=t(f"table.{table}")), key="clear_sure")
    if right.button(t("importer.clear.button"), disabled=not sure, key="clear_button"):
        _run(lambda: t("importer.clear.done", table=t(f"table.{table}"), new=versions.clear(table)))


def _run(action) -> None:
    try:
        message = action()
    except (ingest.IngestError, store.StoreBusy, store.NotOurDatabase) as e:
        st.error(safe.md(e.message(ui.language()) if isinstance(e, ingest.IngestError) else str(e)))
        return
    for key in ("undo_sure", "clear_sure"):
        st.session_state.pop(key, None)
    st.session_state["_undo_messages"] = [message]
    asof.follow_own_load()
    st.rerun()
