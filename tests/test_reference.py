"""The README's reference section is the command line's own description: every visible command,
every option and every date form, and it is exactly what `python -m bd_vpt.cli.reference`
writes (so a new option without a README update fails here)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from bd_vpt.cli import cli
from bd_vpt.cli.reference import END, START, generate, main, splice
from bd_vpt.when import FORMS

README = Path(__file__).resolve().parents[1] / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(START, 1)[1].split(END, 1)[0]


def visible(
    group: click.Group, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += visible(command, (*path, name))
    return found


def test_the_readme_reference_is_fresh() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text, generate()) == text, "run `python -m bd_vpt.cli.reference`"


@pytest.mark.parametrize("path", [p for p, _ in visible(cli)], ids=" ".join)
def test_every_command_and_option_is_listed(path: tuple[str, ...]) -> None:
    command = dict(visible(cli))[path]
    text = section()
    assert f"### `bd-vpt {' '.join(path)}" in text
    block = text.split(f"### `bd-vpt {' '.join(path)}", 1)[1].split("\n### ", 1)[0]
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            for opt in param.opts:
                assert f"{opt}" in block, f"{opt} of {' '.join(path)} missing"


def test_every_date_form_is_listed() -> None:
    text = section()
    for form, meaning in FORMS:
        assert form.replace("|", "\\|") in text and meaning in text


def test_a_stale_readme_is_caught_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = README.read_text(encoding="utf-8").replace("| `--strict` |", "| `--lenient` |", 1)
    (tmp_path / "README.md").write_text(stale, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["--check"]) == 1
    assert main([]) == 0
    assert main(["--check"]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == README.read_text(
        encoding="utf-8"
    )
