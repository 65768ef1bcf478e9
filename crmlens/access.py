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
from collections.abc import Mapping

from streamlit.errors import StreamlitSecretNotFoundError

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


class SettingsBroken(Exception):
    """The secrets file exists but cannot be used. Nothing is shown until it is fixed (fail closed).

    `key` names the message in the catalogs (access.broken.*), `values` fill it in.
    """

    def __init__(self, key: str, **values: str):
        super().__init__(f"{key}: {values}")
        self.key, self.values = key, values


def settings(secrets_source) -> Mapping:
    """The secrets as a mapping: empty only when there is no secrets file at all.

    A file that exists but cannot be read (bad TOML, a duplicate key, not UTF-8, no permission)
    raises SettingsBroken: reading it as "no password" would open every page to anyone.
    """
    if secrets_source is None:
        return {}
    try:
        return dict(secrets_source.items())
    except StreamlitSecretNotFoundError as e:
        if getattr(e, "error_id", None) == "no-secrets-found":
            return {}
        cause = e.__cause__
        raise SettingsBroken("access.broken.unreadable", detail=str(cause) if cause else e.error_id or "") from e
    except UnicodeDecodeError as e:
        raise SettingsBroken("access.broken.unreadable", detail="not UTF-8 text") from e
    except OSError as e:  # permission denied, a folder where the file should be, ...
        raise SettingsBroken("access.broken.unreadable", detail=e.strerror or type(e).__name__) from e


def _values(secrets_source) -> dict:
    """Settings already read (a dict) as they are; anything else (st.secrets) read with settings()."""
    return secrets_source if type(secrets_source) is dict else settings(secrets_source)


def _valid_hash(stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit() or int(parts[1]) < 1:
        return False
    try:
        return bool(base64.b64decode(parts[2], validate=True)) and bool(base64.b64decode(parts[3], validate=True))
    except ValueError:
        return False


def configured_hash(role: str, secrets_source=None) -> str | None:
    """The hash for 'admin' or 'viewer' from secrets or the environment, or None when neither sets one.

    A setting that is there but is no hash (empty, a number, a plain password) raises SettingsBroken:
    an empty viewer hash must not switch the viewer password off.
    """
    key, env = f"{role}_password_hash", f"CRMLENS_{role.upper()}_PASSWORD_HASH"
    values = _values(secrets_source)
    if key in values:
        value, where = values[key], key
    elif env in os.environ:
        value, where = os.environ[env], env
    else:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsBroken("access.broken.empty_hash", name=where)
    if not _valid_hash(value.strip()):
        raise SettingsBroken("access.broken.not_a_hash", name=where)
    return value.strip()


def sso_configured(secrets_source) -> bool:
    values = _values(secrets_source)
    return "auth" in values


def admin_emails(secrets_source) -> set[str] | None:
    """With single sign-on: the e-mail addresses that may change data (admin_emails in secrets)."""
    values = _values(secrets_source)
    emails = values.get("admin_emails")
    if emails is None:
        return None
    if isinstance(emails, str) or not all(isinstance(e, str) for e in emails):
        raise SettingsBroken("access.broken.admin_emails")
    return {e.strip().lower() for e in emails}


def check_settings(secrets_source) -> Mapping:
    """Read and check every access setting at once; raises SettingsBroken on the first problem."""
    values = settings(secrets_source)
    for role in ("admin", "viewer"):
        configured_hash(role, values)
    admin_emails(values)
    return values


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
