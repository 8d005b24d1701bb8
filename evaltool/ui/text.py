"""Showing text safely and in Danish formats.

Transcript text, names and memos are user content: they are never rendered as
HTML, and before they go through Markdown every character Markdown would
interpret is escaped, so ``<script>`` or ``**x**`` in a quote shows literally.
"""

from __future__ import annotations

import re

from evaltool.domain import CMO as Kind

# Danish number and date formats live in the core (the report writer uses them too)
from evaltool.formats import count, date, number, percent  # noqa: F401

# Characters with a meaning in (Streamlit-flavoured) Markdown: escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<:$&=])")


def md(text: object) -> str:
    """Escape user text for ``st.markdown``/``st.caption`` (no HTML, no Markdown)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


STATUS = {"suggested": "Forslag", "accepted": "Accepteret", "rejected": "Afvist"}
CMO = {Kind.context: "Kontekst", Kind.mechanism: "Mekanisme", Kind.outcome: "Udfald",
       Kind.unassigned: "Ikke tildelt"}
SOURCE = {"rules": "regler", "model": "model", "combined": "regler + model", "human": "manuel",
          "gold": "guldstandard", "adjudicated": "afgjort"}
# what a memo is on (MemoView.kind), as a heading and as the memo's own noun
MEMO_KIND = {"coding": "Kodning", "segment": "Sætning", "document": "Dokument",
             "project": "Projekt"}
MEMO_NOUN = {"coding": "Kodningsmemo", "segment": "Sætningsmemo", "document": "Dokumentmemo",
             "project": "Projektmemo"}
# what a history event did, as the history popover says it
ACTION = {"accept": "accepteret", "reject": "afvist", "recode": "kode ændret", "memo": "memo",
          "undo": "fortrudt", "add": "tilføjet", "adjudicate": "bedømt",
          "delete_document": "dokument slettet", "replace_document": "dokument erstattet",
          "carry": "overført ved genimport", "pin": "sat i rapporten",
          "unpin": "taget ud af rapporten", "merge": "koder flettet",
          "memo_add": "memo skrevet", "memo_edit": "memo rettet", "memo_delete": "memo slettet"}

# Danish names of well-known attribute keys (any other key is shown as it is)
ATTRIBUTE = {"site": "Sted", "date": "Dato", "title": "Titel", "target_groups": "Målgrupper",
             "target_group": "Målgruppe", "moderator": "Ordstyrer", "role": "Rolle",
             "gender": "Køn", "age_band": "Aldersgruppe"}
LEVEL = {"document": "Dokument", "speaker": "Taler"}
# why an attribute was refused (evaltool.errors.AttributeInputError has the CLI's English)
ATTRIBUTE_ERRORS = {
    "bad_key": "en nøgle er 1-40 bogstaver, tal, _ eller - og begynder med et bogstav",
    "empty_value": "værdien er tom",
    "long_value": "en værdi er højst 200 tegn",
    "control": "en værdi må ikke indeholde linjeskift eller kontroltegn",
    "many_values": "en liste har højst 20 værdier",
    "bad_value": "en værdi er en tekst eller en liste af tekster",
    "no_equals": "skriv NØGLE=VÆRDI",
}


def attribute_name(key: str) -> str:
    """An attribute key as the app shows it: 'Målgruppe (target_group)', or the key itself."""
    return f"{ATTRIBUTE[key]} ({key})" if key in ATTRIBUTE else key


# The app's words for each kind of fault (evaltool.errors.FAULTS has the CLI's English).
FAULTS = {
    "locked": "Databasen er låst af en anden proces; prøv igen, når den er færdig",
    "read_only": "Databasen eller dens mappe er skrivebeskyttet; intet blev ændret",
    "disk_full": "Disken er fuld; intet blev ændret",
    "io": "Disken kan ikke skrives eller læses (fuld eller defekt); intet blev ændret",
    "permission": "Adgang nægtet",
    "newer_schema": "Databasen er lavet af en nyere version af evaltool; opdatér evaltool for "
                    "at åbne den",
    "damaged": "Filen er ikke en evaltool-database, eller den er beskadiget",
    "cannot_open": "Databasefilen kan ikke åbnes",
    "bad_url": "Ugyldig database-URL",
    "missing": "findes ikke",
    "is_folder": "er en mappe; angiv et filnavn",
    "not_regular": "er ikke en almindelig fil (en enhed, en pipe eller en socket)",
    "too_large": "Et tal er uden for det gyldige område (id'er er højst 64 bit)",
    "migration": "Databasens skema kan ikke opgraderes; intet blev ændret",
    "database": "Databasefejl; intet blev ændret",
    "os": "Filen kan ikke læses eller skrives",
}


def fault_text(exc: BaseException) -> str | None:
    """One Danish line for a fault (database, disk, file system, number range), naming the
    problem and the exception class only; None for any other exception."""
    from evaltool.errors import FaultError, as_fault

    fault = exc if isinstance(exc, FaultError) else as_fault(exc)
    if fault is None:
        return None
    text = FAULTS.get(fault.kind, FAULTS["os"])
    if fault.detail:
        text = f"{text} {fault.detail}"
    where = f"{fault.where}: " if fault.where else ""
    cause = f" ({fault.cause})" if fault.cause else ""
    return f"{where}{text}{cause}"


# Why a quote could not be pinned or unpinned (evaltool.errors.PinError has the CLI's English)
PIN_ERRORS = {
    "unknown_theme": "Temaet findes ikke i den aktive kodebog.",
    "not_in_theme": "Citatets kode hører ikke til temaet.",
    "rejected": "Kodningen er afvist; kun forslag og accepterede kodninger kan vælges.",
    "own_layer": "Kodningen er i en koders eget (blinde) lag; rapporten citerer den fælles "
                 "kodning.",
    "pinned": "Citatet er allerede valgt til rapporten under temaet; genindlæs siden.",
    "not_pinned": "Citatet er ikke (længere) valgt til rapporten under temaet; genindlæs siden.",
    "no_coder": "Vælg en koder i sidepanelet for at vælge citater til rapporten.",
}

# The Temakapitel page (ui/pages/chapter_page.py)
# a CMO chain query stopped at its time budget (ChainsTooHeavyError), on every page with chains
CHAINS_STOPPED = ("CMO-kæderne kunne ikke tælles på {seconds} sekunder: med forslag er der for "
                  "mange kodninger tæt på hinanden i dette projekt. Vælg kun accepterede "
                  "kodninger (slå forslag fra) eller ét sted.")


def chains_stopped(seconds: float) -> str:
    """What a page says when its CMO chains were stopped after ``seconds``."""
    return CHAINS_STOPPED.format(seconds=number(seconds, 0 if seconds >= 1 else 3))


CHAPTER = {
    "group_help": "Kun citater fra målgruppen: antallene, citaterne, CMO-kæderne og rapporten, "
                  "der hentes nedenfor. Et citats målgruppe er talerens, når taleren har en; "
                  "ellers dokumentets.",
    "per_site": "Citater pr. sted",
    "per_site_help": "De stærkeste citater pr. sted efter dem, der er valgt til rapporten "
                     "(også i rapporten, der hentes nedenfor).",
    "suggestions": "Medtag forslag",
    "suggestions_help": "Citér også maskinens forslag, ikke kun accepterede kodninger.",
    "pinned": "Citatet er valgt til rapporten under tema {theme}; det står nu først.",
    "unpinned": "Citatet er taget ud af rapporten under tema {theme}.",
    "pinned_label": "Valgt til rapporten",
    "pinned_metric": "Valgt til rapporten",
    "pin": "Til rapporten",
    "unpin": "Tag ud af rapporten",
    "open_coding": "Åbn i Kodning",
    "group": "målgruppe",
    "chains": "CMO-kæder",
    "no_chains": "Ingen kæder af kontekst, mekanisme og udfald i temaet her.",
    "evidence": "Belæg: {chain}",
    "more_chains": "Yderligere {n} med mindre støtte er ikke vist.",
    "for_whom": "Hvad virker for hvem",
    "for_whom_help": "Temaets kæder efter målgruppen hos den, der fortæller om udfaldet "
                     "(talerens, ellers dokumentets); flest steder og dokumenter først.",
    "at_site": " i temaet her",
    "site_groups": "pr. målgruppe",
    "only_group": "Kun citater fra målgruppen {group}.",
    "no_quotes": "Ingen citater at vise med de valgte filtre.",
    "no_quotes_theme": "Temaet har ingen citater med de valgte filtre.",
    "by_group": "Citater pr. målgruppe",
    "download_head": "Rapporten",
    "only_theme": "Kun tema {theme}",
    "pseudo": "Pseudonymiseret",
    "pseudo_help": "Erstat navne på talere og personer med pseudonymer i rapporten "
                   "(databasen ændres ikke).",
    "docx": "Hent rapport (Word)",
    "md": "Hent rapport (Markdown)",
    "download_note": "Rapporten har et kapitel pr. tema med sidens filtre (sted, målgruppe, "
                     "status og citater pr. sted): de valgte citater først, sektioner pr. sted, "
                     "CMO-kæder, målopfyldelse og et metodebilag.",
    "no_themes": "Kodebogen har ingen temaer.",
    "lead_note": "Projektleder-visningen ændrer ingen kodninger. Skriv dit navn i sidepanelet for "
                 "at vælge citater til rapporten.",
    "coder_note": "Vælg din koder i sidepanelet for at vælge citater til rapporten.",
    "building": "Samler temakapitlet…",
}
# Eksport's exchange section: REFI-QDA files for other QDA tools and the coded documents
EXCHANGE = {
    "heading": "Til andre analyseprogrammer",
    "caption": ("Hele projektet som REFI-QDA (NVivo, ATLAS.ti, MAXQDA, QualCoder) og hvert "
                "dokument med sine koder. Status og Pseudonymisér ovenfor gælder; de andre "
                "filtre gælder ikke her."),
    "qdpx": "Hent projekt (REFI-QDA .qdpx)",
    "qdc": "Hent kodebog (REFI-QDA .qdc)",
    "docx": "Hent kodede dokumenter (Word)",
    "html": "Hent kodede dokumenter (HTML)",
    "qdpx_help": "Dokumenter, kodebog, kodninger med præcise placeringer, kodere, memoer og "
                 "attributter.",
    "docx_help": "Koderne som kommentarer i margenen.",
    "html_help": "Koderne i klammer efter de kodede ord.",
}
