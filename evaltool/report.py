"""The evaluation report: one chapter per theme, as a Word document or as Markdown.

:func:`build_report` gathers what the report says from the store (the counts are the
dashboard's, from :func:`evaltool.analysis.dashboard`); :func:`render_docx` and
:func:`render_markdown` lay the same content out; :func:`write_report` writes the file
whole or not at all (:mod:`evaltool.outfile`). A chapter has the theme's counts, a
section per site whose quotes are whole speaker turns (the quotes pinned "til rapporten"
first, then the strongest), and the theme's CMO chains. Headings and numbers are Danish.
With a pseudonymiser every quote, speaker and role is cut from the pseudonymised text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltool import analysis, outfile
from evaltool.domain import CMO, CMO_KINDS, CodingView, quote_target_groups
from evaltool.errors import NotFoundError
from evaltool.formats import count, date, number, percent

FORMATS = ("docx", "md")
CHAINS_SHOWN = 10  # a chapter's table shows the chains with the most quotes; the rest are counted
MIN_TURN_CHARS = 40  # a shorter turn is a fragment that carries no meaning alone (unless pinned)
STATUS_LABELS = {"accepted": "accepterede", "suggested": "foreslåede", "rejected": "afviste"}


@dataclass(frozen=True)
class ReportQuote:
    """A quote as the report shows it: the whole speaker turn, the coded words marked."""

    coding_id: int
    document: str
    turn: int
    speaker: str
    role: str | None
    target_groups: tuple[str, ...]
    text: str
    marks: tuple[tuple[int, int], ...]  # coded words, offsets into ``text``
    codes: tuple[str, ...]  # labels of the theme's codes on the turn
    pinned: bool = False
    document_id: int = 0
    coding_ids: tuple[int, ...] = ()  # every coding of the theme on the turn (pins, unpins)


@dataclass(frozen=True)
class SiteSection:
    """One site's part of a theme chapter."""

    site: str
    quotes: int  # the dashboard's count of the theme's quotes at the site
    shown: list[ReportQuote]


@dataclass(frozen=True)
class Chain:
    """A context–mechanism–outcome chain of a theme at a site."""

    site: str
    context: str
    mechanism: str
    outcome: str
    quotes: int


@dataclass(frozen=True)
class ThemeChapter:
    """One theme: its counts, its sites' sections and its CMO chains."""

    key: str
    label: str
    description: str
    goals: list[str]
    quotes: int
    sites: list[str]
    target_groups: list[str]
    cmo: dict[str, int]
    sections: list[SiteSection]
    chains: list[Chain]
    by_target_group: dict[str, int] = field(default_factory=dict)  # quotes per target group


@dataclass(frozen=True)
class GoalRow:
    """A goal's coverage: its quotes and the share of sites that speak to it."""

    key: str
    label: str
    quotes: int
    sites: int
    coverage: float


@dataclass(frozen=True)
class Report:
    """Everything the report document says."""

    title: str
    made: dt.date
    statuses: tuple[str, ...]
    site: str | None
    chapters: list[ThemeChapter]
    goals: list[GoalRow]
    documents: list[tuple[str, str | None, str | None, int, int]]  # name, site, date, turns, sentences
    coders: list[str]
    codebook: tuple[str, str, int]  # key, title, version
    pseudonymized: bool = False
    all_sites: list[str] = field(default_factory=list)
    # coders assigned the same documents: (coder A, coder B, units, agreement, kappa, alpha)
    reliability: list[tuple[str, str, int, float | None, float | None, float | None]] = \
        field(default_factory=list)


class _Texts:
    """Turns and speakers of the report's documents, pseudonymised when asked."""

    def __init__(self, store, pseudonymizer: Callable[[int], Any] | None) -> None:
        self.store = store
        self.pseudonymizer = pseudonymizer
        self._turns: dict[int, dict[int, Any]] = {}
        self._views: dict[int, Any] = {}
        docs = {d.id: d for d in store.document_facets()}
        self.groups = {(s.document_id, s.name): tuple(quote_target_groups(
            s.attributes, docs[s.document_id].attributes if s.document_id in docs else {}))
            for s in store.speaker_facets()}

    def group_counts(self, views: Sequence[CodingView]) -> dict[str, int]:
        """Distinct quoted sentences per target group (a quote's is its speaker's, else its
        document's), largest first."""
        segments: dict[str, set[int]] = {}
        for v in views:
            for g in self.groups.get((v.document_id, v.speaker), ()):
                segments.setdefault(g, set()).add(v.segment_id)
        return dict(sorted(((g, len(s)) for g, s in segments.items()),
                           key=lambda item: (-item[1], item[0])))

    def turn(self, document_id: int, number_: int) -> Any:
        if document_id not in self._turns:
            self._turns[document_id] = {t.number: t for t in self.store.turns(document_id)}
        return self._turns[document_id][number_]

    def quote(self, views: Sequence[CodingView], pinned: bool) -> ReportQuote:
        """The turn of ``views`` (codings in one turn) with their words marked."""
        first = views[0]
        t = self.turn(first.document_id, first.turn)
        start, end, text = t.start_char, t.end_char, t.text
        cuts = [(v.start, v.end) for v in views]
        speaker, role = first.speaker, first.role
        if self.pseudonymizer is not None:
            if first.document_id not in self._views:
                self._views[first.document_id] = self.pseudonymizer(first.document_id)
            p = self._views[first.document_id]
            start, end = p.cut(start, end)
            text = p.text[start:end]
            cuts = [p.cut(a, b) for a, b in cuts]
            speaker, role = p.label(speaker), p.label(role)
        marks = _merged([(max(a - start, 0), min(b - start, len(text))) for a, b in cuts])
        labels = tuple(dict.fromkeys(v.code_label for v in views))
        return ReportQuote(first.id, first.document, first.turn, speaker, role,
                           self.groups.get((first.document_id, first.speaker), ()), text,
                           marks, labels, pinned, first.document_id,
                           tuple(v.id for v in views))


def _merged(marks: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(m for m in marks if m[1] > m[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _strength(views: Sequence[CodingView]) -> tuple:
    """Sort key of a turn's codings, strongest first: decided by a person, more codes,
    the machine's confidence (a person's decision counts as 1)."""
    accepted = any(v.status == "accepted" for v in views)
    confidence = max((1.0 if v.confidence is None else v.confidence) for v in views)
    return (not accepted, -len({v.code_key for v in views}), -confidence,
            views[0].document_id, views[0].turn)


def build_report(store, *, themes: Sequence[str] | None = None, site: str | None = None,
                 statuses: Sequence[str] = ("accepted",), quotes_per_site: int = 3,
                 pseudonymizer: Callable[[int], Any] | None = None,
                 today: dt.date | None = None) -> Report:
    """The report's content for the active codebook: the chapters of ``themes`` (all when
    None), the documents of ``site`` (all when None), codings of ``statuses``."""
    statuses = tuple(statuses)
    cb = store.active_codebook()
    content = cb["content"]
    known = [t["id"] for t in content["themes"]]
    wanted = list(known) if not themes else list(themes)
    for key in wanted:
        if key not in known:
            raise NotFoundError(f"no theme {key!r} in the active codebook")
    if site and site not in {d.site for d in store.document_facets()}:
        raise NotFoundError(f"no documents of site {site!r}")
    board = analysis.dashboard(store, statuses=statuses, site=site)
    cards = {c.id: c for c in board.themes}
    doc_ids = analysis.select_documents(store, site=site)
    texts = _Texts(store, pseudonymizer)
    labels = {c.key: c.label for c in store.codes(include_retired=True)}
    code_themes = {c.key: set(c.themes) for c in store.codes(include_retired=True)}
    chains = store.cmo_configurations(statuses, doc_ids)
    coders: set[str] = set()
    chapters = []
    for key in wanted:
        card = cards[key]
        views = [v for s in statuses for v in store.coding_views(status=s, theme=key)
                 if doc_ids is None or v.document_id in doc_ids]
        coders.update(v.coder for v in views if v.coder)
        pinned_ids = [p.coding_id for p in store.quote_pins(key)]
        by_site: dict[str, dict[tuple[int, int], list[CodingView]]] = {}
        for v in views:
            by_site.setdefault(v.site or v.document, {}).setdefault(
                (v.document_id, v.turn), []).append(v)
        counts = {row["Sted"]: int(row["Citater"])
                  for _, row in board.site_theme[board.site_theme["Tema"] == key].iterrows()}
        sections = []
        for place in sorted(by_site):
            turns = by_site[place]
            by_coding = {v.id: turn for turn, vs in turns.items() for v in vs}
            pinned = list(dict.fromkeys(by_coding[i] for i in pinned_ids if i in by_coding))
            rest = sorted((t for t in turns if t not in pinned
                           and len(texts.turn(*t).text.strip()) >= MIN_TURN_CHARS),
                          key=lambda t: _strength(turns[t]))[:quotes_per_site]
            shown = ([texts.quote(turns[t], True) for t in pinned]
                     + [texts.quote(turns[t], False) for t in rest])
            sections.append(SiteSection(place, counts.get(place, 0), shown))
        theme_chains = [Chain(c["site"] or "", labels.get(c["context"], c["context"]),
                              labels.get(c["mechanism"], c["mechanism"]),
                              labels.get(c["outcome"], c["outcome"]), c["n"])
                        for c in chains
                        if any(key in code_themes.get(c[k], set())
                               for k in ("context", "mechanism", "outcome"))]
        chapters.append(ThemeChapter(key, card.label, card.description, card.goals, card.quotes,
                                     card.sites, card.target_groups, dict(card.cmo), sections,
                                     theme_chains, texts.group_counts(views)))
    goals = [GoalRow(r["Mål"], r["Målnavn"], int(r["Citater"]), int(r["Steder"]),
                     float(r["Dækning"])) for _, r in board.goals.iterrows()]
    documents = [(d.name, d.site, d.date, d.turns, d.segments) for d in store.list_documents()
                 if doc_ids is None or d.id in doc_ids]
    return Report(cb["title"], today or dt.date.today(), statuses, site, chapters, goals,
                  documents, sorted(coders), (cb["key"], cb["title"], cb["version"]),
                  pseudonymizer is not None, board.sites, _reliability(store))


def _reliability(store) -> list[tuple[str, str, int, float | None, float | None, float | None]]:
    """Agreement of each pair of coders assigned the same documents, over what both reviewed."""
    from evaltool import reliability

    by_doc: dict[int, list[str]] = {}
    for a in store.assignments():
        by_doc.setdefault(a.document_id, []).append(a.coder)
    pairs = sorted({(x, y) for coders in by_doc.values() for x in sorted(coders)
                    for y in sorted(coders) if x < y})
    out = []
    for a, b in pairs:
        r = reliability.reliability(store, a, b)
        out.append((a, b, r.units, r.agreement, r.kappa, r.alpha))
    return out


# -- the words (Danish) ----------------------------------------------------------------


def _filters(r: Report) -> str:
    what = " og ".join(STATUS_LABELS.get(s, s) for s in r.statuses)
    place = f" fra {r.site}" if r.site else ""
    return f"Kodninger: {what}{place}."


def _summary(ch: ThemeChapter) -> str:
    cmo = ", ".join(f"{analysis.CMO_LABELS[CMO(k)].lower()} {number(ch.cmo.get(k, 0))}"
                    for k in CMO_KINDS)
    groups = (" Citater pr. målgruppe: " + ", ".join(f"{g} {number(n)}" for g, n
                                                   in ch.by_target_group.items()) + "."
              if ch.by_target_group else "")
    return (f"{count(ch.quotes, 'citat', 'citater')} fra {count(len(ch.sites), 'sted', 'steder')}"
            f" ({cmo}).{groups}")


def _who(q: ReportQuote) -> str:
    parts = [q.speaker + (f" ({q.role})" if q.role else "")]
    if q.target_groups:
        parts.append("målgruppe: " + ", ".join(q.target_groups))
    parts.append(f"{q.document}, tur {q.turn}")
    if q.pinned:
        parts.append("valgt til rapporten")
    return " · ".join(parts)


NO_CHAINS = "Ingen kæder af kontekst, mekanisme og udfald i temaet."


def _more_chains(ch: ThemeChapter) -> str:
    rest = len(ch.chains) - CHAINS_SHOWN
    return f"Yderligere {count(rest, 'kæde', 'kæder')} med færre citater er ikke vist."


CHAIN_HEAD = ("Sted", "Kontekst", "Mekanisme", "Udfald", "Citater")
GOAL_HEAD = ("Mål", "Navn", "Citater", "Steder", "Dækning")
RELIABILITY_HEAD = ("Kodere", "Enheder", "Enighed", "Cohens kappa", "Krippendorffs alfa")
NO_RELIABILITY = "Ingen dokumenter er kodet af to kodere."
DOC_HEAD = ("Transskription", "Sted", "Dato", "Ture", "Sætninger")


def _chain_row(c: Chain) -> tuple[str, ...]:
    return (c.site, c.context, c.mechanism, c.outcome, number(c.quotes))


def _goal_row(g: GoalRow) -> tuple[str, ...]:
    return (g.key, g.label, number(g.quotes), number(g.sites), percent(g.coverage))


def _reliability_row(r: tuple) -> tuple[str, ...]:
    def figure(x: float | None) -> str:
        return "–" if x is None else number(x, 2)
    return (f"{r[0]} og {r[1]}", number(r[2]), percent(r[3]) or "–", figure(r[4]), figure(r[5]))


def _doc_row(d: tuple) -> tuple[str, ...]:
    return (d[0], d[1] or "", date(d[2]), number(d[3]), number(d[4]))


def render_markdown(r: Report) -> str:
    """The report as Markdown (the same content as the Word document)."""
    out = [f"# Evalueringsrapport: {_md(r.title)}", "",
           f"Udarbejdet {r.made.day}.{r.made.month}.{r.made.year} med evaltool. {_filters(r)}"]
    if r.pseudonymized:
        out.append("Navne er erstattet af pseudonymer.")
    for ch in r.chapters:
        out += ["", f"## Tema {ch.key}: {_md(ch.label)}", ""]
        if ch.description:
            out += [_md(ch.description), ""]
        out.append(_summary(ch))
        for s in ch.sections:
            out += ["", f"### {_md(s.site)}", "", count(s.quotes, "citat", "citater") + "."]
            for q in s.shown:
                out += ["", f"> {_marked_md(q)}", ">", f"> — {_md(_who(q))}"]
        out += ["", "### CMO-kæder", ""]
        out += _md_table(CHAIN_HEAD, [_chain_row(c) for c in ch.chains[:CHAINS_SHOWN]]) \
            if ch.chains else [NO_CHAINS]
        if len(ch.chains) > CHAINS_SHOWN:
            out += ["", _more_chains(ch)]
    out += ["", "## Målopfyldelse", "", *_md_table(GOAL_HEAD, [_goal_row(g) for g in r.goals])]
    out += ["", "## Bilag: Metode", "", "### Transskriptioner", ""]
    out += _md_table(DOC_HEAD, [_doc_row(d) for d in r.documents])
    out += ["", "### Kodere", "", ", ".join(_md(c) for c in r.coders) or "Ingen.", "",
            "### Pålidelighed", ""]
    out += _md_table(RELIABILITY_HEAD, [_reliability_row(x) for x in r.reliability]) \
        if r.reliability else [NO_RELIABILITY]
    out += ["",
            "### Kodebog", "", f"{_md(r.codebook[1])} ({_md(r.codebook[0])}), version "
            f"{number(r.codebook[2])}.", ""]
    return "\n".join(out)


def _md(text: str) -> str:
    """Text with Markdown's special characters escaped (quotes are user content)."""
    return "".join("\\" + ch if ch in "\\`*_[]<>|#" else ch for ch in text)


def _marked_md(q: ReportQuote) -> str:
    out, at = [], 0
    for a, b in q.marks:
        out += [_md(q.text[at:a]), "**", _md(q.text[a:b]), "**"]
        at = b
    out.append(_md(q.text[at:]))
    return "".join(out).replace("\n", " ")


def _md_table(head: Sequence[str], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]


def render_docx(r: Report) -> Any:
    """The report as a python-docx ``Document``."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    doc.core_properties.title = f"Evalueringsrapport: {r.title}"
    doc.core_properties.language = "da-DK"
    doc.add_heading(f"Evalueringsrapport: {r.title}", 0)
    doc.add_paragraph(f"Udarbejdet {r.made.day}.{r.made.month}.{r.made.year} med evaltool.")
    doc.add_paragraph(_filters(r))
    doc.add_paragraph(f"{count(len(r.documents), 'transskription', 'transskriptioner')}, "
                      f"{count(len(r.chapters), 'tema', 'temaer')}.")
    if r.pseudonymized:
        doc.add_paragraph("Navne er erstattet af pseudonymer.")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    for ch in r.chapters:
        doc.add_heading(f"Tema {ch.key}: {ch.label}", 1)
        if ch.description:
            doc.add_paragraph(ch.description)
        doc.add_paragraph(_summary(ch))
        for s in ch.sections:
            doc.add_heading(s.site, 2)
            doc.add_paragraph(count(s.quotes, "citat", "citater") + ".")
            for q in s.shown:
                p = doc.add_paragraph(style="Quote")
                at = 0
                for a, b in q.marks:
                    p.add_run(q.text[at:a])
                    p.add_run(q.text[a:b]).bold = True
                    at = b
                p.add_run(q.text[at:])
                doc.add_paragraph(_who(q)).runs[0].italic = True
        doc.add_heading("CMO-kæder", 2)
        if ch.chains:
            _docx_table(doc, CHAIN_HEAD, [_chain_row(c) for c in ch.chains[:CHAINS_SHOWN]])
            if len(ch.chains) > CHAINS_SHOWN:
                doc.add_paragraph(_more_chains(ch))
        else:
            doc.add_paragraph(NO_CHAINS)
    doc.add_heading("Målopfyldelse", 1)
    _docx_table(doc, GOAL_HEAD, [_goal_row(g) for g in r.goals])
    doc.add_heading("Bilag: Metode", 1)
    doc.add_heading("Transskriptioner", 2)
    _docx_table(doc, DOC_HEAD, [_doc_row(d) for d in r.documents])
    doc.add_heading("Kodere", 2)
    doc.add_paragraph(", ".join(r.coders) or "Ingen.")
    doc.add_heading("Pålidelighed", 2)
    if r.reliability:
        _docx_table(doc, RELIABILITY_HEAD, [_reliability_row(x) for x in r.reliability])
    else:
        doc.add_paragraph(NO_RELIABILITY)
    doc.add_heading("Kodebog", 2)
    doc.add_paragraph(f"{r.codebook[1]} ({r.codebook[0]}), version {number(r.codebook[2])}.")
    return doc


def _docx_table(doc: Any, head: Sequence[str], rows: list[tuple[str, ...]]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


def write_report(r: Report, out: str | Path, fmt: str = "docx") -> Path:
    """Write the report to ``out`` (whole or not at all) as .docx or Markdown."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    with outfile.replacing(out) as tmp:
        if fmt == "md":
            tmp.write_text(render_markdown(r), encoding="utf-8")
        else:
            render_docx(r).save(str(tmp))
    return Path(out)
