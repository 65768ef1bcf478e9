"""A digest made from the view on screen: the sidebar's "Subscribe to this view" keeps the page, its
filters and settings, and the language; the Digests & alerts page lists it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from crmlens import store
from crmlens.digest import storage
from tests.browser.conftest import exceptions, open_page, wait_for_app


def test_subscribe_to_the_view_on_screen(own_app, page):
    open_page(page, f"{own_app.url}/churn?segment=business&lang=English")
    page.get_by_test_id("stMain").get_by_role("radio", name="Quarters", exact=True).click()
    # the choice reaches the address in a run of its own: a form submitted while a run is under way can be dropped
    page.wait_for_url(re.compile(r"churn_grain=Quarters"))
    wait_for_app(page)

    box = page.get_by_test_id("stExpander").filter(has_text="Subscribe to this view")
    box.get_by_text("Subscribe to this view").click()
    box.get_by_role("textbox", name="Name", exact=True).fill("Business churn weekly")
    box.get_by_role("textbox", name="E-mail recipients").fill("zhang.min@example.com")
    box.get_by_role("button", name="Subscribe").click()
    wait_for_app(page)
    # (on a busy machine the click's run may start after wait_for_app has looked for it: wait for the notice itself)
    expect(page.get_by_test_id("stSidebar").get_by_text("Saved. It is listed on the Digests & alerts page.")
           ).to_be_visible(timeout=30_000)
    assert exceptions(page) == []

    [d] = storage.digests(store.snapshot(own_app.db))
    assert (d.name, d.page, d.schedule, d.lang) == ("Business churn weekly", "churn", "weekly:mon", "en")
    assert ("segment", "business") in d.params and ("churn_grain", "Quarters") in d.params
    assert [x.address for x in d.targets] == ["zhang.min@example.com"]

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Digests & alerts").click()
    wait_for_app(page)
    assert page.get_by_role("heading", name="Digests and alerts").is_visible()
    assert page.get_by_test_id("stDataFrame").count() >= 1
    assert exceptions(page) == []
