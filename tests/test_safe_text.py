"""Issue 21, item 2: values from data are shown as text, never as Markdown or HTML.

Hostile values (Markdown links and images, HTML tags, Streamlit directives, math, bare links) are
loaded into every text column the pages print, and every page is run: no Markdown the app renders
and no chart holds one of them as it was; they arrive escaped (safe.md / safe.label)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from crmlens import ingest, safe
from tests.conftest import app_test

PAYLOADS = [
    "[Sign in again](http://evil.example/phish)",
    "![t](http://evil.example/track.png)",
    '<a href="http://evil.example/h">h</a>',
    '<img src="http://evil.example/i.png">',
    ":red[**alarm**] :material/warning:",
    "$x^2$ www.evil.example",
    "# heading\n- item",
]
PERIOD = ["2024-01-01", "2024-12-31"]


def hostile(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def csv_value(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def write(path: pathlib.Path, header: list[str], rows: list[list]) -> pathlib.Path:
    path.write_text(",".join(header) + "\n" + "".join(",".join(csv_value(str(v)) for v in row) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def hostile_files(folder: pathlib.Path) -> list[pathlib.Path]:
    """Every text column of every table filled with hostile values (ids too), a year of data."""
    n = 14
    ids = [f"C{i} {hostile(i)}" for i in range(n)]
    customers = write(folder / "customers.csv",
                      ["customer_id", "name", "segment", "region", "channel", "owner", "referred_by", "contract_type",
                       "signup_date", "loyalty_tier"],
                      [[ids[i], hostile(i + 1), hostile(i % 3), hostile(i % 4 + 1), hostile(i % 2 + 2), hostile(i % 3 + 3),
                        ids[(i + 1) % n] if i % 5 == 0 else "", hostile(i % 2 + 4), f"2024-01-{1 + i:02d}", hostile(i % 3 + 5)]
                       for i in range(n)])
    orders = write(folder / "orders.csv", ["order_id", "customer_id", "order_date", "amount", "product", "status"],
                   [[f"O{k} {hostile(k)}", ids[k % n], f"2024-{1 + k % 12:02d}-{1 + k % 27:02d}", 10 + k,
                     hostile(k % 4), "completed" if k % 6 else hostile(k)] for k in range(80)])
    opportunities = write(folder / "opportunities.csv",
                          ["opportunity_id", "stage", "customer_id", "owner", "source", "product", "amount",
                           "created_date", "close_date"],
                          [[f"P{k} {hostile(k)}", ["won", "lost", hostile(k), hostile(k + 1)][k % 4], ids[k % n],
                            hostile(k % 3 + 3), hostile(k % 2), hostile(k % 4), 100 + k, f"2024-{1 + k % 10:02d}-05",
                            f"2024-{3 + k % 10:02d}-05" if k % 4 < 2 else ""] for k in range(40)])
    history = write(folder / "opportunity_stage_history.csv", ["opportunity_id", "stage", "entered_at"],
                    [[f"P{k} {hostile(k)}", hostile(k), f"2024-{1 + k % 10:02d}-06"] for k in range(40)])
    complaints = write(folder / "complaints.csv",
                       ["complaint_id", "customer_id", "created_at", "resolved_at", "category", "channel", "severity",
                        "status", "satisfaction"],
                       [[f"K{k} {hostile(k)}", ids[k % n], f"2024-{1 + k % 12:02d}-10 09:00",
                         f"2024-{1 + k % 12:02d}-12 09:00" if k % 3 else "", hostile(k % 5), hostile(k % 3 + 2),
                         hostile(k % 4 + 1), hostile(k % 2 + 3), 1 + k % 5] for k in range(30)])
    surveys = write(folder / "surveys.csv", ["customer_id", "nps", "satisfaction", "survey_date"],
                    [[ids[i], i % 11, 1 + i % 5, "2024-06-01"] for i in range(n)])
    activities = write(folder / "activities.csv", ["activity_id", "customer_id", "at", "type", "owner", "related_id", "outcome"],
                       [[f"A{k} {hostile(k)}", ids[k % n], f"2024-{1 + k % 12:02d}-{2 + k % 27:02d} 10:00", hostile(k + 2),
                         hostile(k % 3 + 3) if k % 7 else hostile(k), f"O{k} {hostile(k)}" if k % 2 else "", hostile(k + 1)]
                        for k in range(60)])
    owners = write(folder / "owners.csv", ["owner", "branch", "left_on"],
                   [[hostile(i + 3), hostile(i), "2024-09-01" if i == 1 else ""] for i in range(3)])
    return [customers, orders, opportunities, history, complaints, surveys, activities, owners]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "hostile.duckdb"
    ingest.load_files(hostile_files(folder), db=db, max_reject_share=1.0)
    return db


def markdown_texts(at) -> list[str]:
    """Every string the app hands Streamlit to render as Markdown: texts, alerts, headings, labels, help."""
    texts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader"):
        texts += [str(e.value) for e in getattr(at, kind)]
    for kind in ("metric", "number_input", "selectbox", "multiselect", "checkbox", "radio", "text_input", "toggle",
                 "date_input", "segmented_control", "expander", "tabs", "button", "download_button"):
        for e in getattr(at, kind):
            texts += [str(v) for v in (getattr(e, "label", None), getattr(e, "help", None)) if v]
    return texts



def chart_specs(at) -> list[str]:
    return [e.proto.spec for e in at.get("plotly_chart")]


LIVE = [  # what a payload looks like when Markdown or Plotly would act on it
    re.compile(r"(?<!\\)\]\((?:http|www)"),  # a link or image: ](http
    re.compile(r"(?<![\\&])<(?:a|img)\b"),  # an HTML tag
    re.compile(r"(?<!\\):red\["),  # a Streamlit colour directive
    re.compile(r"(?<!\\)\$x\^2"),  # math
]


BARE_LINK = re.compile(r"(?i)https?://evil|www\.evil")  # GFM links these even when escaped


def live_payloads(text: str) -> list[str]:
    unescaped = re.sub(r"\\(.)", r"\1", text)
    return [p.pattern for p in LIVE if p.search(text)] + ([BARE_LINK.pattern] if BARE_LINK.search(unescaped) else [])


@pytest.mark.parametrize("page", ["overview", "funnel", "loyalty", "churn", "complaints", "followup", "data"])
def test_hostile_values_stay_text_on_every_page(page, hostile_db, monkeypatch):
    monkeypatch.setenv("CRMLENS_DB", str(hostile_db))
    at = app_test(page, period=PERIOD, timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    texts = markdown_texts(at)
    assert texts
    for text in texts:
        assert not live_payloads(text), text
    for spec in chart_specs(at):
        figure = json.dumps(json.loads(spec))
        assert "<a href" not in figure and "<img" not in figure



def test_the_values_do_reach_the_pages_escaped(hostile_db, monkeypatch):
    """Not vacuous: payloads are on the pages, as escaped Markdown and as chart text."""
    monkeypatch.setenv("CRMLENS_DB", str(hostile_db))
    seen = []
    for page in ("funnel", "complaints"):
        at = app_test(page, period=PERIOD, timeout=120)
        seen += markdown_texts(at)
        seen += chart_specs(at)
    text = "\n".join(seen)
    escaped = [safe.md(p) for p in PAYLOADS[:4]]
    assert sum(e in text for e in escaped) >= 2, "no escaped payload reached a Markdown element"
    assert "&lt;a href" in text  # a chart label


def test_md_escapes_every_markdown_construct():
    for payload in PAYLOADS:
        escaped = safe.md(payload)
        assert not live_payloads(escaped)
        shown = re.sub(r"\\(.)", r"\1", escaped).replace(safe.WORD_JOINER, "")
        assert shown == payload.replace("\n", " ")  # the same text, shown as it is
    assert safe.md(None) == ""
    assert safe.md(12.5) == "12\\.5"


def test_chart_labels_keep_numbers_and_escape_tags():
    assert safe.label('<a href="x">y</a>') == '&lt;a href="x"&gt;y&lt;/a&gt;'
    assert safe.label(3) == 3


def test_the_load_progress_line_shows_a_file_name_as_text():
    """The progress bar reads Markdown: a file named like a link is escaped there too (the browser test only
    catches the bar in the moment it is drawn); the steps after the files are words of the reader's language."""
    from crmlens import upload
    line = upload.progress_text("[Sign in again](http:evil.example).csv")
    assert not live_payloads(line)
    assert re.sub(r"\\(.)", r"\1", line).replace(safe.WORD_JOINER, "").endswith("[Sign in again](http:evil.example).csv")
    assert upload.progress_text("publish").endswith("publishing the new data version")
