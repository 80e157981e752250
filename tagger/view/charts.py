"""Charts as inline SVG, drawn on the server: no JavaScript library, no network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger.view.html import esc

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d")


def bar_chart(
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    *,
    title: str,
    max_value: float | None = None,
) -> str:
    """Horizontal bars: one row per label, one bar per series (e.g. P, R, F1 per tag)."""
    if not rows:
        return '<p class="empty">Nothing to chart.</p>'
    top = max_value or max((v for _, values in rows for v in values), default=1.0) or 1.0
    bar_h, gap, label_w, width = 9, 8, 190, 420
    row_h = bar_h * len(series) + gap
    height = row_h * len(rows) + 30
    parts = [_legend(series, label_w)]
    for i, (label, values) in enumerate(rows):
        y = 26 + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * len(series) / 2 + 4}" '
            f'text-anchor="end" class="label">{esc(label)}</text>'
        )
        for j, value in enumerate(values):
            w = max(0.0, value) / top * width
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y + j * bar_h}" width="{w:.1f}" '
                f'height="{bar_h - 1}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{esc(label)} {esc(series[j])}: {value:.3f}</title></rect>"
            )
    return _svg(title, label_w + width + 50, height, "".join(parts))


@dataclass
class Line:
    name: str
    points: Sequence[tuple[str, float]]  # (x label, y) in x order


def line_chart(lines: Sequence[Line], *, title: str, y_label: str = "") -> str:
    """Lines over a shared, ordered x axis (e.g. eval dates); y from 0 to 1."""
    xs = sorted({x for line in lines for x, _ in line.points})
    if not xs:
        return '<p class="empty">Nothing to chart.</p>'
    left, top, width, height = 50, 30, 560, 220
    step = width / max(1, len(xs) - 1)
    pos = {x: left + (i * step if len(xs) > 1 else width / 2) for i, x in enumerate(xs)}
    parts = [_legend([line.name for line in lines], left)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + height - tick * height
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + width}" y1="{y}" y2="{y}"/>'
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" class="tick">{tick:.2f}</text>'
        )
    for i, line in enumerate(lines):
        colour = PALETTE[i % len(PALETTE)]
        coords = [(pos[x], top + height - max(0.0, min(1.0, y)) * height) for x, y in line.points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline class="series" points="{path}" stroke="{colour}" fill="none"/>')
        for (x, y), (label, value) in zip(coords, line.points, strict=True):
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{esc(line.name)} · {esc(label)}: {value:.3f}</title></circle>"
            )
    for name in (xs[0], xs[-1]) if len(xs) > 1 else (xs[0],):
        parts.append(
            f'<text x="{pos[name]}" y="{top + height + 16}" text-anchor="middle" '
            f'class="tick">{esc(name[:16])}</text>'
        )
    if y_label:
        parts.append(f'<text x="4" y="{top - 10}" class="tick">{esc(y_label)}</text>')
    return _svg(title, left + width + 30, top + height + 30, "".join(parts))


def _legend(names: Sequence[str], x: float) -> str:
    items = []
    for i, name in enumerate(names):
        cx = x + i * 110
        items.append(
            f'<rect x="{cx}" y="4" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{cx + 14}" y="13" class="legend">{esc(name[:14])}</text>'
        )
    return "".join(items)


def _svg(title: str, width: float, height: float, body: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>{body}</svg>"
    )
