"""Issue 21, item 3: crashes leave nothing behind. Copies of killed loads are removed by the next
load (only those no live load owns); upload folders go when their session or server ends."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from crmlens import ingest, store, tempfiles

PROJECT_DIR = pathlib.Path(store.__file__).resolve().parent.parent
KILLS = 10


def leftovers(db: pathlib.Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if ".tmp" in p.name)


def orders_csv(path: pathlib.Path, n: int) -> pathlib.Path:
    path.write_text("order_id,customer_id,order_date,amount,status\n"
                    + "".join(f"{path.stem}-{i},C{i % 5000},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 900 + 1},completed\n"
                              for i in range(n)))
    return path


def python(code: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=PROJECT_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def test_ten_killed_loads_leave_no_temporary_file_after_the_next_load(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files([orders_csv(tmp_path / "orders.csv", 200_000)], db=db)
    version = store.snapshot(db).version
    before = db.read_bytes()
    big = orders_csv(tmp_path / "more_orders.csv", 400_000)
    copies = set()  # the copy each killed load made
    for i in range(KILLS):
        proc = python("""
            import sys
            from crmlens import ingest
            ingest.load_files([sys.argv[2]], db=sys.argv[1], mode="append")
        """, str(db), str(big))
        deadline = time.monotonic() + 60
        while not (new := {n for n in leftovers(db) if n.endswith(".tmp")} - copies):  # until this load made its copy
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the load never made its copy"
            time.sleep(0.01)
        copies |= new
        time.sleep(0.15 * i)  # kill at a later step each time: copying, reading the file, in the transaction
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, f"kill {i + 1}: the load finished before it was killed"
        # Each load removes what the loads killed before it left (they no longer hold the lock).
        assert {n for n in leftovers(db) if n.endswith(".tmp")} == new
    assert len(copies) == KILLS
    assert db.read_bytes() == before and store.snapshot(db).version == version  # the data as it was
    ingest.load_files([orders_csv(tmp_path / "few.csv", 10)], db=db, mode="append")  # the next load
    assert leftovers(db) == []
    assert store.snapshot(db).version == version + 1


def test_the_copy_of_a_live_load_is_left_alone(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files([orders_csv(tmp_path / "orders.csv", 10)], db=db)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys
        from crmlens import store
        with store.writer(sys.argv[1]) as con:
            print("ready", flush=True)
            sys.stdin.readline()
    """), str(db)], cwd=PROJECT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    live = [n for n in leftovers(db) if n.endswith(".tmp")]
    assert len(live) == 1
    with pytest.raises(store.StoreBusy):  # another load waits for the lock: it removes nothing
        with store.writer(db, lock_timeout_s=0.3):
            pass
    assert (tmp_path / live[0]).exists()
    proc.communicate("done\n", timeout=30)
    assert leftovers(db) == []  # published: the copy became the database


def test_only_the_databases_own_copies_are_removed(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files([orders_csv(tmp_path / "orders.csv", 10)], db=db)
    orphan = tmp_path / f".crm.duckdb.{'a' * 32}.tmp"
    wal = tmp_path / f".crm.duckdb.{'b' * 32}.tmp.wal"
    spill = tmp_path / f".crm.duckdb.{'c' * 32}.tmp.tmp"
    others = [tmp_path / f".other.duckdb.{'d' * 32}.tmp", tmp_path / "crm.duckdb.tmp", tmp_path / ".crm.duckdb.x.tmp",
              tmp_path / "notes.tmp"]
    for path in (orphan, wal, *others):
        path.write_text("x")
    spill.mkdir()
    (spill / "block").write_text("x")
    with store.writer(db):
        pass
    assert not orphan.exists() and not wal.exists() and not spill.exists()
    assert all(path.exists() for path in others)


# --- upload folders ---------------------------------------------------------------------------

def test_a_sessions_upload_folder_goes_when_the_session_ends(monkeypatch):
    folder = tempfile.mkdtemp(prefix=f"{tempfiles.PREFIX}{os.getpid()}-")
    (pathlib.Path(folder) / "upload.csv").write_text("a\n1\n")
    tempfiles._mine.add(folder)
    tempfiles._release(folder)  # what Streamlit calls when the session's resources are released
    assert not os.path.exists(folder) and folder not in tempfiles._mine


def test_a_folder_a_load_still_reads_goes_when_the_load_is_done():
    folder = tempfile.mkdtemp(prefix=f"{tempfiles.PREFIX}{os.getpid()}-")
    with tempfiles.reading(folder):
        tempfiles._release(folder)  # the browser closed during the load
        assert os.path.exists(folder)
    assert not os.path.exists(folder)


def test_folders_of_servers_that_no_longer_run_are_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = tmp_path / f"{tempfiles.PREFIX}{os.getpid()}-abc"
    gone = tmp_path / f"{tempfiles.PREFIX}{dead.pid}-abc"
    alive = tmp_path / f"{tempfiles.PREFIX}1-abc"  # pid 1 always runs
    old = tmp_path / f"{tempfiles.PREFIX}k3j_x9"  # the old naming: no server pid
    fresh_old = tmp_path / f"{tempfiles.PREFIX}z8q_w1"
    other = tmp_path / "crmlens-uploads-notes"
    for folder in (mine, gone, alive, old, fresh_old, other):
        folder.mkdir()
        (folder / "f.csv").write_text("a\n")
    os.utime(old, (time.time() - 2 * tempfiles.OLD_FORMAT_AGE_S,) * 2)
    removed = tempfiles.sweep(tmp_path)
    assert sorted(removed) == sorted([gone, old])
    assert mine.exists() and alive.exists() and fresh_old.exists() and other.exists()


def test_cleaned_copies_a_killed_load_left_are_swept(tmp_path):
    """A file with bare CR line ends is read from a cleaned copy (crmlens.ingest.decode.clean_copy)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"{tempfiles.CLEAN_PREFIX}{dead.pid}-x1y2.csv"
    mine = tmp_path / f"{tempfiles.CLEAN_PREFIX}{os.getpid()}-x1y2.csv"
    alive = tmp_path / f"{tempfiles.CLEAN_PREFIX}1-x1y2.csv"
    for path in (gone, mine, alive):
        path.write_text("a\n")
    assert tempfiles.sweep(tmp_path) == [gone]
    assert mine.exists() and alive.exists()


def test_a_stopped_server_removes_its_upload_folders(tmp_path):
    proc = python("""
        import os, pathlib, tempfile
        from crmlens import tempfiles
        folder = tempfile.mkdtemp(prefix=f"{tempfiles.PREFIX}{os.getpid()}-", dir=os.environ["TMPDIR"])
        tempfiles._mine.add(folder)
        (pathlib.Path(folder) / "upload.csv").write_text("a")
        print(folder, flush=True)
    """, env={"TMPDIR": str(tmp_path)})
    proc.wait(30)
    assert proc.returncode == 0
    assert list(tmp_path.glob(tempfiles.PREFIX + "*")) == []
