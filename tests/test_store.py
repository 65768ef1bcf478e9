"""store: snapshots that survive replaces, all-or-nothing writes, the write lock across processes.

A load here writes n customers C0..C<n-1>, so a row count tells which load a reader saw.
"""

from __future__ import annotations

import hashlib
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from crmlens import ingest, store

PROJECT_DIR = pathlib.Path(store.__file__).resolve().parent.parent


def customers_csv(tmp_path: pathlib.Path, n: int, name: str = "customers.csv") -> pathlib.Path:
    path = tmp_path / name
    path.write_text("customer_id,name\n" + "".join(f"C{i},name {i}\n" for i in range(n)))
    return path


def load_customers(db: pathlib.Path, n: int) -> None:
    ingest.load_files([customers_csv(db.parent, n, f"customers_{n}.csv")], db=db)


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def n_customers(snap: store.Snapshot) -> int:
    return int(snap.query("select count(*) as n from customers")["n"].iloc[0])


def db_dir_files(db: pathlib.Path) -> set[str]:
    """Files beside the database except the CSV inputs: the database, its lock, and any leftovers."""
    return {p.name for p in db.parent.iterdir() if p.suffix != ".csv"}


@pytest.fixture
def db(tmp_path) -> pathlib.Path:
    """A database at version 1 holding 3 customers."""
    path = tmp_path / "crm.duckdb"
    load_customers(path, 3)
    return path


def start_python(code: str, *args: str) -> subprocess.Popen:
    """Another Python process (cwd = the project) that prints 'ready' once it holds what it should hold."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=PROJECT_DIR,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    assert line == "ready\n", proc.stderr.read()
    return proc


# --- all or nothing -------------------------------------------------------------------------

def test_failed_ingest_leaves_the_file_byte_identical(tmp_path, db):
    before, files = sha256(db), db_dir_files(db)
    assert files == {"crm.duckdb", "crm.duckdb.lock"}
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,order_date\nO1,C1,2024-01-03\n")
    with pytest.raises(ingest.IngestError, match="amount"):
        ingest.load_files([customers_csv(tmp_path, 10), bad], db=db, table="orders")
    assert sha256(db) == before
    assert db_dir_files(db) == files  # no temporary copy (or its WAL) left behind
    snap = store.snapshot(db)
    assert (snap.version, n_customers(snap)) == (1, 3)


def test_exception_inside_writer_discards_every_change(db):
    before, files = sha256(db), db_dir_files(db)
    with pytest.raises(RuntimeError, match="boom"):
        with store.writer(db) as con:
            con.execute("delete from customers")
            con.execute("create table scratch as select 1 as x")
            assert con.execute("select count(*) from customers").fetchone() == (0,)
            raise RuntimeError("boom")
    assert sha256(db) == before
    assert db_dir_files(db) == files
    snap = store.snapshot(db)
    assert (snap.version, n_customers(snap)) == (1, 3)
    assert "scratch" not in snap.tables()


def test_failed_first_load_creates_no_database(tmp_path):
    db = tmp_path / "new.duckdb"
    with pytest.raises(RuntimeError):
        with store.writer(db) as con:
            con.execute("create table scratch as select 1 as x")
            raise RuntimeError("boom")
    assert not db.exists()
    assert db_dir_files(db) == {"new.duckdb.lock"}
    with pytest.raises(store.NoData):
        store.snapshot(db)


def test_writer_on_a_file_that_is_not_a_database_leaves_no_copy(tmp_path):
    db = tmp_path / "notes.duckdb"
    db.write_text("customer_id\nC1\n")  # e.g. a CSV given as --db by mistake
    before = sha256(db)
    with pytest.raises(store.NotOurDatabase, match="not a valid DuckDB database file"):
        with store.writer(db):
            pass
    assert sha256(db) == before
    assert db_dir_files(db) == {"notes.duckdb", "notes.duckdb.lock"}


def test_killed_writer_leaves_the_data_and_lock_usable(db):
    # A load killed halfway (os._exit: no cleanup at all) leaves the published file as it was,
    # and the kernel releases its lock, so the next load works.
    before = sha256(db)
    proc = start_python("""
        import os, sys
        from crmlens import store
        with store.writer(sys.argv[1]) as con:
            con.execute("delete from customers")
            print("ready", flush=True)
            sys.stdin.readline()
            os._exit(9)
    """, str(db))
    proc.stdin.write("die\n")
    proc.stdin.flush()
    assert proc.wait(timeout=10) == 9
    assert sha256(db) == before
    with store.writer(db, lock_timeout_s=0.5) as con:
        con.execute("insert into customers (customer_id) values ('C99')")
    snap = store.snapshot(db)
    assert (snap.version, n_customers(snap)) == (2, 4)


# --- versions and the loads log ------------------------------------------------------------

def test_successful_load_bumps_the_version_by_one_and_logs_each_file(tmp_path, db):
    snap = store.snapshot(db)
    assert snap.version == 1
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_date,amount\nO1,C1,2024-01-03,5\nO2,C2,2024-01-04,7\n")
    ingest.load_files([customers_csv(tmp_path, 5), orders], db=db)  # two files, one load
    snap = store.snapshot(db)
    assert snap.version == 2
    assert snap.updated_at is not None
    loads = snap.query("select load_id, version, file_name, table_name, mode, n_rows, n_rejected from loads order by load_id")
    assert loads.values.tolist() == [
        [1, 1, "customers_3.csv", "customers", "replace", 3, 0],
        [2, 2, "customers.csv", "customers", "replace", 5, 0],
        [3, 2, "orders.csv", "orders", "replace", 2, 0],
    ]
    assert snap.query("select content_hash from loads where load_id = 3")["content_hash"][0] == sha256(orders)


def test_a_writer_with_no_changes_still_counts_as_a_version(db):
    with store.writer(db):
        pass
    assert store.snapshot(db).version == 2


def test_snapshot_is_reused_until_the_file_is_replaced(db):
    first = store.snapshot(db)
    assert store.snapshot(db) is first
    assert store.snapshot(str(db)) is first  # the same file, however it is named
    load_customers(db, 4)
    second = store.snapshot(db)
    assert second is not first
    assert store.snapshot(db) is second


def test_missing_database_is_no_data(tmp_path):
    assert not store.exists(tmp_path / "none.duckdb")
    with pytest.raises(store.NoData):
        store.snapshot(tmp_path / "none.duckdb")


# --- snapshots across replaces --------------------------------------------------------------

def test_old_snapshot_keeps_its_data_after_a_replace(db):
    old = store.snapshot(db)
    assert (old.version, n_customers(old)) == (1, 3)
    load_customers(db, 7)
    new = store.snapshot(db)
    assert (new.version, n_customers(new)) == (2, 7)
    # The old snapshot still reads the file it attached (now unlinked), whole and unchanged.
    assert (old.version, n_customers(old)) == (1, 3)
    assert list(old.query("select customer_id from customers order by 1")["customer_id"]) == ["C0", "C1", "C2"]


def test_concurrent_readers_see_whole_versions_while_loads_replace(db):
    # Load k (version k+1 after the fixture's version 1) writes 10*(k+1) customers, so every
    # consistent read has count == 10 * version (version 1: 3 customers, from the fixture).
    n_loads, n_threads, min_queries = 6, 8, 50
    expected = {1: 3, **{v: 10 * v for v in range(2, n_loads + 2)}}
    errors: list[BaseException] = []
    seen: list[list[tuple[int, int]]] = [[] for _ in range(n_threads)]
    loading = threading.Event()
    loading.set()

    def read_once(i: int) -> None:
        snap = store.snapshot(db)
        df = snap.query("select (select version from meta) as v, (select count(*) from customers) as n")
        v, n = int(df["v"][0]), int(df["n"][0])
        assert v == snap.version
        seen[i].append((v, n))

    def read(i: int) -> None:
        try:
            while len(seen[i]) < min_queries or loading.is_set():
                read_once(i)
            read_once(i)  # once more after the loads end: the newest version, whatever the timing
        except BaseException as e:  # reported below, with the thread's results
            errors.append(e)

    def write() -> None:
        try:
            for v in range(2, n_loads + 2):
                load_customers(db, expected[v])
        except BaseException as e:
            errors.append(e)
        finally:
            loading.clear()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(n_threads)]
    threads.append(threading.Thread(target=write))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)  # generous: CI machines can be slow and busy
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    for results in seen:
        assert len(results) >= min_queries
        assert all(expected[v] == n for v, n in results), results
        versions = [v for v, _ in results]
        assert versions == sorted(versions)  # a reader never goes back to older data
    assert {v for results in seen for v, _ in results} > {n_loads + 1}  # more than the last version was seen
    assert store.snapshot(db).version == n_loads + 1


# --- the write lock -------------------------------------------------------------------------

HOLD_LOCK = """
    import fcntl, sys
    fh = open(sys.argv[1] + ".lock", "a+")
    fcntl.flock(fh, fcntl.LOCK_EX)
    print("ready", flush=True)
    sys.stdin.readline()
"""


def test_writer_gives_up_quickly_while_another_process_holds_the_lock(db):
    before = sha256(db)
    proc = start_python(HOLD_LOCK, str(db))
    try:
        started = time.monotonic()
        with pytest.raises(store.StoreBusy) as err:
            with store.writer(db, lock_timeout_s=0.5) as con:
                con.execute("delete from customers")
        waited = time.monotonic() - started
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert 0.5 <= waited < 2.0
    assert str(err.value) == (
        f"another load into {db} has been running for over 0.5 s; wait for it to finish and try again")
    assert sha256(db) == before
    # Once the other process is gone, the lock is free.
    with store.writer(db, lock_timeout_s=0.5) as con:
        con.execute("delete from customers")
    assert n_customers(store.snapshot(db)) == 0


def test_two_writers_in_two_processes_take_turns(tmp_path, db):
    # Another process is in the middle of a load; ours is refused, theirs lands whole.
    proc = start_python("""
        import sys
        from crmlens import store
        with store.writer(sys.argv[1]) as con:
            con.execute("insert into customers (customer_id) values ('X1')")
            print("ready", flush=True)
            sys.stdin.readline()
    """, str(db))
    try:
        with pytest.raises(store.StoreBusy):
            with store.writer(db, lock_timeout_s=0.3) as con:
                con.execute("delete from customers")
        assert (store.snapshot(db).version, n_customers(store.snapshot(db))) == (1, 3)
    finally:
        proc.stdin.write("go\n")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    snap = store.snapshot(db)
    assert (snap.version, n_customers(snap)) == (2, 4)


def test_cli_load_in_another_process_while_a_snapshot_is_open(tmp_path, db):
    # The "CLI load while the app runs" case: this process holds the file attached read-only.
    held = store.snapshot(db)
    assert n_customers(held) == 3
    path = customers_csv(tmp_path, 12, "more_customers.csv")
    done = subprocess.run([sys.executable, "-m", "crmlens", "load", str(path), "--db", str(db)],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("more_customers.csv -> customers: 12 rows loaded, 0 rejected")
    assert (held.version, n_customers(held)) == (1, 3)  # the open snapshot is untouched
    snap = store.snapshot(db)
    assert (snap.version, n_customers(snap)) == (2, 12)
