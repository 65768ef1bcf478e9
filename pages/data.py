"""Data: what is loaded, the load history, loading CSV files, and the example files."""

import pathlib
import tempfile

import streamlit as st

from crmlens import contract, fmt, ingest, store, ui
from crmlens.ui import t

ui.run_through_app()

EXAMPLES = pathlib.Path(ingest.__file__).resolve().parent / "examples"
lang = ui.language()
snap = ui.snapshot()

st.title(t("data.title"))
st.caption(t("data.caption"))

st.subheader(t("data.upload"))
uploads = st.file_uploader(t("data.upload"), type=["csv", "txt", "tsv"], accept_multiple_files=True,
                           help=t("data.upload.help"), label_visibility="collapsed")
mode = st.radio(t("data.upload.mode"), ["replace", "append"], horizontal=True,
                format_func=lambda m: t(f"data.upload.mode.{m}"))
day_first = st.checkbox(t("data.upload.day_first"))
if uploads and st.button(t("data.upload.button", n=len(uploads)), type="primary"):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, upload in enumerate(uploads):
            path = pathlib.Path(tmp) / f"{i}.csv"
            path.write_bytes(upload.getvalue())
            paths.append(path)
        try:
            results = ingest.load_files(paths, mode=mode, day_first=day_first,
                                        file_names=[u.name for u in uploads])
        except (ingest.IngestError, store.StoreBusy) as e:
            st.error(t("data.upload.failed", message=str(e)))
            rejects = getattr(e, "rejects", None)
            if rejects is not None and len(rejects):
                st.dataframe(rejects, hide_index=True)
        else:
            for r in results:
                st.success(t("data.upload.loaded", file=r.file_name, rows=f"{r.n_loaded:,}",
                             table=t(f"table.{r.table}"), rejected=f"{r.n_rejected:,}"))
                if r.n_rejected:
                    st.dataframe(r.rejects, hide_index=True)
                    st.download_button(t("data.upload.rejects_download"), r.rejects.to_csv(index=False),
                                       file_name=f"rejects_{r.file_name}", mime="text/csv")
            snap = ui.begin_run()

if snap is not None:
    st.subheader(t("data.tables"))
    span = ui.run_query("data_span")
    span["table_name"] = span["table_name"].map(lambda n: t(f"table.{n}"))
    st.dataframe(
        span, hide_index=True,
        column_config={
            "table_name": t("data.col.table"), "n_rows": st.column_config.NumberColumn(t("data.col.rows"), format="localized"),
            "first_date": st.column_config.DateColumn(t("data.col.first_date")),
            "last_date": st.column_config.DateColumn(t("data.col.last_date")),
        },
    )
    st.subheader(t("data.loads"))
    loads = ui.run_query("data_loads", {"limit": 200})
    if loads.empty:
        st.caption(t("data.loads.empty"))
    else:
        loads["table_name"] = loads["table_name"].map(lambda n: t(f"table.{n}"))
        st.dataframe(
            loads.drop(columns=["load_id"]), hide_index=True,
            column_config={
                "version": t("data.col.version"), "loaded_at": t("data.col.loaded_at"),
                "file_name": t("data.col.file"), "table_name": t("data.col.table"), "mode": t("data.col.mode"),
                "n_rows": t("data.col.rows"), "n_rejected": t("data.col.rejected"), "content_hash": None,
            },
        )
else:
    st.info(f"**{t('nodata.title')}**\n\n{t('nodata.body')}")

st.subheader(t("data.examples"))
st.caption(t("data.examples.help"))
for table in contract.TABLES.values():
    with st.expander(t(f"table.{table.name}")):
        st.markdown(", ".join(
            f"`{c.name}`" + (f" ({t('data.contract.required')})" if c.required else "") for c in table.columns
        ))
        example = EXAMPLES / f"{table.name}.csv"
        st.download_button(t("data.examples.download", table=table.name), example.read_bytes(),
                           file_name=example.name, mime="text/csv", key=f"example_{table.name}")
