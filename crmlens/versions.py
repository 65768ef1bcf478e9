"""Data versions: the snapshots a load replaced, kept for rolling back, and clearing a table.

Every load writes a new snapshot file and renames it over the database (store.writer). Just
before that, the snapshot being replaced is kept as a hard link (no copy: the same bytes) in a
folder beside the database, `.crm.duckdb.versions/v<version>.duckdb`; the last N are kept
(CRMLENS_KEEP_VERSIONS, default 5; 0 keeps none; a value that is not a whole number stops every
load with a message, the data unchanged).

Rolling back to a kept version is itself a load: a new snapshot (a new, higher data version)
whose data tables are those of the kept one, while the load history, saved mappings, digests and
alerts stay as they are now, with the rollback recorded in the history. Clearing a table is a
load too. Both rebuild the model, like any load.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import duckdb

from crmlens import contract, model, store
from crmlens.ingest.convert import quote_ident
from crmlens.ingest.errors import refuse

KEEP_ENV = "CRMLENS_KEEP_VERSIONS"
DEFAULT_KEEP = 5
MAX_KEEP = 1000
_NAME = re.compile(r"v(\d+)\.duckdb")


def keep_setting() -> int:
    text = os.environ.get(KEEP_ENV)
    if text is None:
        return DEFAULT_KEEP
    if not text.strip().isdigit() or int(text) > MAX_KEEP:
        raise refuse("ingest.setting.bad", setting=KEEP_ENV, value=repr(text)[:40], example=str(DEFAULT_KEEP))
    return int(text)


def folder(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(f".{path.name}.versions")


def kept(db: str | os.PathLike | None = None) -> dict[int, pathlib.Path]:
    """Version number -> its kept snapshot file (on DuckLake: the catalog's own earlier snapshots, the last N)."""
    path = store.db_path(db)
    if store.is_lake(path):
        n = keep_setting()
        return dict(list(store.earlier_versions(path).items())[-n:]) if n > 0 else {}
    where = folder(path)
    if not where.is_dir():
        return {}
    found = {int(m.group(1)): entry for entry in where.iterdir() if (m := _NAME.fullmatch(entry.name))}
    return dict(sorted(found.items()))


def keep(path: pathlib.Path, version: int) -> None:
    """Keep the published snapshot `path` (data version `version`) before a writer replaces it; prune to
    the last N. Called by store.writer under the write lock, before it publishes."""
    n = keep_setting()
    where = folder(path)
    if n > 0 and version > 0:
        where.mkdir(exist_ok=True)
        target = where / f"v{version}.duckdb"
        target.unlink(missing_ok=True)
        try:
            os.link(path, target)  # the same bytes under a second name: the rename that follows keeps them
        except OSError:  # a file system without hard links
            shutil.copyfile(path, target)
    for old in list(kept(path))[:-n] if n > 0 else list(kept(path)):
        (where / f"v{old}.duckdb").unlink(missing_ok=True)


def _record(con: duckdb.DuckDBPyConnection, what: str, table: str, mode: str, n_rows: int) -> None:
    con.execute(
        "insert into loads select coalesce(max(load_id), 0) + 1, "
        f"{store.NEXT_VERSION_SQL}, current_localtimestamp(), "
        "$file, $table, $mode, $n_rows, 0, '' from loads",
        {"file": what, "table": table, "mode": mode, "n_rows": n_rows})


def rollback(version: int, db: str | os.PathLike | None = None) -> int:
    """Make the data tables those of kept version `version`; returns the new data version."""
    source = kept(db).get(version)
    if source is None:
        raise refuse("versions.not_kept", version=version, kept=", ".join(map(str, kept(db))) or "-")
    with store.writer_reading(db, source) as (con, old):
        old_tables = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = $old and schema_name = 'main'",
            {"old": old}).fetchall()}
        n_rows = 0
        for table in contract.TABLES.values():
            name = quote_ident(table.name)
            if table.name in old_tables:
                con.execute(f"create or replace table {name} as select * from {old}.main.{name}")
            else:
                con.execute(f"create or replace table {name} ({_columns(table)})")
            n_rows += con.execute(f"select count(*) from {name}").fetchone()[0]
        model.build(con)
        _record(con, f"version {version}", "all", "rollback", n_rows)
        new_version = con.execute(f"select {store.NEXT_VERSION_SQL}").fetchone()[0]
    return int(new_version)


def clear(table: str, db: str | os.PathLike | None = None) -> int:
    """Empty one table (a load of nothing); returns the new data version."""
    if table not in contract.TABLES:
        raise refuse("ingest.mapping.table", file="", table=repr(table)[:80], tables=", ".join(contract.TABLES))
    with store.writer(db) as con:
        con.execute(f"create or replace table {quote_ident(table)} ({_columns(contract.TABLES[table])})")
        model.build(con)
        _record(con, "", table, "clear", 0)
        new_version = con.execute(f"select {store.NEXT_VERSION_SQL}").fetchone()[0]
    return int(new_version)


def _columns(table: contract.Table) -> str:
    return ", ".join(f"{quote_ident(c.name)} {c.type}" for c in table.columns)
