"""groups.add_all: a group's sums made column by column equal the bucket-by-bucket loop
(Group.add, and the wasted beads' tokens) to the bit, ints and floats alike."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.economics.groups import Bucket, Group, add_all

_NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
_BUCKETS = st.dictionaries(
    st.tuples(st.one_of(st.none(), st.sampled_from("abcdefgh")), st.sampled_from(("", "x"))),
    st.lists(st.one_of(st.integers(0, 2**64), _NUMBER), min_size=11, max_size=11),
    max_size=30,
)


def _looped(buckets: dict[tuple[str | None, str], Bucket], wasted: set[str]) -> Group:
    group = Group()
    for (bead, _group), bucket in buckets.items():
        group.add(bead, bucket)
        if bead in wasted:
            group.wasted_tokens += int(bucket[0])
    return group


def _bits(values: Sequence[int | float]) -> list[object]:
    return [struct.pack("<d", v) if isinstance(v, float) else (type(v), v) for v in values]


@settings(max_examples=200, deadline=None)
@given(_BUCKETS, st.sets(st.sampled_from("abcdefgh")))
def test_column_sums_are_the_loop(
    buckets: dict[tuple[str | None, str], Bucket], wasted: set[str]
) -> None:
    looped = _looped(buckets, wasted)
    made = Group()
    add_all(made, buckets, wasted)
    assert _bits(made.sums) == _bits(looped.sums)
    assert made.attributed_tokens == looped.attributed_tokens
    assert made.wasted_tokens == looped.wasted_tokens


def test_a_float_column_is_added_in_order() -> None:
    """1e16 + 1 + 1 is 1e16 in order, 1e16 + 2 out of it: the loop's order is kept."""
    buckets: dict[tuple[str | None, str], Bucket] = {
        ("a", ""): [1e16, *[0] * 10],  # type: ignore[list-item]
        ("b", ""): [1, *[0] * 10],
        ("c", ""): [1, *[0] * 10],
    }
    made = Group()
    add_all(made, buckets, {"a"})
    assert made.sums[0] == _looped(buckets, {"a"}).sums[0] == 1e16
    assert made.wasted_tokens == 10**16 and made.attributed_tokens == 10**16 + 2
