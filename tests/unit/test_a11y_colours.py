"""Colours people can tell apart and read: the theme's text/background pairs meet WCAG 2 contrast (4.5:1), the
categorical and status palettes stay distinguishable under simulated colour-vision deficiency, and the sequential
scales run from light to dark (so they read in greyscale too). The self-hosted Devanagari font is in place."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from dashboard.figures import common

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "assets" / "arogya.css").read_text(encoding="utf-8")


# ------------------------------------------------------------------ colour maths

def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def linear_rgb(hex_colour: str) -> list[float]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", h), hex_colour
    return [_linear(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4)]


def luminance(hex_colour: str) -> float:
    r, g, b = linear_rgb(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
CVD = {
    "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def simulate(hex_colour: str, kind: str) -> list[float]:
    rgb = linear_rgb(hex_colour)
    return [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in CVD[kind]]


def lab(rgb: list[float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: list[float], b: list[float]) -> float:
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def worst_pair(palette: list[str], kind: str) -> float:
    return min(delta_e(simulate(a, kind), simulate(b, kind)) for a, b in itertools.combinations(palette, 2))


# ------------------------------------------------------------------ the theme's text contrast

def css_variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--(arogya-[a-z-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", css))


TEXT_PAIRS = [
    ("arogya-text", "arogya-page-bg"), ("arogya-text", "arogya-card-bg"), ("arogya-text", "arogya-filter-bg"),
    ("arogya-muted", "arogya-page-bg"), ("arogya-muted", "arogya-card-bg"), ("arogya-muted", "arogya-filter-bg"),
    ("arogya-link", "arogya-page-bg"), ("arogya-link", "arogya-card-bg"), ("arogya-link", "arogya-filter-bg"),
    ("arogya-danger", "arogya-card-bg"), ("arogya-nav-text", "arogya-nav-bg"), ("arogya-nav-muted", "arogya-nav-bg"),
]


def test_a11y001_contrast_formula():  # type: ignore[no-untyped-def]
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey
    assert contrast("#6c757d", "#f6f7f9") < 4.5  # Bootstrap's muted grey on our page background: why we override it


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_a11y002_theme_text_contrast_at_least_4_5(fg, bg):  # type: ignore[no-untyped-def]
    colours = css_variables(CSS)
    assert fg in colours and bg in colours, sorted(colours)
    assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, colours[fg], bg, colours[bg])


def test_a11y003_css_uses_the_checked_colours():  # type: ignore[no-untyped-def]
    # Text colours set anywhere in arogya.css come from the checked variables, not from loose hex values.
    body = CSS.split(":root {", 2)[-1].split("}", 1)[1]
    loose = re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", body)
    assert loose == []
    for rule in ("body { color: var(--arogya-text); }", "var(--arogya-muted)", "var(--arogya-nav-bg)"):
        assert rule in CSS


def test_a11y004_focus_is_visible():  # type: ignore[no-untyped-def]
    assert ":focus-visible" in CSS and "outline: 3px solid var(--arogya-focus)" in CSS
    colours = css_variables(CSS)
    # Non-text contrast (WCAG 1.4.11): the focus ring against the backgrounds it is drawn on, at least 3:1.
    for bg in ("arogya-page-bg", "arogya-card-bg", "arogya-filter-bg"):
        assert contrast(colours["arogya-focus"], colours[bg]) >= 3.0
    assert contrast(colours["arogya-focus-on-nav"], colours["arogya-nav-bg"]) >= 3.0
    assert ".skip-link:focus" in CSS


# ------------------------------------------------------------------ palettes

@pytest.mark.parametrize("kind", sorted(CVD))
def test_a11y005_category_palette_survives_colour_blindness(kind):  # type: ignore[no-untyped-def]
    assert list(common.CATEGORY_COLOURS[:3]) == ["#0072B2", "#E69F00", "#009E73"]  # Okabe–Ito order
    assert worst_pair(list(common.CATEGORY_COLOURS), kind) >= 15


@pytest.mark.parametrize("kind", sorted(CVD))
def test_a11y006_status_colours_survive_colour_blindness(kind):  # type: ignore[no-untyped-def]
    from dashboard.figures.live import STATE_COLOURS

    assert STATE_COLOURS == common.STATUS_COLOURS
    assert worst_pair(list(common.STATUS_COLOURS.values()), kind) >= 15
    # The classic red/green pair this replaces collapses for deuteranopes at equal lightness.
    assert worst_pair(["#d62728", "#2ca02c"], "deutan") < 15


@pytest.mark.parametrize("scale", [common.SEQUENTIAL, common.SEQUENTIAL_BAD], ids=["sequential", "sequential_bad"])
def test_a11y007_sequential_scales_run_light_to_dark(scale):  # type: ignore[no-untyped-def]
    stops = [float(s) for s, _ in scale]
    assert stops[0] == 0.0 and stops[-1] == 1.0 and stops == sorted(stops)
    lum = [luminance(c) for _, c in scale]
    assert all(a > b for a, b in itertools.pairwise(lum)), lum
    assert contrast(scale[0][1], scale[-1][1]) >= 7


def test_a11y008_reversed_scale_keeps_stops_increasing():  # type: ignore[no-untyped-def]
    rev = common.reversed_scale(common.SEQUENTIAL_BAD)
    assert [s for s, _ in rev] == sorted(s for s, _ in rev) and rev[0] == [0.0, common.SEQUENTIAL_BAD[-1][1]]


def test_a11y009_devanagari_font_is_self_hosted_and_used():  # type: ignore[no-untyped-def]
    fonts = ROOT / "assets" / "fonts"
    assert "SIL Open Font License" in (fonts / "OFL.txt").read_text(encoding="utf-8")
    referenced = re.findall(r"url\((fonts/[^)]+\.woff2)\)", CSS)
    assert {f"noto-sans-devanagari-devanagari-{w}-normal.woff2" for w in (400, 600, 700)} <= \
        {Path(r).name for r in referenced}
    for ref in referenced:
        data = (ROOT / "assets" / ref).read_bytes()
        assert data[:4] == b"wOF2", ref
    assert "http" not in "".join(re.findall(r"url\(([^)]*)\)", CSS))
    assert common.FONT["family"].startswith("'Noto Sans Devanagari'")
    assert common.base_layout()["font"] is common.FONT
