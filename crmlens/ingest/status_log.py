"""A ticket system's status log (one row per status change of a ticket: ServiceNow's audit, Volvo IT's VINST log,
a 工单 流转记录) folded into one complaint per ticket.

A complaints file is a log when its ticket ids repeat on most rows and it has a status: each row is then a change,
its time the mapped `created_at`. A ticket was opened at its first change, stands in its latest status, got its first
response at its first change to a status other than a waiting one (new, queued: vocab.WAITING_COMPLAINT_STATUSES) and
was resolved at its first change to a closed status after the last open one, when its latest status is closed (a
ticket reopened after "Resolved" is open again). Its other columns take their latest value. A column the file maps
itself (resolved_at, first_response_at) wins over what the changes say.
"""

from __future__ import annotations

import duckdb

from crmlens import contract, vocab
from crmlens.ingest.convert import quote_ident

LOG_MIN_SHARE = 0.5  # the share of rows whose ticket id is on several rows, from which a complaints file is a log
FOLDED = ("complaint_id", "created_at", "status", "first_response_at", "resolved_at")  # worked out, not the latest value


def is_status_log(con: duckdb.DuckDBPyConnection, table: contract.Table, mapping: dict[str, str],
                  repeated: str | None) -> bool:
    """A complaints file whose ids repeat on at least LOG_MIN_SHARE of its rows and that has a status and a time.
    Below that share a repeated id stays a duplicate (rejected), never a reason to merge two complaints."""
    if table.name != "complaints" or repeated is None or not {"status", "created_at"} <= set(mapping):
        return False
    repeated_rows, all_rows = con.execute(
        f"select (select coalesce(sum(n), 0) from {repeated}), (select count(*) from _typed)").fetchone()
    return all_rows > 0 and repeated_rows >= LOG_MIN_SHARE * all_rows


def fold_status_log(con: duckdb.DuckDBPyConnection, columns: list[str], mapping: dict[str, str]) -> int:
    """Turn the accepted changes of _typed into one row per ticket in _accepted; return the changes folded."""
    latest = ", ".join(f"arg_max({quote_ident(c)}, _seq) filter (where {quote_ident(c)} is not null) "
                       f"as {quote_ident(c)}" for c in columns if c not in FOLDED)
    own_response = "min(first_response_at)" if "first_response_at" in mapping else "null::timestamp"
    own_resolved = "max(resolved_at)" if "resolved_at" in mapping else "null::timestamp"
    con.execute(
        f"""
        create or replace temp table _accepted as
        with marked as (
            select *,
                   row_number() over (partition by _ticket order by created_at, _row) as _seq,
                   list_contains($closed, lower(trim(status))) as _is_closed,  -- NULL for a change without a status
                   list_contains($waiting, lower(trim(status))) as _is_waiting
            from (
                -- a change without a ticket id is a ticket of its own, as a row without an id of a ticket list is
                select *, coalesce(complaint_id, '#' || _row) as _ticket
                from _typed
                where _row not in (select row_no from _rejects)
            )
        ),
        changes as (
            -- the changes in order (_seq: time, then the file's order for changes at the same time)
            select *, max(_seq) filter (where not _is_closed) over (partition by _ticket) as _last_open_seq
            from marked
        ),
        tickets as (
            select any_value(complaint_id) as complaint_id, min(_row) as _row, min(created_at) as created_at,
                   arg_max(status, _seq) filter (where status is not null) as status,
                   arg_max(_is_closed, _seq) filter (where status is not null) as _ends_closed,
                   -- the first closing change after the last open one (Resolved, then Closed: resolved at Resolved)
                   min(created_at) filter (where _is_closed and _seq > coalesce(_last_open_seq, 0)) as _closed_at,
                   min(created_at) filter (where not _is_waiting) as _first_response,
                   {own_response} as _own_response, {own_resolved} as _own_resolved
                   {", " + latest if latest else ""}
            from changes
            group by _ticket
        )
        select t._row, {", ".join(_folded_column(c) for c in columns)}
        from tickets t
        order by t._row
        """,
        {"closed": list(vocab.CLOSED_COMPLAINT_STATUSES), "waiting": list(vocab.WAITING_COMPLAINT_STATUSES)},
    )
    return con.execute("select count(*) from _typed where _row not in (select row_no from _rejects)").fetchone()[0]


def _folded_column(column: str) -> str:
    c = quote_ident(column)
    if column == "first_response_at":
        return f"coalesce(t._own_response, t._first_response) as {c}"
    if column == "resolved_at":
        return f"coalesce(t._own_resolved, if(t._ends_closed, t._closed_at, null)) as {c}"
    return f"t.{c}"
