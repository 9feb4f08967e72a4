"""The pull request comment, as GitHub-flavoured markdown, and the escaping it relies on.

Every string that came from the repository (bead ids and titles, statuses, actors, models)
goes through text(): it cannot open HTML, links, images, code, tables, math, @mentions or
#references, and cannot reach past the cell it is in. The body stays under GitHub's
65,536-character limit: the bead table is cut, with a note, when it would not fit.
"""

from __future__ import annotations

import re
from typing import Any

from bd_vpt import __version__

MARKER = "<!-- bd-vpt:pr-comment -->"
MAX_BYTES = 64_000  # GitHub refuses bodies over 65,536 characters; UTF-8 bytes >= characters
TITLE_CHARS = 80
SPENDERS = 8  # models or agents named in the details

_BACKSLASHED = set("\\`*[]|~$")  # emphasis, code, links, table cells, strike-through, math
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SHORTCODE = re.compile(r":[A-Za-z0-9_+-]+:")
NONE = "\u2013"  # an en dash: no figure
_ZWSP = "\u200b"  # breaks @mentions, #refs and autolinks without changing what people read
_DROPPED = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # controls, bidi overrides


def text(value: object, limit: int | None = None) -> str:
    """A repository string made inert for a markdown table cell, escaping only what would
    change how it renders: `gpt-4o` and `bx-2` stay as they are."""
    raw = _DROPPED.sub(" ", str(value)).strip()
    if limit is not None and len(raw) > limit:
        raw = raw[: limit - 1].rstrip() + "…"
    raw = raw.replace("://", ":" + _ZWSP + "//").replace("@", "@" + _ZWSP).replace("#", "#" + _ZWSP)
    raw = re.sub(r"(?i)(www)\.", r"\1" + _ZWSP + ".", raw)
    out = []
    for i, ch in enumerate(raw):
        if ch == "<":
            out.append("&lt;")  # HTML and autolinks
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;" if _ENTITY.match(raw, i) else "&")  # only where it names one
        elif ch == _ZWSP:
            out.append("&#8203;")
        elif ch == "_":  # intraword underscores never emphasise (GFM)
            inside = 0 < i < len(raw) - 1 and raw[i - 1].isalnum() and raw[i + 1].isalnum()
            out.append("_" if inside else "\\_")
        elif ch == ":":
            out.append("\\:" if _SHORTCODE.match(raw, i) else ":")  # :emoji: shortcodes
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _usd(value: float | None, unknown: bool = False) -> str:
    """Money as the comment shows it: `?` when unknown (some usage has no known price)."""
    from bd_vpt.render.output import money

    if value is None and not unknown:
        return NONE
    return money(value, unknown=unknown, dollar=True)


def _num(value: float | None) -> str:
    return NONE if value is None else f"{value:,.2f}"


def _figure(name: str, value: Any, unknown: bool = False) -> str:
    return _num(value) if name == "bc_mt" else _usd(value, unknown)


def _priced(t: dict[str, Any]) -> str:
    """The model cost with its priced share."""
    if not t.get("unpriced_records"):
        return f"**{_usd(t['cost_usd'])}** model cost (100% of tokens priced)"
    from bd_vpt.render.output import share

    return (
        f"**?** model cost ({_usd(t['priced_cost_usd'])} priced, "
        f"{share(t.get('priced_share'))} of tokens; the rest has no known price)"
    )


def _change(row: dict[str, Any]) -> str:
    change = row["change"]
    if change is None:
        return "no baseline" if row["baseline"] is None else NONE
    if change == 0:
        return "= same"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {abs(change) * 100:.1f}% {'better' if row['better'] else 'worse'}"


def _short(commit: str) -> str:
    return commit[:10]


def pr_comment(doc: dict[str, Any]) -> str:
    """The whole comment for `bd-vpt pr --format markdown`."""
    if not doc["records"]:
        line = (
            f"{MARKER}**bd-vpt**: this pull request adds no token or outcome records "
            f"(`{_short(doc['merge_base'])}...{_short(doc['head'])}`)."
        )
        return line + (f" {_problems_line(doc)}" if doc["problems"] else "")
    head = _summary(doc)
    rows, note_for = _bead_table(doc["beads"])
    tail = _details(doc) + _footer(doc)
    shown = _fit(rows, len(head.encode()) + len(tail.encode()) + 300)
    table = ""
    if rows:
        table = "#### Beads touched\n\n" + BEAD_HEADER + "".join(rows[:shown])
        if shown < len(rows):
            table += note_for(shown)
    return head + table + tail


def _summary(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    baseline = doc["baseline"]
    pr_unknown = bool(t.get("unpriced_records"))
    base_unknown = bool(baseline["totals"].get("unpriced_records"))
    lines = [
        MARKER,
        "### Value Per Token of this pull request",
        "",
        f"**{t['beads_touched']:,}** bead(s) touched · **{t['beads_closed']:,}** closed · "
        f"**{t['beads_reopened']:,}** reopened · **{t['tokens']:,}** tokens · "
        f"{_priced(t)}",
        "",
        f"| | this PR | base, trailing {baseline['days']} days | change |",
        "|---|---:|---:|---|",
    ]
    for row in doc["comparison"]:
        lines.append(
            f"| {row['label']} | {_figure(row['figure'], row['pr'], pr_unknown)} | "
            f"{_figure(row['figure'], row['baseline'], base_unknown)} | {_change(row)} |"
        )
    lines.append("")
    if doc["alerts"]:
        kind = "CAUTION" if doc["hard_alerts"] else "WARNING"
        lines += [
            f"> [!{kind}]",
            f"> **{len(doc['alerts'])} alert(s)**, {doc['hard_alerts']} hard "
            "(from `bd-vpt check` on the ledger at head)",
            ">",
        ]
        for alert in doc["alerts"]:
            level = "**hard**" if alert["hard"] else "soft"
            lines.append(
                f"> - {level} · {text(alert['name'])} ({text(alert['subject'], TITLE_CHARS)}): "
                f"{text(alert['pattern'])} → {text(alert['action'])}"
            )
        lines.append("")
    if doc["problems"]:
        lines += [_problems_line(doc), ""]
    return "\n".join(lines) + "\n"


def _problems_line(doc: dict[str, Any]) -> str:
    return (
        f"⚠️ {len(doc['problems'])} ledger line(s) could not be read or were removed; "
        "run `bd-vpt validate` on this branch."
    )


BEAD_HEADER = "| bead | title | priority | status | tokens | cost | result |\n|---|---|---|---|---:|---:|---|\n"


def _bead_table(beads: list[dict[str, Any]]) -> tuple[list[str], Any]:
    rows = []
    for bead in beads:
        if bead["bead"] is None:
            rows.append(
                f"| _no bead_ | usage no bead claimed | | | {bead['tokens']:,} | "
                f"{_usd(bead['cost_usd'], True)} | |\n"
            )
            continue
        priority = f"P{bead['priority']}" if isinstance(bead["priority"], int) else NONE
        result = text(bead["result"]) if bead["result"] else "no outcome yet"
        if bead["reopened"] and bead["result"] != "reopened":
            result += " (reopened in this PR)"
        rows.append(
            f"| {text(bead['bead'], TITLE_CHARS)} | "
            f"{text(bead['title'], TITLE_CHARS) if bead['title'] else NONE} | {priority} | "
            f"{text(bead['status']) if bead['status'] else NONE} | {bead['tokens']:,} | "
            f"{_usd(bead['cost_usd'], True)} | {result} |\n"
        )

    def note(shown: int) -> str:
        return (
            f"\n_Showing the {shown:,} beads with the most tokens of {len(rows):,}: a comment "
            "holds at most 65,536 characters. `bd-vpt pr --format json` lists them all._\n"
        )

    return rows, note


def _fit(rows: list[str], used: int) -> int:
    """How many table rows fit beside `used` bytes (header, note and the rest)."""
    budget = MAX_BYTES - used - len(BEAD_HEADER) - 200
    for shown, row in enumerate(rows):
        budget -= len(row.encode())
        if budget < 0:
            return shown
    return len(rows)


def _details(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    kinds = t["tokens_by_kind"]
    baseline = doc["baseline"]
    b = baseline["totals"]
    coverage = f"{t['coverage'] * 100:.1f}%" if t["coverage"] is not None else NONE
    unknown = bool(t.get("unpriced_records"))
    lines = [
        "",
        "<details>",
        "<summary>Details: tokens, money, baseline, weekly BC/MT</summary>",
        "",
        f"- Records added: {doc['records']:,} ({t['usage_records']:,} usage, "
        f"{t['outcome_records']:,} outcome); {t['unpriced_records']:,} usage record(s) unpriced",
        "- Tokens by kind: "
        + ", ".join(
            f"{kind.replace('_', ' ')} {count:,}" for kind, count in kinds.items() if count
        ),
        _spenders("By model", doc["models"]),
        _spenders("By agent", doc["agents"]),
        f"- Attributed to a bead: {coverage} ({t['unattributed_tokens']:,} tokens on no bead)",
        f"- Fully loaded cost {_usd(t['fully_loaded_cost_usd'], unknown)} = model "
        f"{_usd(t['cost_usd'], unknown)} + human attention {_usd(t['human_usd'])} "
        f"({_num(t['human_minutes'])} min) + delay {_usd(t['delay_usd'])} + rework "
        f"{_usd(t['rework_usd'], unknown)}",
        f"- Value recorded {_usd(t['value_usd'])}; ROI "
        f"{'?' if t['roi'] is None and unknown else _num(t['roi'])}",
        f"- Baseline: the ledger at `{_short(doc['base'])}`, {baseline['since'][:10]} to "
        f"{baseline['until'][:10]}: {b['tokens']:,} tokens, {b['beads_closed']:,} closed, "
        f"BC/MT {_num(b['bc_mt'])}",
    ]
    if doc["weekly"]:
        labels = ", ".join(f'"{w["period"]}"' for w in doc["weekly"])
        values = ", ".join(f"{w['bc_mt'] or 0:.2f}" for w in doc["weekly"])
        lines += [
            "",
            "```mermaid",
            "xychart-beta",
            '    title "Weekly BC/MT, ledger at head"',
            f"    x-axis [{labels}]",
            '    y-axis "BC/MT"',
            f"    bar [{values}]",
            "```",
        ]
    lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _spenders(label: str, rows: list[dict[str, Any]]) -> str:
    """The biggest spenders, one line: names escaped, at most SPENDERS of them."""
    shown = ", ".join(
        f"{text(r['key'], TITLE_CHARS)} {r['tokens']:,} ({_usd(r['cost_usd'], True)})"
        for r in rows[:SPENDERS]
    )
    more = f", and {len(rows) - SPENDERS:,} more" if len(rows) > SPENDERS else ""
    return f"- {label}: {shown or NONE}{more}"


def _footer(doc: dict[str, Any]) -> str:
    return (
        "<sub>BC/MT = Σ (priority weight x completion) of beads closed ÷ (tokens ÷ 10⁶), over "
        f"the ledger records this PR adds (`{_short(doc['merge_base'])}...{_short(doc['head'])}`)"
        "; the baseline is the same figure over the base branch's ledger. Weights, rates and "
        "thresholds are the base branch's `.beads/vpt/config.toml`. "
        f"bd-vpt {__version__}.</sub>\n"
    )
