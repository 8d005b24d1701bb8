"""The ``evaltool`` command line: one command per verb, each calling the library.

Exit codes: 0 ok, 1 some files or records failed (or a user error), 2 usage error.
Errors are printed as one line on stderr, never with a traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from evaltool import config, nlp
from evaltool.errors import EvaltoolError
from evaltool.store import Store, open_store


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


def get_store(ctx: click.Context) -> Store:
    """The database named by ``--db`` or ``EVALTOOL_DB``, opened once per command."""
    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        obj["store"] = open_store(obj.get("db"))
        ctx.call_on_close(obj["store"].close)
    return obj["store"]


def format_time(seconds: float | None) -> str:
    """hh:mm:ss for a timestamp in seconds ('' when unknown)."""
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """A plain text table with left-aligned columns."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
              help="Import again files whose content (or name) is already stored, replacing them.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: on when stderr is a terminal).")
@click.pass_context
@user_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], replace: bool,
           progress: bool | None) -> None:
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

    summary = import_paths(paths, store, lambda: nlp.load("segment"), replace=replace,
                           progress=bar, on_result=report)
    bar.close()
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


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
        stamp = f"[{format_time(t.start_time)}] " if t.start_time is not None else ""
        click.echo(f"{t.number:>4} {stamp}{t.speaker}{role}: {t.text}")
        for s in segs_by_turn.get(t.number, []):
            click.echo(f"       {s.sent_index} [{s.start_char}:{s.end_char}] {s.text}")


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
                   f"(newest {head_revision()}), {len(store.list_documents())} documents")
    except EvaltoolError as exc:
        problems += 1
        click.echo(f"database: {exc}")
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
    """Validate, show and load codebooks."""


@codebook.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@user_errors
def codebook_validate(file: Path) -> None:
    """Check a codebook file (schema, references, patterns)."""
    from evaltool import codebook as cb

    spec = cb.load(file)
    click.echo(f"{file}: ok — {spec.id} v{spec.version}, {len(spec.codes)} codes, "
               f"{len(spec.themes)} themes, {len(spec.goals)} goals")


@codebook.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
@user_errors
def codebook_load(ctx: click.Context, file: Path) -> None:
    """Load a codebook into the database and make it active (codings of kept code ids stay)."""
    from evaltool import codebook as cb

    spec = cb.load(file)
    r = get_store(ctx).load_codebook(spec, file.name)
    click.echo(f"loaded {r.key} v{r.version}: {r.added} codes added, {r.updated} updated, "
               f"{r.retired} retired; {r.kept_codings} existing codings kept")


@codebook.command("show")
@click.option("--file", "file", type=click.Path(path_type=Path),
              help="Show a codebook file instead of the active one.")
@click.pass_context
@user_errors
def codebook_show(ctx: click.Context, file: Path | None) -> None:
    """Show the active codebook's codes grouped by change-theory column."""
    from evaltool import codebook as cb

    if file is not None:
        spec = cb.load(file)
    else:
        spec = cb.CodebookSpec.model_validate(get_store(ctx).active_codebook()["content"])
    click.echo(f"{spec.title} ({spec.id} v{spec.version})")
    for theme in spec.themes:
        click.echo(f"  {theme.id} {theme.label} (mål: {', '.join(theme.goals)})")
    for column in spec.columns:
        codes = [c for c in spec.codes if c.column == column]
        click.echo(f"\n{column}")
        for c in codes:
            click.echo(f"  {c.id:<34} {c.cmo:<9} {'|'.join(c.themes):<6} "
                       f"{'|'.join(c.goals):<8} {c.label}")


@cli.group()
def gold() -> None:
    """Gold codings (reference codings as CSV files)."""


@gold.command("load")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--coder", default="guld", show_default=True, help="Coder name to record.")
@click.option("--document", "documents", multiple=True,
              help="Only these documents (id or file name); default all with a gold file.")
@click.pass_context
@user_errors
def gold_load(ctx: click.Context, folder: Path, coder: str, documents: tuple[str, ...]) -> None:
    """Store gold codings as accepted codings (source 'gold')."""
    from evaltool.autocode.run import load_gold

    n = load_gold(get_store(ctx), folder, coder=coder, documents=list(documents) or None)
    click.echo(f"{n} gold codings stored as accepted (coder {coder})")


@cli.command()
@click.option("--document", "document", help="Only this document (id or file name).")
@click.option("--retrain", is_flag=True, help="Train the model on the newest decisions first.")
@click.option("--order", type=click.Choice(["uncertainty", "document"]),
              help="Then list open suggestions in this order (uncertainty: most useful first).")
@click.option("--limit", type=int, default=20, show_default=True, help="Rows listed by --order.")
@click.pass_context
@user_errors
def autocode(ctx: click.Context, document: str | None, retrain: bool, order: str | None,
             limit: int) -> None:
    """Suggest codes (rules + model); never overwrites human decisions."""
    from evaltool.autocode import run

    store = get_store(ctx)
    doc_id = store.get_document(document).id if document else None
    report = run.run(store, lambda: nlp.load("segment"), document_id=doc_id, retrain=retrain)
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
    click.echo(f"trained model {coder.version} on {n} examples")


@cli.command()
@click.option("--gold", "gold_dir", required=True, type=click.Path(path_type=Path),
              help="Folder of gold CSV files named after the transcripts.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Also write all metrics as JSON.")
@click.option("--threshold", type=float, default=None, help="Suggestion threshold (default 0.5).")
@click.pass_context
@user_errors
def evaluate(ctx: click.Context, gold_dir: Path, json_path: Path | None,
             threshold: float | None) -> None:
    """Leave-one-site-out evaluation against gold codings."""
    import json

    from evaltool import autocode as ac
    from evaltool import evaluate as ev
    from evaltool.autocode.run import active_spec

    store = get_store(ctx)
    spec, _ = active_spec(store)
    report = ev.evaluate(store, gold_dir, spec, nlp.load("segment"),
                         threshold=ac.THRESHOLD if threshold is None else threshold)
    click.echo(ev.format_table(report))
    click.echo(f"({len(report.folds)} folds, leave-one-site-out; threshold {report.threshold})")
    if json_path:
        json_path.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False),
                             encoding="utf-8")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
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
@click.pass_context
@user_errors
def export(ctx: click.Context, fmt: str, status: str, theme: str | None, site: str | None,
           code: str | None, unit: str, dialect: str | None, out: Path) -> None:
    """Export coded quotes to CSV or XLSX."""
    from evaltool import export as ex

    frame = ex.build_frame(get_store(ctx), status=status, theme=theme, site=site, code=code,
                           unit=unit)
    n = ex.write(frame, out, fmt, dialect)
    click.echo(f"{n} rows written to {out}")


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
    from evaltool import codebook as cb
    from evaltool.autocode import run
    from evaltool.importer import import_paths

    store = get_store(ctx)
    summary = import_paths([corpus], store, lambda: nlp.load("segment"))
    for r in summary.results:
        if r.status == "failed":
            click.echo(f"failed: {r.message}", err=True)
    if summary.failed:
        sys.exit(1)
    store.load_codebook(cb.load(codebook_file), codebook_file.name)
    docs = store.list_documents()[:gold_documents]
    n = run.load_gold(store, corpus / "gold", coder="guld", documents=[d.id for d in docs])
    report = run.run(store, lambda: nlp.load("segment"), retrain=summary.count("imported") > 0)
    click.echo(f"demo: {summary.line()}; {n} gold codings; {report.line()}")
    click.echo(f"database {store.url}")


def main() -> None:
    """Console-script entry point."""
    cli(obj={})


if __name__ == "__main__":
    main()
