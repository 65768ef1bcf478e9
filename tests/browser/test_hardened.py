"""Issue 21 in a real browser: viewer sign-in keeps the page the link named (item 15), values from
data never become links or images (item 2), CSV downloads need the session (item 14)."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from crmlens import access, ingest, tempfiles
from tests.browser.conftest import AppServer, choose_files, exceptions, open_page, upload_and_load, wait_for_app

VIEWER_PASSWORD = "viewer-pw"


@pytest.fixture(scope="module")
def guarded_app(demo_db, tmp_path_factory):
    """A server whose data needs the viewer password (set in its environment). One per file: its tests only
    read, each in browser contexts of its own."""
    folder = tmp_path_factory.mktemp("guarded")
    db = folder / "guarded.duckdb"
    shutil.copyfile(demo_db, db)
    env = {**os.environ, "CRMLENS_VIEWER_PASSWORD_HASH": access.hash_password(VIEWER_PASSWORD, iterations=1000)}
    with AppServer(db, folder, env=env) as server:
        yield server


def sign_in(page) -> None:
    page.get_by_label("Password to view this dashboard").fill(VIEWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)


LINKS = [  # (address after the server's, the heading of that page)
    ("/churn", "Churn and retention"),
    ("/funnel", "Sales funnel"),
    ("/loyalty", "Loyalty ladder"),
    ("/complaints", "Complaints"),
    ("/data", "Data"),
    ("/churn?churn_grain=Quarters&churn_days=120", "Churn and retention"),
]


def test_viewer_sign_in_keeps_the_page_the_link_named(guarded_app, browser):
    for path, heading in LINKS:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        try:
            page = open_page(context.new_page(), guarded_app.url + path)
            # nothing of the app before sign-in (a busy machine may still be fading out the first run's elements)
            expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
            sign_in(page)
            # waits for the page to draw (a busy machine may still be fading the previous run in)
            expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
            url = urllib.parse.urlsplit(page.url)
            wanted = urllib.parse.urlsplit(path)
            assert url.path == wanted.path, path
            query = urllib.parse.parse_qs(url.query)
            for key, values in urllib.parse.parse_qs(wanted.query).items():
                assert query.get(key) == values, (path, query)
        finally:
            context.close()


# --- item 2: values from data stay text -------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """A server on data whose every text column holds Markdown links, images and HTML (test_safe_text). One per
    file: the first test only reads; the second loads a one-row survey file of its own after it."""
    from tests.test_safe_text import hostile_files

    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "hostile.duckdb"
    ingest.load_files(hostile_files(folder), db=db, max_reject_share=1.0)
    with AppServer(db, folder) as server:
        yield server


def test_hostile_values_are_shown_as_text_in_the_browser(hostile_app, page, tmp_path):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "evil" in (urllib.parse.urlsplit(r.url).hostname or "") else None)
    for path in ("/funnel", "/complaints", "/churn", "/loyalty"):
        open_page(page, f"{hostile_app.url}{path}?period=2024-01-01&period=2024-12-31")
        assert not exceptions(page), path
        found = page.locator('a[href*="evil"], img[src*="evil"]')
        assert found.count() == 0, (path, [found.nth(i).evaluate(
            "e => e.outerHTML + ' IN ' + (e.closest('[data-testid]') || {}).getAttribute?.('data-testid') + ' ' + e.closest('[data-testid]').parentElement.closest('[data-testid]').getAttribute('data-testid')")
            for i in range(found.count())])
        assert page.locator('svg a').count() == 0, path  # no link in a chart either
    # options and chosen values of widgets: the funnel's stage settings, the owner filter
    owner = "[Sign in again](http://evil.example/phish)"
    open_page(page, f"{hostile_app.url}/funnel?period=2024-01-01&period=2024-12-31&owner="
              + urllib.parse.quote(owner))
    page.get_by_text("Stages: order, won and lost").click()
    page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.click()
    page.get_by_role("option").first.wait_for()
    assert page.locator('a[href*="evil"], img[src*="evil"]').count() == 0
    assert page.get_by_role("option").count() >= 3
    page.keyboard.press("Escape")
    assert fetched == []  # the browser never asked evil.example for anything
    # ... and the values are there, as the characters they are
    open_page(page, f"{hostile_app.url}/complaints?period=2024-01-01&period=2024-12-31")
    labels = [text.replace("\u2060", "") for text in page.get_by_test_id("stWidgetLabel").all_inner_texts()]
    assert "SLA hours: ![t](http://evil.example/track.png)" in labels


def test_a_hostile_file_name_is_shown_as_text(hostile_app, page, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    csv = folder / "[Sign in again](http:evil.example).csv"
    csv.write_text("customer_id,nps,![t](http://evil.example/col.png)\nC1,9,x\n")
    open_page(page, f"{hostile_app.url}/data")
    choose_files(page, csv)
    wait_for_app(page)
    page.get_by_text("Column mapping", exact=False).first.click()  # the file's headers as options
    assert page.locator('a[href*="evil"], img[src*="evil"]').count() == 0
    message = upload_and_load(page, hostile_app.url, csv).replace("\u2060", "")
    assert "[Sign in again](http:evil.example).csv: 1 rows loaded" in message, message
    assert page.locator('a[href*="evil"]').count() == 0


# --- item 14: downloads need the session ------------------------------------------------------

def fetch_status(url: str) -> int:
    """GET as an anonymous client: no cookies, no session."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_a_csv_download_link_dies_with_the_session(guarded_app, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", accept_downloads=True)
    page = open_page(context.new_page(), f"{guarded_app.url}/data")
    sign_in(page)
    assert page.locator('a[href*="/media/"]').count() == 0  # no file to fetch before a click
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").first.click()
    url = download.value.url
    assert "/media/" in url and pathlib.Path(download.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")
    context.close()  # the reader closes the browser: the session ends
    deadline = time.monotonic() + 15
    while fetch_status(url) == 200:
        assert time.monotonic() < deadline, f"{url} still served 15 s after the session ended"
        time.sleep(0.2)
    assert fetch_status(url) == 404


# --- item 3: an abandoned upload leaves nothing behind ----------------------------------------

def upload_folders(pid: int) -> list[pathlib.Path]:
    return sorted(pathlib.Path(tempfile.gettempdir()).glob(f"{tempfiles.PREFIX}{pid}-*"))


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_an_abandoned_upload_is_removed_when_the_session_and_the_server_end(own_app, browser, tmp_path):
    csv = tmp_path / "orders_refused.csv"
    csv.write_text("order_id,order_date\nX1,2024-01-01\n")  # refused: required columns missing
    pid = own_app.proc.pid
    for _ in range(2):  # two readers upload and walk away
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page = open_page(context.new_page(), f"{own_app.url}/data")
        choose_files(page, csv)
        wait_for_app(page)
        folders = upload_folders(pid)
        assert folders and any(f.iterdir() for f in folders)  # the upload waits in its session's folder
        context.close()  # the browser is closed without loading
        wait_until(lambda: not upload_folders(pid), 15, "the session's upload folder outlived it")
    # a session still open when the server stops
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = open_page(context.new_page(), f"{own_app.url}/data")
    choose_files(page, csv)
    wait_for_app(page)
    assert upload_folders(pid)
    own_app.proc.terminate()
    own_app.proc.wait(30)
    context.close()
    assert upload_folders(pid) == []
