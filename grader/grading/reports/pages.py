"""Pages for people to look at: feedback.html per student, class_report.html per class.

They say what feedback.md and class_report.md say (grader.grading.reports.report computes the numbers once for
both), with pictures: for a failing check, heatmaps of the expected and the submitted values
side by side, or the two shapes; for the class, pass rates, the common mistakes and a histogram
of scores. A page stands alone: inline CSS and hand-written SVG, no script, no external asset,
and a Content-Security-Policy that would refuse them anyway. Everything that comes from a
submission (messages quote exceptions and printed output; file names, notes) is HTML-escaped,
so a hostile submission cannot put markup into an instructor's report, after grader.engine.messages.clean
has taken out control characters and lone surrogates. Odd numbers (NaN, infinities, values near
the largest float) are drawn, never a reason for a page to fail.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from ...engine import checks as C
from ...course.curriculum import Curriculum, Topic
from ..record import StudentGrade
from ...engine.messages import clean, explain, headline
from .report import TaskResult, class_summary, printed_output, task_results
from ..sandbox.host import Isolation

# Colour stops, low to high: viridis for values of one sign, blue-white-red around 0 otherwise.
SEQUENTIAL = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58",
              "#b5de2b", "#fde725")
DIVERGING = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b")
NAN_FILL, NAN_MARK = "#d0d7de", "#424a53"  # grey with a cross: on neither scale
PASS, PART, FAIL, EMPTY, TRACK = "#1a7f37", "#bf8700", "#cf222e", "#d0d7de", "#eaeef2"
INK, MUTED = "#1f2328", "#59636e"
FONT = 'font-family="system-ui, sans-serif"'

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
        --pass: #1a7f37; --part: #9a6700; --fail: #cf222e; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 68rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .25rem 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
a { color: var(--link); }
p, li, td { overflow-wrap: anywhere; }
pre { margin: .5rem 0; padding: .75rem; background: var(--soft); border-radius: 6px; font-size: .85rem;
      white-space: pre-wrap; overflow-wrap: anywhere; }
code { font-size: .9em; }
.muted { color: var(--muted); }
.notice { border-left: 4px solid var(--part); background: #fff8c5; padding: .5rem .75rem; margin: .75rem 0; }
.badge { display: inline-block; padding: 0 .55em; border-radius: 1em; font-size: .8rem; font-weight: 600;
         color: #fff; white-space: nowrap; vertical-align: .1em; }
.badge.pass { background: var(--pass); }
.badge.part { background: var(--part); }
.badge.fail { background: var(--fail); }
.total svg { display: block; width: 100%; max-width: 30rem; height: .8rem; }
.tasks { list-style: none; padding: 0; margin: 0; }
.task { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; margin: .75rem 0; }
.task.passed { padding: .4rem .75rem; }
.task.passed h3 { margin: 0; font-weight: 500; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; margin-top: .5rem; }
figure { margin: 0; flex: 1 1 14rem; min-width: 0; }
figure.wide { flex-basis: 100%; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: .85rem; color: var(--muted); margin-bottom: .25rem; }
figcaption b { color: var(--fg); }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; vertical-align: middle; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
thead th { font-weight: 600; background: var(--soft); }
tbody th { font-weight: 600; padding-top: .9rem; }
td.num, th.num { width: 1%; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.bar { width: 35%; min-width: 4.5rem; }
td.bar svg { display: block; width: 100%; height: 1rem; }
.chart { max-width: 34rem; }
.chart svg { display: block; width: 100%; height: auto; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  h1 { font-size: 1.35rem; }
  th, td { padding: .25rem .3rem; }
  td.bar { width: 25%; }
}
"""


def _e(value: Any) -> str:
    return escape(clean(value), quote=True)


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing runs and nothing is fetched: only the inline style and the page's own SVG.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'; img-src data:; base-uri \'none\'; form-action \'none\'">',
        f"<title>{_e(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>", "<main>",
        *body, "</main>", "</body>", "</html>", ""])


def _svg(width: float, height: float, label: str, extra: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" role="img" '
            f'aria-label="{_e(label)}" {FONT} {extra}>')


def _number(value: float) -> str:
    return f"{value + 0.0:.4g}".replace("-", "\u2212")  # + 0.0: no "-0"


def _cell_number(value: float) -> str:
    """At most five characters, so that it fits in a heatmap cell."""
    text = f"{value:.2f}" if abs(value) < 9.995 else f"{value:.1f}" if abs(value) < 99.95 else f"{value:.0e}"
    return ("0.00" if text == "-0.00" else text).replace("-", "\u2212")


# ---------------------------------------------------------------------------------------------
# Heatmaps of a failed comparison


def _mix(stops: tuple[str, ...], t: float) -> str:
    t = 0.5 if math.isnan(t) else t
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    a, b, f = stops[i], stops[i + 1], t - i
    return "#" + "".join(f"{round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f):02x}" for k in (1, 3, 5))


def _ink(fill: str) -> str:
    """Black or white text, whichever reads on `fill`."""
    r, g, b = (int(fill[k:k + 2], 16) / 255 for k in (1, 3, 5))
    return "#000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#fff"


@dataclass(frozen=True)
class Scale:
    """Value -> colour. Infinities take the colour of the end they lie beyond; NaN has none."""
    low: float
    high: float
    stops: tuple[str, ...]

    @classmethod
    def of(cls, *matrices: list[list[float]], diverging: bool = False) -> "Scale":
        finite = [v for m in matrices for row in m for v in row if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
        if diverging or low < 0 < high:
            bound = max(abs(low), abs(high))
            return cls(-bound, bound, DIVERGING)
        return cls(low, high, SEQUENTIAL)

    def colour(self, value: float) -> str:
        if math.isinf(value):
            return self.stops[-1 if value > 0 else 0]
        half_span = self.high / 2 - self.low / 2  # halves: near the largest float, high - low is inf
        return _mix(self.stops, 0.5 if not half_span > 0 else (value / 2 - self.low / 2) / half_span)

    def at(self, fraction: float) -> float:
        """The value a fraction of the way from low to high (without overflowing)."""
        return self.low * (1 - fraction) + self.high * fraction


def _matrix(value: Any) -> list[list[float]] | None:
    """A non-empty rectangular list of lists of floats, or None: the verdict's data is checked."""
    try:
        rows = [[float(v) for v in row] for row in value]
    except (TypeError, ValueError, OverflowError):
        return None
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        return None
    return rows


def _shape(value: Any) -> list[int] | None:
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        return None


def heatmap_svg(matrix: list[list[float]], scale: Scale, label: str) -> tuple[str, float]:
    """The heatmap, and its natural width in CSS pixels. Each cell's value is in its tooltip,
    and printed in it when the matrix is small."""
    rows, cols = len(matrix), len(matrix[0])
    numbers = cols <= 8 and rows <= 12
    cell = 34 if numbers else 16 if max(rows, cols) <= 16 else 11
    left, top = 22, 16
    width, height = left + cols * cell + 2, top + rows * cell + 2
    every = 1 if max(rows, cols) <= 16 else 4
    out = [_svg(width, height, label, f'font-size="10" style="max-width:{width * 1.4:.0f}px"')]
    out += [f'<text x="{left + j * cell + cell / 2:g}" y="11" text-anchor="middle" fill="{MUTED}">{j}</text>'
            for j in range(0, cols, every)]
    out += [f'<text x="{left - 4}" y="{top + i * cell + cell / 2 + 3.5:g}" text-anchor="end" fill="{MUTED}">{i}</text>'
            for i in range(0, rows, every)]
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            x, y = left + j * cell, top + i * cell
            tip = f"<title>[{i}, {j}] = {'NaN' if math.isnan(v) else _e(_number(v))}</title>"
            if math.isnan(v):
                out.append(f'<g><rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{NAN_FILL}"/>'
                           f'<path d="M{x + 4} {y + 4}L{x + cell - 4} {y + cell - 4}M{x + cell - 4} {y + 4}'
                           f'L{x + 4} {y + cell - 4}" stroke="{NAN_MARK}" stroke-width="1.5"/>{tip}</g>')
                continue
            fill = scale.colour(v)
            text = ("+\u221e" if v > 0 else "\u2212\u221e") if math.isinf(v) else _cell_number(v) if numbers else ""
            mark = (f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + 3.5:g}" text-anchor="middle" '
                    f'fill="{_ink(fill)}">{text}</text>') if text else ""
            out.append(f'<g><rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}"/>{mark}{tip}</g>')
    out.append(f'<rect x="{left}" y="{top}" width="{cols * cell}" height="{rows * cell}" fill="none" '
               f'stroke="{MUTED}" stroke-width="0.5"/></svg>')
    return "".join(out), width


def legend_svg(scale: Scale, matrices: list[list[list[float]]]) -> str:
    """The colour bar from min to max (0 in the middle of a diverging scale); below it, NaN and
    infinity when they occur."""
    steps, step = 24, 8
    bar = steps * step
    values = [v for m in matrices for row in m for v in row]
    extras = [name for name, test in (("nan", math.isnan), ("inf", math.isinf)) if any(map(test, values))]
    width, height = bar + 8, 32 + (16 if extras else 0)
    out = [_svg(width, height, f"colour scale from {_number(scale.low)} to {_number(scale.high)}",
                f'font-size="10" style="max-width:{width * 1.3:.0f}px"')]
    out += [f'<rect x="{4 + k * step}" y="2" width="{step + 0.5}" height="12" '
            f'fill="{scale.colour(scale.at((k + 0.5) / steps))}"/>' for k in range(steps)]
    out.append(f'<text x="4" y="27" fill="{INK}">min {_e(_number(scale.low))}</text>'
               f'<text x="{4 + bar}" y="27" text-anchor="end" fill="{INK}">max {_e(_number(scale.high))}</text>')
    if scale.stops is DIVERGING:
        out.append(f'<text x="{4 + bar / 2:g}" y="27" text-anchor="middle" fill="{INK}">0</text>')
    x, y = 4, 34
    if "nan" in extras:
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{NAN_FILL}"/><path d="M{x + 2} {y + 2}'
                   f'L{x + 10} {y + 10}M{x + 10} {y + 2}L{x + 2} {y + 10}" stroke="{NAN_MARK}" stroke-width="1.5"/>'
                   f'<text x="{x + 16}" y="{y + 10}" fill="{INK}">NaN</text>')
        x += 50
    if "inf" in extras:
        out.append(f'<text x="{x}" y="{y + 10}" fill="{INK}">\u00b1\u221e: the end colours</text>')
    out.append("</svg>")
    return "".join(out)


def shapes_svg(expected: list[int], got: list[int]) -> str:
    """Both shapes as rows of sizes, the sizes that differ in red; and, when both have two
    dimensions or more, their last two drawn to scale: expected dashed, yours filled."""
    chip, gap, left, box = 40, 6, 70, 90
    drawn = len(expected) >= 2 and len(got) >= 2 and min(expected[-2:] + got[-2:]) > 0
    width = max(left + max(len(expected), len(got), 1) * (chip + gap), left + box + 150 if drawn else 0, 250)
    height = 62 + (box + 10 if drawn else 0)
    out = [_svg(width, height, f"expected shape {tuple(expected)}, your shape {tuple(got)}",
                f'font-size="12" style="max-width:{width * 1.2:.0f}px"')]
    for r, (name, shape, other) in enumerate((("expected", expected, got), ("yours", got, expected))):
        y = 4 + r * 30
        out.append(f'<text x="0" y="{y + 17}" fill="{INK}">{name}</text>')
        for k, size in enumerate(shape):
            differs = k >= len(other) or other[k] != size
            x = left + k * (chip + gap)
            out.append(f'<rect x="{x}" y="{y}" width="{chip}" height="24" rx="4" '
                       f'fill="{"#ffebe9" if differs else "#f6f8fa"}" stroke="{FAIL if differs else "#afb8c1"}"/>'
                       f'<text x="{x + chip / 2}" y="{y + 16.5}" text-anchor="middle" '
                       f'fill="{FAIL if differs else INK}" font-weight="{600 if differs else 400}">{size}</text>')
    if drawn:
        (er, ec), (gr, gc) = expected[-2:], got[-2:]
        unit, y0, key = box / max(er, ec, gr, gc), 68, left + box + 16
        dashed = 'fill="none" stroke="#0969da" stroke-width="2" stroke-dasharray="5 3"'
        filled = 'fill="#fb8f44" fill-opacity="0.35" stroke="#bc4c00"'
        out.append(f'<rect x="{left}" y="{y0}" width="{gc * unit:.1f}" height="{gr * unit:.1f}" {filled}/>'
                   f'<rect x="{left}" y="{y0}" width="{ec * unit:.1f}" height="{er * unit:.1f}" {dashed}/>')
        out += [f'<text x="0" y="{y0 + 12 * (k + 1)}" fill="{MUTED}" font-size="10">{words}</text>'
                for k, words in enumerate(("last two", "dimensions,", "to scale"))]
        out.append(f'<rect x="{key}" y="{y0 + 2}" width="16" height="10" {dashed}/>'
                   f'<text x="{key + 22}" y="{y0 + 11}" fill="{INK}" font-size="11">expected {er} \u00d7 {ec}</text>'
                   f'<rect x="{key}" y="{y0 + 20}" width="16" height="10" {filled}/>'
                   f'<text x="{key + 22}" y="{y0 + 29}" fill="{INK}" font-size="11">yours {gr} \u00d7 {gc}</text>')
    out.append("</svg>")
    return "".join(out)


def _describe(shape: list[int] | None, matrix: list[list[float]], names: tuple[str, ...] | None) -> str:
    """Which part of the output a heatmap shows, in the check's dimension names when it has them."""
    rows, cols = len(matrix), len(matrix[0])
    if not shape or len(shape) < 2:
        return f"{rows} rows \u00d7 {cols} columns"
    names = names if names and len(names) == len(shape) else None
    whole = ("(" + ", ".join(f"{n}={s}" for n, s in zip(names, shape)) + ")") if names else str(tuple(shape))
    where = ""
    if len(shape) > 2:  # visual() keeps the first 2-D slice
        where = ("[" + ", ".join(f"{n} 0" for n in names[:-2]) + "] of " if names
                 else "[" + "0, " * (len(shape) - 2) + ":, :] of ")
    axes = f"; rows: {names[-2]}, columns: {names[-1]}" if names else ""
    cropped = f"; the first {rows}\u00d7{cols} shown" if shape[-2] > rows or shape[-1] > cols else ""
    return f"{where}{whole}{axes}{cropped}"


@dataclass(frozen=True)
class Picture:
    """One picture of a failed check: a title, what it shows, the SVG, its natural width, and the
    colour legend under a heatmap ('' for the shapes)."""
    title: str
    words: str
    svg: str
    width: float
    legend: str = ""


def verdict_pictures(verdict: C.Verdict, dims: Any = None) -> list[Picture]:
    """The pictures of a failed check: the shapes when they differ; heatmaps when both outputs
    are float matrices (expected, yours, and yours minus expected when the shapes agree).
    `dims` is the check's dimension names."""
    visual = verdict.visual if isinstance(verdict.visual, dict) else {}
    expected_shape, got_shape = _shape(visual.get("expected_shape")), _shape(visual.get("got_shape"))
    expected, got = _matrix(visual.get("expected")), _matrix(visual.get("got"))
    names = tuple(dims) if isinstance(dims, tuple) and all(isinstance(d, str) for d in dims) else None
    pictures = []
    if expected_shape is not None and got_shape is not None and expected_shape != got_shape:
        pictures.append(Picture("Shapes", f"expected {tuple(expected_shape)}, yours {tuple(got_shape)}",
                                shapes_svg(expected_shape, got_shape), 0.0))

    def heatmap(title: str, words: str, matrix: list[list[float]], scale: Scale) -> Picture:
        picture, width = heatmap_svg(matrix, scale, title)
        return Picture(title, words, picture, width, legend_svg(scale, [matrix]))

    if expected is not None and got is not None:
        scale = Scale.of(expected, got)  # one scale for both: the same colour is the same value
        pictures.append(heatmap("Expected", _describe(expected_shape, expected, names), expected, scale))
        pictures.append(heatmap("Yours", _describe(got_shape, got, names), got, scale))
        if len(expected) == len(got) and len(expected[0]) == len(got[0]):
            diff = [[0.0 if g == e else g - e for g, e in zip(gr, er)] for gr, er in zip(got, expected)]
            same = all(v == 0 for row in diff for v in row)
            pictures.append(heatmap("Yours \u2212 expected", "equal in this slice: the difference is elsewhere" if same
                                    else "red where yours is larger, blue where smaller", diff,
                                    Scale.of(diff, diverging=True)))
    return pictures


def verdict_images(verdict: C.Verdict, dims: Any = None) -> list[dict[str, str]]:
    """The same pictures as images, `{"label", "url"}` with the SVG as a base64 data URL: what
    PrairieLearn's results.json shows per test (docs/externalGrading.md, "Grading results")."""
    return [{"label": f"{p.title}: {p.words}",
             "url": "data:image/svg+xml;base64," + base64.b64encode(p.svg.encode("utf-8")).decode("ascii")}
            for p in verdict_pictures(verdict, dims)]


def verdict_figures(verdict: C.Verdict, dims: Any = None) -> str:
    """The pictures of a failed check as HTML figures; '' when there is nothing to draw."""
    figures = []
    for p in verdict_pictures(verdict, dims):
        if not p.legend:
            figures.append(f'<figure class="wide"><figcaption><b>{p.title}</b>: {_e(p.words)}</figcaption>{p.svg}</figure>')
            continue
        # About the heatmap's natural size: wide enough for the legend, three to a row on a desktop.
        figures.append(f'<figure style="flex-basis:{min(max(p.width, 220), 300):.0f}px;'
                       f'max-width:{max(p.width * 1.4, 300):.0f}px"><figcaption><b>{p.title}</b>: {_e(p.words)}'
                       f'</figcaption>{p.svg}{p.legend}</figure>')
    if not figures:
        return ""
    where = f"hidden inputs (seed {verdict.seed})" if verdict.seed not in (None, 0) else "the public inputs"
    return (f'<p class="muted">Check <code>{_e(verdict.check)}</code> on {_e(where)}. '
            f'Hover over a cell for its exact value.</p><div class="figures">{"".join(figures)}</div>')


# ---------------------------------------------------------------------------------------------
# Bars and the histogram


def bar_svg(fraction: float | None, label: str, colour: str | None = None) -> str:
    """A bar from 0 to 1, green, amber or red by how far it reaches unless `colour` is given;
    an empty grey track when there is no value."""
    out = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
           f'aria-label="{_e(label)}">'
           f'<rect width="100" height="10" rx="2" fill="{EMPTY if fraction is None else TRACK}"/>')
    if fraction is not None:
        fraction = min(max(fraction, 0.0), 1.0)
        colour = colour or (PASS if fraction >= 0.8 else PART if fraction >= 0.5 else FAIL)
        out += f'<rect width="{100 * fraction:.2f}" height="10" rx="2" fill="{colour}"/>'
    return out + "</svg>"


def histogram_svg(scores: list[float], max_total: float) -> str:
    """How many students scored in each bin of whole points (ten bins or fewer)."""
    per = max(1, math.ceil(max_total / 10))
    bins = max(1, math.ceil(max_total / per))
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s // per)))] += 1
    tallest = max(counts) or 1
    w, h, left, bottom, top = 360, 170, 26, 32, 16
    slot, plot = (w - left - 4) / bins, h - bottom - top
    out = [_svg(w, h, "histogram of total scores", 'font-size="10"')]
    for k in range(0, tallest + 1, max(1, math.ceil(tallest / 4))):
        y = top + plot - plot * k / tallest
        out.append(f'<line x1="{left}" x2="{w - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TRACK}"/>'
                   f'<text x="{left - 4}" y="{y + 3.5:.1f}" text-anchor="end" fill="{MUTED}">{k}</text>')
    for i, count in enumerate(counts):
        x, bar, lo, hi = left + i * slot, plot * count / tallest, i * per, min((i + 1) * per, max_total)
        out.append(f'<g><rect x="{x + 2:.1f}" y="{top + plot - bar:.1f}" width="{slot - 4:.1f}" height="{bar:.1f}" '
                   f'fill="#0969da"/><title>{count} scored from {lo:g} to {"" if i == bins - 1 else "under "}{hi:g}'
                   f'</title></g>')
        if count:
            out.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot - bar - 3:.1f}" text-anchor="middle" '
                       f'fill="{INK}">{count}</text>')
        out.append(f'<text x="{x + slot / 2:.1f}" y="{h - bottom + 13}" text-anchor="middle" fill="{MUTED}" '
                   f'font-size="9">{lo:g}\u2013{hi:g}</text>')
    out.append(f'<line x1="{left}" x2="{w - 4}" y1="{top + plot}" y2="{top + plot}" stroke="{MUTED}"/>'
               f'<text x="{(left + w) / 2}" y="{h - 3}" text-anchor="middle" fill="{MUTED}">'
               f'students by total points (of {max_total:g})</text></svg>')
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The pages


def _badge(result: TaskResult) -> str:
    kind = "pass" if result.status == "passed" else "part" if result.passed else "fail"
    return f'<span class="badge {kind}">{_e(result.status)}</span>'


def check_dims(topic: Topic) -> dict[str, Any]:
    """Each check's dimension names, for the captions (trusted: the suite's own checks)."""
    try:
        return {c.name: c.dims for c in C.load_checks(topic.test_file())}
    except Exception:  # a picture without names is still a picture
        return {}


def _task_html(topic: Topic, result: TaskResult, dims: dict[str, Any]) -> str:
    title = f"<h3>Task {result.task.id}: {_e(result.task.title)} {_badge(result)}</h3>"
    if result.failure is None:
        return f'<li class="task passed">{title}</li>'
    parts = [f'<li class="task">{title}', f"<pre>{_e(explain(result.failure, topic))}</pre>"]
    if result.hint:
        parts.append(f"<p><b>Hint:</b> {_e(result.hint)}</p>")
    parts += [verdict_figures(result.failure, dims.get(result.failure.check)), "</li>"]
    return "".join(parts)


def feedback_html(curriculum: Curriculum, grade: StudentGrade) -> str:
    """One student's feedback: feedback.md's words, with pictures of the failures."""
    max_total = sum(t.max_points for t in curriculum.topics)
    body = [f"<h1>Feedback for {_e(grade.student)}</h1>",
            f'<div class="total"><p><b>Total: {grade.total:g} / {max_total}</b></p>'
            f'{bar_svg(grade.total / max_total if max_total else None, "total")}</div>']
    if grade.isolation.degraded:
        body.append(f'<p class="notice">Note: {_e(grade.isolation.describe())}.</p>')
    if grade.error:
        body.append(f'<p class="notice">Problem with the submission: {_e(grade.error)}</p>')
    if grade.ignored:
        body.append("<p>Files that were not graded:</p><ul>"
                    + "".join(f"<li><code>{_e(path)}</code>: {_e(why)}</li>" for path, why in grade.ignored[:30])
                    + "</ul>")
    graded = [t for t in curriculum.topics if t.slug in grade.topics]
    overview = "".join(
        f'<tr><td><a href="#{_e(t.slug)}">{_e(t.title)}</a></td><td class="bar">'
        f'{bar_svg(grade.topics[t.slug].points / t.max_points if t.max_points else None, t.slug)}</td>'
        f'<td class="num">{grade.topics[t.slug].points:g} / {grade.topics[t.slug].max_points}</td></tr>'
        for t in graded)
    body.append('<div class="table"><table><thead><tr><th>topic</th><th colspan="2">points</th></tr></thead>'
                f"<tbody>{overview}</tbody></table></div>")
    for topic in graded:
        tg = grade.topics[topic.slug]
        body.append(f'<section id="{_e(topic.slug)}"><h2>{_e(topic.title)} <span class="muted">'
                    f"({_e(topic.slug)})</span>: {tg.points:g} / {tg.max_points}</h2>")
        if tg.note:
            body.append(f"<p><i>{_e(tg.note)}</i></p>")
        results = task_results(topic, tg)
        if all(r.status == "passed" for r in results):  # nothing to read here: one line
            body.append(f'<p><span class="badge pass">passed</span> all {len(results)} tasks</p></section>')
            continue
        dims = check_dims(topic) if any(r.failure is not None and r.failure.visual for r in results) else {}
        body.append('<ol class="tasks">' + "".join(_task_html(topic, r, dims) for r in results) + "</ol>")
        body.append("</section>")
    printed = printed_output(grade)
    if printed:
        body.append(f"<h2>What your code printed (first lines)</h2><pre>{_e(printed)}</pre>")
    return _page(f"Feedback for {grade.student}", body)


def class_report_html(curriculum: Curriculum, grades: dict[str, StudentGrade], isolation: Isolation,
                      seconds: float, graded_now: int, skipped: list[tuple[str, str]]) -> str:
    """class_report.md's numbers as charts, with a link to each student's feedback."""
    summary = class_summary(curriculum, grades)
    n = summary.students
    body = ["<h1>Class report</h1>",
            f"<p>{n} submissions; {graded_now} graded in this run, {n - graded_now} unchanged since the last run."
            f"<br>Time: {seconds:.1f} s.</p>",
            ('<p class="notice">' if isolation.degraded else "<p>") + f"Isolation: {_e(isolation.describe())}.</p>"]
    if skipped:
        body.append("<p>Entries that are not submissions:</p><ul>"
                    + "".join(f"<li><code>{_e(name)}</code>: {_e(why)}</li>" for name, why in skipped) + "</ul>")

    body.append("<h2>Pass rate per task</h2>")
    groups, current = [], None
    for topic, task, rate in summary.pass_rates:
        if topic is not current:
            current = topic
            groups.append(f'<tr><th colspan="3">{_e(topic.title)} '
                          f'<code class="muted">{_e(topic.slug)}</code></th></tr>')
        shown = "-" if rate is None else f"{rate:.0%}"
        groups.append(f"<tr><td>{task.id}. {_e(task.title)}</td>"
                      f'<td class="bar">{bar_svg(rate, f"{topic.slug} task {task.id}: {shown}")}</td>'
                      f'<td class="num">{shown}</td></tr>')
    body.append('<div class="table"><table><thead><tr><th>task</th><th colspan="2">students passing every check'
                f'</th></tr></thead><tbody>{"".join(groups)}</tbody></table></div>')

    body.append("<h2>Scores</h2>")
    body.append(f'<div class="chart">{histogram_svg([s for _, s, _ in summary.scores], summary.max_total)}</div>')

    body.append("<h2>Most common recognised mistakes</h2>")
    if summary.mistakes:
        table = "".join(f"<tr><td>{_e(says)} <code class=\"muted\">{_e(slug)}</code></td>"
                        f'<td class="bar">{bar_svg(count / n if n else None, f"{count} of {n} students", FAIL)}</td>'
                        f'<td class="num">{count}</td></tr>' for slug, says, count in summary.mistakes)
        body.append('<div class="table"><table><thead><tr><th>mistake</th><th colspan="2">students</th></tr>'
                    f"</thead><tbody>{table}</tbody></table></div>")
    else:
        body.append("<p>None recognised.</p>")

    body.append("<h2>Submissions that hit limits or crashed</h2>")
    if summary.limits:
        body.append("<ul>" + "".join(f"<li>{_e(s)}: <code>{_e(slug)}</code>: "
                                     f"{_e(headline(C.Verdict(slug, 0, '', reason)))}</li>"
                                     for s, slug, reason in summary.limits) + "</ul>")
    else:
        body.append("<p>None.</p>")

    body.append("<h2>Students</h2>")
    table = []
    for student, score, status in summary.scores:
        problem = "" if status == "graded" else f' <span class="muted">{_e(status)}</span>'
        share = score / summary.max_total if summary.max_total else None
        table.append(f'<tr><td><a href="{_e(quote(clean(student)))}/feedback.html">{_e(student)}</a>{problem}</td>'
                     f'<td class="bar">{bar_svg(share, student)}</td>'
                     f'<td class="num">{score:g} / {summary.max_total}</td></tr>')
    body.append('<div class="table"><table><thead><tr><th>student</th><th colspan="2">total</th></tr></thead>'
                f'<tbody>{"".join(table)}</tbody></table></div>')
    return _page("Class report", body)
