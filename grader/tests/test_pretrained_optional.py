"""The pretrained topic's optional test with the real GPT-2 124M (tests/test_pretrained.py) is
worth no points, says why it is skipped, and can fail.

It is a plain pytest test, not a check: kata, the grader, nbgrader, Gradescope and the rest score
only checks, so skipped or passed, it adds nothing to a grade. No download here either: its
mechanics are proven on a tiny config in the layout of Hugging Face's model.safetensors.
"""

import os
import subprocess
import sys
import types

import pytest
import torch
from safetensors.torch import save_file

from grader.course.curriculum import ROOT, load
from grader.engine.checks import checks_module, load_checks
from grader.engine.session import run_topic
from grader.grading.grade import score

OPTIONAL = "test_gpt2_124m_writes_the_books_text"


def test_the_optional_test_is_no_check_and_scores_nothing():
    topic = load()["pretrained"]
    checks = [c.name for c in load_checks(topic.test_file())]
    assert OPTIONAL not in checks and callable(getattr(checks_module(topic.test_file()), OPTIONAL))
    verdicts = run_topic(topic, ROOT / "solutions")
    assert sorted(v.check for v in verdicts) == sorted(checks)
    assert score(topic, verdicts) == sum(task.points for task in topic.tasks)


@pytest.mark.parametrize("folder", [None, "empty"])
def test_pytest_says_why_the_optional_test_is_skipped(folder, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KATA_GPT2_DIR"}
    if folder:
        env["KATA_GPT2_DIR"] = str(tmp_path)
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/test_pretrained.py", "--impl", "solutions", "-rs",
                          "-q", "-k", OPTIONAL, "-p", "no:cacheprovider"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout and "optional, worth no points" in run.stdout, run.stdout
    assert ("holds no model.safetensors" if folder else "set KATA_GPT2_DIR to a folder") in run.stdout, run.stdout


def test_the_optional_test_loads_hugging_faces_layout_and_can_fail(tmp_path, monkeypatch):
    """A tiny GPT-2 with random weights, saved under Hugging Face's names: the test reads it, loads it
    with load_weights_into_gpt, generates with decoding's generate, and fails: no book text."""
    layout = checks_module(load()["pretrained"].test_file())
    cfg = dict(layout.GPT2_124M, context_length=32, emb_dim=12, n_heads=2, n_layers=2)
    monkeypatch.setattr(layout, "GPT2_124M", cfg)
    hf = {}
    for name, tensor in layout.gpt2_params(cfg, torch.Generator().manual_seed(0)).items():
        if name.startswith("blocks."):
            _, i, rest = name.split(".", 2)
            hf[f"h.{i}.{layout.HF_BLOCK[rest]}"] = tensor.contiguous()
        else:
            hf[layout.HF_NAMES[name]] = tensor.contiguous()
    save_file(hf, tmp_path / "model.safetensors")
    monkeypatch.setenv("KATA_GPT2_DIR", str(tmp_path))
    config = types.SimpleNamespace(rootpath=ROOT, getoption=lambda name: str(ROOT / "solutions"))
    with pytest.raises(AssertionError, match="your GPT-2 124M wrote 'Every effort moves you"):
        getattr(layout, OPTIONAL)(types.SimpleNamespace(config=config))
