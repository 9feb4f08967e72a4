"""The dashboard: one self-contained HTML page drawn from the dashboard document.

No script, no font, no image, no link: the page's Content-Security-Policy forbids every fetch,
so it opens the same from a CI artifact, an e-mail or a laptop on a plane. Charts are inline
SVG (svg.py) with a title, a description and a data table each; light and dark follow the
reader's system; it prints on white. Every string from the repository is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from bd_vpt import __version__
from bd_vpt.render import svg

NONE = "\u2013"  # an en dash: no figure
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light dark; --bg:#f6f7f9; --card:#fff; --fg:#1b1f24; --muted:#5b6470;
  --grid:#d9dde3; --c1:#2563eb; --c2:#d97706; --c3:#059669; --c4:#9333ea; --bad:#b91c1c;
  --warn:#a16207; --good:#047857; }
@media (prefers-color-scheme: dark) { :root { --bg:#0f1216; --card:#181c22; --fg:#e6e9ee;
  --muted:#9aa4b1; --grid:#2c333d; --c1:#60a5fa; --c2:#fbbf24; --c3:#34d399; --c4:#c084fc;
  --bad:#f87171; --warn:#facc15; --good:#4ade80; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 16px 20px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 0 0 8px; }
.sub, .note, footer { color: var(--muted); font-size: .9rem; }
.tiles { display:grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap:12px; }
.tile, section { background:var(--card); border-radius:10px; padding:14px 16px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.tile b { display:block; font-size:1.45rem; } .tile span { color:var(--muted); font-size:.85rem; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap:16px;
  margin-top:16px; }
section.wide { grid-column: 1 / -1; }
figure { margin:0; } svg.chart { width:100%; height:auto; display:block; }
svg .grid { stroke:var(--grid); stroke-width:1; }
svg text { fill:var(--fg); font-size:12px; } svg .tick, svg .empty { fill:var(--muted); }
svg .line { fill:none; stroke:var(--c1); stroke-width:2.5; }
svg .s1 { fill:var(--c1); } svg .s2 { fill:var(--c2); } svg .s3 { fill:var(--c3); }
svg .s4 { fill:var(--c4); } svg .dot { stroke:var(--card); stroke-width:1.5; }
table { border-collapse:collapse; width:100%; font-size:.88rem; margin-top:6px; }
th, td { text-align:right; padding:3px 8px; border-bottom:1px solid var(--grid); }
th:first-child, td:first-child { text-align:left; }
td.text { text-align:left; }
details { margin-top:8px; } summary { cursor:pointer; color:var(--muted); font-size:.88rem; }
ul.alerts { list-style:none; padding:0; margin:0; }
ul.alerts li { padding:6px 0; border-bottom:1px solid var(--grid); }
.hard { color:var(--bad); font-weight:600; } .soft { color:var(--warn); font-weight:600; }
.better { color:var(--good); } .worse { color:var(--bad); }
@media print {
  :root { --bg:#fff; --card:#fff; --fg:#000; --muted:#333; --grid:#bbb; color-scheme: light; }
  body { font-size: 11pt; } .tile, section { box-shadow:none; border:1px solid #bbb; }
  section, figure, .tile { break-inside: avoid; }
  .grid { grid-template-columns: 1fr; }
  details > summary { display:none; }
  details::details-content { content-visibility: visible; display: block; }
}
"""


def _moment(iso: str | None) -> str:
    return "no records" if iso is None else iso[:16].replace("T", " ") + " UTC"


def usd(value: Any) -> str:
    if value is None:
        return "?"
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:.4f}"


def per_completion(value: Any, closed: Any) -> str:
    """Money per completion: none without a completion (not unknown)."""
    return NONE if not closed else usd(value)


def pct(value: Any) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def num(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}"


def tokens(value: Any) -> str:
    if value is None:
        return NONE
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{unit}"
    return f"{value:,.0f}"


def _table(
    head: Sequence[str], rows: Sequence[Sequence[Any]], caption: str, text_cols: int = 1
) -> str:
    out = [f'<table><caption class="note">{escape(caption)}</caption><thead><tr>']
    out += [f'<th scope="col">{escape(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            tag = 'th scope="row"' if i == 0 else "td"
            klass = ' class="text"' if 0 < i < text_cols else ""
            cells.append(f"<{tag}{klass}>{escape(str(cell))}</{tag.split()[0]}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figure(svg_text: str, table: str, name: str) -> str:
    return (
        f'<figure data-chart="{svg.attr(name)}">{svg_text}'
        f"<details><summary>Data table</summary>{table}</details></figure>"
    )


def _section(title: str, body: str, wide: bool = False) -> str:
    klass = ' class="wide"' if wide else ""
    return f"<section{klass}><h2>{escape(title)}</h2>{body}</section>"


def html(document: dict[str, Any], name: str = "bd-vpt") -> str:
    """The whole page; name (the repository's) goes in its title."""
    t = document["totals"]
    window = document["window"]
    span = (
        f"{window['since'] or 'the first record'} to {window['until'] or 'the last record'}"
        if window["since"] or window["until"]
        else "every record"
    )
    title = f"Value Per Token: {name}"
    tiles = [
        ("BC/MT", num(t["bc_mt"]), "weighted beads closed per million tokens"),
        (
            "Cost per completion",
            per_completion(t["cost_per_completion"], t["beads_closed"]),
            "model tokens only",
        ),
        (
            "Fully loaded per completion",
            per_completion(t["fully_loaded_cost_per_completion"], t["beads_closed"]),
            "tokens + human + delay + rework",
        ),
        ("Beads closed", num(t["beads_closed"]), f"{num(t['weighted_completions'])} weighted"),
        ("Model spend", usd(t["cost_usd"]), _spend_note(t)),
        ("Attributed to beads", pct(t["coverage"]), "share of tokens a bead claims"),
        ("ROI", num(t["roi"]), f"value recorded {usd(t['value_usd'])}"),
        ("Reopen rate", pct(t["reopen_rate"]), "completed beads that came back"),
    ]
    tile_html = "".join(
        f'<div class="tile"><span>{escape(a)}</span><b>{escape(b)}</b><span>{escape(c)}</span></div>'
        for a, b, c in tiles
    )
    body = [
        f'<div class="tiles">{tile_html}</div>',
        '<div class="grid">',
        _periodic(document, "bc_mt", "BC/MT", num),
        _periodic(document, "cost_per_completion", "Model cost per completion", usd),
        _spenders(document, "agents", "agent"),
        _spenders(document, "models", "model"),
        _breakdown(document),
        _coverage(document),
        _alerts(document),
        _beads(document),
        _baseline(document),
        "</div>",
    ]
    problems = document.get("problems") or 0
    warn = (
        f" {problems} ledger line(s) could not be read: run <code>bd-vpt validate</code>."
        if problems
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{svg.attr(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="sub">Ledger: {escape(str(document.get("source", "")))} · {escape(span)} · '
        f"as of {escape(_moment(document['as_of']))} · "
        f"{num(t['usage_records'])} usage and {num(t['outcome_records'])} outcome records."
        f"{warn}</p></header>"
        f"<main>{''.join(body)}</main>"
        f"<footer>BC/MT = &Sigma; (priority weight &times; completion) of beads closed &divide; "
        "(tokens &divide; 10<sup>6</sup>). "
        f"Unknown figures show “?” or “{NONE}”, never zero. Made by bd-vpt {escape(__version__)} "
        "(<code>bd-vpt dashboard</code>); no script, nothing fetched.</footer>"
        "</body></html>\n"
    )


def _spend_note(t: dict[str, Any]) -> str:
    unpriced = t.get("unpriced_records") or 0
    note = f"{tokens(t['tokens'])} tokens"
    if unpriced:
        note += f"; {unpriced:,} usage record(s) unpriced"
        if t.get("priced_cost_usd") is not None and t.get("priced_share") is not None:
            note += f" ({usd(t['priced_cost_usd'])} for the {pct(t['priced_share'])} priced)"
        elif t.get("cost_usd") is not None:
            note += ", not in this figure"
    return note


def _periodic(document: dict[str, Any], figure: str, what: str, fmt: Callable[[Any], str]) -> str:
    weeks = document["periods"]
    every = document["every"]
    title = f"{what} per {every}"
    points = [(w["period"], w[figure]) for w in weeks]
    shown = [p for p in points if p[1] is not None]
    desc = (
        f"{title}, {len(points)} {every}s from {points[0][0]} to {points[-1][0]}; "
        + (
            f"lowest {fmt(min(v for _, v in shown))}, highest {fmt(max(v for _, v in shown))}, "
            f"latest {fmt(shown[-1][1])}."
            if shown
            else f"no {every} has a figure."
        )
        if points
        else f"{title}: nothing in this window."
    )
    chart = svg.line(f"chart-{figure}", title, desc, points, figure, fmt)
    table = _table(
        (every, what, "tokens", "cost", "closed"),
        [
            (
                w["period"],
                NONE if w[figure] is None and not w["beads_closed"] else fmt(w[figure]),
                num(w["tokens"]),
                usd(w["cost_usd"]),
                num(w["beads_closed"]),
            )
            for w in weeks
        ],
        title,
    )
    return _section(title, _figure(chart, table, f"periodic-{figure}"))


def _spenders(document: dict[str, Any], name: str, noun: str) -> str:
    rows = document[name]
    title = f"Spend vs weighted completions by {noun}"
    desc = (
        f"For each {noun}, model spend in dollars and weighted completions (priority weight x "
        f"completion of the beads it closed, split by its share of their tokens). "
        + "; ".join(
            f"{r['key']}: {usd(r['cost_usd'])}, {num(r['weighted_completions'])}" for r in rows[:10]
        )
    )
    chart = svg.paired_bars(
        f"chart-{name}",
        title,
        desc,
        [(r["key"], r["cost_usd"], r["weighted_completions"]) for r in rows],
        ("cost_usd", "weighted_completions"),
        ("spend $", "weighted completions"),
        (usd, num),
    )
    table = _table(
        (noun, "tokens", "spend", "closed", "weighted", "BC/MT", "$/closed", "loaded $/closed"),
        [
            (
                r["key"],
                num(r["tokens"]),
                usd(r["cost_usd"]),
                num(r["beads_closed"]),
                num(r["weighted_completions"]),
                num(r["bc_mt"]),
                per_completion(r["cost_per_completion"], r["beads_closed"]),
                per_completion(r["fully_loaded_cost_per_completion"], r["beads_closed"]),
            )
            for r in rows
        ],
        title,
    )
    return _section(title, _figure(chart, table, name))


def _breakdown(document: dict[str, Any]) -> str:
    parts = document["cost_breakdown"]
    t = document["totals"]
    title = "Fully loaded cost"
    desc = f"Fully loaded cost {usd(t['fully_loaded_cost_usd'])}: " + ", ".join(
        f"{p['part']} {usd(p['usd'])}" for p in parts
    )
    chart = svg.stacked(
        "chart-cost", title, desc, [(p["part"], p["usd"]) for p in parts], "usd", usd
    )
    rows = [(p["part"], usd(p["usd"])) for p in parts]
    rows.append(("fully loaded", usd(t["fully_loaded_cost_usd"])))
    rows.append(
        (
            "per completion",
            per_completion(t["fully_loaded_cost_per_completion"], t["beads_closed"]),
        )
    )
    table = _table(("part", "cost"), rows, title)
    return _section(title, _figure(chart, table, "cost_breakdown"))


def _coverage(document: dict[str, Any]) -> str:
    cov = document["coverage"]
    weeks = document["periods"]
    title = f"Attribution coverage per {document['every']}"
    desc = (
        f"Share of tokens a bead claims: {pct(cov['coverage'])} overall "
        f"({num(cov['unattributed_tokens'])} tokens on no bead)."
    )
    chart = svg.line(
        "chart-coverage",
        title,
        desc,
        [(w["period"], w["coverage"]) for w in weeks],
        "coverage",
        pct,
    )
    table = _table(
        (document["every"], "coverage", "tokens on no bead"),
        [(w["period"], pct(w["coverage"]), num(w["unattributed_tokens"])) for w in weeks],
        title,
    )
    note = (
        f'<p class="note">{pct(cov["coverage"])} of {num(cov["attributed_tokens"] + cov["unattributed_tokens"])} '
        f"tokens are on a bead; {num(cov['unattributed_tokens'])} are on none (coordination, or agents "
        "that did not claim a bead).</p>"
    )
    return _section(title, note + _figure(chart, table, "periodic-coverage"))


def _alerts(document: dict[str, Any]) -> str:
    alerts = document["alerts"]
    if not alerts:
        return _section("Red flags", '<p class="note">No alert fires.</p>')
    items = []
    for a in alerts:
        level = "hard" if a["hard"] else "soft"
        evidence = ", ".join(f"{k} {v}" for k, v in a["evidence"].items())
        items.append(
            f'<li><span class="{level}">{level}</span> <b>{escape(a["name"])}</b> '
            f"({escape(str(a['subject']))}): {escape(a['pattern'])} → {escape(a['action'])}"
            f'<br><span class="note">{escape(evidence)}</span></li>'
        )
    hard = sum(1 for a in alerts if a["hard"])
    return _section(
        f"Red flags: {len(alerts)} alert(s), {hard} hard",
        f'<ul class="alerts">{"".join(items)}</ul>',
    )


def _beads(document: dict[str, Any]) -> str:
    beads = document["top_beads"]
    title = f"Top {len(beads)} beads by model cost"
    rows = []
    for b in beads:
        rows.append((b["bead"], b["cost_usd"], b["result"] or "no outcome yet"))
    desc = "The costliest beads and what came of them: " + "; ".join(
        f"{b['bead']} {usd(b['cost_usd'])} {b['result'] or 'no outcome yet'}" for b in beads
    )
    chart = svg.bars("chart-beads", title, desc, rows, "cost_usd", usd)
    table = _table(
        ("bead", "title", "priority", "outcome", "tokens", "cost", "weighted"),
        [
            (
                b["bead"],
                b["title"] or NONE,
                f"P{b['priority']}" if b["priority"] is not None else NONE,
                b["result"] or "no outcome yet",
                num(b["tokens"]),
                usd(b["cost_usd"]),
                num(b["weighted_completions"]),
            )
            for b in beads
        ],
        title,
        text_cols=4,
    )
    return _section(title, _figure(chart, table, "top_beads"))


def _baseline(document: dict[str, Any]) -> str:
    base = document["baseline"]
    if base is None:
        return _section(
            "Baseline comparison",
            '<p class="note">No stored baseline. Store one with '
            "<code>bd-vpt baseline set --period 2026-10</code> and this page compares with it.</p>",
        )
    volume = {"tokens", "cost_usd", "fully_loaded_cost_usd"}  # more is neither better nor worse
    lower_better = {
        "cost_per_completion",
        "fully_loaded_cost_per_completion",
        "reopen_rate",
        "escalation_rate",
        "waste_share",
    }
    rows = []
    for f in base["figures"]:
        change = f["change"]
        mark = ""
        if change and f["figure"] not in volume:
            better = (change < 0) == (f["figure"] in lower_better)
            mark = "better" if better else "worse"
        if f["change_pct"] is not None:
            pct_text = f"{f['change_pct']:+.1f}%"
        else:
            pct_text = NONE if change is None else f"{change:+,.4g}"
        rows.append(
            f'<tr><th scope="row">{escape(f["figure"])}</th><td>{escape(num(f["before"]))}</td>'
            f'<td>{escape(num(f["after"]))}</td><td class="{mark}">{escape(pct_text)} {mark}</td></tr>'
        )
    table = (
        '<table><thead><tr><th scope="col">figure</th>'
        f'<th scope="col">baseline {escape(str(base["name"]))}</th>'
        '<th scope="col">this window</th><th scope="col">change</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return _section(f"Baseline comparison: {base['name']} ({base['period']})", table)
