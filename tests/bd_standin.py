#!/usr/bin/env python3
"""A stand-in for the `bd` binary (which cannot be installed here), speaking bd's
documented JSON shapes: `bd list --json` prints a bare array, `bd show ID --json` a
one-element array, and with BD_JSON_ENVELOPE=1 both come as {"schema_version": 1, "data": ...}.
$BD_STANDIN_SLEEP makes it hang that many seconds first. State lives in $BD_STANDIN_STATE (a JSON list of issues); each call is logged to
$BD_STANDIN_STATE.log."""

import json
import os
import sys
from typing import Any

state_path = os.environ["BD_STANDIN_STATE"]
with open(state_path) as f:
    issues: list[dict[str, Any]] = json.load(f)
args = sys.argv[1:]
with open(state_path + ".log", "a") as log:
    log.write(" ".join(args) + "\n")


def emit(payload: object) -> None:
    if os.environ.get("BD_JSON_ENVELOPE") == "1":
        payload = {"schema_version": 1, "data": payload}
    print(json.dumps(payload))


def find(bead_id: str) -> dict[str, object]:
    for issue in issues:
        if issue["id"] == bead_id:
            return issue
    print(f"Error: issue {bead_id} not found", file=sys.stderr)
    sys.exit(1)


if os.environ.get("BD_STANDIN_SLEEP"):
    import time

    time.sleep(float(os.environ["BD_STANDIN_SLEEP"]))
if os.environ.get("BD_STANDIN_FAIL"):
    print("Error: database is locked", file=sys.stderr)
    sys.exit(1)
command = args[0] if args else ""
if command == "list":
    emit(issues)
elif command == "statuses":
    custom = os.environ.get("BD_STANDIN_CUSTOM_STATUSES", "")
    rows = [dict(zip(("name", "category"), p.split(":"), strict=False)) for p in custom.split(",")]
    emit({"built_in_statuses": [], "custom_statuses": [r for r in rows if r.get("name")]})
elif command == "show":
    emit([find(args[1])])
elif command in ("close", "reopen"):
    # bd (cobra) ends options at `--`: the id comes after it
    issue = find(args[args.index("--") + 1] if "--" in args else args[1])
    issue["status"] = "closed" if command == "close" else "open"
    issue["updated_at"] = "2026-11-20T12:00:00Z"
    if command == "close":
        issue["closed_at"] = "2026-11-20T12:00:00Z"
        if "--reason" in args:
            issue["close_reason"] = args[args.index("--reason") + 1]
    with open(state_path, "w") as f:
        json.dump(issues, f)
    emit([issue])
else:
    print(f"Error: unknown command {command!r}", file=sys.stderr)
    sys.exit(1)
