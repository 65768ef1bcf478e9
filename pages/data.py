"""Data: load CSV exports (check, map, preview, load), what is loaded, the history, example files."""

import streamlit as st

from crmlens import contract, empty, ingest, safe, signin, tables, ui
from crmlens.ingest import layouts
from crmlens.ui import t
from crmlens.upload import (delimiter_choice, file_options, follow_load, inspect_upload, load_running, materialize,
                            required_note, start_load)
from crmlens.undo import undo_section

ui.run_through_app()
snap = ui.snapshot()

st.title(t("data.title"))
st.caption(t("data.caption"))

for message in st.session_state.pop("_data_load_messages", []):
    st.success(message)

st.subheader(t("data.upload"))
is_admin = signin.admin_gate()
uploads = None if not is_admin else st.file_uploader(t("data.upload"), type=["csv", "txt", "tsv", "xlsx", "xlsm", "xlsb", "xls", "ods"], accept_multiple_files=True,
                           help=t("data.upload.help"), label_visibility="collapsed",
                           key=f"uploads_{st.session_state.get('_upload_generation', 0)}")
# Shown with the uploader, not only once files are there: a link's ?delimiter= is kept.
delimiter = delimiter_choice(st.columns(3)[0]) if is_admin else None
if uploads:
    left, right = st.columns(2)
    mode = left.radio(t("data.upload.mode"), list(ingest.MODES), horizontal=True,
                      format_func=lambda m: t(f"data.upload.mode.{m}"), help=t("data.upload.mode.help"))
    day_first = right.checkbox(t("data.upload.day_first"))
    plans = []
    for upload in uploads:
        path = materialize(upload)
        with st.container(border=True):
            options = file_options(upload, path, delimiter)
            result = inspect_upload(upload, path, options, day_first)
            plans.append((path, upload.name, options, result))
    failed = any(result is None for *_, result in plans)
    over_limit = [r for *_, r in plans if r is not None and r.n_rejected / r.n_read > ingest.MAX_REJECT_SHARE]
    refused = st.session_state.get("_data_refused_for_rejects", False)  # e.g. ids already loaded
    allow_rejects = (bool(over_limit) or refused) and st.checkbox(
        t("data.upload.allow_rejects", files=safe.md_list(r.file_name for r in (over_limit or [r for *_, r in plans if r])),
          share=f"{ingest.MAX_REJECT_SHARE:.0%}"))
    # a status log loads whole (crmlens.ingest.status_log): said before the click, not only refused after it
    partial_logs = [r for *_, r in plans if r is not None and r.is_status_log] if mode != "replace" else []
    for r in partial_logs:
        st.warning(t("ingest.status_log.whole", file=safe.md(r.file_name)))
    blocked = failed or (bool(over_limit) and not allow_rejects) or bool(partial_logs)
    if st.button(t("data.upload.button", n=len(uploads)), type="primary", disabled=blocked or load_running()):
        start_load(plans, mode, day_first, 1.0 if allow_rejects else ingest.MAX_REJECT_SHARE)
follow_load()  # also after leaving the page and coming back: the load goes on meanwhile

if snap is not None:
    st.subheader(t("data.tables"))
    span = ui.run_query("data_span")
    span["table_name"] = span["table_name"].map(lambda n: t(f"table.{n}"))
    names = {"table_name": "table", "n_rows": "rows", "file_name": "file", "n_rejected": "rejected"}
    tables.show(span.rename(columns=names), "data_tables.csv", "data", kinds={"first_date": "date", "last_date": "date"})
    st.subheader(t("data.loads"))
    loads = ui.run_query("data_loads", {"limit": 200})
    if loads.empty:
        st.caption(t("data.loads.empty"))
    else:
        loads["table_name"] = loads["table_name"].map(lambda n: t(f"table.{n}"))
        tables.show(loads.drop(columns=["load_id", "content_hash"]).rename(columns=names), "data_loads.csv", "data",
                    kinds={"version": "int", "loaded_at": "datetime"}, codes={"mode": "data.mode"})
    if is_admin and not load_running():
        undo_section(loads)
else:
    empty.no_data_notice()

st.subheader(t("data.examples"))
st.caption(t("data.examples.help"))
with st.expander(t("importer.layouts.title")):
    st.dataframe(
        [{t("importer.layouts.col.name"): lay.title(ui.language()), t("data.col.table"): t(f"table.{lay.table}"),
          t("importer.layouts.col.recognised"): ", ".join(lay.recognise)} for lay in layouts.catalogue()],
        hide_index=True)
for table in contract.TABLES.values():
    with st.expander(t(f"table.{table.name}")):
        st.markdown(", ".join(
            f"`{c.name}`" + required_note(c) for c in table.columns
        ))
        example = contract.EXAMPLES_DIR / f"{table.name}.csv"
        st.download_button(t("data.examples.download", table=table.name), example.read_bytes(),
                           file_name=example.name, mime="text/csv", key=f"example_{table.name}")
