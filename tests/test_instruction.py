"""Checks for instruction data: prompts, padded batches and masked targets (book sections 7.2-7.4).

Entries are the few below, in the format of the suite's data set (data/instructions.json), so that
a check needs no file. custom_collate_fn is checked on the book's batch and on seeded batches of
ids; calc_loss_batch on a tiny causal language model defined here (`TinyLM`), with batches padded
as custom_collate_fn pads them.
"""

import random

import tiktoken
import torch
from torch import nn

from grader.engine.checks import WRONG_TYPE, WRONG_VALUES, Failed, check, compare, generator, load_weights, sizes

IDS = ("batch", "num_tokens")
BATCH = {"inputs": IDS, "targets": IDS}
BOOK_BATCH = [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]
ITEMS = "dataset[i] for each i"


def entry(instruction: str, input_: str, output: str) -> dict:
    return {"instruction": instruction, "input": input_, "output": output}


ENTRIES = [
    entry("Rewrite the sentence with a stronger verb.", "The ship went across the bay.", "The ship sliced across the bay."),
    entry("Name the season that follows spring.", "", "Summer follows spring."),
    entry("Give the plural of the noun.", "bottle", "The plural of bottle is bottles."),
    entry("Write a one-line weather report for a stormy harbour.", "", "Gales and high waves: every boat stays moored today."),
    entry("Which number is larger?", "0.7 or 0.65", "0.7 is larger than 0.65."),
    entry("Say what the abbreviation stands for.", "e.g.", "e.g. stands for 'exempli gratia', meaning 'for example'."),
    entry("Suggest a title for a story about a lighthouse keeper.", "", "The Keeper of the Last Light"),
    entry("Put the words in alphabetical order.", "rope, anchor, sail, keel", "anchor, keel, rope, sail"),
    entry("How many legs does a crab have?", "", "A crab has ten legs, counting its two claws."),
]


# Task 1 ---------------------------------------------------------------------------------------

def one_entry(seed: int, with_input: bool, first: int) -> dict:
    chosen = [e for e in ENTRIES if bool(e["input"]) == with_input]
    return {"entry": chosen[first if seed == 0 else random.Random(seed).randrange(len(chosen))]}


def _the_books_prompt(got, expected):
    if isinstance(got, str) and isinstance(expected, str) and got != expected:
        if "### Input:" in got and "### Input:" not in expected:
            raise Failed(WRONG_VALUES, "this entry's input is empty (\"\"), yet your prompt has an '### Input:' "
                                       "section: add it only when entry['input'] is not empty.")
        if "### Response:" in got and "### Response:" not in expected:
            raise Failed(WRONG_VALUES, "your prompt ends with the '### Response:' header; format_input gives the "
                                       "preamble, the instruction and the input only (InstructionDataset adds the "
                                       "response).")
        if got.replace("\n\n", "\n") == expected.replace("\n\n", "\n"):
            raise Failed(WRONG_VALUES, f"your prompt has the right lines but not the blank lines between the "
                                       f"sections: each '###' header follows two newlines, \"\\n\\n\".\n"
                                       f"expected {expected!r}\ngot      {got!r}")
    compare(got, expected, name="format_input(entry)")


@check(task=1, inputs=lambda seed: one_entry(seed, with_input=True, first=0), judge=_the_books_prompt)
def prompt_with_an_input(m, entry):
    """format_input(entry) for an entry whose input is not empty"""
    return m.format_input(entry)


@check(task=1, inputs=lambda seed: one_entry(seed, with_input=False, first=0), judge=_the_books_prompt)
def prompt_without_an_input_has_no_input_section(m, entry):
    """format_input(entry) for an entry whose input is the empty string"""
    return m.format_input(entry)


# Task 2 ---------------------------------------------------------------------------------------

def dataset_inputs(seed: int) -> dict:
    """Three neighbouring entries of the data set, with and without an input."""
    data = ENTRIES
    first = 0 if seed == 0 else random.Random(seed).randrange(len(data) - 2)
    return {"data": data[first:first + 3]}


def _decodes_to_prompt_and_response(got, expected):
    items = got.get(ITEMS) if isinstance(got, dict) else None
    if isinstance(items, list) and any(isinstance(item, torch.Tensor) for item in items):
        raise Failed(WRONG_TYPE, "dataset[i] returned a tensor: return the plain list of ids that tokenizer.encode "
                                 "gave (custom_collate_fn copies and extends it).")
    if isinstance(items, list) and all(isinstance(i, list) and all(isinstance(t, int) for t in i) for i in items):
        tokenizer = tiktoken.get_encoding("gpt2")
        for i, (mine, theirs) in enumerate(zip(items, expected[ITEMS])):
            if mine != theirs:
                try:
                    text = tokenizer.decode(mine)
                except Exception:  # noqa: BLE001 -- ids no GPT-2 token has: compare says which
                    break
                raise Failed(WRONG_VALUES, f"dataset[{i}] decodes to a text other than format_input(entry) + "
                                           f"\"\\n\\n### Response:\\n\" + entry['output']:\n"
                                           f"expected {tokenizer.decode(theirs)!r}\ngot      {text!r}")
    compare(got, expected)


@check(task=2, inputs=dataset_inputs, judge=_decodes_to_prompt_and_response)
def dataset_holds_prompt_and_response_ids(m, data):
    """InstructionDataset(data, tiktoken.get_encoding("gpt2")) for 3 entries, with and without an input: len(dataset) and dataset[i] for each i"""
    dataset = m.InstructionDataset(data, tiktoken.get_encoding("gpt2"))
    return {"len(dataset)": len(dataset), ITEMS: [dataset[i] for i in range(len(data))]}


# Task 3 ---------------------------------------------------------------------------------------

def id_lists(seed: int, vocab_size: int) -> list[list[int]]:
    """The book's batch for seed 0; otherwise 3 to 7 lists of ids below vocab_size, the longest 5
    to 9 ids long (another size than the batch's) and one at least two shorter, in seeded order."""
    if seed == 0:
        return [list(item) for item in BOOK_BATCH]
    n = sizes(seed, batch=3, longest=5)
    rng = random.Random(seed)
    lengths = [n["longest"], rng.randint(1, n["longest"] - 2)] + [rng.randint(1, n["longest"]) for _ in range(n["batch"] - 2)]
    rng.shuffle(lengths)
    return [[rng.randrange(vocab_size) for _ in range(length)] for length in lengths]


def named_batch(result) -> dict:
    """custom_collate_fn's (inputs, targets) as a dict, so that a message names the one that differs."""
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"inputs": result[0], "targets": result[1]}
    return {"returned instead of (inputs_tensor, targets_tensor)": repr(result)[:200]}


def _padded_shifted_and_masked(pad_token_id: int, ignore_index: int, truncated: bool = False):
    """A judge for custom_collate_fn called with these two ids (and, when truncated, with an
    allowed_max_length shorter than the padded batch)."""
    def judge(got, expected):
        if isinstance(got, dict) and set(got) != set(BATCH):
            raise Failed(WRONG_TYPE, f"custom_collate_fn must return a tuple (inputs_tensor, targets_tensor); "
                                     f"it returned {next(iter(got.values()))}")
        inputs, targets, want = got.get("inputs"), got.get("targets"), expected.get("targets")
        if isinstance(inputs, torch.Tensor) and isinstance(targets, torch.Tensor) and inputs.dim() == 2:
            if targets.shape == inputs.shape and torch.equal(torch.where(targets == ignore_index, inputs, targets), inputs):
                raise Failed(WRONG_VALUES, "your targets are the inputs themselves, not shifted: the target at each "
                                           "position is the next id, so the targets are the padded ids without the "
                                           "first, the inputs the padded ids without the last.")
            if truncated and inputs.shape[0] == want.shape[0] and inputs.shape[1] == want.shape[1] - 1:
                # Here the padding cannot be the cause: without its +1 the batch is still longer than L.
                raise Failed(WRONG_VALUES, f"your batch has {inputs.shape[1]} positions, one fewer than "
                                           f"allowed_max_length={want.shape[1]}: cut after the shift, inputs and "
                                           f"targets each to their first allowed_max_length ids. Cutting the padded "
                                           f"list to allowed_max_length before splitting it leaves one id fewer "
                                           f"for each.")
            if inputs.shape[0] == want.shape[0] and inputs.shape[1] == want.shape[1] - 1:
                raise Failed(WRONG_VALUES, f"your batch has {inputs.shape[1]} positions, one fewer than the "
                                           f"{want.shape[1]} expected: every item gets one end-of-text id "
                                           f"({pad_token_id}) appended, so pad to the longest item's length plus "
                                           f"one, then drop the last id for the inputs and the first for the "
                                           f"targets.")
            if targets.shape == want.shape:
                kept = want == pad_token_id  # the one end-of-text target of each item
                if (targets[kept] == ignore_index).any():
                    raise Failed(WRONG_VALUES, f"your targets have {ignore_index} where an item's first padding id "
                                               f"belongs: keep the first {pad_token_id} of each item's targets (the "
                                               f"model learns to end its answer there) and replace only the later "
                                               f"ones with ignore_index={ignore_index}.\nexpected targets "
                                               f"{want.tolist()}\ngot              {targets.tolist()}")
                if (targets[want == ignore_index] == pad_token_id).any():
                    raise Failed(WRONG_VALUES, f"your targets keep {pad_token_id} where the padding after each "
                                               f"item's first one should be ignore_index={ignore_index}, so the loss "
                                               f"would train the model to predict padding.\nexpected targets "
                                               f"{want.tolist()}\ngot              {targets.tolist()}")
        compare(got, expected, dims=BATCH)
    return judge


@check(task=3, inputs=lambda seed: {"batch": id_lists(seed, 50256)}, judge=_padded_shifted_and_masked(50256, -100))
def books_batch_padded_shifted_and_masked(m, batch):
    """custom_collate_fn(batch) with its defaults: for seed 0 the book's batch [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]; returns (inputs, targets) of shape (batch=3, num_tokens=5)"""
    return named_batch(m.custom_collate_fn(batch))


SMALL_PAD, SMALL_IGNORE = 11, -1


@check(task=3, inputs=lambda seed: {"batch": id_lists(seed + 1, SMALL_PAD)},
       judge=_padded_shifted_and_masked(SMALL_PAD, SMALL_IGNORE))
def pad_token_id_and_ignore_index_are_the_arguments(m, batch):
    """custom_collate_fn(batch, pad_token_id=11, ignore_index=-1) for a batch of id lists of a 12-token vocabulary"""
    return named_batch(m.custom_collate_fn(batch, pad_token_id=SMALL_PAD, ignore_index=SMALL_IGNORE))


def truncation_inputs(seed: int) -> dict:
    batch = id_lists(seed + 2, 50256)
    return {"batch": batch, "allowed_max_length": max(map(len, batch)) - 2}


@check(task=3, inputs=truncation_inputs, judge=_padded_shifted_and_masked(50256, -100, truncated=True))
def truncated_to_allowed_max_length_after_shifting(m, batch, allowed_max_length):
    """custom_collate_fn(batch, allowed_max_length=L) with L two less than the longest item: (inputs, targets) of shape (batch, L)"""
    return named_batch(m.custom_collate_fn(batch, allowed_max_length=allowed_max_length))


def _on_the_device(got, expected):
    if isinstance(got, dict) and got.get("devices") != expected["devices"] and isinstance(got.get("devices"), list):
        raise Failed(WRONG_VALUES, f"with device=\"meta\" your tensors are on {got['devices']}: move both to "
                                   f"`device` with .to(device) before returning them.")
    compare(got, expected)


@check(task=3, inputs=lambda seed: {"batch": id_lists(seed + 3, 50256)}, judge=_on_the_device)
def batch_moved_to_the_device(m, batch):
    """custom_collate_fn(batch, device="meta") (a device with shapes but no memory): the devices, dtypes and shapes of inputs and targets"""
    got = named_batch(m.custom_collate_fn(batch, device="meta"))
    if set(got) != set(BATCH):
        return got
    tensors = [got["inputs"], got["targets"]]
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return {"returned": [type(t).__name__ for t in tensors]}
    return {"devices": [str(t.device) for t in tensors], "dtypes": [str(t.dtype) for t in tensors],
            "shapes": [list(t.shape) for t in tensors]}


def _batch_left_as_it_was(got, expected):
    if isinstance(got, dict) and isinstance(got.get("batch after the call"), list):
        after, before = got["batch after the call"], expected["batch after the call"]
        if after != before:
            raise Failed(WRONG_VALUES, f"custom_collate_fn changed the lists it was given (the dataset's own): "
                                       f"{before} became {after}. Pad a copy, new_item = item.copy(); `+=` on "
                                       f"the item itself extends the dataset's list, and every epoch adds more "
                                       f"padding to it.")
    compare(got, expected, dims=BATCH)


@check(task=3, inputs=lambda seed: {"batch": id_lists(seed + 4, 50256)}, judge=_batch_left_as_it_was)
def items_of_the_batch_left_unchanged(m, batch):
    """custom_collate_fn(batch) on lists the dataset owns: (inputs, targets), and the lists themselves after the call"""
    return named_batch(m.custom_collate_fn(batch)) | {"batch after the call": batch}


# Task 4 ---------------------------------------------------------------------------------------

class TinyLM(nn.Module):
    """A causal language model small enough for a check: each position's logits come from the mean
    of the token embeddings up to it, through a linear head. Logits at a position depend on no id
    after it, as in a GPT."""

    def __init__(self, vocab_size: int, emb_dim: int):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.out_head = nn.Linear(emb_dim, vocab_size)

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        counts = torch.arange(1, in_idx.shape[1] + 1, device=in_idx.device).unsqueeze(-1)
        x = self.tok_emb(in_idx).cumsum(dim=1) / counts  # (b, n, emb_dim): the mean up to each position
        return self.out_head(x)  # (b, n, emb_dim) -> (b, n, vocab_size)


def padded_batch(ids: torch.Tensor, lengths: list[int], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) as the book's collate makes them from the rows of `ids` cut to `lengths`:
    written position by position, as trusted code of its own."""
    positions = torch.arange(ids.shape[1] - 1)
    length = torch.tensor(lengths).unsqueeze(1)
    inputs = torch.where(positions < length, ids[:, :-1], pad)
    targets = torch.where(positions < length - 1, ids[:, 1:], pad)
    return inputs, targets.masked_fill(positions >= length, -100)


def loss_inputs(seed: int) -> dict:
    """TinyLM's weights and a padded batch of shape (batch=2, num_tokens=5) from a vocabulary of 11
    ids, 10 the padding id, one row two ids shorter than the other; and other ids for the padded
    positions."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    pad = n["vocab_size"] - 1
    ids = torch.randint(0, pad, (n["batch"], n["num_tokens"] + 1), generator=g)
    lengths = [n["num_tokens"] - 2] + torch.randint(2, n["num_tokens"] + 1, (n["batch"] - 1,), generator=g).tolist()
    inputs, targets = padded_batch(ids, lengths, pad)
    weights = {"tok_emb.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g),
               "out_head.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g) / n["emb_dim"] ** 0.5,
               "out_head.bias": 0.1 * torch.randn(n["vocab_size"], generator=g)}
    other = torch.randint(0, n["vocab_size"], inputs.shape, generator=g)
    return {"weights": weights, "input_batch": inputs, "target_batch": targets,
            "other_input_batch": torch.where(targets == -100, other, inputs)}


def build(weights: dict) -> TinyLM:
    vocab_size, emb_dim = weights["tok_emb.weight"].shape
    return load_weights(TinyLM(vocab_size, emb_dim), weights)


IGNORED_CHANGED = "loss with other ids where the targets are -100"


def _padding_does_not_count(got, expected):
    if isinstance(got, dict) and all(isinstance(got.get(k), torch.Tensor) and got[k].numel() == 1
                                     for k in ("loss", IGNORED_CHANGED)):
        first, second = got["loss"].item(), got[IGNORED_CHANGED].item()
        if abs(first - second) > 1e-5 * max(1.0, abs(first)):
            raise Failed(WRONG_VALUES, f"your loss is {first:.6g}, and {second:.6g} when only the input ids at the "
                                       f"positions whose target is -100 change: those positions must add nothing. "
                                       f"Give cross_entropy the targets as they are (-100 included): its default "
                                       f"ignore_index=-100 leaves them out of the sum and of the count.")
    compare(got, expected)


@check(task=4, inputs=loss_inputs, judge=_padding_does_not_count)
def loss_skips_the_minus_100_targets(m, weights, input_batch, target_batch, other_input_batch):
    """calc_loss_batch(input_batch, target_batch, model, "cpu") for a padded batch of shape (batch=2, num_tokens=5) whose targets hold -100, and again with other input ids at those positions: the two losses must be equal"""
    model = build(weights)
    return {"loss": m.calc_loss_batch(input_batch, target_batch, model, "cpu"),
            IGNORED_CHANGED: m.calc_loss_batch(other_input_batch, target_batch, model, "cpu")}


def book_loss_inputs(seed: int) -> dict:
    """The book's logits_2 and targets_3 for seed 0, as a batch of one; seeded ones of the same shape otherwise."""
    if seed == 0:
        return {"logits": torch.tensor([[[-1.0, 1.0], [-0.5, 1.5], [-0.5, 1.5]]]), "targets": torch.tensor([[0, 1, -100]])}
    g = generator(seed)
    return {"logits": torch.randn(1, 3, 2, generator=g), "targets": torch.tensor([[int(torch.randint(0, 2, (), generator=g)), 1, -100]])}


@check(task=4, inputs=book_loss_inputs)
def books_example_loss_of_the_first_two_positions(m, logits, targets):
    """calc_loss_batch(torch.tensor([[7, 8, 9]]), targets, model, "cpu") for a model that gives the logits of shape (1, 3, 2) whatever the ids; for seed 0 the book's logits_2 and targets [[0, 1, -100]] (loss 1.1269)"""
    return m.calc_loss_batch(torch.tensor([[7, 8, 9]]), targets, lambda input_batch: logits, "cpu")
