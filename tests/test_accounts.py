"""Accounts on a team server: hashed passwords, sign-in refusals and their rate limit,
and roles enforced by the store itself (a lead writes nothing, a coder acts only as
themselves and never sees the other's blind layer). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import re
import threading
import time

import pytest
from sqlalchemy import MetaData, select, text

from evaltool import accounts, codebook
from evaltool.domain import Actor, Role, Suggestion
from evaltool.errors import AccessError, ConflictError, SignInError
from evaltool.store import Store, open_store
from evaltool.store.access import is_guarded
from tests.conftest import FIXTURES

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"
PASSWORD = "Kaffe-på-biblioteket-7"
ANNA, BO = Actor("Anna", Role.evaluator), Actor("Bo", Role.evaluator)
LIS, ADA = Actor("Lis", Role.lead), Actor("Ada", Role.admin)
T0 = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2's cheapest parameters: the production ones take seconds on a busy test machine
    (test_passwords_are_stored_only_as_argon2_hashes checks those parameters)."""
    from argon2 import PasswordHasher, profiles

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def suggested(team_store):
    """Machine suggestions on segments 1 (strategi), 2 (kaffe) and 3 (nye brugere), and the
    accounts of Anna, Bo (evaluators), Lis (lead) and Ada (admin)."""
    for who in (ANNA, BO, LIS, ADA):
        accounts.add_user(team_store, who.name, who.role, None, email=f"{who.name}@kommune.dk")
    team_store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe"),
         Suggestion(3, N, "combined", 0.8, "nye brugere")],
        segment_ids=[s.id for s in team_store.segments(1)], model_version="m1", codebook_version=1)
    return team_store


def _shared_id(store, segment: int) -> int:
    return store.coding_views(status="all", segment_ids=[segment])[0].id


def _snapshot(store: Store) -> dict[str, list]:
    """Every row of every table (the whole database), to show nothing was written."""
    meta = MetaData()
    meta.reflect(store.engine)
    with store.engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(select(table)).all()))
                for name, table in meta.tables.items() if not name.startswith("segments_fts")}


# -- every write goes through the guard ------------------------------------------------

# a transaction, the engine handed to a writer, a commit, or an INSERT/UPDATE/DELETE built
WRITES = re.compile(r"self\.write\(|document_writer\(|\.begin\(|\(self\.engine\b|\.commit\("
                    r"|(?<![.\w])(insert|update|delete)\(")
# Methods that hand the engine to a function that only reads the database.
READ_ONLY = {"backup": "copies the database to a file", "schema_version": "reads the revision"}


def unguarded_writes(cls: type) -> list[str]:
    """Public methods of a store class that can write without the role guard: a method
    whose source opens a write (or hands the engine to a writer) must be guarded if
    public; if private, every public method calling it must be guarded."""
    methods = {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)}
    sources = {name: inspect.getsource(inspect.unwrap(m)) for name, m in methods.items()}
    writers = {name for name, src in sources.items() if WRITES.search(src.split(":", 1)[1])}
    writers.discard("write")  # the transaction itself: refuses a bound store outside a guard
    writers -= set(READ_ONLY)
    # a private writer makes its public callers writers (transitively)
    private = {n for n in writers if n.startswith("_")}
    while private:
        name = private.pop()
        for caller, src in sources.items():
            if caller not in writers and re.search(rf"\.{name}\(", src):
                writers.add(caller)
                if caller.startswith("_"):
                    private.add(caller)
    return sorted(n for n in writers if not n.startswith("_") and not is_guarded(methods[n]))


def test_every_public_write_method_of_the_store_is_guarded() -> None:
    assert unguarded_writes(Store) == []
    # the check finds a write method added without the guard
    class Careless(Store):
        def rename_everything(self) -> None:
            with self.write() as conn:
                conn.execute(text("UPDATE coders SET name = 'x'"))

        def sneak_in(self) -> None:
            with self.engine.connect() as conn:
                conn.execute(text("DELETE FROM users"))
                conn.commit()

    assert unguarded_writes(Careless) == ["rename_everything", "sneak_in"]


def test_an_unguarded_write_on_a_bound_store_is_refused(team_store) -> None:
    class Careless(Store):
        def rename_everything(self) -> None:
            with self.write() as conn:
                conn.execute(text("UPDATE documents SET name = 'x'"))

    careless = Careless(team_store.engine).as_actor(ADA)
    with pytest.raises(AccessError):
        careless.rename_everything()
    assert team_store.get_document(1).name == "bibliotek_toender.txt"


# -- roles --------------------------------------------------------------------------------

def test_a_lead_cannot_write_anything_and_nothing_is_written(suggested, tmp_path) -> None:
    suggested.add_coding([4], K, "Anna")
    before = _snapshot(suggested)
    lead = suggested.as_actor(LIS)
    shared = _shared_id(suggested, 2)
    spec = codebook.load(FIXTURES / "mini_kodebog.yaml")
    attempts = [
        lambda: lead.decide(shared, "accept", "Lis"),
        lambda: lead.decide_as("Lis", shared, "accept"),
        lambda: lead.add_coding([5], K, "Lis"),
        lambda: lead.add_as("Lis", [5], K),
        lambda: lead.code_span(1, 0, 9, K, coder="Lis"),
        lambda: lead.adjudicate(2, K, "accept", "Lis"),
        lambda: lead.mark_done(1, "Lis"),
        lambda: lead.add_memo(2, "Lis", "notat"),
        lambda: lead.add_project_memo("Lis", "notat"),
        lambda: lead.add_document_memo(1, "Lis", "notat"),
        lambda: lead.undo_last("Lis"),
        lambda: lead.assign(1, ["Lis"]),
        lambda: lead.unassign(1, "Anna"),
        lambda: lead.set_attributes(1, {"site": "Aabenraa"}, actor="Lis"),
        lambda: lead.load_codebook(spec, "mini_kodebog.yaml"),
        lambda: lead.delete_document(1, actor="Lis"),
        lambda: lead.write_suggestions([], segment_ids=[1], model_version="m2",
                                       codebook_version=1),
        lambda: lead.save_model("m2", {}, {}, b""),
        lambda: lead.discard_staged(1),
        lambda: accounts.add_user(lead, "Lis2", Role.admin, PASSWORD),
        lambda: lead.set_role("Lis", Role.admin),
    ]
    for attempt in attempts:
        with pytest.raises(AccessError) as refused:
            attempt()
        assert refused.value.kind == "role"
    with pytest.raises(AccessError), lead.document_writer():
        pass
    assert _snapshot(suggested) == before
    # reading is what a lead does
    assert lead.coding_views(status="all", document_id=1) and lead.coder_codes("Anna")


def test_a_lead_chooses_the_reports_quotes_in_their_own_name_only(suggested) -> None:
    """Pinning quotes "til rapporten" is a lead's one write (issue #15); the coding data stays
    untouched and the pin is in the lead's name, never another's."""
    suggested.add_coding([4], K, "Anna")
    shared = next(v.id for v in suggested.coding_views(status="accepted", segment_ids=[4])
                  if v.code_key == K)
    lead = suggested.as_actor(LIS)
    with pytest.raises(AccessError) as refused:
        lead.pin_quote(shared, "T1", "Anna")
    assert refused.value.kind == "impersonation" and suggested.quote_pins("T1") == []
    codings = [(v.id, v.status, v.coder) for v in suggested.coding_views(status="all")]
    pin = lead.pin_quote(shared, "T1", "Lis")
    assert (pin.coding_id, pin.coder) == (shared, "Lis")
    assert [(p.coding_id, p.coder) for p in suggested.quote_pins("T1")] == [(shared, "Lis")]
    assert [(v.id, v.status, v.coder) for v in suggested.coding_views(status="all")] == codings
    lead.unpin_quote(shared, "T1", "Lis")
    assert suggested.quote_pins("T1") == []


def test_an_evaluator_codes_but_cannot_change_the_codebook_assignments_or_delete(suggested) -> None:
    anna = suggested.as_actor(ANNA)
    before = _snapshot(suggested)
    for attempt in (lambda: anna.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "x"),
                    lambda: anna.delete_document(1, actor="Anna"),
                    lambda: anna.assign(1, ["Anna"]),
                    lambda: accounts.add_user(anna, "Eve", Role.admin, PASSWORD)):
        with pytest.raises(AccessError):
            attempt()
    assert _snapshot(suggested) == before
    version = anna.decide(_shared_id(suggested, 2), "accept", "Anna")
    assert version == 2
    admin = suggested.as_actor(ADA)
    admin.assign(1, ["Anna", "Bo"])
    assert [a.coder for a in anna.assignments(1)] == ["Anna", "Bo"]


def test_a_coder_cannot_act_as_another(suggested) -> None:
    anna = suggested.as_actor(ANNA)
    shared = _shared_id(suggested, 2)
    for attempt in (lambda: anna.decide(shared, "accept", "Bo"),
                    lambda: anna.decide_as("Bo", shared, "accept"),
                    lambda: anna.add_coding([5], K, "Bo"),
                    lambda: anna.code_span(1, 0, 9, K, coder="Bo"),
                    lambda: anna.add_project_memo("Bo", "Bo mener ..."),
                    lambda: anna.undo_last("Bo")):
        with pytest.raises(AccessError) as refused:
            attempt()
        assert refused.value.kind == "impersonation"
    with pytest.raises(AccessError) as refused:
        anna.add_coding([5], K, "Anna", layer="Bo")
    assert refused.value.kind == "layer"
    anna.decide_as("Anna", shared, "accept")
    assert [e.coder for e in suggested.history(2)] == ["Anna"]  # the account's name


def test_blind_coders_cannot_see_or_touch_each_others_layer(suggested) -> None:
    suggested.as_actor(ADA).assign(1, ["Anna", "Bo"])
    anna, bo = suggested.as_actor(ANNA), suggested.as_actor(BO)
    shared = _shared_id(suggested, 2)
    mine = bo.decide_as("Bo", shared, "accept", memo="Bo: tydelig mekanisme")
    assert mine.layer == "Bo"
    # Anna sees the machine's open suggestion, not Bo's decision or memo
    view = {v.segment_id: v for v in anna.coder_view(1, "Anna")}
    assert (view[2].status, view[2].coder, view[2].memo) == ("suggested", None, "")
    assert all(e.coder != "Bo" for e in anna.history(2))
    assert all(m.coder != "Bo" for m in anna.memos())
    for peek in (lambda: anna.coder_view(1, "Bo"), lambda: anna.coder_codes("Bo"),
                 lambda: anna.coder_ranges("Bo"), lambda: anna.reviewed_turns("Bo"),
                 lambda: anna.done_marks(1, "Bo"),
                 lambda: anna.coding_views(status="all", layer="Bo"),
                 lambda: anna.review_queue(0.5, coder="Bo"),
                 lambda: anna.reviewed_labels(layer="Bo"), lambda: anna.matrix("code", layer="Bo")):
        with pytest.raises(AccessError):
            peek()
    # nor change it, nor decide in the shared layer while blind (that goes to her own)
    with pytest.raises(AccessError):
        anna.decide(mine.coding_id, "reject", "Anna")
    with pytest.raises(AccessError):
        anna.decide(shared, "reject", "Anna")
    with pytest.raises(AccessError):
        anna.adjudicate(2, K, "reject", "Anna")
    assert anna.decide_as("Anna", shared, "reject").layer == "Anna"
    # the lead sees both layers (reliability), and each layer names its account
    lead = suggested.as_actor(LIS)
    assert lead.coder_codes("Bo") == {2: {K}} and lead.coder_codes("Anna") == {}


def test_an_evaluator_codes_only_documents_assigned_to_them(suggested) -> None:
    suggested.as_actor(ADA).assign(1, ["Bo"], blind=False)
    with pytest.raises(AccessError):
        suggested.as_actor(ANNA).decide(_shared_id(suggested, 2), "accept", "Anna")
    assert suggested.as_actor(BO).decide(_shared_id(suggested, 2), "accept", "Bo") == 2


def test_a_removed_or_changed_account_counts_at_its_next_write(suggested) -> None:
    anna = suggested.as_actor(ANNA)  # a session signed in before the admin's changes
    suggested.set_role("Anna", Role.lead)
    with pytest.raises(AccessError) as refused:
        anna.decide(_shared_id(suggested, 2), "accept", "Anna")
    assert refused.value.kind == "role"
    suggested.set_role("Anna", Role.admin)
    anna.assign(1, ["Bo"], blind=False)  # the new role counts, not the one signed in with
    suggested.remove_user("Anna")
    with pytest.raises(AccessError) as refused:
        anna.add_project_memo("Anna", "stadig her?")
    assert refused.value.kind == "account"
    with pytest.raises(AccessError):
        suggested.as_actor(Actor("Mallory", Role.admin)).assign(1, ["Mallory"])
    assert [a.coder for a in suggested.assignments(1)] == ["Bo"]


def test_the_single_user_store_is_unchecked(suggested) -> None:
    assert suggested.actor is None
    suggested.assign(1, ["Anna"])
    suggested.decide(_shared_id(suggested, 3), "accept", "whoever")


# -- passwords and sign-in ------------------------------------------------------------------

def test_passwords_are_stored_only_as_argon2_hashes(any_store) -> None:
    accounts.add_user(any_store, "Åse Ørsted", "evaluator", PASSWORD)
    dump = repr(_snapshot(any_store))
    assert PASSWORD not in dump
    assert "$argon2id$" in dump
    assert (accounts.PROFILE.type.name, accounts.PROFILE.memory_cost,
            accounts.PROFILE.time_cost) == ("ID", 65536, 3)  # what the server hashes with
    assert any_store.users()[0].has_password
    actor = accounts.authenticate(any_store, "Åse Ørsted", PASSWORD, now=T0)
    assert actor == Actor("Åse Ørsted", Role.evaluator, "local")
    with pytest.raises(ConflictError):
        accounts.add_user(any_store, "Åse Ørsted", "lead", PASSWORD)
    with pytest.raises(ValueError):
        accounts.add_user(any_store, "Kort", "lead", "kort")


def test_a_wrong_password_and_an_unknown_account_are_one_refusal(any_store, caplog) -> None:
    accounts.add_user(any_store, "Anna", "evaluator", PASSWORD)
    caplog.set_level(logging.INFO, logger="evaltool.accounts")
    errors = []
    for name, password in (("Anna", "forkert-kodeord"), ("Ukendt", PASSWORD), ("Anna", "")):
        with pytest.raises(SignInError) as exc:
            accounts.authenticate(any_store, name, password, client="10.0.0.7", now=T0)
        errors.append((exc.value.kind, str(exc.value)))
    assert len(set(errors)) == 1 and errors[0][0] == "invalid"
    assert "Anna" not in errors[0][1] and "forkert" not in errors[0][1]
    assert "forkert-kodeord" not in caplog.text and PASSWORD not in caplog.text
    assert caplog.text.count("sign-in refused") == 3 and "'Anna'" in caplog.text


def test_failures_lock_an_account_across_server_processes(any_store) -> None:
    accounts.add_user(any_store, "Anna", "evaluator", PASSWORD)
    other = open_store(any_store.engine.url.render_as_string(hide_password=False))
    try:
        for i in range(accounts.MAX_FAILURES):
            with pytest.raises(SignInError):
                accounts.authenticate(any_store, "Anna", f"gæt-nummer-{i}",
                                      now=T0 + dt.timedelta(minutes=i))
        # the other server process refuses even the right password; tries while locked
        # do not prolong the lock
        for minute in range(5, 10):
            with pytest.raises(SignInError) as exc:
                accounts.authenticate(other, "Anna", PASSWORD, now=T0 + dt.timedelta(minutes=minute))
            assert exc.value.kind == "locked"
        later = T0 + dt.timedelta(minutes=accounts.LOCK_MINUTES + 5)
        assert accounts.authenticate(other, "Anna", PASSWORD, now=later).name == "Anna"
        # a success forgets the failures
        assert other.sign_in_failures(account="Anna", since=T0 - dt.timedelta(days=1)) == 0
    finally:
        other.close()


def test_failures_from_one_client_lock_that_client(any_store) -> None:
    accounts.add_user(any_store, "Anna", "evaluator", PASSWORD)
    for i in range(accounts.MAX_CLIENT_FAILURES):
        with pytest.raises(SignInError):
            accounts.authenticate(any_store, f"navn{i}", PASSWORD, client="browser-1", now=T0)
    with pytest.raises(SignInError) as exc:
        accounts.authenticate(any_store, "Anna", PASSWORD, client="browser-1", now=T0)
    assert exc.value.kind == "locked"
    assert accounts.authenticate(any_store, "Anna", PASSWORD, client="browser-2", now=T0)


def test_a_provider_identity_signs_in_only_as_a_registered_account(any_store) -> None:
    accounts.add_user(any_store, "Bo", "lead", None, email="Bo@Kommune.dk")
    assert accounts.oidc_actor(any_store, email="bo@kommune.dk") == Actor("Bo", Role.lead, "oidc")
    with pytest.raises(SignInError):
        accounts.oidc_actor(any_store, email="mallory@example.com", name="Bo")
    with pytest.raises(SignInError):  # no password: never through the form
        accounts.authenticate(any_store, "Bo", "", now=T0)
    assert accounts.team_mode(any_store)


def test_sessions_expire_after_inactivity(monkeypatch) -> None:
    assert not accounts.session_expired(T0, T0 + dt.timedelta(minutes=29), 30)
    assert accounts.session_expired(T0, T0 + dt.timedelta(minutes=31), 30)
    monkeypatch.setenv("EVALTOOL_SESSION_IDLE_MINUTES", "5")
    assert accounts.session_expired(T0, T0 + dt.timedelta(minutes=6))


def _roles(store: Store) -> dict[str, str]:
    return {a.name: a.role.value for a in store.users()}


def test_the_last_admin_cannot_be_demoted_or_removed(any_store) -> None:
    for who in (ADA, ANNA):
        accounts.add_user(any_store, who.name, who.role, None, email=f"{who.name}@kommune.dk")
    for change in (lambda: any_store.set_role("Ada", Role.lead),
                   lambda: any_store.as_actor(ADA).set_role("Ada", Role.evaluator),
                   lambda: any_store.remove_user("Ada")):
        with pytest.raises(AccessError) as refused:
            change()
        assert refused.value.kind == "last_admin"
        assert str(refused.value) == ("'Ada' is the last admin; make another account admin "
                                      "before demoting or removing it")
    assert _roles(any_store) == {"Ada": "admin", "Anna": "evaluator"}
    any_store.set_role("Ada", Role.admin)  # staying admin is no demotion
    any_store.set_role("Anna", Role.lead)  # other accounts change as before
    any_store.set_role("Anna", Role.admin)
    any_store.set_role("Ada", Role.evaluator)  # with another admin, either may go
    with pytest.raises(AccessError, match="'Anna' is the last admin"):
        any_store.remove_user("Anna")
    any_store.remove_user("Ada")
    assert _roles(any_store) == {"Anna": "admin"}


def test_two_concurrent_demotions_leave_one_admin(any_store) -> None:
    """While one demotion of an admin is in flight (its transaction open), the demotion of
    the other waits for it and then sees that it would leave no admin."""
    from sqlalchemy import update

    from evaltool.store.models import User

    for who in (ADA, Actor("Bo", Role.admin)):
        accounts.add_user(any_store, who.name, who.role, None, email=f"{who.name}@kommune.dk")
    other = open_store(any_store.engine.url.render_as_string(hide_password=False))
    outcome: list[object] = []

    def demote_ada() -> None:
        try:
            outcome.append(other.set_role("Ada", Role.evaluator))
        except AccessError as exc:
            outcome.append(exc)

    try:
        with any_store.write() as conn:  # demoting Bo, not yet committed
            conn.execute(update(User).where(User.name == "Bo").values(role="evaluator"))
            worker = threading.Thread(target=demote_ada)
            worker.start()
            _wait_until_blocked(any_store, worker)
        worker.join(timeout=60)
    finally:
        other.close()
    assert len(outcome) == 1 and isinstance(outcome[0], AccessError), outcome
    assert outcome[0].kind == "last_admin"
    assert _roles(any_store) == {"Ada": "admin", "Bo": "evaluator"}


def _wait_until_blocked(store: Store, worker: threading.Thread) -> None:
    """Until ``worker``'s transaction waits for a lock (PostgreSQL), or a moment (SQLite,
    whose writers queue on the busy timeout)."""
    if store.is_sqlite:
        worker.join(timeout=1)
        return
    with store.engine.connect() as conn:
        for _ in range(300):
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND wait_event_type = 'Lock'")).scalar():
                return
            time.sleep(0.1)
    raise AssertionError("the second demotion never waited for the first")


# -- the CLI ----------------------------------------------------------------------------------

def test_user_commands_keep_the_password_out_of_arguments_output_and_database(runner, db_path
                                                                              ) -> None:
    from evaltool.cli import cli

    db = ["--db", str(db_path)]
    added = runner.invoke(cli, [*db, "user", "add", "Åse", "--role", "evaluator"],
                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "added Åse (evaluator)" in added.output
    piped = runner.invoke(cli, [*db, "user", "add", "Lis", "--role", "lead", "--password-stdin"],
                          input=f"{PASSWORD}\n")
    assert piped.exit_code == 0, piped.output
    provider = runner.invoke(cli, [*db, "user", "add", "Bo", "--role", "admin", "--no-password",
                                   "--email", "bo@kommune.dk"])
    assert provider.exit_code == 0, provider.output
    short = runner.invoke(cli, [*db, "user", "add", "Kim", "--role", "lead", "--password-stdin"],
                          input="kort\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    listed = runner.invoke(cli, [*db, "user", "list"])
    assert listed.exit_code == 0
    assert re.search(r"Lis\s+lead\s+password", listed.output)
    assert re.search(r"Bo\s+admin\s+bo@kommune.dk\s+provider", listed.output)
    assert "argon2" not in listed.output and PASSWORD not in added.output + piped.output
    assert runner.invoke(cli, [*db, "user", "set-role", "Lis", "admin"]).output == "Lis is now admin\n"
    assert runner.invoke(cli, [*db, "user", "remove", "Bo", "--yes"]).exit_code == 0
    last = runner.invoke(cli, [*db, "user", "set-role", "Lis", "evaluator"])
    assert last.exit_code == 1
    assert last.stderr == ("Error: 'Lis' is the last admin; make another account admin before "
                           "demoting or removing it\n")
    assert runner.invoke(cli, [*db, "user", "add", "Bo", "--role", "admin", "--no-password",
                               "--email", "bo@kommune.dk"]).exit_code == 0
    kept = runner.invoke(cli, [*db, "user", "remove", "Lis"], input="n\n")
    assert kept.exit_code == 1
    assert runner.invoke(cli, [*db, "user", "remove", "Lis", "--yes"]).exit_code == 0
    gone = runner.invoke(cli, [*db, "user", "remove", "Lis", "--yes"])
    assert gone.exit_code == 1 and "no account 'Lis'" in gone.output
    assert "accounts: 2 (team server" in runner.invoke(cli, [*db, "doctor"]).output
    store = open_store(str(db_path))
    try:
        assert [a.name for a in store.users()] == ["Bo", "Åse"]
        assert PASSWORD not in repr(_snapshot(store))
        assert accounts.authenticate(store, "Åse", PASSWORD, now=T0).role == Role.evaluator
    finally:
        store.close()


READ_CHECKS = re.compile(r"may_read_coder\(|may_read_layer\(|own_view\(")
# Reads with a coder argument that show nothing of that coder's decisions.
NOT_A_VIEW = {"assignments": "who is assigned to what", "is_blind": "whether an assignment is blind"}


def unchecked_reads(cls: type) -> list[str]:
    """Public unguarded methods that take a coder, layer or viewer but never check that a
    bound evaluator asks for their own."""
    out = []
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or is_guarded(method) or name in NOT_A_VIEW:
            continue
        params = set(inspect.signature(method).parameters)
        if params & {"coder", "layer", "visible_to"} and not READ_CHECKS.search(
                inspect.getsource(inspect.unwrap(method))):
            out.append(name)
    return sorted(out)


def test_every_read_of_a_coders_work_checks_the_reader() -> None:
    assert unchecked_reads(Store) == []

    class Careless(Store):
        def peek(self, coder: str) -> dict:
            return self.coder_codes.__wrapped__(self, coder)  # type: ignore[attr-defined]

    assert unchecked_reads(Careless) == ["peek"]
