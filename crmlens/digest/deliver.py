"""Sending a message: e-mail over SMTP, and the team-chat webhooks in their documented formats.

- E-mail: plain text + HTML with the chart inline, the chart and the figures (JSON) attached.
  Settings from the environment (CRMLENS_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _STARTTLS) or
  the [smtp] section of .streamlit/secrets.toml (host, port, user, password, from, starttls).
- WeCom (企业微信) group robot: a markdown message, then the chart as an image message (base64 + md5).
- DingTalk (钉钉) custom robot: a markdown message; with a signing secret the URL gets
  timestamp (ms) and sign = base64(HMAC-SHA256(secret, "timestamp\\nsecret")).
- Feishu/Lark (飞书) custom bot: an interactive card with a button to the view; with a signing
  secret the body gets timestamp (s) and sign = base64(HMAC-SHA256(key="timestamp\\nsecret", "")).
- Slack incoming webhook: blocks (header, figures, a button to the view) plus a text fallback.
Chat robots cannot take an image by webhook except WeCom's; the others link to the view.
Each attempt that fails is retried with back-off (RETRY_DELAYS_S); the outcome is returned for the log.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import html
import json
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid

from crmlens.digest import model, render

RETRY_DELAYS_S = (2.0, 10.0)  # waits before the 2nd and 3rd attempt
TIMEOUT_S = 20.0
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_IMAGE_MAX_BYTES = 2 * 1024 * 1024
SMTP_KEYS = ("host", "port", "user", "password", "from", "starttls")
SMTPS_PORT = 465
# Every chat message ends with it: a robot secured by keyword (DingTalk, Feishu) can be given this one.
SIGNATURE = "CRM Lens"
# Characters that are markup in the chat platforms' markdown, replaced by their full-width look-alikes.
_MARKDOWN_SAFE = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "\\*_[]()<>#`|~!"})


_sleep = time.sleep  # (tests replace it to count the waits)


class DeliveryFailed(Exception):
    pass


class NotConfigured(DeliveryFailed):
    pass


# --- SMTP --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool

    @classmethod
    def load(cls, secrets: dict | None = None) -> SmtpSettings:
        """The environment wins over [smtp] in secrets.toml, name by name."""
        section = (secrets if secrets is not None else render.secrets_file()).get("smtp", {}) or {}
        value = {k: os.environ.get(f"CRMLENS_SMTP_{k.upper()}") or section.get(k) for k in SMTP_KEYS}
        if not value["host"]:
            raise NotConfigured("no SMTP server: set CRMLENS_SMTP_HOST (or host under [smtp] in secrets.toml)")
        starttls = str(value["starttls"]).strip().lower() in ("1", "true", "yes", "on") \
            if value["starttls"] not in (None, "") else int(value["port"] or 587) == 587
        return cls(str(value["host"]), int(value["port"] or 587), str(value["user"] or ""),
                   str(value["password"] or ""), str(value["from"] or value["user"] or "crmlens@localhost"), starttls)


def email_message(message: render.Message, recipient: str, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = recipient
    text = [message.title, ""] + [f"{label}: {value}" for label, value in message.lines] + [""] + message.notes \
        + ["", f"{message.link_label}: {message.link}"]
    mail.set_content("\n".join(text))
    cid = make_msgid(domain="crmlens")
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td style='text-align:right;padding-left:2em'>"
                   f"<b>{html.escape(value)}</b></td></tr>" for label, value in message.lines)
    body = (f"<h2>{html.escape(message.title)}</h2><table>{rows}</table>"
            + "".join(f"<p style='color:#555'>{html.escape(n)}</p>" for n in message.notes)
            + (f"<p><img src='cid:{cid[1:-1]}' alt='{html.escape(message.title, quote=True)}' width='900'></p>"
               if message.png else "")
            + f"<p><a href='{html.escape(message.link, quote=True)}'>{html.escape(message.link_label)}</a></p>")
    mail.add_alternative(f"<html><body style='font-family:sans-serif'>{body}</body></html>", subtype="html")
    if message.png:
        mail.get_payload()[1].add_related(message.png, "image", "png", cid=cid)
        mail.add_attachment(message.png, maintype="image", subtype="png", filename="chart.png")
    if message.data:
        mail.add_attachment(render.figures_json(message), maintype="application", subtype="json",
                            filename="figures.json")
    return mail


def send_email(settings: SmtpSettings, mail: EmailMessage) -> None:
    """STARTTLS (port 587) or plain (25, a relay inside the network); port 465 speaks TLS from the start."""
    if settings.port == SMTPS_PORT:
        connection = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_S,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
    with connection as smtp:
        smtp.ehlo()
        if settings.starttls and settings.port != SMTPS_PORT:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(mail)


# --- chat payloads -----------------------------------------------------------------------------

def safe(text: str) -> str:
    """Text for a chat platform's markdown: markup characters become look-alikes, so names stay text."""
    return str(text).translate(_MARKDOWN_SAFE)


def _markdown(message: render.Message, bold: str = "**") -> str:
    lines = [f"{bold}{safe(message.title)}{bold}", ""]
    lines += [f"{safe(label)}: {bold}{safe(value)}{bold}" for label, value in message.lines]
    lines += [""] + [f"> {safe(n)}" for n in message.notes] + ["", f"[{safe(message.link_label)}]({message.link})"]
    return "\n".join([*lines, "", SIGNATURE])


def wecom_payloads(message: render.Message) -> list[dict]:
    text = _markdown(message)
    while len(text.encode("utf-8")) > WECOM_MARKDOWN_MAX_BYTES:
        text = text[: len(text) - 100]
    payloads = [{"msgtype": "markdown", "markdown": {"content": text}}]
    if message.png and len(message.png) <= WECOM_IMAGE_MAX_BYTES:
        payloads.append({"msgtype": "image", "image": {"base64": base64.b64encode(message.png).decode(),
                                                       "md5": hashlib.md5(message.png).hexdigest()}})
    return payloads


def dingtalk_payload(message: render.Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": safe(message.subject), "text": _markdown(message)}}


def dingtalk_url(url: str, secret: str, now_ms: int | None = None) -> str:
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def feishu_payload(message: render.Message, secret: str = "", now_s: int | None = None) -> dict:
    text = "\n".join([f"{label}: {value}" for label, value in message.lines] + [""] + message.notes)
    payload = {"msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": message.title}, "template": "blue"},
        "elements": [
            {"tag": "div", "text": {"tag": "plain_text", "content": text}},
            {"tag": "action", "actions": [{"tag": "button", "type": "primary", "url": message.link,
                                           "text": {"tag": "plain_text", "content": message.link_label}}]},
            {"tag": "note", "elements": [{"tag": "plain_text", "content": SIGNATURE}]},
        ]}}
    if secret:
        timestamp = str(now_s if now_s is not None else int(time.time()))
        key = f"{timestamp}\n{secret}".encode()
        payload = {"timestamp": timestamp,
                   "sign": base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode(), **payload}
    return payload


def slack_payload(message: render.Message) -> dict:
    figures = "\n".join(f"{label}: {value}" for label, value in message.lines)
    return {
        "text": f"{message.subject} {message.link}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
            {"type": "section", "text": {"type": "plain_text", "text": figures or message.title}},
            {"type": "context", "elements": [{"type": "plain_text", "text": n} for n in message.notes[:10]]},
            {"type": "actions", "elements": [{"type": "button", "url": message.link,
                                              "text": {"type": "plain_text", "text": message.link_label}}]},
        ],
    }


def post_json(url: str, payload: dict) -> str:
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        raise DeliveryFailed(f"HTTP {e.code}: {e.read()[:200].decode('utf-8', 'replace')}") from e


def _check_reply(kind: str, body: str) -> None:
    """The platforms answer HTTP 200 with an error code in the body: read it."""
    if kind == "slack":
        if body.strip() != "ok":
            raise DeliveryFailed(f"slack answered {body[:200]!r}")
        return
    try:
        reply = json.loads(body)
    except ValueError as e:
        raise DeliveryFailed(f"{kind} answered {body[:200]!r}") from e
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode")))
    if code not in (0, None):
        raise DeliveryFailed(f"{kind} error {code}: {reply.get('errmsg') or reply.get('msg')}")


def send_chat(target: model.Target, message: render.Message) -> None:
    if target.kind == "wecom":
        for payload in wecom_payloads(message):
            _check_reply("wecom", post_json(target.address, payload))
    elif target.kind == "dingtalk":
        _check_reply("dingtalk", post_json(dingtalk_url(target.address, target.secret), dingtalk_payload(message)))
    elif target.kind == "feishu":
        _check_reply("feishu", post_json(target.address, feishu_payload(message, target.secret)))
    elif target.kind == "slack":
        _check_reply("slack", post_json(target.address, slack_payload(message)))
    else:
        raise DeliveryFailed(f"unknown chat kind {target.kind}")


# --- retries -----------------------------------------------------------------------------------

def with_retries(send, delays: tuple[float, ...] | None = None, sleep=None) -> tuple[bool, int, str]:
    """Call send() until it works, waiting delays[i] before attempt i + 2: (ok, attempts, last error)."""
    delays = RETRY_DELAYS_S if delays is None else delays
    sleep = sleep or _sleep
    error = ""
    for attempt in range(1, len(delays) + 2):
        try:
            send()
            return True, attempt, ""
        except NotConfigured as e:
            return False, attempt, str(e)  # waiting will not configure it
        except (DeliveryFailed, OSError, smtplib.SMTPException, ValueError) as e:
            error = f"{type(e).__name__}: {e}"
            if attempt <= len(delays):
                sleep(delays[attempt - 1])
    return False, len(delays) + 1, error


def deliver(message: render.Message, targets: list[model.Target], item_kind: str, item_name: str, event: str,
            data_version: int | None, delays: tuple[float, ...] | None = None,
            smtp: SmtpSettings | None = None) -> list[model.Delivery]:
    """Send to every target (one e-mail per recipient), each with its own retries; the outcome of each."""
    out = []
    for target in targets:
        if target.kind == "email":
            def send(target=target):
                settings = smtp or SmtpSettings.load()
                send_email(settings, email_message(message, target.address, settings.sender))
        else:
            def send(target=target):
                send_chat(target, message)
        ok, attempts, error = with_retries(send, delays)
        out.append(model.Delivery(item_kind, item_name, event, target.kind, target.masked(), ok, attempts, error,
                                  data_version))
    return out
