"""Checks for topic 13, decoding with temperature and top-k (book section 5.3).

`generate` runs on a bigram model defined here (`BigramLM`: the logits of the next token are a
row of a table, picked by the current token), so that the checks judge this topic's code only
and the inputs can say exactly which token comes next. Sampling is judged by its statistics:
thousands of draws must follow the reference's frequencies, and ids outside the top k must never
come up. The draws themselves depend on torch's random stream, which differs between torch
versions, so no check compares them one by one.
"""

import torch
from torch import nn

from grader.engine.gpt_cases import GREEDY_MARGIN
from grader.engine.checks import WRONG_SHAPE, WRONG_VALUES, Failed, Variant, check, compare, generator, load_weights, sizes, variant

PROBAS = ("batch", "vocab_size")
IDS = ("batch", "num_tokens")
TEMPERATURES = (0.5, 1.0, 5.0)
DRAWS = 4000  # per temperature: two correct samplers' frequencies of an id then differ by 2 to 7
SIGMAS = 6.0  # percentage points at most (6 sigma: by chance less than once in 10^8)


class BigramLM(nn.Module):
    """next_token_logits[i] holds the logits of the token after token i, whatever came before.
    Like a GPT it accepts at most context_length tokens."""

    def __init__(self, vocab_size: int, context_length: int):
        super().__init__()
        self.context_length = context_length
        self.next_token_logits = nn.Embedding(vocab_size, vocab_size)
        self.calls = 0  # forward calls so far: generate must stop calling once eos_id is written

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        assert in_idx.shape[1] <= self.context_length, (
            f"the model got {in_idx.shape[1]} tokens, but its context_length is {self.context_length}: "
            f"crop idx to its last context_size tokens")
        return self.next_token_logits(in_idx)  # (b, num_tokens) -> (b, num_tokens, vocab_size)


UNCHANGED = "the logits, unchanged after the calls"


def with_where_minus_inf(filtered: dict) -> dict:
    """Each filtered tensor, then where it is -inf: on its own, compare lets a finite value stand
    in for an expected -inf, so a mistake would be judged by where its -inf are."""
    shown = {}
    for name, logits in filtered.items():
        shown[name] = logits
        if isinstance(logits, torch.Tensor):
            shown[f"where {name} is -inf"] = torch.isneginf(logits)
    return shown


def build(table: torch.Tensor, context_length: int) -> BigramLM:
    return load_weights(BigramLM(table.shape[0], context_length), {"next_token_logits.weight": table})


# Inputs ---------------------------------------------------------------------------------------

def logits_inputs(seed: int) -> dict:
    n = sizes(seed, batch=2, vocab_size=9)
    return {"logits": 3 * torch.randn(n["batch"], n["vocab_size"], generator=generator(seed))}


def top_k_inputs(seed: int) -> dict:
    """Logits without ties, so that exactly k survive."""
    n = sizes(seed, batch=2, vocab_size=9, k=3)
    g = generator(seed)
    logits = torch.stack([torch.randperm(n["vocab_size"], generator=g) for _ in range(n["batch"])])
    return {"logits": logits.float() - 4 + 0.1 * torch.rand(n["batch"], n["vocab_size"], generator=g), "k": n["k"]}


def ties_inputs(seed: int) -> dict:
    """Whole-number logits from a small range: in each row the k-th largest ties with a logit after it."""
    n = sizes(seed, batch=2, vocab_size=9, k=3)
    g = generator(seed)
    rows = []
    while len(rows) < n["batch"]:
        row = torch.randint(-2, 3, (n["vocab_size"],), generator=g).float()
        kth = row.sort(descending=True).values[n["k"] - 1]
        if n["k"] < (row >= kth).sum() < n["vocab_size"]:  # a tie at the k-th, and something to drop
            rows.append(row)
    return {"logits": torch.stack(rows), "k": n["k"]}


def greedy_inputs(seed: int) -> dict:
    """A table whose every row's largest logit, and its 3rd largest (top_k=3), leads the next by a
    margin: drawn again from the seed's generator until it does (issue 10)."""
    n = sizes(seed, batch=2, num_tokens=3, context_length=5, vocab_size=11)
    g = generator(seed)
    for _ in range(100):
        table = torch.randn(n["vocab_size"], n["vocab_size"], generator=g)
        idx = torch.randint(0, n["vocab_size"], (n["batch"], n["num_tokens"]), generator=g)
        ranked = table.double().sort(dim=-1, descending=True).values
        if all(((ranked[:, k - 1] - ranked[:, k]) / ranked[:, k - 1].abs().clamp(min=1) >= GREEDY_MARGIN).all()
               for k in (1, 3)):
            return {"table": table, "idx": idx, "context_length": n["context_length"]}
    raise RuntimeError(f"no table with a margin for seed {seed}")


def eos_inputs(seed: int) -> dict:
    """A table whose greedy chain visits distinct ids; eos_id is the third id it would write, and
    it is id 0, which `if eos_id:` takes for no eos_id at all."""
    n = sizes(seed, num_tokens=3, context_length=5, vocab_size=11)
    g = generator(seed)
    table = torch.randn(n["vocab_size"], n["vocab_size"], generator=g)
    chain = torch.randperm(n["vocab_size"], generator=g)
    zero = int((chain == 0).nonzero()[0, 0])
    chain[[3, zero]] = chain[[zero, 3]]  # id 0 is the fourth on the chain
    table[chain[:-1], chain[1:]] += 10.0  # after chain[i] comes chain[i + 1]
    idx = torch.randint(0, n["vocab_size"], (1, n["num_tokens"]), generator=g)
    idx[0, -1] = chain[0]
    return {"table": table, "idx": idx, "context_length": n["context_length"], "eos_id": int(chain[3])}


def eos_batch_inputs(seed: int) -> dict:
    """Two prompts on the same chain, one step apart: row 1 writes eos_id second, row 0 third, so
    no step has every row writing it and generation runs to max_new_tokens."""
    case = eos_inputs(seed)
    ahead = case["idx"].clone()
    ahead[0, -1] = int(case["table"][case["idx"][0, -1]].argmax())  # the next id on the chain
    return case | {"idx": torch.cat((case["idx"], ahead))}


def sampling_inputs(seed: int) -> dict:
    """A table whose row for the prompt's last token has k logits spread over 1.2 (so at T=0.5
    each is drawn in at least 3% of the draws), the (k+1)-th just below them, the rest far below."""
    n = sizes(seed, num_tokens=3, context_length=5, vocab_size=11, k=3)
    g = generator(seed)
    table = torch.randn(n["vocab_size"], n["vocab_size"], generator=g)
    row = torch.cat([torch.linspace(2.0, 0.8, n["k"]), torch.tensor([0.5]),
                     -3.0 - torch.rand(n["vocab_size"] - n["k"] - 1, generator=g)])
    last = int(torch.randint(0, n["vocab_size"], (), generator=g))
    table[last] = row[torch.randperm(n["vocab_size"], generator=g)]
    idx = torch.randint(0, n["vocab_size"], (1, n["num_tokens"]), generator=g)
    idx[0, -1] = last
    return {"table": table, "idx": idx, "context_length": n["context_length"], "k": n["k"]}


# Judges ---------------------------------------------------------------------------------------

def _probabilities_sharpen_as_temperature_falls(got, expected):
    if isinstance(got, dict) and all(isinstance(got.get(k), torch.Tensor) and got[k].is_floating_point()
                                     for k in expected):
        for name, probas in got.items():
            sums = probas.double().sum(-1)
            if (sums - 1).abs().max() > 1e-5:
                worst = (sums - 1).abs().flatten().argmax()
                raise Failed(WRONG_VALUES, f"{name}: a row of probabilities sums to {sums.flatten()[worst].item():.4g}, "
                             f"not 1. Take softmax over the last dim (the vocabulary) of logits / temperature: "
                             f"divide the logits before softmax, not the probabilities after.")
        low, high = (got[f"temperature={t}"].amax(-1).flatten() for t in (TEMPERATURES[0], TEMPERATURES[-1]))
        if low.shape == high.shape and (low < high).any():
            row = int((low < high).nonzero()[0, 0])
            raise Failed(WRONG_VALUES, f"row {row}: the largest probability is {low[row].item():.3f} at temperature "
                         f"{TEMPERATURES[0]} but {high[row].item():.3f} at temperature {TEMPERATURES[-1]}: a low "
                         f"temperature must sharpen the distribution, a high one flatten it. Divide the logits "
                         f"by the temperature (not multiply).")
    compare(got, expected, dims=PROBAS)


def _keeps_the_top_k(got, expected):
    if isinstance(got, dict) and got.get(UNCHANGED) is False:
        raise Failed(WRONG_VALUES, "your top_k_filter changed the logits it was given: it writes -inf into the "
                     "caller's tensor (logits[...] = -inf, masked_fill_ or another in-place operation), so the "
                     "caller's logits are gone after the call. Build a new tensor: torch.where(logits < min_val, "
                     "-inf, logits), or filter a logits.clone().")
    for name, filtered in got.items() if isinstance(got, dict) else ():
        reference = expected.get(name)
        if not (isinstance(filtered, torch.Tensor) and filtered.is_floating_point()
                and isinstance(reference, torch.Tensor) and filtered.shape == reference.shape):
            continue
        kept, wanted = filtered.isfinite().sum(-1), reference.isfinite().sum(-1)
        if torch.isneginf(reference).any() and not torch.isneginf(filtered).any():
            raise Failed(WRONG_VALUES, f"{name} has no -inf: the logits outside the top k must become "
                         f"-inf, not 0 or anything finite, so that softmax gives them probability exactly 0.")
        if (kept != wanted).any():
            row = int((kept != wanted).nonzero()[0, 0])
            ties = " (the k-th largest ties with another logit here: keep both)" if (
                reference[row] == reference[row][reference[row].isfinite()].min()).sum() > 1 else ""
            raise Failed(WRONG_VALUES, f"{name} keeps {int(kept[row])} logits in row {row}, not {int(wanted[row])}"
                         f"{ties}: keep every logit >= the k-th largest (the last value of "
                         f"torch.topk(logits, k)), set the others to -inf.")
    compare(got, expected, dims=PROBAS)


def _draws_follow_the_reference(got, expected):
    """Two samplers agree when each id's count differs by less than SIGMAS standard deviations."""
    if not isinstance(got, dict) or set(got) != set(expected):
        return compare(got, expected)
    for name, reference in expected.items():
        mine = got[name]
        if not (isinstance(mine, torch.Tensor) and mine.shape == reference.shape):
            raise Failed(WRONG_SHAPE, f"{name}: the drawn ids could not be counted ({mine!r:.200})")
        if mine.dtype != reference.dtype:  # counts are whole numbers: never judged as floats
            return compare(got, expected)
        if int(mine.sum()) != DRAWS:
            raise Failed(WRONG_SHAPE, f"{name}: generate(..., max_new_tokens=1) on {DRAWS} prompts returned "
                         f"{int(mine.sum())} new ids, not one per prompt.")
        top = int(reference.argmax())
        if int(mine.max()) == DRAWS:
            raise Failed(WRONG_VALUES, f"{name}: all {DRAWS} draws gave id {int(mine.argmax())}"
                         + (", the most likely one" if int(mine.argmax()) == top else "")
                         + ". With temperature > 0, generate must sample: torch.multinomial(probas, "
                         "num_samples=1) on the softmax of the (top-k filtered) logits divided by the temperature.")
        outside = ((mine > 0) & (reference == 0)).nonzero().flatten().tolist()
        if outside:
            i = outside[0]
            raise Failed(WRONG_VALUES, f"{name}: id {i} was drawn {int(mine[i])} times out of {DRAWS}, but it is "
                         f"not among the top {int((reference > 0).sum())} logits. Filter the logits with "
                         f"top_k_filter before the softmax, so that the others get probability 0.")
        gap = (mine - reference).abs().double() / (mine + reference + 1).double().sqrt()
        if gap.max() > SIGMAS:
            i = int(gap.argmax())
            raise Failed(WRONG_VALUES, f"{name}: id {i} was drawn in {100 * int(mine[i]) / DRAWS:.1f}% of {DRAWS} "
                         f"draws, the reference's sampler drew it in {100 * int(reference[i]) / DRAWS:.1f}%: too "
                         f"far apart to be chance. The next id must be drawn with the probabilities "
                         f"softmax(top_k_filter(logits, k) / temperature).")


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

def at_each_temperature(temperature_variant: Variant) -> Variant:
    """A variant of softmax_with_temperature(logits, t), as the first check calls it: one output per temperature."""
    def compute(logits):
        return {f"temperature={t}": temperature_variant.compute(logits, t) for t in TEMPERATURES}
    return Variant(temperature_variant.name, temperature_variant.says, compute)


def on_one_row(temperature_variant: Variant) -> Variant:
    """The same variant as the second check calls it: the first row of logits, temperature 2.0."""
    return Variant(temperature_variant.name, temperature_variant.says,
                   lambda logits: temperature_variant.compute(logits[0], 2.0))


@variant("you multiply the logits by the temperature instead of dividing them by it")
def temperature_multiplied(logits, t):
    return torch.softmax(logits * t, dim=-1)


@variant("you divide the probabilities by the temperature after softmax instead of dividing the logits before it")
def temperature_after_softmax(logits, t):
    return torch.softmax(logits, dim=-1) / t


@variant("your softmax ignores the temperature: divide the logits by it before softmax")
def temperature_ignored(logits, t):
    return torch.softmax(logits, dim=-1)


@variant("you divide the logits by the temperature twice (logits / temperature ** 2)")
def temperature_applied_twice(logits, t):
    return torch.softmax(logits / t / t, dim=-1)


@variant("your softmax runs over dim 0 (the batch), not over the last dim (the vocabulary)")
def temperature_softmax_over_dim_0(logits, t):
    return torch.softmax(logits / t, dim=0)


@variant("you add the temperature to the logits instead of dividing them by it")
def temperature_added(logits, t):
    return torch.softmax(logits + t, dim=-1)


TEMPERATURE_VARIANTS = (temperature_multiplied, temperature_after_softmax, temperature_ignored,
                        temperature_applied_twice, temperature_softmax_over_dim_0, temperature_added)


def filtered(filter_one) -> callable:
    """A top-k variant as the checks call top_k_filter: with k and with k = 1, then where each is -inf."""
    def compute(logits, k, both=True):
        out = {f"top_k_filter(logits, {k})": filter_one(logits, k)}
        if both:
            out["top_k_filter(logits, 1)"] = filter_one(logits, 1)
            return with_where_minus_inf(out) | {UNCHANGED: True}
        return with_where_minus_inf(out)
    return compute


def keep(logits, k, threshold=lambda top, k: top[..., k - 1:k], fill=float("-inf"), strict=False):
    top = torch.topk(logits, k).values
    th = threshold(top, k)
    dropped = logits <= th if strict else logits < th
    return torch.where(dropped, torch.tensor(fill), logits)


def top_k_variant(says: str, filter_one) -> tuple[Variant, Variant]:
    name = filter_one.__name__
    return (Variant(name, says, filtered(filter_one)),
            Variant(name, says, lambda logits, k: filtered(filter_one)(logits, k, both=False)))


def keeps_k_plus_one(logits, k):
    return keep(logits, min(k + 1, logits.shape[-1]))


def drops_the_kth(logits, k):
    return keep(logits, k, strict=True)


def fills_with_zero(logits, k):
    return keep(logits, k, fill=0.0)


def threshold_is_the_largest(logits, k):
    return keep(logits, k, threshold=lambda top, k: top[..., :1])


def keeps_the_smallest(logits, k):
    kth_smallest = torch.topk(logits, k, largest=False).values[..., -1:]
    return torch.where(logits > kth_smallest, torch.tensor(float("-inf")), logits)


TOP_K = [top_k_variant("your top_k_filter keeps k + 1 logits: keep the k largest, those >= the k-th largest",
                       keeps_k_plus_one),
         top_k_variant("your top_k_filter also removes the k-th largest logit (<= the threshold instead of <), so "
                       "only k - 1 survive", drops_the_kth),
         top_k_variant("your top_k_filter sets the removed logits to 0 instead of -inf, so after softmax they still "
                       "get probability", fills_with_zero),
         top_k_variant("your top_k_filter's threshold is the largest logit (top_logits[..., 0]) where it is the k-th "
                       "largest, the last of torch.topk's values", threshold_is_the_largest),
         top_k_variant("your top_k_filter keeps the k smallest logits: torch.topk returns the largest by default",
                       keeps_the_smallest)]


def greedy(table, idx, max_new_tokens, context_size, eos_id=None, position=-1, prepend=False, eos_kept=False,
           stop_at_any=False):
    """generate's greedy decoding on the bigram table, in plain torch, with the slips learners make."""
    for _step in range(max_new_tokens):
        cond = idx[:, -context_size:]
        next_id = table[cond][:, position].argmax(dim=-1, keepdim=True)  # (b, n) -> (b, n, vocab) -> (b, 1)
        written = None if eos_id is None else (next_id == eos_id)
        stop = written is not None and bool(written.any() if stop_at_any else written.all())
        if stop and not eos_kept:
            break
        idx = torch.cat((next_id, idx) if prepend else (idx, next_id), dim=1)
        if stop:
            break
    return idx


def greedy_variant(name: str, says: str, **slip) -> tuple[Variant, Variant]:
    """One slip, as the greedy check calls generate (with and without top_k) and as the eos checks do."""
    def both(table, idx, context_length):
        ids = greedy(table, idx, 6, context_length, **slip)
        return {"temperature=0.0": ids, "temperature=0.0, top_k=3": ids}
    return (Variant(name, says, both),
            Variant(name, says, lambda table, idx, context_length, eos_id: greedy(table, idx, 6, context_length, eos_id,
                                                                                   **slip)))


GREEDY = [greedy_variant("logits_of_the_first_position",
                         "your generate predicts from the logits of the first position ([:, 0, :]) where the next "
                         "token comes from the last one ([:, -1, :])", position=0),
          greedy_variant("new_ids_in_front",
                         "your generate puts each new id in front of idx: torch.cat((idx, idx_next), dim=1) appends "
                         "it", prepend=True)]
EOS = [greedy_variant("eos_id_appended",
                      "your generate returns the end-of-text id it stops on: test the new id, idx_next, against "
                      "eos_id before appending it, and stop without appending it", eos_kept=True),
       greedy_variant("stops_when_any_row_writes_eos_id",
                      "your generate stops the whole batch as soon as one row writes eos_id; stop only when every row "
                      "writes it: (idx_next == eos_id).all()", stop_at_any=True)]

EOS_ID_ZERO_IGNORED = Variant("eos_id_zero_ignored",
                              "your generate did not stop at eos_id 0: `if eos_id and ...` is False when eos_id is "
                              "0, a valid id; test `eos_id is not None`",
                              lambda table, idx, context_length, eos_id: greedy(table, idx, 6, context_length))


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=logits_inputs, judge=_probabilities_sharpen_as_temperature_falls, dims=PROBAS,
       variants=tuple(at_each_temperature(v) for v in TEMPERATURE_VARIANTS))
def temperature_divides_the_logits_before_softmax(m, logits):
    """softmax_with_temperature(logits, temperature) for logits of shape (batch=2, vocab_size=9), temperatures 0.5, 1.0 and 5.0"""
    return {f"temperature={t}": m.softmax_with_temperature(logits, t) for t in TEMPERATURES}


@check(task=1, inputs=logits_inputs,  # one row has no other dim for softmax to run over
       variants=tuple(on_one_row(v) for v in TEMPERATURE_VARIANTS if v is not temperature_softmax_over_dim_0))
def temperature_works_on_one_row_of_logits(m, logits):
    """softmax_with_temperature(logits, 2.0) for logits of shape (vocab_size=9,), as in the book"""
    return m.softmax_with_temperature(logits[0], 2.0)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=top_k_inputs, judge=_keeps_the_top_k, dims=PROBAS, variants=tuple(v for v, _ in TOP_K))
def top_k_keeps_the_k_largest_logits(m, logits, k):
    """top_k_filter(logits, k) for k = 3 and k = 1, logits of shape (batch=2, vocab_size=9) without ties; then whether the logits are the same after the calls"""
    # Each call its own copy: a filter that writes into the logits it is given is told so by
    # UNCHANGED (the judge's first test), not as a wrong threshold by a second call's result.
    given = logits.clone()
    out = with_where_minus_inf({f"top_k_filter(logits, {k})": m.top_k_filter(logits, k),
                                "top_k_filter(logits, 1)": m.top_k_filter(given.clone(), 1)})
    return out | {UNCHANGED: bool(torch.equal(logits, given))}


@check(task=2, inputs=ties_inputs, judge=_keeps_the_top_k, dims=PROBAS,  # with a tie at the k-th, k + 1 is right
       variants=tuple(v for _, v in TOP_K[1:]))
def top_k_keeps_ties_with_the_kth_largest(m, logits, k):
    """top_k_filter(logits, k=3) for whole-number logits where the 3rd largest of each row ties with another"""
    return with_where_minus_inf({f"top_k_filter(logits, {k})": m.top_k_filter(logits, k)})


def _keeps_the_top_k_of_one_row(got, expected):
    """_keeps_the_top_k's messages for one row (as a batch of one), then the shapes as they are."""
    def as_batch(d):
        return {k: v.unsqueeze(0) if isinstance(v, torch.Tensor) and v.dim() == 1 else v for k, v in d.items()}
    if isinstance(got, dict):
        _keeps_the_top_k(as_batch(got), as_batch(expected))
    compare(got, expected, dims=("vocab_size",))


@check(task=2, inputs=top_k_inputs, judge=_keeps_the_top_k_of_one_row, dims=("vocab_size",),
       variants=tuple(Variant(v.name, v.says, lambda logits, k, v=v: {
           name: t[0] for name, t in v.compute(logits, k).items()}) for _, v in TOP_K))
def top_k_works_on_one_row_of_logits(m, logits, k):
    """top_k_filter(logits, k=3) for logits of shape (vocab_size=9,), one row without a batch dim, as in the book"""
    return with_where_minus_inf({f"top_k_filter(logits, {k})": m.top_k_filter(logits[0], k)})


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=greedy_inputs, dims=IDS, variants=tuple(v for v, _ in GREEDY))
def greedy_when_temperature_is_zero(m, table, idx, context_length):
    """generate(model, idx of shape (batch=2, num_tokens=3), max_new_tokens=6, context_size=5), temperature 0, with and without top_k=3"""
    model = build(table, context_length)
    return {"temperature=0.0": m.generate(model, idx, 6, context_length),
            "temperature=0.0, top_k=3": m.generate(model, idx, 6, context_length, temperature=0.0, top_k=3)}


@check(task=3, inputs=eos_inputs, dims=IDS, variants=(*(v for _, v in GREEDY + EOS[:1]), EOS_ID_ZERO_IGNORED))
def eos_stops_before_the_eos_token(m, table, idx, context_length, eos_id):
    """generate(model, idx, max_new_tokens=6, context_size=5, eos_id=0) where greedy decoding writes eos_id third"""
    return m.generate(build(table, context_length), idx, 6, context_length, eos_id=eos_id)


def _stops_calling_the_model(got, expected):
    calls = got.get("model calls") if isinstance(got, dict) else None
    if isinstance(calls, int) and calls > expected["model calls"] and not _differ(got["ids"], expected["ids"]):
        raise Failed(WRONG_VALUES, f"your ids are right, but generate called the model {calls} times where greedy "
                     f"decoding writes eos_id at step {expected['model calls']}: the loop must end there (break). "
                     f"With `continue` it only skips that step's append and goes on asking the model, and once "
                     f"it samples (temperature > 0) it writes more tokens after the end of the text.")
    compare(got, expected, dims=IDS)


def _differ(a, b) -> bool:
    try:
        compare(a, b, dims=IDS)
    except Failed:
        return True
    return False


@check(task=3, inputs=eos_inputs, judge=_stops_calling_the_model)
def eos_ends_the_loop(m, table, idx, context_length, eos_id):
    """generate(model, idx, max_new_tokens=6, context_size=5, eos_id=0) where greedy decoding writes eos_id third: the ids, and how many times it called the model"""
    model = build(table, context_length)
    ids = m.generate(model, idx, 6, context_length, eos_id=eos_id)
    return {"ids": ids, "model calls": model.calls}


@check(task=3, inputs=eos_batch_inputs, dims=IDS,  # no step has every row writing eos_id: nothing is appended
       variants=tuple(v for _, v in GREEDY + EOS[1:]))
def eos_stops_a_batch_only_when_every_row_writes_it(m, table, idx, context_length, eos_id):
    """generate(model, idx of shape (batch=2, num_tokens=3), max_new_tokens=6, context_size=5, eos_id=eos_id) where row 1 writes eos_id second and row 0 third"""
    return m.generate(build(table, context_length), idx, 6, context_length, eos_id=eos_id)


@check(task=3, inputs=sampling_inputs, judge=_draws_follow_the_reference)
def sampling_follows_softmax_of_the_top_k_logits(m, table, idx, context_length, k):
    """generate(model, idx repeated 4000 times, max_new_tokens=1, context_size=5, temperature=T, top_k=3): how often each id is drawn, for T = 0.5 and 2.0"""
    model = build(table, context_length)
    prompts = idx.expand(DRAWS, -1)
    counts = {}
    for t in (0.5, 2.0):
        new = m.generate(model, prompts, 1, context_length, temperature=t, top_k=k)[:, idx.shape[1]:]
        counts[f"temperature={t}"] = torch.bincount(new.flatten(), minlength=table.shape[0])
    return counts


def _samples_from_the_top_k(got, expected):
    outside = got.get("new ids outside the top k") if isinstance(got, dict) else None
    if isinstance(outside, int) and outside > 0 and got.get("shape") == expected["shape"]:
        raise Failed(WRONG_VALUES, f"for a batch of one prompt, {outside} of your new ids are not among the top k "
                     f"logits of the token before them: filter the logits with top_k_filter, then sample from "
                     f"softmax_with_temperature of them.")
    compare(got, expected, dims=IDS)


@check(task=3, inputs=sampling_inputs, judge=_samples_from_the_top_k)
def sampling_works_for_a_batch_of_one(m, table, idx, context_length, k):
    """generate(model, idx of shape (batch=1, num_tokens=3), max_new_tokens=4, context_size=5, temperature=1.0, top_k=3), as in the book: the shape, and how many new ids are not among the top k logits (the draws themselves depend on torch's random stream)"""
    out = m.generate(build(table, context_length), idx, 4, context_length, temperature=1.0, top_k=k)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
        return {"shape": tuple(out.shape) if isinstance(out, torch.Tensor) else repr(out)[:80]}
    ids = out[0].tolist()
    outside = sum(ids[i] not in torch.topk(table[ids[i - 1]], k).indices.tolist() for i in range(idx.shape[1], len(ids)))
    return {"shape": tuple(out.shape), "new ids outside the top k": outside}


def eos_sampling_inputs(seed: int) -> dict:
    """sampling_inputs, with eos_id the id greedy decoding would write there (the largest logit):
    at temperature 1 about half the draws give it, so no step has every prompt writing it."""
    case = sampling_inputs(seed)
    return case | {"eos_id": int(case["table"][int(case["idx"][0, -1])].argmax())}


def _stops_only_on_a_sampled_eos(got, expected):
    new = got.get("new ids per prompt") if isinstance(got, dict) else None
    if new == 0:
        raise Failed(WRONG_VALUES, f"your generate stopped before writing anything, although about half of the "
                     f"{DRAWS} prompts drew another id than eos_id: compare eos_id with the ids you sampled "
                     f"(idx_next), not with the most likely ones, and stop only when every prompt drew it.")
    compare(new, expected["new ids per prompt"])
    _draws_follow_the_reference({k: v for k, v in got.items() if k != "new ids per prompt"},
                                {k: v for k, v in expected.items() if k != "new ids per prompt"})


@check(task=3, inputs=eos_sampling_inputs, judge=_stops_only_on_a_sampled_eos)
def eos_stops_on_the_sampled_id(m, table, idx, context_length, k, eos_id):
    """generate(model, idx repeated 4000 times, max_new_tokens=1, context_size=5, temperature=1.0, top_k=3, eos_id=the most likely id): new ids per prompt, and how often each id is drawn"""
    prompts = idx.expand(DRAWS, -1)
    out = m.generate(build(table, context_length), prompts, 1, context_length, temperature=1.0, top_k=k, eos_id=eos_id)
    new = out[:, idx.shape[1]:]
    return {"new ids per prompt": int(new.shape[1]), "temperature=1.0": torch.bincount(new.flatten(), minlength=table.shape[0])}


# A prompt longer than the context: the BigramLM reads only the last token, so a crop one token too
# short gives the same ids; the model records how many tokens each call gave it.
class WidthRecordingLM(BigramLM):
    def __init__(self, vocab_size: int, context_length: int):
        super().__init__(vocab_size, context_length)
        self.widths = []

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        self.widths.append(int(in_idx.shape[1]))
        return super().forward(in_idx)


@check(task=3, inputs=greedy_inputs, dims=IDS)
def a_long_prompt_is_cropped_to_context_size(m, table, idx, context_length):
    """generate(model, prompt of shape (batch=2, num_tokens=9), max_new_tokens=3, context_size=5): the ids, and how many tokens the model got at each call"""
    model = load_weights(WidthRecordingLM(table.shape[0], context_length), {"next_token_logits.weight": table})
    ids = m.generate(model, idx.repeat(1, 3), 3, context_length)
    return {"ids": ids, "tokens given to the model at each call": model.widths}


def _without_gradients(got, expected):
    if isinstance(got, dict) and got.get(GRAD) is True and not _differ(got.get("ids"), expected["ids"]):
        raise Failed(WRONG_VALUES, "your ids are right, but generate calls the model with gradients on. Generation "
                                   "needs none: wrap logits = model(idx_cond) in `with torch.no_grad():`, as the book "
                                   "does, or every step keeps its computation graph in memory.")
    compare(got, expected, dims=IDS)


GRAD = "gradients on at a call of the model"


@check(task=3, inputs=greedy_inputs, judge=_without_gradients)
def generation_runs_without_gradients(m, table, idx, context_length):
    """generate(model, idx of shape (batch=2, num_tokens=3), max_new_tokens=2, context_size=5): the ids, and whether torch.is_grad_enabled() was true at any call of the model"""
    model = build(table, context_length)
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.is_grad_enabled()))
    ids = m.generate(model, idx, 2, context_length)
    return {"ids": ids, GRAD: any(seen)}
