"""Checking the column guesses against the column's values, with a confidence for each.

A header that names a contract column (`status`, `partner`) is only a guess about what the
column holds. Before a guessed column is taken its values are looked at: a status column
holds status words, not two-letter region codes (the CFPB's `State`: FL, TX, ...); a yes/no
flag that is only named like a business term (IBM Telco's `Partner`: does the subscriber
have a spouse) is proposed, never taken; a number or date column holds numbers or dates.
A doubtful guess is left unmapped (the column is kept as an extra attribute) and reported,
so the page can point it out and the user can still pick it by hand.

Confidence: `exact` (the header is the column's own name and the values fit), `alias` (a
known other name, values fit), `doubtful` (not taken; `reason` says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from crmlens import contract, vocab
from crmlens.ingest import convert

SAMPLE_ROWS = 2000  # rows looked at per guessed column
SHOWN_VALUES = 5

# Aliases that name a business term but, in exports, usually mean something else: a column
# matched only through one of these is proposed, not taken (its own name, is_partner, is taken).
PROPOSED_ONLY_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("customers", "is_partner"): ("partner", "合作伙伴"),
}
# A status column is doubtful when most of its distinct values are two-letter codes (US states,
# province or country codes) or it has more distinct values than statuses ever have.
REGION_CODE = re.compile(r"^[A-Z]{2}$")
MAX_STATUS_VALUES = 40
STATUS_COLUMNS = {("complaints", "status"), ("orders", "status")}
STATUS_WORDS = {w.lower() for w in (*vocab.CLOSED_COMPLAINT_STATUSES, *vocab.REOPENED_COMPLAINT_STATUSES,
                                    *vocab.NON_REVENUE_STATUSES)}
# A typed column whose sampled values mostly do not look like its type is doubtful.
MIN_TYPE_SHARE = 0.5
# A column matched by a word of its header only (contract.Column.word_aliases) needs most of its distinct values to be
# the column's own words.
MIN_WORD_SHARE = 0.8


@dataclass(frozen=True)
class Guess:
    column: str  # the contract column
    header: str  # the file's header guessed for it
    confidence: str  # exact | alias | doubtful
    reason: str = ""  # why doubtful: proposed_only | region_codes | too_many_values | not_numbers | not_dates | not_yes_no
    #                   | not_severity
    values: tuple[str, ...] = field(default=())  # a few of the column's values

    @property
    def taken(self) -> bool:
        return self.confidence != "doubtful"


def sample(con: duckdb.DuckDBPyConnection, relation: str, headers: list[str]) -> dict[str, list[str]]:
    """Up to SAMPLE_ROWS non-missing values of each header in `relation` (a table or a read_csv(...) call)."""
    out: dict[str, list[str]] = {}
    for header in headers:
        expr = convert.cleaned(header)
        rows = con.execute(
            f"select v from (select {expr} as v from {relation} limit {SAMPLE_ROWS * 5}) where v is not null "
            f"limit {SAMPLE_ROWS}"
        ).fetchall()
        out[header] = [r[0] for r in rows]
    return out


def judge(table: contract.Table, column: str, header: str, values: list[str]) -> Guess:
    """How sure the guess header -> column is, from the header and the values."""
    col = table.column(column)
    form = contract.normalize_header(header)
    exact = form == contract.normalize_header(col.name)
    distinct = list(dict.fromkeys(values))
    shown = tuple(distinct[:SHOWN_VALUES])

    def doubt(reason: str) -> Guess:
        return Guess(column, header, "doubtful", reason, shown)

    risky = {contract.normalize_header(a) for a in PROPOSED_ONLY_ALIASES.get((table.name, column), ())}
    if form in risky:
        return doubt("proposed_only")
    if (table.name, column) in STATUS_COLUMNS and distinct:
        known = sum(1 for v in distinct if v.strip().lower() in STATUS_WORDS)
        codes = sum(1 for v in distinct if REGION_CODE.match(v.strip()))
        if not known and codes >= 0.8 * len(distinct) and len(distinct) >= 3:
            return doubt("region_codes")
        if not known and len(distinct) > MAX_STATUS_VALUES:
            return doubt("too_many_values")
    if col.word_aliases and not exact and form not in {contract.normalize_header(a) for a in col.aliases}:
        # matched by a word of its header only: taken when most of its values are the column's words
        if not distinct or _share(distinct, lambda v: _is_severity(v)) < MIN_WORD_SHARE:
            return doubt("not_severity")
    if values and not exact:
        if col.type in ("DOUBLE", "INTEGER"):
            if _share(values, lambda v: re.search(r"\d", v) is not None) < MIN_TYPE_SHARE:
                return doubt("not_numbers")
        elif col.type in ("DATE", "TIMESTAMP"):
            if _share(values, lambda v: len(re.findall(r"\d", v)) >= 4) < MIN_TYPE_SHARE:
                return doubt("not_dates")
        elif col.type == "BOOLEAN":
            tokens = {*convert.TRUE_TOKENS, *convert.FALSE_TOKENS}
            if _share(values, lambda v: v.strip().lower() in tokens) < MIN_TYPE_SHARE:
                return doubt("not_yes_no")
    return Guess(column, header, "exact" if exact else "alias", "", shown)


def _is_severity(value: str) -> bool:
    word = value.strip().lower()
    coded = vocab.CODED_SEVERITY.match(word)  # "2 - High"
    return word in vocab.SEVERITY_VALUES or (coded is not None and coded[2] in vocab.SEVERITY_VALUES)


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values)


def check(table: contract.Table, mapping: dict[str, str], guessed: set[str],
          values: dict[str, list[str]]) -> tuple[dict[str, str], list[Guess]]:
    """The mapping with doubtful guesses left out (required columns are kept, marked doubtful),
    and a Guess for every guessed column. Columns the user chose (not in `guessed`) are not judged."""
    kept: dict[str, str] = {}
    guesses: list[Guess] = []
    for column, header in mapping.items():
        if column not in guessed:
            kept[column] = header
            continue
        g = judge(table, column, header, values.get(header, []))
        guesses.append(g)
        if g.taken or table.column(column).required:
            kept[column] = header
    return kept, guesses


def checked_mapping(con: duckdb.DuckDBPyConnection, relation: str, table: contract.Table,
                    mapping: dict[str, str], guessed: set[str],
                    headers: list[str] = ()) -> tuple[dict[str, str], list[Guess]]:
    """check() on values sampled from `relation`. A column matched by a word of its header whose values do not bear it
    out takes the next header of the file (`headers`) with such a word whose values do: an `Impact Area` of
    departments before a `Ticket Priority` of High and Low."""
    spare = {column: [h for h in contract.word_candidates(table.column(column), headers) if h not in mapping.values()]
             for column in guessed & set(mapping)}
    sampled = [h for c, h in mapping.items() if c in guessed] + [h for more in spare.values() for h in more]
    values = sample(con, relation, list(dict.fromkeys(sampled)))
    kept, guesses = check(table, mapping, guessed, values)
    for column, more in spare.items():
        doubted = next((g for g in guesses if g.column == column and g.reason == "not_severity"), None)
        taken = doubted and next((g for g in (judge(table, column, h, values[h]) for h in more) if g.taken), None)
        if taken:
            kept[column] = taken.header
            guesses[guesses.index(doubted)] = taken
    return kept, guesses


def guess_file(path, name: str, table: contract.Table, encoding: str | None = None,
               fixed: dict | None = None, sheet: str | None = None,
               delimiter: str | None = None, header_row: int | None = None) -> tuple[dict[str, str], list[Guess]]:
    """The checked automatic mapping of a file for `table` (the Data page's starting point), from
    a sample of its first rows, without staging the whole file. `fixed` (a known layout's mapping:
    column -> header, None or "=text") is taken as it is; the other columns are guessed."""
    fixed = fixed or {}
    import contextlib
    import pathlib

    from crmlens import store
    from crmlens.ingest import read

    with contextlib.closing(store.scratch()) as con:
        source = read.open_source(con, pathlib.Path(path), name, encoding, sheet=sheet, delimiter=delimiter,
                                  header_row=header_row)
        try:
            headers = source.headers
            used = {h for h in fixed.values() if h}
            mapping = {c: h for c, h in contract.match_columns(table, [h for h in headers if h not in used], words=True).items()
                       if c not in fixed}
            con.execute(
                f"create temp table _sample as select * from read_csv($p, encoding = $e, {read.CSV_OPTIONS}) "
                f"limit {SAMPLE_ROWS * 5}", {"p": str(source.path), "e": source.read_encoding})
            checked, guesses = checked_mapping(con, "_sample", table, mapping, set(mapping),
                                               [h for h in headers if h not in used])
            given = {c: h for c, h in fixed.items() if h}
            return {c.name: ({**checked, **given})[c.name] for c in table.columns if c.name in {**checked, **given}}, guesses
        except duckdb.Error as e:
            raise read.csv_problem(e, name, source.encoding, source.path) from e
        finally:
            source.close()
