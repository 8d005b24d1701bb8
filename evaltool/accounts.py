"""Accounts of a team server: adding users, signing in, rate limits, session expiry.

Passwords are hashed with argon2id (``argon2-cffi``, the Password Hashing Competition's
winner, maintained by the PyCA's Hynek Schlawack); the clear text is never stored,
logged or returned. A refused sign-in is one :class:`~evaltool.errors.SignInError`
whatever the reason (unknown account or wrong password: the UI can tell nobody which),
and costs the same time either way. Failed attempts are stored in the database, so
the lock they cause holds across server processes:

- :data:`MAX_FAILURES` failures of one account name within :data:`LOCK_MINUTES` lock
  that name (even the right password is refused) until enough of them are older (tries
  while locked are logged but do not prolong the lock);
- :data:`MAX_CLIENT_FAILURES` failures from one client (the UI's key for the browser
  or address) lock that client likewise.

Each failure is logged at WARNING on ``evaltool.accounts`` with the name and client,
never the password.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from evaltool import config
from evaltool.domain import Account, Actor, Role
from evaltool.errors import SignInError
from evaltool.store import Store

log = logging.getLogger(__name__)

MAX_FAILURES = 5  # per account name within LOCK_MINUTES
MAX_CLIENT_FAILURES = 20  # per client within LOCK_MINUTES
LOCK_MINUTES = 15
MIN_PASSWORD = 8  # characters
MAX_NAME = 200

# argon2id with RFC 9106's second recommended parameters (64 MiB, 3 passes, 4 lanes), the
# library's default; stored in each hash, so raising them later rehashes at the next sign-in
PROFILE = profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PROFILE)


@functools.cache
def _dummy_hash() -> str:
    """A hash verified when the account does not exist: as slow as a wrong password."""
    return _hasher.hash("evaltool: no such account")


def hash_password(password: str) -> str:
    """The argon2id hash of a password (refused if shorter than :data:`MIN_PASSWORD`)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_name(name: str) -> str:
    """An account name as stored: trimmed, non-empty, at most :data:`MAX_NAME` characters."""
    clean = (name or "").strip()
    if not clean or len(clean) > MAX_NAME or any(c in clean for c in "\r\n\t"):
        raise ValueError(f"an account name is 1-{MAX_NAME} characters on one line")
    return clean


def add_user(store: Store, name: str, role: Role | str, password: str | None, *,
             email: str | None = None) -> Account:
    """Create an account; ``password`` None makes one that signs in only through the
    organisation's provider (OpenID Connect, matched by ``email``)."""
    if password is None and not email:
        raise ValueError("an account without a password needs an e-mail address (--email)")
    return store.add_user(check_name(name), Role(role),
                          password_hash=None if password is None else hash_password(password),
                          email=email)


def set_password(store: Store, name: str, password: str | None) -> None:
    """Replace an account's password (None: provider sign-in only)."""
    store.set_password_hash(name, None if password is None else hash_password(password))


def _now(now: dt.datetime | None) -> dt.datetime:
    """``now`` in UTC (a naive time is taken as UTC), or the current time."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def locked(store: Store, name: str, client: str = "", *, now: dt.datetime | None = None) -> bool:
    """True while an account name or a client is locked by recent failures."""
    since = _now(now) - dt.timedelta(minutes=LOCK_MINUTES)
    if store.sign_in_failures(account=name.strip(), since=since) >= MAX_FAILURES:
        return True
    return bool(client) and store.sign_in_failures(client=client, since=since) >= MAX_CLIENT_FAILURES


def authenticate(store: Store, name: str, password: str, *, client: str = "",
                 now: dt.datetime | None = None) -> Actor:
    """The signed-in :class:`Actor` for a name and password, or :class:`SignInError`.

    ``store`` is the server's unbound store; ``client`` a key for where the attempt came
    from (kept with the failure, never shown). A locked name or client is refused with
    kind 'locked' before the password is looked at.
    """
    at = _now(now)
    account_name = (name or "").strip()[:MAX_NAME]
    if locked(store, account_name, client, now=at):
        # logged, not stored: the lock ends LOCK_MINUTES after the failures that caused it
        log.warning("sign-in refused (locked): account %r, client %r", account_name[:60],
                    client[:60])
        raise SignInError("locked")
    stored = store.password_hash(account_name) if account_name else None
    try:
        _hasher.verify(stored or _dummy_hash(), password or "")
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    account = store.user(account_name) if ok else None
    if account is None:
        _fail(store, account_name, client, at, "invalid")
        raise SignInError("invalid")
    if stored is not None and _hasher.check_needs_rehash(stored):
        store.set_password_hash(account.name, _hasher.hash(password))
    store.clear_sign_in_failures(account.name)
    log.info("sign-in: account %r (%s)", account.name, account.role.value)
    return Actor(account.name, account.role, "local")


def _fail(store: Store, name: str, client: str, at: dt.datetime, reason: str) -> None:
    """Store and log a failed sign-in: the name typed and the client, never the password."""
    store.record_sign_in_failure(name, client, at)
    store.clear_sign_in_failures("", before=at - dt.timedelta(days=1))  # old ones lock nothing
    log.warning("sign-in refused (%s): account %r, client %r", reason, name[:60], client[:60])


def oidc_actor(store: Store, *, email: str | None, name: str | None = None) -> Actor:
    """The :class:`Actor` of an identity the OpenID Connect provider signed in: the account
    with that e-mail address, else (with no e-mail) the account of that name. An identity
    without an account is refused (:class:`SignInError` 'invalid'): accounts and their
    roles are given by an admin (``evaltool user add NAME --role ... --email ...``)."""
    account = store.user_by_email(email) if email else None
    if account is None and not email and name:
        account = store.user(name.strip())
    if account is None:
        log.warning("sign-in refused (no account): provider identity %r", (email or name or "")[:60])
        raise SignInError("invalid")
    log.info("sign-in: account %r (%s) through the provider", account.name, account.role.value)
    return Actor(account.name, account.role, "oidc")


def session_expired(last_seen: dt.datetime, now: dt.datetime | None = None,
                    idle_minutes: int | None = None) -> bool:
    """True when a session last active at ``last_seen`` has been idle too long by ``now``
    (``idle_minutes`` default: ``EVALTOOL_SESSION_IDLE_MINUTES``, 30)."""
    idle = idle_minutes if idle_minutes is not None else config.session_idle_minutes()
    return _now(now) - last_seen > dt.timedelta(minutes=idle)


def team_mode(store: Store) -> bool:
    """True when the database has accounts: the app then asks everyone to sign in."""
    return store.has_users()
