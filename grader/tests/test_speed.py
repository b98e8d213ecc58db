"""The speed challenges (grader/learner/speed.py): `kata speed TOPIC` runs the learner's code both
ways and prints the ratio. No test here asserts a time or a ratio: only what is printed, and that
a fast run whose ids differ from the slow one's never counts as met."""

import io
import shutil
from pathlib import Path

from rich.console import Console

from grader.course.curriculum import ROOT, load
from grader.course.mistakes import catalogue, mistaken_tree
from grader.learner import cli, speed

CURRICULUM = load()
KV_CACHE = CURRICULUM["kv_cache"]
QUICK = {"model": "tiny", "max_new_tokens": 12}  # a fraction of a second; the ratio itself is not judged


def kata_root(where: Path, exercises: Path) -> Path:
    """A scratch kata repository whose exercises/ holds the modules of `exercises`."""
    root = where / "kata"
    shutil.copytree(exercises, root / "exercises", ignore=shutil.ignore_patterns("mistakes", "*.toml", "__pycache__"))
    shutil.copy(ROOT / "curriculum.toml", root / "curriculum.toml")
    for folder in ("tests", "hints"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_kata(root: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(list(argv), console=Console(file=out, width=200, color_system=None), cwd=root)
    return status, out.getvalue()


def test_the_reference_gives_the_same_ids_both_ways_and_a_ratio():
    result = speed.measure(KV_CACHE, KV_CACHE.solution().parent, **QUICK)
    print("\n".join(result.lines()))  # the measurement, for the log: never asserted
    assert result.same_ids
    assert result.uncached_seconds > 0 and result.cached_seconds > 0
    assert "times as fast" in result.lines()[1]


def test_a_cached_run_with_other_ids_never_meets_the_challenge():
    patch = next(p for p in catalogue(KV_CACHE) if p.id == "cache_not_used_for_the_new_token")
    with mistaken_tree(KV_CACHE, patch) as tree:
        result = speed.measure(KV_CACHE, tree, **QUICK)
        status = speed.main(["kv_cache", "--impl", str(tree), "--model", "tiny", "--tokens", "12", "--require"])
    assert not result.same_ids and not result.reached
    assert "other ids than your uncached one" in "\n".join(result.lines())
    assert status == 1


def test_kata_speed_prints_the_ratio_of_the_learners_code(tmp_path):
    status, out = run_kata(kata_root(tmp_path, KV_CACHE.solution().parent), "speed", "kv_cache", "--model", "tiny",
                           "--tokens", "12")
    print(out)
    assert status == 0 and "kv_cache speed challenge (model 'tiny'" in out and "times as fast" in out


def test_kata_speed_says_what_stands_in_the_way(tmp_path):
    root = kata_root(tmp_path, KV_CACHE.exercise().parent)  # the stubs
    status, out = run_kata(root, "speed", "kv_cache")
    assert status == 2 and "Your code raised NotImplementedError" in out and "kata check kv_cache" in out
    status, out = run_kata(root, "speed", "decoding")
    assert status == 2 and "decoding has no speed challenge" in out
    status, out = run_kata(root, "speed", "kv_cache", "--model", "huge")
    assert status == 2 and "knows the models small, tiny, gpt2" in out
