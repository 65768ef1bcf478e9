"""What a load reports: refusals (IngestError) and the reasons rows are rejected."""

from __future__ import annotations

import pandas as pd

from crmlens import contract, i18n


class IngestError(Exception):
    """A file that cannot be loaded; the message says which file, column and what to do.

    A refusal made with `refuse` also carries its catalog key and values, so a page can
    show it in the reader's language (`message(lang)`); str() is the English text.
    """

    def __init__(self, message: str, rejects: pd.DataFrame | None = None, key: str | None = None,
                 values: dict | None = None):
        super().__init__(message)
        self.rejects = rejects
        self.key = key
        self.values = values or {}

    def message(self, lang: str) -> str:
        return _render(lang, self.key, self.values) if self.key else str(self)


def _render(lang: str, key: str, values: dict) -> str:
    """Catalog entry `key` filled in; a `reason` value is a reject reason code, said in words; a table is named in
    the reader's words, and its missing columns with a header in the reader's language that the file may use."""
    if "reason" in values:
        values = {**values, "reason": i18n.translate(lang, f"data.reason.{values['reason']}")}
    table = contract.TABLES.get(values.get("table")) if isinstance(values.get("table"), str) else None
    if table is not None and lang == "zh":  # English keeps the table's own name, as the CLI prints it
        values = {**values, "table": i18n.translate(lang, f"table.{table.name}")}
        if isinstance(values.get("columns"), str):
            values["columns"] = "、".join(_with_chinese_header(table, c) for c in values["columns"].split(", "))
    return i18n.translate(lang, key, **values)


def _with_chinese_header(table, name: str) -> str:
    """order_date（或“下单日期”）: the column's name, and a Chinese header the loader also takes for it."""
    try:
        column = table.column(name)
    except StopIteration:
        return name
    chinese = next((a for a in column.aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)), None)
    return f"{name}（或“{chinese}”）" if chinese else name


def refuse(key: str, rejects: pd.DataFrame | None = None, **values) -> IngestError:
    """An IngestError whose text is catalog entry `key` (locales/*/ingest.json)."""
    return IngestError(_render("en", key, values), rejects, key, values)


MAX_LISTED_COLUMNS = 20


def column_list(headers: list[str]) -> str:
    """A file's columns for a message: the first 20, and how many more (a wide file has thousands)."""
    shown = ", ".join(h if len(h) <= 60 else h[:59] + "…" for h in headers[:MAX_LISTED_COLUMNS])
    return shown + (f", … (+{len(headers) - MAX_LISTED_COLUMNS:,})" if len(headers) > MAX_LISTED_COLUMNS else "")


def missing_key(prefix: str, columns: list[str]) -> str:
    return f"{prefix}.missing_one" if len(columns) == 1 else f"{prefix}.missing_many"


REASONS = {
    "invalid_date": "not a date",
    "invalid_timestamp": "not a date-time",
    "invalid_double": "not a number",
    "invalid_integer": "not a whole number",
    "invalid_boolean": "not yes/no",
    "missing_value": "value missing in a required column",
    "duplicate_key": "duplicate id (an earlier row has it)",
    "already_loaded": "id already loaded",
    "before_created": "earlier than the creation time",
}


def describe_reason(code: str) -> str:
    """A reject reason in words (English; the Data page shows data.reason.<code> in its language)."""
    return i18n.translate("en", f"data.reason.{code}") if f"data.reason.{code}" in i18n.catalog("en") \
        else REASONS.get(code, code)
