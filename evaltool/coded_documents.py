"""Each document with its codes inline, for a partner without any QDA tool (as Taguette does).

Word (``.docx``): one heading per document, one paragraph per turn (speaker in bold, the
turn's paragraphs as line breaks), coded words highlighted and each coding a Word comment
in the margin (the code's label, its coder as the comment's author, its memo under the
label). HTML: the same layout, coded words in ``<mark>`` followed by the code labels in
brackets (``[Kaffe og uformelt samvær]``); every text is escaped. Codings of the shared
layer with the given status; with a pseudonymiser, names are replaced in texts, labels and
memos and the marks are moved into the pseudonymised text. Files are written whole or
not at all (:mod:`evaltool.outfile`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from evaltool import outfile
from evaltool.domain import PARAGRAPH_SEP
from evaltool.export import clean
from evaltool.pseudonymize import document_view

Format = Literal["docx", "html"]


@dataclass(frozen=True)
class Mark:
    """One coding on a document: where (document offsets), the code, who, and the memo."""

    start: int
    end: int
    label: str
    coder: str
    memo: str


@dataclass(frozen=True)
class Run:
    """A piece of a turn's text and the indices of the marks covering it (``ends``: the
    marks that end with this piece)."""

    text: str
    marks: tuple[int, ...]
    ends: tuple[int, ...] = ()


@dataclass
class Turn:
    """A turn as shown: its label and its text cut into runs."""

    speaker: str
    role: str | None
    runs: list[Run]


@dataclass
class CodedDocument:
    """A document with its turns and its marks."""

    name: str
    turns: list[Turn] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


def runs(text: str, start: int, marks: list[Mark]) -> list[Run]:
    """Cut a turn's text (starting at document offset ``start``) at every mark boundary."""
    end = start + len(text)
    spans = [(i, max(m.start, start), min(m.end, end)) for i, m in enumerate(marks)]
    spans = [(i, a, b) for i, a, b in spans if a < b]
    cuts = sorted({start, end, *(a for _, a, _ in spans), *(b for _, _, b in spans)})
    out = []
    for a, b in pairwise(cuts):
        covering = tuple(i for i, x, y in spans if x <= a and b <= y)
        ending = tuple(i for i, _, y in spans if y == b and i in covering)
        out.append(Run(text[a - start:b - start], covering, ending))
    return out


def coded_documents(store, *, status: str = "accepted",
                    pseudonymizer: Callable[[int], Any] | None = None) -> list[CodedDocument]:
    """Every ready document with its turns and the codings of ``status`` (``all``: any)."""
    out = []
    for info in store.document_facets():
        view = document_view(store, info.id, pseudonymizer)
        doc = CodedDocument(info.name)
        for c in store.coding_views(status=None if status == "all" else status,
                                    document_id=info.id):
            start, end = view.cut(c.start_char, c.end_char)
            memo = view.rewrite(c.memo) if c.memo else c.memo
            doc.marks.append(Mark(start, end, c.code_label, c.coder or "", memo or ""))
        for t in store.turns(info.id):
            start, end = view.cut(t.start_char, t.end_char)
            doc.turns.append(Turn(view.label(t.speaker), view.label(t.role),
                                  runs(view.text[start:end], start, doc.marks)))
        out.append(doc)
    return out


# -- HTML ------------------------------------------------------------------------------

_CSS = ("body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "mark{background:#fff3a8}.kode{color:#6a3d9a;font-size:.85em;font-weight:bold}"
        ".taler{font-weight:bold}")


def _esc(value: str) -> str:
    return html.escape(clean(value), quote=True)


def to_html(docs: list[CodedDocument], title: str = "Kodede dokumenter") -> str:
    """The documents as one HTML page, codes in brackets after the words they code."""
    parts = ["<!DOCTYPE html>", '<html lang="da"><head><meta charset="utf-8">',
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>"]
    for doc in docs:
        parts.append(f"<h2>{_esc(doc.name)}</h2>")
        for turn in doc.turns:
            who = turn.speaker + (f" ({turn.role})" if turn.role else "")
            body = []
            for run in turn.runs:
                piece = _esc(run.text).replace(PARAGRAPH_SEP, "<br>")
                body.append(f"<mark>{piece}</mark>" if run.marks else piece)
                for i in run.ends:
                    body.append(f' <span class="kode">[{_esc(doc.marks[i].label)}]</span>')
            parts.append(f'<p><span class="taler">{_esc(who)}:</span> {"".join(body)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- Word ------------------------------------------------------------------------------


def _docx(docs: list[CodedDocument], out: Path, title: str) -> None:
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX

    document = Document()
    document.add_heading(clean(title), level=0)
    for doc in docs:
        document.add_heading(clean(doc.name), level=1)
        for turn in doc.turns:
            paragraph = document.add_paragraph()
            who = turn.speaker + (f" ({turn.role})" if turn.role else "")
            paragraph.add_run(clean(who) + ": ").bold = True
            first: dict[int, Any] = {}
            for run in turn.runs:
                pieces = run.text.split(PARAGRAPH_SEP)
                made = []
                for j, piece in enumerate(pieces):
                    if j:  # the turn's next paragraph: a line break in the same paragraph
                        paragraph.add_run().add_break()
                    r = paragraph.add_run(clean(piece))
                    if run.marks:
                        r.font.highlight_color = WD_COLOR_INDEX.YELLOW
                    made.append(r)
                for i in run.marks:
                    first.setdefault(i, made[0])
                for i in run.ends:
                    mark = doc.marks[i]
                    text = clean(mark.label + (f"\n{mark.memo}" if mark.memo else ""))
                    document.add_comment([first[i], made[-1]], text=text,
                                         author=clean(mark.coder) or "evaltool",
                                         initials=clean(mark.coder)[:2] or "ET")
    document.save(str(out))


def write_coded_documents(store, out: str | Path, fmt: Format = "docx", *,
                          status: str = "accepted",
                          pseudonymizer: Callable[[int], Any] | None = None) -> int:
    """Write every document with its codes inline as ``docx`` or ``html``; return the
    number of codings shown."""
    docs = coded_documents(store, status=status, pseudonymizer=pseudonymizer)
    title = "Kodede dokumenter"
    with outfile.replacing(out) as tmp:
        if fmt == "html":
            tmp.write_text(to_html(docs, title), encoding="utf-8")
        else:
            _docx(docs, tmp, title)
    return sum(len(d.marks) for d in docs)
