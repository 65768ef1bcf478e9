"""Digests and alerts (admins only): what is sent to whom and when, the alert rules, the last deliveries."""

import streamlit as st

from crmlens import controls, signin, ui
from crmlens.digest import model, render, run, storage, widgets
from crmlens.ui import t

ui.run_through_app()
if not widgets.can_manage():
    signin.admin_gate()  # the sign-in form, nothing else
    st.stop()
snap = ui.snapshot()

st.title(t("digest.page.title"))
st.caption(t("digest.page.caption"))

digests = storage.digests(snap) if snap is not None else []
alerts = storage.alerts(snap) if snap is not None else []


def targets_text(targets) -> str:
    return ", ".join(x.masked() for x in targets)


st.subheader(t("digest.list.digests"))
if not digests:
    st.caption(t("digest.list.no_digests"))
else:
    rows = [{"name": d.name, "page": t(f"digest.page.{d.page}"), "params": "&".join(f"{k}={v}" for k, v in d.params),
             "schedule": d.schedule, "lang": ui.LANGUAGE_NAMES[d.lang], "to": targets_text(d.targets),
             "last_sent_at": d.last_sent_at, "revision": d.revision} for d in digests]
    st.dataframe(rows, hide_index=True, column_config={
        "name": t("digest.col.name"), "page": t("digest.col.page"), "params": t("digest.col.params"),
        "schedule": t("digest.col.schedule"), "lang": t("digest.col.lang"), "to": t("digest.col.to"),
        "last_sent_at": st.column_config.DatetimeColumn(t("digest.col.last_sent_at"), format="YYYY-MM-DD HH:mm"),
        "revision": t("digest.col.revision")})
    left, right = st.columns(2)
    chosen = left.selectbox(t("digest.col.name"), [d.name for d in digests], key="digest_chosen")
    if right.button(t("digest.send_now"), icon=":material/send:"):
        with st.spinner(t("digest.sending")):
            report = run.send_now(None, chosen)
        failed = [d for d in report.deliveries if not d.ok]
        (st.warning if failed else st.success)(t("digest.sent", ok=len(report.deliveries) - len(failed),
                                                  failed=len(failed)))
    if right.button(t("digest.remove"), icon=":material/delete:", key="digest_remove"):
        storage.remove(None, "digest", chosen)
        st.rerun()

st.subheader(t("digest.list.alerts"))
if not alerts:
    st.caption(t("digest.list.no_alerts"))
else:
    lang = ui.language()
    rows = [{"name": a.name, "rule": t(f"digest.rule.{a.operator}", metric=t(model.metric_key(a.metric)),
                                       threshold=render.show(a.threshold, render.ALERT_KINDS[a.metric], lang)),
             "state": t("digest.state.firing" if a.is_firing else "digest.state.quiet"),
             "last_value": render.show(a.last_value, render.ALERT_KINDS[a.metric], lang)
             if a.last_value is not None else "", "changed_at": a.changed_at, "to": targets_text(a.targets),
             "lang": ui.LANGUAGE_NAMES[a.lang]} for a in alerts]
    st.dataframe(rows, hide_index=True, column_config={
        "name": t("digest.col.name"), "rule": t("digest.col.rule"), "state": t("digest.col.state"),
        "last_value": t("digest.col.last_value"),
        "changed_at": st.column_config.DatetimeColumn(t("digest.col.changed_at"), format="YYYY-MM-DD HH:mm"),
        "to": t("digest.col.to"), "lang": t("digest.col.lang")})
    left, right = st.columns(2)
    chosen_alert = left.selectbox(t("digest.col.name"), [a.name for a in alerts], key="alert_chosen")
    if right.button(t("digest.remove"), icon=":material/delete:", key="alert_remove"):
        storage.remove(None, "alert", chosen_alert)
        st.rerun()
st.caption(t("digest.list.how"))

st.subheader(t("digest.list.deliveries"))
log = storage.deliveries(snap) if snap is not None else None
if log is None or log.empty:
    st.caption(t("digest.list.no_deliveries"))
else:
    log = log.assign(ok=log["ok"].map(lambda ok: t("digest.outcome.ok" if ok else "digest.outcome.failed")),
                     event=log["event"].map(lambda e: t(f"digest.event.{e}")),
                     item_kind=log["item_kind"].map(lambda k: t(f"digest.item.{k}")))
    st.dataframe(log.drop(columns=["delivery_id"]), hide_index=True, column_config={
        "sent_at": st.column_config.DatetimeColumn(t("digest.col.sent_at"), format="YYYY-MM-DD HH:mm:ss"),
        "item_kind": t("digest.col.item_kind"), "item_name": t("digest.col.name"), "event": t("digest.col.event"),
        "channel": t("digest.col.channel"), "target": t("digest.col.to"), "ok": t("digest.col.outcome"),
        "n_attempts": t("digest.col.attempts"), "error": t("digest.col.error"),
        "data_version": t("digest.col.data_version")})
    controls.download_csv(log, "deliveries.csv")
