"""Who may look and who may change the data.

Passwords are configured as salted PBKDF2 hashes (make one with
`python -m crmlens hash-password`), in `.streamlit/secrets.toml` (`admin_password_hash`,
`viewer_password_hash`) or the environment (`CRMLENS_ADMIN_PASSWORD_HASH`,
`CRMLENS_VIEWER_PASSWORD_HASH`). With no admin hash configured everyone may load data
(a local demo), and the sidebar says so. With single sign-on (an [auth] section for
st.login), readers sign in with the company's identity provider and the addresses in
`admin_emails` may change data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time

ITERATIONS = 200_000
ALGORITHM = "pbkdf2_sha256"
MAX_DELAY_S = 8.0

_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash; a malformed hash never matches."""
    try:
        algorithm, iterations, salt, digest = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def configured_hash(role: str, secrets_source=None) -> str | None:
    """The hash for 'admin' or 'viewer' from secrets or the environment, or None."""
    key = f"{role}_password_hash"
    if secrets_source is not None:
        try:
            if key in secrets_source:
                return str(secrets_source[key])
        except Exception:  # noqa: BLE001 - no secrets.toml at all is a normal local set-up
            pass
    return os.environ.get(f"CRMLENS_{role.upper()}_PASSWORD_HASH") or None


def sso_configured(secrets_source) -> bool:
    try:
        return "auth" in secrets_source
    except Exception:  # noqa: BLE001 - no secrets.toml at all is a normal local set-up
        return False


def admin_emails(secrets_source) -> set[str] | None:
    """With single sign-on: the e-mail addresses that may change data (admin_emails in secrets)."""
    try:
        emails = secrets_source["admin_emails"] if "admin_emails" in secrets_source else None
    except Exception:  # noqa: BLE001
        return None
    return None if emails is None else {str(e).strip().lower() for e in emails}


def check_with_throttle(password: str, stored: str, who: str) -> bool:
    """verify_password, slowed down after failures: 0.5, 1, 2, 4, 8 s per attempt from `who`."""
    # Count the attempt as a failure before checking, so parallel guesses each wait longer.
    with _failures_lock:
        failures = _failures.get(who, 0)
        _failures[who] = failures + 1
    if failures:
        time.sleep(min(0.5 * 2 ** (failures - 1), MAX_DELAY_S))
    ok = verify_password(password, stored)
    if ok:
        with _failures_lock:
            _failures[who] = 0
    return ok
