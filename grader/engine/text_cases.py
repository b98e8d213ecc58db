"""Inputs shared by the text checks (tokenizer, special tokens, input-target pairs): excerpts of
the suite's corpus, read while inputs are made and stored with them (a probe never reads a file),
and vocabularies whose ids only the given vocabulary can explain."""

from __future__ import annotations

import random

import torch

from .checks import generator
from ..course.curriculum import ROOT


def paragraphs() -> list[str]:
    """The corpus's paragraphs (data/corpus.txt)."""
    return (ROOT / "data" / "corpus.txt").read_text(encoding="utf-8").strip().split("\n\n")


def consecutive(seed: int, items: list, count: int, first: int) -> list:
    """`count` neighbouring items: from `first` for seed 0, from a seeded place otherwise."""
    start = first if seed == 0 else random.Random(seed).randrange(len(items) - count + 1)
    return items[start:start + count]


def shuffled_vocab(seed: int, tokens) -> dict[str, int]:
    """Each distinct token with an id in shuffled order, so only the given vocab gives the ids."""
    distinct = sorted(set(tokens))
    ids = torch.randperm(len(distinct), generator=generator(seed)).tolist()
    return dict(zip(distinct, ids))


class WordTokenizer:
    """A tokenizer for a test model's small vocabulary: one id per space-separated word (training's
    and classification's checks build one inside their probes)."""

    def __init__(self, words: list[str]):
        self.words, self.ids = words, {w: i for i, w in enumerate(words)}

    def encode(self, text: str, **special) -> list[int]:
        return [self.ids[w] for w in text.split(" ")]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.words[i] for i in ids)
