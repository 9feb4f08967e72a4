"""Realistic generated ledgers: many agents and models, beads of every priority, reopens,
unattributed coordination usage, one shard per writer per month."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bd_vpt.ledger.records import format_ts

MODELS = {
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-opus-4-1": (15.0, 75.0),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(moment: datetime, rnd: random.Random) -> str:
    ms = int(moment.timestamp() * 1000)
    head = "".join(CROCKFORD[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(rnd.choice(CROCKFORD) for _ in range(16))


def records(
    count: int, seed: int = 1, start: datetime | None = None, days: int = 180, agents: int = 10
) -> list[dict[str, object]]:
    """count records in time order: ~92% usage, the rest outcomes (5% of those reopens).

    Usage comes in sessions of 50 records, as agents work: a session stays on one bead (one
    record in twenty is coordination usage on no bead) and mostly on one model (one in ten
    goes to another, as a sub-agent's would)."""
    rnd = random.Random(seed)
    fleet = [f"fleet/worker-{i}" for i in range(agents)] + ["mayor", "reviewer"]
    start = start or datetime(2026, 5, 1, tzinfo=UTC)
    step = timedelta(days=days) / max(count, 1)
    beads = max(count // 20, 10)
    out: list[dict[str, object]] = []
    closed: list[str] = []
    sessions: dict[int, tuple[str, str]] = {}
    for i in range(count):
        moment = start + step * i
        actor = rnd.choice(fleet)
        common = {
            "v": 1,
            "id": _ulid(moment, rnd),
            "ts": format_ts(moment),
            "actor": actor,
            "source": "bench",
        }
        if rnd.random() < 0.08:
            if closed and rnd.random() < 0.05:
                bead, result = rnd.choice(closed), "reopened"
            else:
                bead, result = f"bench-{rnd.randrange(beads)}", "completed"
                closed.append(bead)
            out.append(
                {
                    **common,
                    "kind": "outcome",
                    "bead": bead,
                    "result": result,
                    "completion": 1.0 if result == "completed" else 0.0,
                    "snapshot": {
                        "priority": rnd.choice((0, 1, 1, 2, 2, 2, 3, 3, 4)),
                        "type": rnd.choice(("bug", "task", "feature", "chore")),
                        "labels": [rnd.choice(("api", "web", "infra", "docs"))],
                        "title": f"Bench bead {bead}",
                    },
                    "human_minutes": rnd.choice((0, 0, 5, 15, 60)),
                }
            )
            continue
        session = i // 50
        if session not in sessions:
            sessions.clear()  # one session at a time: the dict never grows
            sessions[session] = (f"bench-{rnd.randrange(beads)}", rnd.choice(list(MODELS)))
        session_bead, session_model = sessions[session]
        model = session_model if rnd.random() < 0.9 else rnd.choice(list(MODELS))
        price_in, price_out = MODELS[model]
        tokens = {
            "input": rnd.randint(500, 20_000),
            "output": rnd.randint(200, 8_000),
            "cache_read": rnd.randint(0, 150_000),
            "cache_write": rnd.randint(0, 20_000),
        }
        cost = (
            tokens["input"] * price_in
            + tokens["output"] * price_out
            + tokens["cache_read"] * price_in / 10
            + tokens["cache_write"] * price_in * 1.25
        ) / 1e6
        bead_id = None if actor == "mayor" or rnd.random() < 0.05 else session_bead
        out.append(
            {
                **common,
                "kind": "usage",
                "bead": bead_id,
                "source_ref": f"bench:{seed}:{i}",  # an agent message's id, as importers keep
                "model": model,
                "provider": "anthropic" if model.startswith("claude") else "openai",
                "session": f"s-{i // 50}",
                "tokens": tokens,
                "cost_usd": round(cost, 6),
                "price_ref": "bench",
            }
        )
    return out


def write_ledger(root: Path, recs: list[dict[str, object]]) -> int:
    """Write records into shards per writer per month; returns bytes written."""
    shards: dict[Path, list[bytes]] = {}
    for rec in recs:
        month = str(rec["ts"])[:7]
        writer = str(rec["actor"]).replace("/", "-")
        path = root / ".beads/vpt/ledger" / month / f"{writer}-bench0.jsonl"
        shards.setdefault(path, []).append(orjson.dumps(rec) + b"\n")
    size = 0
    for path, lines in shards.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(lines)
        path.write_bytes(data)
        size += len(data)
    return size
