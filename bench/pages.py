"""The queries each page runs, recorded by opening the page in AppTest, then timed on their own.

`recorded(page, db, **query)` opens pages/<page>.py through app.py with these address parameters and
returns every (query name, parameters) the page ran, in order (the query cache cleared first); `timed_page` runs them again without
any cache and returns the seconds per query.
"""

from __future__ import annotations

import os
import time

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from crmlens import model, queries, store

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints")
APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "app.py")


def recorded(page: str, db: str, timeout: float = 600, **query) -> list[tuple[str, dict]]:
    calls: list[tuple[str, dict]] = []
    run = queries.run
    st.cache_data.clear()  # else a query an earlier page or view ran comes from the cache and is not recorded

    def recording(name, params=None, snap=None):
        calls.append((name, dict(params or {})))
        return run(name, params, snap=snap)

    os.environ["CRMLENS_DB"] = db
    queries.run = recording
    init = PagesManager.__init__

    def init_then_clear(self, *args, **kwargs):  # as the real server after app.py's st.navigation
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init_then_clear
    try:
        at = AppTest.from_file(APP, default_timeout=timeout)
        for key, value in query.items():
            at.query_params[key] = value
        at.switch_page(f"pages/{page}.py").run()
        if at.exception:
            raise RuntimeError([e.value for e in at.exception])
    finally:
        queries.run = run
        PagesManager.__init__ = init
    return calls


def timed_page(calls: list[tuple[str, dict]], db: str, snap: store.Snapshot | None = None) -> dict[str, float]:
    """Seconds per query (summed when a query runs twice), no cache; on db's current data, or on `snap`. The kept
    frames are read again (the page's first kept query pays the one round trip for all of them, as a page opened on a
    new version does)."""
    snap = snap or store.snapshot(db)
    model.forget_kept_frames()
    out: dict[str, float] = {}
    for name, params in calls:
        t0 = time.perf_counter()
        queries.run(name, params, snap=snap)
        out[name] = out.get(name, 0.0) + time.perf_counter() - t0
    return out
