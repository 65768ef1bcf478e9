"""Every table the pages show, and its CSV download, in one readable form.

One place turns a query's frame into what a manager reads: column headers in the reader's language
(`<prefix>.col.<column>`, with `<prefix>.col.<column>.help` as the header's hover text), coded values
in the reader's language (`codes={"rung": "loyalty.rung"}` -> `loyalty.rung.<value>`), and every cell
formatted by crmlens.fmt.cell (kind from the column's name, or given). The page shows the numbers as
numbers (a column still sorts by value) with the same text the download holds.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crmlens import downloads, export, fmt, i18n
from crmlens.ui import language, t


MISSING = "–"  # a blank cell on screen (Streamlit draws a missing value as "None" unless told: show(placeholder=))


def _known(lang: str, key: str) -> str | None:
    text = i18n.translate(lang, key)
    return None if text == key else text


def header(column: str, prefixes: tuple[str, ...], lang: str) -> tuple[str, str | None]:
    """A column's header and its definition (None when it has none), from the first catalog that knows it."""
    for prefix in (*prefixes, "table"):
        key = f"{prefix}.col.{column}"
        if _known(lang, key):
            return _known(lang, key), _known(lang, key + ".help")
    return str(column), None  # already a header (a translated or user-named column)


def coded(value, prefix: str, lang: str):
    """A coded value (a rung, a state, a segment code) in the reader's language; user data stays as typed."""
    if not isinstance(value, str) or not value:
        return value
    return _known(lang, f"{prefix}.{value}") or value


def renamed(df: pd.DataFrame, names: dict) -> pd.DataFrame:
    """df with its columns renamed to headers already translated, each keeping the kind its code name gives
    (amt_ money, rate_ a share, ...): `df.pipe(tables.renamed, {"rate_win": t("funnel.col.rate_win")})`."""
    kinds = {**df.attrs.get("kinds", {}), **{names.get(c, c): fmt.cell_kind(str(c), df[c].dtype) for c in df.columns}}
    out = df.rename(columns=names)
    out.attrs["kinds"] = kinds
    return out


def _whole(values: pd.Series) -> bool:
    """Every amount given is a whole number (none has cents): shown without decimals."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return len(numbers) > 0 and bool((numbers == numbers.round()).all())


class Table:
    """A frame ready to show: translated headers and codes, each column's kind."""

    def __init__(self, df: pd.DataFrame, prefixes: tuple[str, ...] | str = (), kinds: dict | None = None,
                 codes: dict | None = None, lang: str | None = None):
        """`lang`: give it when there is no page run to ask (a download made on its own thread)."""
        # read now: a download is made later, on a thread that has no page run to ask
        self.lang = lang or language()
        self.yes_no = (i18n.translate(self.lang, "table.yes"), i18n.translate(self.lang, "table.no"))
        prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
        df = df.reset_index(drop=True).copy()
        for column, prefix in (codes or {}).items():
            if column in df.columns:
                df[column] = [coded(v, prefix, self.lang) for v in df[column]]
        kinds = {**df.attrs.get("kinds", {}), **(kinds or {})}
        self.kinds = {c: kinds.get(c) or fmt.cell_kind(str(c), df[c].dtype) for c in df.columns}
        for c, kind in self.kinds.items():  # amounts kept in whole units (deal sizes) read without ".00"
            if kind == "money" and _whole(df[c]):
                self.kinds[c] = "money_whole"
        for c, kind in self.kinds.items():
            if kind in ("date", "datetime") and not pd.api.types.is_datetime64_any_dtype(df[c].dtype):
                df[c] = pd.to_datetime(df[c], errors="coerce")
        labels = [header(str(c), prefixes, self.lang) for c in df.columns]
        self.helps = {label: help_text for label, help_text in labels}
        self.kinds = {label: self.kinds[c] for (label, _), c in zip(labels, df.columns)}
        self.frame = df.set_axis([label for label, _ in labels], axis=1)

    def text(self, column: str, value) -> str:
        return fmt.cell(value, self.kinds[column], self.lang, self.yes_no)

    def as_text(self) -> pd.DataFrame:
        """Every cell as the reader reads it: the download's content."""
        return pd.DataFrame({c: [self.text(c, v) for v in self.frame[c]] for c in self.frame.columns},
                            columns=self.frame.columns)

    def csv(self) -> bytes:
        """The download: every cell as shown; numbers stay numbers for a spreadsheet (not quoted as formulas)."""
        numbers = frozenset(c for c, kind in self.kinds.items() if kind not in ("text", "bool", "date", "datetime"))
        return export.to_csv_bytes(self.as_text(), numbers)

    def styler(self):
        """The frame with the same text on screen; numbers stay numbers underneath, so columns sort by value."""
        shown = self.frame.copy()
        for c, kind in self.kinds.items():
            if kind == "bool":  # a flag column of True/False shown as words
                shown[c] = shown[c].astype("object")
        formats = {c: (lambda v, c=c: self.text(c, v) or MISSING) for c in shown.columns}
        return shown.style.format(formats, na_rep=MISSING)

    def column_config(self) -> dict:
        return {c: st.column_config.Column(help=h) for c, h in self.helps.items() if h}


def shown_rows(df: pd.DataFrame) -> int:
    """How many of the frame's rows one table on screen holds: pandas renders at most styler.render.max_elements cells
    (262,144)."""
    return max(1, pd.get_option("styler.render.max_elements") // max(1, len(df.columns)))


def show(df: pd.DataFrame, file_name: str, prefixes: tuple[str, ...] | str = (), kinds: dict | None = None,
         codes: dict | None = None, download: pd.DataFrame | None = None, key: str | None = None,
         index: bool = False, **dataframe_kwargs) -> Table:
    """Draw a table and its CSV download (of `download`, e.g. more rows than shown, formatted alike)."""
    if index:
        df = df.reset_index()
    if download is None and len(df) > shown_rows(df):
        # a Styler of more cells than pandas renders is refused by Streamlit: the first rows on screen, all in the file
        download, df = df, df.head(shown_rows(df))
        st.caption(t("common.table_cut", shown=fmt.cell(len(df), "int", language()),
                     total=fmt.cell(len(download), "int", language())))
    table = Table(df, prefixes, kinds, codes)
    st.dataframe(table.styler(), hide_index=True, width="stretch", column_config=table.column_config(),
                 key=key, **{"placeholder": MISSING, **dataframe_kwargs})
    whole = table if download is None else Table(download.reset_index() if index else download, prefixes, kinds, codes)
    downloads.button(t("common.download_csv"), whole.csv, file_name=file_name,
                     key=f"download_{file_name}" if key is None else f"download_{key}", icon=":material/download:")
    return table
