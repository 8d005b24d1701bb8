"""Docs that cannot rot: every command has help and appears in the README."""

from __future__ import annotations

from pathlib import Path

import click

from evaltool.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, full + " "))
    return out


def test_every_command_has_help_and_is_documented() -> None:
    commands = all_commands(cli)
    assert len(commands) >= 6
    for name, cmd in commands:
        assert cmd.help and cmd.help.strip(), f"{name} has no help text"
        assert f"evaltool {name}" in README, f"`evaltool {name}` is not in the README"


def test_quickstart_has_exactly_two_commands() -> None:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make app", "make test"]
