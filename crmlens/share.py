"""The page address is the view: a link to share it, the data version it was made on, and a
notice for the parts of a link the app refused (unknown values, impossible dates)."""

from __future__ import annotations

import datetime as dt
import math
import urllib.parse

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from crmlens import store

VERSION_KEY = "v"
_INCOMING_KEY = "_crmlens_incoming_link"
_REFUSED_KEY = "_crmlens_refused_link_values"
MAX_SHOWN = 60


def remember_incoming_link() -> None:
    """On a session's first run, keep the address's parameters, to tell later which were refused."""
    if _INCOMING_KEY not in st.session_state:
        st.session_state[_INCOMING_KEY] = {k: st.query_params.get_all(k) for k in st.query_params}


def refuse_link_value(key: str, value: str) -> None:
    """A value of the address that the app itself (not a widget) could not use."""
    st.session_state.setdefault(_REFUSED_KEY, []).append(f"{key}={value}")


def drop_infinite_number(key: str) -> None:
    """Take `?key=inf` (1e309, -Infinity, ...) out of the address before a number box reads it.

    Streamlit turns such a value into an infinite float and fails converting it to a whole number
    (OverflowError). Dropped here, it is reported like any other refused link value.
    """
    value = st.query_params.get(key)
    try:
        infinite = value is not None and math.isinf(float(value))
    except ValueError:
        return  # not a number at all: the widget refuses it itself
    if infinite:
        ctx = get_script_run_ctx()
        with ctx.session_state.query_params() as qp:
            # Streamlit 1.67 seeds a bound widget from the address as first opened, kept apart from
            # st.query_params (tests/test_link_numbers.py pins this).
            qp._initial_query_params.pop(key, None)
            qp.remove_param(key)


def refused_link_values() -> list[str]:
    """key=value pairs of the opening link that the page's widgets dropped (reported once)."""
    refused = st.session_state.pop(_REFUSED_KEY, [])
    for key, values in (st.session_state.get(_INCOMING_KEY) or {}).items():
        if key == VERSION_KEY or key not in st.session_state:  # not a widget of this page
            continue
        now = st.query_params.get_all(key)
        current = st.session_state[key]
        # A value equal to the widget's default also leaves the address (Streamlit keeps it clean).
        refused += [f"{key}={value}" for value in values if value not in now and not _same(value, current)]
    st.session_state[_INCOMING_KEY] = {}
    return [_as_code(r if len(r) <= MAX_SHOWN else r[:MAX_SHOWN] + "…") for r in refused]


def _as_code(text: str) -> str:
    """Shown as inline code, so a crafted value cannot turn into a link or an image."""
    return "`" + text.replace("`", "'") + "`"


def _same(text: str, value) -> bool:
    """Whether a link's text stands for the widget's current value (or one of its values)."""
    if isinstance(value, (list, tuple)):
        return any(_same(text, v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return text == value.isoformat() or text == value.isoformat()[:10]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return text == str(value)


def share_link(snap: store.Snapshot | None, language_param: tuple[str, str]) -> str:
    """This page's address with every setting, the language, and the data version it shows.

    The language goes in even when it is the sender's default: choices are kept in the
    address in the words shown, so a recipient must read the link in the same language.
    """
    params = {k: st.query_params.get_all(k) for k in st.query_params if k != VERSION_KEY}
    lang_key, lang_value = language_param
    params.setdefault(lang_key, [lang_value])
    if snap is not None:
        params[VERSION_KEY] = [str(snap.version)]
    base = st.context.url or ""
    return base + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")

