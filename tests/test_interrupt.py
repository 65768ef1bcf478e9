"""Issue 21, item 16: a session's running DuckDB query is interrupted when the session reruns or
ends, and the script then reruns or stops as Streamlit would have; elsewhere queries run on."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest
from streamlit.runtime.scriptrunner_utils import script_run_context
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from crmlens import queries, store

HEAVY = "select sum(hash(i)) as s from range(20000000000) t(i)"  # minutes on two cores


class Run:
    """What a Streamlit script run has that matters here: its ScriptRequests."""

    def __init__(self):
        self.script_requests = ScriptRequests()


@pytest.fixture
def session_run(monkeypatch) -> Run:
    run = Run()
    monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda suppress_warning=False: run)
    return run


def after(seconds: float, action) -> None:
    threading.Timer(seconds, action).start()


def test_a_rerun_interrupts_the_running_query(db_env, session_run):
    snap = store.snapshot()
    after(0.3, lambda: session_run.script_requests.request_rerun(RerunData(query_string="owner=B")))
    t0 = time.perf_counter()
    with pytest.raises(RerunException) as rerun:
        snap.query(HEAVY)
    assert time.perf_counter() - t0 < 3  # not the minutes the query needs
    assert rerun.value.rerun_data.query_string == "owner=B"  # the rerun the reader asked for


def test_the_end_of_the_session_interrupts_the_running_query(db_env, session_run):
    snap = store.snapshot()
    after(0.3, session_run.script_requests.request_stop)
    t0 = time.perf_counter()
    with pytest.raises(StopException):
        queries.run("overview_kpis", {"start": "2024-01-01", "end": "2024-12-31"}, snap=snap)  # quick: runs
        snap.query(HEAVY)
    assert time.perf_counter() - t0 < 3


def test_the_next_query_runs_normally(db_env, session_run):
    snap = store.snapshot()
    after(0.2, session_run.script_requests.request_stop)
    with pytest.raises(StopException):
        snap.query(HEAVY)
    assert snap.query("select 41 + 1 as n")["n"][0] == 42  # the snapshot's connection is fine


def test_without_a_session_nothing_is_interrupted(db_env):
    snap = store.snapshot()
    assert snap.query("select count(*) as n from customers")["n"][0] == 4


def test_an_interrupt_that_is_not_ours_stays_an_error(db_env, session_run):
    snap = store.snapshot()
    cur = snap.cursor()
    after(0.3, cur.interrupt)
    with pytest.raises(duckdb.InterruptException):
        from crmlens import interrupt
        with interrupt.when_abandoned(cur):
            cur.execute(HEAVY).fetchall()
    cur.close()
