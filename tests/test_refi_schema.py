"""The REFI-QDA schemas shipped with evaltool accept conforming XML and name what is wrong."""

from __future__ import annotations

import pytest

from evaltool.refi import schema

GUID = "0b5b6a5e-2f4a-4a47-9d0c-3c6a1e1c2a01"


def _project(code_attrs: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{schema.PROJECT_NS}" '
            f'name="Røde Kors"><CodeBook><Codes><Code guid="{GUID}" name="Ældre" {code_attrs}/>'
            "</Codes></CodeBook></Project>").encode()


def test_a_minimal_project_and_codebook_validate() -> None:
    schema.validate(_project('isCodable="true" color="#aa00ff"'), "project")
    codebook = (f'<CodeBook xmlns="{schema.CODEBOOK_NS}" origin="x"><Codes>'
                f'<Code guid="{{{GUID}}}" name="Frivillige" isCodable="true"/></Codes></CodeBook>')
    schema.validate(codebook.encode(), "codebook")


def test_a_missing_attribute_is_named_with_its_line() -> None:
    with pytest.raises(schema.RefiSchemaError) as err:
        schema.validate(_project('color="#aa00ff"'), "project", "project.qde")
    assert str(err.value).startswith("project.qde:2: not valid REFI-QDA project XML")
    assert "isCodable" in str(err.value)


def test_a_bad_colour_and_a_project_as_codebook_are_refused() -> None:
    assert schema.errors(_project('isCodable="true" color="purple"'), "project")
    assert schema.errors(_project('isCodable="true"'), "codebook")
    assert schema.errors(b"<Project", "project")[0][1].startswith("not well-formed XML")
