"""feedback.html and class_report.html, from a small class graded by the real grader (the
attention topics: the reference, catalogued mistakes, the stubs and a hostile submission), then
opened in headless Chromium at a phone's and a desktop's width.

Without Chromium the browser tests are skipped, unless KATA_REQUIRE_CHROMIUM=1 (as in CI),
where they fail. To look at the pages and screenshots yourself:
    .venv/bin/python -m pytest grader/tests/test_html.py --basetemp=/tmp/kata-html
and open /tmp/kata-html/pages*/ (the pages and the PNGs of the dev and the class pages).
"""

import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.engine import checks as C
from grader.course.curriculum import Curriculum, load
from grader.builders.demo import submission_files, write_submission
from grader.grading.grade import Pool, grade_submissions, prepare
from grader.grading.record import StudentGrade, TopicGrade, from_record, to_record
from grader.grading.reports.pages import Scale, class_report_html, feedback_html, verdict_figures
from grader.course.offline import install
from grader.grading.reports.report import class_report_md
from grader.grading.sandbox.host import Isolation, probe_isolation
from grader.grading.submissions import read_class

TOPICS = ("softmax_attention", "causal_attention", "multihead_attention")
# A topic graded again with the reference for a failing dependency shows no values (they could
# quote the reference), so the multi-head mistakes go to students whose causal attention is right.
MISTAKES = {
    "dev": ["causal_attention:scale_missing", "softmax_attention:weights_softmax_over_dim0"],
    "mia": ["multihead_attention:heads_merged_without_transpose"],
    "nan": ["causal_attention:minus_inf_mask_after_softmax"],  # -inf weights times values: NaN
    "sam": ["multihead_attention:wrapper_concat_on_tokens_dim1"],
}
# flush: the grader's child process ends with os._exit, which drops what print() still buffers.
HOSTILE = '''print("<script>alert('printed')</script></pre><img src=x onerror=alert(1)>", flush=True)


def attention_scores(inputs):
    raise ValueError("</pre><script>alert('exception')</script>")
'''
SKIPPED_NAME = "<img src=x onerror=alert(2)>"  # not a student id: listed in the class report
IGNORED_NAME = "<b onmouseover=alert(3)>notes.txt"  # not a topic module: listed in feedback
MARKUP = re.compile(r"<\s*/?\s*(script|img|iframe|object|embed)", re.IGNORECASE)
TAGS = {"html", "head", "meta", "title", "style", "body", "main", "section", "div", "h1", "h2", "h3", "p", "br",
        "b", "i", "code", "pre", "span", "a", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
        "figure", "figcaption", "svg", "g", "rect", "path", "line", "text"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(curriculum, isolation, {student: StudentGrade}, skipped): each grade as its grade.json holds it"""
    install()
    full = load()
    curriculum = Curriculum(tuple(full[s] for s in TOPICS), full.root)
    class_dir = tmp_path_factory.mktemp("class")
    (class_dir / "files").mkdir()
    (class_dir / "files" / "hostile.py").write_text(HOSTILE)
    recipes = {"ada": {"base": "solutions"}, "ben": {"base": "exercises"},
               "eve": {"base": "solutions", "files": {"softmax_attention.py": "hostile.py"}},
               **{s: {"base": "solutions", "mistakes": m} for s, m in MISTAKES.items()}}
    students = class_dir / "students"
    students.mkdir()
    for student, recipe in recipes.items():
        write_submission(students, student, submission_files(curriculum, recipe, class_dir / "files"))
    (students / "eve" / IGNORED_NAME).write_text("notes")
    (students / SKIPPED_NAME).mkdir()
    submissions, skipped = read_class(students, {t.module_file for t in curriculum.topics})
    isolation = probe_isolation()
    prep = prepare(curriculum)
    with Pool(isolation, 1, prep.packed_cases()) as pool:
        grades = grade_submissions(submissions, prep, pool)
    for grade in grades:
        grade.isolation = isolation
    return (prep.curriculum, isolation,
            {g.student: from_record(to_record(g, prep.curriculum), prep.curriculum) for g in grades}, skipped)


@pytest.fixture(scope="module")
def pages(graded, tmp_path_factory):
    """The pages as the grader lays them out: OUT/<student>/feedback.html, OUT/class_report.html."""
    curriculum, isolation, grades, skipped = graded
    out = tmp_path_factory.mktemp("pages")
    for student, grade in grades.items():
        (out / student).mkdir()
        (out / student / "feedback.html").write_text(feedback_html(curriculum, grade), encoding="utf-8")
    (out / "class_report.html").write_text(
        class_report_html(curriculum, grades, isolation, 1.5, len(grades), skipped), encoding="utf-8")
    return out


class Page(HTMLParser):
    """Every element with its attributes, the text, and the svg elements' labels."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements, self.text, self.labels = [], [], []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "svg":
            self.labels.append(dict(attrs).get("aria-label", ""))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


def read(pages: Path, name: str) -> tuple[str, Page]:
    source = (pages / name).read_text(encoding="utf-8")
    return source, Page(source)


def section(source: str, slug: str) -> str:
    start = source.index(f'<section id="{slug}">')
    return source[start:source.index("</section>", start)]


def test_failures_are_pictured_as_heatmaps_side_by_side(pages):
    for student, slug in (("dev", "softmax_attention"), ("dev", "causal_attention"), ("mia", "multihead_attention")):
        labels = Page(section(read(pages, f"{student}/feedback.html")[0], slug)).labels
        assert "Expected" in labels and "Yours" in labels and "Yours \u2212 expected" in labels, (slug, labels)
    source, page = read(pages, "dev/feedback.html")
    # One colour scale for expected and yours: their legends agree, so a colour means one value.
    legends = [label for label in Page(section(source, "causal_attention")).labels if label.startswith("colour scale")]
    assert legends[0] == legends[1] and len(legends) >= 3
    assert "rows: num_tokens, columns: d_out" in page.words  # the check's own dimension names
    assert "your attention weights equal the reference computed without dividing" in page.words
    assert "Hint:" in page.words


def test_a_wrong_shape_is_pictured_and_nan_is_marked(graded, pages):
    wrong = next(v for v in graded[2]["sam"].topics["multihead_attention"].verdicts if v.reason == C.WRONG_SHAPE)
    expected, got = tuple(wrong.visual["expected_shape"]), tuple(wrong.visual["got_shape"])
    assert expected != got
    source, _ = read(pages, "sam/feedback.html")
    assert f"expected shape {expected}, your shape {got}" in Page(section(source, "multihead_attention")).labels
    causal = section(read(pages, "nan/feedback.html")[0], "causal_attention")
    assert "= NaN</title>" in causal and ">NaN</text>" in causal  # the cell and the legend


def test_passing_and_unstarted_work_has_no_pictures(pages):
    source, page = read(pages, "ada/feedback.html")
    assert "<figure" not in source and "not implemented" not in page.words
    assert all(f"passed</span> all {len(load()[s].tasks)} tasks" in section(source, s) for s in TOPICS)
    source, page = read(pages, "ben/feedback.html")
    assert "<figure" not in source and "not implemented yet" in page.words


@pytest.mark.parametrize("name", ["eve/feedback.html", "class_report.html", "dev/feedback.html"])
def test_what_a_submission_controls_is_shown_as_text_never_markup(pages, name):
    source, page = read(pages, name)
    assert not MARKUP.search(source), MARKUP.search(source)
    assert {tag for tag, _ in page.elements} <= TAGS
    for tag, attrs in page.elements:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if "href" in attrs:
            assert re.fullmatch(r"#[a-z_]+|[A-Za-z0-9._@+%-]+/feedback\.html", attrs["href"]), attrs
    if name == "eve/feedback.html":  # the hostile text is there, as text
        assert "</pre><script>alert('exception')</script>" in page.words
        assert "<script>alert('printed')</script></pre><img src=x onerror=alert(1)>" in page.words
        assert IGNORED_NAME in page.words
    if name == "class_report.html":
        assert SKIPPED_NAME in page.words


def test_class_report_says_what_the_markdown_says(graded, pages):
    curriculum, isolation, grades, skipped = graded
    markdown = class_report_md(curriculum, grades, isolation, 1.5, len(grades), skipped)
    rates = re.findall(r"^\| \w+ \| (\d+)\. .* \| (\d+%|-) \|$", markdown, re.MULTILINE)
    source, page = read(pages, "class_report.html")
    shown = re.findall(r'<td>(\d+)\. [^<]*</td><td class="bar">.*?</td><td class="num">([^<]*)</td>', source)
    assert shown == rates and len(rates) == sum(len(t.tasks) for t in curriculum.topics)
    for topic in curriculum.topics:
        for mistake_id in {m.split(":")[1] for ms in MISTAKES.values() for m in ms if m.startswith(topic.slug)}:
            assert topic.mistakes[mistake_id].says in page.words
    assert "histogram of total scores" in page.labels
    links = [attrs["href"] for tag, attrs in page.elements if tag == "a"]
    assert links == [f"{s}/feedback.html" for s in sorted(grades)]
    timeout = C.Verdict("causal_attention", 2, "a_check", C.TIMEOUT)
    stuck = {**grades, "zed": StudentGrade("zed", {"causal_attention": TopicGrade("causal_attention", [timeout], [], 0.0, 5)})}
    words = Page(class_report_html(curriculum, stuck, isolation, 1.5, 1, [])).words
    assert "zed: causal_attention: too slow (time limit)" in words


def test_empty_class_and_a_submission_that_could_not_be_read(graded):
    curriculum, isolation, _, _ = graded
    degraded = Isolation("none", "bubblewrap (bwrap) is not installed")
    assert "0 submissions" in Page(class_report_html(curriculum, {}, degraded, 0.1, 0, [])).words
    words = Page(feedback_html(curriculum, StudentGrade("zoe", error="two entries for this student", isolation=degraded))).words
    assert "Problem with the submission: two entries for this student" in words and "isolation degraded" in words


def test_pictures_survive_odd_data():
    """Infinities, NaN, constant data (a scale of zero width) and malformed data: drawn or left
    out, never an error."""
    verdict = C.Verdict("causal_attention", 2, "c", C.WRONG_VALUES, visual={
        "expected_shape": [2, 2], "got_shape": [2, 2],
        "expected": [[1.0, 1.0], [1.0, 1.0]], "got": [[math.inf, -math.inf], [math.nan, 1.0]]})
    figures = verdict_figures(verdict, ("query", "key"))
    assert "+\u221e" in figures and "\u2212\u221e" in figures and "= NaN" in figures
    for visual in ({"expected": [[1.0], [2.0, 3.0]], "got": "x"}, {"expected_shape": "?"}, "not a dict", None):
        assert verdict_figures(C.Verdict("s", 1, "c", C.WRONG_VALUES, visual=visual)) == ""
    assert Scale.of([[-1.0, 2.0]]).low == -2.0  # signed data: a diverging scale around 0


# ---------------------------------------------------------------------------------------------
# In a browser


def chromium() -> str:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if found is None:
        if os.environ.get("KATA_REQUIRE_CHROMIUM") == "1":
            pytest.fail("KATA_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); KATA_REQUIRE_CHROMIUM=1 makes this fail")
    return found


def browse(page: Path, width: int, *action: str) -> tuple[str, str]:
    """Open `page` in headless Chromium at `width` px; its stdout and stderr (console messages
    are logged there as ':CONSOLE')."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", f"--window-size={width},1600",
             *action, page.as_uri()], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    return result.stdout, result.stderr


PAGES = ("dev/feedback.html", "mia/feedback.html", "nan/feedback.html", "sam/feedback.html", "eve/feedback.html",
         "ben/feedback.html", "class_report.html")


def test_pages_load_in_chromium_with_their_pictures_and_fit_a_phone(pages):
    """Every page in a frame 390 px wide (Chromium's window is never narrower than 500 px),
    inside one page that reports what each frame shows: its svg elements and its widths."""
    frames = "".join(f'<iframe src="{name}" style="width:390px;height:600px;border:0"></iframe>' for name in PAGES)
    (pages / "measure.html").write_text(f"""<!DOCTYPE html><title>pending</title><body>{frames}
<script>window.addEventListener("load", function () {{
  document.title = Array.from(document.querySelectorAll("iframe"), function (f) {{
    var d = f.contentDocument.documentElement;
    return [d.querySelectorAll("svg").length, d.scrollWidth, d.clientWidth].join(" "); }}).join(";");
}});</script>""", encoding="utf-8")
    dom, _ = browse(pages / "measure.html", 800, "--allow-file-access-from-files", "--dump-dom")
    shown = re.search(r"<title>(.*)</title>", dom).group(1).split(";")
    assert len(shown) == len(PAGES), dom[:500]
    for name, seen in zip(PAGES, shown):
        svgs, scroll, client = map(int, seen.split())
        assert svgs == (pages / name).read_text(encoding="utf-8").count("<svg") > 0, (name, svgs)
        assert 370 <= client <= 390 and scroll <= client, f"{name} is {scroll} px wide on a phone: it scrolls sideways"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", ["dev/feedback.html", "class_report.html"])
@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots_at_phone_and_desktop_width(pages, name, width):
    shot = pages / f"{name.replace('/', '_')}.{width}.png"
    browse(pages / name, width, f"--screenshot={shot}")
    assert png_size(shot) == (width, 1600)
