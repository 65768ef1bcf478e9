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
from dataclasses import dataclass, field

from streamlit.errors import StreamlitSecretNotFoundError

ITERATIONS = 200_000
ALGORITHM = "pbkdf2_sha256"
BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
HALF_LIFE_S = 60.0  # an address that stops failing is back to no wait within minutes
MAX_COUNTED = 6.0  # more failures than this do not wait longer (8 s) nor take longer to forget
MAX_TRACKED = 10_000

_attempts: dict[tuple[str, str], "_Attempts"] = {}
_attempts_lock = threading.Lock()


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


@dataclass
class _Attempts:
    """Failed sign-ins of one address on one account."""

    failures: float = 0.0  # decays: halves every HALF_LIFE_S without a failure
    at: float = 0.0  # when it was last counted (the clock below)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one guess at a time


def _clock() -> float:
    return time.monotonic()


def _decayed(attempts: _Attempts, now: float) -> float:
    return attempts.failures * 0.5 ** (max(now - attempts.at, 0.0) / HALF_LIFE_S)


def delay_s(failures: float) -> float:
    """The wait before the next guess: none at first, then 0.5, 1, 2, 4, up to 8 s."""
    # (a count decays continuously: one failure a moment ago counts 0.9999, and still makes the next wait)
    return 0.0 if failures < 0.5 else min(BASE_DELAY_S * 2 ** (max(failures, 1.0) - 1), MAX_DELAY_S)


def _attempts_of(who: str, account: str) -> _Attempts:
    with _attempts_lock:
        if len(_attempts) > MAX_TRACKED:  # forget those who stopped failing long ago
            now = _clock()
            for key in [k for k, a in _attempts.items() if _decayed(a, now) < 0.01 and not a.lock.locked()]:
                del _attempts[key]
        return _attempts.setdefault((who, account), _Attempts())


def check_with_throttle(password: str, stored: str, who: str, account: str) -> bool:
    """verify_password, slowed down after failures of this address on this account.

    Guesses of one address on one account take turns (parallel sessions queue up and each waits
    its turn's delay, so they guess no faster than one session), failures are forgotten over time
    (half every HALF_LIFE_S), and another address or account is not slowed down.
    """
    attempts = _attempts_of(who, account)
    with attempts.lock:
        wait = delay_s(_decayed(attempts, _clock()))
        if wait:
            time.sleep(wait)
        ok = verify_password(password, stored)
        now = _clock()
        if ok:
            attempts.failures, attempts.at = 0.0, now
        else:
            attempts.failures, attempts.at = min(_decayed(attempts, now) + 1, MAX_COUNTED), now
    return ok


def failures(who: str, account: str) -> float:
    """Failed guesses counted now for this address and account (after decay)."""
    attempts = _attempts.get((who, account))
    return 0.0 if attempts is None else _decayed(attempts, _clock())
