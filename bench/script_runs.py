"""Where a page's time goes on the server: every script run of each page opened cold in Chromium, with its wall and
CPU seconds (`python -m bench.script_runs --db FILE [--profile DIR]`).

The server is `streamlit run app.py` started through this module (`serve`), which wraps Streamlit's script
execution: each run (a page's first run, a rerun it asks for, a rerun the browser sends) is written as one JSON
line (page, wall seconds, CPU seconds of the script's thread) to the file CRMLENS_SCRIPT_RUNS names; with
--profile each run's cProfile statistics go to DIR too. Pages are opened as bench.browser opens them (a fresh
browser context each, default view then the year before), so the runs counted are those a person's first visit
causes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pathlib
import sys
import tempfile
import threading
import time

RUNS_ENV = "CRMLENS_SCRIPT_RUNS"
TICK_S = 1 / os.sysconf("SC_CLK_TCK")
PROFILE_ENV = "CRMLENS_SCRIPT_PROFILES"
_lock = threading.Lock()


def _instrument() -> None:
    """Wrap Streamlit's per-run script execution to record each run's seconds (and profile)."""
    from streamlit.runtime.scriptrunner import script_runner

    runs_file, profile_dir = os.environ[RUNS_ENV], os.environ.get(PROFILE_ENV)
    original = script_runner.exec_func_with_error_handling

    def timed(func, ctx):
        wall0, cpu0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
        profile = cProfile.Profile(time.thread_time) if profile_dir else None  # CPU seconds: the machine is shared
        if profile:
            profile.enable()
        try:
            return original(func, ctx)
        finally:
            if profile:
                profile.disable()
            record = {"page": ctx.page_script_hash, "query": ctx.query_string,
                      "wall_s": round(time.perf_counter() - wall0, 3), "cpu_s": round(time.thread_time() - cpu0, 3),
                      "process_cpu_s": round(time.process_time() - process0, 3),
                      "at": time.time()}
            with _lock:
                if profile:
                    record["profile"] = str(pathlib.Path(profile_dir) / f"run-{time.time_ns()}.prof")
                    profile.dump_stats(record["profile"])
                with open(runs_file, "a") as fh:
                    fh.write(json.dumps(record) + "\n")

    script_runner.exec_func_with_error_handling = timed


def serve(argv: list[str]) -> None:
    """`streamlit <argv>` with every script run recorded."""
    from streamlit.web import cli

    _instrument()
    sys.argv = ["streamlit", *argv]
    cli.main()


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            kids.setdefault(parent, []).append(int(entry.name))
    return kids


def cpu_by_process(root: int, skip: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process under `root` but `skip` (the app server), with its kind:
    Chromium's --type (renderer, gpu-process, utility) or its program name."""
    kids, out, todo = _children(), {}, list(_children().get(root, []))
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        if pid == skip:
            continue
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            words = pathlib.Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").split()
        except OSError:
            continue
        kind = next((w.split("=", 1)[1] for w in words if w.startswith("--type=")), pathlib.Path(words[0]).name if words else "exiting")
        out[pid] = (kind, (int(fields[11]) + int(fields[12])) * TICK_S)
    return out


def process_cpu_s(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def _browser_cpu(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each kind of browser process spent between two cpu_by_process readings."""
    spent: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        if kind in ("node", "python", "python3"):  # Playwright's driver, not the browser
            continue
        spent[kind] = round(spent.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1], 2)
    return spent


def page_runs(db: pathlib.Path, profile_dir: pathlib.Path | None = None) -> dict:
    """Each page opened cold (bench.browser's pages and views) on one fresh instrumented server: its script runs
    (seconds each) and Chromium's seconds to the last chart drawn."""
    from playwright.sync_api import sync_playwright

    from bench.browser import PAGES, drawn_seconds
    from crmlens import period, store
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer

    snap = store.snapshot(db)
    start, end = period.default_period(snap)
    year_before = f"period={start - dt.timedelta(days=365)}&period={end - dt.timedelta(days=365)}"
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        runs_file = pathlib.Path(tmp) / "runs.jsonl"
        runs_file.touch()
        env = {**os.environ, RUNS_ENV: str(runs_file)}
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
            env[PROFILE_ENV] = str(profile_dir)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with AppServer(db, pathlib.Path(tmp), env=env, launcher=["-m", "bench.script_runs", "serve"]) as server:
                for name in PAGES:
                    address = f"{server.url}/{'' if name == 'overview' else name}?lang=English"
                    for label, url in (("default", address), ("other_period", f"{address}&{year_before}")):
                        seen = len(runs_file.read_text().splitlines())
                        server_before, browser_before = process_cpu_s(server.proc.pid), cpu_by_process(os.getpid(), server.proc.pid)
                        browser_after = {}
                        got = drawn_seconds(browser, url, when_drawn=lambda: browser_after.update(
                            cpu_by_process(os.getpid(), server.proc.pid)))
                        server_cpu = process_cpu_s(server.proc.pid) - server_before
                        chromium = _browser_cpu(browser_before, browser_after)
                        runs = [json.loads(line) for line in runs_file.read_text().splitlines()[seen:]]
                        out[f"{name}_{label}"] = {
                            "chromium_s": round(got["seconds"], 2), "script_done_s": round(got["script_done_s"], 2),
                            "server_cpu_s": round(server_cpu, 2), "chromium_cpu_s": round(sum(chromium.values()), 2),
                            "chromium_cpu_by_process": chromium, "n_runs": len(runs), "wall_s": round(sum(r["wall_s"] for r in runs), 3),
                            "cpu_s": round(sum(r["cpu_s"] for r in runs), 3),
                            "process_cpu_s": round(sum(r["process_cpu_s"] for r in runs), 3), "runs": runs}
        finally:
            browser.close()
    return out


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--profile", type=pathlib.Path, default=None, help="a folder for each run's cProfile stats")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    results = page_runs(args.db, args.profile)
    for view, got in results.items():
        print(f"{view:24} runs {got['n_runs']}  script cpu {got['cpu_s']:5.2f} s (wall {got['wall_s']:5.2f})  server cpu "
              f"{got['server_cpu_s']:5.2f} s  chromium cpu {got['chromium_cpu_s']:5.2f} s {got['chromium_cpu_by_process']}  "
              f"drawn {got['chromium_s']:5.2f} s")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
