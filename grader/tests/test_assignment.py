"""One assignment graded alone (issue 15): `make grade ASSIGNMENT=ch5` grades chapter 5's topics,
out of their points, with feedback and a gradebook for them only. A topic they build on but do
not grade (an earlier week's gpt_model) is the learner's own when it works; when it is missing or
wrong, the topic that fails through it is graded again with the reference's, as a failing graded
topic would be: a week's submission holding only its own modules gets full marks, and a mistake in
an earlier week's module is not charged again."""

from __future__ import annotations

import csv
import json

import pytest

from grader.builders.demo import submission_files, write_submission
from grader.course.curriculum import load
from grader.course.mistakes import catalogue


def test_an_assignment_is_graded_alone_and_earlier_weeks_are_not_charged_again(tmp_path, capsys):
    from grader.__main__ import main
    full = load()
    ch5 = full.assignment("ch5")
    assert ch5.slugs == ["training", "decoding", "save_load", "pretrained"] and "gpt_model" in [t.slug for t in ch5.context]
    wrong_model = catalogue(full["gpt_model"])[0].id
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for student, recipe in {"all": {"base": "solutions"},
                            "week": {"base": "exercises", "reference": ch5.slugs},
                            "slip": {"base": "solutions", "mistakes": [f"gpt_model:{wrong_model}"]},
                            "stub": {"base": "exercises"}}.items():
        files = submission_files(full, recipe, tmp_path)
        if student == "week":  # only this week's modules, as a weekly hand-in holds them
            files = {name: data for name, data in files.items() if name in {t.module_file for t in ch5.topics}}
        write_submission(class_dir, student, files)
    out = tmp_path / "out"
    assert main(["grade", str(class_dir), "--out", str(out), "--assignment", "ch5"]) == 0
    total = sum(t.max_points for t in ch5.topics)
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert list(rows["all"])[1:-3] == ch5.slugs, "the gradebook holds the assignment's topics only"
    assert {s: float(r["total"]) for s, r in rows.items()} == {"all": total, "week": total, "slip": total, "stub": 0}
    assert {r["max_total"] for r in rows.values()} == {str(total)}
    results = json.loads((out / "week" / "results.json").read_text(encoding="utf-8"))
    assert {t["tags"][0] for t in results["tests"]} == set(ch5.slugs)
    feedback = (out / "slip" / "feedback.md").read_text(encoding="utf-8")
    assert "## " in feedback and "gpt_model)" not in feedback, "no feedback on a topic the assignment does not grade"
    assert main(["grade", str(class_dir), "--out", str(out), "--assignment", "ch9"]) == 2
    assert "there is no assignment 'ch9'; the assignments are: ch2, ch3" in " ".join(capsys.readouterr().out.split())


def test_every_topic_is_in_one_assignment_at_most_and_the_names_are_unique():
    full = load()
    names = [name for name, _ in full.assignments]
    assert len(names) == len(set(names)) and names
    seen = [slug for _, topics in full.assignments for slug in topics]
    assert len(seen) == len(set(seen)), "a topic in two assignments would be graded twice"
    with pytest.raises(KeyError):
        full.assignment("nope")
