"""The Digests & alerts page and the sidebar's "Subscribe to this view" / "Alert me when ..." (AppTest)."""

from __future__ import annotations

from crmlens import access, store
from crmlens.digest import model, storage
from tests.conftest import app_test
from tests.test_digest import chat  # noqa: F401 - the local chat server fixture


def _expander_labels(at) -> list[str]:
    return [e.label for e in at.sidebar.expander]


def test_viewers_see_nothing_of_digests(db_env, monkeypatch):
    monkeypatch.setenv("CRMLENS_ADMIN_PASSWORD_HASH", access.hash_password("admin-pw", iterations=1000))
    at = app_test("churn", segment="business")
    assert not at.exception
    assert "Subscribe to this view" not in _expander_labels(at)
    assert "Alert me when …" not in _expander_labels(at)
    # Not in the navigation: its address leads to the first page, with nothing of the digests.
    at = app_test("digests", lang="English")
    assert [x.value for x in at.title] == ["Overview"]
    assert not [x for x in at.get("subheader") if "Digests" in x.value]


def test_subscribe_to_the_view_shown(db_env):
    at = app_test("churn", segment="business", period=["2024-07-01", "2024-12-31"], lang="English")
    assert not at.exception
    assert "Subscribe to this view" in _expander_labels(at)
    at.sidebar.text_input(key="digest_sub_name").input("Business churn")
    at.sidebar.text_area(key="digest_sub_en_emails").input("a@example.com, b@example.com")
    at.sidebar.selectbox(key="digest_sub_en_weekday").select("fri")
    captions = " ".join(c.value for c in at.sidebar.caption)
    # The figures sent are those of this view, filters and settings included (no "link only" notice).
    assert "headline figures and main chart, for its filters and settings" in captions
    assert "go into the link" not in captions
    at.sidebar.checkbox(key="digest_sub_rolling").uncheck()  # keep the period chosen
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Subscribe")].click().run()
    assert not at.exception
    assert [s.value for s in at.sidebar.success] == ["Saved. It is listed on the Digests & alerts page."]
    [d] = storage.digests(store.snapshot(db_env))
    assert (d.name, d.page, d.schedule, d.lang) == ("Business churn", "churn", "weekly:fri", "en")
    assert sorted(d.params) == [("period", "2024-07-01"), ("period", "2024-12-31"), ("segment", "business")]
    assert [x.address for x in d.targets] == ["a@example.com", "b@example.com"]
    # Following the newest data (ticked at first) leaves the period out.
    at.sidebar.checkbox(key="digest_sub_rolling").check()
    at.sidebar.text_input(key="digest_sub_name").input("Rolling")
    at.sidebar.text_area(key="digest_sub_en_emails").input("a@example.com")
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Subscribe")].click().run()
    rolling = next(d for d in storage.digests(store.snapshot(db_env)) if d.name == "Rolling")
    assert rolling.params == [("segment", "business")]

    at = app_test("digests", lang="English")
    assert not at.exception
    shown = at.dataframe[0].value
    assert shown["name"].tolist() == ["Business churn", "Rolling"]
    assert shown["schedule"].tolist() == ["weekly:fri", "weekly:fri"]
    assert shown["to"].tolist() == ["a@example.com, b@example.com", "a@example.com"]


def test_alert_me_when_from_the_churn_view(db_env):
    at = app_test("churn", lang="English")
    assert "Alert me when …" in _expander_labels(at)
    at.sidebar.text_input(key="digest_alert_name").input("at risk")
    assert at.sidebar.selectbox(key="digest_alert_en_metric").options == [
        "Period churn rate", "Revenue at stake of customers at risk"]  # the churn page's name
    at.sidebar.selectbox(key="digest_alert_en_metric").select("at_risk_value")
    at.sidebar.number_input(key="digest_alert_threshold").set_value(5000)
    at.sidebar.text_input(key="digest_alert_en_webhook").input("https://oapi.dingtalk.com/robot/send?access_token=x")
    at.sidebar.selectbox(key="digest_alert_en_kind").select("dingtalk")
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Create the alert")].click().run()
    assert not at.exception
    [a] = storage.alerts(store.snapshot(db_env))
    assert (a.name, a.metric, a.operator, a.threshold, a.lang) == ("at risk", "at_risk_value", "above", 5000, "en")
    assert [x.kind for x in a.targets] == ["dingtalk"]
    at = app_test("digests", lang="English")
    alerts = at.dataframe[0].value  # no digest: the alerts are the first table
    assert alerts[["name", "rule", "state"]].values.tolist() == [
        ["at risk", "Revenue at stake of customers at risk above 5,000", "Quiet"]]


def test_a_bad_address_is_refused_and_shown_as_text(db_env):
    at = app_test("churn", lang="English")
    at.sidebar.text_input(key="digest_sub_name").input("x")
    at.sidebar.text_area(key="digest_sub_en_emails").input("**not-an-address**")
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Subscribe")].click().run()
    assert [e.value for e in at.sidebar.error] == ["Not saved:"]
    assert [x.value for x in at.sidebar.text] == ["not an e-mail address: '**not-an-address**'"]
    assert storage.digests(store.snapshot(db_env)) == []


def test_the_page_shows_the_last_deliveries_and_their_outcome(db_env):
    storage.save_digest(db_env, model.make_digest("weekly", "churn", "", [model.target("email", "a@example.com")],
                                                "weekly:mon", "en"))
    storage.record(db_env, [model.Delivery("digest", "weekly", "test", "email", "a@example.com", False, 3,
                                         "ConnectionRefusedError: [Errno 111] Connection refused", 1)])
    at = app_test("digests", lang="English")
    assert not at.exception
    log = at.dataframe[1].value
    assert log[["item_kind", "item_name", "event", "target", "ok", "n_attempts"]].values.tolist() == [
        ["digest", "weekly", "test send", "a@example.com", "failed", 3]]
    assert log["error"].tolist() == ["ConnectionRefusedError: [Errno 111] Connection refused"]


def test_an_admin_signed_in_sees_the_boxes_and_the_data_page_offers_the_load_alert(db_env, monkeypatch):
    monkeypatch.setenv("CRMLENS_ADMIN_PASSWORD_HASH", access.hash_password("admin-pw", iterations=1000))
    at = app_test(None, lang="English")
    at.session_state["_crmlens_admin_ok"] = True  # signed in on the Data page
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert _expander_labels(at)[-1:] == ["Alert me when …"]  # no digest of the Data page
    assert at.sidebar.selectbox(key="digest_alert_en_metric").options == ["Rows rejected by the latest load"]
    at.switch_page("pages/churn.py").run()
    assert {"Subscribe to this view", "Alert me when …"} <= set(_expander_labels(at))


def test_send_now_from_the_page(db_env, chat):  # noqa: F811 - the fixture imported above
    storage.save_digest(db_env, model.make_digest("weekly", "funnel", "period=2024-07-01&period=2024-12-31",
                                                  [model.target("slack", f"{chat.url}/slack")], "weekly:mon", "en"))
    at = app_test("digests", lang="English")
    at.button[[b.label for b in at.button].index("Send now (test)")].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Sent: 1; failed: 0 (see the deliveries below)."]
    [slack] = chat.bodies("/slack")
    assert slack["blocks"][0]["text"]["text"] == "Sales funnel: weekly"
    log = storage.deliveries(store.snapshot(db_env))
    assert log[["event", "channel", "ok"]].values.tolist() == [["test", "slack", True]]
