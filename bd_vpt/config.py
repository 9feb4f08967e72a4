"""`.beads/vpt/config.toml`: defaults, loading (validated), writing with tomli-w."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bd_vpt.errors import VptError

if TYPE_CHECKING:
    from bd_vpt.repo import RepoInfo

CONFIG_PATH = Path(".beads/vpt/config.toml")
LEDGER_DIR = Path(".beads/vpt/ledger")
# close reasons that mean "not done" when a reason starts with them (`[outcomes] not_done`)
NOT_DONE = (
    "duplicate",
    "dup",
    "dupe",
    "won't fix",
    "wont fix",
    "wontfix",
    "won't do",
    "stale",
    "obsolete",
    "superseded",
    "invalid",
    "not planned",
    "cannot reproduce",
    "can't reproduce",
    "burned",
)

DEFAULT_WEIGHTS: dict[str, float] = {"P0": 8.0, "P1": 4.0, "P2": 2.0, "P3": 1.0, "P4": 0.5}


@dataclass
class Config:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    token_basis: str = "total"
    sync_since: str | None = None
    sources: list[str] = field(default_factory=list)
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    human_usd_per_hour: float = 90.0
    delay_usd_per_day: float = 0.0
    delay_by_label: dict[str, float] = field(default_factory=dict)
    delay_by_type: dict[str, float] = field(default_factory=dict)
    escalation_minutes: float = 30.0
    raw: dict[str, Any] = field(default_factory=dict)

    def delay_rate(self, snapshot: dict[str, Any]) -> float:
        """Cost of delay per day of a bead: the highest of its labels' rates, else its
        type's, else the default."""
        if self.delay_by_label:
            by_label = [
                self.delay_by_label[x]
                for x in snapshot.get("labels") or []
                if x in self.delay_by_label
            ]
            if by_label:
                return max(by_label)
        if self.delay_by_type:
            return self.delay_by_type.get(snapshot.get("type") or "", self.delay_usd_per_day)
        return self.delay_usd_per_day

    def weight(self, priority: int | None) -> float:
        """Weight of a bead's priority; unknown priority weighs as P2 (bd's default)."""
        if priority is None:
            return self.weights.get("unknown", self.weights.get("P2", 2.0))
        return self.weights.get(f"P{priority}", 0.0)


def outcomes_table() -> dict[str, Any]:
    return {
        "not_done": list(NOT_DONE),
        "wisps": "exclude",
        "parent_weight": 0.0,
        "done_statuses": ["closed"],
    }


def default_document(sync_since: str) -> dict[str, Any]:
    """What `bd-vpt init` writes: every key, with its default."""
    return {
        "version": 1,
        "weights": dict(DEFAULT_WEIGHTS),
        "metrics": {"token_basis": "total"},
        "capture": {"sync_since": sync_since, "sources": []},
        "prices": {},
        "rates": {
            "human_usd_per_hour": 90.0,
            "cost_of_delay_usd_per_day": 0.0,
            "delay_by_label": {},
            "delay_by_type": {},
        },
        "thresholds": {"escalation_minutes": 30.0},
        "outcomes": outcomes_table(),
    }


def here(found: RepoInfo | None = None) -> tuple[RepoInfo, Config]:
    """The repository bd-vpt runs in (from the current folder, unless found already) and its
    config."""
    from bd_vpt import repo

    info = found or repo.discover()
    return info, load(info.root, known_good=known_good(info))


def known_good(info: RepoInfo) -> Path:
    """Where load keeps the last config text that passed the schema, with its document."""
    return info.state_dir / KNOWN_GOOD


KNOWN_GOOD = "config-ok-v2"  # (config-ok, a digest alone, was an older bd-vpt's)


def load(root: Path, known_good: Path | None = None) -> Config:
    """Read and validate the config. known_good: a file keeping the bytes of the last config
    that passed the schema and the document they parse to (marshal), so a command whose
    config did not change imports neither jsonschema nor tomllib (a tenth of a small
    command's start-up). The bytes are compared whole: the same bytes parse to the same
    document."""
    from bd_vpt.files import optional_regular

    data = optional_regular(root / CONFIG_PATH, root=root, what="config")
    if data is None:
        return Config()
    if known_good is not None:
        document = kept_document(known_good, data)
        if document is not None:
            return from_document(document, str(CONFIG_PATH), validate=False)
    document = _parse(data, str(CONFIG_PATH))[1]
    keep = _kept_form(data, document) if known_good is not None else None
    config = from_document(document, str(CONFIG_PATH))
    if known_good is not None and keep is not None:
        from contextlib import suppress

        from bd_vpt.state import atomic_write

        with suppress(OSError):  # only a speed-up: the next run checks the schema again
            atomic_write(known_good, keep)
    return config


def document_of(data: bytes, known_good: Path | None) -> dict[str, Any]:
    """The TOML document of config bytes: the one kept in known_good when it holds these very
    bytes, else parsed (an error for bad TOML, as load's)."""
    document = kept_document(known_good, data) if known_good is not None else None
    return document if document is not None else _parse(data, str(CONFIG_PATH))[1]


def kept_document(known_good: Path, data: bytes) -> dict[str, Any] | None:
    """The document kept with data in known_good (it passed the schema), or None."""
    import marshal

    try:
        kept = marshal.loads(known_good.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(kept) is tuple and len(kept) == 2 and kept[0] == data and type(kept[1]) is dict:
        return kept[1]
    return None


def _kept_form(data: bytes, document: dict[str, Any]) -> bytes | None:
    """What known_good keeps: data and its document; None for a document marshal cannot
    hold as it is (a TOML date or time)."""
    import marshal

    try:
        form = marshal.dumps((data, document))
    except ValueError:
        return None
    return form if marshal.loads(form) == (data, document) else None


def load_path(path: Path) -> Config:
    """A config file named by path, validated (the org config of `bd-vpt rollup --config`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VptError(f"cannot read {path}: {exc.strerror}", hint="give a config.toml") from None
    return from_document(_parse(data, str(path))[1], str(path))


def at_revision(root: Path, rev: str) -> Config:
    """The config as committed at rev (defaults when it has none): what a pull request is
    judged by is the target branch's config, never the one the pull request brings."""
    from bd_vpt.repo import show_file

    data = show_file(root, rev, CONFIG_PATH.as_posix())
    if data is None:
        return Config()
    where = f"{CONFIG_PATH} at {rev[:12]}"
    return from_document(_parse(data, where)[1], where)


def _parse(data: bytes, where: str) -> tuple[str, dict[str, Any]]:
    import tomllib

    try:
        text = data.decode("utf-8")
        return text, tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise VptError(f"{where}: {exc}", hint="fix the TOML syntax") from None


def _not_finite(value: object, where: str = "") -> list[str]:
    """Where the document holds nan or an infinity (TOML allows both; no figure can use
    them, and JSON Schema's bounds let nan through)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where}: {value} is not a finite number"]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _not_finite(v, f"{where}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _not_finite(v, f"{where}[{i}]")]
    return []


def _dates(document: dict[str, Any]) -> list[str]:
    """Config keys that name a time, read by the one date grammar."""
    since = document.get("capture", {}).get("sync_since")
    if not isinstance(since, str):
        return []
    from bd_vpt.when import start

    try:
        start(since, what="capture.sync_since")
    except VptError as exc:
        return [exc.message]
    return []


def as_init_wrote(document: dict[str, Any]) -> bool:
    """Is the document the one `bd-vpt init` writes, with a YYYY-MM-DD date (ASCII digits) of
    any value in capture.sync_since? The schema holds for every such document (a test checks
    it), so it is not checked again: importing jsonschema is the most of a first command's
    start-up in a fresh clone. Compared as JSON text, so a type changed (1 for 1.0, true for
    1) is not the same document."""
    import json
    import re

    capture = document.get("capture")
    since = capture.get("sync_since") if isinstance(capture, dict) else None
    if not isinstance(since, str) or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", since) is None:
        return False
    try:
        text = json.dumps(document, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):  # (a TOML date or time, nan: not what init writes)
        return False
    return text == json.dumps(default_document(since), sort_keys=True)


def from_document(document: dict[str, Any], where: str = "config", validate: bool = True) -> Config:
    if validate:
        from bd_vpt.ledger.schemas import config_errors

        errors = (
            _not_finite(document)
            or ([] if as_init_wrote(document) else config_errors(document))
            or _dates(document)
        )
    else:
        errors = []
    if errors:
        raise VptError(
            f"{where}: " + "; ".join(errors),
            hint="see the Config section of the README for every key",
        )
    capture = document.get("capture", {})  # (its sync_since was read by _dates)
    weights = dict(DEFAULT_WEIGHTS)
    weights.update({k: float(v) for k, v in document.get("weights", {}).items()})
    rates = document.get("rates", {})
    return Config(
        human_usd_per_hour=float(rates.get("human_usd_per_hour", 90.0)),
        delay_usd_per_day=float(rates.get("cost_of_delay_usd_per_day", 0.0)),
        delay_by_label={k: float(v) for k, v in rates.get("delay_by_label", {}).items()},
        delay_by_type={k: float(v) for k, v in rates.get("delay_by_type", {}).items()},
        escalation_minutes=float(document.get("thresholds", {}).get("escalation_minutes", 30.0)),
        weights=weights,
        token_basis=document.get("metrics", {}).get("token_basis", "total"),
        sync_since=capture.get("sync_since"),
        sources=list(capture.get("sources", [])),
        prices={k: dict(v) for k, v in document.get("prices", {}).items()},
        raw=document,
    )


def write(root: Path, document: dict[str, Any]) -> Path:
    import tomli_w

    from bd_vpt.files import make_folder, write_error

    path = root / CONFIG_PATH
    make_folder(path.parent)
    try:
        path.write_text(tomli_w.dumps(document), encoding="utf-8")
    except OSError as exc:
        raise write_error(path, exc) from None
    return path
