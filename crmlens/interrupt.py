"""Queries nobody waits for any more are interrupted.

A reader who changes a filter while a heavy view computes makes Streamlit rerun the page, and one
who closes the browser ends the session; either way Streamlit only stops the script at its next
`st.` call, after the running DuckDB query has finished, so abandoned views kept both cores busy.
While a query runs in a session's script, a watcher calls the cursor's interrupt() as soon as a
rerun or stop is requested, and the script then reruns or stops as Streamlit would have.
Outside a Streamlit run (the CLI, download callables on their own threads) nothing changes.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator

import duckdb

POLL_S = 0.05


def _context():
    if "streamlit" not in sys.modules:  # the CLI: no Streamlit at all
        return None
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx if ctx is not None and ctx.script_requests is not None else None


def _requested(requests) -> bool:
    """A stop, or a rerun of the whole script, is waiting (Streamlit 1.67's ScriptRequests state)."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    state = requests._state
    if state == ScriptRequestType.STOP:
        return True
    return state == ScriptRequestType.RERUN and not requests._rerun_data.is_fragment_scoped_rerun


@contextlib.contextmanager
def when_abandoned(cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a query on `cursor` inside this block: it is interrupted when its session reruns or ends."""
    ctx = _context()
    if ctx is None:
        yield
        return
    requests = ctx.script_requests
    finished, fired = threading.Event(), threading.Event()

    def watch() -> None:
        while not finished.wait(POLL_S):
            if _requested(requests):
                fired.set()
                with contextlib.suppress(duckdb.Error):  # the query ended and its cursor closed meanwhile
                    cursor.interrupt()
                return

    watcher = threading.Thread(target=watch, name="crmlens-query-watch", daemon=True)
    watcher.start()
    try:
        yield
    except duckdb.InterruptException:
        if fired.is_set():
            _raise_request(requests)
        raise
    finally:
        finished.set()


def _raise_request(requests) -> None:
    """Stop or rerun now, as Streamlit does at its next yield point."""
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    request = requests.on_scriptrunner_yield()
    if request is None:
        return
    if request.type == ScriptRequestType.RERUN:
        raise RerunException(request.rerun_data)
    raise StopException()
