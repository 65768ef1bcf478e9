"""Translations: one catalog per language (locales/<lang>.json), same keys in each."""

from __future__ import annotations

import functools
import json
import pathlib

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = pathlib.Path(__file__).resolve().parent / "locales"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALE_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values) -> str:
    """The text for `key` in `lang`, with {placeholders} filled. A missing key shows as itself."""
    text = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text


def language_from_locale(locale: str | None) -> str:
    """zh for any Chinese browser locale (zh-CN, zh-TW, ...), else English."""
    return "zh" if (locale or "").lower().startswith("zh") else DEFAULT_LANGUAGE
