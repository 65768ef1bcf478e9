"""What a load reports: refusals (IngestError) and the reasons rows are rejected."""

from __future__ import annotations

import pandas as pd


class IngestError(Exception):
    """A file that cannot be loaded; the message says which file, column and what to do."""

    def __init__(self, message: str, rejects: pd.DataFrame | None = None):
        super().__init__(message)
        self.rejects = rejects


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
    return REASONS.get(code, code)


def required_missing(columns: list[str]) -> str:
    if len(columns) == 1:
        return f"the required column {columns[0]} is missing"
    return f"the required columns {', '.join(columns)} are missing"
