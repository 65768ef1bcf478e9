"""Tables as files people download: CSV that Excel opens correctly and safely."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A number as crmlens.fmt.cell writes it ("-1,234.50", "+2.5 pp", "-3.0%"), in a column of numbers: a
# spreadsheet reads it as a number, not a formula, and a quote in front would turn it into text.
FORMATTED_NUMBER = re.compile(r"[+-]?[\d,]*\.?\d+(%| pp|个百分点)?")


def neutralise_formulas(df: pd.DataFrame, numbers: frozenset = frozenset()) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (=, +, -, @) with a quote; in the `numbers`
    columns (numbers written as text by crmlens.fmt.cell) a formatted number is left as it is."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            allowed = FORMATTED_NUMBER if col in numbers else None
            out[col] = out[col].map(
                lambda v, allowed=allowed: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
                and not (allowed and allowed.fullmatch(v)) else v
            )
    return out


def to_csv_bytes(df: pd.DataFrame, numbers: frozenset = frozenset()) -> bytes:
    """UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    return neutralise_formulas(df, numbers).to_csv(index=False).encode("utf-8-sig")
