"""Checks for fine-tuning for classification (book chapter 6).

SpamDataset reads CSV text of a few labelled messages (given as an io.StringIO: a probe never
reads a file) with GPT-2's tokenizer.
prepare_for_classification turns a tiny GPTModel (chapter 4's, as your gpt_model module builds it)
into a classifier and, for the book's figure, GPT-2 124M built on the `meta` device, which has
shapes but allocates no memory. The loss, the accuracy and classify_review are measured on a tiny
classifier defined here (`TinyClassifier`), so that they judge this topic's code only, in
milliseconds; its weights come with the inputs.
"""

import csv
import io
import random

import pandas  # noqa: F401  (SpamDataset reads its CSV with pandas, as the book does: loaded with the checks, not per submission)
import tiktoken
import torch
from torch import nn

from grader.engine.checks import WRONG_VALUES, Failed, a_python_float, check, compare, generator, load_weights, seeded_construction, sizes
from grader.engine.gpt_cases import GREEDY_MARGIN, model_shapes, random_weights, tiny_config
from grader.engine.text_cases import WordTokenizer

PAD = 50256  # GPT-2's <|endoftext|>, the book's padding id
GPT2_124M = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
             "drop_rate": 0.0, "qkv_bias": True}
LOGITS = ("batch", "num_tokens", "num_classes")


class TinyClassifier(nn.Module):
    """A classifier small enough to run in a check: each position's logits come from the mean of
    the embeddings up to it (causal, like a GPT, so the first and the last token's logits differ),
    dropout, then a head with one logit per class. It has the book's tok_emb, pos_emb and out_head
    (classify_review reads the context length off pos_emb), and keeps the last input it was given
    and whether it was in train mode then."""

    def __init__(self, vocab_size: int, context_length: int, emb_dim: int, num_classes: int, drop_rate: float = 0.0):
        super().__init__()
        self.drop_emb = nn.Dropout(drop_rate)
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.pos_emb = nn.Embedding(context_length, emb_dim)
        self.out_head = nn.Linear(emb_dim, num_classes, bias=False)
        self.seen = torch.zeros(0, dtype=torch.long)
        self.seen_in_train_mode = False

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        self.seen = in_idx.detach().clone()
        self.seen_in_train_mode = self.training
        num_tokens = in_idx.shape[1]
        x = self.tok_emb(in_idx) + self.pos_emb(torch.arange(num_tokens, device=in_idx.device))
        x = x.cumsum(dim=1) / torch.arange(1, num_tokens + 1, device=in_idx.device).unsqueeze(-1)
        return self.out_head(self.drop_emb(x))  # (b, num_tokens, emb_dim) -> (b, num_tokens, num_classes)


def build(weights: dict, drop_rate: float = 0.0) -> TinyClassifier:
    vocab_size, emb_dim = weights["tok_emb.weight"].shape
    num_classes = weights["out_head.weight"].shape[0]
    return load_weights(TinyClassifier(vocab_size, weights["pos_emb.weight"].shape[0], emb_dim, num_classes, drop_rate),
                        weights)




def trainable(model: nn.Module) -> list[str]:
    return [name for name, p in model.named_parameters() if p.requires_grad]


def gap(logits: torch.Tensor) -> float:
    """The narrowest argmax of (rows, num_classes) float64 logits: the smallest gap between the
    largest and the next logit (relative to max(1, |largest|)) or softmax probability."""
    gaps = []
    for scores in (logits, torch.softmax(logits, dim=-1)):
        top = scores.topk(2, dim=-1).values
        gaps.append(((top[:, 0] - top[:, 1]) / top[:, 0].abs().clamp(min=1)).min().item())
    return min(gaps)


# Inputs ---------------------------------------------------------------------------------------

# The checks' own labelled messages (1 for spam), of many lengths: a check reads no file, so that
# every bundle of the checks (release, notebooks, Gradescope) builds the same inputs.
MESSAGES = [
    (0, "Running late, start without me."),
    (1, "FREE entry! Text WIN to 80123 now for a chance to win a 900 pound cash prize today."),
    (0, "Ok"),
    (1, "Claim your reward: call 0800 123 4567."),
    (0, "Did you remember to buy eggs? We are out again and I want pancakes on Sunday."),
    (1, "You won!"),
    (0, "The printer on the second floor is jammed, use the one by the lift."),
    (1, "URGENT! Your 2 free tickets are waiting. Reply TICKETS, 1.50 per msg."),
    (0, "Happy birthday, have a lovely day!"),
    (1, "Lowest rates on loans, guaranteed. Text LOAN to 84500 & a friendly advisor will call you back."),
]


def csv_text(rows: list[tuple[int, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Label", "Text"])
    writer.writerows(rows)
    return out.getvalue()


def dataset_inputs(seed: int) -> dict:
    """Five to seven messages as CSV text with a header (Label,Text), the first of them not the longest."""
    rows = MESSAGES
    rng = random.Random(seed)
    picked = rows[:5] if seed == 0 else rng.sample(rows, 5 + seed % 3)
    encode = tiktoken.get_encoding("gpt2").encode
    lengths = [len(encode(text)) for _, text in picked]
    longest = lengths.index(max(lengths))
    if longest == 0:  # the longest further on, so that the first text's length is not the answer
        picked = picked[1:] + picked[:1]
        lengths = lengths[1:] + lengths[:1]
    # Between the shortest and the longest: some texts are cut, others padded.
    cut = sorted(set(lengths))[len(set(lengths)) // 2] - 1
    return {"csv": csv_text(picked), "max_length": cut}


def dataset_items(dataset) -> dict:
    items = [dataset[i] for i in range(len(dataset))]
    return {"max_length": dataset.max_length, "len(dataset)": len(dataset),
            "token ids": [ids for ids, _ in items], "labels": [label for _, label in items]}


def gpt_inputs(seed: int) -> dict:
    """A tiny GPTModel's config and weights, in_idx of shape (batch=2, num_tokens=5), num_classes 3
    (never the batch size) and the new head's weights."""
    cfg, n = tiny_config(seed)
    cfg = dict(cfg, n_layers=3)  # a first, a middle and a last block: only the last trains
    g = generator(seed)
    num_classes = 3 if n["batch"] != 3 else 2
    return {"cfg": cfg, "weights": random_weights(model_shapes(cfg), g), "num_classes": num_classes,
            "head": {"weight": torch.randn(num_classes, cfg["emb_dim"], generator=g) / cfg["emb_dim"] ** 0.5,
                     "bias": 0.1 * torch.randn(num_classes, generator=g)},
            "in_idx": torch.randint(0, cfg["vocab_size"], (n["batch"], n["num_tokens"]), generator=g)}


def classifier_weights(g: torch.Generator, vocab_size: int, context_length: int, emb_dim: int, num_classes: int) -> dict:
    return {"tok_emb.weight": torch.randn(vocab_size, emb_dim, generator=g),
            "pos_emb.weight": torch.randn(context_length, emb_dim, generator=g),
            "out_head.weight": torch.randn(num_classes, emb_dim, generator=g)}


def loss_inputs(seed: int) -> dict:
    """TinyClassifier's weights (vocab 11, emb_dim 4, 3 classes) and one batch: input_batch
    (batch=2, num_tokens=5), target_batch (batch,) class labels."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=4, vocab_size=11)
    g = generator(seed)
    weights = classifier_weights(g, n["vocab_size"], n["num_tokens"] + 2, n["emb_dim"], 3)
    return {"weights": weights,
            "input_batch": torch.randint(0, n["vocab_size"], (n["batch"], n["num_tokens"]), generator=g),
            "target_batch": torch.randint(0, 3, (n["batch"],), generator=g)}


def loader_inputs(seed: int) -> dict:
    """TinyClassifier's weights (3 classes) and a loader of three batches, the last one smaller
    (drop_last=False): (4, 5), (4, 5), (2, 5) ids with (4,), (4,), (2,) labels."""
    n = sizes(seed, batch=4, num_tokens=5, emb_dim=6, vocab_size=11)
    g = generator(seed)
    for _ in range(100):  # drawn again until every prediction wins by a margin and the first token's would differ
        weights = classifier_weights(g, n["vocab_size"], n["num_tokens"] + 2, n["emb_dim"], 3)
        ids = torch.randint(0, n["vocab_size"], (2 * n["batch"] + 2, n["num_tokens"]), generator=g)
        labels = torch.randint(0, 3, (len(ids),), generator=g)
        with torch.no_grad():  # trusted: the reference's predictions, in float64
            logits = build(weights).double()(ids)
        last, first = logits[:, -1].argmax(-1), logits[:, 0].argmax(-1)
        correct = last.eq(labels)
        if (gap(logits[:, -1]) >= GREEDY_MARGIN and 0 < int(correct.sum()) < len(ids)
                and int(first.eq(labels).sum()) != int(correct.sum())
                and int(correct[:2 * n["batch"]].sum()) * len(ids) != int(correct.sum()) * 2 * n["batch"]):
            break
    else:
        raise RuntimeError(f"no loader with a margin for seed {seed}")
    cuts = [0, n["batch"], 2 * n["batch"], len(ids)]
    return {"weights": weights, "loader": [(ids[a:b], labels[a:b]) for a, b in zip(cuts, cuts[1:])]}


def review_inputs(seed: int) -> dict:
    """TinyClassifier (2 classes, context_length 8) with a vocabulary of words, the padding id the
    vocabulary's last, max_length 6, and three texts: shorter than max_length, longer, and as long."""
    n = sizes(seed, emb_dim=4, vocab_size=13)
    g = generator(seed)
    words = [f"w{i}" for i in range(n["vocab_size"])]
    pad = n["vocab_size"] - 1
    context_length, max_length = 8, 6
    for _ in range(100):  # drawn again until every label wins by a margin, and not every label is the same
        weights = classifier_weights(g, n["vocab_size"], context_length, n["emb_dim"], 2)
        texts = [torch.randint(0, pad, (k,), generator=g) for k in (3, 7, 6)]
        padded = torch.stack([torch.cat([t[:max_length], torch.full((max_length - len(t[:max_length]),), pad)])
                              for t in texts])
        with torch.no_grad():  # trusted: the labels of the texts as the reference pads them
            logits = build(weights).double()(padded)[:, -1]
        labels = logits.argmax(-1)
        if gap(logits) >= GREEDY_MARGIN and 0 < int(labels.sum()) < len(texts):
            break
    else:
        raise RuntimeError(f"no classifier with a margin for seed {seed}")
    return {"weights": weights, "words": words, "texts": [" ".join(words[i] for i in t.tolist()) for t in texts],
            "max_length": max_length, "pad_token_id": pad}


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=dataset_inputs)
def padded_to_the_longest_text(m, csv, max_length):
    """SpamDataset(io.StringIO(csv of 5 messages), tiktoken's gpt2, max_length=None): its max_length, its length, and every (token ids, label) item"""
    return dataset_items(m.SpamDataset(io.StringIO(csv), tiktoken.get_encoding("gpt2")))


@check(task=1, inputs=dataset_inputs)
def truncated_to_max_length(m, csv, max_length):
    """SpamDataset(io.StringIO(csv of 5 messages), tiktoken's gpt2, max_length shorter than the longest text): every (token ids, label) item"""
    return dataset_items(m.SpamDataset(io.StringIO(csv), tiktoken.get_encoding("gpt2"), max_length=max_length))


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"cfg": GPT2_124M, "num_classes": 2})
def book_trainable_parameters_for_gpt2_124m(m, cfg, num_classes):
    """The book's classifier: GPT-2 124M (qkv_bias=True) built on the meta device, prepare_for_classification(model, num_classes=2); its trainable and its total parameters, and the head's shape"""
    with torch.device("meta"):
        model = m.GPTModel(cfg)
        m.prepare_for_classification(model, num_classes)
    return {"trainable parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "all parameters": sum(p.numel() for p in model.parameters()),
            "out_head (out_features, in_features)": (model.out_head.out_features, model.out_head.in_features)}


def _only_the_last_block_trains(got, expected):
    names = got.get("trainable parameters") if isinstance(got, dict) else None
    if isinstance(names, list):
        want = expected["trainable parameters"]
        missing, extra = [n for n in want if n not in names], [n for n in names if n not in want]
        if missing or extra:
            raise Failed(WRONG_VALUES, f"after prepare_for_classification, {len(names)} parameters train; the book's "
                         f"{len(want)} are the last transformer block's, the final norm's and the new head's. "
                         + (f"Frozen but should train: {missing[:4]}. " if missing else "")
                         + (f"Training but should be frozen: {extra[:4]}. " if extra else "")
                         + "Freeze every parameter first, then create the new out_head (a new layer trains), then "
                           "set requires_grad = True on model.trf_blocks[-1] and model.final_norm's parameters.")
    compare(got, expected, dims={"logits": LOGITS})


@check(task=2, inputs=gpt_inputs, judge=_only_the_last_block_trains)
def only_the_last_block_final_norm_and_head_train(m, cfg, weights, num_classes, head, in_idx):
    """A tiny GPTModel (emb_dim=6, n_layers=3) with given weights, prepare_for_classification(model, num_classes=3), the new head given weights: the names of the parameters that train, and the logits on in_idx of shape (batch=2, num_tokens=5)"""
    model = load_weights(m.GPTModel(cfg), weights).eval()
    model = m.prepare_for_classification(model, num_classes) or model
    names = trainable(model)
    load_weights(model.out_head, head)
    with torch.no_grad():
        return {"trainable parameters": names, "logits": model(in_idx)}


@check(task=2, inputs=gpt_inputs, judge=seeded_construction)
def classifier_head_created_as_the_book_does(m, cfg, weights, num_classes, head, in_idx):
    """torch.manual_seed(123); prepare_for_classification(a tiny GPTModel (emb_dim=6), num_classes=3): the new out_head's named parameters"""
    model = load_weights(m.GPTModel(cfg), weights)
    torch.manual_seed(123)
    m.prepare_for_classification(model, num_classes)
    return dict(model.out_head.named_parameters())


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=loss_inputs)
def loss_of_the_last_token(m, weights, input_batch, target_batch):
    """calc_loss_batch(input_batch (batch=2, num_tokens=5), target_batch (batch,), a tiny classifier with 3 classes, "cpu"): the cross-entropy of the last token's logits"""
    return m.calc_loss_batch(input_batch, target_batch, build(weights), "cpu")


# Task 4 ---------------------------------------------------------------------------------------

@check(task=4, inputs=loader_inputs, judge=a_python_float("calc_loss_loader"))
def loss_loader_mean_over_batches(m, weights, loader):
    """calc_loss_loader over a loader of 3 batches (4, 4 and 2 texts of num_tokens=5) with a tiny classifier: over every batch, and with num_batches=2; and the type it returns"""
    model = build(weights)
    every = m.calc_loss_loader(loader, model, "cpu")
    return {"every batch": every, "num_batches=2": m.calc_loss_loader(loader, model, "cpu", num_batches=2),
            "type": type(every).__name__}


# Task 5 ---------------------------------------------------------------------------------------

def _a_share_of_examples(got, expected):
    if isinstance(got, dict):
        for key, value in got.items():
            if isinstance(value, (int, float)) and not 0 <= value <= 1:
                raise Failed(WRONG_VALUES, f"accuracy ({key}) is {value}: a share of the examples is between 0 and 1. "
                             f"Divide the number of correct predictions by the number of examples seen (add "
                             f"predicted_labels.shape[0] per batch), not by the number of batches.")
    compare(got, expected)


@check(task=5, inputs=loader_inputs, judge=_a_share_of_examples)
def accuracy_counts_examples(m, weights, loader):
    """calc_accuracy_loader over a loader of 3 batches (4, 4 and 2 texts of num_tokens=5, the model in train mode with dropout 0.5, 3 classes): over every batch, and with num_batches=2"""
    model = build(weights, drop_rate=0.5).train()
    every = m.calc_accuracy_loader(loader, model, "cpu")
    model.train()
    return {"every batch": every, "num_batches=2": m.calc_accuracy_loader(loader, model, "cpu", num_batches=2)}


# Task 6 ---------------------------------------------------------------------------------------

DROPOUT_ON = "dropout on when the model ran"


def _labels_are_words(got, expected):
    labels = got.get("labels") if isinstance(got, dict) else None
    if isinstance(got, dict) and any(on is True for on in got.get(DROPOUT_ON, ())):
        raise Failed(WRONG_VALUES, "classify_review runs the model in train mode (the check hands it over in train mode, "
                     "with dropout 0.5), so dropout is still on and zeroes activations at random: call model.eval() "
                     "before the forward pass.")
    if isinstance(labels, list) and labels and any(label not in ("spam", "not spam") for label in labels):
        raise Failed(WRONG_VALUES, f"classify_review returned {labels[:3]}: return the words, \"spam\" for "
                     f"class 1 and \"not spam\" for class 0: the argmax of the last token's logits, as an int (.item()).")
    compare(got, expected)


@check(task=6, inputs=review_inputs, judge=_labels_are_words)
def classify_review_pads_and_switches_dropout_off(m, weights, words, texts, max_length, pad_token_id):
    """classify_review(text, a tiny classifier in train mode with dropout 0.5 and context_length 8, a word tokenizer, "cpu", max_length=6, pad_token_id=12) for texts of 3, 7 and 6 words: the labels, the ids the model saw and whether dropout was on"""
    model, tokenizer = build(weights, drop_rate=0.5).train(), WordTokenizer(words)
    labels, seen, dropout_on = [], [], []
    for text in texts:
        model.train()  # each call gets the model as a training loop would leave it
        labels.append(m.classify_review(text, model, tokenizer, "cpu", max_length=max_length, pad_token_id=pad_token_id))
        seen.append(model.seen)
        dropout_on.append(model.seen_in_train_mode)
    return {"labels": labels, "ids the model saw": seen, DROPOUT_ON: dropout_on}
