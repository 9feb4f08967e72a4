"""The compiled reader of Claude Code transcripts (bd_vpt/capture/lane/) against the Python
reader: on random transcripts (every field of every type, escapes, non-ASCII text, lone
surrogates, bad UTF-8, keys given twice, odd numbers and whitespace, torn lines, copies of a
message), both give the same messages, field by field (token kinds in the same order, the
same moments in the same zone), and count the same; and a usual line with random bytes
changed (a fuzz of the JSON checks).

By hand, after a change to the C (not in CI): build it with the sanitizers in place of the
installed build, run these tests with them preloaded, then build it again as usual:

    gcc -shared -fPIC -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -I/usr/include/python3.11 bd_vpt/capture/lane/*.c \
        -o bd_vpt/capture/_claude.cpython-311-x86_64-linux-gnu.so
    ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(gcc -print-file-name=libasan.so) \
        $(gcc -print-file-name=libubsan.so)" .venv/bin/python -m pytest -q \
        tests/test_claude_reader.py tests/test_price_sum.py
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.capture import claude_code
from bd_vpt.capture.claude_code import FileScan, scan_file
from bd_vpt.capture.transcripts import Message
from bench.agents import session_lines

COMPILED = claude_code.READER
needs_reader = pytest.mark.skipif(COMPILED is None, reason="the compiled reader is not built here")
CWD = "/work/répo"


def test_the_compiled_reader_is_built_where_a_c_compiler_is() -> None:
    if shutil.which(os.environ.get("CC", "cc")) is None or os.environ.get("BD_VPT_LANE"):
        pytest.skip("no C compiler here (or BD_VPT_LANE set)")
    assert COMPILED is not None


def described(found: FileScan) -> list[Any]:
    """Everything a scan gives, as plain values (a datetime's zone and a dict's order too)."""
    return [
        (
            m.key,
            m.session,
            m.moment.isoformat(),
            repr(m.moment.tzinfo),
            m.model,
            list(m.tokens.items()),
            m.sidechain,
            m.commands,
            m.day,
            m.cwd,
            m.parent,
            m.reported_cost,
        )
        for m in found.messages
    ] + [found.stats]


def both_ways(path: Path, allowed: list[str] | None, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = described(scan_file(path, allowed))
    with monkeypatch.context() as m:
        m.setattr(claude_code, "READER", None)
        python = described(scan_file(path, allowed))
    assert compiled == python


COUNTS_LIST: list[Any] = [
    0,
    1,
    7,
    12345,
    -4,
    10**17,
    10**18 - 1,
    -(10**18 - 1),
    10**18,
    2**63,
    -(2**63),
    2**64 + 5,
    1.0,
    1e3,
    True,
    None,
    "5",
    [1],
    {"n": 1},
]
COUNTS = st.sampled_from(COUNTS_LIST)
ODD_TEXTS: list[Any] = [
    "é",
    'a"b',
    "a\\b",
    "x\u2028",
    "\U0001f600",
    "",
    "\x00",
    None,
    5,
    "<synthetic>",
]
STAMP_LIST = [
    "2026-11-12T09:00:00.000Z",
    "2026-11-12T23:59:59.999Z",
    "2024-02-29T12:00:00.500Z",
    "2026-02-29T12:00:00.000Z",
    "2026-11-31T12:00:00.000Z",
    "2026-11-12T24:00:00.000Z",
    "2026-11-12T12:60:00.000Z",
    "2026-11-12T12:00:60.000Z",
    "0000-01-01T00:00:00.000Z",
    "2026-11-12T09:00:00.000+00:00",
    "2026-11-12T11:00:00+02:00",
    "2026-11-12T09:00:00Z",
    " 2026-11-12T09:30:00.000Z",
    "2026-11-12t09:00:00.000Z",
    "\uff12026-11-12T09:00:00.000Z",
    "2026-1x-12T09:00:00.000Z",
]
STAMPS = st.sampled_from(STAMP_LIST)
TEXTS = st.sampled_from(["e", *ODD_TEXTS[:7]])
COMMAND_LIST = [
    "bd close bd-1",
    'echo "bd" && bd update bd-2 --claim',
    "b\u0064 close bd-3",
    "✓ bd stop",
    "make test",
    "bd\nbd close bd-4\t",
    "\U0001f600 bd start bd-5",
    "bd vpt start bd-6 \\",
]
COMMANDS = st.sampled_from(COMMAND_LIST)
ODD_BLOCKS = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["tool_use", "text", None, 3, "tool_us\u0065"]),
            "input": st.one_of(
                st.none(),
                st.just("x"),
                st.fixed_dictionaries({"command": st.one_of(COMMANDS, st.none(), st.just(5))}),
                st.fixed_dictionaries({"description": TEXTS}),
            ),
        }
    ),
    st.sampled_from([{"type": "text", "text": "bd close bd-9"}, {}, 7, None]),
)
ODD = st.sampled_from(
    [
        "1e400",
        "12345678901234567890123",
        "-0",
        "0.5e-3",
        "[]",
        "{}",
        '[{"a":[1,{"b":null}]}]',
        "true",
        '"\\ud800"',
        '"\\udc00\\ud800"',
        '"\\ud83d\\ude00"',
        '"\\u00e9\\n\\t\\/"',
        '"\\x"',
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "NaN",
        '"tab\there"',
        "[" * 70 + "]" * 70,
    ]
)
BLOCKS = st.integers(0, 3).flatmap(
    lambda n: (
        st.fixed_dictionaries(
            {"type": st.just("tool_use"), "input": st.fixed_dictionaries({"command": COMMANDS})}
        )
        if n
        else ODD_BLOCKS
    )
)


def _mostly(good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """good nine times in ten (so that most lines are of the usual shape), else odd."""
    return st.integers(0, 9).flatmap(lambda n: good if n < 9 else odd)


def _good(good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return good


GOOD_STAMPS = st.datetimes().map(lambda t: t.isoformat(timespec="milliseconds") + "Z")


@st.composite
def lines(draw: st.DrawFn, mid: str, clean: bool = False) -> bytes:
    """A line of Claude Code's shape, its fields odd one time in ten (clean: never)."""
    mostly = _good if clean else _mostly
    count = mostly(st.integers(0, 10**6), COUNTS)
    usage: dict[str, Any] = {"input_tokens": draw(count), "output_tokens": draw(count)}
    for name in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        if draw(st.booleans()):
            usage[name] = draw(count)
    if draw(st.booleans()):
        usage["cache_creation"] = draw(
            mostly(
                st.fixed_dictionaries(
                    {"ephemeral_1h_input_tokens": count, "ephemeral_5m_input_tokens": count}
                ),
                st.sampled_from([None, [1], {}]),
            )
        )
    if draw(st.booleans()):
        usage["server_tool_use"] = {"web_search_requests": 0}
    body: dict[str, Any] = {
        "id": draw(mostly(st.just(mid), st.one_of(TEXTS, st.none(), st.just(5)))),
        "type": "message",
        "model": draw(
            mostly(
                st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "mödel"]),
                st.sampled_from(["<synthetic>", None, 7, "m\\", "<synthetic"]),
            )
        ),
        "content": draw(
            mostly(st.lists(BLOCKS, max_size=3), st.sampled_from([None, "text", [], {}]))
        ),
        "usage": draw(mostly(st.just(usage), st.sampled_from([None, 17, []]))),
    }
    entry: dict[str, Any] = {
        "type": "assistant",
        "sessionId": draw(mostly(st.sampled_from(["S1", "S2", "Sé"]), st.sampled_from([None, 3]))),
        "timestamp": draw(mostly(GOOD_STAMPS, st.one_of(STAMPS, st.just(20261112)))),
        "requestId": draw(mostly(st.just("r-" + mid), st.one_of(TEXTS, st.none()))),
        "cwd": draw(
            mostly(
                st.sampled_from([CWD, CWD + "/sub", CWD + "-other", "/else"]),
                st.sampled_from(["", None, 7, CWD + "\u00e9"]),
            )
        ),
        "isSidechain": draw(st.sampled_from([False, True, "yes", None, 1, [True]])),
        "message": draw(mostly(st.just(body), st.sampled_from([None, [], "m"]))),
    }
    for name in draw(mostly(st.just(set()), st.sets(st.sampled_from(sorted(entry))))):
        del entry[name]
    text = json.dumps(
        entry,
        ensure_ascii=draw(mostly(st.just(False), st.just(True))),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])),
    ).encode()
    for _ in range(draw(mostly(st.just(0), st.integers(1, 2)))):  # a field where an object closes
        at = draw(st.sampled_from([i for i, ch in enumerate(text) if ch == ord("}")]))
        name = draw(st.sampled_from(["note", "sessionId", "model", "command", "usage", "id"]))
        text = text[:at] + b',"' + name.encode() + b'":' + draw(ODD).encode() + text[at:]
    change = draw(mostly(st.just(""), st.sampled_from(["pad", "cr", "cut", "utf8", "lead"])))
    if change == "pad":
        text = b" \t" + text + b" "
    elif change == "cr":
        text += b"\r"
    elif change == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif change == "utf8":
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe9"]))
            + text[at:]
        )
    elif change == "lead":
        text = b"\x0c" + text
    return text


@st.composite
def transcripts(draw: st.DrawFn) -> bytes:
    mids = [f"m{n}" for n in range(draw(st.integers(1, 6)))]  # few ids: many copies
    clean = draw(st.booleans())  # every line of the usual shape: copies made one in C
    found = [
        draw(lines(draw(st.sampled_from(mids)), clean)) for _ in range(draw(st.integers(1, 12)))
    ]
    for line in list(found):  # Claude Code's copies: the same usage, another block or flag
        if draw(st.booleans()):
            copy = line.replace(b"false", b"true") if draw(st.booleans()) else line
            copy = copy.replace(b"bd-", b"bd-x") if draw(st.booleans()) else copy
            found.append(copy.replace(b"true", b"false") if draw(st.booleans()) else copy)
    found += draw(st.lists(st.sampled_from([b"", b"   ", b"\t\r"]), max_size=2))
    found = draw(st.permutations(found))
    end = draw(st.sampled_from([b"\n", b"", b"\n\n"]))
    return b"\n".join(found) + end


@needs_reader
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=transcripts())
def test_the_compiled_reader_reads_what_the_python_reader_reads(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = Path(folder) / "t.jsonl"
        path.write_bytes(data)
        for allowed in (None, [CWD]):
            both_ways(path, allowed, monkeypatch)


@needs_reader
def test_the_compiled_reader_takes_claude_codes_own_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's lines (Claude Code's shape) are read in C whole: no line is left over."""
    assert COMPILED is not None
    data = b"\n".join(session_lines(3, 300, CWD)) + b"\n"
    items, lines_read, not_usage, too_long, newlines, rest, cwds = COMPILED.read(data, 0, Message)
    assert cwds == {CWD} and rest == len(data) and too_long == 0
    assert all(type(item) is Message for item in items)
    assert lines_read == newlines == not_usage + len(items) and len(items) > 300
    path = tmp_path / "t.jsonl"
    path.write_bytes(data)
    both_ways(path, None, monkeypatch)
    both_ways(path, [CWD], monkeypatch)
    both_ways(path, ["/elsewhere"], monkeypatch)


def _usual(**fields: Any) -> dict[str, Any]:
    """A usual line's fields, some replaced (None: left out)."""
    entry: dict[str, Any] = {
        "type": "assistant",
        "sessionId": "S1",
        "timestamp": "2026-11-12T09:00:00.000Z",
        "requestId": "r1",
        "cwd": CWD,
        "isSidechain": False,
        "message": {
            "id": "m1",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "input": {"command": "bd close bd-9"}}],
            "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 5},
        },
    }
    for name, value in fields.items():
        where = entry["message"] if name in ("model", "content", "usage", "id") else entry
        if value is None:
            where.pop(name, None)
        else:
            where[name] = value
    return entry


SIDECHAINS: list[Any] = [True, False, "yes", None, 1, [True], {"a": True}]
CONTENTS: list[Any] = [None, "text", [], {}, [7], [{"type": 3}], [{"input": "x"}]]
ONE_ODD: list[dict[str, Any]] = (
    [{"timestamp": stamp} for stamp in STAMP_LIST]
    + [{"usage": {"input_tokens": n, "output_tokens": 1}} for n in COUNTS_LIST]
    + [
        {"usage": {"input_tokens": 1, "output_tokens": 2, "cache_read_input_tokens": n}}
        for n in COUNTS_LIST
    ]
    + [
        {
            "usage": {
                "input_tokens": 1,
                "output_tokens": 2,
                "cache_creation": {"ephemeral_1h_input_tokens": n},
            }
        }
        for n in COUNTS_LIST
    ]
    + [{"content": [{"type": "tool_use", "input": {"command": c}}]} for c in COMMAND_LIST]
    + [
        {name: value}
        for name in ("sessionId", "cwd", "requestId", "id", "model")
        for value in ODD_TEXTS
    ]
    + [{"isSidechain": value} for value in SIDECHAINS]
    + [{"content": value} for value in CONTENTS]
)


@needs_reader
@pytest.mark.parametrize("fields", ONE_ODD, ids=repr)
def test_one_odd_field_is_read_alike(
    fields: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.jsonl"
    usual = json.dumps(_usual(), ensure_ascii=False).encode()
    odd = _usual(**fields)
    for ascii_only in (False, True):
        line = json.dumps(odd, ensure_ascii=ascii_only, separators=(",", ":")).encode()
        other = line.replace(b'"m1"', b'"m2"')
        path.write_bytes(b"\n".join([usual, line, other, line]) + b"\n")
        both_ways(path, None, monkeypatch)
        both_ways(path, [CWD], monkeypatch)


EDITS = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.sampled_from(["set", "insert", "delete"]),
        st.binary(min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=4,
)


@needs_reader
@settings(max_examples=500, deadline=None)
@given(edits=EDITS, ascii_only=st.booleans())
def test_a_usual_line_with_random_bytes_changed_is_read_alike(
    edits: list[tuple[int, str, bytes]], ascii_only: bool
) -> None:
    entry = _usual(
        content=[
            {"type": "text", "text": "é \U0001f600"},
            {"type": "tool_use", "input": {"command": 'bd close bd-1 --reason "done"'}},
        ],
        usage={
            "input_tokens": 3,
            "output_tokens": 4,
            "cache_creation": {"ephemeral_1h_input_tokens": 2, "ephemeral_5m_input_tokens": 0},
        },
    )
    line = bytearray(json.dumps(entry, ensure_ascii=ascii_only).encode())
    for at, how, text in edits:
        at %= len(line) + 1
        if how == "set":
            line[at : at + len(text)] = text
        elif how == "insert":
            line[at:at] = text
        else:
            del line[at : at + len(text)]
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = Path(folder) / "t.jsonl"
        path.write_bytes(bytes(line) + b"\n" + bytes(line))
        both_ways(path, None, monkeypatch)


@dataclass
class _Unslotted(Message):
    """A Message with a __dict__: the compiled reader calls it (it cannot fill its slots)."""


@needs_reader
def test_a_message_class_laid_out_otherwise_is_called() -> None:
    assert COMPILED is not None
    data = b"\n".join(session_lines(1, 40, CWD)) + b"\n"
    made = COMPILED.read(data, 0, Message)[0]
    called = COMPILED.read(data, 0, _Unslotted)[0]
    assert made and all(type(m) is _Unslotted for m in called)
    assert [repr(m).split("(", 1)[1] for m in made] == [repr(m).split("(", 1)[1] for m in called]
