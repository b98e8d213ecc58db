"""Checks for saving and loading a model and its optimizer (book section 5.4).

Every check trains a tiny language model defined here (`TinyLM`, with dropout) for a few AdamW
steps, so that the optimizer has state worth keeping, and writes its checkpoint into a temporary
directory that it removes. Each step starts from torch.manual_seed(step), so an uninterrupted run
and a run resumed from the checkpoint draw the same dropout masks and must give the same losses,
to the last bit.
"""

import tempfile
from pathlib import Path

import torch
from torch import nn

from grader.engine.checks import WRONG_TYPE, WRONG_VALUES, Failed, check, compare, generator, load_weights, sizes

LOGITS = ("batch", "num_tokens", "vocab_size")
BOOK_KEYS = ["model_state_dict", "optimizer_state_dict"]
LOADS = "torch.load(path, weights_only=True)"
TRAINING = "model.training after loading"
MOVED = "model.to() called with"


class TinyLM(nn.Module):
    """Token embeddings, dropout and a linear output head: a model small enough to train in a check."""

    def __init__(self, vocab_size: int, emb_dim: int, drop_rate: float):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.drop_emb = nn.Dropout(drop_rate)
        self.out_head = nn.Linear(emb_dim, vocab_size)

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        return self.out_head(self.drop_emb(self.tok_emb(in_idx)))  # (b, n) -> (b, n, vocab_size)


def build(weights: dict, drop_rate: float = 0.5) -> TinyLM:
    vocab_size, emb_dim = weights["tok_emb.weight"].shape
    return load_weights(TinyLM(vocab_size, emb_dim, drop_rate), weights)


def adamw(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: tuple, step: int) -> float:
    """One step of the book's loop on (input ids, target ids); dropout masks seeded by `step`."""
    torch.manual_seed(step)
    inputs, targets = batch
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs).flatten(0, 1), targets.flatten())
    loss.backward()
    optimizer.step()
    return loss.item()


def trained(weights: dict, batches: list, steps: int) -> tuple[TinyLM, torch.optim.Optimizer]:
    """TinyLM with `weights`, in train mode, after `steps` AdamW steps on the first batches."""
    model = build(weights)
    optimizer = adamw(model)
    for step in range(steps):
        train_step(model, optimizer, batches[step], step)
    return model, optimizer


def inputs(seed: int) -> dict:
    """TinyLM's weights before training, another set for a fresh model, and four batches of
    (input ids, target ids), every dimension a different size."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=11)
    g = generator(seed)

    def weights() -> dict:
        return {"tok_emb.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g),
                "out_head.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g) / n["emb_dim"] ** 0.5,
                "out_head.bias": 0.1 * torch.randn(n["vocab_size"], generator=g)}

    ids = torch.randint(0, n["vocab_size"], (4, n["batch"], n["num_tokens"] + 1), generator=g)
    return {"weights": weights(), "fresh": weights(), "batches": [(x[:, :-1], x[:, 1:]) for x in ids]}


def saved(m, model, optimizer, folder: str) -> Path:
    """The learner's save_checkpoint into `folder`: the path it was given."""
    path = Path(folder) / "model_and_optimizer.pth"
    m.save_checkpoint(model, optimizer, path)
    return path


# Task 1 ---------------------------------------------------------------------------------------

def objects_saved(path: Path) -> list[str]:
    """"'key' is a T object" for each value of the checkpoint that is no state dict (a whole model or
    optimizer), read without weights_only: the file is the learner's own, read where their code runs."""
    try:
        read = torch.load(path, weights_only=False)
    except Exception:  # noqa: BLE001 -- not a checkpoint at all: nothing more to say
        return []
    items = [(f"'{key}'", value) for key, value in read.items()] if isinstance(read, dict) else [("the file", read)]
    named = [(key, type(value).__name__) for key, value in items if not isinstance(value, dict)]
    return [f"{key} is {'an' if kind[:1] in 'AEIOU' else 'a'} {kind} object" for key, kind in named]


def what_was_saved(path: Path) -> dict:
    """What a checkpoint file holds, as a check reads it: the keys, the model's tensors, and
    AdamW's state per parameter (its step count and two moving averages) and learning rate."""
    if not path.exists():
        return {"file written": False}
    try:
        read = torch.load(path, weights_only=True)
    except Exception as err:  # the file holds more than tensors and plain values, or is no checkpoint
        return {LOADS: f"fails with {type(err).__name__}", "objects": objects_saved(path)}
    if not isinstance(read, dict):
        return {LOADS: f"gives a {type(read).__name__}, not a dict"}
    found: dict = {"keys": sorted(str(k) for k in read)}
    weights = read.get("model_state_dict")
    if isinstance(weights, dict):
        found["model_state_dict"] = {str(k): v for k, v in weights.items()}
    state = read.get("optimizer_state_dict")
    if isinstance(state, dict) and isinstance(state.get("state"), dict):
        moments = state["state"]
        found["optimizer_state_dict"] = {
            "lr": [group.get("lr") for group in state.get("param_groups", [])],
            **{f"{name} of parameter {i}": moments[i].get(name) for i in sorted(moments) for name in
               ("step", "exp_avg", "exp_avg_sq") if isinstance(moments[i], dict)}}
    return found


def _the_books_checkpoint(got, expected):
    if isinstance(got, dict):
        if got.get("file written") is False:
            raise Failed(WRONG_VALUES, "save_checkpoint wrote no file at `path`: call torch.save(the dict, path).")
        if LOADS in got:
            objects = got.get("objects")
            which = (f" ({', '.join(map(str, objects))}, not a state dict)"
                     if isinstance(objects, list) and objects else "")
            raise Failed(WRONG_TYPE, f"{LOADS} {got[LOADS]} on your checkpoint{which}: save the state dicts "
                                     f"(model.state_dict(), optimizer.state_dict()), which hold only tensors and "
                                     f"plain values, not the model or the optimizer objects, and save them in one dict.")
        keys = got.get("keys")
        if isinstance(keys, list) and keys != BOOK_KEYS and set(BOOK_KEYS) <= set(keys):
            got = dict(got, keys=BOOK_KEYS)  # more beside the book's two (an epoch, a config) is common and harmless
        elif isinstance(keys, list) and keys != BOOK_KEYS:
            what = ("the model's state_dict alone, without the optimizer's" if any("." in k for k in keys)
                    else f"a dict with the keys {keys}")
            raise Failed(WRONG_VALUES, f"your checkpoint is {what}; the book saves one dict with the keys "
                                       f"'model_state_dict' and 'optimizer_state_dict', and load_checkpoint "
                                       f"reads them by those names.")
        state = got.get("optimizer_state_dict")
        if isinstance(state, dict) and list(state) == ["lr"] and len(expected["optimizer_state_dict"]) > 1:
            raise Failed(WRONG_VALUES, "your checkpoint's optimizer state has its param_groups (the learning rate) "
                                       "but no per-parameter state: AdamW's step, exp_avg and exp_avg_sq are "
                                       "missing, so a resumed run restarts its moving averages from zero. Save "
                                       "optimizer.state_dict() itself, whose 'state' holds them.")
    compare(got, expected)


@check(task=1, inputs=inputs, judge=_the_books_checkpoint)
def checkpoint_holds_both_state_dicts(m, weights, fresh, batches):
    """TinyLM (vocab_size=11, emb_dim=3) after 2 AdamW steps; save_checkpoint(model, optimizer, path), then what torch.load(path, weights_only=True) gives: its keys, the model's tensors and AdamW's state"""
    model, optimizer = trained(weights, batches, steps=2)
    with tempfile.TemporaryDirectory() as folder:
        return what_was_saved(saved(m, model, optimizer, folder))


# Task 2 ---------------------------------------------------------------------------------------

def _resumes_the_run(got, expected):
    if isinstance(got, dict) and isinstance(got.get("resumed"), list) and isinstance(got.get("uninterrupted"), list):
        resumed, uninterrupted = got["resumed"], got["uninterrupted"]
        if got.get(TRAINING) is False:
            raise Failed(WRONG_VALUES, "after load_checkpoint the model is in eval mode, so the resumed steps train "
                                       "without dropout: call model.train() after loading, as the book does.")
        if all(isinstance(x, float) for x in resumed) and resumed != uninterrupted:
            shown = f"resumed from your checkpoint, the next losses are {resumed}; the uninterrupted run's are {uninterrupted}"
            if resumed[0] == uninterrupted[0]:
                raise Failed(WRONG_VALUES, f"{shown}. The first is the same, so the weights are loaded; the step after "
                                           f"it differs: load the optimizer's state into the optimizer you are given, "
                                           f"optimizer.load_state_dict(checkpoint['optimizer_state_dict']): AdamW's "
                                           f"moving averages and step count decide each step.")
            raise Failed(WRONG_VALUES, f"{shown}. Already the first differs, so the model does not have the saved "
                                       f"weights: load checkpoint['model_state_dict'] into it.")
    compare(got, expected)


@check(task=2, inputs=inputs, judge=_resumes_the_run)
def resumed_run_gives_the_uninterrupted_losses(m, weights, fresh, batches):
    """TinyLM with dropout 0.5 trained 2 AdamW steps and saved with save_checkpoint; load_checkpoint(a fresh model in eval mode, a fresh AdamW over it, path), then 2 more steps: their losses against those of the run that went on without stopping"""
    model, optimizer = trained(weights, batches, steps=2)
    with tempfile.TemporaryDirectory() as folder:
        path = saved(m, model, optimizer, folder)
        uninterrupted = [train_step(model, optimizer, batches[step], step) for step in (2, 3)]
        resumed_model = build(fresh).eval()
        resumed_optimizer = adamw(resumed_model)
        m.load_checkpoint(resumed_model, resumed_optimizer, path)
        mode = resumed_model.training
        resumed = [train_step(resumed_model, resumed_optimizer, batches[step], step) for step in (2, 3)]
    return {"resumed": resumed, "uninterrupted": uninterrupted, TRAINING: mode}


# Task 3 ---------------------------------------------------------------------------------------

class MoveRecordingLM(TinyLM):
    """TinyLM that notes the device of every call to .to(): on the CPU a model not moved works the
    same, so the call itself is what shows whether load_for_inference moves the model to `device`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.moved_to: list[str] = []

    def to(self, *args, **kwargs):
        for where in (*args, kwargs.get("device")):
            if isinstance(where, (str, torch.device)):
                self.moved_to.append(str(torch.device(where)))
        return super().to(*args, **kwargs)


def _predicts_in_eval_mode(got, expected):
    if isinstance(got, dict) and got.get(TRAINING) is True:
        raise Failed(WRONG_VALUES, "load_for_inference leaves the model in train mode, so dropout still zeroes "
                                   "activations at random and the same input gives other logits each time: call "
                                   "model.eval() before returning it.")
    if isinstance(got, dict) and isinstance(got.get(MOVED), list) and "cpu" not in got[MOVED] \
            and isinstance(got.get("logits"), torch.Tensor):
        raise Failed(WRONG_VALUES, "load_for_inference(model, path, \"cpu\") never calls model.to(device): on the CPU "
                                   "that does no harm, but on a GPU the model would stay on the CPU (load_state_dict "
                                   "copies the weights into the parameters where they are): call model.to(device).")
    compare(got, expected, dims={"logits": LOGITS})


@check(task=3, inputs=inputs, judge=_predicts_in_eval_mode)
def loaded_model_gives_the_saved_models_logits(m, weights, fresh, batches):
    """TinyLM with dropout 0.5 trained 2 AdamW steps and saved with save_checkpoint; load_for_inference(a fresh model in train mode, path, "cpu"): its logits for a batch of shape (batch=2, num_tokens=5), its mode, and the devices model.to() was called with"""
    model, optimizer = trained(weights, batches, steps=2)
    with tempfile.TemporaryDirectory() as folder:
        path = saved(m, model, optimizer, folder)
        vocab_size, emb_dim = fresh["tok_emb.weight"].shape
        given = load_weights(MoveRecordingLM(vocab_size, emb_dim, drop_rate=0.5), fresh).train()
        loaded = m.load_for_inference(given, path, "cpu")
    with torch.no_grad():
        return {"logits": loaded(batches[3][0]), TRAINING: loaded.training, MOVED: sorted(set(given.moved_to))}
