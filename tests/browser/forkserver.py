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
    """In the forked child: become `streamlit <argv>` in `cwd` with exactly `env`, writing to `log`."""
    os.setsid()
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
    code = 1
    try:
        from streamlit.web import cli

        cli.main(standalone_mode=False)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(code)


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

    def poll(self):
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self.returncode = "unknown (a forked server)"
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout: float | None = None):
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"server {self.pid}", timeout)
            self.poll()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

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
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the warm process for app servers did not start")

    def start(self, argv: list[str], env: dict[str, str], cwd: str, log: str) -> ForkedProcess:
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd, "log": log}) + "\n")
        self.proc.stdin.flush()
        return ForkedProcess(int(self.proc.stdout.readline()))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


if __name__ == "__main__":
    main()
