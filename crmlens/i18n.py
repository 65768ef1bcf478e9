"""Translations: one catalog per language, same keys in each.

A language's catalog is every locales/<lang>/*.json merged (one file per page or
area, so work on one view does not touch another's file); a key may be defined
only once.
"""

from __future__ import annotations

import functools
import json
import pathlib

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = pathlib.Path(__file__).resolve().parent / "locales"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang).glob("*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        duplicated = merged.keys() & part.keys()
        if duplicated:
            raise ValueError(f"{path}: keys already defined in another file: {sorted(duplicated)}")
        merged.update(part)
    return merged


def translate(lang: str, key: str, **values) -> str:
    """The text for `key` in `lang`, with {placeholders} filled. A missing key shows as itself."""
    text = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text


def language_from_locale(locale: str | None) -> str:
    """zh for any Chinese browser locale (zh-CN, zh-TW, ...), else English."""
    return "zh" if (locale or "").lower().startswith("zh") else DEFAULT_LANGUAGE
