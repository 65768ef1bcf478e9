"""Known export layouts (crmlens/layouts.json): recognised by their headers, mapped in one go.

The catalogue is data: each layout names the headers that recognise it and the file header
for each contract column (the first of a list that the file has; null leaves a column out;
"=text" is a fixed value). A recognised layout is used as a partial mapping: the columns it
names win, the others are detected (and checked) as usual.
"""

from __future__ import annotations

import functools
import json
import pathlib
from dataclasses import dataclass, field

from crmlens import contract

CATALOGUE = pathlib.Path(__file__).resolve().parents[1] / "layouts.json"


@dataclass(frozen=True)
class Layout:
    id: str
    name: dict  # language -> name shown
    family: str
    table: str
    recognise: tuple[str, ...]
    columns: dict  # contract column -> header, [headers], None or "=text"
    source: str
    # Columns whose value is the order's, repeated on each of its lines (JD's 应付金额 on every SKU row):
    # an order folded from its lines takes it once, not summed.
    order_level: tuple[str, ...] = ()
    # The labels of a header's codes (ServiceNow's API export gives priority 1-5 where its list export shows
    # "1 - Critical"): file header -> {code: label}.
    values: dict = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.name.get(lang) or self.name["en"]


@functools.cache
def catalogue() -> tuple[Layout, ...]:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return tuple(Layout(d["id"], d["name"], d["family"], d["table"], tuple(d["recognise"]), d["columns"], d["source"],
                        tuple(d.get("order_level", ())), d.get("values", {})) for d in data["layouts"])


def by_id(layout_id: str | None) -> Layout | None:
    return next((layout for layout in catalogue() if layout.id == layout_id), None)


def recognise(headers: list[str]) -> Layout | None:
    """The layout all of whose recognising headers the file has (the most specific one, when several)."""
    forms = {contract.normalize_header(h) for h in headers}
    fits = [lay for lay in catalogue() if all(contract.normalize_header(h) in forms for h in lay.recognise)]
    return max(fits, key=lambda lay: len(lay.recognise), default=None)


def order_level_columns(headers: list[str], mapping: dict[str, str]) -> set[str]:
    """The columns of a file of a known layout that hold the order's value on every line (taken once when its
    lines fold into orders), provided the mapping takes them from the layout's header."""
    layout = recognise(headers)
    if layout is None or not layout.order_level:
        return set()
    own = mapping_for(layout, headers)
    return {c for c in layout.order_level if own.get(c) and mapping.get(c) == own[c]}


def value_labels(headers: list[str]) -> dict[str, dict[str, str]]:
    """The labels of the codes in a known layout's columns, by this file's header: {header: {code: label}}."""
    layout = recognise(headers)
    if layout is None or not layout.values:
        return {}
    labels = {contract.normalize_header(h): codes for h, codes in layout.values.items()}
    return {h: labels[contract.normalize_header(h)] for h in headers if contract.normalize_header(h) in labels}


def mapping_for(layout: Layout, headers: list[str]) -> dict[str, str | None]:
    """The layout's mapping in this file's spelling: contract column -> header, None (left out) or "=text"."""
    by_form = {}
    for h in headers:
        by_form.setdefault(contract.normalize_header(h), h)
    mapping: dict[str, str | None] = {}
    for column, spec in layout.columns.items():
        if spec is None:
            mapping[column] = None
            continue
        if isinstance(spec, str) and spec.startswith("="):
            mapping[column] = spec
            continue
        for name in [spec] if isinstance(spec, str) else spec:
            if contract.normalize_header(name) in by_form:
                mapping[column] = by_form[contract.normalize_header(name)]
                break
    return mapping
