"""The references print the book's numbers: a learner comparing with the book sees the same."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader.course.curriculum import ROOT
from grader.engine.impl import import_topic, load_package
from grader.course.offline import install

install()
REFERENCE = load_package(ROOT / "solutions")
BOOK_INPUTS = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
                            [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])
VERDICT = ROOT.parent / "shared" / "data" / "the-verdict.txt"  # cross-check only, never committed


def reference(slug: str):
    return import_topic(REFERENCE, slug)


def test_gpt2_124m_parameter_counts_without_running_the_model():
    gpt_model = reference("gpt_model")
    model = gpt_model.GPTModel(gpt_model.GPT_CONFIG_124M)
    assert gpt_model.count_parameters(model) == 163_009_536
    assert gpt_model.count_parameters(model, tied=True) == 124_412_160


def test_self_attention_and_multi_head_first_rows():
    torch.manual_seed(123)
    v1 = reference("qkv_attention").SelfAttention_v1(3, 2)
    assert torch.allclose(v1(BOOK_INPUTS)[0], torch.tensor([0.2996, 0.8053]), atol=1e-4)
    torch.manual_seed(123)
    mha = reference("multihead_attention").MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    out = mha(torch.stack((BOOK_INPUTS, BOOK_INPUTS)))
    assert out.shape == (2, 6, 2)
    assert torch.allclose(out[0, 0], torch.tensor([0.3190, 0.4858]), atol=1e-4)


def test_gpt2_encoding_offline_gives_the_books_ids():
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace."
    assert reference("special_tokens").gpt2_encode(text) == [
        15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 286, 617,
        34680, 27271, 13]


@pytest.mark.skipif(not VERDICT.exists(), reason="the book's story is not beside the repository")
def test_the_verdict_counts():
    text = VERDICT.read_text(encoding="utf-8")
    tokenizer = reference("tokenizer")
    tokens = tokenizer.split_text(text)
    assert len(tokens) == 4690
    assert len(tokenizer.build_vocab(tokens)) == 1130
    assert len(tokenizer.build_vocab(tokens, ["<|endoftext|>", "<|unk|>"])) == 1132
    assert len(reference("special_tokens").gpt2_encode(text)) == 5145


@pytest.mark.timeout(600)  # the run's own limit: a loaded machine (load 12 on 2 cores) took over 120 s
def test_the_learner_path_trains_and_writes(tmp_path: Path):
    """scripts/train_tiny.py, as the README documents it: the loss falls, text comes out."""
    run = subprocess.run([sys.executable, "scripts/train_tiny.py", "--epochs", "2"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    before, after = map(float, re.search(r"train loss ([\d.]+) -> ([\d.]+)", run.stdout).groups())
    assert after < before - 1.0, run.stdout
    assert "sample (temperature 1.0, top_k 25): Every effort moves you" in run.stdout


def test_gpt2_124m_arrays_in_the_download_scripts_layout():
    """Section 5.5 prints the keys of `params` and wte's shape; tests/test_pretrained.py's GPT-2
    layout holds them, and its arrays count GPT-2 124M's 124,439,808 parameters: the GPTModel with
    qkv_bias=True and a tied head (appendix E's 124,441,346 less its two-class head, 768 * 2 + 2)."""
    from grader.engine.checks import checks_module

    layout = checks_module(ROOT / "tests" / "test_pretrained.py")
    shapes = layout.gpt2_shapes(layout.GPT2_124M)
    assert {name.split(".")[0] for name in shapes} == {"blocks", "b", "g", "wpe", "wte"}
    assert shapes["wte"] == (50257, 768)
    assert sum(math.prod(shape) for shape in shapes.values()) == 124_439_808 == 124_441_346 - (768 * 2 + 2)
    gpt_model = reference("gpt_model")
    with torch.device("meta"):
        model = gpt_model.GPTModel(layout.GPT2_124M)
    assert gpt_model.count_parameters(model, tied=True) == 124_439_808
def test_instruction_collate_example_and_the_loss_that_skips_minus_100():
    """Section 7.3: the book's three-item batch padded with 50256, its targets shifted with the first
    end-of-text kept and the rest -100; cross-entropy 1.1269, 0.7936, and 1.1269 again with -100."""
    instruction = reference("instruction")
    inputs, targets = instruction.custom_collate_fn(([0, 1, 2, 3, 4], [5, 6], [7, 8, 9]))
    assert inputs.tolist() == [[0, 1, 2, 3, 4], [5, 6, 50256, 50256, 50256], [7, 8, 9, 50256, 50256]]
    assert targets.tolist() == [[1, 2, 3, 4, 50256], [6, 50256, -100, -100, -100], [8, 9, 50256, -100, -100]]
    logits_2 = torch.tensor([[[-1.0, 1.0], [-0.5, 1.5], [-0.5, 1.5]]])
    losses = [instruction.calc_loss_batch(torch.tensor([[7, 8, 9]]), torch.tensor([t]), lambda ids: logits_2, "cpu")
              for t in ([0, 1, 1], [0, 1, -100])]
    assert [round(loss.item(), 4) for loss in losses] == [0.7936, 1.1269]
    two = instruction.calc_loss_batch(torch.tensor([[7, 8]]), torch.tensor([[0, 1]]), lambda ids: logits_2[:, :2], "cpu")
    assert round(two.item(), 4) == 1.1269
def test_gpt2_124m_classifier_trains_7_090_946_parameters():
    """Chapter 6's classifier, counted on the meta device: the last block, the final norm and a two-class head."""
    gpt_model, classification = reference("gpt_model"), reference("classification")
    with torch.device("meta"):
        model = classification.prepare_for_classification(gpt_model.GPTModel(gpt_model.GPT_CONFIG_124M | {"qkv_bias": True}), 2)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 7_090_946
    assert sum(p.numel() for p in model.parameters()) == 124_441_346


@pytest.mark.parametrize("lora", [False, True], ids=["last_block", "lora"])
def test_the_learner_path_fine_tunes_a_classifier(lora: bool):
    """scripts/finetune_tiny.py, as the README documents it: held-out accuracy rises, few parameters train."""
    run = subprocess.run([sys.executable, "scripts/finetune_tiny.py"] + ["--lora"] * lora, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    before, after = map(int, re.search(r"held-out accuracy (\d+)% -> (\d+)%", run.stdout).groups())
    assert after >= before + 25, run.stdout
    trained, total = (int(n.replace(",", "")) for n in re.search(r"([\d,]+) of ([\d,]+) parameters train", run.stdout).groups())
    assert trained < total / 100, run.stdout
    print(run.stdout)
