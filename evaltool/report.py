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
import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaltool import analysis, charts, outfile
from evaltool.chains import ChainBuilder
from evaltool.domain import (
    CMO,
    CMO_KINDS,
    Chain,
    CodingView,
    GoalRow,
    Report,
    ReportQuote,
    SiteSection,
    ThemeCard,
    ThemeChapter,
)
from evaltool.errors import NotFoundError
from evaltool.formats import CMO_LABELS, count, date, number, percent
from evaltool.quotes import TurnQuotes

__all__ = [
    "Chain",
    "GoalRow",
    "Report",
    "ReportQuote",
    "SiteSection",
    "ThemeChapter",
    "build_chapter",
    "build_report",
    "render_docx",
    "render_markdown",
    "write_report",
]

FORMATS = ("docx", "md")
CHAINS_SHOWN = 10  # a chapter's table shows the strongest chains; the rest are counted
CHAINS_WITH_EVIDENCE = 3  # of those, the first come with their evidence turns
STATUS_LABELS = {"accepted": "accepterede", "suggested": "foreslåede", "rejected": "afviste"}


class _Chapters:
    """What every chapter of one report reads once: the dashboard, turns, chains."""

    def __init__(self, store, statuses: tuple[str, ...], site: str | None,
                 pseudonymizer: Callable[[int], Any] | None,
                 target_group: str | None = None) -> None:
        self.store = store
        self.statuses = statuses
        # the Dashboard's filter: its scope decides which quotes every part counts and shows
        self.board = analysis.dashboard(store, statuses=statuses, site=site,
                                        target_group=target_group)
        self.scope = self.board.scope
        self.cards = {c.id: c for c in self.board.themes}
        self.doc_ids = None if self.scope.documents is None else list(self.scope.documents)
        speakers = self.scope.speakers
        self.texts = TurnQuotes(store, pseudonymizer)
        codes = store.codes(include_retired=True)
        # a retired code's kept codings are quoted and counted nowhere (as in the aggregations)
        self.retired = {c.key for c in codes if c.retired}
        self.labels = {c.key: c.label for c in codes}
        self.code_themes = {c.key: set(c.themes) for c in codes}
        self.places = {d.id: d.site or d.name for d in store.document_facets()}
        # the dashboard's chain rows (the same filters): chains that ran past their time
        # budget are left out (the chapter says so); the quotes and counts still make one
        rows = self.board.chain_rows
        self.stopped = self.board.chains_stopped if rows is None else None
        self.chains = ChainBuilder(store, rows or [], self.texts, self.labels, statuses,
                                   self.doc_ids, speakers)
        self.coders: set[str] = set()

    def chapter(self, key: str, quotes_per_site: int) -> ThemeChapter:
        """The chapter of theme ``key``."""
        card: ThemeCard = self.cards[key]
        views = [v for s in self.statuses for v in self.store.coding_views(status=s, theme=key)
                 if self.scope.allows(v.document_id, v.speaker) and v.code_key not in self.retired]
        self.coders.update(v.coder for v in views if v.coder)
        pinned_ids = [p.coding_id for p in self.store.quote_pins(key)]
        by_site: dict[str, dict[tuple[int, int], list[CodingView]]] = {}
        for v in views:
            by_site.setdefault(v.site or v.document, {}).setdefault(
                (v.document_id, v.turn), []).append(v)
        counts = {c.site: c.quotes for c in self.board.site_theme if c.theme == key}

        def of_theme(r) -> bool:
            return any(key in self.code_themes.get(k, set())
                       for k in (r.context, r.mechanism, r.outcome))

        sections = []
        for place in sorted(by_site):
            turns = by_site[place]
            by_coding = {v.id: turn for turn, vs in turns.items() for v in vs}
            pinned = list(dict.fromkeys(by_coding[i] for i in pinned_ids if i in by_coding))
            rest = self._strongest(key, place, pinned, quotes_per_site)
            shown = ([self.texts.quote(turns[t], True) for t in pinned]
                     + [self.texts.quote(turns[t], False) for t in rest if t in turns])
            here = [v for vs in turns.values() for v in vs]
            sections.append(SiteSection(
                place, counts.get(place, 0), shown,
                self.chains.chains(lambda r, place=place: of_theme(r)
                                   and self.places.get(r.document_id) == place,
                                   CHAINS_WITH_EVIDENCE),
                self.texts.group_counts(here),
                {k: len({v.segment_id for v in here if v.cmo == k}) for k in CMO_KINDS}))
        shown = self.chains.chains(of_theme, CHAINS_SHOWN)
        for_whom = self.chains.by_target_group(of_theme, CHAINS_WITH_EVIDENCE)
        stopped = self.stopped if self.stopped is not None else self.chains.stopped
        if stopped is not None:  # an evidence query stopped half way: no chain at all
            shown, for_whom = [], {}
            sections = [replace(s, chains=[]) for s in sections]
        return ThemeChapter(card, sections, shown, self.texts.group_counts(views), for_whom,
                            stopped)

    def _strongest(self, key: str, place: str, pinned: list[tuple[int, int]],
                   n: int) -> list[tuple[int, int]]:
        """The turns of the site's strongest quotes of the theme, after the pinned ones
        (``Store.strongest_quotes``: the dashboard's rule)."""
        docs = [d for d, p in self.places.items()
                if p == place and (self.doc_ids is None or d in self.doc_ids)]
        found = self.store.strongest_quotes([key], self.statuses, docs, limit=n * 3 + len(pinned),
                                            speaker_ids=self.scope.speakers)
        out: list[tuple[int, int]] = []
        for q in found.get(key, []):
            t = (q.document_id, q.turn)
            if t not in pinned and t not in out:
                out.append(t)
        return out[:n]


def _check(store, themes: Sequence[str] | None, site: str | None,
           target_group: str | None = None) -> list[str]:
    """The themes asked for (all when None); a one-line error for an unknown theme, site or
    target group."""
    known = [t["id"] for t in store.active_codebook()["content"]["themes"]]
    wanted = list(known) if not themes else list(themes)
    for key in wanted:
        if key not in known:
            raise NotFoundError(f"no theme {key!r} in the active codebook")
    if site and site not in {d.site for d in store.document_facets()}:
        raise NotFoundError(f"no documents of site {site!r}")
    if target_group and target_group not in analysis.filter_options(store)["target_groups"]:
        raise NotFoundError(f"no target group {target_group!r} among the documents' and "
                            "speakers' target groups")
    return wanted


def build_chapter(store, theme: str, *, site: str | None = None,
                  statuses: Sequence[str] = ("accepted",), quotes_per_site: int = 3,
                  pseudonymizer: Callable[[int], Any] | None = None,
                  target_group: str | None = None) -> ThemeChapter:
    """One theme's chapter (as the report has it), for the theme chapter page."""
    _check(store, [theme], site, target_group)
    return _Chapters(store, tuple(statuses), site, pseudonymizer,
                     target_group).chapter(theme, quotes_per_site)


def build_report(store, *, themes: Sequence[str] | None = None, site: str | None = None,
                 statuses: Sequence[str] = ("accepted",), quotes_per_site: int = 3,
                 pseudonymizer: Callable[[int], Any] | None = None,
                 today: dt.date | None = None, target_group: str | None = None) -> Report:
    """The report's content for the active codebook: the chapters of ``themes`` (all when
    None), the documents of ``site`` (all when None), codings of ``statuses``, the quotes of
    ``target_group`` (all when None; a quote's is its speaker's, else its document's)."""
    statuses = tuple(statuses)
    wanted = _check(store, themes, site, target_group)
    cb = store.active_codebook()
    made = _Chapters(store, statuses, site, pseudonymizer, target_group)
    chapters = [made.chapter(key, quotes_per_site) for key in wanted]
    documents = [(d.name, d.site, d.date, d.turns, d.segments) for d in store.list_documents()
                 if made.doc_ids is None or d.id in made.doc_ids]
    return Report(cb["title"], today or dt.date.today(), statuses, site, chapters,
                  made.board.goals, documents, sorted(made.coders),
                  (cb["key"], cb["title"], cb["version"]), pseudonymizer is not None,
                  made.board.sites, _reliability(store), target_group)


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


def _group_line(r: Report) -> str:
    """The title page's line naming the report's target group."""
    return f"Målgruppe: {r.target_group}."


def _group_intro(r: Report) -> str:
    """A chapter's first line in a report for one target group."""
    return f"Kapitlet omfatter kun citater fra målgruppen {r.target_group}."


def _summary(ch: ThemeChapter) -> str:
    cmo = ", ".join(f"{CMO_LABELS[CMO(k)].lower()} {number(ch.cmo.get(k, 0))}"
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


def _no_chains(ch: ThemeChapter) -> str:
    """What the chapter says where its chain table would be, when it has none."""
    if ch.chains_stopped is None:
        return NO_CHAINS
    seconds = number(ch.chains_stopped, 0 if ch.chains_stopped >= 1 else 3)
    return (f"CMO-kæderne er udeladt: beregningen nåede ikke at blive færdig inden for "
            f"{seconds} sekunder. Lav rapporten med kun accepterede kodninger eller for ét "
            f"sted.")


def _more_chains(ch: ThemeChapter) -> str:
    rest = len(ch.chains) - CHAINS_SHOWN
    return f"Yderligere {count(rest, 'kæde', 'kæder')} med færre citater er ikke vist."


CHAIN_HEAD = ("Sted", "Kontekst", "Mekanisme", "Udfald", "Dokumenter", "Citater")
EVIDENCE_HEAD = "Belæg for de stærkeste kæder"
GROUPS_HEAD = "Hvad virker for hvem"
GROUPS_NOTE = ("Kæderne efter målgruppen for den, der fortæller om udfaldet (talerens, ellers "
               "dokumentets).")
GOAL_HEAD = ("Mål", "Navn", "Citater", "Steder", "Dækning")
RELIABILITY_HEAD = ("Kodere", "Enheder", "Enighed", "Cohens kappa", "Krippendorffs alfa")
NO_RELIABILITY = "Ingen dokumenter er kodet af to kodere."
DOC_HEAD = ("Transskription", "Sted", "Dato", "Ture", "Sætninger")


def _chain_row(c: Chain) -> tuple[str, ...]:
    return (c.site, c.context, c.mechanism, c.outcome, number(c.documents), number(c.quotes))


def _chain_name(c: Chain) -> str:
    return f"{c.context} → {c.mechanism} → {c.outcome}"


def _support(c: Chain) -> str:
    return (f"{count(len(c.sites), 'sted', 'steder')}, "
            f"{count(c.documents, 'dokument', 'dokumenter')}, {count(c.quotes, 'citat', 'citater')}")


def _chain_line(c: Chain) -> str:
    return f"{_chain_name(c)} ({_support(c)})"


def _evidence(ch: ThemeChapter) -> list[Chain]:
    return [c for c in ch.chains[:CHAINS_WITH_EVIDENCE] if c.evidence]


def _groups(ch: ThemeChapter) -> list[tuple[str, str]]:
    """(target group, its strongest chains in words) for the chapter's target groups."""
    return [(g, "; ".join(_chain_line(c) for c in chains[:CHAINS_WITH_EVIDENCE]))
            for g, chains in ch.chains_by_target_group.items() if chains]


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
    if r.target_group:
        out.append(f"{_md(_group_line(r))}")
    if r.pseudonymized:
        out.append("Navne er erstattet af pseudonymer.")
    for ch in r.chapters:
        out += ["", f"## Tema {ch.key}: {_md(ch.label)}", ""]
        if r.target_group:
            out += [_md(_group_intro(r)), ""]
        if ch.description:
            out += [_md(ch.description), ""]
        out.append(_summary(ch))
        for s in ch.sections:
            out += ["", f"### {_md(s.site)}", "", count(s.quotes, "citat", "citater") + "."]
            for q in s.shown:
                out += ["", f"> {_marked_md(q)}", ">", f"> — {_md(_who(q))}"]
        out += ["", "### CMO-kæder", ""]
        out += _md_table(CHAIN_HEAD, [_chain_row(c) for c in ch.chains[:CHAINS_SHOWN]]) \
            if ch.chains else [_no_chains(ch)]
        if len(ch.chains) > CHAINS_SHOWN:
            out += ["", _more_chains(ch)]
        if _evidence(ch):
            out += ["", f"#### {EVIDENCE_HEAD}"]
            for c in _evidence(ch):
                out += ["", f"**{_md(_chain_line(c))}**"]
                for q in c.evidence:
                    out += ["", f"> {_marked_md(q)}", ">", f"> — {_md(_who(q))}"]
        if _groups(ch):
            out += ["", f"#### {GROUPS_HEAD}", "", GROUPS_NOTE, ""]
            out += [f"- **{_md(g)}**: {_md(line)}" for g, line in _groups(ch)]
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
    from docx.shared import Cm

    doc = Document()
    doc.core_properties.title = f"Evalueringsrapport: {r.title}"
    doc.core_properties.language = "da-DK"
    doc.add_heading(f"Evalueringsrapport: {r.title}", 0)
    doc.add_paragraph(f"Udarbejdet {r.made.day}.{r.made.month}.{r.made.year} med evaltool.")
    doc.add_paragraph(_filters(r))
    if r.target_group:
        doc.add_paragraph(_group_line(r))
    doc.add_paragraph(f"{count(len(r.documents), 'transskription', 'transskriptioner')}, "
                      f"{count(len(r.chapters), 'tema', 'temaer')}.")
    if r.pseudonymized:
        doc.add_paragraph("Navne er erstattet af pseudonymer.")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    for ch in r.chapters:
        doc.add_heading(f"Tema {ch.key}: {ch.label}", 1)
        if r.target_group:
            doc.add_paragraph(_group_intro(r))
        if ch.description:
            doc.add_paragraph(ch.description)
        doc.add_paragraph(_summary(ch))
        if ch.sections:
            doc.add_picture(io.BytesIO(charts.png(charts.chapter_chart(ch))), width=Cm(15))
        for s in ch.sections:
            doc.add_heading(s.site, 2)
            doc.add_paragraph(count(s.quotes, "citat", "citater") + ".")
            for q in s.shown:
                _docx_quote(doc, q)
        doc.add_heading("CMO-kæder", 2)
        if ch.chains:
            _docx_table(doc, CHAIN_HEAD, [_chain_row(c) for c in ch.chains[:CHAINS_SHOWN]])
            if len(ch.chains) > CHAINS_SHOWN:
                doc.add_paragraph(_more_chains(ch))
        else:
            doc.add_paragraph(_no_chains(ch))
        if _evidence(ch):
            doc.add_heading(EVIDENCE_HEAD, 3)
            for c in _evidence(ch):
                doc.add_paragraph().add_run(_chain_line(c)).bold = True
                for q in c.evidence:
                    _docx_quote(doc, q)
        if _groups(ch):
            doc.add_heading(GROUPS_HEAD, 3)
            doc.add_paragraph(GROUPS_NOTE)
            for g, line in _groups(ch):
                p = doc.add_paragraph(style="List Bullet")
                p.add_run(g + ": ").bold = True
                p.add_run(line)
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


def _docx_quote(doc: Any, q: ReportQuote) -> None:
    """A quote (its coded words in bold) and who said it."""
    p = doc.add_paragraph(style="Quote")
    at = 0
    for a, b in q.marks:
        p.add_run(q.text[at:a])
        p.add_run(q.text[a:b]).bold = True
        at = b
    p.add_run(q.text[at:])
    doc.add_paragraph(_who(q)).runs[0].italic = True


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
