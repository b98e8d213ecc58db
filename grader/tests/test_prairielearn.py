"""PrairieLearn (issue 15): `make prairielearn` writes one externally graded question per topic,
and the entrypoint grades /grade/student into /grade/results/results.json as PrairieLearn's
docs/externalGrading.md specifies it: `score` in [0, 1] and a test per check, or `gradable: false`
with `format_errors` for a submission that cannot be graded (no attempt used)."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

import pytest

from grader.builders import prairielearn as PL
from grader.course.curriculum import load


def graded(tmp_path: Path, topic: str, files: dict[str, bytes]) -> dict:
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    for name, data in files.items():
        (root / "student" / name).write_bytes(data)
    assert PL.grade_command(Namespace(topic=topic, root=root, timeout=None, no_sandbox=False)) == 0
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", ["reference", "stub", "syntax_error", "nothing", "builds_on_the_reference"])
def test_the_entrypoint_writes_prairielearns_results(tmp_path, case):
    full = load()
    topic = "multihead_attention" if case == "builds_on_the_reference" else "causal_attention"
    module = full[topic].module_file
    files = {"reference": {module: full[topic].solution().read_bytes()},
             "builds_on_the_reference": {module: full[topic].solution().read_bytes()},  # no causal_attention.py
             "stub": {module: full[topic].exercise().read_bytes()},
             "syntax_error": {module: b"def causal_mask(num_tokens:\n"},
             "nothing": {"notes.txt": b"hello"}}[case]
    results = graded(tmp_path, topic, files)
    if case in ("syntax_error", "nothing"):
        assert results["gradable"] is False and results["format_errors"] and "score" not in results
        assert (module in results["format_errors"][0]) if case == "nothing" else "SyntaxError" in results["format_errors"][0]
        return
    assert results["gradable"] is True and 0.0 <= results["score"] <= 1.0
    assert results["score"] == (0.0 if case == "stub" else 1.0), results["message"]
    assert {"name", "description", "points", "max_points", "message", "output"} == set(results["tests"][0])
    assert abs(sum(t["max_points"] for t in results["tests"]) - full[topic].max_points) < 1e-3
    assert any(t["name"].endswith("(hidden inputs)") for t in results["tests"])


def test_make_prairielearn_writes_a_question_per_topic(tmp_path):
    files = PL.course_files()
    full = load()
    for topic in full.topics:
        info = json.loads(files[f"questions/kata_{topic.slug}/info.json"].data)
        assert info["gradingMethod"] == "External" and info["type"] == "v3"
        options = info["externalGradingOptions"]
        assert options["enabled"] and options["environment"] == {"KATA_TOPIC": topic.slug}
        assert options["entrypoint"] == "/grade/serverFilesCourse/kata/run.sh" and options["timeout"] <= 600
        assert files[f"questions/kata_{topic.slug}/{topic.module_file}"].data == topic.exercise().read_bytes()
    assert files["serverFilesCourse/kata/run.sh"].executable
    assert "serverFilesCourse/kata/solutions/causal_attention.py" in files
    assert "serverFilesCourse/kata/kata-secret" in files
    assert "download.pytorch.org/whl/cpu" in files["grader-image/Dockerfile"].data.decode()
    assert len({json.loads(files[f"questions/kata_{t.slug}/info.json"].data)["uuid"] for t in full.topics}) == len(full.topics)


def test_failing_checks_carry_the_heatmaps_as_images(tmp_path):
    """A catalogued mistake (no scaling in causal attention): each failing check with values to
    draw carries the HTML feedback's heatmaps as `images` [{label, url}] (docs/externalGrading.md),
    SVG data URLs that parse; passing checks carry none, and results.json stays under 1 MB."""
    import base64
    import xml.etree.ElementTree as ET

    from grader.course.mistakes import catalogue, mistaken_source
    topic = load()["causal_attention"]
    patch = next(p for p in catalogue(topic) if p.id == "scale_missing")
    results = graded(tmp_path, topic.slug, {topic.module_file: mistaken_source(topic, patch).encode()})
    assert results["gradable"] is True and 0 < results["score"] < 1
    pictured = [t for t in results["tests"] if t.get("images")]
    assert pictured and all(t["points"] == 0 for t in pictured)
    for test in pictured:
        assert [i["label"].split(":")[0] for i in test["images"]][:2] == ["Expected", "Yours"]
        for image in test["images"]:
            head, data = image["url"].split(",", 1)
            assert head == "data:image/svg+xml;base64"
            assert ET.fromstring(base64.b64decode(data)).tag == "{http://www.w3.org/2000/svg}svg"
    assert not any(t.get("images") for t in results["tests"] if t["points"] == t["max_points"])
    assert len(json.dumps(results)) < 1_000_000
