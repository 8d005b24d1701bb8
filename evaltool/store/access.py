"""Who may write: the acting user's role and name, checked on every write of the store.

A :class:`~evaltool.store.Store` is either unbound (``actor`` None: the embedded
single-user app and the CLI, whose user owns the database file or URL anyway) or bound
to a signed-in :class:`~evaltool.domain.Actor` by ``store.as_actor(actor)``. On a bound
store every public write method is wrapped by :func:`guarded`, which refuses (with
:class:`~evaltool.errors.AccessError`, before anything is written):

- an actor whose account is gone, or whose role (as stored at the time of the write, so a
  changed role counts at once) lacks the method's :class:`~evaltool.domain.Permission`
  (a lead writes nothing but the report's quote pins);
- a coder argument naming someone else than the actor (a coder cannot act as another).

:meth:`Store.write` itself refuses to open a transaction on a bound store outside a
guarded call, so a write method added without the guard fails instead of writing.
Layer rules (whose layer a coding goes to) are checked by :func:`check_layer` where the
layer is known.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from evaltool.domain import Actor, Permission, Role
from evaltool.errors import AccessError
from evaltool.store.models import Assignment, Coder

F = TypeVar("F", bound=Callable[..., Any])

SHARED = ""  # the project's shared layer (as store.codings.SHARED)

# True while a guarded method runs in this thread or task (Store.write checks it).
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("evaltool_guarded", default=False)

# Names of coder arguments, per guarded method, for the identity check.
GUARD_ATTRIBUTE = "__evaltool_guard__"


def guarded(permission: Permission, *, coder: str | None = None) -> Callable[[F], F]:
    """Make a store method check the bound actor's ``permission`` and, with ``coder``, that
    the argument of that name is the actor's own name; mark the method as guarded."""

    def wrap(method: F) -> F:
        signature = inspect.signature(method)

        def check(self, args: tuple, kwargs: dict) -> None:
            actor: Actor | None = getattr(self, "actor", None)
            if actor is not None:
                if not _inside.get():  # the outermost guarded call: the account as it is now
                    actor = current(self, actor)
                require(actor, permission)
                if coder is not None:
                    bound = signature.bind(self, *args, **kwargs)
                    bound.apply_defaults()
                    same_person(actor, bound.arguments.get(coder))

        if inspect.isgeneratorfunction(method):  # a @contextmanager: guarded while it is open
            @functools.wraps(method)
            def run(self, *args: Any, **kwargs: Any) -> Any:
                check(self, args, kwargs)
                token = _inside.set(True)
                try:
                    yield from method(self, *args, **kwargs)
                finally:
                    _inside.reset(token)
        else:
            @functools.wraps(method)
            def run(self, *args: Any, **kwargs: Any) -> Any:
                check(self, args, kwargs)
                token = _inside.set(True)
                try:
                    return method(self, *args, **kwargs)
                finally:
                    _inside.reset(token)

        setattr(run, GUARD_ATTRIBUTE, (permission, coder))
        return run  # type: ignore[return-value]

    return wrap


def is_guarded(method: Any) -> bool:
    """True when ``method`` was wrapped by :func:`guarded`."""
    return hasattr(method, GUARD_ATTRIBUTE)


def inside_guard() -> bool:
    """True while a guarded method runs (in this thread or task)."""
    return _inside.get()


def current(store: Any, actor: Actor) -> Actor:
    """The actor with its account's role as stored now: a removed account writes nothing,
    a changed role counts from the next write (not from the next sign-in)."""
    account = store.user(actor.name)
    if account is None:
        raise AccessError(f"{actor.name} has no account (any more)", "account")
    return actor if account.role == Role(actor.role) else Actor(actor.name, account.role,
                                                                 actor.source)


def require(actor: Actor, permission: Permission) -> None:
    """Refuse an actor whose role lacks ``permission``."""
    if not actor.can(permission):
        raise AccessError(f"{actor.name} ({Role(actor.role).value}) may not do this "
                          f"(needs the '{permission.value}' permission)", "role")


def same_person(actor: Actor, name: Any) -> None:
    """Refuse acting under another name than the actor's own."""
    if not isinstance(name, str) or name.strip() != actor.name:
        raise AccessError(f"{actor.name} cannot act as another coder", "impersonation")


def may_read_coder(actor: Actor | None, coder: str | None) -> None:
    """Refuse a bound evaluator reading another coder's own work (their blind layer)."""
    if actor is None or coder is None or Role(actor.role) != Role.evaluator:
        return
    if coder != actor.name:
        raise AccessError(f"{actor.name} cannot see another coder's work", "read")


def may_read_layer(actor: Actor | None, layer: str | None) -> None:
    """Refuse a bound evaluator reading a layer other than the shared one and their own."""
    if layer in (None, SHARED):
        return
    may_read_coder(actor, layer)


def check_layer(conn: Connection, actor: Actor | None, document_id: int, layer: str) -> None:
    """Refuse writing ``layer`` of a document when the actor may not.

    Anyone bound may write their own layer, never another coder's. The shared layer is
    refused to a coder assigned blind to the document (their decisions go to their own
    layer), and to an evaluator when the document is assigned to others but not to them.
    """
    if actor is None:
        return
    if layer not in (SHARED, actor.name):
        raise AccessError(f"coding in another coder's layer; {actor.name} cannot change it")
    if layer != SHARED:
        return
    assigned = dict(conn.execute(
        select(Coder.name, Assignment.blind).join(Coder, Coder.id == Assignment.coder_id)
        .where(Assignment.document_id == document_id)).all())
    if assigned.get(actor.name):
        raise AccessError(f"document {document_id} is assigned blind to {actor.name}: "
                          "decisions go to their own layer", "blind")
    if Role(actor.role) == Role.evaluator and assigned and actor.name not in assigned:
        raise AccessError(f"document {document_id} is not assigned to {actor.name}", "unassigned")


def own_view(actor: Actor | None, visible_to: str | None) -> str | None:
    """The coder whose view a read shows: a bound evaluator's always their own."""
    if actor is not None and Role(actor.role) == Role.evaluator:
        return actor.name
    return visible_to
