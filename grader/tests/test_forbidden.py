"""Forbidden APIs are refused where the topic's own file calls them, and only there, with the
file and line in the message (multihead_attention forbids scaled_dot_product_attention;
causal_attention does not, and multihead_attention's wrapper may call a CausalAttention that uses it)."""

import shutil

from grader.engine import checks as C
from grader.course.curriculum import load
from grader.engine.session import run_topic

CURRICULUM = load()
SDPA = "torch.nn.functional.scaled_dot_product_attention"


def tree_with(tmp_path, replacements: dict[str, tuple[str, str]]):
    for module in CURRICULUM["causal_attention"].solution().parent.glob("*.py"):
        shutil.copy(module, tmp_path / module.name)
    for name, (find, new) in replacements.items():
        path = tmp_path / name
        source = path.read_text()
        assert source.count(find) == 1, find
        path.write_text(source.replace(find, new))
    return tmp_path


# CausalAttention.forward written with PyTorch's fused attention: allowed in its own kata.
FUSED = ("        attn_weights = self.dropout(attn_weights)\n",
         "        attn_weights = self.dropout(attn_weights)\n"
         f"        return {SDPA}(queries, keys, values, is_causal=True) * 0 + attn_weights @ values\n")


def test_another_topics_module_may_use_what_its_own_kata_allows(tmp_path):
    tree = tree_with(tmp_path, {"causal_attention.py": FUSED})
    causal = run_topic(CURRICULUM["causal_attention"], tree)
    assert all(v.passed for v in causal), [(v.check, v.message) for v in causal if not v.passed]
    wrapper = [v for v in run_topic(CURRICULUM["multihead_attention"], tree) if v.task == 1]
    assert wrapper and all(v.passed for v in wrapper), [(v.check, v.reason, v.message) for v in wrapper if not v.passed]


def test_the_topics_own_call_is_refused_with_its_line(tmp_path):
    find = "        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)\n"
    # Spelt so that the source scan misses it: the call itself is refused, at its line.
    hidden = ("        sdpa = getattr(torch.nn.functional, 'scaled_dot_product_' + 'attention')\n"
              "        sdpa(queries, keys, values)\n")
    tree = tree_with(tmp_path, {"multihead_attention.py": (find, hidden + find)})
    verdicts = run_topic(CURRICULUM["multihead_attention"], tree)
    refused = [v for v in verdicts if v.reason == C.FORBIDDEN_API]
    assert refused, [(v.check, v.reason) for v in verdicts]
    line = next(n for n, text in enumerate((tree / "multihead_attention.py").read_text().splitlines(), 1) if "sdpa(queries" in text)
    assert f"multihead_attention.py, line {line}" in refused[0].message, refused[0].message


def test_a_helper_in_another_topics_file_is_no_way_round(tmp_path):
    """A function of causal_attention.py that no kata asks for, calling the forbidden API for
    MultiHeadAttention.forward, is refused (found by a red team: it scored 3.6 of 4 before)."""
    helper = ("\n\ndef fused(queries, keys, values):\n"
              f"    return {SDPA}(queries, keys, values, is_causal=True)\n")
    find = "        context_vec = (attn_weights @ values).transpose(1, 2)"
    tree = tree_with(tmp_path, {
        "causal_attention.py": ("import torch\n", "import torch\n" + helper),
        "multihead_attention.py": (find, "        from .causal_attention import fused\n"
                                         "        context_vec = fused(queries, keys, values).transpose(1, 2)")})
    verdicts = [v for v in run_topic(CURRICULUM["multihead_attention"], tree) if v.task == 2]
    refused = [v for v in verdicts if v.reason == C.FORBIDDEN_API]
    assert refused and "causal_attention.py, line" in refused[0].message, [(v.check, v.reason) for v in verdicts]


def test_the_static_search_reads_every_spelling_python_reads():
    """forbidden_use skips the parse when the name is nowhere in an ASCII text; any other text
    is parsed, since Python folds identifiers (NFKC): fullwidth letters name the same function."""
    from grader.engine.probe import forbidden_use
    forbid = (SDPA,)
    assert forbidden_use("import torch\nx = 1\n", forbid) is None
    assert forbidden_use("import torch\ny = torch.nn.functional.scaled_dot_product_attention\n", forbid) == (SDPA, 2)
    fullwidth = "ｓｃａｌｅｄ_dot_product_attention"
    assert forbidden_use(f"import torch\n\ny = torch.nn.functional.{fullwidth}\n", forbid) == (SDPA, 3)
    assert forbidden_use("from torch.nn.functional import scaled_dot_product_attention as f\n", forbid) == (SDPA, 1)


def test_the_graders_own_maths_and_torchs_raw_kernels_are_off_limits(tmp_path):
    """Hostile round 13: the grader's variant maths, imported from a submission, passed gpt_blocks'
    checks; and torch.ops.aten's fused attention passed multihead_attention's, unseen by forbid_calls.
    Any module of the learner's folder that reaches past the kata fails every check, with its line."""
    (tmp_path / "a").mkdir()
    maths = ("import torch\n", "import torch\nfrom grader.engine.variant_math import attend  # noqa\n")
    verdicts = run_topic(CURRICULUM["causal_attention"], tree_with(tmp_path / "a", {"softmax_attention.py": maths}))
    assert verdicts and all(v.reason == C.FORBIDDEN_API for v in verdicts)  # another topic's file: refused too
    line = next(n for n, text in enumerate((tmp_path / "a" / "softmax_attention.py").read_text().splitlines(), 1)
                if "variant_math" in text)
    assert f"softmax_attention.py, line {line}, uses from grader.engine.variant_math import" in verdicts[0].message
    (tmp_path / "b").mkdir()
    raw = ("        attn_weights = self.dropout(attn_weights)\n",
           "        attn_weights = self.dropout(attn_weights)\n"
           "        return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(queries, keys, values)[0] * 0 "
           "+ attn_weights @ values\n")
    verdicts = run_topic(CURRICULUM["multihead_attention"], tree_with(tmp_path / "b", {"multihead_attention.py": raw}))
    assert verdicts and all(v.reason == C.FORBIDDEN_API for v in verdicts)
    assert "multihead_attention.py, line" in verdicts[0].message and "uses torch.ops" in verdicts[0].message


def test_only_the_regrades_own_block_may_import_the_grader():
    """A regrade appends a block that imports grader.engine.once (grader/once.py): allowed in
    exactly that shape, with literals as rebind's arguments; a look-alike carrying code is not."""
    from grader.engine import once
    from grader.engine.probe import off_limits
    block = once._BLOCK.format(donor="_kata_donor_tokenizer", whole=("encode",), methods={"A": ["f"]}, lend=())
    assert off_limits("x = 1\n" + block) is None
    tampered = block.replace("(), {'A'", "(__import__('grader'),), {'A'") if "(), {'A'" in block else \
        block.replace("_kata_rebind(globals(), _kata_donor, ", "_kata_rebind(globals(), _kata_donor, print(1) or ")
    assert tampered != block and off_limits("x = 1\n" + tampered) is not None
    assert off_limits("from grader.engine.once import rebind\n") is not None
