"""Values from data (and uploaded file names) shown as text, never as Markdown or HTML.

Streamlit renders Markdown in st.markdown, st.caption, alerts, titles, metric and widget labels,
and Plotly renders a few HTML tags (<a href>, <b>, <br>) in chart text. A customer, owner or
category name is data: `[Sign in again](http://evil.example)` must show as those characters, not
as a link. Every value from data that reaches such a place goes through md() (Markdown) or
label() (chart text); tables (st.dataframe) and st.text show text as it is and need neither.
"""

from __future__ import annotations

import html
import re
import string

import numpy as np

# CommonMark lets a backslash escape any ASCII punctuation, which then stands for itself: no link,
# image, emphasis, code, HTML tag, autolink, Streamlit directive (:red[...], :material/x:) or $math$.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\v\f]+")


# GitHub-flavoured Markdown also turns bare addresses (http://..., www...., a@b.c) into links, after
# escapes are resolved: an invisible word joiner (U+2060) inside the pattern keeps them text.
_BARE_LINKS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md(value) -> str:
    """A value as Markdown that shows exactly its text (on one line); None shows as an empty string."""
    if value is None:
        return ""
    text = _BARE_LINKS.sub(WORD_JOINER, _LINE_BREAKS.sub(" ", str(value)))
    return _PUNCTUATION.sub(r"\\\1", text)


def md_list(values, sep: str = ", ") -> str:
    """Several values, each escaped, joined for a sentence."""
    return sep.join(md(v) for v in values)


def label(value):
    """A value as Plotly text: the tags Plotly understands (<a>, <b>, <br>, ...) shown as characters.
    Numbers, dates and missing values pass through unchanged."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


# Trace attributes that can carry values from data (category names, group names, hover text).
_TRACE_TEXT = ("x", "y", "labels", "text", "hovertext", "name", "ids", "parents", "customdata", "legendgroup")
_AXIS_TEXT = ("categoryarray", "ticktext")


def _labels(value):
    if isinstance(value, str):
        return label(value)
    if isinstance(value, np.ndarray):
        return np.array(_labels(value.tolist()), dtype=object) if value.dtype.kind in "OUS" else value
    if isinstance(value, (list, tuple)):
        return type(value)(_labels(v) for v in value)
    return value


def figure(fig):
    """Every value from data in a Plotly figure's traces (and its category axes) shown as text.
    Called once per figure, after its traces are added (charts.common.layout does)."""
    for trace in fig.data:
        for attr in _TRACE_TEXT:
            if attr in trace and trace[attr] is not None:
                trace[attr] = _labels(trace[attr])
        if trace.type == "sankey":
            trace.node.label = _labels(trace.node.label)
            trace.link.label = _labels(trace.link.label)
    for name in fig.layout:
        if name.startswith(("xaxis", "yaxis")):
            axis = fig.layout[name]
            for attr in _AXIS_TEXT:
                if axis[attr] is not None:
                    axis[attr] = _labels(axis[attr])
    return fig
