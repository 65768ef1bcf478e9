"""Charts as PNG images for digests: one headless Chromium kept for the process, driven by kaleido.

Starting the browser is most of an export's cost: a chart alone takes about 3 s on a 2-core machine, the next ones
0.2 s while the browser runs. So the first chart a process exports starts it, the others reuse it (a `send-due` run
with several digests, the app server sending them), and the process's exit closes it. A browser that failed or hung
is closed and the next chart starts another.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pathlib
import threading

import kaleido

CHROMIUM = "/usr/bin/chromium"
RENDER_TIMEOUT_S = 90  # for one chart, the browser's start included


class _Browser:
    """A kaleido page in a Chromium of its own, on an event loop in a thread of its own."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="chart-png", daemon=True).start()
        self._kaleido = kaleido.Kaleido(timeout=RENDER_TIMEOUT_S)
        try:
            self._call(self._kaleido.__aenter__())
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(RENDER_TIMEOUT_S)

    def render(self, fig: dict, width: int, height: int) -> bytes:
        return self._call(self._kaleido.calc_fig(fig, opts={"format": "png", "width": width, "height": height,
                                                             "scale": 1}))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # (a browser that hung or died is gone either way)
            self._call(self._kaleido.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)


_browser: _Browser | None = None
_lock = threading.Lock()  # one chart at a time: the browser has one page


def render(fig: dict, width: int, height: int) -> bytes:
    """The figure (a plotly figure as a dict) as PNG bytes; raises when the browser fails (then closed: the next call
    starts another)."""
    global _browser
    if "BROWSER_PATH" not in os.environ and pathlib.Path(CHROMIUM).exists():
        os.environ["BROWSER_PATH"] = CHROMIUM  # (kaleido finds its browser through choreographer, which reads it first)
    with _lock:
        try:
            if _browser is None:
                _browser = _Browser()
            return _browser.render(fig, width, height)
        except BaseException:
            _close_locked()
            raise


def close() -> None:
    with _lock:
        _close_locked()


def _close_locked() -> None:
    global _browser
    if _browser is not None:
        _browser, browser = None, _browser
        browser.close()


atexit.register(close)
