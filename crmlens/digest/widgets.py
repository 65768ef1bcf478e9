"""The Streamlit side of digests: who may manage them, and the sidebar boxes that subscribe to the view shown.

Admin only: with passwords, an admin signed in on the Data page; with single sign-on, an address in
admin_emails; with no password configured (a local demo), everyone. Viewers see none of it: no
sidebar box, no page in the navigation.
"""

from __future__ import annotations

import re

import streamlit as st

from crmlens import access, i18n, signin, store, ui
from crmlens.digest import model, storage
from crmlens.ui import t

SCHEDULE_KINDS = ("daily", "weekly", "monthly")
_SPLIT = re.compile(r"[\s,;，；]+")


def can_manage() -> bool:
    """Whether this session may see and change digests and alerts (signin.admin_gate's rule, without its form)."""
    sso_admin = signin.sso_admin()
    if sso_admin is not None:
        return sso_admin
    if access.configured_hash("admin", st.secrets) is None:
        return True
    return bool(st.session_state.get("_crmlens_admin_ok"))


def view_params() -> list[tuple[str, str]]:
    """The view's address parameters (language and data version are the digest's own)."""
    return [(k, v) for k in st.query_params if k not in (ui.LANG_KEY, "v") for v in st.query_params.get_all(k)]


def who() -> str:
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email", ""))
    except (AttributeError, KeyError):
        pass
    return "admin"


def _label(prefix: str):
    """A choice's name in the language of this run, fixed when the widget is made (the function may be
    called again outside the run, where the language cannot be read)."""
    lang = ui.language()
    return lambda value: i18n.translate(lang, f"{prefix}.{value}")


def _recipient_fields(prefix: str) -> tuple[str, str, str, str]:
    emails = st.text_area(t("digest.form.emails"), key=f"{prefix}_emails", help=t("digest.form.emails.help"))
    hook = st.text_input(t("digest.form.webhook"), key=f"{prefix}_webhook", help=t("digest.form.webhook.help"))
    kind = st.selectbox(t("digest.form.kind"), model.CHAT_KINDS, key=f"{prefix}_kind",
                        format_func=_label("digest.kind"))
    secret = st.text_input(t("digest.form.secret"), key=f"{prefix}_secret", type="password",
                           help=t("digest.form.secret.help"))
    return emails, hook, kind, secret


def _targets(emails: str, hook: str, kind: str, secret: str) -> list[model.Target]:
    targets = [model.target("email", a) for a in _SPLIT.split(emails or "") if a]
    if hook.strip():
        targets.append(model.target(kind, hook, secret))
    return targets


def _schedule_kind(prefix: str) -> str:
    """Outside the form, so choosing weekly or monthly shows the day to pick at once."""
    return st.selectbox(t("digest.form.schedule"), SCHEDULE_KINDS, index=1, key=f"{prefix}_schedule",
                        format_func=_label("digest.schedule"))


def _schedule(prefix: str, kind: str) -> str:
    if kind == "weekly":
        day = st.selectbox(t("digest.form.weekday"), model.WEEKDAYS, key=f"{prefix}_weekday",
                           format_func=_label("digest.weekday"))
        return f"weekly:{day}"
    if kind == "monthly":
        day = st.number_input(t("digest.form.monthday"), 1, 31, 1, key=f"{prefix}_monthday")
        return f"monthly:{int(day)}"
    return "daily"


def subscribe_box(page: str) -> None:
    """'Subscribe to this view' and 'Alert me when ...' in the sidebar of a view (the Data page: alerts), for admins."""
    metrics = [m for m, p in model.ALERT_METRICS.items() if p == page]
    if (page not in model.PAGES and not metrics) or not can_manage():
        return
    lang = ui.language()
    if page in model.PAGES:
        _digest_box(page, lang)
    if metrics:
        _alert_box(metrics, lang)


def _digest_box(page: str, lang: str) -> None:
    with st.sidebar.expander(t("digest.subscribe.title"), icon=":material/forward_to_inbox:"):
        st.caption(t("digest.subscribe.help"))
        params = view_params()
        # choices shown in the reader's language: a key per language, so a switch starts them afresh
        prefix = f"digest_sub_{lang}"
        kind = _schedule_kind(prefix)
        with st.form("digest_subscribe", border=False):
            schedule = _schedule(prefix, kind)
            name = st.text_input(t("digest.form.name"), key="digest_sub_name")
            recipients = _recipient_fields(prefix)
            language = st.selectbox(t("digest.form.lang"), model.LANGUAGES, index=model.LANGUAGES.index(lang),
                                    key=f"{prefix}_lang", format_func=ui.LANGUAGE_NAMES.get)
            rolling = any(k == ui.PERIOD_KEY for k, _ in params) and st.checkbox(
                t("digest.form.rolling"), value=True, key="digest_sub_rolling", help=t("digest.form.rolling.help"))
            if st.form_submit_button(t("digest.subscribe.button"), type="primary"):
                kept = [(k, v) for k, v in params if not (rolling and k == ui.PERIOD_KEY)]
                _save(lambda: storage.save_digest(store.db_path(), model.make_digest(
                    name, page, kept, _targets(*recipients), schedule, language, who())))


def _alert_box(metrics: list[str], lang: str) -> None:
    with (st.sidebar.expander(t("digest.alert_me.title"), icon=":material/notifications_active:"),
          st.form("digest_alert", border=False)):
        st.caption(t("digest.alert_me.help"))
        name = st.text_input(t("digest.form.name"), key="digest_alert_name")
        prefix = f"digest_alert_{lang}"  # a key per language, as in the digest box
        # the page's own name where a page shows the figure (model.metric_key), in this run's language
        metric = st.selectbox(t("digest.form.metric"), metrics, key=f"{prefix}_metric",
                              format_func=lambda m: i18n.translate(lang, model.metric_key(m)))
        operator = st.selectbox(t("digest.form.operator"), model.OPERATORS, key=f"{prefix}_operator",
                                format_func=_label("digest.operator"))
        threshold = st.number_input(t("digest.form.threshold"), value=0.0, step=0.01, format="%g",
                                    key="digest_alert_threshold", help=t("digest.form.threshold.help"))
        recipients = _recipient_fields(prefix)
        language = st.selectbox(t("digest.form.lang"), model.LANGUAGES, index=model.LANGUAGES.index(lang),
                                key=f"{prefix}_lang", format_func=ui.LANGUAGE_NAMES.get)
        if st.form_submit_button(t("digest.alert_me.button"), type="primary"):
            _save(lambda: storage.save_alert(store.db_path(), model.make_alert(
                name, metric, operator, threshold, view_params(), _targets(*recipients), language, who())))


def _save(save) -> None:
    try:
        save()
    except model.InvalidSetting as e:
        st.error(t("digest.form.invalid"))
        st.text(str(e))  # may quote what was typed: text, never Markdown
        return
    except store.StoreBusy:
        st.error(t("digest.form.busy"))
        return
    st.success(t("digest.form.saved"), icon=":material/check:")
