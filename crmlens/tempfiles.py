"""Where uploads wait until they are loaded: one folder per browser session, removed when the
session ends (the browser closed or gone), when the server stops, or, for a server that was
killed, by the next server. The database's own temporary copies are store.remove_orphans' job."""

from __future__ import annotations

import atexit
import functools
import os
import pathlib
import re
import shutil
import tempfile
import threading
import time

import streamlit as st

PREFIX = "crmlens-upload-"
CLEAN_PREFIX = "crmlens-clean-"  # crmlens-clean-<pid>-<random>.csv: crmlens.ingest.decode.clean_copy
_CLEAN_NAME = re.compile(re.escape(CLEAN_PREFIX) + r"(\d+)-\w+\.csv")
_NAME = re.compile(re.escape(PREFIX) + r"(?:(\d+)-)?\w+")  # crmlens-upload-<server pid>-<random>
OLD_FORMAT_AGE_S = 24 * 3600  # folders of versions that did not name their server: removed after a day

_lock = threading.Lock()
_mine: set[str] = set()  # folders this server made and has not removed
_busy: dict[str, int] = {}  # folder -> loads still reading files in it
_released: set[str] = set()  # folders whose session ended while a load still read them


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    _mine.discard(folder)


def _release(folder: str) -> None:
    """The session ended: remove its folder now, or when its last load is done."""
    with _lock:
        if _busy.get(folder):
            _released.add(folder)
        else:
            _remove(folder)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_folder() -> str:
    """This session's upload folder (made on first use; a new one after the session reconnects)."""
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    with _lock:
        _mine.add(folder)
    return folder


def reading(folder: str | os.PathLike) -> "_Reading":
    """`with tempfiles.reading(folder):` keeps the folder while a load reads from it."""
    return _Reading(str(folder))


class _Reading:
    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self):
        with _lock:
            _busy[self.folder] = _busy.get(self.folder, 0) + 1

    def __exit__(self, *exc):
        with _lock:
            _busy[self.folder] -= 1
            if not _busy[self.folder]:
                del _busy[self.folder]
                if self.folder in _released:
                    _released.discard(self.folder)
                    _remove(self.folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep(tmp_dir: str | os.PathLike | None = None) -> list[pathlib.Path]:
    """Remove upload folders left by servers that no longer run (killed, or without a clean stop)."""
    removed = []
    root = pathlib.Path(tmp_dir or tempfile.gettempdir())
    for entry in root.glob(PREFIX + "*"):
        match = _NAME.fullmatch(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        pid = match.group(1)
        if pid is None:
            abandoned = time.time() - entry.stat().st_mtime > OLD_FORMAT_AGE_S
        else:
            abandoned = int(pid) != os.getpid() and not _alive(int(pid))
        if abandoned:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    for entry in root.glob(CLEAN_PREFIX + "*"):  # cleaned copies of files a killed load was reading
        match = _CLEAN_NAME.fullmatch(entry.name)
        if match and entry.is_file() and not entry.is_symlink() and int(match.group(1)) != os.getpid() \
                and not _alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@functools.cache
def sweep_once() -> None:
    """Once per server: what killed servers left behind."""
    sweep()


@atexit.register
def _remove_all() -> None:
    """The server stops (after its loads have finished): nothing of this server's uploads stays."""
    with _lock:
        for folder in list(_mine):
            _remove(folder)
