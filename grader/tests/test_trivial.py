"""Code that does nothing earns nothing: every topic's stub, with each body that raises
NotImplementedError replaced by something trivial, scores 0 points under the topic's checks.

The variants: return the first argument unchanged (a module's forward returns its input), return
zeros shaped like it, return a constant, and return the stub's own docstring example as a constant.
`__init__` only calls `super().__init__()`. A check that one of them passes pays for nothing: make
its property part of a check that compares values (see context_vectors_are_weighted_averages).
"""

import ast
import shutil

import pytest

from grader.course.curriculum import load
from grader.grading.grade import score
from grader.engine.session import run_topic

TOPICS = [t for t in load().topics if t.test_file().exists()]
VARIANTS = ("identity", "zeros", "constant", "docstring_example")
ZERO = '''
def _kata_zero(value):
    import torch
    if isinstance(value, torch.Tensor):
        return torch.zeros_like(value)
    return type(value)() if isinstance(value, (bool, int, float, str, bytes, list, tuple, dict)) else value
'''


def _is_stub(fn: ast.FunctionDef) -> bool:
    return any(isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node) for node in ast.walk(fn))


def docstring_example(fn: ast.FunctionDef):
    """The last literal a `>>>` example in the docstring shows as its result, if any."""
    lines = [line.strip() for line in (ast.get_docstring(fn) or "").splitlines()]
    shown = [after for before, after in zip(lines, lines[1:])
             if before.startswith(">>>") and after and not after.startswith((">>>", "..."))]
    for text in reversed(shown):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue
    return None


def trivial_source(stub: str, variant: str) -> str:
    tree = ast.parse(stub)
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and _is_stub(n)]:
        params = [a.arg for a in fn.args.args]
        first = (params[1:] if params[:1] == ["self"] else params)[:1] or ["None"]
        body = {"identity": f"return {first[0]}", "zeros": f"return _kata_zero({first[0]})", "constant": "return 0",
                "docstring_example": f"return {docstring_example(fn)!r}"}[variant]
        if fn.name == "__init__":
            body = "super().__init__()"
        docstring = fn.body[:1] if ast.get_docstring(fn) is not None else []
        fn.body = docstring + ast.parse(body).body
    return ZERO + ast.unparse(tree)


def test_the_variants_replace_every_stub_body():
    topic = next(t for t in TOPICS if t.slug == "softmax_attention")
    source = trivial_source(topic.exercise().read_text(encoding="utf-8"), "identity")
    assert "NotImplementedError" not in source and "return inputs" in source


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.slug)
def test_trivial_code_earns_nothing(topic, variant, tmp_path):
    for module in topic.solution().parent.glob("*.py"):  # the reference for every other topic
        shutil.copy(module, tmp_path / module.name)
    (tmp_path / topic.module_file).write_text(trivial_source(topic.exercise().read_text(encoding="utf-8"), variant),
                                              encoding="utf-8")
    verdicts = run_topic(topic, tmp_path)
    passed = [v.check for v in verdicts if v.passed]
    assert score(topic, verdicts) == 0, f"{variant} passes {passed}"
