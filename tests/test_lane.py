"""The compiled lane (ledger/lane/*.c) folds a blob exactly as the Python lane does.

The compiled lane takes only the usage and outcome lines it can prove are in bd-vpt's own
shape, and hands every other line to the Python lane. Whatever the bytes, a blob's fold is the
same with it and without it: rows, outcomes, id and source_ref keys, problems and counts.
Explored here with every single change of a usage and an outcome line, lines written by hand
in every JSON form (spaces, escapes, number forms, repeated keys, unknown fields, odd days,
CRLF), random blobs of such lines, random bytes, costs that test the rounding to picodollars,
records around the bounds of a window that cuts a day, and the edges of the compiled lane's
fast ways (a byte that spoils a text, a count or a key at every place, lines cut short, keys in
any order, thousands of lines, folds in threads and forks).

By hand, after a change to the C (not in CI): build it with the sanitizers and run these tests
with them preloaded (tests/asan.py loads that build in place of the installed one):

    gcc -shared -fPIC -g -O1 -fsanitize=address,undefined -I/usr/include/python3.11 \
        bd_vpt/ledger/lane/*.c -o /tmp/asan/_lane.cpython-311-x86_64-linux-gnu.so
    ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(gcc -print-file-name=libasan.so) \
        $(gcc -print-file-name=libubsan.so)" .venv/bin/python -m tests.asan lane /tmp/asan

and again with `-U__SSE2__` (strings scanned a word at a time, as where there is no SSE2) and
with `-DLANE_BYTEWISE` (every reader byte by byte, as on a big-endian machine) added to gcc's
flags.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import threading
from array import array
from collections import Counter
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.ledger import fast
from bd_vpt.ledger.rows import BlobFold, fold_blob
from tests.helpers import outcome, ulid, usage
from tests.test_folds import FULL_USAGE, USAGE_FIELDS
from tests.test_validator_agrees import EDGES, MISSING, OUTCOME, change, near_valid

COMPILED = fast.LANE
needs_lane = pytest.mark.skipif(COMPILED is None, reason="the compiled lane is not built here")


def test_the_compiled_lane_is_built_where_a_c_compiler_is() -> None:
    """setup.py builds it optionally; where cc exists (CI), a failed build is a failure."""
    if shutil.which("cc") or shutil.which("gcc"):
        assert COMPILED is not None


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[BlobFold, BlobFold]:
    fast_fold = fold_blob(data)
    with monkeypatch.context() as m:
        m.setattr(fast, "LANE", None)
        slow_fold = fold_blob(data)
    return fast_fold, slow_fold


def _same(data: bytes, monkeypatch: pytest.MonkeyPatch) -> BlobFold:
    a, b = _both(data, monkeypatch)
    assert a.rows == b.rows, data
    # the same outcomes, key order and number types included (1 == 1.0 in Python)
    assert orjson.dumps(a.outcomes) == orjson.dumps(b.outcomes), data
    assert sorted(a.ids) == sorted(b.ids) and sorted(a.refs) == sorted(b.refs)
    assert a.problems == b.problems
    assert (a.lines_read, a.duplicates, a.withdrawn, a.retracts) == (
        b.lines_read,
        b.duplicates,
        b.withdrawn,
        b.retracts,
    )
    return a


def _taken(data: bytes) -> int:
    """How many lines the compiled lane read (usage summed, outcomes read)."""
    assert COMPILED is not None
    got: fast.Taken | None = COMPILED.fold(data)
    if got is None:
        return 0
    return got[4] - sum(type(raw) is bytes for _, raw in got[3])


LINE = orjson.dumps(FULL_USAGE)

# (what to find, what to put instead): each a line the compiled lane must judge alone
TEXT_CHANGES: list[tuple[bytes, bytes]] = [
    (b'{"v"', b'{ "v"'),
    (b'"v":1', b'"v": 1'),
    (b'"v":1', b'"v":1.0'),
    (b'"v":1', b'"v":1e0'),
    (b'"v":1', b'"v":01'),
    (b'"v":1', b'"v":1,"v":1'),
    (b'"kind":"usage"', b'"kind":"usag\\u0065"'),
    (b'"kind":"usage"', b'"kind":"usage","kind":"usage"'),
    (b'"actor":"a"', b'"actor":"\\u00e9"'),
    (b'"actor":"a"', b'"actor":"\xc3\xa9"'),
    (b'"actor":"a"', b'"actor":"\xff"'),
    (b'"actor":"a"', b'"actor":"a\\"b"'),
    (b'"actor":"a"', b'"actor":"a\tb"'),
    (b'"actor":"a"', b'"actor":"\x7f"'),
    (b'"actor":"a"', b'"act\\u006fr":"a"'),
    (b'"actor":"a"', b'"actor":"a","extra":1'),
    (b'"input":1', b'"input":1,"input":2'),
    (b'"input":1', b'"input":-0'),
    (b'"input":1', b'"input":1E0'),
    (b'"input":1', b'"input":999999999999999'),
    (b'"input":1', b'"input":1000000000000000'),
    (b'"input":1', b'"input":1000000000000001'),
    (b'"input":1', b'"input":99999999999999999999'),
    (b'"cost_usd":0.5', b'"cost_usd":5e-1'),
    (b'"cost_usd":0.5', b'"cost_usd":5E-1'),
    (b'"cost_usd":0.5', b'"cost_usd":0.05e+1'),
    (b'"cost_usd":0.5', b'"cost_usd":0'),
    (b'"cost_usd":0.5', b'"cost_usd":-0.0'),
    (b'"cost_usd":0.5', b'"cost_usd":.5'),
    (b'"cost_usd":0.5', b'"cost_usd":0.'),
    (b'"cost_usd":0.5', b'"cost_usd":00.5'),
    (b'"cost_usd":0.5', b'"cost_usd":1e15'),
    (b'"cost_usd":0.5', b'"cost_usd":1e16'),
    (b'"cost_usd":0.5', b'"cost_usd":1e400'),
    (b'"cost_usd":0.5', b'"cost_usd":1000000000000000'),
    (b'"cost_usd":0.5', b'"cost_usd":9999999'),
    (b'"cost_usd":0.5', b'"cost_usd":5e-13'),
    (b'"cost_usd":0.5', b'"cost_usd":1.5e-12'),
    (b'"cost_usd":0.5', b'"cost_usd":2.5e-12'),
    (b'"cost_usd":0.5', b'"cost_usd":0.1000000000000000055511151231257827'),
    (b'"cost_usd":0.5', b'"cost_usd":null'),
    (b'"cost_usd":0.5', b'"cost_usd":nul'),
    (b'"cost_usd":0.5', b'"cost_usd":true'),
    (b'"cost_usd":0.5', b'"cost_usd":"0.5"'),
    (b'"reported_cost_usd":0.4', b'"reported_cost_usd":-1'),
    (b'"reported_cost_usd":0.4', b'"reported_cost_usd":null'),
    (b'"requests":2', b'"requests":0'),
    (b'"messages":3', b'"messages":0'),
    (b'"gt_session":"gt-1"', b'"gt_session":null'),
    (b'"bead":"bd-1"', b'"bead":null'),
    (b'"bead":"bd-1"', b'"bead":""'),
    (b'"source":"manual"', b'"source":""'),
    (b'"source_ref":null', b'"source_ref":""'),
    (b'"session":null', b'"session":"s-1"'),
    (b"2026-11-24T10:00:00.000Z", b"2024-02-29T10:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"2023-02-29T10:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"1900-02-29T10:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"2000-02-29T10:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"0000-01-01T00:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"0001-01-01T00:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"9999-12-31T23:59:59.999Z"),
    (b"2026-11-24T10:00:00.000Z", b"2026-04-31T10:00:00.000Z"),
    (b"2026-11-24T10:00:00.000Z", b"2026-11-24T10:00:00.000+00:00"),
    (b"2026-11-24T10:00:00.000Z", b"2026-11-24T10:00:00.00Z"),
    (b"2026-11-24T10:00:00.000Z", b"2026-11-00T10:00:00.000Z"),
    (b"01JD0000000000000000000000", b"01JD000000000000000000000I"),
    (b"01JD0000000000000000000000", b"01JD000000000000000000000u"),
    (b"01JD0000000000000000000000", b"01JD00000000000000000000ZZ"),
    (b'"reasoning":1}', b'"reasoning":1 }'),
    (b'"reasoning":1}', b'"reasoning":1,}'),
    (b'"requests":2}', b'"requests":2} '),
    (b'"requests":2}', b'"requests":2}\r'),
    (b'"requests":2}', b'"requests":2,}'),
    (b'"requests":2}', b'"requests":2'),
    (b'"requests":2}', b'"requests":2}}'),
    (b'{"v"', b'\xef\xbb\xbf{"v"'),
    # fields a usage record does not define (importers add some): read past, any JSON value
    (b'"actor":"a"', b'"actor":"a","first_ts":"2026-11-24T10:00:00.000Z","sidechain_messages":1'),
    (b'"actor":"a"', b'"actor":"a","last_message":["2026-11-24T10:00:00.000Z","m:r"]'),
    (b'"actor":"a"', b'"actor":"a","x":{"a":[1,-2.5e-3,true,false,null,{"b":{}}],"c":[]}'),
    (b'"actor":"a"', b'"actor":"a","x":1e400,"y":-0,"z":0.0E+0'),
    (b'"actor":"a"', b'"actor":"a","x":1,"x":2'),
    (b'"actor":"a"', b'"actor":"a","x":"caf\\u00e9"'),
    (b'"actor":"a"', b'"actor":"a","x":"caf\xc3\xa9"'),
    (b'"actor":"a"', b'"actor":"a","x":[1,]'),
    (b'"actor":"a"', b'"actor":"a","x":[1 ]'),
    (b'"actor":"a"', b'"actor":"a","x":{"a":1,}'),
    (b'"actor":"a"', b'"actor":"a","x":{1:2}'),
    (b'"actor":"a"', b'"actor":"a","x":01'),
    (b'"actor":"a"', b'"actor":"a","x":-'),
    (b'"actor":"a"', b'"actor":"a","x":1.'),
    (b'"actor":"a"', b'"actor":"a","x":.5'),
    (b'"actor":"a"', b'"actor":"a","x":1e'),
    (b'"actor":"a"', b'"actor":"a","x":tru'),
    (b'"actor":"a"', b'"actor":"a","x":nulll'),
    (b'"actor":"a"', b'"actor":"a","x":NaN'),
    (b'"actor":"a"', b'"actor":"a","x":' + b"[" * 40 + b"]" * 40),
    (b'"actor":"a"', b'"actor":"a","x":' + b"[" * 30 + b"]" * 30),
    (b'"actor":"a"', b'"actor":"a","x"'),
    (b'"actor":"a"', b'"actor":"a","x":'),
    (b'"tokens":{', b'"tokens":{},"x":{'),
]


def _variants(
    base: dict[str, Any], fields: list[str], line: bytes, changes: list[tuple[bytes, bytes]]
) -> list[bytes]:
    """base with every field set to every edge value (or removed), and line with each text
    change made."""
    lines = []
    for name in fields:
        for value in [MISSING, *EDGES]:
            record = copy.deepcopy(base)
            change(record, name, value)
            try:
                lines.append(orjson.dumps(record))
            except TypeError:  # nan and inf: no JSON
                continue
    for find, put in changes:
        assert find in line, find
        lines.append(line.replace(find, put, 1))
    return lines


VARIANTS = _variants(FULL_USAGE, USAGE_FIELDS, LINE, TEXT_CHANGES)

FULL_OUTCOME: dict[str, Any] = {
    **OUTCOME,
    "ts": "2026-11-24T10:00:00.000Z",
    "completion": 1,
    "human_minutes": 5,
    "quality": 0.5,
    "confidence": 1.0,
    "reason": "r",
    "evidence": "e",
    "commit": "c0ffee",
}
OUTCOME_LINE = orjson.dumps(FULL_OUTCOME)
OUTCOME_FIELDS = [
    *FULL_OUTCOME,
    "snapshot.priority",
    "snapshot.type",
    "snapshot.labels",
    "snapshot.title",
    "snapshot.extra",
]
OUTCOME_TEXT_CHANGES: list[tuple[bytes, bytes]] = [
    (b'"completion":1', b'"completion":1.0'),
    (b'"completion":1', b'"completion":1e0'),
    (b'"completion":1', b'"completion":0.25E1'),
    (b'"completion":1', b'"completion":0'),
    (b'"completion":1', b'"completion":-0'),
    (b'"completion":1', b'"completion":null'),
    (b'"human_minutes":5', b'"human_minutes":5.5'),
    (b'"human_minutes":5', b'"human_minutes":1000000000000000'),
    (b'"human_minutes":5', b'"human_minutes":1000000000000001'),
    (b'"human_minutes":5', b'"human_minutes":1e15'),
    (b'"human_minutes":5', b'"human_minutes":0.1000000000000000055511151231257827'),
    (b'"value_usd":10', b'"value_usd":10,"value_usd":10'),
    (b'"value_usd":10', b'"value_usd":null'),
    (b'"value_usd":10', b'"value_usd":"10"'),
    (b'"quality":0.5', b'"quality":1'),
    (b'"quality":0.5', b'"quality":1.0000001'),
    (b'"priority":2', b'"priority":4'),
    (b'"priority":2', b'"priority":5'),
    (b'"priority":2', b'"priority":2.0'),
    (b'"priority":2', b'"priority":null'),
    (b'"priority":2', b'"priority":2,"priority":2'),
    (b'"labels":["x"]', b'"labels":[]'),
    (b'"labels":["x"]', b'"labels":["x","y",""]'),
    (b'"labels":["x"]', b'"labels":[ "x"]'),
    (b'"labels":["x"]', b'"labels":["x",]'),
    (b'"labels":["x"]', b'"labels":[1]'),
    (b'"labels":["x"]', b'"labels":null'),
    (b'"labels":["x"]', b'"labels":["\\u0078"]'),
    (b'"labels":["x"]', b'"labels":["x"'),
    (b'"snapshot":{', b'"snapshot":{"extra":1,'),
    (b'"title":"t"}', b'"title":"t"},"snapshot":null'),
    (b'"result":"completed"', b'"result":"reopened"'),
    (b'"result":"completed"', b'"result":"bogus"'),
    (b'"result":"completed"', b'"result":"complete"'),
    (b'"kind":"outcome"', b'"kind":"outcome","kind":"outcome"'),
    (b'"kind":"outcome"', b'"kind": "outcome"'),
    (b'"bead":"bd-1"', b'"bead":null'),
    (b'"bead":"bd-1"', b'"bead":""'),
    (b'"source_ref":"bd:bd-1:closed:x"', b'"source_ref":null'),
    (b'"source_ref":"bd:bd-1:closed:x"', b'"source_ref":""'),
    (b'"source_ref":"bd:bd-1:closed:x"', b'"source_ref":1'),
    (b'"reason":"r"', b'"reason":"caf\\u00e9"'),
    (b'"reason":"r"', b'"reason":"caf\xc3\xa9"'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee"} '),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","extra":[1]}'),
    # fields an outcome does not define (sync writes closed_by, excluded): kept as orjson reads
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","closed_by":"mayor","excluded":"a wisp"}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":{"a":[1,-2,2.5,-2.5e-3,true,false,null]}}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":{"a":1,"a":2,"b":{}},"y":[[],[{}]]}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":1,"x":"again"}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":123456789012345678}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":1234567890123456789}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":-9223372036854775808}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":-0}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":-0.0}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":1e400}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":1E2,"y":1.0,"z":-1e-5}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":0.1000000000000000055511151231257827}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":01}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":[1,]}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":{"a"}}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":"\\n"}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":tru}'),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":' + b"[" * 40 + b"]" * 40 + b"}"),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":' + b"[" * 30 + b"]" * 30 + b"}"),
    (b'"commit":"c0ffee"}', b'"commit":"c0ffee","x":}'),
    (b"2026-11-24T10:00:00.000Z", b"2026-11-24T10:00:00Z"),
    (b"2026-11-24T10:00:00.000Z", b"2024-02-29T23:59:59.999Z"),
    (b'"v":1', b'"v":2'),
]


OUTCOME_VARIANTS = _variants(FULL_OUTCOME, OUTCOME_FIELDS, OUTCOME_LINE, OUTCOME_TEXT_CHANGES)


@needs_lane
@pytest.mark.parametrize("kind", ["usage", "outcome"])
def test_every_variant_of_a_line_folds_the_same(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variants = VARIANTS if kind == "usage" else OUTCOME_VARIANTS
    taken = 0
    for line in variants:
        _same(line + b"\n", monkeypatch)
        taken += _taken(line + b"\n")
    assert taken > 60 and len(variants) - taken > 600  # both lanes really exercised


@needs_lane
def test_the_compiled_lane_takes_the_lines_bd_vpt_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        orjson.dumps(usage(ulid(n), "2026-11-24T10:00:00.000Z", "b", "a", "m", n, 2, 0.25))
        for n in range(1, 50)
    ]
    lines.append(orjson.dumps(FULL_OUTCOME))
    assert _taken(b"\n".join(lines) + b"\n") == 50
    # a checkout that turned the newlines into CRLF: the same fold, every line still taken
    crlf = b"\r\n".join(lines) + b"\r\n"
    assert _taken(crlf) == 50
    assert _same(crlf, monkeypatch).rows == fold_blob(b"\n".join(lines) + b"\n").rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_near_valid_records_fold_the_same(record: dict[str, Any]) -> None:
    try:
        line = orjson.dumps(record)
    except TypeError:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(line + b"\n", monkeypatch)


def _blob_lines() -> st.SearchStrategy[bytes]:
    n = st.integers(1, 6)
    made = st.builds(
        lambda k, day, bead, model, inp, cost, ref, session: orjson.dumps(
            usage(
                ulid(k),
                f"2026-11-{day:02d}T{k % 24:02d}:00:00.000Z",
                bead,
                "a",
                model,
                inp,
                k,
                cost,
                source_ref=ref,
                session=session,
            )
        ),
        n,
        st.integers(1, 3),
        st.sampled_from([None, "b-1", "b-2"]),
        st.sampled_from(["m", "n"]),
        st.integers(0, 10**15),
        st.one_of(st.none(), st.floats(0, 1e15), st.sampled_from([0.1, 2.5e-12, 1e-13])),
        st.one_of(st.none(), st.sampled_from(["r1", "r2", "r3"])),
        st.sampled_from([None, "s1", "s2"]),
    )
    ended = st.builds(
        lambda k, bead: orjson.dumps(
            outcome(ulid(k), "2026-11-02T10:00:00.000Z", bead, "a", "completed", 2)
        ),
        n,
        st.sampled_from(["b-1", "b-2"]),
    )
    odd = st.sampled_from(
        [b"", b"   ", b"not json", b"{}", *VARIANTS[::37], *OUTCOME_VARIANTS[::41]]
    )
    return st.one_of(made, made, ended, odd)


@needs_lane
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_blob_lines(), max_size=12))
def test_random_blobs_fold_the_same(lines: list[bytes]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(b"".join(line + b"\n" for line in lines), monkeypatch)


@needs_lane
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.integers(0, len(LINE)))
def test_random_bytes_fold_the_same(noise: bytes, at: int) -> None:
    line = LINE[:at] + noise + LINE[at:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(line + b"\n" + noise + b"\n", monkeypatch)


@needs_lane
@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.floats(0, 1e15),
        st.decimals(0, 10**7, places=20).map(str),
        st.decimals(0, 1, places=15).map(lambda d: f"{Decimal(d):.15E}"),
    )
)
def test_costs_round_to_the_same_picodollars(cost: float | str) -> None:
    line = LINE.replace(b'"cost_usd":0.5', b'"cost_usd":' + str(cost).encode())
    assert line != LINE or cost == 0.5
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(line + b"\n", monkeypatch)


@needs_lane
def test_repeated_ids_and_refs_send_the_blob_the_python_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = usage(ulid(1), "2026-11-24T10:00:00.000Z", "b", "a", "m", 1, 2, 0.25, source_ref="r")
    same_id = {**a, "source_ref": "s"}
    same_ref = {**a, "id": ulid(2)}
    as_outcome = outcome(ulid(1), "2026-11-24T11:00:00.000Z", "b", "a", "completed", 2)
    for other in (same_id, same_ref, as_outcome):
        fold = _same(orjson.dumps(a) + b"\n" + orjson.dumps(other) + b"\n", monkeypatch)
        kept = sum(row[0] for row in fold.rows.values()) + len(fold.outcomes)
        assert kept == 1 and fold.duplicates + len(fold.problems) == 1, other


def test_random_ledgers_agree_without_the_compiled_lane(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no C compiler built the lane, the Python lane alone folds (the suite's other
    tests run with the compiled lane where it is built): the folded and record routes still
    agree on random ledgers."""
    from bd_vpt.ledger.cache import forget_folds
    from tests.test_folds import test_folded_and_record_routes_agree_on_random_ledgers as agree

    monkeypatch.setattr(fast, "LANE", None)
    forget_folds()
    agree(tmp_path_factory)


@needs_lane
@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["q", "Q"]),
    st.lists(st.sets(st.integers(0, 2**64 - 1) | st.integers(0, 50)), max_size=6),
)
def test_repeated_keys_are_found_by_the_radix_sort_as_by_numpy(
    code: str, sets: list[set[int]]
) -> None:
    """rows.repeated: the compiled lane's sort gives numpy's keys, in numpy's order."""
    from array import array

    from bd_vpt.ledger.rows import SMALL, repeated

    shift = 2**63 if code == "q" else 0
    arrays = [array(code, sorted(k - shift for k in keys)) for keys in sets]
    arrays.append(array(code, range(SMALL)))  # past SMALL: the sorting route, not sets
    with pytest.MonkeyPatch.context() as monkeypatch:
        kept_c: list[Any] = []
        found_c = repeated(arrays, kept_c)
        monkeypatch.setattr(fast, "LANE", None)
        kept_numpy: list[Any] = []
        assert repeated(arrays, kept_numpy) == found_c
        assert kept_c == kept_numpy


@needs_lane
@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        [
            "0001-01-01T00:00:00",
            "1969-12-31T23:59:59",
            "1970-01-01T00:00:00",
            "2024-02-29T23:59:59",
            "2026-11-04T09:30:00",
            "9999-12-31T23:59:58",
        ]
    ),
    st.lists(st.integers(-1500, 1500), min_size=1, max_size=12),
    st.integers(-1_500_000, 1_500_000) | st.sampled_from([0, -1000, 1000, 1, -1]),
    st.none() | st.integers(0, 3_000_000),
)
def test_a_cut_day_is_placed_to_the_microsecond_as_the_record_route_places_it(
    base: str, offsets: list[int], since_us: int, span_us: int | None
) -> None:
    """Records a millisecond apart around a window's bounds, bounds off by microseconds:
    the compiled lane places each record on the side the record route does."""
    from datetime import datetime, timedelta

    from bd_vpt.economics.periods import Window
    from bd_vpt.ledger.records import format_ts
    from tests.test_folds import _cut_both_ways

    start = datetime.fromisoformat(base + "+00:00")
    moments = []
    for n, ms in enumerate(offsets):
        try:
            moments.append((n, format_ts(start + timedelta(milliseconds=ms))))
        except OverflowError:
            continue
    lines = [usage(ulid(n + 1), ts, "b", "a", "m", n, 1, 0.5) for n, ts in moments]
    data = b"".join(orjson.dumps(r) + b"\n" for r in lines)
    try:
        since = start + timedelta(microseconds=since_us)
        until = None if span_us is None else since + timedelta(microseconds=span_us)
    except OverflowError:
        return
    win = Window(since, until)
    placed, expected = _cut_both_ways(data, win)
    assert placed is not None and placed.rows == expected.rows
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fast, "LANE", None)
        python_placed, _ = _cut_both_ways(data, win)
    assert python_placed is not None and python_placed.rows == placed.rows


@needs_lane
def test_ids_and_refs_sorted_side_by_side_give_what_one_after_the_other_gives() -> None:
    from array import array

    from bd_vpt.ledger.rows import SMALL, repeated, repeated_both

    ids = [array("q", range(k, SMALL + 7, 3)) for k in range(3)] + [array("q", [5, 9])]
    refs = [array("Q", range(2**63, 2**63 + SMALL)), array("Q", [2**63 + 1, 7])]
    kept_both: list[Any] = []
    found = repeated_both(ids, refs, kept_both)
    kept_apart: list[Any] = []
    assert found == (repeated(ids, kept_apart), repeated(refs, kept_apart))
    assert found[0] == {5, 9} and found[1] == {2**63 + 1}
    assert kept_both == kept_apart and [a.typecode for a in kept_both] == ["q", "Q"]


# The compiled lane's fast ways (lane.h): a guessed key's "name": compared as two words,
# strings scanned and counts read eight bytes at a time, kind, v, id and ts read in place, the
# line's key order guessed from the line before. Each must take exactly what the byte-by-byte
# way takes: every byte that ends or spoils a text, at every place, and lines cut anywhere.

SPOILERS = [b"\x00", b"\x1f", b" ", b"!", b'"', b"\\", b"~", b"\x7f", b"\x80", b"\xba", b"\xff"]


def _each_alone(lines: list[bytes], monkeypatch: pytest.MonkeyPatch) -> int:
    """Every line folded alone by both lanes; how many the compiled lane took."""
    taken = 0
    for line in lines:
        _same(line + b"\n", monkeypatch)
        taken += _taken(line + b"\n")
    return taken


@needs_lane
@pytest.mark.parametrize("field", ["actor", "model", "source_ref", "bead"])
def test_a_text_spoiled_at_every_place_folds_the_same(
    field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = []
    plain = 0  # lines whose texts are all printable ASCII but the quote and the backslash
    for size in range(20):
        text = bytes(b"abcdefghijklmnopqrst"[:size])
        plain += 3 * 2 * (size + 1) + (size > 0)  # (" ", "!" and "~"; a text of actor)
        for bad in SPOILERS:
            for at in range(size + 1):
                spoiled = text[:at] + bad + text[at:]
                line = orjson.dumps({k: v for k, v in FULL_USAGE.items() if k != field})
                # the field last (no 8 bytes after it) and first (many after it)
                member = b'"' + field.encode() + b'":"' + spoiled + b'"'
                lines.append(line[:-1] + b"," + member + b"}")
                lines.append(b"{" + member + b"," + line[1:])
        lines.append(LINE.replace(b'"actor":"a"', b'"actor":"' + text + b'"'))
    assert _each_alone(lines, monkeypatch) == plain  # the lane takes those, and only those


@needs_lane
def test_counts_of_every_length_and_what_follows_them_fold_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    after = [b"", b".5", b"e1", b"E1", b" ", b"/", b":", b"a", b"\x80", b"\xba", b"\xff", b'"']
    lines = []
    for n in range(1, 19):
        for digits in (b"7" * n, b"1" + b"0" * (n - 1), b"0" * n, b"9" * n):
            for tail in after:
                lines.append(LINE.replace(b'"input":1', b'"input":' + digits + tail, 1))
                lines.append(LINE.replace(b'"requests":2', b'"requests":' + digits + tail, 1))
                lines.append(LINE.replace(b'"v":1', b'"v":' + digits + tail, 1))
    taken = _each_alone(lines, monkeypatch)
    assert taken > 18 * 4


@needs_lane
def test_kind_v_id_and_ts_read_in_place_fold_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    ulid_text = b"01JD0000000000000000000000"
    ts = b"2026-11-24T10:00:00.000Z"
    changes = [
        (
            b'"kind":"usage"',
            [b'"kind":"usage "', b'"kind":"usag"', b'"kind":"usagee"', b'"kind":"Usage"'],
        ),
        (b'"kind":"usage"', [b'"kind":"usage"}', b'"kind":usage']),
        (b'"v":1,', [b'"v":1}', b'"v":1 ,', b'"v":1\x00', b'"v":10,', b'"v":1', b'"v":']),
        (
            b'"id":"' + ulid_text + b'"',
            [b'"id":"' + ulid_text[:-1] + b'"', b'"id":"' + ulid_text + b'0"'],
        ),
        (
            b'"id":"' + ulid_text + b'"',
            [
                b'"id":' + ulid_text,
                b'"id":"' + ulid_text[:-1] + b'"0',
                b'"id":"' + ulid_text + b"x",
            ],
        ),
        (
            b'"ts":"' + ts + b'"',
            [
                b'"ts":"' + ts[:-1] + b'"',
                b'"ts":"' + ts + b'Z"',
                b'"ts":' + ts,
                b'"ts":"' + ts + b"x",
            ],
        ),
        (
            b'"ts":"' + ts + b'"',
            [b'"ts":"' + ts[:-1] + b'""', b'"ts":"' + ts.replace(b"T", b'"') + b'"'],
        ),
    ]
    lines = [LINE.replace(find, put, 1) for find, puts in changes for put in puts]
    for at in range(len(ulid_text)):  # a byte outside the ULID digits, at every place
        for bad in [b"I", b"u", b'"', b"\\", b"\x00"]:
            spoiled = ulid_text[:at] + bad + ulid_text[at + 1 :]
            lines.append(LINE.replace(ulid_text, spoiled, 1))
    for at in range(len(ts)):
        for bad in [b"0", b"9", b"a", b'"', b"\\", b"\x00", b" "]:
            lines.append(LINE.replace(ts, ts[:at] + bad + ts[at + 1 :], 1))
    # the four at the end of the line (fewer than 8 or 16 bytes after them)
    for name in ("kind", "v", "id", "ts"):
        member = b'"' + name.encode() + b'":' + orjson.dumps(FULL_USAGE[name])
        lines.append(LINE.replace(member + b",", b"", 1)[:-1] + b"," + member + b"}")
    taken = _each_alone(lines, monkeypatch)
    assert taken >= 4 + 12  # the four at the end; ts digits that still make a real stamp


@needs_lane
def test_every_line_cut_short_and_every_key_spoiled_folds_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = [LINE[:n] for n in range(len(LINE))]
    lines += [LINE[:n] + b"}" for n in range(len(LINE))]
    for name in [*FULL_USAGE, *FULL_USAGE["tokens"]]:
        key = b'"' + name.encode() + b'":'
        for at in range(len(key)):
            for bad in [b"x", b"_", b'"', b":", b"\\"]:
                lines.append(LINE.replace(key, key[:at] + bad + key[at + 1 :], 1))
        lines.append(LINE.replace(key, key[:-2] + b's":', 1))  # a longer name: unknown
        lines.append(LINE.replace(key, key[:-3] + b'":', 1))  # a shorter one
        lines.append(LINE.replace(key, b" " + key, 1))
    taken = _each_alone(lines, monkeypatch)
    assert 100 < taken < len(lines) - 1000  # (an optional key spoiled: unknown, read past)


@needs_lane
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.permutations(list(FULL_USAGE)), min_size=1, max_size=8), st.data())
def test_lines_whose_keys_come_in_any_order_fold_the_same(
    orders: list[list[str]], data: st.DataObject
) -> None:
    """The key that followed a key in the line before is tried first: orders that change
    from line to line, keys missing, keys repeated."""
    lines = []
    for n, order in enumerate(orders):
        record = {name: FULL_USAGE[name] for name in order}
        record["id"] = ulid(n + 1)
        tokens = list(FULL_USAGE["tokens"].items())
        record["tokens"] = dict(data.draw(st.permutations(tokens)))
        line = orjson.dumps(record)
        if data.draw(st.booleans()):
            name = data.draw(st.sampled_from(order))
            member = b'"' + name.encode() + b'":' + orjson.dumps(record[name])
            line = line.replace(
                member, data.draw(st.sampled_from([b"", member + b"," + member])), 1
            )
            line = line.replace(b",,", b",").replace(b"{,", b"{").replace(b",}", b"}")
        lines.append(line)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(b"".join(line + b"\n" for line in lines), monkeypatch)


@needs_lane
def test_many_lines_and_their_keys_fold_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the key sets' first sizes: a repeated id or ref found among thousands, ids that
    share a key (the same last 12 characters), CRLF lines and blank ones between."""

    def line(n: int, rid: str | None = None, ref: str | None = None) -> bytes:
        record = usage(
            rid or ulid(n),
            f"2026-{n % 2 + 10}-{n % 28 + 1:02d}T{n * 7 % 24:02d}:{n * 13 % 60:02d}:"
            f"{n * 17 % 60:02d}.{n * 31 % 1000:03d}Z",  # a row's first ts: any of its bytes
            f"bead-{n // 3 % 7}",  # texts that differ in their last byte only, from 1 to 17
            f"actor/{'w' * (n % 17)}{n // 5 % 3}",
            f"model-{n // 2 % 5}",
            n,
            n % 11,
            n / 1000,
            source_ref=ref or f"claude:{n:x}:" + "r" * (n % 40),
            session=f"s{n % 2}",
        )
        return orjson.dumps(record)

    lines = [line(n) for n in range(1, 5000)]
    base = b"\n".join(lines) + b"\n"
    for blob in (
        base,
        base.replace(b"\n", b"\r\n"),
        base.replace(b"\n", b"\n \n", 100),
        base + line(6000, rid=ulid(4321)) + b"\n",  # an id again
        base + line(6000, ref="claude:10e1:" + "r" * (4321 % 40)) + b"\n",  # a ref again
        base + line(6000, rid="7ZZZZZZZZZZZ" + ulid(4321)[-14:]) + b"\n",  # not the same id
        base + line(6000, rid="7ZZZZZZZZZZZ" + ulid(4321)[12:]) + b"\n",  # another text, one key
    ):
        _same(blob, monkeypatch)
    assert _taken(base) == len(lines)


@needs_lane
def test_ids_sharing_one_key_fold_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids alike in their last 12 characters share a key: up to 16 texts of one key are
    taken, more send the blob the Python way (made so, never by chance)."""
    for count in (2, 16, 17, 18):
        lines = [
            orjson.dumps(
                usage(
                    ulid(n)[:2] + f"{n:02d}" + ulid(7)[4:],
                    "2026-11-24T10:00:00.000Z",
                    "b",
                    "a",
                    "m",
                    n,
                    1,
                )
            )
            for n in range(1, count + 1)
        ]
        _same(b"\n".join(lines) + b"\n", monkeypatch)
        assert _taken(b"\n".join(lines) + b"\n") == (count if count <= 17 else 0)


@needs_lane
def test_folds_in_threads_at_once_give_what_one_at_a_time_gives() -> None:
    """The buffers kept from one fold for the next are shared by the threads that fold."""
    from concurrent.futures import ThreadPoolExecutor

    assert COMPILED is not None
    blobs = []
    for size in (1, 10, 300, 3000):
        lines = [
            orjson.dumps(
                usage(
                    ulid(n),
                    "2026-11-24T10:00:00.000Z",
                    f"b{n % 9}",
                    "a",
                    "m",
                    n,
                    1,
                    0.5,
                    source_ref=f"r{n}",
                )
            )
            for n in range(1, size + 1)
        ]
        blobs.append(b"\n".join(lines) + b"\n")
    alone = [COMPILED.fold(blob) for blob in blobs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            assert list(pool.map(COMPILED.fold, blobs * 4)) == alone * 4


@needs_lane
def test_costs_around_two_to_the_52_picodollars_round_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cost is rounded to picodollars half to even without a call: adding 2^52 and taking
    it away, below 2^52 picodollars (about $4503.6)."""
    # 15 significant digits (the lane's most), on both sides of 2^52 / 10^12 = 4503.599627370496
    costs = [f"{4503.59962737030 + k * 1e-11:.11f}" for k in range(40)]
    costs += ["9007.19925474099", "0.0000000000005", "0.0000000000015", "0.0000000000025"]
    costs += ["1e-12", "1.5e-12", "123456.5e-12", "4503.6", "2251.79981368525"]
    lines = [LINE.replace(b'"cost_usd":0.5', b'"cost_usd":' + cost.encode()) for cost in costs]
    assert _each_alone(lines, monkeypatch) == len(costs)


@needs_lane
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_fork_while_threads_fold_leaves_the_child_able_to_fold() -> None:
    """The kept buffers' lock is let go in the child (the report's workers are forked while
    other threads may be folding). The race cannot be forced from here, only run often."""
    from concurrent.futures import ThreadPoolExecutor

    assert COMPILED is not None
    lines = [
        orjson.dumps(usage(ulid(n), "2026-11-24T10:00:00.000Z", f"b{n}", "a", "m", n, 1))
        for n in range(1, 400)
    ]
    blob = b"\n".join(lines) + b"\n"
    expected = COMPILED.fold(blob)
    stop = threading.Event()

    def fold_until_stopped() -> None:
        while not stop.is_set():
            COMPILED.fold(blob)

    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(fold_until_stopped) for _ in range(3)]
        try:
            for _ in range(40):
                child = os.fork()
                if child == 0:  # the child: folds, or is ended by the alarm if the lock is held
                    signal.alarm(10)
                    os._exit(0 if COMPILED.fold(blob) == expected else 1)
                _, status = os.waitpid(child, 0)
                assert os.waitstatus_to_exitcode(status) == 0
        finally:
            stop.set()
        for future in running:
            future.result()


def test_msgspec_is_imported_only_when_a_line_reaches_the_python_lane() -> None:
    """The compiled lane takes every line of a blob in bd-vpt's own shape: msgspec (the
    Python lane's typed decoder, ledger/typed.py) is not imported then; a line the compiled
    lane hands back imports it. typed.MARK is fast.MARK."""
    import subprocess
    import sys

    from bd_vpt.ledger import fast, typed

    assert typed.MARK == fast.MARK
    line = (
        b'{"v":1,"id":"01J00000000000000000000001","kind":"usage",'
        b'"ts":"2026-03-02T10:00:00.000Z","bead":"B-1","actor":"a","source":"test",'
        b'"model":"m","tokens":{"input":1,"output":2},"cost_usd":0.5}\n'
    )
    probe = (
        "import sys; from bd_vpt.ledger import rows; "
        f"rows.fold_blob({line!r}); print('msgspec' in sys.modules); "
        f"rows.fold_blob({line.replace(b'input', b'vision')!r}); print('msgspec' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == (["False", "True"] if fast.LANE is not None else ["True", "True"])


# repeats: the keys in two blobs found without sorting them all (a cold report's)


def _twice(arrays: list[list[int]]) -> set[int]:
    counts = Counter(k for keys in arrays for k in keys)
    return {k for k, n in counts.items() if n > 1}


@needs_lane
@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["q", "Q"]),
    st.lists(
        st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40) | st.just(2**63), max_size=40),
        max_size=8,
    ),
    st.integers(0, 3000),
)
def test_repeats_finds_the_keys_repeated_finds(
    code: str, lists: list[list[int]], many: int
) -> None:
    shift = 2**63 if code == "q" else 0
    arrays = [array(code, [k - shift for k in keys]) for keys in lists]
    arrays.append(array(code, [(k * 7919) % 2**64 - shift for k in range(many)]))
    assert fast.LANE is not None
    expected = _twice([list(a) for a in arrays])
    assert fast.LANE.repeats(list(arrays), code == "q") == expected
    assert fast.LANE.repeated(list(arrays), code == "q")[0] == expected


@needs_lane
def test_repeats_with_many_keys_in_one_pile_and_many_piles() -> None:
    from bd_vpt.ledger.rows import SMALL, repeated

    assert fast.LANE is not None
    same = [array("Q", [5] * 3000), array("Q", [5, 6])]  # one pile holds them all
    assert fast.LANE.repeats(same, False) == {5}
    big = [array("q", range(k, SMALL + 7, 3)) for k in range(3)] + [array("q", [5, 9, -1])]
    kept: list[Any] = []
    assert repeated(big) == repeated(big, kept) == {5, 9}
    assert fast.LANE.repeats([], True) == set() == fast.LANE.repeats([array("q")], True)
