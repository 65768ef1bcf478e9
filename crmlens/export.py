"""Tables as files people download: CSV that Excel opens correctly and safely."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A number as crmlens.fmt.cell writes it ("-1,234.50", "+2.5 pp", "-3.0%"): a spreadsheet reads it as a
# number, not a formula, and a quote in front would turn it into text.
FORMATTED_NUMBER = re.compile(r"[+-]?[\d,]*\.?\d+(%| pp|个百分点)?")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (=, +, -, @) with a quote."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
                and not FORMATTED_NUMBER.fullmatch(v) else v
            )
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    return neutralise_formulas(df).to_csv(index=False).encode("utf-8-sig")
