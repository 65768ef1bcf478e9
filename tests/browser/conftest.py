"""Browser test harness: `streamlit run app.py` on a free port against a temporary database,
driven by Playwright in Debian's headless Chromium (Playwright's own browser download fails here)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.forkserver import ForkServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CRMLENS_CHROMIUM", "/usr/bin/chromium")  # a manager's browser: what the benchmarks time
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The tests drive Debian's headless shell of the same Chromium (the browser Playwright itself runs headless), with
# every tab of the app in one renderer process: a new tab or browser context costs about half the CPU it costs the
# full browser in its own process (2.7 against 5.5 CPU s per new tab here), and the browser tests are most of the
# suite's time on a two-core machine.
TEST_CHROMIUM = os.environ.get("CRMLENS_TEST_CHROMIUM", "/usr/bin/chromium-headless-shell")
TEST_CHROMIUM_ARGS = [*CHROMIUM_ARGS, "--process-per-site"]
DEMO_CUSTOMERS = 400
START_TIMEOUT_S = 90


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: pathlib.Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"streamlit did not become healthy in {START_TIMEOUT_S} s:\n{log.read_text()}")


class AppServer:
    def __init__(self, db: pathlib.Path, workdir: pathlib.Path, env: dict[str, str] | None = None,
                 launcher: tuple[str, ...] = ("-m", "streamlit"), script: pathlib.Path = ROOT / "app.py"):
        """env: the server's environment (default: this process's when it starts) besides CRMLENS_DB; launcher: what
        runs `streamlit run` (bench.script_runs: a wrapper that times each script run); script: the app it runs
        (bench.browser's floor runs a page of its own)."""
        self.db, self.port, self.env, self.launcher, self.script = db, _free_port(), env, tuple(launcher), script
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"streamlit-{self.port}.log"

    def __enter__(self) -> "AppServer":
        env = {**(os.environ if self.env is None else self.env), "CRMLENS_DB": str(self.db)}
        cmd = [sys.executable, *self.launcher, "run", str(self.script), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        self._log_fh = open(self.log, "w")
        if _WARM and self.launcher == ("-m", "streamlit"):
            self.proc = _WARM[0].start(cmd[3:], env, str(ROOT), str(self.log))
        else:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log_fh, stderr=subprocess.STDOUT)
        _wait_healthy(self.url, self.proc, self.log)
        return self

    def __exit__(self, *exc) -> None:
        """Ask the server to stop and go on: its graceful shutdown (3-4 s, mostly idle) ends while the next
        test runs; every server is gone before the test session ends (servers_stopped)."""
        self.proc.terminate()
        stopper = threading.Thread(target=self._reap, name=f"stop-streamlit-{self.port}", daemon=True)
        stopper.start()
        _STOPPING.append(stopper)

    def _reap(self) -> None:
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_fh.close()


_STOPPING: list[threading.Thread] = []
_WARM: list[ForkServer] = []


@pytest.fixture(scope="session", autouse=True)
def servers_stopped():
    """The tests' app servers are forked from a warm process (tests.browser.forkserver); at the end of the
    session, wait for the servers still shutting down, then end it."""
    _WARM.append(ForkServer())
    yield
    for stopper in _STOPPING:
        stopper.join()
    _WARM.pop().close()


def make_demo_db(path: pathlib.Path) -> pathlib.Path:
    subprocess.run([sys.executable, "-m", "crmlens", "demo", "--db", str(path), "--customers", str(DEMO_CUSTOMERS)],
                   cwd=ROOT, check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> pathlib.Path:
    """The demo database of this test process. It is generated once per test session: the xdist workers
    share one generation (under a lock, in the folder their temporary folders share) and each takes a copy."""
    mine = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    made = shared / f"demo-{DEMO_CUSTOMERS}.duckdb"
    with open(shared / f"demo-{DEMO_CUSTOMERS}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            make_demo_db(mine)
            shutil.copyfile(mine, made.with_suffix(".part"))
            os.replace(made.with_suffix(".part"), made)
            return mine
    shutil.copyfile(made, mine)
    return mine


@pytest.fixture(scope="session")
def app(demo_db, tmp_path_factory):
    """A server shared by read-only tests."""
    with AppServer(demo_db, tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture
def own_app(demo_db, tmp_path):
    """A server with its own copy of the demo data, for tests that load files."""
    db = tmp_path / "own.duckdb"
    shutil.copyfile(demo_db, db)
    with AppServer(db, tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not pathlib.Path(TEST_CHROMIUM).exists():
        pytest.fail(f"Chromium's headless shell not found at {TEST_CHROMIUM}: run `make test`, which installs Debian's "
                    "chromium-headless-shell")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=TEST_CHROMIUM, args=TEST_CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """The browser context of this test process's `page`s, as a person's browser keeps one between visits: its
    cache keeps Streamlit's and Plotly's scripts, which a fresh context fetches and compiles again (a page of a
    server already seen: 2.8-3.1 s to drawn in a new tab, 4.0 s in a fresh context, here). A test that needs a
    second person opens a context of its own."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    yield context
    context.close()


@pytest.fixture
def page(browser_context, request) -> Page:
    """A new tab of the shared context; after the test every tab is closed (their sessions end) and the cookies and
    storage are cleared, so no test sees another's sign-in or settings."""
    pg = browser_context.new_page()
    yield pg
    try:
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            shot = ROOT / "tests" / "artifacts" / f"{request.node.name}.png"
            shot.parent.mkdir(exist_ok=True)
            pg.screenshot(path=str(shot), full_page=True)
    finally:
        _forget(browser_context)


def _forget(context) -> None:
    """Close every tab (their sessions end) and clear what they kept: cookies and the storage of every origin
    they opened (Streamlit keeps the sidebar's state and the theme in localStorage)."""
    for tab in context.pages:
        tab.close()
    origins = {o["origin"] for o in context.storage_state()["origins"]}
    if origins:
        blank = context.new_page()
        cdp = context.new_cdp_session(blank)
        for origin in origins:
            cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        cdp.detach()
        blank.close()
    context.clear_cookies()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def wait_for_app(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait the way Streamlit's own tests do: connected, script not running, no skeletons."""
    with contextlib.suppress(Exception):  # the run may start and finish before we look
        page.wait_for_selector('[data-test-script-state="running"]', timeout=1500)
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=timeout_ms)


def open_page(page: Page, url: str) -> Page:
    page.goto(url)
    wait_for_app(page)
    if urllib.parse.urlsplit(url).path in ("", "/"):
        _wait_for_hand_over(page)
    return page


def _wait_for_hand_over(page: Page) -> None:
    """The root address runs twice: its first run hands over to /overview (app.py), whose run draws the page; a
    test reading the page between the two finds it empty. A viewer who must sign in first stays at the root."""
    if page.locator("input[type=password]").count():
        return
    page.wait_for_url(re.compile(r"/overview(\?|$)"), timeout=60_000)
    wait_for_app(page)


def metric_values(page: Page, label: str | None = None) -> dict[str, str]:
    """The figures on the page, label -> value, once the first is drawn (a page may rerun once more after
    its first run ends, e.g. to keep its settings in the address, and draw them only then); with `label`, once the
    figure of that label is drawn and the run that drew it has ended (the root address hands over to /overview in a
    second run, which may still be drawing the rest when the first figure shows)."""
    if label is not None:
        page.locator('[data-testid="stMetricLabel"]').filter(has_text=label).first.wait_for(state="visible", timeout=60_000)
        wait_for_app(page)
    with contextlib.suppress(Exception):  # a page without figures: read what is there
        page.locator('[data-testid="stMetricValue"]').first.wait_for(state="visible", timeout=30_000)
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


def exceptions(page: Page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def page_caption(page: Page) -> str:
    """The first caption in the main area (the sidebar has captions of its own)."""
    return page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()


def choose_files(page: Page, path) -> None:
    """Put a file in the Data page's uploader. After a load the page swaps in a fresh, empty
    uploader; until the old one has gone there are two, so wait for the one that stays."""
    from playwright.sync_api import expect

    uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
    expect(uploader).to_have_count(1, timeout=30_000)
    uploader.set_input_files(str(path) if not isinstance(path, list) else [str(p) for p in path])


def upload_and_load(page: Page, app_url: str, path, mode_label: str | None = None, expect_text: str | None = None) -> str:
    """Load one file through the Data page as a person does (checking the page first shows `expect_text`,
    e.g. the layout it recognised); returns the success message."""
    open_page(page, f"{app_url}/data")
    choose_files(page, path)
    wait_for_app(page)
    if expect_text:
        assert page.get_by_text(expect_text).is_visible()
    if mode_label:
        page.get_by_text(mode_label, exact=True).click()
        wait_for_app(page)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    return page.get_by_test_id("stAlertContentSuccess").inner_text()


def set_number(page: Page, label: str, value: str, wait: bool = True):
    """Type a value into the number box labelled `label` and press Enter, as a person does."""
    box = page.get_by_role("spinbutton", name=label)
    box.fill(value)
    box.press("Enter")
    if wait:
        wait_for_app(page)
    return box


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of the selectbox labelled `label`, as a person clicks it."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):  # the first click can land while the list is still settling
        box.click()
        try:
            wanted.wait_for(state="visible", timeout=5000)
            break
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: try again
            if attempt < 2:  # (the last list stays open: a slow machine may still draw it within the click's wait)
                page.keyboard.press("Escape")
    wanted.click()
    wait_for_app(page)
