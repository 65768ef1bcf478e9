"""Scheduled digests and alerts, by e-mail and team chat (issue 18).

model: what a digest, an alert and a delivery are, and their schedules
storage: their tables in the database, written through store.writer() like loads
figures: a view's headline figures and main chart (the same functions as `metrics --json` and the pages)
render: the message in the reader's language (e-mail, WeCom, DingTalk, Feishu, Slack)
deliver: SMTP and the chat webhooks, with retries and back-off
run: what `send-due`, `send --now` and the check after a load do
commands: the command line; widgets: the sidebar boxes and who may use them (pages/digests.py is the page)
"""
