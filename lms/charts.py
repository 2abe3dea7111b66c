"""Charts drawn on the server as SVG: no script, no chart library, readable without colour alone
(lines differ in dash pattern and carry text labels; heat-map cells carry a symbol and a title).

Each function returns markup for direct use in a template; every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


def _e(value: object) -> str:
    return str(escape(str(value)))


def progress_over_year(
    *,
    expected: Sequence[int],
    week: int,
    actual_percent: int,
    title: str,
    expected_label: str,
    actual_label: str,
    week_label: str,
    hours_percent: int | None = None,
    hours_label: str = "",
    chart_id: str = "progress-chart",
) -> Markup:
    """A line of the expected percentage per week (dashed), and where the participant (or group)
    stands now (a filled circle with its percentage; hours as a square)."""
    weeks = len(expected)
    width, height, left, bottom, top, right = 560, 240, 40, 36, 16, 16
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(w: float) -> float:
        return left + plot_w * (w / weeks if weeks else 0)

    def y(percent: float) -> float:
        return top + plot_h * (1 - percent / 100)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
    ]
    for percent in (0, 25, 50, 75, 100):
        parts.append(
            f'<line x1="{left}" y1="{y(percent):.1f}" x2="{width - right}" y2="{y(percent):.1f}" '
            'class="chart__grid"/>'
            f'<text x="{left - 6}" y="{y(percent) + 4:.1f}" text-anchor="end" '
            f'class="chart__axis">{percent}%</text>'
        )
    for w in range(0, weeks + 1, 10):
        parts.append(
            f'<text x="{x(w):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'class="chart__axis">{w}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'class="chart__axis">{_e(week_label)}</text>'
    )
    points = " ".join(f"{x(i + 1):.1f},{y(p):.1f}" for i, p in enumerate(expected))
    if points:
        parts.append(
            f'<polyline points="{x(0):.1f},{y(0):.1f} {points}" class="chart__expected" '
            'fill="none" stroke-dasharray="6 4"/>'
        )
    if weeks and week > 0:
        shown_week = min(week, weeks)
        parts.append(
            f'<line x1="{x(shown_week):.1f}" y1="{top}" x2="{x(shown_week):.1f}" '
            f'y2="{height - bottom}" class="chart__today" stroke-dasharray="2 3"/>'
        )
        cx, cy = x(shown_week), y(actual_percent)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" class="chart__actual"/>'
            f'<text x="{cx - 10:.1f}" y="{cy - 10:.1f}" text-anchor="end" '
            f'class="chart__label">{_e(actual_label)}: {actual_percent}%</text>'
        )
        if hours_percent is not None:
            hy = y(hours_percent)
            parts.append(
                f'<rect x="{cx - 5:.1f}" y="{hy - 5:.1f}" width="10" height="10" '
                'class="chart__hours"/>'
                f'<text x="{cx + 10:.1f}" y="{hy + 18:.1f}" class="chart__label">'
                f"{_e(hours_label)}: {hours_percent}%</text>"
            )
    parts.append(
        f'<g class="chart__legend"><line x1="{left + 8}" y1="{top + 8}" x2="{left + 36}" '
        f'y2="{top + 8}" class="chart__expected" stroke-dasharray="6 4"/>'
        f'<text x="{left + 42}" y="{top + 12}" class="chart__label">{_e(expected_label)}</text></g>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 - every text in the SVG went through _e()


@dataclass(frozen=True)
class Cell:
    symbol: str  # shown in the cell, so the state can be read without colour
    css: str  # a state name for the colour
    title: str  # the full text, shown on hover and read by screen readers
    href: str = ""  # where the cell leads (the participant's page), if anywhere


def _linked(svg: str, href: str) -> str:
    """``svg`` (already escaped) inside an SVG link to ``href``, or as it is without one."""
    return f'<a href="{_e(href)}">{svg}</a>' if href else svg


def heat_map(
    *,
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    chart_id: str = "heat-map",
    row_links: Sequence[str] = (),
) -> Markup:
    """A grid of rows (participants) by columns (assignments), each cell a symbol on a colour. With
    ``row_links`` a row's name leads to its link; a cell leads to its own ``href``."""
    cell, label_w, head_h = 28, 170, 28
    width = label_w + cell * len(column_labels) + 4
    height = head_h + cell * len(row_labels) + 4
    parts = [
        f'<svg class="chart chart--heat" viewBox="0 0 {width} {height}" width="{width}" '
        f'role="img" aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
    ]
    for c, text in enumerate(column_labels):
        parts.append(
            f'<text x="{label_w + c * cell + cell / 2:.1f}" y="{head_h - 8}" text-anchor="middle" '
            f'class="chart__axis">{_e(text)}</text>'
        )
    for r, text in enumerate(row_labels):
        ry = head_h + r * cell
        name = (
            f'<text x="{label_w - 6}" y="{ry + cell / 2 + 4:.1f}" text-anchor="end" '
            f'class="chart__axis">{_e(text[:24])}</text>'
        )
        parts.append(_linked(name, row_links[r] if r < len(row_links) else ""))
        for c, item in enumerate(cells[r]):
            cx = label_w + c * cell
            square = (
                f'<g class="heat heat--{_e(item.css)}"><title>{_e(item.title)}</title>'
                f'<rect x="{cx + 1}" y="{ry + 1}" width="{cell - 2}" height="{cell - 2}" rx="3"/>'
                f'<text x="{cx + cell / 2:.1f}" y="{ry + cell / 2 + 5:.1f}" '
                f'text-anchor="middle">{_e(item.symbol)}</text></g>'
            )
            parts.append(_linked(square, item.href))
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 - every text in the SVG went through _e()


def bars(
    *,
    title: str,
    rows: Sequence[tuple[str, int, int]],
    value_label: str,
    expected_label: str,
    chart_id: str = "bars",
) -> Markup:
    """Horizontal bars (0-100%) per row, each with its name above it, a dashed tick where the row is
    expected to be and the figure written next to the bar (narrow, so it stays legible on a phone)."""
    bar_h, label_h, gap, width, left = 16, 16, 10, 400, 4
    plot_w = width - left - 48
    top = 44
    height = top + len(rows) * (label_h + bar_h + gap)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<g class="chart__legend"><rect x="{left}" y="4" width="14" height="10" '
        f'class="chart__bar"/><text x="{left + 20}" y="13" class="chart__label">'
        f'{_e(value_label)}</text><line x1="{left + 7}" y1="20" x2="{left + 7}" y2="34" '
        f'class="chart__tick" stroke-dasharray="3 2"/><text x="{left + 20}" y="31" '
        f'class="chart__label">{_e(expected_label)}</text></g>',
    ]
    for i, (text, value, expected) in enumerate(rows):
        ty = top + i * (label_h + bar_h + gap)
        ry = ty + label_h
        tick = left + plot_w * min(expected, 100) / 100
        parts.append(
            f'<text x="{left}" y="{ty + 10}" class="chart__axis">{_e(text[:60])}</text>'
            f'<rect x="{left}" y="{ry}" width="{plot_w}" height="{bar_h}" class="chart__track"/>'
            f'<rect x="{left}" y="{ry}" width="{plot_w * min(value, 100) / 100:.1f}" '
            f'height="{bar_h}" class="chart__bar"/>'
            f'<line x1="{tick:.1f}" y1="{ry - 3}" x2="{tick:.1f}" y2="{ry + bar_h + 3}" '
            'class="chart__tick" stroke-dasharray="3 2"/>'
            f'<text x="{left + plot_w + 6}" y="{ry + bar_h - 3}" class="chart__label">'
            f"{value}%</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 - every text in the SVG went through _e()
