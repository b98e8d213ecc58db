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
