"""`pr` in its plain forms is made without click (integrations/pr_plain.py): the same
output, warnings, errors and exit codes as the click command; any other form goes to click."""

from __future__ import annotations

import pytest

from bd_vpt.integrations.pr_plain import pr_args
from tests.helpers import SHARD_A, Repo, run_cli
from tests.test_again import _launch, _no_click

FORMS = [
    ("--base", "main", "--head", "feature"),
    ("--base=main", "--head=feature", "--format", "json"),
    ("--head", "feature", "--base", "main", "--format=markdown"),
    ("--base", "no-such-branch"),  # a user error: exit 2, the same message
    ("--base", "main"),  # head is HEAD
]


@pytest.mark.parametrize("form", FORMS)
def test_a_plain_pr_without_click_is_the_command(
    branched: Repo, form: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    with (branched.root / SHARD_A).open("ab") as shard:
        shard.write(b"not json\n")  # a warning on the way
    by_click = run_cli("pr", *form)
    with monkeypatch.context() as patched:
        _no_click(patched)
        made = _launch("pr", *form)
    assert made == (by_click.code, by_click.out, by_click.err)
    assert made[0] in (0, 2) and (made[0] == 2) == ("no-such-branch" in form)


@pytest.mark.parametrize(
    "argv",
    [
        ["pr"],  # --base is required: click says so
        ["pr", "--head", "x"],
        ["pr", "--base"],
        ["pr", "--base", "--head"],
        ["pr", "--base", ""],
        ["pr", "--base", "a", "--base", "b"],
        ["pr", "--base", "a", "--format", "csv"],
        ["pr", "--base", "a", "--fail-on-alert"],
        ["pr", "--base", "a", "--baseline-days", "7"],
        ["pr", "--base", "a", "--strict"],
        ["pr", "--base", "a", "--no-cache"],
        ["pr", "--base", "a", "extra"],
        ["pr", "--help"],
    ],
)
def test_every_other_form_goes_to_click(argv: list[str]) -> None:
    assert pr_args(argv) is None


def test_the_plain_forms_read() -> None:
    assert pr_args(["pr", "--base", "main"]) == ("main", "HEAD", "markdown")
    assert pr_args(["pr", "--base=a", "--head=b", "--format=json"]) == ("a", "b", "json")
