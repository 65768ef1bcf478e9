"""Issue 16 (left over): a shared link with bad values opened at the root address `/` is passed on to
/overview (app.py's hidden home page); the values are still ignored, and the "not valid" notice must survive
the hand-over instead of being spent on the page that only passes the link on."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import APP


def sidebar_text(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in at.sidebar)


def open_root(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()  # no switch_page: the root address, as a link without a page path opens


def test_bad_values_at_the_root_address_are_ignored_with_the_notice(db_env):
    at = open_root(period=["2024-13-45", "2024-12-31"], overview_compare="bogus", lang="Klingon")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Overview"  # passed on to the overview, in the default language
    text = sidebar_text(at)
    assert "were not valid and were ignored" in text
    assert "period=2024-13-45" in text and "overview_compare=bogus" in text and "lang=Klingon" in text
    at.run()  # shown once, as on any page
    assert "were not valid" not in sidebar_text(at)


def test_good_values_at_the_root_address_raise_no_notice(db_env):
    at = open_root(period=["2024-07-01", "2024-12-31"], lang="中文")
    assert not at.exception
    assert at.title[0].value == "总览"
    assert "无效" not in sidebar_text(at) and "were not valid" not in sidebar_text(at)
