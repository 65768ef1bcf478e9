"""Run the SQL files in queries/ by name, with bound named parameters.

Every metric is a file `queries/<name>.sql` whose header names its parameters
(`-- params: $start DATE, $end DATE`). Values are always bound, never pasted
into SQL text. Only the parameters a query uses are passed to it, so callers
can hand the same filter dict to every query of a page.
"""

from __future__ import annotations

import functools
import itertools
import pathlib
import re

import duckdb
import pandas as pd

from crmlens import model, store, vocab

QUERY_DIR = pathlib.Path(__file__).resolve().parent.parent / "queries"
SHARED_DIR = QUERY_DIR / "shared"  # SQL pieces several queries use, pulled in by `-- include: <name>`
# `-- include: piece` takes the text of queries/shared/piece.sql.
_INCLUDE = re.compile(r"^[ \t]*-- include: (\w+)[ \t]*$", re.MULTILINE)
_PARAM = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)")
_COMMENT = re.compile(r"--[^\n]*")

# Parameters every query may use without the caller passing them: the known closing stages
# (the funnel page can name others).
DEFAULT_PARAMS = {
    "won_stages": list(vocab.WON_STAGES),
    "lost_stages": list(vocab.LOST_STAGES),
}


@functools.cache
def sql_text(name: str, from_marts: bool | str = False) -> str:
    """The query's SQL, with each `-- include: piece` line replaced by queries/shared/piece.sql (from_marts:
    the pieces model.mart_pieces(name, from_marts) names read from a mart instead)."""
    path = QUERY_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {QUERY_DIR}")
    return _expand(path.read_text(encoding="utf-8"), seen=(name,), swap=model.mart_pieces(name, from_marts) if from_marts else {})


def expand(sql: str, seen: tuple[str, ...] = (), swap: dict | None = None) -> str:
    """SQL text with its `-- include:` lines expanded (the model's marts that share a piece with the queries; swap:
    pieces to take in place of others, as sql_text's from_marts)."""
    return _expand(sql, seen, swap)


def _piece_text(name: str, seen: tuple[str, ...], swap: dict) -> str:
    name = swap.get(name, name)
    path = SHARED_DIR / f"{name}.sql"
    if name in seen or not path.is_file():
        raise KeyError(f"cannot include {name!r}: {'a cycle' if name in seen else f'no file {path}'}")
    return _expand(path.read_text(encoding="utf-8").rstrip("\n"), seen + (name,), swap)


def _expand(sql: str, seen: tuple[str, ...], swap: dict | None = None) -> str:
    return _INCLUDE.sub(lambda match: _piece_text(match.group(1), seen, swap or {}), sql)


def parameters(sql: str) -> list[str]:
    """Named parameters used in the SQL body (comments ignored), in first-use order."""
    return list(dict.fromkeys(_PARAM.findall(_COMMENT.sub("", sql))))


def declared_parameters(sql: str) -> list[str]:
    """Parameters listed in the `-- params:` header and its indented continuation lines (`--   ...`)."""
    header, lines = [], iter(sql.splitlines())
    for line in lines:
        if line.startswith("-- params:"):
            header.append(line)
            header += list(itertools.takewhile(lambda more: more.startswith("--   "), lines))
            break
    return list(dict.fromkeys(_PARAM.findall("\n".join(header))))


def bind(name: str, params: dict, from_marts: bool | str = False) -> dict:
    """The subset of params (plus defaults) that query `name` uses; missing ones are an error."""
    wanted = parameters(sql_text(name, from_marts))
    # use_spells_mart, use_churn_mart, use_drivers_mart and use_funnel_mart are facts about the snapshot's model (set by run), never the caller's
    merged = {**DEFAULT_PARAMS, **params, "use_spells_mart": False, "use_churn_mart": False,
              "use_drivers_mart": False, "use_funnel_mart": False, **dict.fromkeys(model.COMPLAINT_FLAGS, False)}
    missing = [p for p in wanted if p not in merged]
    if missing:
        raise KeyError(f"query {name} needs parameters {missing}")
    return {p: merged[p] for p in wanted}


def prepared(name: str, params: dict | None, snap: store.Snapshot) -> tuple[str, dict]:
    """The SQL text and bound parameters query `name` runs with on `snap`: the one choice of its variant (the pieces
    it takes from marts: model.complaint_pieces, funnel_pieces, default_measures, default_states, end_marts,
    default_moves, use_loyalty_mart) and of the model's flags (use_spells_mart, use_churn_mart, use_drivers_mart,
    use_funnel_mart, the complaint marts': facts about the snapshot); or, for a query whose rows for these parameters
    were kept at load (model.kept_view: the churn and complaints pages as they open), the select of those rows. run executes exactly
    this, but for kept rows, which it reads from their frames (model.kept_frame: the same rows, with the page's other kept
    rows in one round trip); the tests' query plans (EXPLAIN) use it too."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    kept = model.kept_view(snap, name, merged)
    if kept is not None:  # the page as it opens: its rows kept at load (model.KEPT_VIEWS)
        return model.kept_rows_sql(kept), {}
    from_marts = (model.complaint_pieces(snap, name, merged)
                  or model.funnel_pieces(snap, name, merged)
                  or model.default_measures(snap, name, merged)
                  or model.default_states(snap, name, merged)
                  or model.end_marts(snap, name, merged)
                  or model.default_moves(snap, name, merged)
                  or model.use_loyalty_mart(snap, name, merged))
    bound = bind(name, params or {}, from_marts)
    for flag, decide in (("use_spells_mart", model.use_spells_mart), ("use_churn_mart", model.use_churn_mart),
                         ("use_drivers_mart", model.use_drivers_mart), ("use_funnel_mart", model.use_funnel_mart)):
        if flag in bound:
            bound[flag] = decide(snap, merged)
    if any(flag in bound for flag in model.COMPLAINT_FLAGS):
        flags = model.complaint_marts(snap, merged)
        bound.update({flag: flags[flag] for flag in model.COMPLAINT_FLAGS if flag in bound})
    return sql_text(name, from_marts), bound


def run(name: str, params: dict | None = None, snap: store.Snapshot | None = None) -> pd.DataFrame:
    """Run queries/<name>.sql on a snapshot (default: the current data)."""
    snap = snap or store.snapshot()
    kept = model.kept_frame(snap, name, {**DEFAULT_PARAMS, **(params or {})})
    if kept is not None:  # the page as it opens: its rows kept at load, every query's read in one round trip
        return kept
    sql, bound = prepared(name, params, snap)
    try:
        return snap.query(sql, bound)
    except duckdb.Error as e:
        raise store.QueryFailed(name, bound, e) from e


def execute(name: str, params: dict | None, con: duckdb.DuckDBPyConnection) -> None:
    """Run a statement of queries/<name>.sql on a writer's connection (derived tables of a load)."""
    con.execute(sql_text(name), bind(name, params or {}))


def names() -> list[str]:
    return sorted(p.stem for p in QUERY_DIR.glob("*.sql"))
