"""Charts as SVG made on the server: bars, a line and a zone map (no JS library, no map tiles,
no inline styles: colours are SVG presentation attributes, so the strict CSP holds).

Each function returns an ``SvgChart`` whose ``svg`` is safe markup (all text is escaped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.ops import polylabel, unary_union

from zones import Zone

BAR = "#0b57d0"
AXIS = "#5b6470"
GRID = "#d5dae0"
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True, slots=True)
class SvgChart:
    title: str
    svg: str  # escaped markup, marked safe in the template


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    width: int = 720,
    height: int = 240,
    value_format: str = "{:.0f}",
) -> SvgChart:
    """Vertical bars with a label under each bar and the value above it."""
    pad_l, pad_b, pad_t = 36, 40, 20
    n = max(len(values), 1)
    top = max(max(values, default=0), 1)
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    bw = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" '
        f'stroke="{AXIS}"/>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (v / top)
        x = pad_l + i * bw + bw * 0.12
        y = pad_t + plot_h - h
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bw * 0.76)}" height="{_num(h)}" '
            f'fill="{BAR}"><title>{escape(label)}: {escape(value_format.format(v))}</title></rect>'
        )
        cx = pad_l + i * bw + bw / 2
        if v:
            parts.append(
                f'<text x="{_num(cx)}" y="{_num(y - 4)}" text-anchor="middle" font-size="13" '
                f'{FONT} fill="{AXIS}">{escape(value_format.format(v))}</text>'
            )
        parts.append(
            f'<text x="{_num(cx)}" y="{height - pad_b + 16}" text-anchor="middle" '
            f'font-size="13" {FONT} fill="{AXIS}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return SvgChart(title, "".join(parts))


def hbar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 720
) -> SvgChart:
    """Horizontal bars (long Dutch labels read better across)."""
    row_h, pad_l = 30, 260
    height = max(len(values), 1) * row_h + 10
    top = max(max(values, default=0), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    if not values:
        parts.append(
            f'<text x="10" y="24" font-size="14" {FONT} fill="{AXIS}">Geen gegevens</text>'
        )
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row_h
        w = (width - pad_l - 60) * (v / top)
        parts.append(
            f'<text x="{pad_l - 8}" y="{y + 19}" text-anchor="end" font-size="13" {FONT} '
            f'fill="#1b1f24">{escape(label)}</text>'
            f'<rect x="{pad_l}" y="{y + 4}" width="{_num(w)}" height="{row_h - 10}" '
            f'fill="{BAR}"/>'
            f'<text x="{_num(pad_l + w + 6)}" y="{y + 19}" font-size="13" {FONT} '
            f'fill="{AXIS}">{_num(v)}</text>'
        )
    parts.append("</svg>")
    return SvgChart(title, "".join(parts))


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    width: int = 720,
    height: int = 220,
    y_max: float = 1.0,
    percent: bool = True,
) -> SvgChart:
    """A line over days (gaps where a value is None), y from 0 to ``y_max``."""
    pad_l, pad_b, pad_t, pad_r = 44, 36, 14, 12
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    n = len(values)
    step = plot_w / max(n - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        y = pad_t + plot_h * (1 - frac)
        label = f"{frac * y_max * 100:.0f}%" if percent else _num(frac * y_max)
        parts.append(
            f'<line x1="{pad_l}" y1="{_num(y)}" x2="{width - pad_r}" y2="{_num(y)}" '
            f'stroke="{GRID}"/><text x="{pad_l - 6}" y="{_num(y + 4)}" text-anchor="end" '
            f'font-size="13" {FONT} fill="{AXIS}">{label}</text>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x, y = pad_l + i * step, pad_t + plot_h * (1 - min(v / y_max, 1))
        segment.append(f"{_num(x)},{_num(y)}")
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{BAR}"><title>'
            f"{escape(labels[i])}: {v * 100:.0f}%</title></circle>"
            if percent
            else f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{BAR}"/>'
        )
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{BAR}" stroke-width="2"/>'
            )
    every = max(1, math.ceil(n / 10))
    for i in range(0, n, every):
        parts.append(
            f'<text x="{_num(pad_l + i * step)}" y="{height - 12}" text-anchor="middle" '
            f'font-size="13" {FONT} fill="{AXIS}">{escape(labels[i])}</text>'
        )
    parts.append("</svg>")
    return SvgChart(title, "".join(parts))


# Light to dark blue: zones with more hits are darker.
SCALE = ("#e8f0fe", "#c6dafc", "#8ab4f8", "#4f8be8", "#1a62d6", "#0b3f91")
# A zone's label sits inside the part of the zone in sight, with room around it, near its
# centre, in the first of these sizes that fits without touching another label; a zone too
# small for any is named by its tooltip and the legend under the map.
LABEL_SIZES = (18, 14)
LABEL_CHAR_EM = 0.6  # a generous average width of a bold system-ui character, in em
OUTSIDE = "#b7bec7"  # the hatching of the ground outside every zone (holes included)


def colour_for(value: int, top: int) -> str:
    if value <= 0 or top <= 0:
        return "#f1f3f4"
    idx = min(len(SCALE) - 1, 1 + int((len(SCALE) - 2) * value / top))
    return SCALE[idx]


def _rings(geometry: Polygon | MultiPolygon) -> list[list[tuple[float, float]]]:
    polys = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    rings: list[list[tuple[float, float]]] = []
    for p in polys:
        rings.append([(float(x), float(y)) for x, y, *_ in p.exterior.coords])
        rings.extend([(float(x), float(y)) for x, y, *_ in r.coords] for r in p.interiors)
    return rings


def _largest_polygon(geometry: object) -> Polygon | None:
    parts = getattr(geometry, "geoms", [geometry])
    polys = [p for p in parts if isinstance(p, Polygon) and not p.is_empty]
    return max(polys, key=lambda p: p.area) if polys else None


def _label_box(text: str, size: int, lon: float, lat: float, kx: float, ky: float) -> Polygon:
    """The box a label of ``size`` px centred on (lon, lat) takes, in degrees (px = deg * k)."""
    half_w = len(text) * size * LABEL_CHAR_EM / 2 / kx
    half_h = size * 0.7 / ky
    return box(lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def zone_map(
    title: str, zones: Sequence[Zone], hits: dict[str, int], *, width: int = 720
) -> SvgChart:
    """The zones as SVG polygons (lon, lat -> x, y with cos(lat) scaling), coloured by hits,
    on hatched ground (outside every zone, and a zone's holes) and with a label on each zone
    that has room for one."""
    if not zones:
        return SvgChart(
            title,
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 60" class="chart">'
            f'<text x="10" y="34" font-size="14" {FONT} fill="{AXIS}">Geen zones geladen</text>'
            "</svg>",
        )
    min_lon = min(z.geometry.bounds[0] for z in zones)
    min_lat = min(z.geometry.bounds[1] for z in zones)
    max_lon = max(z.geometry.bounds[2] for z in zones)
    max_lat = max(z.geometry.bounds[3] for z in zones)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * kx, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    pad = 10
    scale = (width - 2 * pad) / span_x
    height = int(span_y * scale + 2 * pad)

    def to_x(lon: float) -> float:
        return float(pad + (lon - min_lon) * kx * scale)

    def to_y(lat: float) -> float:
        return float(pad + (max_lat - lat) * scale)

    def xy(lon: float, lat: float) -> str:
        return f"{_num(to_x(lon))},{_num(to_y(lat))}"

    top = max(hits.values(), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart zone-map">',
        f"<title>{escape(title)}</title>",
        # the ground outside every zone, hatched so a zone's hole does not read as a zone
        '<defs><pattern id="zone-map-outside" width="8" height="8" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="8" '
        f'stroke="{OUTSIDE}" stroke-width="1.5"/></pattern></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="url(#zone-map-outside)" '
        'class="zone-map-outside"><title>Geen zone</title></rect>',
    ]
    ordered = sorted(zones, key=lambda z: (z.priority, -z.geometry.area))
    for z in ordered:
        n = hits.get(z.id, 0)
        d = " ".join(
            "M " + " L ".join(xy(lon, lat) for lon, lat in ring) + " Z"
            for ring in _rings(z.geometry)
        )
        parts.append(
            f'<path d="{d}" fill="{colour_for(n, top)}" fill-rule="evenodd" stroke="#12263f" '
            f'stroke-width="1" data-zone="{escape(z.id)}" data-hits="{n}">'
            f"<title>{escape(z.name)} ({escape(z.id)}): {n} meldingen</title></path>"
        )
    placed: list[Polygon] = []  # the labels' boxes so far, in degrees
    covered = None  # the zones drawn on top of the one at hand
    for z in reversed(ordered):
        # the part of the zone in sight, the topmost zones first
        visible = z.geometry if covered is None else z.geometry.difference(covered)
        covered = z.geometry if covered is None else unary_union([covered, z.geometry])
        shown = _largest_polygon(visible)
        if shown is None:
            continue
        text = f"{z.name}: {hits.get(z.id, 0)}"
        # the centre reads best, else a little above or below it (clear of a small zone on
        # top); the pole of inaccessibility fits odd shapes (an L, a ring)
        centre = shown.centroid
        step = 2 * LABEL_SIZES[0] / scale
        spots = [
            *(Point(centre.x, centre.y + k * step) for k in (0, 1, -1, 2, -2)),
            polylabel(shown, tolerance=1 / scale),
        ]
        fits = (
            (size, spot, label_box)
            for size in LABEL_SIZES
            for spot in spots
            for label_box in [_label_box(text, size, spot.x, spot.y, kx * scale, scale)]
            # with some room around it, so it is not taken for a small zone's label
            if shown.contains(label_box.buffer(size / 2 / scale))
            and not any(label_box.intersects(b) for b in placed)
        )
        fit = next(fits, None)
        if fit is None:
            continue  # no room: the tooltip and the legend name it
        size, spot, label_box = fit
        placed.append(label_box)
        parts.append(
            # dark text with a white halo: readable on the lightest and the darkest fill
            f'<text x="{_num(to_x(spot.x))}" y="{_num(to_y(spot.y))}" text-anchor="middle" '
            f'dominant-baseline="central" font-size="{size}" font-weight="600" {FONT} '
            f'fill="#1b1f24" stroke="#ffffff" stroke-width="4" paint-order="stroke" '
            f'stroke-linejoin="round" data-zone="{escape(z.id)}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return SvgChart(title, "".join(parts))
