"""The only module that opens DuckDB.

Design (see README, "How the data is stored"): the database file is an immutable
snapshot. Readers, in any number of processes, attach it read-only from an
in-memory connection and hand out a cursor per call. A writer (an upload in the
app, or `python -m crmlens load` from a shell) takes a lock file, copies the
current file, changes the copy in one transaction and atomically renames it over
the original. Readers notice the new file on their next query and re-attach;
queries already running finish on the snapshot they started on. A failed or
killed load leaves only an unreferenced temporary file: the data is unchanged.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Iterator

import duckdb
import pandas as pd

from crmlens import contract, interrupt

PROJECT_DIR = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_DIR / "data" / "crm.duckdb"
WRITE_LOCK_TIMEOUT_S = 30.0
# Per snapshot connection; two snapshots can be alive briefly while one replaces the other.
MEMORY_LIMIT = os.environ.get("CRMLENS_MEMORY_LIMIT", "4GB")
THREADS = int(os.environ.get("CRMLENS_THREADS", str(os.cpu_count() or 2)))

META_DDL = """
create table if not exists meta (version bigint not null, updated_at timestamp not null);
create table if not exists loads (
    load_id bigint, version bigint, loaded_at timestamp, file_name varchar,
    table_name varchar, mode varchar, n_rows bigint, n_rejected bigint, content_hash varchar
);
create table if not exists mappings (
    signature varchar, table_name varchar, mapping_json varchar, saved_at timestamp
);
"""


class NoData(Exception):
    """The database file does not exist yet."""


class NotOurDatabase(Exception):
    """The file at the database path is no CRM Lens database: never read as one, never written into.

    reason: "unreadable" (not a DuckDB file: text, empty, cut short, damaged) or "foreign" (a DuckDB
    database that CRM Lens did not write). str() names the file and the cause, for logs and the CLI.
    """

    def __init__(self, path: pathlib.Path, reason: str, cause: Exception | None = None):
        what = ("is a DuckDB database that CRM Lens did not write" if reason == "foreign"
                else "cannot be read as a DuckDB database")
        super().__init__(f"{path} {what}" + (f" ({cause})" if cause else ""))
        self.path, self.reason = path, reason


class StoreBusy(Exception):
    """Another load holds the write lock for longer than we wait."""


class QueryFailed(Exception):
    def __init__(self, name: str, params: dict, cause: Exception):
        super().__init__(f"query {name} failed with params {params}: {cause}")
        self.name, self.params = name, params


def db_path(path: str | os.PathLike | None = None) -> pathlib.Path:
    """The database file: an explicit path, else $CRMLENS_DB, else data/crm.duckdb."""
    return pathlib.Path(path or os.environ.get("CRMLENS_DB") or DEFAULT_DB).resolve()


def _extension_dir() -> str | None:
    try:
        import duckdb_ext
    except ImportError:
        return None
    return str(pathlib.Path(list(duckdb_ext.__path__)[0]) / "extensions")


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with our limits and the offline extensions (encodings, excel)."""
    config = {
        "threads": THREADS,
        "memory_limit": MEMORY_LIMIT,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if ext_dir := _extension_dir():
        config["extension_directory"] = ext_dir
    con = duckdb.connect(database, config=config)
    con.execute("set enable_progress_bar = false")  # a session option: no bars in logs and the CLI
    return con


def _sql_string(value: str) -> str:
    # ATTACH takes no parameters; the path is our own configuration, never user input.
    return "'" + str(value).replace("'", "''") + "'"


def _file_identity(path: pathlib.Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class Snapshot:
    """One version of the data, read-only. Safe to share between threads."""

    path: pathlib.Path
    identity: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    version: int
    updated_at: pd.Timestamp | None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.execute("use crm; set enable_progress_bar = false")
        return cur

    def query(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        cur = self.cursor()
        try:
            with interrupt.when_abandoned(cur):  # a session that reruns or ends does not wait for it
                return cur.execute(sql, params or {}).df()
        finally:
            cur.close()

    def tables(self) -> set[str]:
        return set(self.query("select table_name from duckdb_tables() where database_name = 'crm'")["table_name"])

    def columns(self, table: str) -> list[str]:
        df = self.query(
            "select column_name from duckdb_columns() where database_name = 'crm' and table_name = $t "
            "order by column_index",
            {"t": table},
        )
        return list(df["column_name"])


_HEADER_BYTES = 3 * 4096  # a DuckDB file: its header and two database headers, then the blocks
_snapshots: dict[pathlib.Path, Snapshot] = {}
_snapshots_lock = threading.Lock()


def _open_snapshot(path: pathlib.Path) -> Snapshot:
    while True:
        before = _file_identity(path)
        if before is None:
            raise NoData(str(path))
        con = connect()
        try:
            con.execute(f"attach {_sql_string(path)} as crm (read_only)")
        except duckdb.Error as e:  # text, an empty file, a file cut short
            con.close()
            raise NotOurDatabase(path, "unreadable", e) from e
        if _file_identity(path) == before:
            break
        con.close()  # replaced while we attached: take the newer file
    try:
        # The blocks in use cannot fit in fewer bytes (free blocks at the end may be cut off, used ones not).
        block_size, n_used = con.execute(
            "select block_size, used_blocks from pragma_database_size() where database_name = 'crm'").fetchone()
        if before[2] < _HEADER_BYTES + n_used * block_size:
            raise duckdb.IOException(f"the file has {before[2]} bytes, its blocks need at least "
                                     f"{_HEADER_BYTES + n_used * block_size}: it was cut short")
        row = con.execute("select version, updated_at from crm.meta").fetchone()
    except (duckdb.CatalogException, duckdb.BinderException) as e:
        con.close()
        raise NotOurDatabase(path, "foreign", e) from e
    except duckdb.Error as e:  # damaged where the bookkeeping is
        con.close()
        raise NotOurDatabase(path, "unreadable", e) from e
    version, updated_at = row if row else (0, None)
    return Snapshot(path, before, con, int(version), pd.Timestamp(updated_at) if updated_at else None)


def snapshot(path: str | os.PathLike | None = None) -> Snapshot:
    """The current data. Re-attaches when a load has replaced the file."""
    path = db_path(path)
    identity = _file_identity(path)
    current = _snapshots.get(path)
    if current is not None and current.identity == identity:
        return current
    with _snapshots_lock:
        current = _snapshots.get(path)
        if current is None or current.identity != _file_identity(path):
            current = _open_snapshot(path)
            _snapshots[path] = current
        return current


def exists(path: str | os.PathLike | None = None) -> bool:
    return db_path(path).exists()


@contextlib.contextmanager
def file_lock(lock_path: pathlib.Path, timeout_s: float, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold an exclusive lock on lock_path (any process on this machine); raise busy() after timeout_s."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_lock(path: pathlib.Path, timeout_s: float):
    return file_lock(path.with_name(path.name + ".lock"), timeout_s, lambda: StoreBusy(
        f"another load into {path} has been running for over {timeout_s:g} s; wait for it to finish and try again"))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables and every canonical table that is missing (empty)."""
    con.execute(META_DDL)
    existing = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
    for table in contract.TABLES.values():
        if table.name not in existing:
            cols = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
            con.execute(f'create table "{table.name}" ({cols})')


@contextlib.contextmanager
def writer(path: str | os.PathLike | None = None, lock_timeout_s: float = WRITE_LOCK_TIMEOUT_S,
           new_version: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a copy of the data, published atomically on success.

    Everything done through the connection is one transaction: when the block
    raises, the copy is discarded and the published file is untouched. A change
    that leaves every figure as it was (new_version=False) keeps the data version,
    so links made on it raise no "data changed" notice.
    """
    path = db_path(path)
    with _write_lock(path, lock_timeout_s):
        remove_orphans(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        existed = path.exists()
        old_version = 0
        if existed:  # a whole CRM Lens database, or NotOurDatabase: never write into another file
            current = _open_snapshot(path)
            old_version = current.version
            current.con.close()
        try:
            if existed:
                shutil.copyfile(path, tmp)
            con = connect(str(tmp))
        except duckdb.Error as e:  # not a DuckDB database (text, empty, cut short): never written into
            _remove_copy(tmp)
            raise NotOurDatabase(path, "unreadable", e) from e
        except BaseException:  # e.g. disk full
            _remove_copy(tmp)
            raise
        try:
            ensure_schema(con)
            con.execute("begin")
            yield con
            if new_version:
                _bump_version(con)
            con.execute("commit")
            con.execute("checkpoint")
            con.close()
            if existed and new_version:  # the snapshot being replaced is kept, to roll back to (versions.py)
                from crmlens import versions

                versions.keep(path, old_version)
            _publish(tmp, path)
        except BaseException:
            con.close()
            _remove_copy(tmp)
            raise


def _orphan_pattern(path: pathlib.Path) -> re.Pattern:
    # The copy a writer works on (.crm.duckdb.<uuid>.tmp), its write-ahead log and DuckDB's spill folder.
    return re.compile(r"\." + re.escape(path.name) + r"\.[0-9a-f]{32}\.tmp(\.wal|\.tmp)?")


def remove_orphans(path: pathlib.Path) -> list[pathlib.Path]:
    """Delete the copies killed loads left beside the database. Call only while holding the write lock:
    every load works under it, so no copy found then belongs to a live load."""
    pattern = _orphan_pattern(path)
    removed = []
    for entry in path.parent.iterdir() if path.parent.is_dir() else ():
        if pattern.fullmatch(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _remove_copy(tmp: pathlib.Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _bump_version(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute("select max(version) from meta").fetchone()
    version = (row[0] or 0) + 1
    con.execute("delete from meta")
    con.execute("insert into meta values ($v, current_localtimestamp())", {"v": version})


def _publish(tmp: pathlib.Path, path: pathlib.Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
