"""Sign-in accounts and failed sign-ins in the database (migration 0017).

Passwords arrive here already hashed (:mod:`evaltool.accounts` hashes them); the hash
leaves this module only to be verified (:meth:`UserOps.password_hash`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from evaltool.domain import Account, Permission, Role
from evaltool.errors import AccessError, ConflictError, NotFoundError
from evaltool.store.access import guarded
from evaltool.store.models import SignInFailure, User, utcnow


def _account(row: Any) -> Account:
    return Account(row.name, Role(row.role), row.email, row.password_hash is not None,
                   row.created_at)


def _keep_an_admin(conn: Any, name: str) -> None:
    """Refuse (``AccessError`` 'last_admin') when ``name`` is the only admin account.

    The admin rows stay locked (``FOR UPDATE``, in id order) until the caller's write
    commits, so two demotions of the last two admins cannot both pass on PostgreSQL: the
    second waits for the first, then re-reads the rows and finds one admin left. SQLite
    writes are serialised anyway (``BEGIN IMMEDIATE``).
    """
    admins = conn.scalars(select(User.name).where(User.role == Role.admin.value)
                          .order_by(User.id).with_for_update()).all()
    if admins == [name]:
        raise AccessError(f"{name!r} is the last admin; make another account admin before "
                          "demoting or removing it", "last_admin")


class UserOps:
    """Account operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    def users(self) -> list[Account]:
        """Every account, by name."""
        with self.engine.connect() as conn:
            return [_account(r) for r in conn.execute(select(User).order_by(User.name))]

    def user(self, name: str) -> Account | None:
        """The account of this name, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(User).where(User.name == name)).first()
        return None if row is None else _account(row)

    def user_by_email(self, email: str) -> Account | None:
        """The account with this e-mail address (case-insensitive), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(User).where(User.email == email.strip().lower())).first()
        return None if row is None else _account(row)

    def has_users(self) -> bool:
        """True when at least one account exists (the database is a team server's)."""
        with self.engine.connect() as conn:
            return conn.scalar(select(User.id).limit(1)) is not None

    def password_hash(self, name: str) -> str | None:
        """The stored password hash of an account (None: no account, or no password)."""
        with self.engine.connect() as conn:
            return conn.scalar(select(User.password_hash).where(User.name == name))

    @guarded(Permission.manage)
    def add_user(self, name: str, role: Role, *, password_hash: str | None,
                 email: str | None = None) -> Account:
        """Create an account (``ConflictError`` if the name or e-mail is taken)."""
        values = {"name": name, "role": Role(role).value,
                  "email": email.strip().lower() if email else None,
                  "password_hash": password_hash, "created_at": utcnow()}
        try:
            with self.write() as conn:
                same = User.name == name
                if values["email"]:
                    same = or_(same, User.email == values["email"])
                taken = conn.scalar(select(User.name).where(same))
                if taken is not None:
                    raise ConflictError(f"an account named {name!r} or with that e-mail exists")
                conn.execute(insert(User).values(**values))
        except IntegrityError:  # another process added it in between
            raise ConflictError(f"an account named {name!r} or with that e-mail exists") from None
        found = self.user(name)
        assert found is not None
        return found

    @guarded(Permission.manage)
    def remove_user(self, name: str) -> None:
        """Delete an account (its decisions keep its name as their coder); never the last
        admin."""
        with self.write() as conn:
            _keep_an_admin(conn, name)
            if conn.execute(delete(User).where(User.name == name)).rowcount == 0:
                raise NotFoundError(f"no account {name!r} (see `evaltool user list`)")

    @guarded(Permission.manage)
    def set_role(self, name: str, role: Role) -> Account:
        """Change an account's role; the last admin keeps theirs."""
        with self.write() as conn:
            if Role(role) != Role.admin:
                _keep_an_admin(conn, name)
            if conn.execute(update(User).where(User.name == name)
                            .values(role=Role(role).value)).rowcount == 0:
                raise NotFoundError(f"no account {name!r} (see `evaltool user list`)")
        found = self.user(name)
        assert found is not None
        return found

    @guarded(Permission.manage)
    def set_password_hash(self, name: str, password_hash: str | None) -> None:
        """Replace an account's password hash (None: sign-in through the provider only)."""
        with self.write() as conn:
            if conn.execute(update(User).where(User.name == name)
                            .values(password_hash=password_hash)).rowcount == 0:
                raise NotFoundError(f"no account {name!r} (see `evaltool user list`)")

    # -- failed sign-ins (written before anyone is signed in: admin or unbound) -------

    @guarded(Permission.manage)
    def record_sign_in_failure(self, account: str, client: str, at: dt.datetime) -> None:
        """Remember one failed sign-in (no password) of ``account`` from ``client``."""
        with self.write() as conn:
            conn.execute(insert(SignInFailure).values(account=account[:200], client=client[:200],
                                                      at=at))

    @guarded(Permission.manage)
    def clear_sign_in_failures(self, account: str, *, before: dt.datetime | None = None) -> None:
        """Forget an account's failed sign-ins (after a successful one), or everyone's older
        than ``before`` (with ``account`` '')."""
        with self.write() as conn:
            stmt = delete(SignInFailure)
            stmt = (stmt.where(SignInFailure.at < before) if before is not None and not account
                    else stmt.where(SignInFailure.account == account[:200]))
            conn.execute(stmt)

    def sign_in_failures(self, *, account: str | None = None, client: str | None = None,
                         since: dt.datetime) -> int:
        """Failed sign-ins since ``since`` of an account, or from a client."""
        stmt = select(func.count()).select_from(SignInFailure).where(SignInFailure.at >= since)
        if account is not None:
            stmt = stmt.where(SignInFailure.account == account[:200])
        if client is not None:
            stmt = stmt.where(SignInFailure.client == client[:200])
        with self.engine.connect() as conn:
            return conn.scalar(stmt) or 0
