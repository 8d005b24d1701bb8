"""The REFI-QDA standard's namespaces, file names and XML schemas, and validation against them.

The schemas (``Project.xsd``, ``Codebook.xsd``: QDA-XML 1.0, REFI-QDA 1.5) are shipped in
``evaltool/data/refi/`` with their MIT licence (``NOTICE.md`` there says where they come
from). They are parsed once per process with lxml.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

from lxml import etree

from evaltool.errors import EvaltoolError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PROJECT_LOCATION = "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
CODEBOOK_LOCATION = "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
PROJECT_FILE = "project.qde"  # the project XML inside a .qdpx archive
SOURCES_DIR = "sources"  # the archive's folder of source files (internal:// paths point here)
ORIGIN = "evaltool"  # the ``origin`` attribute of what evaltool writes

Kind = Literal["project", "codebook"]
SCHEMA_FILES: dict[str, str] = {"project": "Project.xsd", "codebook": "Codebook.xsd"}


class RefiSchemaError(EvaltoolError):
    """An XML document does not conform to a REFI-QDA schema; ``line`` is the first
    offending line of the document."""

    def __init__(self, kind: str, line: int | None, message: str, name: str = "") -> None:
        self.kind = kind
        self.line = line
        self.message = message
        self.name = name or (SCHEMA_FILES.get(kind, kind))
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.name}:{self.line}" if self.line else self.name
        return f"{where}: not valid REFI-QDA {self.kind} XML: {self.message}"


@functools.cache
def xml_schema(kind: Kind) -> etree.XMLSchema:
    """The parsed XML schema of a REFI-QDA ``project`` or ``codebook``."""
    data = resources.files("evaltool").joinpath("data", "refi", SCHEMA_FILES[kind]).read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


def errors(xml_bytes: bytes, kind: Kind) -> list[tuple[int, str]]:
    """Every schema violation of ``xml_bytes`` as (line, message); empty when it is valid."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        doc = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as exc:
        return [(exc.lineno or 0, f"not well-formed XML ({exc.msg})")]
    schema = xml_schema(kind)
    if schema.validate(doc):
        return []
    return [(e.line, e.message) for e in schema.error_log]


def validate(xml_bytes: bytes, kind: Kind, name: str = "") -> None:
    """Raise :class:`RefiSchemaError` (first violation, one line) unless ``xml_bytes`` is a
    valid REFI-QDA ``project`` (``project.qde``) or ``codebook`` (``.qdc``) document;
    ``name`` names the file in the message."""
    found = errors(xml_bytes, kind)
    if found:
        line, message = found[0]
        raise RefiSchemaError(kind, line or None, message, name)
