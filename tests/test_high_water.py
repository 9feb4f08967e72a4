"""transcripts.high_water finds each session's latest import mark by its text where the time
is written as format_ts writes it: the same marks as parsing every time, on random marks of
every form (other offsets, plain dates, a 13th month, an hour 24, not text, ties)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.capture.transcripts import high_water, high_water_of
from bd_vpt.ledger.records import Record, parse_ts


def _parsed_each(records: list[Record], source: str) -> dict[str, tuple[datetime, str]]:
    """high_water as it was: every time parsed."""
    marks: dict[str, tuple[datetime, str]] = {}
    for rec in records:
        if rec.get("kind") != "usage" or rec.get("source") != source or not rec.get("session"):
            continue
        last = rec.get("last_message")
        if not isinstance(last, list) or len(last) != 2:
            continue
        try:
            mark = (parse_ts(str(last[0])), str(last[1]))
        except ValueError:
            continue
        session = rec["session"]
        if session not in marks or mark > marks[session]:
            marks[session] = mark
    return marks


_TIMES = st.one_of(
    st.builds(
        "2026-{:02d}-{:02d}T{:02d}:{:02d}:00.{:03d}Z".format,
        st.integers(1, 13),
        st.integers(1, 31),
        st.integers(0, 24),
        st.sampled_from([0, 59]),
        st.sampled_from([0, 5, 500, 999]),
    ),
    st.sampled_from(
        [
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:00.5Z",
            "2026-03-01T12:00:00.000+02:00",
            "2026-03-01",
            "2026-03-01T10:00:00.000z",
            "not a time",
            "",
        ]
    ),
    st.integers(0, 3),
    st.none(),
)
_RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["usage", "usage", "outcome"]),
            "source": st.sampled_from(["claude-code", "claude-code", "codex"]),
            "session": st.sampled_from(["s1", "s2", "s3", None, ""]),
            "last_message": st.one_of(
                st.lists(
                    st.one_of(_TIMES, st.sampled_from(["m1", "m2"])), min_size=2, max_size=2
                ).map(lambda pair: [pair[0], pair[1]]),
                st.tuples(_TIMES, st.sampled_from(["m1", "m2", 7])).map(list),
                st.none(),
                st.just(["2026-03-01T10:00:00.000Z"]),
            ),
        }
    ),
    max_size=25,
)


@settings(max_examples=400, deadline=None)
@given(_RECORDS)
def test_the_latest_mark_by_its_text_is_the_latest_by_its_time(
    records: list[dict[str, Any]],
) -> None:
    typed: list[Record] = list(records)
    expected = _parsed_each(typed, "claude-code")
    assert high_water(typed, "claude-code") == expected
    marks = [  # (as ledger.known.Known.marks gives them)
        (r.get("id"), r["source"], r["session"], r["last_message"], None)
        for r in typed
        if r["kind"] == "usage"
    ]
    assert high_water_of(marks, "claude-code") == expected


def test_a_13th_month_judges_its_session_record_by_record() -> None:
    records: list[Record] = [
        {"kind": "usage", "source": "c", "session": "s", "last_message": [ts, "m"]}
        for ts in ("2026-13-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", "2026-11-30")
    ]
    assert high_water(records, "c") == {"s": (parse_ts("2026-12-01T00:00:00.000Z"), "m")}
