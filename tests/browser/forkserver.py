"""App servers for the browser tests, forked from one warm process per test process.

A fresh `streamlit run` spends 3-6 s of CPU on imports before it draws its first pages (Streamlit, pandas,
Plotly's validators, scipy and statsmodels, Streamlit's emoji table), and the suite starts about forty servers on
a two-core machine. The warm process imports those once; each server is a fork of it that then runs
`streamlit run` as the command line would, with its own environment, folder and log. Nothing of the app
(`crmlens`) is imported before the fork, so every server reads its settings and data afresh.

The warm process must be single-threaded when it forks (a thread's locks would be held for ever in the child): it
runs with one BLAS thread and without the background thread of Arrow's jemalloc, imports no DuckDB (its import
starts one), checks it has one thread before each fork, and ignores SIGCHLD, so the servers it forks are reaped as
they end. The benchmarks start real `streamlit run` processes, not these.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback

WARM_MODULES = (
    "streamlit.web.cli", "streamlit.web.bootstrap", "streamlit.runtime.scriptrunner.script_runner",
    "streamlit.emojis", "pandas", "pyarrow", "numpy", "plotly.graph_objects",
    "plotly.subplots", "pandas.io.formats.style", "scipy.stats", "scipy.optimize", "scipy.special",
    "statsmodels.duration.survfunc", "statsmodels.stats.multitest",
)


def _warm() -> None:
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)
    import pandas as pd
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
    from streamlit import string_util

    string_util.extract_leading_icon("中文")  # compiles Streamlit's emoji pattern (about 0.7 s)
    # Plotly imports each trace's and the layout's validators on first use
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=[1], y=[1]), fig.add_scatter(x=[1], y=[1], secondary_y=True)
    for trace in (go.Heatmap(z=[[1]]), go.Sankey(node=dict(label=["a", "b"]), link=dict(source=[0], target=[1], value=[1])),
                  go.Funnel(x=[1], y=["a"]), go.Pie(values=[1])):
        fig.add_trace(trace)
    fig.update_layout(title="x", legend=dict(orientation="h"), margin=dict(l=1))
    fig.update_xaxes(tickformatstops=[dict(dtickrange=[None, 1], value="%Y")])
    fig.to_dict()
    pd.DataFrame({"a": [1.0]}).style.format("{:.1f}").to_html()


def _serve_one(request: dict) -> None:
    """In the forked child: become `streamlit <argv>` in `cwd` with exactly `env`, writing to `log`, and end as
    that process would (the app's exit handlers run: temporary files, read copies). It stays in the test process's
    process group, as a server the test started itself would, so an interrupted run stops it too."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0), os.dup2(log, 1), os.dup2(log, 2)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.path[0] = request["cwd"]
    sys.argv = ["streamlit", *request["argv"]]
    try:
        from streamlit.web import cli

        cli.main(standalone_mode=False)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001 - into the server's log, which the harness shows when it fails to start
        traceback.print_exc()
        code = 1
    raise SystemExit(code)


def main() -> None:
    """The warm process: one JSON request per line on stdin, the forked server's pid back on stdout."""
    _warm()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        threads = os.listdir("/proc/self/task")
        if len(threads) != 1:
            raise RuntimeError(f"the warm process has {len(threads)} threads: a fork would copy their held locks")
        pid = os.fork()
        if pid == 0:
            _serve_one(request)
        print(pid, flush=True)


class ForkedProcess:
    """The parts of subprocess.Popen the harness uses, for a server that is not our child (the warm process
    forked it): its exit is seen through a pidfd; its exit status is not known."""

    def __init__(self, pid: int):
        self.pid, self.returncode, self._fd = pid, None, None
        try:
            self._fd = os.pidfd_open(pid)
        except ProcessLookupError:  # it ended already
            self.returncode = "unknown (a forked server)"

    def _ended(self, timeout_s: float) -> bool:
        watch = select.poll()
        watch.register(self._fd, select.POLLIN)
        return bool(watch.poll(None if timeout_s is None else int(timeout_s * 1000)))

    def poll(self):
        if self.returncode is None and self._ended(0):
            self.returncode = "unknown (a forked server)"
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout: float | None = None):
        if self.returncode is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired(f"server {self.pid}", timeout)
            self.poll()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self._fd, sig)  # never a later process that reused the pid

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The warm process of this test process."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.browser.forkserver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(
                                         os.path.dirname(os.path.abspath(__file__)))),
                                     env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                          "JE_ARROW_MALLOC_CONF": "background_thread:false"})
        self._answer("ready")

    def _answer(self, expected: str | None = None) -> str:
        line = self.proc.stdout.readline().strip()
        if not line or expected and line != expected:
            raise RuntimeError(f"the warm process for app servers ended or answered {line!r}: run "
                               "`python -m tests.browser.forkserver` to see its error")
        return line

    def start(self, argv: list[str], env: dict[str, str], cwd: str, log: str) -> ForkedProcess:
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd, "log": log}) + "\n")
        self.proc.stdin.flush()
        return ForkedProcess(int(self._answer()))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


if __name__ == "__main__":
    main()
