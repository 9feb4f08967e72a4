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
    ("--base", "main", "--head", "feature", "--baseline-days", "7", "--fail-on-alert"),
    ("--fail-on-alert", "--baseline-days=3650", "--base=main"),  # the Action's form
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
        ["pr", "--base", "a", "--fail-on-alert", "--fail-on-alert"],
        ["pr", "--base", "a", "--fail-on-alert=1"],
        ["pr", "--base", "a", "--baseline-days", "0"],
        ["pr", "--base", "a", "--baseline-days", "3651"],
        ["pr", "--base", "a", "--baseline-days", "07"],
        ["pr", "--base", "a", "--baseline-days", "+7"],
        ["pr", "--base", "a", "--baseline-days", "seven"],
        ["pr", "--base", "a", "--baseline-days"],
        ["pr", "--base", "a", "--strict"],
        ["pr", "--base", "a", "--no-cache"],
        ["pr", "--base", "a", "extra"],
        ["pr", "--help"],
    ],
)
def test_every_other_form_goes_to_click(argv: list[str]) -> None:
    assert pr_args(argv) is None


def test_the_plain_forms_read() -> None:
    plain = pr_args(["pr", "--base", "main"])
    assert plain is not None
    assert (plain.base, plain.head, plain.fmt, plain.baseline_days, plain.fail_on_alert) == (
        "main",
        "HEAD",
        "markdown",
        30,
        False,
    )
    every = pr_args(
        ["pr", "--base=a", "--head=b", "--format=json", "--baseline-days", "9", "--fail-on-alert"]
    )
    assert every is not None
    assert (every.base, every.head, every.fmt, every.baseline_days, every.fail_on_alert) == (
        "a",
        "b",
        "json",
        9,
        True,
    )


def test_a_hard_alert_fails_the_plain_form_as_it_fails_the_command(
    branched: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--fail-on-alert: exit 1 after printing, the same words on stderr."""
    branched.git("checkout", "-q", "main")
    config = branched.root / ".beads/vpt/config.toml"
    text = config.read_text()
    config.write_text(text.replace("[thresholds]\n", '[thresholds]\nhard = ["reopen_rate"]\n'))
    branched.commit_all("reopens are a hard line")
    branched.git("checkout", "-q", "feature")
    form = ("--base", "main", "--head", "feature", "--fail-on-alert")
    by_click = run_cli("pr", *form)
    with monkeypatch.context() as patched:
        _no_click(patched)
        made = _launch("pr", *form)
    assert made == (by_click.code, by_click.out, by_click.err)
    assert made[0] == 1 and "1 hard alert(s)" in made[2]


def test_a_report_s_reads_are_kept_until_the_next_one(branched: Repo) -> None:
    """pr keeps what it read (KEPT) rather than free it one by one as it returns (the process
    ends without the interpreter's tear-down); the next report lets the last one's go."""
    from bd_vpt.integrations.pr import KEPT, Read

    assert run_cli("pr", "--base", "main", "--head", "feature").code == 0
    first = [x for x in KEPT if isinstance(x, Read)]
    assert len(first) == 1
    assert run_cli("pr", "--base", "main", "--head", "feature").code == 0
    second = [x for x in KEPT if isinstance(x, Read)]
    assert len(second) == 1 and second[0] is not first[0]
