"""Checks for topic 12, loss, perplexity and a training loop (book sections 5.1-5.2).

The losses are measured on a tiny language model defined here (`TinyLM`), not on the learner's
GPTModel, so that these checks judge this topic's code only and run in milliseconds. Its
weights come with the inputs, so no value depends on initialisation or on torch's random
streams. Texts for GPT-2's tokenizer are excerpts of the suite's corpus (data/corpus.txt), read
when the inputs are made and stored with them: a probe never reads a file.
"""

import contextlib
import io
import math
import random

import tiktoken
import torch
from torch import nn

from grader.engine.checks import (WRONG_TYPE, WRONG_VALUES, a_python_float, Failed, check, compare, generator, load_weights, on_another_device,
                                  sizes, text_back_through_ids)
from grader.course.curriculum import ROOT
from grader.engine.gpt_cases import GREEDY_MARGIN, greedy_gap
from grader.engine.text_cases import WordTokenizer

END_OF_TEXT = "<|endoftext|>"
IDS = ("batch", "num_tokens")
RETURNED = "returned instead of a tuple"


class TinyLM(nn.Module):
    """A language model small enough to train in a check: each position's logits come from the
    mean of the embeddings up to it (causal, like a GPT), dropout, then a linear output head.
    It has the book's tok_emb, pos_emb and out_head, so generate_and_print_sample can read its
    context length off pos_emb."""

    def __init__(self, vocab_size: int, context_length: int, emb_dim: int, drop_rate: float = 0.0):
        super().__init__()
        self.drop_emb = nn.Dropout(drop_rate)  # no parameters: the seeded tables below are as before
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.pos_emb = nn.Embedding(context_length, emb_dim)
        self.out_head = nn.Linear(emb_dim, vocab_size, bias=False)

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        num_tokens = in_idx.shape[1]
        x = self.tok_emb(in_idx) + self.pos_emb(torch.arange(num_tokens, device=in_idx.device))
        counts = torch.arange(1, num_tokens + 1, device=in_idx.device).unsqueeze(-1)
        x = x.cumsum(dim=1) / counts  # each position sees the tokens up to it, not after
        return self.out_head(self.drop_emb(x))  # (b, num_tokens, emb_dim) -> (b, num_tokens, vocab_size)




def build(weights: dict, drop_rate: float = 0.0) -> TinyLM:
    vocab_size, emb_dim = weights["tok_emb.weight"].shape
    context_length = weights["pos_emb.weight"].shape[0]
    return load_weights(TinyLM(vocab_size, context_length, emb_dim, drop_rate), weights)


def named(names: tuple[str, ...], result) -> dict:
    """A returned tuple as a dict, so that a message names the item that differs."""
    if isinstance(result, (tuple, list)) and len(result) == len(names):
        return dict(zip(names, result))
    return {RETURNED: repr(result)[:200]}


def silently(function, *args, **kwargs):
    """(what function returned, what it printed)"""
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        result = function(*args, **kwargs)
    return result, printed.getvalue()


# Inputs ---------------------------------------------------------------------------------------

def paragraphs() -> list[str]:
    """The corpus's paragraphs; read only while making inputs, never in a probe."""
    return (ROOT / "data" / "corpus.txt").read_text(encoding="utf-8").strip().split("\n\n")


def text_inputs(seed: int) -> dict:
    """Two short paragraphs joined by <|endoftext|>, a space on each side."""
    short = [p for p in paragraphs() if len(p) < 120]
    first = 2 if seed == 0 else random.Random(seed).randrange(len(short) - 1)
    return {"text": f" {END_OF_TEXT} ".join(short[first:first + 2])}


def ids_inputs(seed: int) -> dict:
    ids = tiktoken.get_encoding("gpt2").encode(text_inputs(seed)["text"], allowed_special={END_OF_TEXT})
    return {"token_ids": torch.tensor([ids])}


def model_weights(n: dict, g: torch.Generator) -> dict:
    return {"tok_emb.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g),
            "pos_emb.weight": torch.randn(n["num_tokens"] + 2, n["emb_dim"], generator=g),
            "out_head.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g)}


def loss_inputs(seed: int) -> dict:
    """TinyLM's weights and one batch, every dimension a different size."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    ids = torch.randint(0, n["vocab_size"], (n["batch"], n["num_tokens"] + 1), generator=g)
    return {"weights": model_weights(n, g), "input_batch": ids[:, :-1], "target_batch": ids[:, 1:]}


def batches(g: torch.Generator, count: int, n: dict) -> list[tuple]:
    """`count` (input, target) batches cut from one stream of ids, the targets shifted by one."""
    ids = torch.randint(0, n["vocab_size"], (count * n["batch"] * n["num_tokens"] + 1,), generator=g)
    inputs = ids[:-1].view(count, n["batch"], n["num_tokens"])
    targets = ids[1:].view(count, n["batch"], n["num_tokens"])
    return [(x, y) for x, y in zip(inputs, targets)]


def loader_inputs(seed: int) -> dict:
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    return {"weights": model_weights(n, g), "loader": batches(g, 3, n)}


def evaluate_inputs(seed: int) -> dict:
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    return {"weights": model_weights(n, g), "train_loader": batches(g, 3, n), "val_loader": batches(g, 3, n)}


def sample_inputs(seed: int) -> dict:
    """TinyLM, a vocabulary of words (one of them a newline, which greedy decoding writes first)
    and a start context of three of them."""
    n = sizes(seed, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    for _ in range(100):  # drawn again from the seed's generator until each greedy id wins by a margin (issue 10)
        weights = model_weights(n, g)
        start = torch.randperm(n["vocab_size"], generator=g)[:3]
        with torch.no_grad():  # trusted: generate_and_print_sample's 50 greedy ids, context_size pos_emb's rows
            model = build(weights).double()
            if greedy_gap(model, start.unsqueeze(0), 50, n["num_tokens"] + 2) >= GREEDY_MARGIN:
                break
    else:
        raise RuntimeError(f"no greedy sample with a margin for seed {seed}")
    words = [f"w{i}" for i in range(n["vocab_size"])]
    with torch.no_grad():  # trusted: where the newline goes, so that the sample has one
        first = int(build(weights)(start.unsqueeze(0))[0, -1].argmax())
    words[first] = "\n"
    return {"weights": weights, "words": words, "start_context": " ".join(words[i] for i in start.tolist())}


def train_inputs(seed: int) -> dict:
    """TinyLM, three training batches of a repeated pattern of four ids, and two validation
    batches of the same ids in another order."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)
    weights = model_weights(n, g)
    pattern = torch.randperm(n["vocab_size"], generator=g)[:4]  # a text worth learning
    per_batch = n["batch"] * n["num_tokens"]

    def windows(ids: torch.Tensor, count: int) -> list[tuple]:
        stream = ids.repeat(count * per_batch // len(ids) + 1)
        return [(stream[i:i + per_batch].view(n["batch"], n["num_tokens"]),
                 stream[i + 1:i + per_batch + 1].view(n["batch"], n["num_tokens"]))
                for i in range(0, count * per_batch, per_batch)]

    words = [f"w{i}" for i in range(n["vocab_size"])]
    return {"weights": weights, "train_loader": windows(pattern, 3), "val_loader": windows(pattern[[0, 2, 1, 3]], 2),
            "words": words, "start_context": " ".join(words[i] for i in pattern[:2].tolist())}


# Judges ---------------------------------------------------------------------------------------

def _gives_the_text_back(got, expected):
    # (ids, text back): the reference round trips these texts exactly, so expected[1] is the text.
    try:
        compare(text_back_through_ids(got, "text_to_token_ids"), expected[1],
                name="token_ids_to_text(text_to_token_ids(text))")
    except Failed as failed:
        raise Failed(failed.reason, failed.message + "\nDecoding the ids of a text must give that text "
                     "back: squeeze the batch dimension, turn the ids into a list, decode.") from None


def _uniform_loss_is_log_vocab_size(got, expected):
    if isinstance(got, torch.Tensor) and got.numel() == 1 and got.is_floating_point():
        vocab_size, loss = round(math.exp(expected.item())), expected.item()  # expected is log(vocab_size)
        if abs(got.item() - loss) > 1e-4:
            raise Failed(WRONG_VALUES, f"a model that gives all {vocab_size} tokens the same logit has a loss of "
                         f"log({vocab_size}) = {loss:.4f} at every position, so the mean is {loss:.4f}; yours "
                         f"is {got.item():.4f}. Give cross_entropy the raw logits and keep its mean reduction.")
    compare(got, expected, name="loss")


def _nan_for_an_empty_loader(got, expected):
    if got != expected:
        raise Failed(WRONG_VALUES, f"calc_loss_loader([]) returned {got}: an empty loader has no batch "
                     f"to average, so return float('nan') (check len(data_loader) == 0 first).")


def _returns_the_tuple(got, expected):
    if isinstance(got, dict) and RETURNED in got:
        names = ", ".join(k for k in expected if k != "model.training afterwards")
        raise Failed(WRONG_TYPE, f"expected a tuple ({names}), got {got[RETURNED]}")


def _back_in_train_mode(got, expected, advice: str = ""):
    _returns_the_tuple(got, expected)
    if isinstance(got, dict) and got.get("model.training afterwards") is False:
        raise Failed(WRONG_VALUES, "the model is left in eval mode: put it back with model.train() "
                     "before returning, or the training steps that follow run without dropout.")
    try:
        compare(got, expected)
    except Failed as failed:
        raise Failed(failed.reason, failed.message + advice) from None


def _swapped(got: dict, expected: dict, first: str, second: str) -> bool:
    """The learner's `first` is the reference's `second` and the other way round, where those differ."""
    try:
        compare(got[first], expected[second])
        compare(got[second], expected[first])
    except (Failed, KeyError):
        return False
    return _differ(expected[first], expected[second])


def _differ(a, b) -> bool:
    try:
        compare(a, b)
    except Failed:
        return True
    return False


def _evaluated_without_dropout(got, expected):
    if isinstance(got, dict) and _swapped(got, expected, "train_loss", "val_loss"):
        raise Failed(WRONG_VALUES, f"your train_loss is the reference's val_loss ({expected['val_loss']:.6g}) and your "
                     f"val_loss its train_loss ({expected['train_loss']:.6g}): evaluate_model returns "
                     f"(train_loss, val_loss), the training loss first.")
    for mine, other, loader in (("val_loss", "train_loss", "val_loader"), ("train_loss", "val_loss", "train_loader")):
        if isinstance(got, dict) and _differ(expected[mine], expected[other]) and all(
                not _differ(got.get(name), expected[other]) for name in (mine, other)):
            raise Failed(WRONG_VALUES, f"your {mine} equals your {other}, the reference's {other} "
                         f"({expected[other]:.6g}): both come from the same loader. Measure {mine} on {loader}: "
                         f"calc_loss_loader({loader}, model, device, num_batches=eval_iter).")
    _back_in_train_mode(got, expected, "\nThis model has dropout 0.5: if calc_loss_loader passes its checks, "
                        "evaluate_model probably measured with dropout on (call model.eval() first), or over "
                        "other batches than the first eval_iter (pass num_batches=eval_iter).")


def _printed_on_one_line(got, expected):
    printed = got.get("printed") if isinstance(got, dict) else None
    if isinstance(printed, str) and "\n" in printed.rstrip("\n"):
        raise Failed(WRONG_VALUES, f"the sample is printed on {printed.rstrip(chr(10)).count(chr(10)) + 1} "
                     f"lines: {printed!r:.300}\nThe model can write newlines; replace them with spaces "
                     f"(text.replace(\"\\n\", \" \")) so that each sample is one line of the log.")
    _back_in_train_mode(got, expected)


def _training_lowers_the_loss(got, expected):
    _returns_the_tuple(got, expected)
    losses = got.get("train_losses") if isinstance(got, dict) else None
    if (isinstance(losses, list) and len(losses) >= 2 and all(isinstance(x, float) for x in losses)
            and not losses[-1] < losses[0]):
        if len(set(losses)) == 1:
            raise Failed(WRONG_VALUES, f"the training loss never changes: {[round(x, 4) for x in losses]} (the "
                         f"reference's: {[round(x, 4) for x in expected['train_losses']]}): the weights were never "
                         f"updated. optimizer.step() applies the gradients that loss.backward() fills: each step calls "
                         f"zero_grad(), computes the loss, then loss.backward(), then optimizer.step().")
        raise Failed(WRONG_VALUES, f"the training loss did not go down: {[round(x, 4) for x in losses]} "
                     f"(the reference's: {[round(x, 4) for x in expected['train_losses']]}). Each step must clear "
                     f"the gradients, compute the loss, call loss.backward() and optimizer.step().")
    compare(got, expected)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=text_inputs, dims=IDS)
def endoftext_becomes_the_single_id_50256(m, text):
    """text_to_token_ids(text, tiktoken.get_encoding("gpt2")) for two paragraphs joined by " <|endoftext|> ": shape (1, num_tokens)"""
    return m.text_to_token_ids(text, tiktoken.get_encoding("gpt2"))


@check(task=1, inputs=ids_inputs)
def token_ids_to_text_decodes_a_batch_of_one(m, token_ids):
    """token_ids_to_text(token_ids, tiktoken.get_encoding("gpt2")) with token_ids of shape (1, num_tokens)"""
    return m.token_ids_to_text(token_ids, tiktoken.get_encoding("gpt2"))


@check(task=1, inputs=text_inputs, judge=_gives_the_text_back)
def text_comes_back_from_its_token_ids(m, text):
    """token_ids_to_text(text_to_token_ids(text, tokenizer), tokenizer) with GPT-2's tokenizer"""
    tokenizer = tiktoken.get_encoding("gpt2")
    ids = m.text_to_token_ids(text, tokenizer)
    return ids, m.token_ids_to_text(ids, tokenizer)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=loss_inputs)
def batch_loss_is_the_mean_cross_entropy(m, weights, input_batch, target_batch):
    """calc_loss_batch(input_batch, target_batch, model, "cpu") for batches of shape (batch=2, num_tokens=5) and a model with vocab_size 11"""
    return m.calc_loss_batch(input_batch, target_batch, build(weights), "cpu")


@check(task=2, inputs=loss_inputs, judge=_uniform_loss_is_log_vocab_size)
def uniform_logits_give_loss_log_vocab_size(m, weights, input_batch, target_batch):
    """calc_loss_batch(...) for a model whose logits are all 0: the loss must be log(vocab_size)"""
    weights = dict(weights, **{"out_head.weight": torch.zeros_like(weights["out_head.weight"])})
    return m.calc_loss_batch(input_batch, target_batch, build(weights), "cpu")


GPT2_VOCAB_SIZE = 50257
END_OF_TEXT_ID = 50256


class WithGPT2Ids(nn.Module):
    """TinyLM over a few of GPT-2's 50257 ids, <|endoftext|> (50256) among them: `ids[i]` is
    TinyLM's token i, and every id outside `ids` gets the logit -5. Its logits are
    (b, num_tokens, 50257), as GPT-2's are, without a 50257-row table in the fixture."""

    def __init__(self, tiny: TinyLM, ids: torch.Tensor):
        super().__init__()
        self.tiny, self.ids = tiny, ids

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        small = torch.searchsorted(self.ids, in_idx)  # GPT-2 id -> TinyLM's id (ids are sorted)
        logits = self.tiny(small)
        wide = torch.full((*in_idx.shape, GPT2_VOCAB_SIZE), -5.0)
        wide[..., self.ids] = logits
        return wide


def end_of_text_inputs(seed: int) -> dict:
    """loss_inputs over GPT-2 ids: TinyLM's last token is 50256, which about one target in four is."""
    case = loss_inputs(seed)
    vocab_size = case["weights"]["tok_emb.weight"].shape[0]
    g = generator(seed)
    ids = torch.cat([torch.randperm(END_OF_TEXT_ID, generator=g)[:vocab_size - 1].sort().values,
                     torch.tensor([END_OF_TEXT_ID])])
    targets = case["target_batch"].clone()
    targets[:, 1::4] = vocab_size - 1  # <|endoftext|> in every row, as between the documents of a corpus
    return case | {"ids": ids, "input_batch": ids[case["input_batch"]], "target_batch": ids[targets]}


# rtol 1e-4: 50257 logits, most of them equal, sum in float32 to other last digits by another path:
# cross_entropy(logits.transpose(1, 2), targets), the same loss, lands 3.6e-5 away (held-out trial 10, v19).
@check(task=2, inputs=end_of_text_inputs, rtol=1e-4, atol=1e-5)
def every_target_counts_end_of_text_too(m, weights, ids, input_batch, target_batch):
    """calc_loss_batch(input_batch, target_batch, model, "cpu") with GPT-2's vocabulary (50257 logits) and targets of which some are 50256, <|endoftext|>"""
    return m.calc_loss_batch(input_batch, target_batch, WithGPT2Ids(build(weights), ids), "cpu")


class LossOnAnotherDevice(nn.Module):
    """calc_loss_batch(input_batch, target_batch, model, "meta") with the batches left on the CPU:
    on_another_device moves the model there; the batches are no parameters, so they stay."""

    def __init__(self, calc_loss_batch, model: nn.Module, input_batch: torch.Tensor, target_batch: torch.Tensor):
        super().__init__()
        self.model, self.calc_loss_batch, self.batches = model, calc_loss_batch, (input_batch, target_batch)

    def forward(self):
        try:
            return self.calc_loss_batch(*self.batches, self.model, torch.device("meta"))
        except RuntimeError as err:  # torch refuses tensors of two devices: on_another_device has seen them
            if "device" not in str(err):
                raise
            return None


def _batches_moved_to_the_device(got, expected):
    mixed = got.get("mixed") if isinstance(got, dict) else None
    if isinstance(mixed, list) and mixed:
        raise Failed(WRONG_VALUES, f"with the model and `device` on another device than the CPU (here PyTorch's meta device, a "
                     f"stand-in for a GPU), your "
                     f"calc_loss_batch mixes devices in {', '.join(map(str, mixed[:3]))}: a batch stayed on the "
                     f"CPU. Move both batches: input_batch.to(device) and target_batch.to(device).")
    compare(got, expected)


@check(task=2, inputs=loss_inputs, judge=_batches_moved_to_the_device)
def both_batches_go_to_the_device(m, weights, input_batch, target_batch):
    """calc_loss_batch(input_batch, target_batch, model, device) with the model and device on PyTorch's meta device (a stand-in for a GPU) and both batches on the CPU: the operations that mixed devices, and how many times it called the model"""
    model, calls = build(weights), []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    moved = on_another_device(LossOnAnotherDevice(m.calc_loss_batch, model, input_batch, target_batch))
    return moved | {"model calls": len(calls)}


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=loader_inputs, judge=a_python_float("calc_loss_loader"))
def loader_loss_is_the_mean_batch_loss(m, weights, loader):
    """calc_loss_loader(loader, model, "cpu") with a list of 3 (input_batch, target_batch) pairs of shape (2, 5): the loss, and its type"""
    with torch.no_grad():
        loss = m.calc_loss_loader(loader, build(weights), "cpu")
    return {"loss": loss, "type": type(loss).__name__}


@check(task=3, inputs=loader_inputs)
def num_batches_caps_and_averages_the_batches_used(m, weights, loader):
    """calc_loss_loader(loader, model, "cpu", num_batches=k) for k = 1, 2 and 5 with a list of 3 batches"""
    model = build(weights)
    with torch.no_grad():
        return {f"num_batches={k}": m.calc_loss_loader(loader, model, "cpu", num_batches=k) for k in (1, 2, 5)}


@check(task=3, inputs=loader_inputs, judge=_nan_for_an_empty_loader)
def empty_loader_gives_nan(m, weights, loader):
    """calc_loss_loader([], model, "cpu"): repr of what it returns"""
    # As text: nan is not equal to itself, and this check is about getting nan.
    return repr(m.calc_loss_loader([], build(weights), "cpu"))[:80]


# Task 4 ---------------------------------------------------------------------------------------

@check(task=4, inputs=lambda seed: {"loss": 1.0 + 3.0 * torch.rand((), generator=generator(seed)),
                                    "vocab_size": sizes(seed, vocab_size=11)["vocab_size"]})
def perplexity_is_exp_of_the_loss(m, loss, vocab_size):
    """perplexity(loss) for a 0-dim tensor loss and for the float math.log(vocab_size=11)"""
    return {"perplexity(loss)": m.perplexity(loss),
            f"perplexity(math.log({vocab_size}))": m.perplexity(math.log(vocab_size))}


def _every_step_in_train_mode(got, expected):
    modes = got.get("model.training at each optimizer.step()") if isinstance(got, dict) else None
    if isinstance(modes, list) and False in modes and all(expected["model.training at each optimizer.step()"]):
        raise Failed(WRONG_VALUES, f"the model was in eval mode at {modes.count(False)} of your {len(modes)} "
                     f"optimizer steps (the first is step {modes.index(False)}): it came in eval mode, and "
                     f"train_model_simple must put it in training mode, model.train(), at the start of each "
                     f"epoch, so that dropout is on while it learns (evaluate_model and "
                     f"generate_and_print_sample switch it to eval mode and back).")
    compare(got, expected)


# Task 5 ---------------------------------------------------------------------------------------

@check(task=5, inputs=evaluate_inputs, judge=_evaluated_without_dropout)
def evaluate_model_measures_in_eval_mode(m, weights, train_loader, val_loader):
    """evaluate_model(model, train_loader, val_loader, "cpu", eval_iter=2) for a model with dropout 0.5, in train mode"""
    model = build(weights, drop_rate=0.5).train()
    losses = named(("train_loss", "val_loss"), m.evaluate_model(model, train_loader, val_loader, "cpu", eval_iter=2))
    return {**losses, "model.training afterwards": model.training}


def _evaluated_without_gradients(got, expected):
    if isinstance(got, dict) and got.get("grad_enabled") is True:
        raise Failed(WRONG_VALUES, "evaluate_model calls the model with gradients on. Measuring a loss needs none: "
                     "wrap the two calc_loss_loader calls in `with torch.no_grad():`, as the book does, or every "
                     "batch keeps its computation graph in memory (on a GPU, the memory a larger model needs).")
    compare(got, expected)


@check(task=5, inputs=evaluate_inputs, judge=_evaluated_without_gradients)
def evaluate_model_runs_without_gradients(m, weights, train_loader, val_loader):
    """evaluate_model(model, train_loader, val_loader, "cpu", eval_iter=2), noting torch.is_grad_enabled() at every call of the model, and how many calls"""
    model = build(weights).train()
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.is_grad_enabled()))
    m.evaluate_model(model, train_loader, val_loader, "cpu", eval_iter=2)
    return {"grad_enabled": any(seen), "model calls": len(seen)}


@check(task=5, inputs=sample_inputs, judge=_printed_on_one_line)
def sample_is_printed_on_one_line(m, weights, words, start_context):
    """generate_and_print_sample(model, tokenizer, "cpu", start_context): what it prints (50 greedy tokens after the context, newlines as spaces)"""
    model = build(weights).train()
    _, printed = silently(m.generate_and_print_sample, model, WordTokenizer(words), "cpu", start_context)
    return {"printed": printed, "model.training afterwards": model.training}


@check(task=5, inputs=train_inputs, judge=_training_lowers_the_loss)
def training_lowers_the_loss_and_counts_tokens(m, weights, train_loader, val_loader, words, start_context):
    """train_model_simple(model, train_loader (3 batches of shape (2, 5)), val_loader (2 batches), AdamW(lr=0.05, weight_decay=0.1), "cpu", num_epochs=2, eval_freq=2, eval_iter=1, ...)"""
    model = build(weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    result, _ = silently(m.train_model_simple, model, train_loader, val_loader, optimizer, "cpu",
                         num_epochs=2, eval_freq=2, eval_iter=1, start_context=start_context,
                         tokenizer=WordTokenizer(words))  # eval_iter is not eval_freq: one is never read for the other
    return named(("train_losses", "val_losses", "track_tokens_seen"), result)


@check(task=5, inputs=train_inputs, judge=_every_step_in_train_mode)
def training_steps_run_in_train_mode(m, weights, train_loader, val_loader, words, start_context):
    """train_model_simple(model handed over in eval mode, train_loader (3 batches), val_loader (2 batches), AdamW(lr=0.05), "cpu", num_epochs=2, eval_freq=2, eval_iter=2, ...): model.training at each optimizer.step()"""
    model = build(weights).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    modes = []
    optimizer.register_step_pre_hook(lambda *_: modes.append(model.training))
    silently(m.train_model_simple, model, train_loader, val_loader, optimizer, "cpu", num_epochs=2, eval_freq=2,
             eval_iter=2, start_context=start_context, tokenizer=WordTokenizer(words))
    return {"model.training at each optimizer.step()": modes}
