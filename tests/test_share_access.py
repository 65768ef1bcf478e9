"""The address is the view (refused values, data version of a link) and who may change the data."""

from __future__ import annotations

import pathlib
import re
import time

import pytest

from streamlit.testing.v1 import AppTest

from crmlens import access, ingest

APP = str(pathlib.Path(__file__).resolve().parents[1] / "app.py")
PERIOD = ["2024-07-01", "2024-12-31"]


def open_app(secrets: dict | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in query.items():
        at.query_params[key] = value
    # the address a shared link names (/overview); the root address only passes its link on to it
    return at.switch_page("pages/overview.py").run()


def sidebar_text(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in at.sidebar)


# --- passwords ----------------------------------------------------------------------------

def test_hash_is_salted_and_verifies_only_the_right_password():
    first, second = access.hash_password("s3cret"), access.hash_password("s3cret")
    assert first != second  # a new salt each time
    assert first.startswith("pbkdf2_sha256$200000$")
    assert access.verify_password("s3cret", first) and access.verify_password("s3cret", second)
    assert not access.verify_password("s3cret ", first)
    assert not access.verify_password("s3cret", "not-a-hash")
    assert not access.verify_password("s3cret", "md5$1$AA==$AA==")


def test_repeated_failures_are_slowed_down():
    stored = access.hash_password("right", iterations=1000)
    who = f"test-{time.time_ns()}"
    assert not access.check_with_throttle("wrong", stored, who, "admin")  # first failure: no wait
    t0 = time.perf_counter()
    assert not access.check_with_throttle("wrong", stored, who, "admin")  # waits 0.5 s
    assert not access.check_with_throttle("wrong", stored, who, "admin")  # waits 1 s
    assert time.perf_counter() - t0 >= 1.4


def test_hash_from_the_environment_when_secrets_have_none(monkeypatch):
    monkeypatch.setenv("CRMLENS_ADMIN_PASSWORD_HASH", "pbkdf2_sha256$1$AA==$AA==")
    assert access.configured_hash("admin", {}) == "pbkdf2_sha256$1$AA==$AA=="
    assert access.configured_hash("admin", {"admin_password_hash": "pbkdf2_sha256$2$AA==$AA=="}) == "pbkdf2_sha256$2$AA==$AA=="
    with pytest.raises(access.SettingsBroken):  # a setting that is no hash never means "no password"
        access.configured_hash("admin", {"admin_password_hash": "x"})
    assert access.configured_hash("viewer", {}) is None


# --- roles in the app ---------------------------------------------------------------------

ADMIN = access.hash_password("admin-pw", iterations=1000)
VIEWER = access.hash_password("viewer-pw", iterations=1000)


def test_without_a_password_the_sidebar_says_anyone_can_load(db_env):
    at = open_app(period=PERIOD)
    assert "No password set" in sidebar_text(at)


def test_uploading_needs_the_admin_password_when_one_is_set(db_env):
    at = open_app({"admin_password_hash": ADMIN})
    at.switch_page("pages/data.py").run()
    assert not at.file_uploader  # no upload for a viewer
    assert "Loading data needs the admin password." in at.info[0].value
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password" in at.error[0].value
    assert not at.file_uploader
    at.text_input[0].input("admin-pw")
    at.button[0].click().run()
    assert at.file_uploader  # admins can load
    assert "Signed in as admin" in sidebar_text(at)


def test_a_viewer_password_protects_every_page(db_env):
    at = open_app({"viewer_password_hash": VIEWER}, period=PERIOD)
    assert not at.metric and not at.title
    at.text_input[0].input("viewer-pw")
    at.button[0].click().run()
    assert at.title[0].value == "Overview"
    assert at.metric


# --- the address is the view --------------------------------------------------------------

def test_invalid_link_values_are_ignored_with_a_notice(db_env):
    at = open_app(period=["2024-13-45", "2024-12-31"], lang="'; drop table orders; --")
    assert not at.exception
    assert at.title[0].value == "Overview"  # default language, default period
    text = sidebar_text(at)
    assert "were not valid and were ignored" in text
    assert "period=2024-13-45" in text
    assert "lang='; drop table orders; --" in text


def test_a_link_value_equal_to_the_default_is_no_error(db_env):
    at = open_app(period=["2024-01-04", "2025-01-02"])  # the default period (see test_app)
    assert "were not valid" not in sidebar_text(at)


def test_the_notice_is_shown_once(db_env):
    at = open_app(period=["2024-13-45", "2024-12-31"])
    at.run()
    assert "were not valid" not in sidebar_text(at)


def test_a_link_made_on_older_data_says_the_data_changed(db_env, tmp_path):
    at = open_app(period=PERIOD, v="1")
    assert not at.warning  # same version: nothing to say
    ingest.load_files([load_fixture_file(tmp_path)], db=db_env, mode="append")
    at = open_app(period=PERIOD, v="1")
    assert "made on data version 1" in at.warning[0].value
    assert "you are seeing version 2" in at.warning[0].value


def load_fixture_file(tmp_path) -> pathlib.Path:
    path = tmp_path / "surveys.csv"
    path.write_text("customer_id,nps\nC1,9\n")
    return path


# --- single sign-on (st.login) --------------------------------------------------------------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id",
        "client_secret": "secret", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def open_as(user: dict, **secrets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    for key, value in secrets.items():
        at.secrets[key] = value
    at.user = user
    at.query_params["period"] = PERIOD
    return at.run()


def test_with_single_sign_on_nothing_shows_before_login(db_env):
    at = open_as({"is_logged_in": False})
    assert not at.metric
    assert at.button[0].label == "Sign in with your company account"


def test_single_sign_on_admins_come_from_admin_emails(db_env):
    at = open_as({"is_logged_in": True, "email": "Boss@Example.com"}, admin_emails=["boss@example.com"])
    assert at.metric
    shown = re.sub(r"\\(.)", r"\1", sidebar_text(at)).replace("\u2060", "")  # the address arrives escaped
    assert "Signed in as Boss@Example.com (admin" in shown
    at.switch_page("pages/data.py").run()
    assert at.file_uploader
    at = open_as({"is_logged_in": True, "email": "clerk@example.com"}, admin_emails=["boss@example.com"])
    at.switch_page("pages/data.py").run()
    assert not at.file_uploader
    assert "ask to be added to admin_emails" in at.info[0].value


def test_a_crafted_version_or_markdown_in_a_link_is_harmless(db_env):
    at = open_app(period=PERIOD, v="²", lang="[sign in](https://evil.example)")
    assert not at.exception
    assert at.title[0].value == "Overview"
    notice = next(e.value for e in at.sidebar if "were not valid" in str(getattr(e, "value", "")))
    assert "`lang=[sign in](https://evil.example)`" in notice  # shown as code, not as a link


def test_parallel_wrong_guesses_each_wait_longer():
    import threading
    stored = access.hash_password("right", iterations=1000)
    who = f"parallel-{time.time_ns()}"
    threads = [threading.Thread(target=access.check_with_throttle, args=("wrong", stored, who, "admin")) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert round(access.failures(who, "admin")) == 3  # every guess counted, none lost to the race
