"""Charts as inline SVG strings: a line over periods, paired bars, a stacked bar, bars.

Pure functions of their data. Every mark carries data-key, data-series and data-value (the
figure exactly as in the JSON report, repr of a float), so a browser test can read the points
back; every chart has a <title> and a <desc>, and the caller puts a table beside it. Colours
are CSS classes (the page's stylesheet sets them for light and dark).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

W, H = 640, 260  # the viewBox; the chart scales to its box
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 16, 40
Value = float | int | None
Format = Callable[[float], str]


def attr(value: object) -> str:
    return escape(str(value), quote=True)


def number(value: float) -> str:
    """A figure as the JSON report has it (repr), for data-value."""
    return repr(value) if isinstance(value, float) else str(value)


def nice_max(value: float) -> float:
    """The top of an axis: 1, 2, 2.5 or 5 x a power of ten, at or above value."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _open(name: str, title: str, desc: str, height: int = H) -> list[str]:
    ident = attr(name)
    return [
        f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _point(key: str, series: str, value: float) -> str:
    return f'data-key="{attr(key)}" data-series="{attr(series)}" data-value="{number(value)}"'


def line(
    name: str,
    title: str,
    desc: str,
    points: Sequence[tuple[str, Value]],
    series: str,
    fmt: Format,
) -> str:
    """A line over periods; a period with no figure is a gap, not a zero."""
    parts = _open(name, title, desc)
    present = [v for _, v in points if v is not None]
    top = nice_max(max(present, default=0.0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    count = max(len(points), 1)
    step = plot_w / max(count - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    parts += _grid(top, fmt, plot_w, plot_h)
    every = max(1, math.ceil(count / 8))  # at most ~8 labels under the axis
    for i, (label, _) in enumerate(points):
        if i % every == 0 or i == count - 1:
            anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 else "middle"
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{H - BOTTOM + 18}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
    run: list[str] = []
    runs: list[list[str]] = []
    for i, (_, value) in enumerate(points):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{x(i):.1f},{y(value):.1f}")
    if run:
        runs.append(run)
    for segment in runs:
        if len(segment) > 1:
            parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        parts.append(
            f'<circle class="dot s1" cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" '
            f"{_point(label, series, value)}><title>{escape(label)}: {escape(fmt(value))}"
            "</title></circle>"
        )
    if not present:
        parts.append(_empty())
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(top: float, fmt: Format, plot_w: float, plot_h: float) -> list[str]:
    lines = []
    for n in range(5):
        value = top * n / 4
        gy = TOP + plot_h - plot_h * n / 4
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
        )
        lines.append(
            f'<text class="tick" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    return lines


def _empty(height: float = H) -> str:
    return (
        f'<text class="empty" x="{W / 2}" y="{height / 2}" text-anchor="middle">'
        "no figures in this window</text>"
    )


def paired_bars(
    name: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, Value, Value]],
    series: tuple[str, str],
    labels: tuple[str, str],
    fmts: tuple[Format, Format],
) -> str:
    """Two bars per row (each series on its own scale), value written at the bar's end."""
    row_h, bar_h, label_w = 40, 14, 150
    height = TOP + max(len(rows), 1) * row_h + 28
    parts = _open(name, title, desc, height)
    tops = (
        nice_max(max((r[1] or 0 for r in rows), default=0)),
        nice_max(max((r[2] or 0 for r in rows), default=0)),
    )
    plot_w = W - label_w - 110
    for n, (key, *values) in enumerate(rows):
        y0 = TOP + n * row_h
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y0 + bar_h + 4}" text-anchor="end">'
            f"{escape(_cut(key, 22))}<title>{escape(key)}</title></text>"
        )
        for i, value in enumerate(values):
            by = y0 + i * (bar_h + 2)
            if value is None:
                parts.append(
                    f'<text class="value" x="{label_w + 4}" y="{by + bar_h - 3}">? '
                    f"({escape(labels[i])} unknown)</text>"
                )
                continue
            width = plot_w * (value / tops[i]) if tops[i] else 0
            parts.append(
                f'<rect class="bar s{i + 1}" x="{label_w}" y="{by}" width="{width:.1f}" '
                f'height="{bar_h}" {_point(key, series[i], value)}>'
                f"<title>{escape(key)}: {escape(labels[i])} {escape(fmts[i](value))}</title></rect>"
            )
            parts.append(
                f'<text class="value" x="{label_w + width + 4:.1f}" y="{by + bar_h - 3}">'
                f"{escape(fmts[i](value))}</text>"
            )
    legend_y = height - 10
    for i in range(2):
        lx = label_w + i * 200
        parts.append(
            f'<rect class="s{i + 1}" x="{lx}" y="{legend_y - 10}" width="12" height="12"/>'
            f'<text class="label" x="{lx + 16}" y="{legend_y}">{escape(labels[i])}</text>'
        )
    if not rows:
        parts.append(_empty(height))
    parts.append("</svg>")
    return "\n".join(parts)


def stacked(
    name: str, title: str, desc: str, parts_: Sequence[tuple[str, Value]], series: str, fmt: Format
) -> str:
    """One horizontal bar cut into its parts (none negative), with a legend."""
    rows_needed = (len(parts_) + 1) // 2
    height = TOP + 52 + rows_needed * 22
    parts = _open(name, title, desc, height)
    total = sum(v for _, v in parts_ if v)
    plot_w = W - LEFT - RIGHT
    x = float(LEFT)
    for i, (key, value) in enumerate(parts_):
        if value is None:
            continue
        width = plot_w * value / total if total else 0
        parts.append(
            f'<rect class="bar s{i + 1}" x="{x:.1f}" y="{TOP}" width="{width:.1f}" height="36" '
            f"{_point(key, series, value)}><title>{escape(key)}: {escape(fmt(value))}</title></rect>"
        )
        x += width
    for i, (key, value) in enumerate(parts_):
        lx = LEFT + (i % 2) * (plot_w / 2)
        ly = TOP + 52 + (i // 2) * 22
        shown = fmt(value) if value is not None else "?"
        parts.append(
            f'<rect class="s{i + 1}" x="{lx:.1f}" y="{ly}" width="12" height="12"/>'
            f'<text class="label" x="{lx + 16:.1f}" y="{ly + 10}">{escape(key)}: '
            f"{escape(shown)}</text>"
        )
    if not total:
        parts.append(_empty(height))
    parts.append("</svg>")
    return "\n".join(parts)


def bars(
    name: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, Value, str]],
    series: str,
    fmt: Format,
) -> str:
    """One bar per row, longest first as given; the note (an outcome) after the value."""
    row_h, bar_h, label_w = 24, 16, 150
    height = TOP + max(len(rows), 1) * row_h + 8
    parts = _open(name, title, desc, height)
    top = nice_max(max((r[1] or 0 for r in rows), default=0))
    plot_w = W - label_w - 200
    for n, (key, value, note) in enumerate(rows):
        y0 = TOP + n * row_h
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y0 + bar_h - 3}" text-anchor="end">'
            f"{escape(_cut(key, 22))}<title>{escape(key)}</title></text>"
        )
        width = plot_w * (value / top) if value is not None and top else 0
        if value is not None:
            parts.append(
                f'<rect class="bar s1" x="{label_w}" y="{y0}" width="{width:.1f}" '
                f'height="{bar_h}" {_point(key, series, value)}>'
                f"<title>{escape(key)}: {escape(fmt(value))}</title></rect>"
            )
        shown = fmt(value) if value is not None else "?"
        parts.append(
            f'<text class="value" x="{label_w + width + 4:.1f}" y="{y0 + bar_h - 3}">'
            f"{escape(shown)} · {escape(note)}</text>"
        )
    if not rows:
        parts.append(_empty(height))
    parts.append("</svg>")
    return "\n".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
