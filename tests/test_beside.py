"""parallel.beside: a pure function computed in a forked child gives what calling it gives,
and when the child cannot give it (it raised, its result is not plain data, it is killed),
the function runs in this process instead."""

from __future__ import annotations

import os
import signal

import pytest

from bd_vpt.ledger import parallel

FORKS = parallel.cores() >= 2 and hasattr(os, "fork")


def test_the_child_computes_and_sends_back_plain_data() -> None:
    here = os.getpid()
    big = list(range(200_000))  # more than a pipe holds: the child waits for the reader

    def work() -> tuple[int, int, list[int], dict[str, float]]:
        return os.getpid(), sum(big), big, {"a": 0.1 + 0.2}

    collect = parallel.beside(work)
    pid, total, back, floats = collect()
    assert (total, back, floats) == (sum(big), big, {"a": 0.1 + 0.2})
    assert (pid != here) is FORKS


def test_an_error_in_the_child_is_raised_here() -> None:
    calls: list[int] = []

    def fails() -> int:
        calls.append(os.getpid())
        raise ValueError("bad ledger line")

    with pytest.raises(ValueError, match="bad ledger line"):
        parallel.beside(fails)()
    assert calls == [os.getpid()]  # (the child's call was in its own memory)


def test_a_result_marshal_cannot_send_is_computed_here() -> None:
    here = os.getpid()

    def unsendable() -> tuple[int, object]:
        return (os.getpid(), object())

    pid, thing = parallel.beside(unsendable)()
    assert pid == here and type(thing) is object


@pytest.mark.skipif(not FORKS, reason="needs fork and two cores")
def test_a_killed_child_is_replaced_by_this_process() -> None:
    here = os.getpid()

    def dies() -> int:
        if os.getpid() != here:
            os.kill(os.getpid(), signal.SIGKILL)
        return 7

    assert parallel.beside(dies)() == 7


def test_one_worker_asked_computes_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BD_VPT_WORKERS", "1")
    assert parallel.beside(os.getpid)() == os.getpid()
