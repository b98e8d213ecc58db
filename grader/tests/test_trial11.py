"""What held-out trial 11 found and the checks now say (issue 10): slips the stubs ask learners to
avoid that every check passed, a refused correct variant, and messages that claimed another slip.
Each edit is the trial's, as a patch of the reference; the verdict a learner sees must say it."""

import pytest

from grader.course.curriculum import load
from grader.course.mistakes import Patch, mistaken_tree
from grader.engine.messages import explain
from grader.engine.session import run_topic

# name: (slug, (find, replace), words the first failing check's message must hold)
SAYS = {
    # t159: the model handed over in train mode stays in it
    "kv_cache_without_eval": ("kv_cache", (
        "    model.eval()\n    context_size = context_size or", "    context_size = context_size or"),
        "calls it in train mode"),
    # t167: the cache keeps its graphs
    "kv_cache_without_no_grad": ("kv_cache", (
        "    with torch.no_grad():\n        if use_cache:", "    if True:\n        if use_cache:"),
        "calls the model with gradients on"),
    # t170
    "generate_without_no_grad": ("decoding", (
        "        with torch.no_grad():\n            logits = model(idx_cond)", "        if True:\n            logits = model(idx_cond)"),
        "generate calls the model with gradients on"),
    # t168: a bfloat16 input cannot go through a float32 out_proj
    "gqa_out_proj_without_dtype": ("gqa", (
        "self.out_proj = nn.Linear(d_out, d_out, bias=False, dtype=dtype)", "self.out_proj = nn.Linear(d_out, d_out, bias=False)"),
        "out_proj.weight is torch.float32 although dtype=torch.bfloat16 was given"),
    # t144
    "rope_in_float32": ("llama_parts", ("return x_rotated.to(dtype=x.dtype)", "return x_rotated"),
                        "your apply_rope returns torch.float32"),
    # t173: on a GPU the model would stay on the CPU
    "load_for_inference_not_moved": ("save_load", ("    model.to(device)\n", ""), "never calls model.to(device)"),
    # t15
    "loader_always_shuffles": ("input_target_pairs", (
        "shuffle=shuffle, drop_last=drop_last,", "shuffle=True, drop_last=drop_last,"), "but shuffled"),
    # t84: the message no longer reads "should hold A, transposed, but it holds that array's transpose"
    "attention_c_proj_not_transposed": ("pretrained", (
        'block["attn"]["c_proj"]["w"].T)', 'block["attn"]["c_proj"]["w"])'),
        "gpt.trf_blocks[0].att.out_proj.weight holds params['blocks'][0]['attn']['c_proj']['w'] as it is, without the .T"),
}


@pytest.mark.parametrize("name", list(SAYS))
def test_the_slip_is_said(name):
    slug, edit, words = SAYS[name]
    topic = load()[slug]
    with mistaken_tree(topic, Patch(name, (edit,))) as tree:
        verdicts = run_topic(topic, tree)
    failed = [v for v in verdicts if not v.passed]
    assert failed, "the edit must fail a check"
    message = explain(failed[0], topic)
    assert words in message, message
    assert "known mistake" not in message, message


def test_a_checkpoint_with_an_epoch_beside_the_two_state_dicts_passes():
    """v14: extra metadata in a checkpoint is common practice and harmless."""
    topic = load()["save_load"]
    edit = ('"optimizer_state_dict": optimizer.state_dict(),',
            '"optimizer_state_dict": optimizer.state_dict(),\n            "epoch": 0,')
    with mistaken_tree(topic, Patch("epoch_saved", (edit,))) as tree:
        verdicts = run_topic(topic, tree)
    assert all(v.passed for v in verdicts), [explain(v, topic) for v in verdicts if not v.passed]


def test_an_error_in_a_helper_shows_the_learners_call():
    """t86: assign raises; the line that called it (c_fc without .T) tells which mistake it is."""
    topic = load()["pretrained"]
    edit = ('gpt.trf_blocks[b].ff.layers[0].weight, block["mlp"]["c_fc"]["w"].T)',
            'gpt.trf_blocks[b].ff.layers[0].weight, block["mlp"]["c_fc"]["w"])')
    with mistaken_tree(topic, Patch("t86", (edit,))) as tree:
        verdicts = run_topic(topic, tree)
    failed = next(v for v in verdicts if not v.passed)
    message = explain(failed, topic)
    assert "called from pretrained.py" in message and 'block["mlp"]["c_fc"]["w"])' in message, message
    assert failed.mistake == "c_fc_not_transposed" and failed.candidates == ("c_fc_not_transposed",), message
