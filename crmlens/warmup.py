"""The heavy modules some pages need, imported by an app server while no page is running.

A fresh server's first visit to the Complaints page imported scipy.stats and statsmodels (about 0.8 s of CPU)
before its script could go on, the Loyalty page scipy.optimize (0.4 s), the first table pandas' Styler and its
templates. A thread started by the app's first run imports them one at a time, each only when no page script is
running (page_running marks them) and none ended in the last GRACE_S (the app's next run may be on its way: the root
address's run is followed at once by the overview's), so it does not slow the page being opened: that time is spent
while the reader looks at the first page.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time

MODULES = (
    "pandas.io.formats.style",  # every table (crmlens.tables)
    "scipy.stats",  # survival bands, log-rank and Cox p-values (crmlens.survival)
    "statsmodels.duration.survfunc",  # Kaplan-Meier (crmlens.survival)
    "statsmodels.stats.multitest",  # Holm's correction (crmlens.survival)
    "crmlens.customer_base",  # scipy.optimize and scipy.special: the loyalty page's future value
)

GRACE_S = 0.5
_running = 0
_last_end = 0.0
_state = threading.Condition()
_thread: threading.Thread | None = None


def start(modules: tuple[str, ...] = MODULES) -> threading.Thread:
    """Start importing `modules` in the background, once per process; the thread (also when already started)."""
    global _thread
    with _state:
        if _thread is None:
            _thread = threading.Thread(target=_import_when_idle, args=(modules,), name="crmlens-warmup", daemon=True)
            _thread.start()
        return _thread


@contextlib.contextmanager
def page_running():
    """Marks a page script's run: the warm-up waits for it to end before its next import."""
    global _running, _last_end
    with _state:
        _running += 1
    try:
        yield
    finally:
        with _state:
            _running -= 1
            _last_end = time.monotonic()
            _state.notify_all()


def _idle_for() -> float:
    """Seconds since the last page run ended; 0 while one runs."""
    return 0.0 if _running else time.monotonic() - _last_end


def _import_when_idle(modules: tuple[str, ...]) -> None:
    for name in modules:
        with _state:
            while _idle_for() < GRACE_S:
                _state.wait(timeout=GRACE_S - _idle_for() if not _running else None)
        with contextlib.suppress(ImportError):  # an optional module missing: its page says so when it needs it
            importlib.import_module(name)
