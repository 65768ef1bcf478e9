"""The Data page's upload flow: keep each upload as a file, let the user check and fix how it
will load (table, encoding, column mapping), and show what staging found. Loading itself is
crmlens.ingest's job."""

from __future__ import annotations

import contextlib
import logging
import pathlib
import threading
from dataclasses import dataclass, field

import streamlit as st

from crmlens import asof, contract, downloads, export, ingest, safe, store, tables, tempfiles, ui
from crmlens.ingest import excel, guess, header, layouts, stage
from crmlens.ui import t

NOT_MAPPED = ""
FIXED = "✎ fixed value ✎"  # stands for "the same value in every row"; no export has such a header
AUTO = "auto"
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # as server.maxUploadSize in .streamlit/config.toml


def materialize(upload) -> pathlib.Path:
    """The upload as a file DuckDB can read, written once per upload."""
    folder = tempfiles.session_folder()  # removed when the session ends
    path = pathlib.Path(folder) / f"{upload.file_id}{pathlib.Path(upload.name).suffix}"
    if not path.exists():
        path.write_bytes(upload.getbuffer())
    return path


def forget_uploads(paths: list[pathlib.Path]) -> None:
    """Delete the copies of uploads once they are loaded."""
    for path in paths:
        path.unlink(missing_ok=True)


# The delimiter choice, kept in the address by name (?delimiter=whitespace); auto = detect.
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "bar": "|", "whitespace": ingest.WHITESPACE}
DELIMITER_NAMES_BY_VALUE = {v: k for k, v in DELIMITER_NAMES.items()}


def delimiter_choice(container) -> str | None:
    """The delimiter for the files of this upload (URL-bound); None means detect."""
    # Labels made now, in this run's language (a format_func calling t later could run in another one).
    labels = {d: t(f"data.upload.delimiter.{d}") for d in [AUTO, *DELIMITER_NAMES]}
    name = container.selectbox(t("data.upload.delimiter"), list(labels), key="delimiter", bind="query-params",
                               format_func=labels.__getitem__, help=t("data.upload.delimiter.help"))
    return DELIMITER_NAMES.get(name)


def file_options(upload, path: pathlib.Path, delimiter: str | None = None) -> ingest.FileOptions | None:
    """Table, encoding and column mapping for one file: detected or saved, changeable by hand."""
    st.markdown(f"**{safe.md(upload.name)}**")
    key = upload.file_id
    left, right = st.columns(2)
    encoding = sheet = None
    try:
        if excel.is_workbook(path):  # an Excel workbook: which sheet, not which encoding
            sheets, fullest = _workbook(str(path), upload.name)
            sheet = right.selectbox(t("importer.excel.sheet"), sheets, index=sheets.index(fullest), key=f"sheet_{key}")
            unsure = False
            header_row, detected, top = header_choice(right, str(path), None, upload.name, None, sheet, key)
            headers = _header_scan(str(path), None, upload.name, None, sheet)[2] if header_row == detected \
                else _headers(str(path), encoding, upload.name, sheet, header_row)
        else:
            encoding = right.selectbox(t("data.file.encoding"), [AUTO, *ingest.ENCODINGS], key=f"enc_{key}",
                                       format_func=lambda e: t("data.file.auto") if e == AUTO else e)
            encoding = None if encoding == AUTO else encoding
            header_row, detected, top = header_choice(right, str(path), encoding, upload.name, delimiter, None, key)
            # The scan that found the header read the file once already (line ends, bad bytes): reuse it.
            if header_row == detected:
                headers, unsure = _header_scan(str(path), encoding, upload.name, delimiter, None)[2:]
            else:
                headers, _, unsure = _layout(str(path), encoding, upload.name, delimiter, header_row)
    except ingest.IngestError as e:
        st.error(safe.md(refusal(e)))
        return None
    if unsure:
        st.warning(t("data.file.delimiter_unsure", n=len(headers)))
    if delimiter is not None:  # other columns: the table and mapping are chosen afresh
        key = f"{key}_{list(DELIMITER_NAMES.values()).index(delimiter)}"
    if header_row != detected:  # so do other header rows
        key = f"{key}_h{header_row}"
    samples = _samples(headers, top) if header_row == 0 else {}
    saved = ingest.saved_mapping(headers) if header_row != 0 else None
    layout = None if saved else layouts.recognise(headers)  # a known export layout (crmlens/layouts.json)
    guessed = contract.TABLES[saved.table if saved else layout.table] if saved or layout \
        else ingest.guess_table(headers, upload.name)
    names = list(contract.TABLES)
    table = left.selectbox(t("data.file.table"), names, index=names.index(guessed.name), key=f"table_{key}",
                           format_func=lambda n: t(f"table.{n}"))
    if saved and saved.table == table:
        seed = saved.mapping
        st.caption(t("data.file.saved_mapping"))
        if saved.kept_own:
            st.caption(t("data.file.saved_mapping_kept_own", columns=", ".join(saved.kept_own)))
    else:
        fixed = layouts.mapping_for(layout, headers) if layout and layout.table == table else {}
        if fixed:
            st.info(t("importer.layout.recognised", name=layout.title(ui.language())))
        try:
            seed, guesses = _guesses(str(path), upload.name, table, encoding, tuple(sorted(fixed.items())), sheet,
                                     delimiter, header_row)
        except ingest.IngestError as e:
            st.error(safe.md(refusal(e)))
            return None
        show_guesses(guesses, key)
    mapping = _mapping_editor(contract.TABLES[table], headers, seed, key, samples)
    missing = st.text_input(t("importer.missing.label"), key=f"missing_{key}", help=t("importer.missing.help"))
    return ingest.FileOptions(table=table, mapping=mapping, encoding=encoding, delimiter=delimiter,
                              layout=layout.id if layout and layout.table == table and not saved else None, sheet=sheet,
                              missing=tuple(w.strip() for w in missing.split(",") if w.strip()), header_row=header_row)


NO_HEADER = 0
SHOWN_CELLS = 4  # of a line, in the header row choice
SHOWN_SAMPLES = 3  # values of a column, when the file has no header row


def header_choice(container, path: str, encoding: str | None, name: str, delimiter: str | None, sheet: str | None,
                  key: str) -> tuple[int, int, list[list[str]]]:
    """The header's row for one file (detected; the user may choose another line or "no header row"), kept in the
    page's state per file like its encoding and sheet. Returns (row chosen, row detected, the file's top rows)."""
    detected, top, *_ = _header_scan(path, encoding, name, delimiter, sheet)
    rows = [NO_HEADER, *range(1, max(len(top), detected) + 1)]
    labels = {NO_HEADER: t("importer.header.none")}
    labels.update({i: t("importer.header.option", row=i, cells=_cells(top[i - 1] if i <= len(top) else []))
                   for i in rows[1:]})
    widget = f"header_{key}_{sheet or ''}_{DELIMITER_NAMES_BY_VALUE.get(delimiter, AUTO)}"
    chosen = container.selectbox(t("importer.header.label"), rows, index=rows.index(detected), key=widget,
                                 format_func=labels.__getitem__, help=t("importer.header.help"))
    if chosen == NO_HEADER:
        st.info(t("importer.header.no_header"))
    elif chosen <= len(top) and header.looks_like_data(top[chosen - 1]):
        st.warning(t("importer.header.looks_like_data", row=chosen))
    elif chosen != detected:
        st.caption(t("importer.header.chosen", row=chosen, detected=detected))
    elif detected > 1 and sheet is None:  # a workbook's header row is said with its counts
        st.caption(t("importer.header.detected", row=detected, n=detected - 1))
    return chosen, detected, top


def _cells(row: list[str]) -> str:
    cells = [c.strip() for c in row if c.strip()]
    text = ", ".join(cells[:SHOWN_CELLS]) + (", …" if len(cells) > SHOWN_CELLS else "")
    return text[:80] or "—"


def _samples(headers: list[str], top: list[list[str]]) -> dict[str, str]:
    """A few values of each column of a file without a header row (named by position), to map it by its values."""
    out = {}
    for i, h in enumerate(headers):
        values = list(dict.fromkeys(r[i].strip() for r in top if len(r) > i and r[i].strip()))[:SHOWN_SAMPLES]
        if values:
            out[h] = t("importer.header.sample", header=h, values=", ".join(v[:30] for v in values))
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def _header_scan(path: str, encoding: str | None, name: str, delimiter: str | None,
                 sheet: str | None) -> tuple[int, list[list[str]], list[str], bool]:
    """The header row detected, the top rows, the header there and whether the delimiter was unsure: once per
    upload, encoding, delimiter and sheet."""
    headers, _, unsure, _, detected, top = ingest.open_header(pathlib.Path(path), encoding, name, delimiter, sheet)
    return detected, top, headers, unsure


def _column_label(col: contract.Column) -> str:
    """The canonical name, with its Chinese name in the Chinese interface, and 'required'."""
    label = col.name
    if ui.language() == "zh":
        chinese = next((a for a in col.aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)), None)
        label += f"（{chinese}）" if chinese else ""
    return label + required_note(col)


def required_note(col: contract.Column) -> str:
    """' (required)', ' (required without complaint_id)' or nothing."""
    if not col.required:
        return ""
    if col.optional_with:
        return f" ({t('data.contract.required_without', columns=', '.join(col.optional_with))})"
    return f" ({t('data.contract.required')})"


def _mapping_editor(table: contract.Table, headers: list[str], seed: dict[str, str], key: str,
                    samples: dict[str, str] | None = None) -> dict[str, str]:
    keys = {col.name: f"map_{key}_{table.name}_{col.name}" for col in table.columns}
    # The widgets' current choices (from the last run) or the seed, for the count in the title.
    current = {c: st.session_state.get(k, seed.get(c, NOT_MAPPED)) for c, k in keys.items()}
    n_mapped = sum(1 for h in current.values() if h != NOT_MAPPED)
    missing = table.missing({c for c, h in current.items() if h != NOT_MAPPED})
    # The panel stays as the user left it while they work in it: its label and default never change
    # between runs (a changed label or default makes a new panel, closed), and it keeps its state.
    opened_first = st.session_state.setdefault(f"mapping_default_{key}_{table.name}", bool(missing))
    st.caption(t("importer.mapping.count", n=n_mapped, total=len(table.columns)))
    with st.expander(t("importer.mapping.title"), expanded=opened_first, key=f"mapping_open_{key}_{table.name}",
                     on_change="rerun"):
        st.caption(t("data.file.mapping.help"))
        columns = st.columns(3)
        mapping = {}
        derived = _derived_amount(table, headers, current)
        for i, col in enumerate(table.columns):
            options = [NOT_MAPPED, FIXED, *headers]
            seeded = seed.get(col.name)
            fixed = seeded if seeded and ingest.is_fixed(seeded) else None
            if seeded and not fixed and seeded not in headers:
                seeded = None
            cell = columns[i % 3]
            chosen = cell.selectbox(
                _column_label(col), options,
                index=options.index(FIXED if fixed else seeded) if seeded else 0,
                key=keys[col.name],
                format_func=lambda o, d=derived if col.name == "amount" else None: (
                    (samples or {}).get(o) or (d if o == NOT_MAPPED and d else _option_label(o))),
            )
            if chosen == FIXED:
                value = cell.text_input(t("data.file.fixed_value", column=col.name), key=f"{keys[col.name]}_fixed",
                                        value=fixed[1:] if fixed else "")
                if value.strip():
                    mapping[col.name] = "=" + value.strip()
            elif chosen != NOT_MAPPED:
                mapping[col.name] = chosen
    return mapping


@st.cache_data(max_entries=64, show_spinner=False)
def _layout(path: str, encoding: str | None, name: str, delimiter: str | None,
            header_row: int | None = None) -> tuple[list[str], str, bool]:
    """Once per upload, encoding, delimiter and header row: reading a header looks at the whole file (line ends, bad bytes)."""
    return ingest.read_layout(pathlib.Path(path), encoding, name, delimiter, header_row=header_row)


def _guesses(path: str, name: str, table: str, encoding: str | None, fixed: tuple = (), sheet: str | None = None,
             delimiter: str | None = None, header_row: int | None = None):
    """The automatic mapping for a table, each guess checked against the column's values (ingest.guess);
    `fixed`: (column, header) pairs a known layout gives, not guessed."""
    return guess.guess_file(pathlib.Path(path), name, contract.TABLES[table], encoding, dict(fixed), sheet, delimiter,
                            header_row)


@st.cache_data(max_entries=64, show_spinner=False)
def _workbook(path: str, name: str) -> tuple[list[str], str]:
    """A workbook's sheets and the fullest one (the default choice)."""
    copy, fullest, _ = excel.to_csv(pathlib.Path(path), name)
    copy.unlink(missing_ok=True)
    return excel.sheet_names(pathlib.Path(path), name), fullest


def show_guesses(guesses: list, key: str) -> None:
    """Each guessed column with its confidence; a doubtful guess (left unmapped) pointed out."""
    for g in guesses:
        if not g.taken:
            st.warning(t("importer.guess.doubtful", header=safe.md(g.header), column=g.column,
                         reason=t(f"importer.guess.reason.{g.reason}"), values=safe.md_list(g.values)))
    if not guesses:
        return
    with st.expander(t("importer.guess.title")):
        table = [{t("importer.guess.col.column"): g.column, t("importer.guess.col.header"): g.header,
                  t("importer.guess.col.confidence"): t(f"importer.guess.confidence.{g.confidence}"),
                  t("importer.guess.col.values"): ", ".join(g.values)} for g in guesses]
        st.dataframe(table, hide_index=True, key=f"guesses_{key}")


@st.cache_data(max_entries=64, show_spinner=False)
def _headers(path: str, encoding: str | None, name: str, sheet: str | None = None,
             header_row: int | None = None) -> list[str]:
    """Once per upload, encoding, sheet and header row: reading a header looks at the whole file (line ends, bad bytes)."""
    return ingest.read_headers(pathlib.Path(path), encoding, name, sheet=sheet, header_row=header_row)


@st.cache_data(max_entries=64, show_spinner=False)
def _inspect(path: str, name: str, table: str, mapping: tuple, encoding: str | None, day_first: bool,
             layout: str | None = None, sheet: str | None = None, missing: tuple = (), delimiter: str | None = None,
             header_row: int | None = None):
    options = ingest.FileOptions(table=table, mapping=dict(mapping), encoding=encoding, layout=layout, sheet=sheet,
                                 missing=missing, delimiter=delimiter, header_row=header_row)
    return ingest.inspect_file(path, name, options, day_first)


def inspect_upload(upload, path: pathlib.Path, options: ingest.FileOptions | None, day_first: bool):
    """Stage the file as chosen and show what would load; None when it cannot load."""
    if options is None:
        return None
    try:
        result = _inspect(str(path), upload.name, options.table, tuple(sorted(options.mapping.items())),
                          options.encoding, day_first, options.layout, options.sheet, options.missing, options.delimiter,
                          options.header_row)
    except ingest.IngestError as e:
        st.error(safe.md(refusal(e)))
        return None
    counts = st.columns(4)
    counts[0].metric(t("data.file.read"), f"{result.n_read:,}")
    loaded = (t("data.file.orders_from_lines", lines=f"{result.n_lines:,}") if result.is_order_lines else
              t("data.file.tickets_from_log", changes=f"{result.n_changes:,}") if result.is_status_log else None)
    counts[1].metric(t("data.file.loaded"), f"{result.n_loaded:,}", help=loaded)
    counts[2].metric(t("data.file.rejected"), f"{result.n_rejected:,}")
    counts[3].metric(t("data.file.format"), f"Excel · {result.sheet}" if getattr(result, "sheet", "")
                     else f"{result.encoding} · {_delimiter_name(result.delimiter)}")
    if getattr(result, "sheet", "") and result.header_row > 0:
        st.caption(t("importer.excel.header_row", sheet=safe.md(result.sheet), row=result.row_offset + 1))
    if result.is_order_lines:
        st.caption(t("data.file.lines_note", lines=f"{result.n_lines:,}", orders=f"{result.n_loaded:,}",
                     cancelled=f"{result.n_cancelled:,}"))
    if result.is_status_log:
        st.caption(t("data.file.log_note", changes=f"{result.n_changes:,}", tickets=f"{result.n_loaded:,}"))
    if result.generated_ids:
        st.info(t("data.file.generated_ids", file=safe.md(result.file_name), n=f"{result.n_loaded:,}"))
    if result.extras:
        st.caption(t("data.file.extras", columns=safe.md_list(result.extras.values())))
    st.dataframe(result.preview, hide_index=True, height=200, placeholder=tables.MISSING)  # an empty cell, not "None"
    if result.n_rejected:
        st.warning(t("data.file.rejects_note", n=f"{result.n_rejected:,}"))
        show_rejects(result, upload.file_id)
    return result


def refusal(error: Exception) -> str:
    """A refused file in the reader's language (IngestError carries its catalog key)."""
    return error.message(ui.language()) if isinstance(error, ingest.IngestError) else str(error)


def show_rejects(result, key: str) -> None:
    rejects = result.rejects.assign(reason=result.rejects["reason"].map(lambda r: t(f"data.reason.{r}")))
    st.dataframe(rejects, hide_index=True, height=180, placeholder=tables.MISSING)
    downloads.button(t("data.upload.rejects_download"), lambda: export.to_csv_bytes(rejects),
                     file_name=f"rejects_{result.file_name}", key=f"rejects_{key}")


def _derived_amount(table: contract.Table, headers: list[str], current: dict[str, str]) -> str | None:
    """The words for an order line's amount left unmapped when it is worked out as quantity x unit price (the file has
    a quantity mapped and a unit price column), else None: "not in this file" would read as an error."""
    chosen = {c: h for c, h in current.items() if h != NOT_MAPPED}
    if table.name != "orders" or "quantity" not in chosen or "amount" in chosen:
        return None
    price = stage.unit_price_header(headers, chosen)
    return t("data.file.amount_derived", quantity=chosen["quantity"], price=price) if price else None


def _option_label(option: str) -> str:
    if option == NOT_MAPPED:
        return t("data.file.not_mapped")
    return t("data.file.fixed") if option == FIXED else option


def _delimiter_name(delimiter: str) -> str:
    if delimiter == ingest.WHITESPACE:
        return t("data.upload.delimiter.whitespace")
    return {",": ",", ";": ";", "\t": "tab", "|": "|"}.get(delimiter, delimiter)


def load_summary(result) -> str:
    summary = _load_summary(result)
    if getattr(result, "layout", "") and (layout := layouts.by_id(result.layout)):
        summary += " " + t("importer.layout.used", name=layout.title(ui.language()))
    if result.saved_mapping:
        summary += " " + t("data.upload.saved_mapping_used")
    if result.kept_own_columns:
        summary += " " + t("data.file.saved_mapping_kept_own", columns=", ".join(result.kept_own_columns))
    if getattr(result, "generated_ids", False):
        summary += " " + t("data.upload.generated_ids", file=safe.md(result.file_name))
    return summary


def _load_summary(result) -> str:
    if result.is_order_lines:
        return t("data.upload.loaded_lines", file=safe.md(result.file_name), lines=f"{result.n_lines:,}",
                 orders=f"{result.n_loaded:,}", cancelled=f"{result.n_cancelled:,}",
                 rejected=f"{result.n_rejected:,}")
    if result.is_status_log:
        return t("data.upload.loaded_log", file=safe.md(result.file_name), changes=f"{result.n_changes:,}",
                 tickets=f"{result.n_loaded:,}", rejected=f"{result.n_rejected:,}")
    return t("data.upload.loaded", file=safe.md(result.file_name), rows=f"{result.n_loaded:,}",
             table=t(f"table.{result.table}"), rejected=f"{result.n_rejected:,}")


# --- loading, on a thread of its own ------------------------------------------------------------
# A click during a long load reruns the page and would stop a load run by the script itself
# (Streamlit interrupts the script at its next progress update, and the load rolls back). The
# load runs on its own thread instead; the page follows it, also after such a rerun.

_JOB_KEY = "_data_load_job"
_ERROR_KEY = "_data_load_error"
log = logging.getLogger(__name__)


@dataclass
class LoadJob:
    paths: list[pathlib.Path]
    fraction: float = 0.0
    step: str = ""
    results: list | None = None
    error: Exception | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def report(self, fraction: float, step: str) -> None:
        self.fraction, self.step = fraction, step


def start_load(plans: list[tuple], mode: str, day_first: bool, max_reject_share: float) -> None:
    """Start loading the checked files (path, name, options, result) in the background."""
    job = LoadJob(paths=[path for path, *_ in plans])

    keep = contextlib.ExitStack()  # the session may end meanwhile: its files stay until the load is done
    for folder in {str(path.parent) for path in job.paths}:
        keep.enter_context(tempfiles.reading(folder))

    def work() -> None:
        try:
            job.results = ingest.load_files(
                job.paths, mode=mode, day_first=day_first, max_reject_share=max_reject_share,
                file_names=[name for _, name, *_ in plans], options=[options for _, _, options, _ in plans],
                progress=job.report)
        except Exception as e:  # shown on the page, whatever it is; the data is unchanged
            if not isinstance(e, (ingest.IngestError, store.StoreBusy)):
                log.exception("loading %s failed", [name for _, name, *_ in plans])
            job.error = e
        finally:
            keep.close()
            job.finished.set()
        if job.error is None:
            from crmlens.digest import run as digest_run

            digest_run.after_load(None)  # alerts are checked in a process of their own; the load is done

    st.session_state[_JOB_KEY] = job
    # Not a daemon: a server stopped mid-load finishes the load (or its rollback) before it exits.
    threading.Thread(target=work, name="crmlens-load").start()


def load_running() -> bool:
    return _JOB_KEY in st.session_state


def progress_text(step: str) -> str:
    """The progress bar's line: the file being loaded (a user's file name, shown as the characters it is: the bar
    reads Markdown) or the step after the files."""
    if step in ("", "publish", "done"):
        return t("data.upload.progress", step=t(f"data.upload.step.{step or 'start'}"))
    return t("data.upload.progress", step=safe.md(step))


def follow_load() -> None:
    """Show the running load's progress until it ends, then its outcome (once)."""
    job: LoadJob | None = st.session_state.get(_JOB_KEY)
    if job is not None:
        bar = st.progress(job.fraction, text=progress_text(job.step))
        while not job.finished.wait(0.25):
            bar.progress(job.fraction, text=progress_text(job.step))
        _record_outcome(job)
        if job.error is None:
            asof.follow_own_load()  # a link's older data version gives way to the data just loaded
            st.rerun()  # a fresh uploader; the messages show at the top
        bar.empty()
    error = st.session_state.get(_ERROR_KEY)
    if error is not None:
        st.error(t("data.upload.failed", message=safe.md(error)))
        del st.session_state[_ERROR_KEY]


def _record_outcome(job: LoadJob) -> None:
    """Only session state here: a rerun cannot cut this short (Streamlit stops a run at its next element)."""
    del st.session_state[_JOB_KEY]
    if job.error is not None:
        st.session_state[_ERROR_KEY] = refusal(job.error)
        st.session_state["_data_refused_for_rejects"] = getattr(job.error, "rejects", None) is not None
        return
    st.session_state.pop("_data_refused_for_rejects", None)
    forget_uploads(job.paths)
    st.session_state["_data_load_messages"] = [load_summary(r) for r in job.results]
    st.session_state["_upload_generation"] = st.session_state.get("_upload_generation", 0) + 1
