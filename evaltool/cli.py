"""The ``evaltool`` command line: one command per verb, each calling the library.

Exit codes: 0 ok, 1 some files or records failed (or a user error), 2 usage error.
Errors are printed as one line on stderr, never with a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from evaltool import config, nlp, outfile
from evaltool.domain import Role
from evaltool.errors import EvaltoolError, NotFoundError, as_fault
from evaltool.store import Store, db, open_store
from evaltool.store.memos import MEMO_ACTIONS
from evaltool.texttable import clock, counted, table

DEFAULT_CODEBOOK = Path("codebooks/smaat_braendbart.yaml")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def user_errors(func: Callable) -> Callable:
    """Print evaltool's typed errors as one line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EvaltoolError as exc:
            _fail(str(exc))

    return wrapper


def _database(ctx: click.Context) -> str | None:
    """How error messages name the database of this command."""
    return db.label(config.db_url(ctx.find_root().ensure_object(dict).get("db")))


def as_user_error(exc: Exception, ctx: click.Context) -> EvaltoolError | None:
    """The one-line typed error for ``exc`` (None for a bug, which keeps its traceback)."""
    if isinstance(exc, EvaltoolError):
        return exc
    return as_fault(exc, _database(ctx))


def get_store(ctx: click.Context) -> Store:
    """The database named by ``--db`` or ``EVALTOOL_DB``, opened once per command."""
    obj = ctx.find_root().ensure_object(dict)
    if "store" not in obj:
        try:
            obj["store"] = open_store(obj.get("db"))
        except Exception as exc:  # mapped to a typed error or re-raised
            error = as_user_error(exc, ctx)
            if error is None or error is exc:
                raise
            raise error from None
        ctx.call_on_close(obj["store"].close)
    return obj["store"]


class Boundary(click.Group):
    """The CLI's one error boundary: a database, OS, migration or overflow error from
    any command becomes one line naming the problem and the exception class (never its
    text: SQL parameters carry whole turns), and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, mapping faults to one line."""
        try:
            return super().invoke(ctx)
        except Exception as exc:  # mapped to a typed error or re-raised
            error = as_user_error(exc, ctx)
            if error is None:
                raise
            _fail(str(error))


@click.group(cls=Boundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="EVALTOOL_DB", metavar="PATH|URL",
              help="Database file or SQLAlchemy URL (default: evaltool.db; env EVALTOOL_DB).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details (never transcript text).")
@click.version_option(package_name="evaltool")
@click.pass_context
def cli(ctx: click.Context, db: str | None, verbose: bool) -> None:
    """evaltool: code Danish focus-group transcripts for realist evaluation."""
    ctx.ensure_object(dict)["db"] = db
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.pass_context
@user_errors
def init(ctx: click.Context) -> None:
    """Create the database, or upgrade its schema to the newest version."""
    store = get_store(ctx)
    click.echo(f"database {store.url} at schema version {store.schema_version()}")


class _Progress:
    """A tqdm bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.name = None

    def __call__(self, name: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if self.bar is None or self.name != name:
            self.close()
            self.bar = tqdm(total=total, desc=name[:30], unit="turn", file=sys.stderr,
                            leave=False)
            self.name = name
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True,
              help="Import again files whose content (or name) is already stored, replacing them; "
                   "their codings go to the identical sentences of the new import.")
@click.option("--discard-decisions", is_flag=True,
              help="With --replace: replace even where human decisions cannot be carried over "
                   "(they are listed and lost).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: on when stderr is a terminal).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes that segment (one pool for all files; more than the "
                   "CPU cores does not help).")
@click.pass_context
@user_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], replace: bool, discard_decisions: bool,
           progress: bool | None, processes: int) -> None:
    """Import transcripts (.txt .md .docx .vtt .srt; files or folders)."""
    from evaltool.importer import import_paths

    store = get_store(ctx)
    bar = _Progress(sys.stderr.isatty() if progress is None else progress)

    def report(result) -> None:
        bar.close()
        if result.status == "failed":
            click.echo(f"failed: {result.message}", err=True)
        elif result.status == "skipped":
            click.echo(f"skipped: {result.message}", err=True)
        else:
            click.echo(f"imported: {result.message}")
            for c in result.carry.not_carried if result.carry else ():
                kind = "human decision" if c.human else "suggestion"
                where = (f"characters {c.span[0]}-{c.span[1]}" if c.span
                         else f"sentence {c.sent_index + 1}")
                click.echo(f"  not carried over: document {c.document_id} turn {c.turn} "
                           f"{where} {c.code_key} ({kind}, {c.status}"
                           f"{', layer ' + c.layer if c.layer else ''})")

    if discard_decisions and not replace:
        _fail("--discard-decisions only applies with --replace", 2)
    summary = import_paths(paths, store, lambda: nlp.load("segment"), replace=replace,
                           progress=bar, on_result=report, n_process=processes,
                           discard_decisions=discard_decisions)
    bar.close()
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["qdpx"]), default="qdpx", show_default=True,
              help="What the file is: a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder, "
                   "Taguette, evaltool).")
@click.option("--strict", is_flag=True,
              help="Refuse a file that deviates from the REFI-QDA schema (default: read it "
                   "leniently and list the deviations).")
@click.pass_context
@user_errors
def import_(ctx: click.Context, file: Path, fmt: str, strict: bool) -> None:
    """Import a project from another QDA tool into a new (empty) database.

    Sources become documents, codes the active codebook (codes without a CMO kind are
    marked 'unassigned'), selections accepted codings, users coders, notes memos; all in
    one transaction. Selections that cannot be placed are listed, never dropped silently.

    Example: evaltool --db nyt.sqlite import --format qdpx projekt.qdpx
    """
    from evaltool.refi.load import import_qdpx

    result = import_qdpx(get_store(ctx), file, nlp.load("segment"), strict=strict)
    for line in result.notes:
        click.echo(f"note: {line}", err=True)
    for line in result.not_placed:
        click.echo(f"not placed: {line}", err=True)
    click.echo(f"imported {file}: {counted(result.documents, 'document')}, "
               f"{counted(result.codes, 'code')}, {counted(result.codings, 'coding')} from "
               f"{counted(result.selections, 'coded selection')}, "
               f"{counted(result.coders, 'coder')}, {counted(result.memos, 'memo')}; "
               f"{len(result.not_placed)} not placed")


@cli.command("list")
@click.pass_context
@user_errors
def list_(ctx: click.Context) -> None:
    """List documents with site, speakers, turns and segments."""
    docs = get_store(ctx).list_documents()
    if not docs:
        click.echo("no documents (import some with `evaltool ingest PATH`)")
        return
    rows = [[d.id, d.name, d.site or "", d.date or "", d.speakers, d.turns, d.segments]
            for d in docs]
    click.echo(table(rows, ["id", "document", "site", "date", "speakers", "turns", "segments"]))


@cli.command()
@click.argument("doc")
@click.option("--coder", required=True, help="Who deletes (recorded in the history).")
@click.pass_context
@user_errors
def delete(ctx: click.Context, doc: str, coder: str) -> None:
    """Delete a document with its turns, segments and codings, in one transaction.

    Example: evaltool delete 3 --coder Anna
    """
    store = get_store(ctx)
    d = store.delete_document(store.get_document(doc).id, actor=coder)
    click.echo(f"deleted document {d.document_id} ({d.document}): {counted(d.turns, 'turn')}, "
               f"{counted(d.segments, 'segment')}, {counted(d.codings, 'coding')}, of which "
               f"{counted(d.human_decisions, 'human decision')}"
               f"{', ' + counted(d.memos, 'memo') if d.memos else ''}; recorded in the "
               f"history by {coder}")


@cli.command()
@click.argument("doc")
@click.option("--turn", "turn", type=int, help="Show only this turn (1-based).")
@click.option("--segments", is_flag=True, help="List each turn's sentence segments with offsets.")
@click.pass_context
@user_errors
def show(ctx: click.Context, doc: str, turn: int | None, segments: bool) -> None:
    """Show a document's turns (DOC is an id or a file name)."""
    store = get_store(ctx)
    info = store.get_document(doc)
    turns = store.turns(info.id, turn)
    if turn is not None and not turns:
        _fail(f"document {info.id} has no turn {turn} (it has {info.turns})")
    groups = ", ".join(info.target_groups)
    click.echo(f"# {info.id} {info.name} — {info.site or '?'} {info.date or ''} {groups}".rstrip())
    segs_by_turn: dict[int, list] = {}
    if segments or turn is not None:
        for s in store.segments(info.id, turn):
            segs_by_turn.setdefault(s.turn, []).append(s)
    for t in turns:
        role = f" ({t.role})" if t.role else ""
        stamp = f"[{clock(t.start_time)}] " if t.start_time is not None else ""
        click.echo(f"{t.number:>4} {stamp}{t.speaker}{role}: {t.text}")
        for s in segs_by_turn.get(t.number, []):
            click.echo(f"       {s.sent_index} [{s.start_char}:{s.end_char}] {s.text}")


def attribute_options(func: Callable) -> Callable:
    """``--target-group`` and ``--where`` (attribute filters), shared by export, matrix and
    search."""
    func = click.option("--where", "where", multiple=True, metavar="[speaker:]KEY=VALUE",
                        help="Only quotes whose document (or speaker:) has this attribute "
                             "value (repeatable, all must hold).")(func)
    return click.option("--target-group", help="Only quotes of this target group (the "
                        "speaker's, else the document's).")(func)


def _scope(store: Store, target_group: str | None, where: tuple[str, ...]) -> Any:
    """The attribute filters as a scope (None when there are none)."""
    from evaltool import attributes

    if not target_group and not where:
        return None
    return attributes.scope(store, target_group=target_group,
                            filters=[attributes.parse_filter(w) for w in where])


@cli.command()
@click.argument("doc")
@click.option("--speaker", help="A speaker of the document (by name) instead of the document.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Set an attribute (repeatable); target_group(s) take a comma-separated list.")
@click.option("--unset", "unset", multiple=True, metavar="KEY",
              help="Remove an attribute (repeatable).")
@click.option("--coder", help="Who changes them (recorded in the history).")
@click.pass_context
@user_errors
def attributes(ctx: click.Context, doc: str, speaker: str | None, assignments: tuple[str, ...],
               unset: tuple[str, ...], coder: str | None) -> None:
    """List or change the attributes of a document or of one of its speakers.

    Without --set/--unset it lists the document's attributes and its speakers'. A
    quote's target group is its speaker's target_group when set, else the document's
    target_groups.

    Example: evaltool attributes 3 --speaker Karen --set target_group=Senioren --set gender=kvinde
    """
    from evaltool.attributes import display, parse_assignment

    store = get_store(ctx)
    info = store.get_document(doc)
    if assignments or unset:
        values = dict(parse_assignment(a) for a in assignments)
        after = store.set_attributes(info.id, values, unset=unset, speaker=speaker, actor=coder)
        click.echo(f"updated {'speaker ' + speaker if speaker else 'document'} of document "
                   f"{info.id}: {len(values)} set, {len(unset)} unset")
        for key, value in after.items():
            click.echo(f"  {key}: {display(value)}")
        return
    if speaker is None:
        click.echo(f"document {info.id} ({info.name})")
        for key, value in store.attributes(info.id).items():
            click.echo(f"  {key}: {display(value)}")
    for s in store.speaker_facets(info.id):
        if speaker is None or s.name == speaker:
            click.echo(f"speaker {s.name}" + (" (moderator)" if s.is_moderator else ""))
            for key, value in sorted(s.attributes.items()):
                click.echo(f"  {key}: {display(value)}")
    if speaker is not None:
        store.attributes(info.id, speaker)  # NotFoundError for a speaker who is not there


KWIC_SHOWN = 40  # characters of context printed on each side of a search hit


@cli.command()
@click.argument("query")
@click.option("--lemma", is_flag=True,
              help="Match base forms too: samskabe finds samskabte, samskabelsen.")
@click.option("--document", "documents", multiple=True,
              help="Only this document (id or file name; repeatable).")
@click.option("--site", help="Only documents of this site.")
@click.option("--role", help="Only turns of speakers with this role (e.g. frivillig).")
@click.option("--code", help="Only sentences coded with this code id.")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["suggested", "accepted", "rejected"]),
              help="Only sentences with a coding (of --code) in this status (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many hits.")
@attribute_options
@click.pass_context
@user_errors
def search(ctx: click.Context, query: str, lemma: bool, documents: tuple[str, ...],
           site: str | None, role: str | None, code: str | None, statuses: tuple[str, ...],
           limit: int, target_group: str | None, where: tuple[str, ...]) -> None:
    """Find sentences in all transcripts; print each hit as keyword in context.

    QUERY: words (all must occur), "a phrase", word* (prefix), a OR b, -word (exclude).

    Example: evaltool search samskabe --lemma --target-group Unge --where site=Aars
    """
    store = get_store(ctx)
    ids = [store.get_document(d).id for d in documents]
    hits = store.search(query, lemma=lemma, documents=ids, site=site, role=role, code=code,
                        status=statuses, scope=_scope(store, target_group, where), limit=limit)
    for h in hits:
        left = h.left.replace("\n", " ")[-KWIC_SHOWN:]
        right = h.right.replace("\n", " ")[:KWIC_SHOWN]
        click.echo(f"{h.document}:{h.turn} [{h.segment_id}] {left:>{KWIC_SHOWN}}[{h.match}]{right}")
    more = " (limit reached; --limit shows more)" if len(hits) == limit else ""
    click.echo(f"{counted(len(hits), 'hit')}{more}", err=True)


@cli.command()
@click.option("--rows", type=click.Choice(["code"]), default="code", show_default=True,
              help="What the rows are (codes).")
@click.option("--cols", required=True,
              metavar="code|site|role|document|target_group|attr:KEY|speaker:KEY",
              help="What the columns are: codes (co-occurrence) or a case (attr: a document "
                   "attribute, speaker: a speaker attribute; target_group by the quote rule).")
@click.option("--unit", type=click.Choice(["segment", "turn"]), default="segment",
              show_default=True, help="Count sentences or turns.")
@click.option("--window", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --cols code --unit turn: codes within N turns count as together.")
@click.option("--normalize", type=click.Choice(["jaccard"]),
              help="Shared units over the units of either, instead of counts.")
@click.option("--status", "statuses", multiple=True, default=("accepted",), show_default=True,
              type=click.Choice(["suggested", "accepted", "rejected"]),
              help="Codings in these statuses (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the matrix as CSV here.")
@attribute_options
@click.pass_context
@user_errors
def matrix(ctx: click.Context, rows: str, cols: str, unit: str, window: int,
           normalize: str | None, statuses: tuple[str, ...], out: Path | None,
           target_group: str | None, where: tuple[str, ...]) -> None:
    """Codes against codes (co-occurrence) or cases (site, role, document, attribute).

    Example: evaltool matrix --rows code --cols site --normalize jaccard --out m.csv
    """
    from evaltool import analysis

    store = get_store(ctx)
    scope = _scope(store, target_group, where)
    if scope is not None and not scope.documents:
        _fail("no quotes match --target-group/--where")
    m = store.matrix(cols, unit=unit, window=window, statuses=statuses,
                     documents=scope.documents if scope else (),
                     speakers=scope.speakers if scope else None)
    frame = analysis.matrix_frame(m, normalize)
    if out is not None:
        from evaltool import export

        export.write(frame.reset_index(), out)
        click.echo(f"{counted(len(frame), 'row')} × {counted(len(frame.columns), 'column')} "
                   f"written to {out}")
        return
    values = [[key, *(("" if v != v else (f"{v:.3f}" if normalize else int(v))) for v in row)]
              for key, row in zip(frame.index, frame.itertuples(index=False), strict=True)]
    click.echo(table(values, ["code", *map(str, frame.columns)]))


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check spaCy, the Danish model, the database and the wheelhouse."""
    import spacy

    problems = 0
    click.echo(f"spaCy {spacy.__version__}")
    name = nlp.model_name()
    try:
        meta = nlp.info(name)
        exclude, _ = nlp.plan("segment", meta.components)
        used = [c for c in meta.components if c not in exclude]
        click.echo(f"model {meta.name} {meta.version} (spaCy {meta.spacy_version}); "
                   f"components: {', '.join(meta.components)}")
        click.echo(f"segmentation uses: {', '.join(used)}")
        if name != config.PREFERRED_MODEL:
            click.echo(f"note: {config.PREFERRED_MODEL} is not installed; using the stand-in "
                       f"{name} (install {config.PREFERRED_MODEL} and it is used automatically)")
    except EvaltoolError as exc:
        problems += 1
        click.echo(f"model: {exc}")
    wheelhouse = config.wheelhouse()
    wheel = nlp.find_wheel(wheelhouse)
    click.echo(f"wheelhouse {wheelhouse}: " + (f"found {wheel.name}" if wheel else
               "no model wheel (`evaltool model install` will use spaCy's downloader)"))
    try:
        store = get_store(ctx)
        from evaltool.store.db import head_revision

        click.echo(f"database {store.url}: schema {store.schema_version()} "
                   f"(newest {head_revision()}), "
                   f"{counted(len(store.list_documents()), 'document')}")
        n = len(store.users())
        click.echo(f"accounts: {n} (team server: the app asks everyone to sign in)" if n else
                   "accounts: none (single user: the app needs no sign-in)")
    except Exception as exc:  # mapped to a typed error or re-raised
        error = as_user_error(exc, ctx)
        if error is None:
            raise
        problems += 1
        click.echo(f"database: {error}")
    click.echo("ok" if not problems else f"{problems} problem(s); see above")
    if problems:
        sys.exit(1)


@cli.group()
def model() -> None:
    """Manage the Danish spaCy model."""


@model.command("install")
@user_errors
def model_install() -> None:
    """Install a Danish model (local wheelhouse first, else spaCy's downloader)."""
    click.echo(nlp.install())


@cli.group()
def codebook() -> None:
    """Validate, show, load, export and edit codebooks."""


@codebook.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def codebook_validate(file: Path) -> None:
    """Check a codebook file (schema, references, patterns)."""
    from evaltool import codebook as cb

    spec = cb.load(file)
    click.echo(f"{file}: ok — {spec.id} v{spec.version}, {counted(len(spec.codes), 'code')}, "
               f"{counted(len(spec.themes), 'theme')}, {counted(len(spec.goals), 'goal')}")


@codebook.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--seed", "seed", type=click.Path(path_type=Path),
              help="Seed training data (default: <name>.seed.jsonl beside the codebook, if any).")
@click.option("--no-seed", is_flag=True, help="Load no seed training data.")
@click.pass_context
@user_errors
def codebook_load(ctx: click.Context, file: Path, seed: Path | None, no_seed: bool) -> None:
    """Load a codebook into the database and make it active (codings of kept code ids stay).

    A .qdc file (REFI-QDA codebook from NVivo, ATLAS.ti, MAXQDA, QualCoder, Taguette) is
    read as such: its codes without a CMO kind are marked 'unassigned'.
    """
    from evaltool.codebook import load_codebook_file

    if file.suffix.lower() == ".qdc":  # a REFI-QDA codebook from another tool
        from evaltool.refi.load import load_qdc

        r, warnings = load_qdc(get_store(ctx), file)
        for line in warnings:
            click.echo(f"note: {line}", err=True)
        click.echo(f"loaded {r.key} v{r.version} from {file}: {counted(r.added, 'code')} "
                   f"added, {r.updated} updated, {r.retired} retired")
        return
    r = load_codebook_file(get_store(ctx), file, seed=False if no_seed else (seed or True))
    seeded = len(get_store(ctx).codebook_seed())
    click.echo(f"loaded {r.key} v{r.version}: {counted(r.added, 'code')} added, "
               f"{r.updated} updated, {r.retired} retired; "
               f"{counted(r.kept_codings, 'existing coding')} kept; "
               f"{counted(seeded, 'seed turn')} for training")


@codebook.command("show")
@click.option("--file", "file", type=click.Path(path_type=Path),
              help="Show a codebook file instead of the active one.")
@click.pass_context
@user_errors
def codebook_show(ctx: click.Context, file: Path | None) -> None:
    """Show the active codebook's codes grouped by change-theory column."""
    from evaltool import codebook as cb

    spec = (cb.load(file) if file is not None
            else cb.from_content(get_store(ctx).active_codebook()["content"]))
    click.echo(f"{spec.title} ({spec.id} v{spec.version})")
    for theme in spec.themes:
        click.echo(f"  {theme.id} {theme.label} (mål: {', '.join(theme.goals)})")
    tree = cb.hierarchy(spec)  # sub-codes indented under their parent
    for column in spec.columns:
        codes = [(c, depth) for c, depth in tree if c.column == column]
        click.echo(f"\n{column}")
        for c, depth in codes:
            name = "  " * depth + c.id
            click.echo(f"  {name:<34} {c.cmo:<9} {'|'.join(c.themes):<6} "
                       f"{'|'.join(c.goals):<8} {c.label}")


@codebook.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["yaml", "qdc"]), default="yaml",
              show_default=True,
              help="yaml: evaltool's own codebook file; qdc: REFI-QDA codebook for other tools.")
@click.pass_context
@user_errors
def codebook_export(ctx: click.Context, file: Path, fmt: str) -> None:
    """Write the active codebook (with edits made in the app) as YAML that `codebook load` reads,
    or as a REFI-QDA codebook (.qdc).

    Example: evaltool codebook export kodebog.yaml

    Example: evaltool codebook export --format qdc kodebog.qdc
    """
    from evaltool.codebook import export_codebook

    if fmt == "qdc":
        from evaltool.refi.write import write_codebook

        spec = write_codebook(get_store(ctx), file)
    else:
        spec = export_codebook(get_store(ctx), file)
    click.echo(f"wrote {file}: {spec.id} v{spec.version}, {counted(len(spec.codes), 'code')}")


def _change_line(change) -> str:
    """One line saying what a codebook edit did."""
    return f"codebook v{change.version}: " + {
        "merge": f"merged {change.code} into {change.into} "
                 f"({counted(change.moved, 'coding')} moved, "
                 f"{change.combined} combined with one already there"
                 + (f"; sub-codes {', '.join(change.children)} now under {change.into}"
                    if change.children else "") + f"); {change.code} retired",
        "retire": f"retired {change.code} (its codings are kept)",
        "parent": f"{change.code} has a new parent",
    }.get(change.action, f"{change.action} {change.code}")


@codebook.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--coder", help="Who merges (recorded in the history).")
@click.pass_context
@user_errors
def codebook_merge(ctx: click.Context, source: str, target: str, coder: str | None) -> None:
    """Merge code SOURCE into TARGET: its codings move to TARGET and SOURCE is retired.

    Example: evaltool codebook merge mek_kaffe mek_samvaer --coder Lea
    """
    from evaltool.codebook import merge_codes

    click.echo(_change_line(merge_codes(get_store(ctx), source, target, coder=coder)))


@codebook.command("retire")
@click.argument("code")
@click.option("--coder", help="Who retires the code (recorded in the history).")
@click.pass_context
@user_errors
def codebook_retire(ctx: click.Context, code: str, coder: str | None) -> None:
    """Retire a code: no new suggestions, not exported; its codings are kept."""
    from evaltool.codebook import retire_code

    click.echo(_change_line(retire_code(get_store(ctx), code, coder=coder)))


@codebook.command("set-parent")
@click.argument("code")
@click.argument("parent", required=False)
@click.option("--coder", help="Who changes the hierarchy (recorded in the history).")
@click.pass_context
@user_errors
def codebook_set_parent(ctx: click.Context, code: str, parent: str | None,
                        coder: str | None) -> None:
    """Put CODE under PARENT in the code hierarchy (no PARENT: a top-level code).

    Example: evaltool codebook set-parent udf_invitationer udf_nye_brugere
    """
    from evaltool.codebook import set_parent

    change = set_parent(get_store(ctx), code, parent, coder=coder)
    where = f"under {parent}" if parent else "at the top level"
    click.echo(f"codebook v{change.version}: {code} is now {where}")


@cli.group()
def gold() -> None:
    """Gold codings (reference codings as CSV files)."""


@gold.command("seed")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Seed file to write (e.g. codebooks/<codebook>.seed.jsonl).")
@click.pass_context
@user_errors
def gold_seed(ctx: click.Context, folder: Path, out: Path) -> None:
    """Write gold-coded transcripts as seed training data for a codebook."""
    from evaltool.gold import write_seed

    n = write_seed(get_store(ctx), folder, out)
    click.echo(f"{counted(n, 'coded turn')} written to {out}")


@gold.command("load")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--coder", default="guld", show_default=True, help="Coder name to record.")
@click.option("--document", "documents", multiple=True,
              help="Only these documents (id or file name); default all with a gold file.")
@click.pass_context
@user_errors
def gold_load(ctx: click.Context, folder: Path, coder: str, documents: tuple[str, ...]) -> None:
    """Store gold codings as accepted codings (source 'gold')."""
    from evaltool.gold import load_gold

    n = load_gold(get_store(ctx), folder, coder=coder, documents=list(documents) or None)
    click.echo(f"{counted(n, 'gold coding')} stored as accepted (coder {coder})")


@cli.command()
@click.option("--document", "document", help="Only this document (id or file name).")
@click.option("--retrain", is_flag=True, help="Train the model on the newest decisions first.")
@click.option("--order", type=click.Choice(["uncertainty", "document"]),
              help="Then list open suggestions in this order (uncertainty: most useful first).")
@click.option("--limit", type=int, default=20, show_default=True, help="Rows listed by --order.")
@click.option("--progress", is_flag=True,
              help="Print 'autocode: document N/TOTAL committed' on stderr after each document.")
@click.option("--codebook", "codebook_file", type=click.Path(path_type=Path),
              default=DEFAULT_CODEBOOK, show_default=True,
              help="Codebook loaded first when the database has none yet.")
@click.pass_context
@user_errors
def autocode(ctx: click.Context, document: str | None, retrain: bool, order: str | None,
             limit: int, progress: bool, codebook_file: Path) -> None:
    """Suggest codes (rules + model); never overwrites human decisions."""
    from evaltool.autocode import run
    from evaltool.codebook import load_codebook_file
    from evaltool.errors import NotFoundError

    def report_progress(done: int, total: int) -> None:
        click.echo(f"autocode: document {done}/{total} committed", err=True)

    store = get_store(ctx)
    try:
        store.active_codebook()
    except NotFoundError:
        if not codebook_file.is_file():
            raise
        loaded = load_codebook_file(store, codebook_file)
        click.echo(f"no codebook loaded yet: loaded {codebook_file} ({loaded.key} "
                   f"v{loaded.version}, {counted(loaded.added, 'code')})", err=True)
    doc_id = store.get_document(document).id if document else None
    report = run.run(store, lambda: nlp.load("segment"), document_id=doc_id, retrain=retrain,
                     progress=report_progress if progress else None)
    click.echo(report.line())
    if order:
        queue = run.review_queue(store, order=order, document_id=doc_id, limit=limit)
        rows = [[q.coding_id, q.document, q.turn, q.segment_id, q.code_key,
                 f"{q.confidence:.2f}", f"{q.uncertainty:.2f}"] for q in queue]
        click.echo(table(rows, ["coding", "document", "turn", "segment", "code", "confidence",
                                "uncertainty"]))


@cli.command()
@click.pass_context
@user_errors
def train(ctx: click.Context) -> None:
    """Train the suggestion model on accepted codings and the codebook's examples."""
    from evaltool.autocode import run

    coder = run.train(get_store(ctx), nlp.load("segment"))
    n = coder.model.n_train if coder.model else 0
    click.echo(f"trained model {coder.version} on {counted(n, 'example')}")


@cli.command()
@click.option("--gold", "gold_dir", required=True, type=click.Path(path_type=Path),
              help="Folder of gold CSV files named after the transcripts.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write all metrics as JSON.")
@click.option("--threshold", type=float, default=None,
              help="Fix the suggestion threshold (default: chosen in each fold on its training "
                   "sites alone).")
@click.option("--dev", "dev_path", type=click.Path(path_type=Path),
              help="Also score a hand-coded development set of quotes (CSV, see corpus/dev/).")
@click.pass_context
@user_errors
def evaluate(ctx: click.Context, gold_dir: Path, json_path: Path | None,
             threshold: float | None, dev_path: Path | None) -> None:
    """Leave-one-site-out evaluation against gold codings, cold start and with the seed."""
    import json

    from evaltool import evaluate as ev
    from evaltool.codebook import active_spec

    store = get_store(ctx)
    spec, _ = active_spec(store)
    report = ev.evaluate(store, gold_dir, spec, nlp.load("segment"), seed=store.codebook_seed(),
                         threshold=threshold)
    click.echo(ev.format_table(report))
    cuts = ", ".join(f"{f['site']} {f['threshold']}" for f in report.folds)
    click.echo(f"({counted(len(report.folds), 'fold')}, leave-one-site-out; thresholds {cuts}; "
               f"seed: {counted(len(store.codebook_seed()), 'turn')}, each fold without its own "
               "site's)")
    if dev_path is not None:
        rows = ev.read_dev(dev_path, {c.id for c in spec.codes})
        dev = ev.dev_agreement(spec, store.codebook_seed(), rows, nlp.load("segment"))
        report.extra["dev_set"] = {"file": str(dev_path), **dev}
        click.echo(ev.format_dev(dev))
    if json_path:
        outfile.write_text(json_path, json.dumps(report.as_dict(), indent=2,
                                                 ensure_ascii=False))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "qdpx", "docx", "html"]),
              default="csv", show_default=True,
              help="csv/xlsx: one row per coded quote; qdpx: the whole project as REFI-QDA "
                   "(NVivo, ATLAS.ti, MAXQDA, QualCoder); docx/html: every document with its "
                   "codes inline (Word comments / bracketed labels).")
@click.option("--status", type=click.Choice(["accepted", "suggested", "rejected", "all"]),
              default="accepted", show_default=True)
@click.option("--theme", help="Only codes of this theme (e.g. T1).")
@click.option("--site", help="Only documents of this site.")
@click.option("--code", help="Only this code id.")
@click.option("--unit", type=click.Choice(["segment", "turn"]), default="segment",
              show_default=True, help="One row per segment coding or per turn and code.")
@click.option("--dialect", type=click.Choice(["excel-da"]),
              help="excel-da: ';'-separated UTF-8 with BOM and decimal comma for Danish Excel.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output file.")
@click.option("--pseudonymize", is_flag=True,
              help="Replace names with pseudonyms in the file (the database is not changed).")
@attribute_options
@click.pass_context
@user_errors
def export(ctx: click.Context, fmt: str, status: str, theme: str | None, site: str | None,
           code: str | None, unit: str, dialect: str | None, out: Path,
           pseudonymize: bool, target_group: str | None, where: tuple[str, ...]) -> None:
    """Export coded quotes to CSV or XLSX, or the whole project as REFI-QDA (.qdpx).

    Example: evaltool export --out frivillige.csv --where speaker:role=frivillig

    Example: evaltool export --format qdpx --out projekt.qdpx --pseudonymize
    """
    from evaltool import export as ex
    from evaltool import pseudonymize as ps

    store = get_store(ctx)
    if fmt in ("qdpx", "docx", "html"):
        filters = {"--theme": theme, "--site": site, "--code": code, "--dialect": dialect,
                   "--target-group": target_group, "--where": where,
                   "--unit": unit if unit != "segment" else None}
        given = [name for name, value in filters.items() if value]
        if given:
            _fail(f"{given[0]} does not apply to --format {fmt} (it exports every document)")
        views = ((lambda doc_id: ps.PseudonymizedView(store, doc_id, lambda: nlp.load("ner")))
                 if pseudonymize else None)
        if fmt == "qdpx":
            from evaltool.refi import write as refi

            s = refi.write_project(store, out, status=status, pseudonymizer=views)
            click.echo(f"{out}: {counted(s.documents, 'document')}, "
                       f"{counted(s.codings, 'coding')}, {counted(s.codes, 'code')}, "
                       f"{counted(s.memos, 'memo')}, {counted(s.users, 'coder')} "
                       "(REFI-QDA project)")
        else:
            from evaltool.coded_documents import write_coded_documents

            n = write_coded_documents(store, out, fmt, status=status, pseudonymizer=views)
            click.echo(f"{out}: every document with its {counted(n, 'coding')} inline")
        return
    scope = _scope(store, target_group, where)
    hook = ps.export_hook(store, lambda: nlp.load("ner")) if pseudonymize else None
    n = ex.export_file(store, out, fmt=fmt, dialect=dialect, status=status, theme=theme,
                       site=site, code=code, unit=unit, scope=scope, pseudonyms=hook)
    click.echo(f"{counted(n, 'row')} written to {out}")


@cli.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output file.")
@click.option("--format", "fmt", type=click.Choice(["docx", "md"]), default="docx",
              show_default=True, help="A Word document or Markdown.")
@click.option("--theme", "themes", multiple=True,
              help="Only this theme's chapter (repeatable; default every theme).")
@click.option("--site", help="Only documents of this site.")
@click.option("--target-group", help="Only quotes of this target group (the speaker's, else "
                                     "the document's): counts, quotes and chains.")
@click.option("--status", type=click.Choice(["accepted", "suggested", "all"]), default="accepted",
              show_default=True,
              help="Which codings count and are quoted (all: accepted and suggested).")
@click.option("--quotes", type=click.IntRange(0, 50), default=3, show_default=True,
              help="Strongest quotes per site and theme, after the pinned ones.")
@click.option("--pseudonymize", is_flag=True,
              help="Replace names with pseudonyms in the report (the database is not changed).")
@click.pass_context
@user_errors
def report(ctx: click.Context, out: Path, fmt: str, themes: tuple[str, ...], site: str | None,
           target_group: str | None, status: str, quotes: int, pseudonymize: bool) -> None:
    """Write the evaluation report: a chapter per theme, goal coverage and method.

    Example: evaltool report --out rapport.docx --theme T1 --pseudonymize
    """
    from evaltool import pseudonymize as ps
    from evaltool import report as rp

    store = get_store(ctx)
    statuses = ("accepted", "suggested") if status == "all" else (status,)
    hook = ((lambda doc_id: ps.PseudonymizedView(store, doc_id, lambda: nlp.load("ner")))
            if pseudonymize else None)
    r = rp.build_report(store, themes=themes or None, site=site, statuses=statuses,
                        quotes_per_site=quotes, pseudonymizer=hook, target_group=target_group)
    rp.write_report(r, out, fmt)
    click.echo(f"report with {counted(len(r.chapters), 'theme chapter')} written to {out}")


@cli.command()
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["coding", "segment", "document", "project"]),
              help="Only memos of this kind (repeatable; default: every kind).")
@click.option("--document", help="Only memos on this document (id or file name).")
@click.option("--coder", help="Only memos written by this coder.")
@click.option("--code", help="Only coding memos of this code id.")
@click.option("--contains", help="Only memos whose text contains this (case-insensitive).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--dialect", type=click.Choice(["excel-da"]),
              help="excel-da: ';'-separated UTF-8 with BOM for Danish Excel.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Write the memos (with their text) to this file.")
@click.option("--pseudonymize", is_flag=True,
              help="Replace names with pseudonyms in the file (the database is not changed).")
@click.pass_context
@user_errors
def memos(ctx: click.Context, kinds: tuple[str, ...], document: str | None, coder: str | None,
          code: str | None, contains: str | None, fmt: str, dialect: str | None,
          out: Path | None, pseudonymize: bool) -> None:
    """List memos of every kind, or export them (with their text) to CSV or XLSX.

    Without --out, one line per memo: kind, id, document, turn, code, coder, time (the
    text only goes to a file). Example: evaltool memos --kind project --out memoer.xlsx
    --format xlsx
    """
    from evaltool import export as ex

    store = get_store(ctx)
    filters = {"kinds": kinds or None, "coder": coder, "code_key": code, "contains": contains,
               "document_id": store.get_document(document).id if document else None}
    if out is None:
        if pseudonymize or dialect:
            _fail("--pseudonymize and --dialect apply to a file: give --out FILE")
        rows = [[m.kind, m.id, m.document or "", m.turn, m.code_key or "", m.coder or "",
                 ex.memo_time(m.at)] for m in store.memos(**filters)]
        click.echo(table(rows, ["kind", "id", "document", "turn", "code", "coder", "time (UTC)"])
                   if rows else "no memos")
        return
    from evaltool import pseudonymize as ps

    hook = ps.export_hook(store, lambda: nlp.load("ner")) if pseudonymize else None
    n = ex.export_memos(store, out, fmt=fmt, dialect=dialect, pseudonyms=hook, **filters)
    click.echo(f"{counted(n, 'memo')} written to {out}")


@cli.command()
@click.argument("text")
@click.option("--coder", required=True, help="Who writes the memo.")
@click.option("--document", help="A memo on this document (id or file name); "
              "without it, a memo on the whole project.")
@click.pass_context
@user_errors
def memo(ctx: click.Context, text: str, coder: str, document: str | None) -> None:
    """Write a memo on a document or on the whole project.

    Example: evaltool memo "Kaffen går igen som mekanisme" --coder Åse --document 3
    """
    store = get_store(ctx)
    if document:
        doc = store.get_document(document)
        memo_id = store.add_document_memo(doc.id, coder, text)
        click.echo(f"memo {memo_id} on {doc.name} by {coder}")
    else:
        memo_id = store.add_project_memo(coder, text)
        click.echo(f"memo {memo_id} on the project by {coder}")


@cli.command()
@click.argument("doc")
@click.option("--coder", "coders", multiple=True, required=True, help="Coder name (repeatable).")
@click.option("--open", "open_", is_flag=True,
              help="Open assignment: decisions go to the shared layer (default: blind).")
@click.option("--remove", is_flag=True, help="Remove these coders' assignments instead.")
@click.pass_context
@user_errors
def assign(ctx: click.Context, doc: str, coders: tuple[str, ...], open_: bool, remove: bool) -> None:
    """Assign a document to coders; blind by default (each codes in their own layer)."""
    store = get_store(ctx)
    document = store.get_document(doc)
    if remove:
        for name in coders:
            gone = store.unassign(document.id, name)
            click.echo(f"{document.name}: {name} {'unassigned' if gone else 'was not assigned'}")
        return
    for a in store.assign(document.id, list(coders), blind=not open_):
        if a.coder in coders:
            click.echo(f"{a.document}: {a.coder} ({'blind' if a.blind else 'open'})")


@cli.group()
def user() -> None:
    """Sign-in accounts of a team server (local passwords or the organisation's provider)."""


ROLES = click.Choice([r.value for r in Role])
PASSWORD_ENV = "EVALTOOL_PASSWORD"


def password_options(func: Callable) -> Callable:
    """Where a new password comes from: a hidden prompt, stdin, or EVALTOOL_PASSWORD."""
    func = click.option("--password-stdin", is_flag=True,
                        help="Read the password from the first line of standard input.")(func)
    return click.option("--no-password", is_flag=True,
                        help="No password: the account signs in only through the provider "
                             "(needs --email).")(func)


def _new_password(name: str, password_stdin: bool, no_password: bool) -> str | None:
    """The password for ``name``: never an argument, so it stays out of shell history."""
    if no_password:
        return None
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, required=True, help="evaluator codes, lead reads, admin manages.")
@click.option("--email", help="E-mail address the OpenID Connect provider signs the account in with.")
@password_options
@click.pass_context
@user_errors
def user_add(ctx: click.Context, name: str, role: str, email: str | None, password_stdin: bool,
             no_password: bool) -> None:
    """Add an account; the password is asked for (hidden, twice) and stored as an argon2 hash.

    Example: evaltool user add Åse --role evaluator
    """
    from evaltool import accounts

    try:
        account = accounts.add_user(get_store(ctx), name, role,
                                    _new_password(name, password_stdin, no_password), email=email)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"added {account.name} ({account.role.value})")


@user.command("list")
@click.pass_context
@user_errors
def user_list(ctx: click.Context) -> None:
    """List the accounts: name, role, e-mail, how they sign in (never a password)."""
    rows = [(a.name, a.role.value, a.email or "",
             "password" if a.has_password else "provider") for a in get_store(ctx).users()]
    click.echo(table(rows, ["name", "role", "email", "sign-in"]) if rows else "no accounts")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLES)
@click.pass_context
@user_errors
def user_set_role(ctx: click.Context, name: str, role: str) -> None:
    """Change an account's role (effective at its next page load)."""
    account = get_store(ctx).set_role(name, Role(role))
    click.echo(f"{account.name} is now {account.role.value}")


@user.command("password")
@click.argument("name")
@password_options
@click.pass_context
@user_errors
def user_password(ctx: click.Context, name: str, password_stdin: bool, no_password: bool) -> None:
    """Set a new password for an account (asked for hidden, twice)."""
    from evaltool import accounts

    store = get_store(ctx)
    if store.user(name) is None:
        raise NotFoundError(f"no account {name!r} (see `evaltool user list`)")
    try:
        accounts.set_password(store, name, _new_password(name, password_stdin, no_password))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"password of {name} changed")


@user.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@user_errors
def user_remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove an account (its decisions keep its name in the history)."""
    store = get_store(ctx)
    if store.user(name) is None:
        raise NotFoundError(f"no account {name!r} (see `evaltool user list`)")
    if not yes:
        click.confirm(f"Remove the account {name}?", abort=True)
    store.remove_user(name)
    click.echo(f"removed {name}")


@cli.command()
@click.option("--document", "document", help="Only this document (id or file name).")
@click.option("--coder", help="Only this coder.")
@click.pass_context
@user_errors
def assignments(ctx: click.Context, document: str | None, coder: str | None) -> None:
    """List which documents are assigned to which coders, blind or open."""
    store = get_store(ctx)
    doc_id = store.get_document(document).id if document else None
    rows = [[a.document_id, a.document, a.coder, "blind" if a.blind else "open"]
            for a in store.assignments(doc_id, coder)]
    click.echo(table(rows, ["id", "document", "coder", "mode"]) if rows else "no assignments")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _sparse_warning(sparse: tuple[str, ...], unit: str, a: tuple[str, int], b: tuple[str, int],
                    compared: int) -> str:
    """The warning line for coders who reviewed too few units (see reliability.sparse_coders)."""
    from evaltool import reliability as rel

    return (f"warning: {' and '.join(sparse)} reviewed too few {unit}s for these figures to "
            f"mean much (reviewed: {a[0]} {a[1]}, {b[0]} {b[1]}; compared: {compared}; wanted: "
            f"at least {rel.MIN_REVIEWED} and at least {rel.MIN_SHARE:.0%} of the other "
            "coder's)")


@cli.command()
@click.option("--coders", nargs=2, required=True, metavar="A B", help="The two coders to compare.")
@click.option("--unit", type=click.Choice(["segment", "turn"]), default="segment",
              show_default=True, help="Unit of comparison.")
@click.option("--document", "document", help="Only this document (id or file name).")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write the figures as JSON to this file.")
@click.pass_context
@user_errors
def reliability(ctx: click.Context, coders: tuple[str, str], unit: str, document: str | None,
                json_path: Path | None) -> None:
    """Percent agreement, Cohen's kappa (per code and overall) and Krippendorff's alpha."""
    import json

    from evaltool import reliability as rel

    store = get_store(ctx)
    doc_id = store.get_document(document).id if document else None
    report = rel.reliability(store, *coders, unit=unit, document_id=doc_id)
    rows = [[c.code, c.n_a, c.n_b, c.both, f"{c.agreement:.3f}", _fmt(c.kappa)]
            for c in report.per_code]
    if rows:
        click.echo(table(rows, ["code", coders[0], coders[1], "both", "agreement", "kappa"]))
        click.echo("")
    click.echo(f"{counted(report.units, unit)} in {counted(len(report.documents), 'document')}: "
               f"agreement {_fmt(report.agreement)}, kappa {_fmt(report.kappa)}, "
               f"alpha {_fmt(report.alpha)}")
    click.echo(f"({report.note})")
    if report.span_codings:  # spans coded: how exactly the coded characters agree
        click.echo("")
        click.echo(table([[o.code, o.chars_a, o.chars_b, o.chars_both, _fmt(o.overlap)]
                          for o in report.overlap],
                         ["code", f"{coders[0]} chars", f"{coders[1]} chars", "both",
                          "overlap"]))
        click.echo(f"character overlap {_fmt(report.char_overlap)} ({report.span_codings} span "
                   "codings; characters both coded / characters either coded, per code)")
    if report.sparse:
        click.echo(_sparse_warning(report.sparse, unit, (coders[0], report.reviewed_a),
                                   (coders[1], report.reviewed_b), report.units))
    if json_path:
        outfile.write_text(json_path, json.dumps(report.to_dict(), indent=2,
                                                 ensure_ascii=False))


@cli.command()
@click.option("--coders", nargs=2, required=True, metavar="A B", help="The two coders to compare.")
@click.option("--unit", type=click.Choice(["segment", "turn"]), default="segment",
              show_default=True, help="Unit of comparison.")
@click.option("--document", "document", help="Only this document (id or file name).")
@click.pass_context
@user_errors
def disagreements(ctx: click.Context, coders: tuple[str, str], unit: str,
                  document: str | None) -> None:
    """List units where two coders disagree, side by side, for adjudication."""
    from evaltool import reliability as rel

    store = get_store(ctx)
    doc_id = store.get_document(document).id if document else None
    compared = rel.compare(store, *coders, unit=unit, document_id=doc_id)
    found = compared.disagreements

    def short(text: str) -> str:
        return text if len(text) <= 60 else text[:59] + "…"

    if unit == "turn":  # one row per turn: its number, both coders' codes, how many sentences
        rows = [[u.document, u.turn, len(u.segment_ids), " ".join(u.codes_a) or "-",
                 " ".join(u.codes_b) or "-", short(u.text)] for u in found]
        header = ["document", "turn", "sentences", coders[0], coders[1], "text"]
    else:
        rows = [[u.document, u.turn, ",".join(map(str, u.segment_ids)),
                 " ".join(u.codes_a) or "-", " ".join(u.codes_b) or "-", short(u.text)]
                for u in found]
        header = ["document", "turn", "segments", coders[0], coders[1], "text"]
    click.echo(table(rows, header) if rows else "no disagreements")
    if compared.sparse:
        click.echo(_sparse_warning(compared.sparse, unit, (coders[0], compared.reviewed_a),
                                   (coders[1], compared.reviewed_b), len(compared.units)))


@cli.command()
@click.option("--segment", "segment_id", type=int, required=True, help="Segment id.")
@click.option("--code", "code_key", required=True, help="Code id.")
@click.option("--accept/--reject", "accept", required=True, help="The adjudicated decision.")
@click.option("--coder", required=True, help="The adjudicator (a third person).")
@click.option("--memo", default="", help="Why.")
@click.pass_context
@user_errors
def adjudicate(ctx: click.Context, segment_id: int, code_key: str, accept: bool, coder: str,
               memo: str) -> None:
    """Record an adjudicated decision in the shared coding (source 'adjudicated')."""
    d = get_store(ctx).adjudicate(segment_id, code_key, "accept" if accept else "reject", coder,
                                  memo=memo)
    click.echo(f"coding {d.coding_id}: {'accepted' if accept else 'rejected'} by {coder} "
               f"(adjudicated, version {d.version})")


@cli.command()
@click.option("--coding", "coding_id", type=int,
              help="Coding id (from `autocode --order`, an export or `history`).")
@click.option("--segment", "segment_id", type=int, help="Segment id, for a memo on the segment.")
@click.option("--accept", "action", flag_value="accept", help="Accept the suggestion.")
@click.option("--reject", "action", flag_value="reject", help="Reject the suggestion.")
@click.option("--recode", "recode", metavar="CODE", help="Replace the code with this code id.")
@click.option("--memo", default=None, help="A memo (alone, or with the decision).")
@click.option("--coder", required=True, help="Who decides.")
@click.option("--expected-version", type=int,
              help="The version you saw; refuse if somebody changed the coding since.")
@click.pass_context
@user_errors
def decide(ctx: click.Context, coding_id: int | None, segment_id: int | None, action: str | None,
           recode: str | None, memo: str | None, coder: str,
           expected_version: int | None) -> None:
    """Accept, reject, recode or memo a coding (or memo a segment) as a named coder.

    Example: evaltool decide --coding 12 --accept --coder ana --expected-version 1
    """
    from evaltool.errors import ConflictError

    if (coding_id is None) == (segment_id is None):
        _fail("give exactly one of --coding and --segment")
    if segment_id is not None:
        if action or recode or memo is None or expected_version is not None:
            _fail("--segment takes only --memo (decisions are made on a coding)")
        memo_id = get_store(ctx).add_memo(segment_id, coder, memo)
        click.echo(f"memo {memo_id} on segment {segment_id} by {coder}")
        return
    if action and recode:
        _fail("give one of --accept, --reject and --recode")
    verb = "recode" if recode else (action or ("memo" if memo is not None else None))
    if verb is None:
        _fail("give --accept, --reject, --recode CODE or --memo TEXT")
    store = get_store(ctx)
    try:
        d = store.decide_as(coder, coding_id, verb, expected_version=expected_version,
                            code_key=recode, memo=memo)
    except ConflictError:
        now = store.coding_state(coding_id)
        state = f"now {now[0]}, version {now[1]}" if now else "it was deleted"
        _fail(f"coding {coding_id} was changed since version {expected_version} ({state}); "
              "look at it again and retry")
    done = {"accept": "accepted", "reject": "rejected", "recode": f"recoded to {recode}",
            "memo": "memo saved"}[verb]
    layer = f", layer {d.layer}" if d.layer else ""
    click.echo(f"coding {d.coding_id}: {done} by {coder} (version {d.version}{layer})")


@cli.command("code-span")
@click.argument("doc")
@click.option("--start", type=int, required=True,
              help="First character (document offset, as `show --segments` prints them).")
@click.option("--end", type=int, required=True, help="Character after the last one.")
@click.option("--code", "code_key", required=True, help="Code id.")
@click.option("--coder", required=True, help="Who codes (their own layer if assigned blind).")
@click.option("--memo", default="", help="A memo on the coding.")
@click.pass_context
@user_errors
def code_span(ctx: click.Context, doc: str, start: int, end: int, code_key: str, coder: str,
              memo: str) -> None:
    """Code any words of one turn: characters START to END of a document (document offsets).

    Example: evaltool code-span 02_morsoe.md --start 1204 --end 1237 --code mek_kaffe --coder ana
    """
    store = get_store(ctx)
    v = store.code_span(store.get_document(doc).id, start, end, code_key, coder=coder, memo=memo)
    layer = f", layer {v.layer}" if v.layer else ""
    click.echo(f"coding {v.id}: {v.code_key} on characters {v.start}-{v.end} of {v.document} "
               f"(turn {v.turn}, segment {v.segment_id}) by {coder}{layer}")


@cli.command()
@click.argument("coding_id", type=int)
@click.option("--theme", required=True, help="The theme whose report quotes it joins (e.g. T1).")
@click.option("--coder", required=True, help="Who pins it (recorded with the pin and in the history).")
@click.option("--unpin", is_flag=True, help="Take the coding out of the theme's report quotes.")
@click.pass_context
@user_errors
def pin(ctx: click.Context, coding_id: int, theme: str, coder: str, unpin: bool) -> None:
    """Pin a coded quote "til rapporten" under a theme (its chapter shows it first).

    Example: evaltool pin 12 --theme T1 --coder lene
    """
    store = get_store(ctx)
    if unpin:
        store.unpin_quote(coding_id, theme, coder)
        click.echo(f"coding {coding_id} unpinned from {theme} by {coder}")
        return
    p = store.pin_quote(coding_id, theme, coder)
    click.echo(f"coding {p.coding_id} pinned to {p.theme} by {p.coder}")


@cli.command()
@click.option("--done", "doc", required=True, metavar="DOC",
              help="The document (id or file name) reviewed.")
@click.option("--turn", type=int, help="Only this turn (1-based); default the whole document.")
@click.option("--undone", is_flag=True, help="Remove the mark instead.")
@click.option("--coder", required=True, help="Who reviewed it.")
@click.pass_context
@user_errors
def review(ctx: click.Context, doc: str, turn: int | None, undone: bool, coder: str) -> None:
    """Mark a turn or a whole document as reviewed: its uncoded text teaches the model.

    Example: evaltool review --done 02_morsoe.md --turn 14 --coder ana
    """
    store = get_store(ctx)
    document = store.get_document(doc)
    changed = store.mark_done(document.id, coder, turn=turn, done=not undone)
    what = f"{document.name} turn {turn}" if turn is not None else document.name
    state = "not done" if undone else "done"
    click.echo(f"{what}: {state}" + ("" if changed else " (already)"))


def _change(entry) -> str:
    """before → after of an event, in a few words (a memo's write: which memo, not its text)."""
    if entry.action in MEMO_ACTIONS:
        memo = entry.after or entry.before or {}
        return f"{memo.get('kind')} memo {memo.get('memo_id')} {MEMO_DONE[entry.action]}"

    def word(state: dict | None) -> str:
        return "-" if state is None else f"{state.get('status')}/{state.get('source')}"
    return f"{word(entry.before)} -> {word(entry.after)}"


def _document_change(entry) -> str:
    """What a document deletion or re-import removed or carried, in a few words."""
    if entry.action == "delete_document":
        b = entry.before or {}
        return (f"deleted document {b.get('document_id')} ({b.get('document')}): "
                f"{counted(b.get('turns'), 'turn')}, {counted(b.get('segments'), 'segment')}, "
                f"{counted(b.get('codings'), 'coding')}, of which "
                f"{counted(b.get('human_decisions'), 'human decision')}")
    old = ", ".join(f"{d.get('document_id')} ({d.get('document')})"
                    for d in (entry.before or {}).get("documents", []))
    a = entry.after or {}
    return (f"replaced document {old} by {a.get('document_id')}: "
            f"{counted(a.get('carried'), 'coding')} carried over ({a.get('carried_human')} human), "
            f"{a.get('not_carried')} not carried "
            f"({a.get('human_lost')} human)")


MEMO_DONE = {"memo_add": "written", "memo_edit": "edited", "memo_delete": "deleted"}


@cli.command()
@click.option("--segment", "segment_id", type=int, help="Segment id.")
@click.option("--documents", is_flag=True,
              help="Instead: documents deleted or replaced by a re-import (who, when, counts).")
@click.pass_context
@user_errors
def history(ctx: click.Context, segment_id: int | None, documents: bool) -> None:
    """Show the history of a segment's codings: who, when, what, before and after."""
    if documents:
        entries = get_store(ctx).document_history()
        rows = [[e.id, e.at.strftime("%Y-%m-%d %H:%M:%S"), e.coder or "-",
                 _document_change(e)] for e in entries]
        click.echo(table(rows, ["event", "at (UTC)", "coder", "what"]) if rows
                   else "no document was deleted or replaced")
        return
    if segment_id is None:
        _fail("give --segment ID or --documents", 2)
    entries = get_store(ctx).history(segment_id)
    rows = [[e.id, e.at.strftime("%Y-%m-%d %H:%M:%S"), e.coder or "-", e.action,
             e.code_key or "-", e.layer or "shared", _change(e),
             f"undoes {e.undoes}" if e.undoes else (f"undone by {e.undone_by}" if e.undone_by
                                                     else ""), _span(e)] for e in entries]
    click.echo(table(rows, ["event", "at (UTC)", "coder", "action", "code", "layer", "change",
                            "note", "span"]) if rows else f"no history for segment {segment_id}")


def _span(entry) -> str:
    """A span coding's offsets and words (cut at 40 characters); '' for a whole sentence."""
    if entry.start_char is None:
        return ""
    quote = entry.quote or ""
    quote = quote if len(quote) <= 40 else quote[:39] + "…"
    return f"{entry.start_char}-{entry.end_char} \"{quote}\"".replace("\n", " ")


@cli.command()
@click.option("--coder", required=True, help="Whose decisions to undo.")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many of the newest decisions.")
@click.pass_context
@user_errors
def undo(ctx: click.Context, coder: str, count: int) -> None:
    """Undo a coder's last decisions (each undo is itself recorded in the history)."""
    for e in get_store(ctx).undo_last(coder, count):
        click.echo(f"undid event {e.undoes} on coding {e.coding_id} (segment {e.segment_id}, "
                   f"{e.code_key}): {_change(e)}")


@cli.command()
@click.argument("doc")
@click.option("--reverse", is_flag=True,
              help="Restore the original names from the mapping table, and drop the mapping.")
@click.pass_context
@user_errors
def pseudonymize(ctx: click.Context, doc: str, reverse: bool) -> None:
    """Replace names in a document with pseudonyms (Moderator, Deltager 1, Person 1)."""
    from evaltool import pseudonymize as ps

    store = get_store(ctx)
    doc_id = store.get_document(doc).id
    report = ps.restore(store, doc_id) if reverse else ps.pseudonymize(
        store, doc_id, lambda: nlp.load("ner"))
    click.echo(report.line())


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
@user_errors
def backup(ctx: click.Context, file: Path) -> None:
    """Copy the live SQLite database to FILE, consistently, while others keep working."""
    store = get_store(ctx)
    store.backup(file)
    click.echo(f"backed up {store.url} (schema {store.schema_version()}) to {file}")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
@user_errors
def restore(ctx: click.Context, file: Path) -> None:
    """Replace the database with the backup FILE (the old one is kept as .before-restore)."""
    r = get_store(ctx).restore(file)
    upgraded = f", upgraded to schema {r.upgraded_to}" if r.upgraded_to else ""
    click.echo(f"restored {file} (schema {r.revision}{upgraded}); the database as it was "
               f"before is kept in {r.kept}")


@cli.command()
@click.option("--corpus", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=Path("corpus"), show_default=True, help="Folder of demo transcripts.")
@click.option("--codebook", "codebook_file", type=click.Path(path_type=Path),
              default=Path("codebooks/smaat_braendbart.yaml"), show_default=True)
@click.option("--gold-documents", type=int, default=3, show_default=True,
              help="How many transcripts get their gold codings as accepted codings; the "
                   "others are left with suggestions to review.")
@click.pass_context
@user_errors
def demo(ctx: click.Context, corpus: Path, codebook_file: Path, gold_documents: int) -> None:
    """Build the demo database: import corpus/, load the codebook and gold codings, autocode."""
    from evaltool.autocode import run
    from evaltool.codebook import load_codebook_file
    from evaltool.errors import StaleCodebookError
    from evaltool.gold import load_gold
    from evaltool.importer import import_paths

    store = get_store(ctx)
    summary = import_paths([corpus], store, lambda: nlp.load("segment"))
    for r in summary.results:
        if r.status == "failed":
            click.echo(f"failed: {r.message}", err=True)
    if summary.failed:
        sys.exit(1)
    # no seed: the seed is made from this very corpus, and the demo's suggestions on
    # the two transcripts without accepted codings must not be trained on their gold
    edited = False
    try:
        load_codebook_file(store, codebook_file, seed=False)
    except StaleCodebookError:  # edited in the app since the last run: keep the edits
        edited = True
        click.echo(f"codebook kept: version {store.active_codebook()['version']} is newer "
                   f"than {codebook_file}")
    docs = store.list_documents()[:gold_documents]
    n = 0
    if not (edited and summary.count("imported") == 0):  # gold may name codes merged since
        n = load_gold(store, corpus / "gold", coder="guld", documents=[d.id for d in docs])
    report = run.run(store, lambda: nlp.load("segment"), retrain=summary.count("imported") > 0)
    click.echo(f"demo: {summary.line()}; {counted(n, 'gold coding')}; {report.line()}")
    click.echo(f"database {store.url}")


def _terminate(signum: int, _frame: Any) -> None:
    """SIGTERM/SIGHUP end the command like Ctrl-C does: ``finally`` blocks run, so a
    half-written export's temporary files are removed and transactions roll back."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    cli(obj={})


if __name__ == "__main__":
    main()
