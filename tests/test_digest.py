"""Digests and alerts end to end: a local SMTP server (aiosmtpd) and a local HTTP server standing in for
WeCom, DingTalk, Feishu and Slack receive what `python -m crmlens send`/`send-due` send.

Figures on tests/fixtures/tiny for 2024-07-01..2024-12-31 (worked out in test_overview_queries.py):
revenue 900 (O2 200 + O3 300 + O5 400), 3 orders, average order 300.00.

Filtered views on tests/fixtures/churn (customers A-G with segments and owners; every order date is in
test_churn_queries.py) and tests/fixtures/funnel/mixed (opportunities in test_funnel_queries.py).
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import urllib.parse

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from crmlens import fmt, store
from crmlens.cli import cli
from crmlens.digest import deliver, figures, model, render, run, storage
from tests.conftest import load_fixture

PERIOD = "period=2024-07-01&period=2024-12-31"
DING_SECRET, FEISHU_SECRET = "SECdingtalk-test-secret", "feishu-test-secret"


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message with its envelope; login as bot / s3cret."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"bot" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            auth_require_tls=False)
    controller.start()
    for key, value in {"HOST": "127.0.0.1", "PORT": str(port), "USER": "bot", "PASSWORD": "s3cret",
                       "FROM": "crmlens@example.com", "STARTTLS": "false"}.items():
        monkeypatch.setenv(f"CRMLENS_SMTP_{key}", value)
    yield inbox
    controller.stop()


class ChatServer(http.server.ThreadingHTTPServer):
    """Answers as each platform does: /wecom and /dingtalk errcode 0, /feishu code 0, /slack "ok";
    /flaky answers 500 twice, then like WeCom; /broken always 500."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.requests: list[tuple[str, dict, dict]] = []  # (path, query, JSON body)
        self.flaky_failures = 2

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def bodies(self, path: str) -> list[dict]:
        return [body for p, _, body in self.requests if p == path]


class ChatHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        parts = urllib.parse.urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((parts.path, dict(urllib.parse.parse_qsl(parts.query)), body))
        if parts.path == "/broken" or (parts.path == "/flaky" and self.server.flaky_failures > 0):
            self.server.flaky_failures -= 1
            return self._answer(500, "busy")
        reply = {"/slack": "ok", "/feishu": json.dumps({"code": 0, "msg": "success", "data": {}})}.get(
            parts.path, json.dumps({"errcode": 0, "errmsg": "ok"}))
        self._answer(200, reply)

    def _answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat():
    server = ChatServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(deliver, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setenv("CRMLENS_PUBLIC_URL", "https://crm.example.com")
    monkeypatch.setenv("CRMLENS_DIGEST_HOUR", "0")  # due at any hour of the day the tests run


def invoke(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def metrics_json(db, start="2024-07-01", end="2024-12-31", params=None) -> dict:
    """`metrics --json` for the period, or for --params (which then names the period)."""
    args = ["--params", params] if params else ["--start", start, "--end", end]
    return json.loads(invoke("metrics", "--json", "--db", db, *args))


def _parts(msg):
    return {part.get_content_type(): part for part in msg.walk() if not part.is_multipart()}


# --- e-mail ------------------------------------------------------------------------------------

def test_email_digest_carries_the_metrics_figures_chart_and_link(tiny_db, smtp):
    out = invoke("digest", "add", "weekly overview", "--db", tiny_db, "--page", "overview",
                 "--params", f"{PERIOD}&segment=business", "--to", "a@example.com", "--to", "b@example.com",
                 "--schedule", "weekly:mon", "--lang", "zh")
    assert out == "digest weekly overview (revision 1): overview weekly:mon zh -> a@example.com, b@example.com\n"
    out = invoke("send", "--digest", "weekly overview", "--now", "--db", tiny_db)
    assert out.splitlines() == [
        "digest weekly overview (test) -> a@example.com: sent after 1 attempt(s)",
        "digest weekly overview (test) -> b@example.com: sent after 1 attempt(s)"]

    assert [rcpt for rcpt, _ in smtp.messages] == [["a@example.com"], ["b@example.com"]]
    _, msg = smtp.messages[0]
    assert msg["To"] == "a@example.com" and msg["From"] == "crmlens@example.com"
    assert msg["Subject"] == "CRM Lens · 总览 · weekly overview(截至2024年12月31日)"
    parts = _parts(msg)
    text = parts["text/plain"].get_content()
    # In Chinese: labels, dates and the change against the previous half-year (revenue 100 -> 900: +800%).
    assert "收入: 900 (+800.0%)" in text and "订单数: 3 (+200.0%)" in text and "客单价: 300.00 (+200.0%)" in text
    assert "期间:2024年7月1日 至 2024年12月31日。" in text
    # The figures are the overview section of `metrics --json` for the same period, value for value.
    figures = json.loads(parts["application/json"].get_content())
    expected = metrics_json(tiny_db)
    assert figures["overview"] == expected["overview"]
    assert figures["data_version"] == expected["data_version"] == store.snapshot(tiny_db).version
    # The chart: a PNG, inline in the HTML and attached.
    png = parts["image/png"].get_content()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "cid:" in parts["text/html"].get_content()
    # The link: the same page and parameters, the language as the pages write it, the data version.
    link = next(line for line in text.splitlines() if line.startswith("打开此视图: ")).split(": ", 1)[1]
    parsed = urllib.parse.urlsplit(link)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("https", "crm.example.com", "/")
    assert urllib.parse.parse_qsl(parsed.query) == [
        ("period", "2024-07-01"), ("period", "2024-12-31"), ("segment", "business"), ("lang", "中文"),
        ("v", str(expected["data_version"]))]
    # A test send is logged and leaves the schedule alone.
    snap = store.snapshot(tiny_db)
    log = storage.deliveries(snap)
    assert list(zip(log["event"], log["target"], log["ok"], log["n_attempts"])) == [
        ("test", "b@example.com", True, 1), ("test", "a@example.com", True, 1)]
    assert storage.digests(snap)[0].last_sent_at is None


def test_send_due_sends_once_per_schedule_day(tiny_db, smtp, monkeypatch):
    storage.save_digest(tiny_db, model.make_digest("daily", "churn", PERIOD, [model.target("email", "a@example.com")],
                                                 "daily", "en"))
    report = run.send_due(tiny_db)
    assert report.digests_sent == ["daily"] and len(smtp.messages) == 1
    assert invoke("send-due", "--db", tiny_db) == "nothing due\n" and len(smtp.messages) == 1  # sent today
    _, msg = smtp.messages[0]
    text = _parts(msg)["text/plain"].get_content()
    churn = metrics_json(tiny_db)["churn"]
    assert f"Period churn rate: {fmt.percent(churn['overall_churn_rate'])}" in text
    assert f"At risk: {churn['at_risk_count']}" in text


def test_unreachable_smtp_is_retried_and_recorded_then_due_again(tiny_db, monkeypatch):
    monkeypatch.setenv("CRMLENS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRMLENS_SMTP_PORT", str(_free_port()))  # nobody listens
    storage.save_digest(tiny_db, model.make_digest("daily", "overview", PERIOD, [model.target("email", "a@example.com")],
                                                 "daily", "en"))
    report = run.send_due(tiny_db)
    [d] = report.deliveries
    assert (d.ok, d.n_attempts) == (False, 3) and "ConnectionRefusedError" in d.error
    snap = store.snapshot(tiny_db)
    assert storage.deliveries(snap)["ok"].tolist() == [False]
    assert storage.digests(snap)[0].last_sent_at is None  # nothing went out: due again at the next run


# --- team chat ---------------------------------------------------------------------------------

def test_chat_webhooks_in_each_platforms_format(tiny_db, chat):
    invoke("digest", "add", "churn-en", "--db", tiny_db, "--page", "churn", "--params", f"{PERIOD}&segment=business",
           "--webhook", f"{chat.url}/wecom?key=k1", "--webhook", f"{chat.url}/dingtalk?access_token=t1",
           "--webhook", f"{chat.url}/feishu", "--webhook", f"{chat.url}/slack",
           "--kind", "wecom", "--kind", "dingtalk", "--kind", "feishu", "--kind", "slack",
           "--secret", "", "--secret", DING_SECRET, "--secret", FEISHU_SECRET, "--secret", "",
           "--schedule", "weekly:fri", "--lang", "en")
    before = time.time()
    out = invoke("send", "--digest", "churn-en", "--now", "--db", tiny_db)
    assert out.count("sent after 1 attempt(s)") == 4
    churn = metrics_json(tiny_db, params=f"{PERIOD}&segment=business")["churn"]
    rate, at_risk = fmt.percent(churn["overall_churn_rate"]), str(churn["at_risk_count"])
    version = store.snapshot(tiny_db).version
    link = ("https://crm.example.com/churn?period=2024-07-01&period=2024-12-31&segment=business"
            f"&lang=English&v={version}")

    # WeCom: a markdown message, then the chart as an image (base64 + md5 of the PNG).
    markdown, image = chat.bodies("/wecom")
    assert markdown["msgtype"] == "markdown"
    content = markdown["markdown"]["content"]
    assert f"Period churn rate: **{rate}**" in content and f"At risk: **{at_risk}**" in content
    assert f"[Open the view]({link})" in content
    png = base64.b64decode(image["image"]["base64"])
    assert image["msgtype"] == "image" and png[:4] == b"\x89PNG" and image["image"]["md5"] == hashlib.md5(png).hexdigest()

    # DingTalk: markdown, the URL signed with the secret: base64(HMAC-SHA256(secret, "timestamp\nsecret")).
    [(_, query, body)] = [r for r in chat.requests if r[0] == "/dingtalk"]
    assert query["access_token"] == "t1" and abs(int(query["timestamp"]) / 1000 - before) < 60
    expected_sign = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{query['timestamp']}\n{DING_SECRET}".encode(),
                                              hashlib.sha256).digest()).decode()
    assert query["sign"] == expected_sign
    assert body["msgtype"] == "markdown" and f"Period churn rate: **{rate}**" in body["markdown"]["text"]
    assert body["markdown"]["title"].startswith("CRM Lens · Churn · churn-en")
    assert body["markdown"]["text"].endswith("\n\nCRM Lens")  # the keyword a robot may be secured with

    # Feishu: an interactive card, signed in the body: base64(HMAC-SHA256(key="timestamp\nsecret", "")).
    [card] = chat.bodies("/feishu")
    key = f"{card['timestamp']}\n{FEISHU_SECRET}".encode()
    assert card["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert card["msg_type"] == "interactive"
    assert card["card"]["header"]["title"]["content"] == "Churn: churn-en"
    assert f"Period churn rate: {rate}" in card["card"]["elements"][0]["text"]["content"]
    assert card["card"]["elements"][1]["actions"][0]["url"] == link
    assert card["card"]["elements"][2] == {"tag": "note", "elements": [{"tag": "plain_text", "content": "CRM Lens"}]}

    # Slack: blocks with the figures and a button to the view, and a text fallback.
    [slack] = chat.bodies("/slack")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "context", "actions"]
    assert f"Period churn rate: {rate}" in slack["blocks"][1]["text"]["text"]
    assert slack["blocks"][3]["elements"][0]["url"] == link and link in slack["text"]


def test_link_parameters_stay_text_in_chat(tiny_db, chat):
    hook = model.target("wecom", f"{chat.url}/wecom?key=k1")
    storage.save_digest(tiny_db, model.make_digest("d", "churn", f"{PERIOD}&owner=[x](http://evil.example)",
                                                 [hook], "daily", "en"))
    run.send_now(tiny_db, "d")
    content = chat.bodies("/wecom")[0]["markdown"]["content"]
    # No such owner: the value is left out (as the page does) and the message quotes it, as text.
    assert "](http://evil" not in content and "owner=［x］（http://evil.example）" in content


def test_webhook_failures_are_retried_with_backoff_and_recorded(tiny_db, chat, monkeypatch):
    waits = []
    monkeypatch.setattr(deliver, "RETRY_DELAYS_S", (1.5, 4.0))
    monkeypatch.setattr(deliver, "_sleep", waits.append)
    targets = [model.target("wecom", f"{chat.url}/flaky?key=k"), model.target("slack", f"{chat.url}/broken")]
    storage.save_digest(tiny_db, model.make_digest("d", "funnel", PERIOD, targets, "daily", "en"))
    report = run.send_due(tiny_db)
    assert waits == [1.5, 4.0, 1.5, 4.0]  # flaky: fails twice, works the 3rd time; broken: 3 attempts
    flaky, broken = report.deliveries
    assert (flaky.ok, flaky.n_attempts, broken.ok, broken.n_attempts) == (True, 3, False, 3)
    assert broken.error == "DeliveryFailed: HTTP 500: busy"
    log = storage.deliveries(store.snapshot(tiny_db))
    assert sorted(zip(log["channel"], log["ok"], log["n_attempts"])) == [("slack", False, 3), ("wecom", True, 3)]


# --- alerts ------------------------------------------------------------------------------------

def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_alert_fires_once_stays_quiet_while_it_holds_and_clears(tiny_db, chat, tmp_path):
    invoke("alert", "add", "rejects", "--db", tiny_db, "--metric", "load_rejected_rows", "--above", "0",
           "--webhook", f"{chat.url}/wecom?key=k", "--kind", "wecom", "--lang", "en")
    assert run.send_due(tiny_db).lines() == ["nothing due"]  # the fixture's load rejected nothing
    # An append with one bad date (row 3 as a spreadsheet counts, header = row 1) and one good row.
    bad = _write(tmp_path / "orders_bad.csv", "order_id,customer_id,order_date,amount\n"
                                              "O8,C1,2024-11-02,10\nO9,C1,not a date,20\n")
    invoke("load", bad, "--db", tiny_db, "--append", "--max-rejects", "0.9")  # also starts the check in a process
    deadline = time.monotonic() + 60
    while not chat.bodies("/wecom") and time.monotonic() < deadline:
        time.sleep(0.2)
    [fired] = chat.bodies("/wecom")
    assert "Alert: rejects" in fired["markdown"]["content"]
    assert "Rows rejected by the latest load: **1**" in fired["markdown"]["content"]
    _wait_for_state(tiny_db, "rejects", True)

    assert run.send_due(tiny_db).lines() == ["nothing due"]  # still true: quiet
    assert run.send_due(tiny_db).lines() == ["nothing due"]
    good = _write(tmp_path / "orders_good.csv", "order_id,customer_id,order_date,amount\nO10,C2,2024-11-03,30\n")
    invoke("load", good, "--db", tiny_db, "--append")
    _wait_for_state(tiny_db, "rejects", False)
    cleared = chat.bodies("/wecom")[-1]["markdown"]["content"]
    assert len(chat.bodies("/wecom")) == 2
    assert "Cleared: rejects" in cleared and "Rows rejected by the latest load: **0**" in cleared
    log = storage.deliveries(store.snapshot(tiny_db))
    assert log["event"].tolist() == ["cleared", "fired"]


def _wait_for_state(db, name, firing, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        [a] = [a for a in storage.alerts(store.snapshot(db)) if a.name == name]
        if a.is_firing == firing and a.last_value is not None:
            return a
        time.sleep(0.2)
    raise AssertionError(f"alert {name} did not become firing={firing}")


def test_alert_on_churn_rate_reads_the_metrics_figure(tiny_db, smtp):
    churn = metrics_json(tiny_db)["churn"]
    # Hand check: fixtures/tiny has no customer lost in 2024-07..12 (see test_churn_queries), so the rate is 0.
    assert churn["overall_churn_rate"] == 0
    storage.save_alert(tiny_db, model.make_alert("churn", "churn_rate", "below", 0.05, PERIOD,
                                               [model.target("email", "a@example.com")], "zh"))
    report = run.send_due(tiny_db)
    assert report.alerts_changed == [("churn", "fired", 0.0)]
    _, msg = smtp.messages[0]
    assert msg["Subject"] == "CRM Lens 预警:churn:本期流失率 为 0.0%"
    assert "规则:本期流失率 低于 5.0%。" in _parts(msg)["text/plain"].get_content()


def test_without_a_browser_for_the_chart_the_figures_and_link_still_go(tiny_db, smtp, monkeypatch):
    from crmlens.digest import chart_png

    chart_png.close()  # (a browser this test process started for an earlier chart: a machine without one has none)
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    storage.save_digest(tiny_db, model.make_digest("d", "overview", PERIOD, [model.target("email", "a@example.com")],
                                                 "daily", "en"))
    [d] = run.send_now(tiny_db, "d").deliveries
    assert d.ok
    _, msg = smtp.messages[0]
    parts = _parts(msg)
    assert "image/png" not in parts
    text = parts["text/plain"].get_content()
    assert "Revenue: 900 (+800.0%)" in text and "The chart could not be drawn this time" in text


def _value(db, metric, period):
    alert = model.make_alert("a", metric, "above", 0, period, [model.target("email", "a@example.com")], "en")
    return figures.alert_value(store.snapshot(db), alert)


def test_alert_values_are_the_figures_the_pages_show(tiny_db):
    metrics = metrics_json(tiny_db)
    assert _value(tiny_db, "churn_rate", PERIOD) == metrics["churn"]["overall_churn_rate"]
    assert _value(tiny_db, "sla_breach_rate", PERIOD) == metrics["complaints"]["sla_breach_rate"]
    # Complaints K1 2024-06-30, K2 2024-07-01, K3 2024-12-31, K4 2025-01-01; the week ends on the period's end.
    assert _value(tiny_db, "complaints_week_ratio", "period=2024-07-01&period=2024-07-07") == 1.0  # K2 / K1
    assert _value(tiny_db, "complaints_week_ratio", "period=2024-07-01&period=2025-01-07") == 1.0  # K4 / K3
    assert _value(tiny_db, "complaints_week_ratio", "period=2024-07-01&period=2025-01-01") == float("inf")  # 2 / 0
    assert _value(tiny_db, "complaints_week_ratio", "period=2024-01-01&period=2024-03-01") is None  # 0 / 0
    assert _value(tiny_db, "load_rejected_rows", "") == 0


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 (cryptography comes with Authlib)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_and_login(tiny_db, tmp_path, monkeypatch):
    import ssl

    cert_file, key_file = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    inbox, port = Inbox(), _free_port()
    # The server refuses mail and login until STARTTLS, as corporate servers do.
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            tls_context=server_tls, require_starttls=True)
    controller.start()
    try:
        # The client checks the certificate as usual; here it trusts the test's own.
        make = ssl.create_default_context
        monkeypatch.setattr(deliver.ssl, "create_default_context", lambda: make(cafile=str(cert_file)))
        settings = deliver.SmtpSettings("127.0.0.1", port, "bot", "s3cret", "crmlens@example.com", starttls=True)
        storage.save_digest(tiny_db, model.make_digest("d", "overview", PERIOD, [model.target("email", "a@example.com")],
                                                       "daily", "en"))
        [d] = run.send_now(tiny_db, "d", smtp=settings).deliveries
        assert (d.ok, d.n_attempts) == (True, 1)
        assert [rcpt for rcpt, _ in inbox.messages] == [["a@example.com"]]
        # Without STARTTLS the same server offers no login, and the failure is recorded.
        plain = deliver.SmtpSettings("127.0.0.1", port, "bot", "s3cret", "crmlens@example.com", starttls=False)
        [d] = run.send_now(tiny_db, "d", smtp=plain).deliveries
        assert (d.ok, d.n_attempts) == (False, 3)
        assert d.error == "SMTPNotSupportedError: SMTP AUTH extension not supported by server."
    finally:
        controller.stop()


def test_overlapping_runs_send_once(tiny_db, chat):
    # cron's send-due and the check after a load may start together: they run one after the other.
    storage.save_digest(tiny_db, model.make_digest("d", "funnel", PERIOD,
                                                   [model.target("slack", f"{chat.url}/slack")], "daily", "en"))
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(run.send_due(tiny_db))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(len(r.deliveries) for r in reports) == [0, 1]
    assert len(chat.bodies("/slack")) == 1


# --- filtered views: the figures of `metrics --json --params` for the same view ----------------

Q1 = "period=2024-01-01&period=2024-03-31"
RULE_30 = "churn_days=30&churn_multiplier=0"  # lost after 30 days without an order, for everyone
EMAIL = model.target("email", "a@example.com")


@pytest.fixture
def churn_db(tmp_path):
    """tests/fixtures/churn: A Alpha consumer/Li, B consumer/Li, C business/Li, D business/Wang,
    E consumer/Wang, F business/Wang, G consumer/Wang; orders and complaints in Q1 2024."""
    return load_fixture(tmp_path / "churn.duckdb", "churn")


def _digest_data(db, page, params, lang="en") -> tuple[dict, str]:
    """The figures a digest of this view sends (its figures.json) and its plain-text notes."""
    digest = model.make_digest("d", page, params, [EMAIL], "daily", lang)
    message = render.digest_message(store.snapshot(db), digest, with_image=False)
    return message.data[page], "\n".join(message.notes)


def test_a_filtered_churn_digest_sends_the_figures_of_metrics_params_not_all_customers(churn_db, smtp):
    params = f"{Q1}&segment=business&{RULE_30}"
    storage.save_digest(churn_db, model.make_digest("biz", "churn", params, [EMAIL], "daily", "en"))
    [d] = run.send_now(churn_db, "biz").deliveries
    assert d.ok
    parts = _parts(smtp.messages[0][1])
    sent = json.loads(parts["application/json"].get_content())["churn"]
    assert sent == metrics_json(churn_db, params=params)["churn"]
    # By hand, N = 30 for everyone: business customers are C, D, F. C is lost on 02-14 (01-15 + 30), D on
    # 03-11 (02-10 + 30); F came back on 03-05 and is active on 03-31. The period churn rate is lost / active at
    # the start, and none of them was active on 01-01 (C's first lifetime ended 12-31): no rate, not 0%.
    assert sent["overall_churn_rate"] is None
    # Months (start, new, reactivated, lost, end): Jan: C comes back on 01-01 (0, 0, 1, 0, 1); Feb: D new,
    # C lost (1, 1, 0, 1, 1); Mar: F back, D lost (1, 0, 1, 1, 1).
    assert [(p["start"], p["new"], p["reactivated"], p["lost"], p["end"]) for p in sent["periods"]] == [
        (0, 0, 1, 0, 1), (1, 1, 0, 1, 1), (1, 0, 1, 1, 1)]
    # The same rule for all customers: active on 01-01 only B, lost 01-19: 1 / 1. The segment makes the difference ...
    assert metrics_json(churn_db, params=f"{Q1}&{RULE_30}")["churn"]["overall_churn_rate"] == 1.0
    # ... and so does the setting: with the default rule (90 days or 3 x the usual gap) B, C and F are active on
    # 01-01 and only B is lost: 1 / 3.
    assert metrics_json(churn_db, params=Q1)["churn"]["overall_churn_rate"] == 0.3333
    text = parts["text/plain"].get_content()
    assert "Period churn rate: –" in text and "At risk: 0" in text
    assert "Filters and settings: segment=business, churn_days=30, churn_multiplier=0." in text
    png = parts["image/png"].get_content()  # the leaky bucket of the filtered view
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_complaints_digest_with_a_category_filter(churn_db):
    # The page keeps a category in the address as its label in both languages.
    params = f"{Q1}&category=Delivery · 物流配送"
    sent, notes = _digest_data(churn_db, "complaints", params, lang="zh")
    assert sent == metrics_json(churn_db, params=params)["complaints"]
    # Q1 complaints: K1 B price, K2 C delivery, K3 C price, K5 G service attitude (K4 is in April):
    # one is about delivery, of four.
    assert (sent["total"], sent["by_category"]) == (1, {"delivery": 1})
    assert metrics_json(churn_db, params=Q1)["complaints"]["total"] == 4
    assert "筛选和设置:category=Delivery · 物流配送。" in notes


def test_a_funnel_digest_with_an_owner_filter_and_its_own_lost_stages(tmp_path):
    db = load_fixture(tmp_path / "mixed.duckdb", "funnel/mixed")
    year = "period=2024-01-01&period=2024-12-31"
    # All of 2024 covers all the data, so N8 (no date at all) counts, as undated: won H1 N1 N8, lost H2 H4 N4 N5,
    # open H3 N2 N3 N6 N7.
    assert metrics_json(db, params=year)["funnel"]["win_rate"] == 0.4286  # 3 / (3 + 4)
    sent, _ = _digest_data(db, "funnel", f"{year}&owner=B")
    assert sent == metrics_json(db, params=f"{year}&owner=B")["funnel"]
    # Owner B: H4 N4 N5 lost, N3 N6 N7 open, nothing won.
    assert (sent["won"], sent["lost"], sent["open"], sent["win_rate"]) == (0, 3, 3, 0.0)
    # A setting: "on hold" counted as lost too, as the page's stage settings allow: N6 is lost, 3 / (3 + 5).
    params = f"{year}&funnel_lost=lost&funnel_lost=on hold"
    sent, _ = _digest_data(db, "funnel", params)
    assert sent == metrics_json(db, params=params)["funnel"]
    assert (sent["won"], sent["lost"], sent["open"], sent["win_rate"]) == (3, 5, 4, 0.375)


def test_a_loyalty_digest_with_a_segment_filter(churn_db):
    params = f"{Q1}&segment=business"
    sent, _ = _digest_data(churn_db, "loyalty", params)
    assert sent == metrics_json(churn_db, params=params)["loyalty"]
    # Completed orders: C 3 (client), D 1 (customer), F 3 (client); no surveys, so nobody higher.
    assert sent["rungs"] == {"prospect": 0, "customer": 1, "client": 2, "supporter": 0, "advocate": 0, "partner": 0}
    # All customers: B, D, E one order each; A, C, F, G two or more.
    assert metrics_json(churn_db, params=Q1)["loyalty"]["rungs"]["client"] == 4


def test_a_value_the_page_refuses_is_left_out_and_the_message_says_so(churn_db):
    # No customer is in segment "wholesale": the page drops it and shows every customer; so does the digest.
    sent, notes = _digest_data(churn_db, "churn", f"{Q1}&segment=wholesale&{RULE_30}")
    assert sent == metrics_json(churn_db, params=f"{Q1}&{RULE_30}")["churn"]
    assert "Left out, as the page leaves them out (not valid on the current data): segment=wholesale." in notes
    assert "Filters and settings: churn_days=30, churn_multiplier=0." in notes


def test_alerts_read_the_figure_of_their_filtered_view(churn_db, smtp):
    business, consumer = f"{Q1}&segment=business&{RULE_30}", f"{Q1}&segment=consumer&{RULE_30}"
    # The period churn rate is lost / active at the period's start. Business C, D, F: none active on 01-01 (C's
    # first lifetime ended 12-31), so no rate (None, not 0).
    assert _value(churn_db, "churn_rate", business) is None
    assert metrics_json(churn_db, params=business)["churn"]["overall_churn_rate"] is None
    # Consumers A, B, E, G: active on 01-01 only B, lost 01-19: 1 of 1.
    assert _value(churn_db, "churn_rate", consumer) == metrics_json(churn_db, params=consumer)["churn"][
        "overall_churn_rate"] == 1.0
    # One rule on two views: each is checked on its own figure (only the consumer one is above 0.6; a view
    # without a figure does not fire).
    for name, params in (("business", business), ("consumer", consumer)):
        storage.save_alert(churn_db, model.make_alert(name, "churn_rate", "above", 0.6, params, [EMAIL], "en"))
    report = run.send_due(churn_db)
    assert report.alerts_changed == [("consumer", "fired", 1.0)]
    text = _parts(smtp.messages[0][1])["text/plain"].get_content()
    assert "Filters and settings: segment=consumer, churn_days=30, churn_multiplier=0." in text


def test_digest_add_refuses_what_the_page_refuses(churn_db):
    result = CliRunner().invoke(cli, ["digest", "add", "d", "--db", str(churn_db), "--page", "churn",
                                      "--params", f"{Q1}&segment=wholesale&churn_days=0", "--to", "a@example.com",
                                      "--schedule", "daily"])
    assert result.exit_code == 1
    assert result.output == ("Error: --params: segment=wholesale (churn): not one of the page's options (consumer, "
                             "business); churn_days=0 (churn): not a whole number from 1 to 3650\n")
    assert storage.digests(store.snapshot(churn_db)) == []
    # The alert's page is the metric's: churn_grain is the churn page's, so it is checked there.
    result = CliRunner().invoke(cli, ["alert", "add", "a", "--db", str(churn_db), "--metric", "churn_rate", "--above",
                                      "0.5", "--params", "churn_grain=Weeks", "--to", "a@example.com"])
    assert result.exit_code == 1 and result.output.startswith("Error: --params: churn_grain=Weeks (churn): ")


def test_choices_shown_as_words_are_read_in_either_language_and_linked_in_the_digests(churn_db):
    # Made from the churn page in English (churn_grain=Quarters), sent in Chinese: the figures are by quarter
    # (Q1 2024 as one period), and the link writes the choice as the page in Chinese does.
    params = f"{Q1}&churn_grain=Quarters"
    digest = model.make_digest("q", "churn", params, [EMAIL], "daily", "zh")
    message = render.digest_message(store.snapshot(churn_db), digest, with_image=False)
    assert message.data["churn"] == metrics_json(churn_db, params=f"{Q1}&churn_grain=按季度")["churn"]
    assert [p["period"] for p in message.data["churn"]["periods"]] == ["2024-01-01"]
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(message.link).query)
    assert ("churn_grain", "按季度") in query and ("lang", "中文") in query
