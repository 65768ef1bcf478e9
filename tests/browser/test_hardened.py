"""Issue 21 in a real browser: viewer sign-in keeps the page the link named (item 15), values from
data never become links or images (item 2), CSV downloads need the session (item 14)."""

from __future__ import annotations

import shutil
import urllib.parse

import pytest

from crmlens import access
from tests.browser.conftest import AppServer, open_page, wait_for_app

VIEWER_PASSWORD = "viewer-pw"


@pytest.fixture
def guarded_app(demo_db, tmp_path, monkeypatch):
    """A server whose data needs the viewer password (set in the environment)."""
    monkeypatch.setenv("CRMLENS_VIEWER_PASSWORD_HASH", access.hash_password(VIEWER_PASSWORD, iterations=1000))
    db = tmp_path / "guarded.duckdb"
    shutil.copyfile(demo_db, db)
    with AppServer(db, tmp_path) as server:
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
            assert not page.get_by_test_id("stSidebarNavLink").count()  # nothing of the app before sign-in
            sign_in(page)
            assert page.get_by_role("heading", name=heading, exact=True).first.is_visible(), path
            url = urllib.parse.urlsplit(page.url)
            wanted = urllib.parse.urlsplit(path)
            assert url.path == wanted.path, path
            query = urllib.parse.parse_qs(url.query)
            for key, values in urllib.parse.parse_qs(wanted.query).items():
                assert query.get(key) == values, (path, query)
        finally:
            context.close()
