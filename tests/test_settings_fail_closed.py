"""Issue 21, item 1: a secrets file that is there but broken stops the app (fail closed); only a
missing file means "no password"."""

from __future__ import annotations

import re

import pytest
import streamlit
from streamlit import config
from streamlit.runtime.secrets import Secrets

from crmlens import access
from tests.conftest import app_test

GOOD = access.hash_password("viewer-pw", iterations=1000)
PERIOD = ["2024-07-01", "2024-12-31"]


@pytest.fixture
def secrets_file(monkeypatch, tmp_path):
    """Point Streamlit's st.secrets at tmp_path/secrets.toml (written by the test), read afresh."""
    path = tmp_path / "secrets.toml"
    real = config.get_option
    monkeypatch.setattr(config, "get_option", lambda key: [str(path)] if key == "secrets.files" else real(key))
    monkeypatch.setattr(streamlit, "secrets", Secrets())
    monkeypatch.delenv("CRMLENS_ADMIN_PASSWORD_HASH", raising=False)
    monkeypatch.delenv("CRMLENS_VIEWER_PASSWORD_HASH", raising=False)
    return path


def plain(markdown: str) -> str:
    """Markdown's text with backslash escapes resolved (as the reader sees it)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def shown(at) -> str:
    parts = [str(getattr(e, "value", "")) for e in (*at.main, *at.sidebar)]
    return " ".join(parts)


BROKEN = {  # name: (file content, what the message says)
    "missing quote": (f'viewer_password_hash = "{GOOD}\n', "cannot be read"),
    "stray line": (f'viewer_password_hash = "{GOOD}"\nthis line is no setting\n', "cannot be read"),
    "duplicate key": (f'admin_password_hash = "{GOOD}"\nadmin_password_hash = "{GOOD}"\n', "cannot be read"),
    "only a stray line": ("[auth\n", "cannot be read"),
    "not UTF-8": (b'admin_password_hash = "\xff\xfe"\n', "cannot be read"),
    "empty viewer hash": ('viewer_password_hash = ""\n', "viewer_password_hash is empty"),
    "blank admin hash": ('admin_password_hash = "  "\n', "admin_password_hash is empty"),
    "a number": ("admin_password_hash = 5\n", "admin_password_hash is empty"),
    "the password itself": ('viewer_password_hash = "hunter2"\n', "viewer_password_hash is not a password hash"),
    "admin_emails not a list": ('admin_emails = "boss@example.com"\n', "admin_emails must be a list"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_secrets_file_stops_every_page(name, secrets_file, db_env):
    content, message = BROKEN[name]
    if isinstance(content, bytes):
        secrets_file.write_bytes(content)
    else:
        secrets_file.write_text(content, encoding="utf-8")
    for page in (None, "data", "churn"):
        at = app_test(page, period=PERIOD)
        assert not at.exception
        assert message in plain(at.error[0].value)
        assert "Nothing is shown until" in plain(at.error[0].value)
        assert not at.metric and not at.title and not at.file_uploader and not at.dataframe
        assert "No password set" not in shown(at)
        assert str(secrets_file.parent) not in shown(at)  # no server path


def test_the_parse_error_says_where(secrets_file, db_env):
    secrets_file.write_text(f'viewer_password_hash = "{GOOD}"\nthis line is no setting\n')
    at = app_test(period=PERIOD)
    assert "line 2" in plain(at.error[0].value)


def test_a_secrets_folder_in_place_of_the_file_stops_the_app(secrets_file, db_env):
    secrets_file.mkdir()
    at = app_test(period=PERIOD)
    assert "cannot be read" in plain(at.error[0].value) and not at.metric


def test_a_missing_file_means_no_password(secrets_file, db_env):
    at = app_test(period=PERIOD)
    assert not at.exception and not at.error
    assert at.title[0].value == "Overview"
    assert "No password set" in shown(at)


def test_a_good_file_asks_for_the_password(secrets_file, db_env):
    secrets_file.write_text(f'viewer_password_hash = "{GOOD}"\n')
    at = app_test(period=PERIOD)
    assert not at.error and not at.metric
    at.text_input[0].input("viewer-pw")
    at.button[0].click().run()
    assert at.title[0].value == "Overview"


def test_a_fixed_file_is_read_on_the_next_run(secrets_file, db_env):
    secrets_file.write_text('viewer_password_hash = "\n')
    assert app_test(period=PERIOD).error
    secrets_file.write_text(f'viewer_password_hash = "{GOOD}"\n')
    at = app_test(period=PERIOD)
    assert not at.error and at.text_input  # the password form, not the pages


def test_an_empty_hash_in_the_environment_is_refused(secrets_file, db_env, monkeypatch):
    monkeypatch.setenv("CRMLENS_VIEWER_PASSWORD_HASH", "")
    at = app_test(period=PERIOD)
    assert "CRMLENS_VIEWER_PASSWORD_HASH is empty" in plain(at.error[0].value)
    assert not at.metric


def test_messages_are_translated(secrets_file, db_env):
    secrets_file.write_text('viewer_password_hash = ""\n')
    at = app_test(period=PERIOD, lang="中文")
    assert "设置 viewer_password_hash 是空的" in plain(at.error[0].value)


def test_settings_reader_tells_missing_from_broken(tmp_path, secrets_file):
    assert access.settings(streamlit.secrets) == {}  # no file at all
    secrets_file.write_text("x = = 1\n")
    with pytest.raises(access.SettingsBroken):
        access.settings(Secrets())
