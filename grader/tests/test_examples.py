"""Every `>>>` example in the stubs holds for the reference: the figures a learner reads in a
docstring are true. Each topic's examples run in file order in one namespace (a later docstring
may use what an earlier one made, as a reader would), with the reference module's names."""

import ast
import doctest

import pytest

from grader.course.curriculum import ROOT, load
from grader.engine.impl import import_topic, load_package, unload_package
from grader.course.offline import install

TOPICS = load().topics


def docstrings_in_file_order(source: str) -> list[tuple[str, int, str]]:
    tree = ast.parse(source)
    found = [("module", 0, ast.get_docstring(tree) or "")]
    found += [(node.name, node.lineno, ast.get_docstring(node) or "") for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    return sorted(found, key=lambda item: item[1])


def test_every_topic_has_worked_examples():
    counts = {t.slug: sum(len(doctest.DocTestParser().get_examples(doc))
                          for _, _, doc in docstrings_in_file_order(t.exercise().read_text(encoding="utf-8")))
              for t in TOPICS}
    assert all(counts.values()), [slug for slug, n in counts.items() if not n]
    print(f"{sum(counts.values())} examples: {counts}")


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.slug)
def test_the_stubs_examples_hold_for_the_reference(topic):
    install()  # examples may call tiktoken.get_encoding("gpt2"): offline
    package = load_package(ROOT / "solutions")
    try:
        namespace = dict(vars(import_topic(package, topic.slug)))
        failures = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for name, line, doc in docstrings_in_file_order(topic.exercise().read_text(encoding="utf-8")):
            test = doctest.DocTestParser().get_doctest(doc, namespace, f"{topic.slug}.{name}", topic.module_file, line)
            test.globs = namespace  # shared, in order: no copy per docstring
            runner.run(test, clear_globs=False, out=failures.append)
        assert runner.summarize(verbose=False).failed == 0, "\n".join(failures)[:3000]
    finally:
        unload_package(package)
