"""Property: every ledger line that `validate` accepts is read by every report without error.

Hypothesis draws records over the whole schema — every kind and result, times from year 0001
to 9999 with any offset, counts up to the bound, costs from 0 to the bound, snapshots with
and without labels, unknown extra fields, unicode everywhere — and now and then a value just
outside the schema. Whatever `validate` accepts, each report (every grouping, period, facet
and format) must then read with exit 0 (check: 0 or 1), no traceback and no internal error.
"""

from __future__ import annotations

import resource
import signal
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bd_vpt.economics.metrics import GROUP_KEYS
from tests.helpers import SHARD_A, Repo, run_cli

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BOUND = 10**15

ulids = st.text(CROCKFORD, min_size=26, max_size=26)
words = st.text(string.ascii_letters + string.digits + "-_ .é漢🙂", min_size=1, max_size=12)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@st.composite
def stamps(draw: st.DrawFn) -> str:
    """A time as some writer might put it: Z or an offset, with or without a fraction."""
    moment = draw(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC)))
    local = moment.astimezone(draw(offsets)) if 2 <= moment.year <= 9998 else moment
    text = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}"
    if draw(st.booleans()):
        text += "." + str(local.microsecond).rjust(6, "0")[: draw(st.integers(1, 6))]
    if local.utcoffset() == timedelta(0) and draw(st.booleans()):
        return text + "Z"
    offset = local.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def sometimes_wild(good: st.SearchStrategy[Any], *wild: Any) -> st.SearchStrategy[Any]:
    """Mostly good values, about one time in 32 a wild one (validate must refuse those)."""
    coins = st.tuples(*[st.booleans()] * 5)
    return coins.flatmap(lambda bits: st.sampled_from(wild) if all(bits) else good)


counts = sometimes_wild(st.integers(0, BOUND), -1, BOUND + 1, 1.5, True, "5")
amounts = sometimes_wild(
    st.one_of(st.none(), st.integers(0, BOUND), st.floats(0, BOUND, allow_nan=False)),
    -0.5,
    1e300,
    "1",
)
units = sometimes_wild(st.floats(0, 1, allow_nan=False), None, 1.5, -0.1, True)
optional_words = st.one_of(st.none(), words)


@st.composite
def usages(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    kinds = draw(
        st.lists(
            st.sampled_from(("input", "output", "cache_read", "cache_write", "reasoning", "total")),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    return {
        "kind": "usage",
        "bead": draw(optional_words),
        "model": draw(words),
        "provider": draw(optional_words),
        "session": draw(optional_words),
        "tokens": {k: draw(counts) for k in kinds},
        "cost_usd": draw(amounts),
        "price_ref": draw(optional_words),
        **({"requests": draw(st.integers(1, 1000))} if draw(st.booleans()) else {}),
    }


@st.composite
def outcomes(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    snapshot = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "priority": sometimes_wild(st.one_of(st.none(), st.integers(0, 4)), 5, True),
                    "type": sometimes_wild(optional_words, 5),
                    "labels": sometimes_wild(st.lists(words, max_size=4), "x", {"a": 1}, [1]),
                    "title": optional_words,
                },
            ),
        )
    )
    record: dict[str, Any] = {
        "kind": "outcome",
        "bead": draw(words),
        "result": draw(
            sometimes_wild(
                st.sampled_from(("completed", "reopened", "rejected", "abandoned")), "done"
            )
        ),
        "completion": draw(units),
        "snapshot": snapshot,
    }
    for name in ("value_usd", "human_minutes", "quality", "confidence"):
        if draw(st.booleans()):
            record[name] = draw(amounts if name in ("value_usd", "human_minutes") else units)
    return record


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    rid = draw(ulids)
    body = draw(st.one_of(usages(rid), outcomes(rid)))
    extra = draw(
        st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=8), words, max_size=2)
    )
    return {
        **{k: v for k, v in extra.items() if k not in body},
        "v": draw(sometimes_wild(st.just(1), 2, 0)),
        "id": rid,
        "ts": draw(stamps()),
        "actor": draw(words),
        "source": draw(words),
        **body,
    }


def reports(by: str, every: str, facet: str, bead: str | None) -> list[tuple[str, ...]]:
    return [
        *([("bead", "--", bead)] if bead else []),
        ("summary", "--by", by),
        ("summary", "--by", by, "--format", "json"),
        ("summary", "--format", "csv"),
        ("trend", "--every", every, "--by", "label"),
        ("trend", "--every", every, "--format", "json"),
        ("models", "--facet", facet),
        ("export",),
        ("export", "--format", "csv"),
        ("budget",),
        ("check",),
        ("compare", "--before", "2026-10", "--after", "2026-11"),
        ("marginal", "--by", "model"),
    ]


def _virtual_size() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


@contextmanager
def bounded(seconds: int = 10, extra: int = 1 << 30) -> Iterator[None]:
    """A report that runs away (hours of work, gigabytes of memory, e.g. one row per day from
    year 1 to 9999) fails here as an internal error instead of holding the machine."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"a report took over {seconds}s")

    limits = resource.getrlimit(resource.RLIMIT_AS)
    size = _virtual_size()
    if size is not None and limits[0] == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, limits[1]))
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, limits)


@pytest.fixture(scope="module")
def ledger_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    import subprocess

    root = tmp_path_factory.mktemp("accepted") / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return Repo(root)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(records(), min_size=1, max_size=3),
    by=st.sampled_from(GROUP_KEYS),
    every=st.sampled_from(("day", "week", "month")),
    facet=st.sampled_from(("type", "label")),
)
def test_every_accepted_line_is_read_by_every_report(
    ledger_repo: Repo,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[dict[str, Any]],
    by: str,
    every: str,
    facet: str,
) -> None:
    monkeypatch.chdir(ledger_repo.root)
    if not (ledger_repo.root / ".beads/vpt/config.toml").exists():
        assert run_cli("init").code == 0
    shard = Path(ledger_repo.root / SHARD_A)
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    checked = run_cli("validate", "--format", "json")
    assert "Traceback" not in checked.err and "internal error" not in checked.err
    assume(checked.code == 0)  # the property is about what validate accepts
    bead = next((r["bead"] for r in lines if r.get("bead")), None)
    for argv in reports(by, every, facet, bead):
        with bounded():
            result = run_cli(*argv)
        text = result.out + result.err
        assert "Traceback" not in text and "internal error" not in text, (argv, text)
        assert result.code in ((0, 1) if argv[0] == "check" else (0,)), (argv, text)
