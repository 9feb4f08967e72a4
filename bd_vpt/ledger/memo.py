"""Reports memoised by the exact ledger content they read.

A key is a digest of: the bd-vpt version, the report and its arguments, the config, and the
ledger's fingerprint (git tree or blob ids, or content hashes of files changed since
`git add`). The same question about the same ledger is answered without reading it again;
any change to any of those makes a new key. Entries live beside the blob cache, are written
atomically, and a bad entry is ignored (and rebuilt).

Beside an entry, its answers: the text a command printed from it, per way of printing it
(`summary --format json`, `summary --wide`...), so the same question asked again is answered
before the command line is parsed (integrations/again.py). An answer is pruned with its
entry.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson

from bd_vpt import __version__

FORMAT = 3  # 2: priced shares and transitions (issue 15); 3: retractions, source_ref duplicates
KEEP = 64  # entries kept; older ones are pruned


def key(report: str, args: dict[str, Any], config_raw: dict[str, Any], fingerprint: str) -> str:
    material = orjson.dumps(
        [FORMAT, __version__, report, args, config_raw, fingerprint],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class Memo:
    def __init__(self, state_dir: Path | None) -> None:
        self.dir = state_dir / "cache" / f"memo-v{FORMAT}" if state_dir else None

    def get(self, digest: str) -> dict[str, Any] | None:
        if self.dir is None:
            return None
        try:
            entry = orjson.loads((self.dir / f"{digest}.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != digest or "result" not in entry:
            return None
        return entry

    def get_answer(self, digest: str, variant: str) -> str | None:
        """The text printed for the entry digest names, the variant way (None: not kept)."""
        if self.dir is None:
            return None
        try:
            with open(self.dir / f"{digest}.{variant}.out", encoding="utf-8", newline="") as kept:
                text = kept.read()
        except (OSError, UnicodeDecodeError):
            return None
        head, _, body = text.partition("\n")
        return body if head == f"{digest} {variant}" else None

    def put_answer(self, digest: str, variant: str, text: str) -> None:
        if self.dir is not None:
            self._write(f"{digest}.{variant}.out", f"{digest} {variant}\n{text}".encode())

    def _write(self, name: str, data: bytes) -> None:
        from bd_vpt.ledger.cache import write_atomic  # all or nothing; a failure is only slower

        assert self.dir is not None
        write_atomic(self.dir / name, data)

    def put(self, digest: str, result: Any, problems: list[dict[str, Any]]) -> None:
        if self.dir is None:
            return
        document = {"key": digest, "result": result, "problems": problems}
        self._write(f"{digest}.json", orjson.dumps(document))
        with suppress(OSError):  # a memo that cannot be pruned is only bigger
            self._prune()

    def _prune(self) -> None:
        assert self.dir is not None
        entries = sorted(self.dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
            for answer in self.dir.glob(f"{old.stem}.*.out"):
                answer.unlink(missing_ok=True)
