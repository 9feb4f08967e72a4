"""What every command shares: the group, options parsed at the border, the repo it runs in.

Dates are turned into canonical UTC moments here (bd_vpt.when), so the core and the caches
never see words like `yesterday`, and a bad date is exit 2 before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bd_vpt import __version__

if TYPE_CHECKING:
    from bd_vpt.config import Config
    from bd_vpt.render.report import Report
    from bd_vpt.repo import RepoInfo

F = TypeVar("F", bound=Callable[..., Any])

REPORT_FORMATS = ("table", "json", "csv", "markdown")
WRITE_FORMATS = ("text", "json")


class Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the natural workflow


@click.group(
    cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="bd-vpt")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """Value Per Token for coding-agent fleets on beads (bd).

    Records the tokens each agent spent per bead and what came of it in an append-only
    JSONL ledger committed beside .beads/, and reports weighted beads closed per million
    tokens (BC/MT), cost per completion, reopen rate and attribution coverage from git.

    \b
    Example:
      bd-vpt init
      bd-vpt record bd-42 --model claude-sonnet-4-5 --input 12000 --output 3400
      bd-vpt close bd-42 --reason "fixed" --human-minutes 10
      bd-vpt summary --by agent
    """


def format_option(*choices: str) -> Callable[[F], F]:
    """The one --format option every command shares (first choice is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bd_vpt.when import canonical_since

    return canonical_since(value)


def _until(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bd_vpt.when import canonical_until

    return canonical_until(value)


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bd_vpt.when import as_of, stamp

    return None if value is None else stamp(as_of(value))


def _record_time(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bd_vpt.when import record_time

    return None if value is None else record_time(value)


DATE_HELP = "(a day, YYYY-MM, YYYY-Www, a time, today, yesterday, 7d, 4w, 3m)"


def since_option(help_text: str = "From this date or time (inclusive).") -> Callable[[F], F]:
    return click.option("--since", callback=_since, help=f"{help_text} {DATE_HELP}")


def window_options(func: F) -> F:
    """The report window every report shares: --since and --until."""
    func = since_option()(func)
    return click.option(
        "--until",
        callback=_until,
        help=f"To this date (the whole day, week or month) or time (exclusive). {DATE_HELP}",
    )(func)


def at_option(func: F) -> F:
    return click.option(
        "--at", callback=_as_of, help=f"Judge as of this date or time (default: now). {DATE_HELP}"
    )(func)


def ts_option(func: F) -> F:
    return click.option(
        "--ts", callback=_record_time, help=f"When it happened (default now). {DATE_HELP}"
    )(func)


def strict_option(func: F) -> F:
    return click.option(
        "--strict", is_flag=True, help="Fail (exit 2) on any bad ledger line instead of warning."
    )(func)


def source_options(func: F) -> F:
    """Which ledger a report reads: the working tree (default), --rev or --range."""
    func = click.option(
        "--no-cache", is_flag=True, help="Parse every blob again (ignore the local cache)."
    )(func)
    func = click.option(
        "--range",
        "range_",
        metavar="A..B|A...B",
        help="Only the records added between two revisions (A...B: since their merge base).",
    )(func)
    return click.option(
        "--rev", help="The ledger as committed at REV (default: the working tree)."
    )(func)


def open_repo() -> tuple[RepoInfo, Config]:
    """The repository bd-vpt runs in and its config."""
    from bd_vpt.config import here

    return here()


def warn_all(warnings: list[str]) -> None:
    from bd_vpt.errors import warn

    for text in warnings:
        warn(text)


def show(report: Report, fmt: str) -> None:
    from bd_vpt.render.report import emit

    emit(report, fmt)


TOKEN_LIMIT = 10**15  # the schema's bound on any token count


class Finite(click.FloatRange):
    """A float range that refuses nan and infinity (they cannot be written as JSON)."""

    name = "finite number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def token_count() -> click.IntRange:
    return click.IntRange(min=0, max=TOKEN_LIMIT)
