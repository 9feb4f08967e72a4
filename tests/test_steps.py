"""The fleet summary made again from the last one kept (ledger/delta.py, economics/parts.py)
gives exactly the summary of reading every record.

Random repositories go through random histories: commits that append to shards, files
changed since `git add`, branches union-merged, commits dropped (`git reset --hard`),
lines removed and shards deleted, retractions, ids and source_refs repeated across shards,
bad lines, a config changed. After each, the summary through the kept result (a step when
one can be taken, else the full way, which keeps one) equals the record route's, for a
window on midnights and for none; a deterministic history checks that the steps are taken.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt import config as config_file
from bd_vpt.economics.metrics import summarize
from bd_vpt.ledger.view import LedgerView, open_view
from bd_vpt.repo import discover
from bd_vpt.reports import fleet_summary
from tests.helpers import Repo, run_cli
from tests.test_folds import SHARDS, STEPS, Step, _write

WINDOWS = [(None, None), ("2026-11-03T00:00:00Z", "2026-11-05T00:00:00Z")]


class Counted:
    """How many summaries went the full way (LedgerView.folded) and how many stepped; how
    many steps took a file by its lines appended alone (delta.Step.grew)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = self.calls = self.grew = 0
        folded, stepped = LedgerView.folded, LedgerView.stepped

        def counted(view: LedgerView, *args: Any, **kwargs: Any) -> Any:
            self.full += 1
            return folded(view, *args, **kwargs)

        def step(view: LedgerView, *args: Any, **kwargs: Any) -> Any:
            found = stepped(view, *args, **kwargs)
            self.grew += bool(found and found.grew)
            return found

        monkeypatch.setattr(LedgerView, "folded", counted)
        monkeypatch.setattr(LedgerView, "stepped", step)

    @property
    def stepped(self) -> int:
        return self.calls - self.full


def _agree(root: Path, counted: Counted | None = None) -> None:
    info = discover(root)
    config = config_file.load(root)
    for since, until in WINDOWS:
        args: dict[str, Any] = {"by": None, "since": since, "until": until}
        records = open_view(info, use_cache=False)
        expected = summarize(records.records(), config, by=None, since=since, until=until)
        view = open_view(info)
        assert fleet_summary(view, config, args) == expected, (since, until)
        assert [p.render() for p in view.scan.problems] == [
            p.render() for p in records.scan.problems
        ]
        if counted is not None:
            counted.calls += 1


class History:
    """A repository the ops below change (each op leaves it as a user could)."""

    def __init__(self, root: Path) -> None:
        self.repo = Repo(root)
        self.root = root
        self.n = 100
        self.repo.git("init", "-q", "-b", "main")
        os.chdir(root)
        assert run_cli("init").code == 0
        self.save("init")

    def write(self, steps: list[Step]) -> None:
        _write(self.root, steps, self.n)
        self.n += len(steps) + 1

    def commit(self, steps: list[Step]) -> None:
        self.write(steps)
        self.save("records")

    def merge(self, steps: list[Step]) -> None:
        if self._dirty():
            self.save("before the branch")
        half = len(steps) // 2
        self.repo.git("checkout", "-q", "-b", "side")
        self.commit(steps[:half] or steps)
        self.repo.git("checkout", "-q", "main")
        self.commit(steps[half:] or steps)
        self.repo.git("merge", "-q", "--no-edit", "side")
        self.repo.git("branch", "-q", "-D", "side")

    def reset(self) -> None:
        if self.repo.git("rev-list", "--count", "HEAD").strip() != "1":
            self.repo.git("reset", "-q", "--hard", "HEAD~1")

    def rewrite(self, shard: int, drop: bool) -> None:
        path = self.root / SHARDS[shard]
        if not path.exists():
            return
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[1:] if drop else lines[::-1]))
        self.save("history rewritten")

    def delete(self, shard: int) -> None:
        path = self.root / SHARDS[shard]
        if path.exists():
            path.unlink()
            self.save("a shard deleted")

    def reconfigure(self) -> None:
        """Other rates, weights and token basis: another report key."""
        path = self.root / ".beads/vpt/config.toml"
        document = tomllib.loads(path.read_text())
        self.n += 1
        document.setdefault("rates", {}).update(
            {"human_usd_per_hour": 10.0 + self.n % 7, "cost_of_delay_usd_per_day": 1.5}
        )
        document["weights"] = {"P1": 3.5, "P2": 0.7}
        document.setdefault("metrics", {})["token_basis"] = ("output", "total")[self.n % 2]
        path.write_text(tomli_w.dumps(document))
        self.save("config")

    def save(self, message: str) -> None:
        self.repo.git("add", "-A")
        self.repo.git("commit", "-q", "--allow-empty", "-m", message)

    def _dirty(self) -> bool:
        return bool(self.repo.git("status", "--porcelain"))


PLAIN_KINDS = ["usage", "usage", "unpriced", "unsplit", "offset", "int-cost", "outcome", "reopen"]
PLAIN_KINDS += ["bad"]  # a bad line is a problem of its blob, reported the same either way
PLAIN_KINDS += ["retract"]  # a step keeps the ids retracted: the commits after one step
PLAIN_STEPS = st.lists(
    st.tuples(
        st.integers(0, len(SHARDS) - 1),
        st.sampled_from(PLAIN_KINDS),
        st.integers(1, 6),
        st.integers(0, 23),
        st.integers(0, 6),
    ),
    min_size=1,
    max_size=6,
)


def ops(steps: st.SearchStrategy[list[Step]]) -> st.SearchStrategy[list[Any]]:
    kinds = ["commit", "commit", "commit", "dirty", "merge", "reset", "rewrite", "delete"]
    return st.lists(
        st.tuples(
            st.sampled_from([*kinds, "config"]),
            steps,
            st.integers(0, len(SHARDS) - 1),
            st.booleans(),
        ),
        min_size=1,
        max_size=10,
    )


def _run(history: History, op: str, steps: list[Step], shard: int, flag: bool) -> None:
    if op == "commit":
        history.commit(steps)
    elif op == "dirty":
        history.write(steps)
    elif op == "merge":
        history.merge(steps)
    elif op == "reset":
        history.reset()
    elif op == "rewrite":
        history.rewrite(shard, flag)
    elif op == "delete":
        history.delete(shard)
    else:
        history.reconfigure()


def _through(history: History, ops: list[tuple[str, list[Step], int, bool]]) -> None:
    _agree(history.root)
    for op, steps, shard, flag in ops:
        _run(history, op, steps, shard, flag)
        _agree(history.root)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=ops(STEPS))
def test_the_kept_summary_and_the_record_route_agree_through_random_histories(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, list[Step], int, bool]]
) -> None:
    """Any kind of line: retractions, repeated ids and refs and bad lines end the steps."""
    _through(History(tmp_path_factory.mktemp("steps")), ops)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=ops(PLAIN_STEPS))
def test_the_kept_summary_agrees_through_random_plain_histories(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, list[Step], int, bool]]
) -> None:
    """Lines that keep the view plain: most reports step."""
    _through(History(tmp_path_factory.mktemp("plain")), ops)


PLAIN: list[Step] = [(n % 3, "usage", 1 + n % 6, n % 24, n % 5) for n in range(30)]
PLAIN += [(n % 3, "outcome", 2 + n % 4, 10, n % 5) for n in range(5)]


def test_steps_are_taken_and_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(monkeypatch)
    history = History(tmp_path)
    history.commit(PLAIN)
    _agree(tmp_path, counted)  # the full way, kept
    assert counted.stepped == 0
    for n in range(6):  # one record per commit: usage, an outcome, a reopen, a new bead
        kind = ("usage", "outcome", "reopen", "unpriced", "usage", "outcome")[n]
        history.commit([(n % 3, kind, 3 + n % 3, 12, (n + 1) % 7)])
        _agree(tmp_path, counted)
    history.write([(1, "usage", 4, 9, 2)])  # changed since `git add`
    _agree(tmp_path, counted)
    history.merge([(0, "usage", 5, 9, 1), (2, "outcome", 5, 11, 3)])
    _agree(tmp_path, counted)
    history.reset()
    _agree(tmp_path, counted)
    history.rewrite(0, drop=True)
    _agree(tmp_path, counted)
    history.delete(2)
    _agree(tmp_path, counted)
    history.commit([(0, "bad", 3, 4, 1)])  # warned about, step or not
    _agree(tmp_path, counted)
    history.commit([(1, "usage", 3, 4, 1)])
    _agree(tmp_path, counted)
    assert counted.stepped >= 22, (counted.stepped, counted.calls)
    assert counted.grew >= 12, counted.grew  # (a commit that appends to one shard)


def test_a_step_not_plain_goes_the_full_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(monkeypatch)
    history = History(tmp_path)
    history.commit(PLAIN)
    _agree(tmp_path, counted)
    full = counted.full
    for kind in ("same-id-elsewhere", "retract", "same-ref-elsewhere"):
        history.commit([(0, "usage", 3, 4, 1), (1, kind, 3, 5, 2)])
        _agree(tmp_path, counted)
    assert counted.full >= full + 3  # a retraction, a repeated id or ref


def test_a_bad_kept_entry_is_ignored(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.commit(PLAIN)
    _agree(tmp_path)
    kept = list((tmp_path / ".git/bd-vpt/cache").glob("steps-v*/*"))
    assert kept
    for path in kept:
        path.write_bytes(path.read_bytes()[:-100])
    history.commit([(0, "usage", 3, 4, 1)])
    _agree(tmp_path)
    for path in kept:
        path.write_bytes(b"not marshal")
    history.commit([(1, "outcome", 3, 4, 1)])
    _agree(tmp_path)


def test_a_report_made_once_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeping costs the full way time: a report made once (a fresh clone, CI) does not
    pay it; from the second on, it is kept, and the third steps."""
    counted = Counted(monkeypatch)
    history = History(tmp_path)
    history.commit(PLAIN)
    _agree(tmp_path, counted)
    (steps,) = (tmp_path / ".git/bd-vpt/cache").glob("steps-v*")
    assert sorted(p.suffix for p in steps.iterdir()) == [".asked", ".asked"]  # two windows
    history.commit([(0, "usage", 3, 4, 1)])
    _agree(tmp_path, counted)
    assert len([p for p in steps.iterdir() if not p.suffix]) == 2 and counted.stepped == 0
    history.commit([(1, "outcome", 3, 5, 1)])
    _agree(tmp_path, counted)
    assert counted.stepped == 2


def test_steps_after_a_retraction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retraction changes what is withdrawn: the full way; the commits after it step, the
    blobs holding a withdrawn record folded again with it withdrawn."""
    counted = Counted(monkeypatch)
    history = History(tmp_path)
    history.commit(PLAIN)
    _agree(tmp_path, counted)
    history.commit([(0, "outcome", 3, 4, 6), (0, "retract", 3, 5, 2)])  # its one close, withdrawn
    _agree(tmp_path, counted)
    before = counted.stepped
    for n in range(4):  # on that bead, to the shard holding the retraction and to others
        history.commit([(n % 3, ("usage", "outcome")[n % 2], 4, 6 + n, 6)])
        _agree(tmp_path, counted)
    assert counted.stepped == before + 8
    history.rewrite(0, drop=False)  # lines reversed: the retraction moves, the same ids
    _agree(tmp_path, counted)
