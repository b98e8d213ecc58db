"""The BPE reference gives exactly tiktoken's ids: with GPT-2's full ranks on the corpus and on
hundreds of generated strings, and with the rank prefixes that the checks of tests/test_bpe.py
use (so the fixture's expected ids are tiktoken's, not only the reference's). Also: the worked
examples in the stub's docstrings hold for the reference.
"""

import random
import tempfile
from pathlib import Path

import pytest

from grader.engine import checks as C
from grader.course import offline
from grader.course.curriculum import ROOT, load
from grader.engine.impl import import_topic, load_package

offline.install()  # before tiktoken looks for GPT-2's files
import tiktoken  # noqa: E402
from tiktoken_ext.openai_public import r50k_pat_str  # noqa: E402

END = "<|endoftext|>"
TOPIC = load()["bpe"]
CHECKS = {c.name: c for c in C.load_checks(TOPIC.test_file())}
HELPERS = CHECKS["from_gpt2_encodes_like_tiktoken"].probe.__globals__  # tests/test_bpe.py's own functions

# Code points where pre-tokenisers tend to disagree: Unicode whitespace beyond ASCII, format
# characters (ZWJ, ZWNJ, BOM), combining marks, letters and numbers of many scripts, symbols,
# surrogate-free astral planes (emoji, CJK extension B, mathematical letters).
CODE_POINT_RANGES = [(0x09, 0x0D), (0x1C, 0x20), (0x21, 0x7E), (0x85, 0x85), (0xA0, 0x17F),
                     (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F),
                     (0x1680, 0x1680), (0x2000, 0x206F), (0x2150, 0x218B), (0x3000, 0x30FF),
                     (0x4E00, 0x4E80), (0xAC00, 0xAC80), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFF01, 0xFF5E), (0x1D400, 0x1D4FF), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF),
                     (0x20000, 0x20040)]


def random_code_points(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        chars = [chr(rng.randint(*rng.choice(CODE_POINT_RANGES))) for _ in range(rng.randint(1, 30))]
        texts.append("".join(chars))
    return texts


def generated_strings() -> list[str]:
    """A few hundred strings: the checks' mixes with special tokens in between, and random code points."""
    rng = random.Random(2024)
    mixes = [rng.choice(["", END]).join(HELPERS["mixed_strings"](seed, 3, pieces=8)) for seed in range(200)]
    return mixes + random_code_points(7, 200)


@pytest.fixture(scope="module")
def reference():
    return import_topic(load_package(ROOT / "solutions"), "bpe")


@pytest.fixture(scope="module")
def gpt2(reference):
    return reference.BPETokenizer.from_gpt2(offline.RANKS_FILE)


@pytest.fixture(scope="module")
def tiktoken_gpt2():
    return tiktoken.get_encoding("gpt2")


def prefix_encoding(rank_lines: str) -> tiktoken.Encoding:
    """tiktoken's own BPE with the ranks of `rank_lines` (a prefix of GPT-2's) and GPT-2's pattern."""
    ranks = HELPERS["gpt2_ranks"](rank_lines)
    return tiktoken.Encoding(name=f"gpt2-first-{len(ranks)}", pat_str=r50k_pat_str, mergeable_ranks=ranks,
                             special_tokens={END: 50256})


def test_the_full_ranks_give_tiktokens_ids_on_the_corpus(gpt2, tiktoken_gpt2):
    text = (ROOT / "data" / "corpus.txt").read_text(encoding="utf-8")
    assert gpt2.encode(text) == tiktoken_gpt2.encode(text)
    assert gpt2.decode(gpt2.encode(text)) == text


def test_the_full_ranks_give_tiktokens_ids_on_generated_strings(gpt2, tiktoken_gpt2):
    strings = generated_strings()
    assert len(strings) >= 300
    for text in strings:
        assert gpt2.encode(text, allowed_special="all") == tiktoken_gpt2.encode(text, allowed_special="all"), text
        # Any str without surrogates is valid UTF-8, so the round trip is exact.
        assert gpt2.decode(gpt2.encode(text, allowed_special="all")) == text


def test_a_special_token_not_allowed_raises_as_in_tiktoken(gpt2, tiktoken_gpt2):
    text = f"Hello{END}world"
    with pytest.raises(ValueError):
        tiktoken_gpt2.encode(text)
    with pytest.raises(ValueError):
        gpt2.encode(text)
    assert gpt2.encode(text, allowed_special={END}) == tiktoken_gpt2.encode(text, allowed_special={END})


@pytest.mark.parametrize("seed", range(6))
def test_the_checks_rank_prefixes_give_tiktokens_ids(reference, seed):
    """Task 3's inputs: from_gpt2 on a prefix file, against tiktoken built from the same prefix."""
    inputs = CHECKS["from_gpt2_encodes_like_tiktoken"].inputs(seed)
    oracle = prefix_encoding(inputs["rank_lines"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prefix.tiktoken"
        path.write_text(inputs["rank_lines"])
        bpe = reference.BPETokenizer.from_gpt2(path)
    for text in inputs["strings"]:
        assert bpe.encode(text, allowed_special="all") == oracle.encode(text, allowed_special="all"), text


@pytest.mark.parametrize("seed", range(6))
def test_task_2s_merges_give_tiktokens_ids(reference, seed):
    """Task 2's inputs: merges recovered from a rank prefix, passed to BPETokenizer directly."""
    inputs = CHECKS["encode_merges_the_lowest_rank_first"].inputs(seed)
    bpe = reference.BPETokenizer(*HELPERS["gpt2_bpe"](inputs["rank_lines"]), [END])
    oracle = prefix_encoding(inputs["rank_lines"])
    for text in inputs["strings"]:
        assert bpe.encode(text) == oracle.encode(text), text
    special = CHECKS["special_tokens_encode_only_when_allowed"].inputs(seed)["text"]
    assert bpe.encode(special, allowed_special="all") == oracle.encode(special, allowed_special="all")
