"""Who may look and who may change the data, on the page: the settings check, sign-in forms, single sign-on."""

from __future__ import annotations

import streamlit as st

from crmlens import access, safe
from crmlens.ui import t


def _who() -> str:
    return st.context.ip_address or "local"


def _password_form(role: str, stored: str, key: str) -> bool:
    """A password field for `role`; True (and remembered for the session) when it is right."""
    flag = f"_crmlens_{role}_ok"
    if st.session_state.get(flag):
        return True
    with st.form(key):
        password = st.text_input(t(f"access.{role}.password"), type="password")
        submitted = st.form_submit_button(t("access.sign_in"))
    if submitted:
        if access.check_with_throttle(password, stored, _who(), role):
            st.session_state[flag] = True
            st.rerun()
        st.error(t("access.wrong_password"))
    return False


def _sso() -> bool:
    """Single sign-on through Streamlit's OIDC login is configured ([auth] in secrets.toml)."""
    return access.sso_configured(st.secrets)


def settings_gate() -> None:
    """Stop every page while the secrets file is there but broken: never read it as "no password"."""
    try:
        access.check_settings(st.secrets)
    except access.SettingsBroken as e:
        st.error(t(e.key, **{k: safe.md(v) for k, v in e.values.items()}), icon=":material/lock:")
        st.stop()


def viewer_allowed() -> bool:
    """Whether this reader may see the pages now (no sign-in needed, or signed in)."""
    settings_gate()
    if _sso():
        return bool(st.user.is_logged_in)
    return (access.configured_hash("viewer", st.secrets) is None or bool(st.session_state.get("_crmlens_admin_ok"))
            or bool(st.session_state.get("_crmlens_viewer_ok")))


def viewer_gate() -> None:
    """With single sign-on, or a viewer password, nothing shows until the reader signs in."""
    settings_gate()
    if _sso():
        if not st.user.is_logged_in:
            st.title(t("app.title"))
            st.button(t("access.sso_login"), on_click=st.login, type="primary", icon=":material/login:")
            st.stop()
        return
    stored = access.configured_hash("viewer", st.secrets)
    if stored and not st.session_state.get("_crmlens_admin_ok") and not _password_form("viewer", stored, "viewer_login"):
        st.stop()


def sso_admin() -> bool | None:
    """With single sign-on and an admin_emails list: whether the signed-in user is an admin."""
    admins = access.admin_emails(st.secrets) if _sso() else None
    if admins is None:
        return None
    # Only an address the identity provider verified counts (self-registration could claim any).
    return (st.user.is_logged_in and st.user.get("email_verified", True) is not False
            and str(st.user.get("email", "")).lower() in admins)


def admin_gate() -> bool:
    """Show the admin sign-in where data can be changed; True when changes are allowed."""
    signed_in_admin = sso_admin()
    if signed_in_admin is not None:
        if not signed_in_admin:
            st.info(t("access.admin_needed_sso"))
        return signed_in_admin
    stored = access.configured_hash("admin", st.secrets)
    if stored is None:
        return True
    st.info(t("access.admin_needed"))
    return _password_form("admin", stored, "admin_login")


def access_note() -> None:
    if _sso() and st.user.is_logged_in:
        role = "access.sso_admin" if sso_admin() else "access.sso_viewer"
        st.sidebar.caption(":material/person: " + t(role, email=safe.md(st.user.get("email", ""))))
        st.sidebar.button(t("access.sso_logout"), on_click=st.logout, icon=":material/logout:")
    elif access.configured_hash("admin", st.secrets) is None:
        st.sidebar.caption(":material/lock_open: " + t("access.no_password"))
    elif st.session_state.get("_crmlens_admin_ok"):
        st.sidebar.caption(":material/admin_panel_settings: " + t("access.signed_in_admin"))
    else:
        st.sidebar.caption(":material/visibility: " + t("access.viewer"))
