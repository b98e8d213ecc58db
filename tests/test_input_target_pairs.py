"""Checks for topic 3, input-target pairs with a sliding window (book section 2.6).

The texts are excerpts of the suite's corpus (data/corpus.txt), read when the inputs are made
and stored with them: a probe never reads a file. GPTDatasetV1 gets GPT-2's tokenizer, as in
the book; `tiktoken.get_encoding("gpt2")` works offline once the grader's cache is installed.
"""

import inspect
import random

import tiktoken
import torch

from grader.engine.checks import Failed, check, compare, generator, sizes
from grader.engine.text_cases import paragraphs

WINDOW = ("max_length",)
BATCH = ("batch", "max_length")


# Inputs ---------------------------------------------------------------------------------------

def excerpt(seed: int) -> str:
    """A paragraph of some 20 to 60 GPT-2 tokens: seed 0 has 31, so 7 windows of 4 at stride 4."""
    found = [p for p in paragraphs() if 100 <= len(p) <= 260]
    return found[1] if seed == 0 else random.Random(seed).choice(found)


def pairs_inputs(seed: int) -> dict:
    n = sizes(seed, context_size=4)
    ids = torch.randint(0, 50257, (n["context_size"] + 2,), generator=generator(seed)).tolist()
    return {"token_ids": ids, "context_size": n["context_size"]}


def dataset_inputs(seed: int, stride: int | None = None) -> dict:
    n = sizes(seed, max_length=4, stride=3)
    return {"txt": excerpt(seed), "max_length": n["max_length"], "stride": stride or n["stride"]}


def loader_inputs(seed: int, batch_size: int, stride: int) -> dict:
    n = sizes(seed, batch_size=batch_size, max_length=4, stride=stride)
    return {"txt": excerpt(seed), **n}


def book_text_inputs(seed: int) -> dict:
    """About 700 GPT-2 tokens of the corpus: with the book's max_length=256 and stride=128 that is
    4 windows, one full batch of 4, so neither shuffle nor drop_last leaves a row to chance."""
    ids = tiktoken.get_encoding("gpt2").encode("\n\n".join(paragraphs()))
    start = 0 if seed == 0 else random.Random(seed).randrange(max(1, len(ids) - 700))
    return {"txt": tiktoken.get_encoding("gpt2").decode(ids[start:start + 700])}


# Judges ---------------------------------------------------------------------------------------

def _targets_are_inputs_shifted_by_one(got, expected):
    pairs = got.get("pairs") if isinstance(got, dict) else None
    for k, pair in enumerate(pairs if isinstance(pairs, (list, tuple)) else []):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and all(isinstance(t, torch.Tensor) and t.dim() == 1 for t in pair)):
            break  # not (input, target) pairs of 1-D tensors: compare says what came back
        inputs, targets = pair
        if len(targets) != len(inputs):
            raise Failed("wrong_length", f"dataset[{k}]: the input window has {len(inputs)} ids but the "
                         f"target window {len(targets)}. Both hold max_length ids; a window whose "
                         f"target would run past the end of the text is not made at all.")
        if torch.equal(targets[:-1], inputs[1:]):
            continue
        stored = got.get("target_ids")
        stored = stored[k] if isinstance(stored, (list, tuple)) and k < len(stored) else None
        if torch.equal(targets, inputs) and isinstance(stored, torch.Tensor) and stored.shape == inputs.shape \
                and torch.equal(stored[:-1], inputs[1:]):
            raise Failed("wrong_values", f"dataset[{k}] = ({inputs.tolist()}, {targets.tolist()}): the target equals "
                         f"the input, although your target_ids[{k}] is {stored.tolist()}, the input shifted by one "
                         f"as it should be: __getitem__ returns the input window twice. Return "
                         f"(self.input_ids[idx], self.target_ids[idx]).")
        if torch.equal(targets, inputs):
            why = "the target equals the input"
        elif torch.equal(inputs[:-1], targets[1:]):
            why = "the input is the target shifted by one: input and target are swapped"
        else:
            why = "the target is not the input moved one id to the right"
        raise Failed("wrong_values", f"dataset[{k}] = ({inputs.tolist()}, {targets.tolist()}): {why}. "
                     f"The target window is the input window shifted by one, so target[j] is the "
                     f"id that follows input[j]: (input, target) = (ids[i:i+max_length], ids[i+1:i+max_length+1]).")
    compare(got, expected, dims=WINDOW)


def _rows(found) -> list | None:
    """Each (input row, target row) of a list of (inputs, targets) batches, or None if it is not one."""
    rows = []
    for batch in found if isinstance(found, list) else []:
        if not (isinstance(batch, (list, tuple)) and len(batch) == 2
                and all(isinstance(t, torch.Tensor) and t.dim() == 2 for t in batch)):
            return None
        rows += [(tuple(i), tuple(t)) for i, t in zip(batch[0].tolist(), batch[1].tolist())]
    return rows if isinstance(found, list) else None


def _batches_in_order(got, expected):
    """Judge: the right windows in another order is a loader that shuffles although shuffle=False."""
    if isinstance(got, dict) and isinstance(expected, dict):
        mine, theirs = _rows(got.get("batches")), _rows(expected["batches"])
        if mine is not None and theirs is not None and mine != theirs and sorted(mine) == sorted(theirs) \
                and [tuple(b[0].shape) for b in got["batches"]] == [tuple(b[0].shape) for b in expected["batches"]]:
            raise Failed("wrong_values", "your batches hold the right windows, but shuffled: with shuffle=False they "
                                         "must come in the order of the text. Pass the function's shuffle argument "
                                         "to DataLoader (shuffle=shuffle), not a fixed True.")
    compare(got, expected, dims=BATCH)


def batches(loader) -> dict:
    """The loader's batches as (inputs, targets), after their count (so a missing batch is named)."""
    found = [tuple(batch) for batch in loader]
    return {"number of batches": len(found), "batches": found}


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=pairs_inputs)
def each_context_predicts_the_id_after_it(m, token_ids, context_size):
    """next_token_pairs(token_ids, context_size=4) with 6 token ids"""
    return m.next_token_pairs(token_ids, context_size)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=dataset_inputs, dims=WINDOW)
def windows_start_every_stride_ids(m, txt, max_length, stride):
    """GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length=4, stride=3): len, input_ids and target_ids"""
    dataset = m.GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    return {"len(dataset)": len(dataset), "input_ids": dataset.input_ids, "target_ids": dataset.target_ids}


@check(task=2, inputs=lambda seed: dataset_inputs(seed, stride=1), judge=_targets_are_inputs_shifted_by_one)
def targets_are_inputs_shifted_by_one(m, txt, max_length, stride):
    """[dataset[i] for i in range(len(dataset))] for GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length=4, stride=1), and its target_ids"""
    dataset = m.GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    # The count comes first, so that a list of another length is reported as such; target_ids
    # last, so that a __getitem__ that hands back the inputs twice is told from unshifted targets.
    return {"len(dataset)": len(dataset), "pairs": [tuple(dataset[i]) for i in range(len(dataset))],
            "target_ids": dataset.target_ids}


@check(task=2, inputs=lambda seed: {**dataset_inputs(seed), "txt": excerpt(seed) + " <|endoftext|> " + excerpt(seed + 1)},
       dims=WINDOW)
def documents_joined_by_endoftext(m, txt, max_length, stride):
    """GPTDatasetV1 on two excerpts joined by " <|endoftext|> " (max_length=4, stride=3): the marker is one id, 50256"""
    dataset = m.GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    return {"len(dataset)": len(dataset), "input_ids": dataset.input_ids, "target_ids": dataset.target_ids}


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=lambda seed: loader_inputs(seed, batch_size=2, stride=4), dims=BATCH, judge=_batches_in_order)
def batches_in_order_with_the_last_short_batch(m, txt, batch_size, max_length, stride):
    """list(create_dataloader_v1(txt, batch_size=2, max_length=4, stride=4, shuffle=False, drop_last=False))"""
    loader = m.create_dataloader_v1(txt, batch_size=batch_size, max_length=max_length, stride=stride,
                                    shuffle=False, drop_last=False)
    return batches(loader)


@check(task=3, inputs=lambda seed: loader_inputs(seed, batch_size=3, stride=2), dims=BATCH, judge=_batches_in_order)
def drop_last_drops_the_short_batch(m, txt, batch_size, max_length, stride):
    """list(create_dataloader_v1(txt, batch_size=3, max_length=4, stride=2, shuffle=False)), drop_last left at True"""
    loader = m.create_dataloader_v1(txt, batch_size=batch_size, max_length=max_length, stride=stride,
                                    shuffle=False)
    return batches(loader)


@check(task=3, inputs=book_text_inputs)
def book_defaults_make_one_batch_of_four_windows(m, txt):
    """create_dataloader_v1(txt) on about 700 tokens, every argument left at its default (the book's: batches of 4, windows of 256 ids every 128, shuffled, the last short batch dropped, no workers): the defaults, whether the loader draws its batches in random order, the batches' shapes and the first and last id of each input row, sorted"""
    loader = m.create_dataloader_v1(txt)
    found = [tuple(batch) for batch in loader]
    defaults = {name: parameter.default for name, parameter in inspect.signature(m.create_dataloader_v1).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    rows = sorted((row[0], row[-1]) for inputs, _ in found for row in inputs.tolist())  # shuffle=True: the RNG orders them
    orders = set()
    for seed in range(6):  # random order is what it does, not what its sampler is called (hostile round 13)
        torch.manual_seed(seed)
        orders.add(tuple(int(row[0]) for inputs, _ in loader for row in inputs))
    return {"defaults": defaults,
            "batches drawn in random order": len(orders) > 1,
            "number of batches": len(found),
            "shapes of the input batches": [tuple(inputs.shape) for inputs, _ in found],
            "first and last id of each input row, sorted": torch.tensor(rows)}
