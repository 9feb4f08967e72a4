"""The anchor of the speed figures: DuckDB's `read_json` over the same shard files, with the
aggregation `summary` and `trend --every week` do (usage sums; a bead closed when its final
outcome is `completed`, counted where its final completion lies, weighted by the priority of its
latest snapshot x completion; records deduplicated by id). Run in its own process, timed like `bd-vpt`:

    python -m bench.anchor summary|trend LEDGER_DIR [--json]

With --json it prints its figures, so the bench can check it computed what bd-vpt did.
DuckDB is a bench-only dependency (`pip install '.[bench]'`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = {
    "v": "INTEGER",
    "id": "VARCHAR",
    "ts": "VARCHAR",
    "kind": "VARCHAR",
    "bead": "VARCHAR",
    "tokens": "STRUCT(input BIGINT, output BIGINT, cache_read BIGINT, cache_write BIGINT)",
    "cost_usd": "DOUBLE",
    "result": "VARCHAR",
    "completion": "DOUBLE",
    "snapshot": "STRUCT(priority INTEGER)",
}
WEIGHT = (
    "CASE pri WHEN 0 THEN 8 WHEN 1 THEN 4 WHEN 2 THEN 2 WHEN 3 THEN 1 WHEN 4 THEN 0.5 ELSE 2 END"
)
RECORDS = """
raw AS (SELECT * FROM read_json($files, format = 'newline_delimited', columns = {columns})),
recs AS (SELECT * FROM raw QUALIFY row_number() OVER (PARTITION BY id) = 1),
usage AS (
    SELECT coalesce(tokens.input, 0) + coalesce(tokens.output, 0)
           + coalesce(tokens.cache_read, 0) + coalesce(tokens.cache_write, 0) AS tok,
           cost_usd, strftime(left(ts, 10)::DATE, '%G-W%V') AS week
    FROM recs WHERE kind = 'usage'),
outcomes AS (SELECT *, strftime(left(ts, 10)::DATE, '%G-W%V') AS week FROM recs WHERE kind = 'outcome')
"""
# a bead is closed when its final outcome is `completed`; it counts where its final completion
# (the first `completed` after its last other outcome) lies, weighted by its latest snapshot
FINAL = """
beads AS (
    SELECT bead, arg_max(result, (ts, id)) AS last,
           max(ts || id) FILTER (WHERE result <> 'completed') AS last_open,
           arg_max(snapshot.priority, (ts, id)) FILTER (WHERE snapshot IS NOT NULL) AS pri
    FROM outcomes GROUP BY bead),
final AS (
    SELECT o.bead, arg_min(o.week, (o.ts, o.id)) AS week,
           arg_min(o.completion, (o.ts, o.id)) AS comp, any_value(b.pri) AS pri
    FROM outcomes o JOIN beads b ON o.bead = b.bead
    WHERE b.last = 'completed' AND o.result = 'completed'
      AND (b.last_open IS NULL OR o.ts || o.id > b.last_open)
    GROUP BY o.bead)
"""
SUMMARY = """
WITH {records}, {final}
SELECT 'fleet' AS period,
       (SELECT sum(tok) FROM usage) AS tokens,
       (SELECT sum(cost_usd) FROM usage) AS cost_usd,
       (SELECT count(*) FROM usage) AS usage_records,
       count(*) AS beads_closed,
       coalesce(sum({weight} * comp), 0) AS weighted
FROM final
"""
TREND = """
WITH {records}, {final},
spent AS (SELECT week, sum(tok) AS tokens, sum(cost_usd) AS cost_usd, count(*) AS n
          FROM usage GROUP BY week),
closed AS (SELECT week, count(*) AS beads_closed, coalesce(sum({weight} * comp), 0) AS weighted
           FROM final GROUP BY week)
SELECT coalesce(spent.week, closed.week) AS period, coalesce(tokens, 0), coalesce(cost_usd, 0),
       coalesce(n, 0), coalesce(beads_closed, 0), coalesce(weighted, 0)
FROM spent FULL OUTER JOIN closed ON spent.week = closed.week ORDER BY period
"""
FIELDS = ("period", "tokens", "cost_usd", "usage_records", "beads_closed", "weighted")


def query(which: str, ledger: Path) -> list[dict[str, object]]:
    import duckdb

    files = sorted(str(p) for p in ledger.rglob("*.jsonl"))
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    sql = (SUMMARY if which == "summary" else TREND).format(
        records=RECORDS.format(columns=columns), weight=WEIGHT, final=FINAL
    )
    rows = duckdb.connect().execute(sql, {"files": files}).fetchall()
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def main(argv: list[str]) -> int:
    rows = query(argv[0], Path(argv[1]))
    if "--json" in argv:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
