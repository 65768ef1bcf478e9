"""Download buttons whose files only exist for the session that asked for them.

Streamlit serves a download button's file at /media/<id>.csv to whoever has the address, session or
not, and keeps it until later runs clean up. Data behind a viewer password must not be reachable
that way. So every table downloads through a callable (Streamlit 1.67's deferred download): no
file exists until the reader clicks, the file made then is pruned by Streamlit after a couple of
script runs, and when the session ends (the browser closed or gone) the files it made are deleted
at once (session_files' release hook).
"""

from __future__ import annotations

import threading
from typing import Callable

import streamlit as st
from streamlit import runtime
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

CSV = "text/csv"


class _SessionFiles:
    """The media file ids this session's downloads made."""

    def __init__(self):
        self.ids: set[str] = set()
        self.lock = threading.Lock()

    def add(self, file_id: str) -> None:
        with self.lock:
            self.ids.add(file_id)


def _delete(files: _SessionFiles) -> None:
    """The session ended: its downloads' files go (Streamlit 1.67's media file manager; pinned by
    tests/browser/test_hardened.py, which fetches such a link after the browser closed)."""
    if not runtime.exists():
        return
    manager = runtime.get_instance().media_file_mgr
    with files.lock, manager._lock:
        for file_id in files.ids:
            if file_id in manager._file_metadata:
                manager._delete_file(file_id)
        files.ids.clear()


@st.cache_resource(scope="session", on_release=_delete, show_spinner=False)
def session_files() -> _SessionFiles:
    return _SessionFiles()


def button(label: str, make: Callable[[], bytes], file_name: str, key: str, mime: str = CSV, **kwargs) -> None:
    """st.download_button whose file is made on click and lives no longer than the session."""
    files = session_files()  # here: the callable runs later, on a thread without the session

    def data() -> bytes:
        content = make()
        files.add(_calculate_file_id(content, mime, file_name))  # the id Streamlit stores it under
        return content

    st.download_button(label, data, file_name=file_name, mime=mime, key=key, on_click="ignore", **kwargs)
