"""A view's address parameters as the filters and settings its headline figures take.

The pages keep every filter and setting in their address (pages/*.py). A digest stores that address and
`metrics --json --params` takes the same string; both come through here, so their figures are the page's:
the same keys, the same options (values in the data, the words a choice is shown in, in either language)
and the same ranges, read from the view modules' own tables (churn.FILTERS, churn.NUMBER_SETTINGS,
complaints.FILTER_KEYS, complaints.sla_settings, funnel.STAGE_KEYS, loyalty.SETTING_RANGES, ...).

A value the page would refuse (not among its options, not a number, out of range) is refused: `read`
returns it with the reason (a digest leaves it out, as the page does, and says so), `for_views` raises
Refused. Keys that change no headline figure (a table's sort, a page number) only go into the link.
The period is the caller's (`period=START&period=END`, crmlens.digest.model.params_period).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from crmlens import churn, complaints, departures, followup, funnel, i18n, loyalty, margin, queries, store

VIEWS = ("funnel", "loyalty", "churn", "complaints", "follow_up", "departures")  # the overview takes the period only
PERIOD_KEY = "period"
MAX_OPTIONS_SHOWN = 12
# complaints: address key of a number setting -> the parameter it sets (complaints.params)
# Choices the pages show as words (and so keep in the address in the reader's language): key -> (the
# catalog prefix of their words, the choices).
WORD_CHOICES = {
    "churn_definition": ("churn.definition", churn.DEFINITIONS),
    "churn_grain": ("churn.grain", churn.GRAINS),
    **{f"loyalty_{name}": ("loyalty.opt", options) for name, options in loyalty.CHOICES.items()},
}
COMPLAINTS_SETTINGS = {"churn_days": "churn_days", "churn_multiplier": "churn_multiplier",
                       "complaints_revenue_days": "revenue_days", "complaints_repeat_days": "repeat_days",
                       "complaints_follow_days": "follow_days",
                       "complaints_sla_other": "sla_default_hours"}


@dataclass(frozen=True)
class Refusal:
    view: str
    key: str
    value: str
    reason: str

    @property
    def pair(self) -> str:
        return f"{self.key}={self.value}"


@dataclass
class Reading:
    """One view's headline arguments from an address, the pairs applied and the values refused."""

    kwargs: dict = field(default_factory=dict)
    applied: list[tuple[str, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)  # every key this view reads


class Refused(ValueError):
    """Values of an address that a page would refuse, or keys no view's figures take."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in refusals:
            grouped.setdefault((r.pair, r.reason), []).append(r.view)
        super().__init__("; ".join(f"{pair} ({', '.join(views)}): {reason}" if views != [""] else f"{pair}: {reason}"
                                   for (pair, reason), views in grouped.items()))


def _one_of(options) -> str:
    shown = [str(o) for o in list(options)[:MAX_OPTIONS_SHOWN]]
    more = ", ..." if len(options) > MAX_OPTIONS_SHOWN else ""
    return f"not one of the page's options ({', '.join(shown)}{more})" if shown else "the page offers no options here"


def _words(key: str, codes=None) -> dict[str, str]:
    """A choice the page shows as words: the words in every language -> the choice (of `codes`, default all)."""
    prefix, choices = WORD_CHOICES[key]
    return {i18n.translate(lang, f"{prefix}.{c}"): c for lang in i18n.LANGUAGES for c in (codes or choices)}


def in_language(params: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """The address with its word choices in `lang`, as a page in that language writes and reads them (a digest
    in Chinese of a view chosen in English links with churn_grain=按季度, not Quarters)."""
    out = []
    for key, value in params:
        code = _words(key).get(value) if key in WORD_CHOICES else None
        out.append((key, i18n.translate(lang, f"{WORD_CHOICES[key][0]}.{code}") if code else value))
    return out


class _Reader:
    def __init__(self, view: str, values: dict[str, list[str]]):
        self.view, self.values, self.out = view, values, Reading()

    def _refuse(self, key: str, value: str, reason: str) -> None:
        self.out.refused.append(Refusal(self.view, key, value, reason))

    def choices(self, key: str, options: dict[str, object]) -> list | None:
        """A multi-select: the options whose shown text is given, in the order given (None: not in the address)."""
        self.out.asked.add(key)
        if key not in self.values:
            return None
        chosen = []
        for value in self.values[key]:
            if value == "":  # ?key= clears the selection
                continue
            if value in options:
                self.out.applied.append((key, value))
                if options[value] not in chosen:
                    chosen.append(options[value])
            else:
                self._refuse(key, value, _one_of(options))
        return chosen

    def word(self, key: str, words: dict[str, str]) -> str | None:
        """One choice shown as words (the last value counts, as in the page's address)."""
        self.out.asked.add(key)
        if not self.values.get(key):
            return None
        value = self.values[key][-1]
        if value in words:
            self.out.applied.append((key, value))
            return words[value]
        self._refuse(key, value, _one_of(dict.fromkeys(words)))
        return None

    def number(self, key: str, spec: tuple) -> float | int | None:
        """A number setting (spec: default, lowest, highest, step; whole numbers unless any is a float)."""
        self.out.asked.add(key)
        if not self.values.get(key):
            return None
        value = self.values[key][-1]
        _, lo, hi, _ = spec
        whole = not any(isinstance(x, float) for x in spec)
        try:
            x = int(value) if whole else float(value)
        except ValueError:
            x = None
        if x is None or not math.isfinite(x) or not lo <= x <= hi:
            self._refuse(key, value, f"not a {'whole ' if whole else ''}number from {lo:g} to {hi:g}")
            return None
        self.out.applied.append((key, value))
        return x

    def flag(self, key: str) -> bool | None:
        self.out.asked.add(key)
        if not self.values.get(key):
            return None
        value = self.values[key][-1]
        if value.lower() in ("true", "false"):
            self.out.applied.append((key, value))
            return value.lower() == "true"
        self._refuse(key, value, "not true or false")
        return None


def _given(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _filter_options(snap: store.Snapshot) -> dict[str, list[str]]:
    df = queries.run("filter_options", snap=snap)
    return {dim: list(g["value"]) for dim, g in df.groupby("dimension", sort=False)}


def _same(values) -> dict[str, str]:
    return {str(v): v for v in values}


def _churn(snap, r: _Reader, opts, start, end) -> dict:
    available = churn.available_definitions(queries.run("churn_source", snap=snap).iloc[0])
    definitions = [d for d in churn.DEFINITIONS if d == "auto" or d in available]
    return _given({
        **{f: r.choices(f, _same(opts.get(f, []))) for f in churn.FILTERS},
        "definition": r.word("churn_definition", _words("churn_definition", definitions)),
        **{key: r.number(key, spec) for key, spec in churn.NUMBER_SETTINGS.items()},
        "grain": r.word("churn_grain", _words("churn_grain")),
    })


def _loyalty(snap, r: _Reader, opts, start, end) -> dict:
    settings = {name: r.number(f"loyalty_{name}", loyalty.number_setting(name)) for name in loyalty.SETTING_RANGES}
    settings.update({key: r.number(key, spec) for key, spec in churn.NUMBER_SETTINGS.items()})
    settings.update({name: r.word(f"loyalty_{name}", _words(f"loyalty_{name}")) for name in loyalty.CHOICES})
    settings["use_partner_flag"] = r.flag("loyalty_use_partner_flag")
    settings["margin_pct"] = r.number(margin.KEY, (None, *margin.RANGE))  # the one margin, shared with the churn what-if
    filters = _given({f: r.choices(f, _same(opts.get(f, []))) for f in loyalty.FILTERS})
    return _given({"settings": _given(settings) or None, "filters": filters or None})


def _funnel(snap, r: _Reader, opts, start, end) -> dict:
    owners = list(dict.fromkeys(o for dim in funnel.OWNER_OPTIONS for o in opts.get(dim, [])))
    filters = {f: r.choices(f, _same(owners if f == "owner" else opts.get(f, []))) for f in funnel.FILTERS}
    vocab = queries.run("funnel_stage_vocab", snap=snap)
    labels = {str(label): key for key, label in zip(vocab["stage_key"], vocab["label"])}
    stages = {name: r.choices(key, labels) for key, name in funnel.STAGE_KEYS.items()}
    if stages["order"] is not None:
        lost = stages["lost"] if stages["lost"] is not None else funnel.settings_for(snap)[2]
        if not [k for k in stages["order"] if k not in lost]:  # the page stops: no step to count
            r._refuse("funnel_stages", "&".join(r.values["funnel_stages"]), "leaves the funnel without a step")
            stages["order"] = None
    return _given({**filters, **stages})


def _complaints(snap, r: _Reader, opts, start, end) -> dict:
    options = queries.run("complaints_filter_options", complaints.params(snap, start, end), snap=snap)
    own = lambda dim: list(options.loc[options["dimension"] == dim, "value"])
    shown = {"category": {complaints.bilingual_label(v): v for v in own("category")},  # the page shows both languages
             "severity": _same(own("severity")), "complaint_channel": _same(own("complaint_channel"))}
    filters = _given({f: r.choices(key, shown.get(f) or _same(opts.get(f, [])))
                      for key, f in complaints.FILTER_KEYS.items()})
    settings = _given({param: r.number(key, complaints.NUMBER_SETTINGS[key]) for key, param in COMPLAINTS_SETTINGS.items()})
    _, lo, hi, step = complaints.NUMBER_SETTINGS["complaints_sla_other"]
    hours = {sev: (r.number(key, (default, lo, hi, step)), default)
             for sev, key, default in complaints.sla_settings(own("severity"))}
    # Without an SLA setting in the address, headline() takes every severity's default.
    sla = {sev: given if given is not None else default for sev, (given, default) in hours.items()} \
        if any(given is not None for given, _ in hours.values()) else None
    return _given({"filters": filters or None, "sla": sla, **settings})


def _follow_up(snap, r: _Reader, opts, start, end) -> dict:
    return _given({
        "followup_days": r.number("followup_days", followup.SETTING_RANGES["followup_days"]),
        "outcome_days": r.number("followup_outcome_days", followup.SETTING_RANGES["followup_outcome_days"]),
        "owner": r.choices("owner", _same(opts.get("owner", []))),
        **{key: r.number(key, spec) for key, spec in churn.NUMBER_SETTINGS.items()},
    })


def _departures(snap, r: _Reader, opts, start, end) -> dict:
    return _given({
        "inactive_days": r.number("departure_inactive_days", departures.SETTING_RANGES["departure_inactive_days"]),
        "window_days": r.number("departure_window_days", departures.SETTING_RANGES["departure_window_days"]),
        **{key: r.number(key, spec) for key, spec in churn.NUMBER_SETTINGS.items()},
    })


READERS = {"churn": _churn, "loyalty": _loyalty, "funnel": _funnel, "complaints": _complaints,
           "follow_up": _follow_up, "departures": _departures}


def _values(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in params:
        if key != PERIOD_KEY:
            values.setdefault(key, []).append(value)
    return values


def read(snap: store.Snapshot, page: str, params: list[tuple[str, str]], start: dt.date, end: dt.date,
         _opts: dict | None = None) -> Reading:
    """The keyword arguments of `page`'s headline (and main chart) from its address parameters."""
    if page not in READERS:
        return Reading()
    reader = _Reader(page, _values(params))
    opts = _filter_options(snap) if _opts is None else _opts
    reader.out.kwargs = READERS[page](snap, reader, opts, start, end)
    return reader.out


def for_views(snap: store.Snapshot, params: list[tuple[str, str]], start: dt.date, end: dt.date) -> dict[str, dict]:
    """Every view's headline arguments from one address (each view takes the keys it knows). Raises Refused
    when a view refuses a value, or a key is taken by no view."""
    values = _values(params)
    if not values:
        return {view: {} for view in VIEWS}
    opts = _filter_options(snap)
    readings = {view: read(snap, view, params, start, end, opts) for view in VIEWS}
    refused = [r for reading in readings.values() for r in reading.refused]
    asked = set().union(*(reading.asked for reading in readings.values()))
    refused += [Refusal("", key, value, "not a filter or setting of any view's headline figures")
                for key, vs in values.items() if key not in asked for value in vs]
    if refused:
        raise Refused(refused)
    return {view: reading.kwargs for view, reading in readings.items()}
