"""junit.xml: a student's grade as JUnit XML, for the tools that read test results in that form
(CodeGrade, GitLab's merge-request test reports, Jenkins' junit step), made from grade.json alone.

JUnit XML has no one standard; this uses the subset the readers agree on (Ant's schema, which
Jenkins' junit step reads; GitLab's "Unit test reports" page, docs.gitlab.com/ci/testing/
unit_test_reports, says which elements it parses): one <testsuite> per topic inside <testsuites>,
one <testcase> per check with `classname` "<topic>.task<N>" (GitLab shows it as the suite) and
`name` the check, " (hidden inputs)" added on hidden inputs (GitLab keeps only the first of two
tests with the same name). A failed check holds one <failure>: `message` its headline, `type` its
reason, and the full explanation as text (GitLab shows the text, not the message). JUnit has no
points: each suite carries them as <properties> (points, max_points), as does the whole report.

Everything here comes from the record; the text a submission wrote (exception messages) is
cleaned as for every other report, then stripped of what XML 1.0 cannot hold.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from ...course.curriculum import Curriculum
from ...engine.messages import clean, explain, headline
from ..record import StudentGrade

# XML 1.0 allows tab, newline, carriage return and U+0020 upward, minus surrogates and U+FFFE,
# U+FFFF; clean() has already dropped the control characters and surrogates.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("", clean(value))


def _number(value: float) -> str:
    """Exactly the float, as results.json holds it (a value that is not finite counts 0 there too)."""
    return repr(float(value)) if math.isfinite(value) else "0.0"


def junit_xml(curriculum: Curriculum, grade: StudentGrade) -> bytes:
    total_max = sum(t.max_points for t in curriculum.topics)
    root = ET.Element("testsuites", name=_text(f"kata grade of {grade.student}"))
    properties = ET.SubElement(root, "properties")
    for name, value in (("points", _number(grade.total)), ("max_points", str(total_max)), ("error", grade.error)):
        ET.SubElement(properties, "property", name=name, value=_text(value))
    counts = {"tests": 0, "failures": 0}
    for topic in curriculum.topics:
        topic_grade = grade.topics.get(topic.slug)
        if topic_grade is None:
            continue
        suite = ET.SubElement(root, "testsuite", name=topic.slug, time=_number(topic_grade.seconds))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="points", value=_number(topic_grade.points))
        ET.SubElement(props, "property", name="max_points", value=str(topic_grade.max_points))
        tests = failures = 0
        for hidden, verdicts in ((False, topic_grade.verdicts), (True, topic_grade.hidden)):
            for verdict in verdicts:
                case = ET.SubElement(suite, "testcase", classname=f"{topic.slug}.task{verdict.task}",
                                     name=_text(verdict.check + (" (hidden inputs)" if hidden else "")))
                tests += 1
                if not verdict.passed:
                    failures += 1
                    failure = ET.SubElement(case, "failure", message=_text(headline(verdict)),
                                            type=_text(verdict.reason))
                    failure.text = _text(explain(verdict, topic))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        counts["tests"] += tests
        counts["failures"] += failures
    root.set("tests", str(counts["tests"]))
    root.set("failures", str(counts["failures"]))
    root.set("errors", "0")
    root.set("time", _number(grade.seconds))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
