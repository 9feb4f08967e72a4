"""The writer checks a batch of ledger lines in one pass (first_line_problem): the same line
is refused, with the same message, as line_problem() over each line finds first."""

from __future__ import annotations

import random

import orjson
import pytest

from bd_vpt.errors import VptError
from bd_vpt.ledger.lines import first_line_problem, line_problem
from bd_vpt.ledger.records import usage_record
from bd_vpt.ledger.writer import refuse_bad
from tests.test_hook_guard import SECRETS, escaped

NEAR_MISSES = [
    "task-12",  # holds "sk-"
    "sk-short",
    "ghp_short",
    "AKIA0123",
    "a" * 39 + "-" + "b" * 39,  # two runs of 39
    "xoxb-1",
    "AIza-no",
    "-----BEGIN CERTIFICATE-----",
    "café ✓",
    "A1" * 20,  # 40 characters of an AWS secret key's alphabet (no lower case)
]


def value(rnd: random.Random) -> str:
    pick = rnd.random()
    if pick < 0.04:
        return rnd.choice(list(SECRETS.values()))
    if pick < 0.08:
        return escaped(rnd.choice(list(SECRETS.values())))
    if pick < 0.10:
        return rnd.choice(["tab\there", "bell\x07", "nul\x00", "del\x7f", "\\u0007"])
    if pick < 0.4:
        return rnd.choice(NEAR_MISSES)
    return "".join(rnd.choice("abcXYZ019/+-_ .") for _ in range(rnd.randint(0, 90)))


def line(rnd: random.Random) -> bytes:
    text = value(rnd)
    raw = orjson.dumps({"kind": "usage", "note": text, "model": "m"})
    if "\\u" in text:  # written as escapes in the JSON text itself
        raw = raw.replace(orjson.dumps(text), b'"' + text.encode() + b'"')
    if rnd.random() < 0.03:
        raw = raw.replace(b'"m"', b'"m\x01"')  # a raw control byte
    return raw


@pytest.mark.parametrize("seed", range(40))
def test_first_line_problem_is_line_problem_of_each_line(seed: int) -> None:
    rnd = random.Random(seed)
    lines = [line(rnd) for _ in range(rnd.randint(0, 60))]
    want = next(
        ((i, p) for i, raw in enumerate(lines) if (p := line_problem(raw)) is not None), None
    )
    assert first_line_problem(b"".join(raw + b"\n" for raw in lines)) == want


def test_every_secret_and_near_miss_alone() -> None:
    for text in [*SECRETS.values(), *map(escaped, SECRETS.values()), *NEAR_MISSES]:
        raw = orjson.dumps({"note": text}).replace(orjson.dumps(text), b'"' + text.encode() + b'"')
        found = first_line_problem(b"x\n" + raw + b"\n")
        problem = line_problem(raw)
        assert found == (None if problem is None else (1, problem))
    assert sum(line_problem(orjson.dumps({"n": t})) is not None for t in SECRETS.values()) == 11


def test_the_first_bad_record_is_refused_with_its_own_problem() -> None:
    def record(note: str, tokens: int = 1) -> dict[str, object]:
        made = usage_record(
            bead=None, actor="a", model="m", tokens={"input": tokens}, cost_usd=None, price_ref=None
        )
        made["session"] = note
        return made

    good = [record("s") for _ in range(3)]
    secret = record(SECRETS["ghp"])
    invalid = record("s", tokens=-1)
    assert len(refuse_bad(good)) == 3
    for batch, words in (
        ([*good, secret, invalid], "looks like a secret"),
        ([*good, invalid, secret], "refusing to write a bad record: "),
    ):
        with pytest.raises(VptError) as caught:
            refuse_bad(batch)
        assert words in caught.value.message
    with pytest.raises(VptError) as caught:
        refuse_bad([*good, invalid, secret])
    assert "secret" not in caught.value.message
