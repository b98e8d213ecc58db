"""Checks for topic 10, the building blocks of a GPT (book sections 4.2-4.5)."""

from functools import partial

import torch

from grader.engine.checks import (DEEP_ATOL, DEEP_RTOL, WRONG_SHAPE, WRONG_TYPE, WRONG_VALUES, Failed, causal, check, compare,
                           generator, load_weights, seeded_construction, sizes, Variant, variant)
from grader.engine.gpt_cases import TINY_CONFIG, block_shapes, random_weights, tiny_config
from grader.engine.variant_math import gelu, layer_norm, multi_head, project, with_last_token_changed

# Deep outputs: the float32 tolerance of grader.checks.DEEP_RTOL/DEEP_ATOL for every check here
# that does not state its own (another CPU's kernels must not change a verdict).
check = partial(check, rtol=DEEP_RTOL, atol=DEEP_ATOL)

DIMS = ("batch", "num_tokens", "emb_dim")
BOOK_LAYER_SIZES = [3, 3, 3, 3, 3, 1]  # the last layer changes the shape: no shortcut around it
FIRST_WEIGHT = "layers.0.0.weight"
# The gradients without shortcuts are as small as 1e-5: the absolute tolerance must be far below that.
GRADIENT_ATOL = 1e-9
CAUSAL_ADVICE = ("Attention is the only place tokens meet: leave its mask alone, and keep LayerNorm and the "
                 "feed forward working on each token's embedding (the last dim) on its own.")


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

@variant("your LayerNorm uses the unbiased variance (divided by emb_dim - 1); GPT-2's divides by emb_dim "
         "(unbiased=False)")
def unbiased_variance(x, weights):
    return layer_norm(x, weights["scale"], weights["shift"], unbiased=True)


@variant("your LayerNorm divides by sqrt(var) + eps where the book divides by sqrt(var + eps)")
def eps_outside_the_sqrt(x, weights):
    return layer_norm(x, weights["scale"], weights["shift"], eps_outside=True)


@variant("your LayerNorm divides by sqrt(var) without eps; the book divides by sqrt(var + eps)")
def without_eps(x, weights):
    return layer_norm(x, weights["scale"], weights["shift"], eps=0.0)


@variant("your LayerNorm multiplies by shift and adds scale: it is scale * norm_x + shift")
def scale_and_shift_swapped(x, weights):
    return layer_norm(x, weights["shift"], weights["scale"])


@variant("your LayerNorm returns the normalised values without scale and shift")
def without_scale_and_shift(x, weights):
    return layer_norm(x, torch.ones_like(weights["scale"]), torch.zeros_like(weights["shift"]))


@variant("your LayerNorm divides by var + eps, the variance, not by its square root")
def divided_by_the_variance(x, weights):
    mean, var = x.mean(dim=-1, keepdim=True), x.var(dim=-1, keepdim=True, unbiased=False)
    return weights["scale"] * (x - mean) / (var + 1e-5) + weights["shift"]


LAYERNORM_VARIANTS = (unbiased_variance, eps_outside_the_sqrt, without_eps, scale_and_shift_swapped,
                      without_scale_and_shift, divided_by_the_variance)


@variant("your GELU has 0.044715 * x ** 2 where the approximation's term is cubic, 0.044715 * x ** 3")
def gelu_squared_term(x):
    return gelu(x, power=2)


@variant("your GELU's factor is sqrt(2 * pi) where the approximation has sqrt(2 / pi)")
def gelu_sqrt_2_pi(x):
    return gelu(x, constant=(2.0 * torch.pi) ** 0.5)


@variant("your GELU's factor is 2 / pi where the approximation has its square root, sqrt(2 / pi)")
def gelu_without_the_sqrt(x):
    return gelu(x, constant=2.0 / torch.pi)


@variant("your GELU lacks the cubic term: tanh(sqrt(2 / pi) * x) where the approximation has "
         "tanh(sqrt(2 / pi) * (x + 0.044715 * x ** 3))")
def gelu_without_the_cubic_term(x):
    return gelu(x, cubic=0.0)


@variant("your GELU lacks the factor 0.5 in front: 0.5 * x * (1 + tanh(...))")
def gelu_without_the_half(x):
    return 2 * gelu(x)


@variant("your GELU is the exact erf form (torch.nn.GELU()'s default), not the tanh approximation the book uses")
def gelu_exact(x):
    return torch.nn.functional.gelu(x)


@variant("your GELU is a ReLU (max(0, x))")
def gelu_is_relu(x):
    return torch.relu(x)


def feedforward(x, weights, activation=gelu):
    return project(activation(project(x, weights, "layers.0")), weights, "layers.2")


@variant("your FeedForward's activation between the two linear layers is a ReLU where the book's is its GELU")
def feedforward_with_relu(x, cfg, weights):
    return feedforward(x, weights, torch.relu)


@variant("your FeedForward's activation is the exact erf GELU (torch.nn.GELU()'s default) where the book's is its "
         "GELU, the tanh approximation: use your GELU() and check it")
def feedforward_with_exact_gelu(x, cfg, weights):
    return feedforward(x, weights, torch.nn.functional.gelu)


@variant("your FeedForward has no activation between the two linear layers")
def feedforward_without_activation(x, cfg, weights):
    return feedforward(x, weights, lambda t: t)


def block(x, cfg, weights, shortcut_kept=False, norm_for_ff="norm2", post_norm=False, att_shortcut=True,
          ff_shortcut=True):
    """TransformerBlock's forward in eval mode, in plain torch, with the slips learners make."""
    def norm(name, t):
        return layer_norm(t, weights[f"{name}.scale"], weights[f"{name}.shift"])

    def att(t):
        return multi_head(t, weights, cfg["n_heads"], prefix="att.")

    def ff(t):
        return feedforward(t, {k.removeprefix("ff."): w for k, w in weights.items() if k.startswith("ff.")})
    if post_norm:
        x = norm("norm1", x + att(x))
        return norm("norm2", x + ff(x))
    first = x
    x = (x if att_shortcut else 0) + att(norm("norm1", x))
    return (first if shortcut_kept else x if ff_shortcut else 0) + ff(norm(norm_for_ff, x))


@variant("your second shortcut adds the block's input again, not the output of the attention sub-block: set "
         "shortcut = x again after the first addition")
def shortcut_not_refreshed(x, cfg, weights):
    return block(x, cfg, weights, shortcut_kept=True)


@variant("your block uses norm1 before the feed forward too; each sub-block has its own LayerNorm")
def norm1_before_the_feed_forward(x, cfg, weights):
    return block(x, cfg, weights, norm_for_ff="norm1")


@variant("your block is post-norm: it normalises the sum after each shortcut instead of each branch's input "
         "(pre-norm, as in GPT-2)")
def post_norm(x, cfg, weights):
    return block(x, cfg, weights, post_norm=True)


@variant("your block has no shortcut around attention: its output replaces x instead of being added to it")
def attention_shortcut_missing(x, cfg, weights):
    return block(x, cfg, weights, att_shortcut=False)


@variant("your block has no shortcut around the feed forward: its output replaces x instead of being added to it")
def feedforward_shortcut_missing(x, cfg, weights):
    return block(x, cfg, weights, ff_shortcut=False)


BLOCK_VARIANTS = (shortcut_not_refreshed, norm1_before_the_feed_forward, post_norm, attention_shortcut_missing,
                  feedforward_shortcut_missing)


def gradients(layer_sizes, use_shortcut, weights, x):
    """layer_gradients of ExampleDeepNeuralNetwork in plain torch: mean |grad| of each weight."""
    params = {name: w.clone().requires_grad_() for name, w in weights.items()}
    for i in range(len(layer_sizes) - 1):
        out = gelu(x @ params[f"layers.{i}.0.weight"].T + params[f"layers.{i}.0.bias"])
        x = x + out if use_shortcut and out.shape == x.shape else out
    ((x - 0.0) ** 2).mean().backward()
    return {name: p.grad.abs().mean().item() for name, p in params.items() if "weight" in name}


@variant("your network adds the shortcut exactly when use_shortcut is False: add it when use_shortcut is True "
         "(and the shapes match)")
def shortcut_condition_inverted(layer_sizes, use_shortcut, weights, x):
    return gradients(layer_sizes, not use_shortcut, weights, x)


def typed(v: Variant) -> Variant:
    return Variant(v.name, v.says, lambda **inputs: with_types(v.compute(**inputs)))


# Task 1 ---------------------------------------------------------------------------------------

def layernorm_inputs(seed: int, low_variance_row: bool = True) -> dict:
    """x (batch=2, num_tokens=5, emb_dim=6) off centre, one token's row shrunk 100 times, and scale and shift."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=6)
    g = generator(seed)
    x = 2.0 * torch.randn(n["batch"], n["num_tokens"], n["emb_dim"], generator=g) + 1.0
    if low_variance_row:
        x[1, 2] *= 0.01  # variance ~4e-4: here sqrt(var + eps) and sqrt(var) + eps differ by 1%
        scale, shift = torch.randn(n["emb_dim"], generator=g), torch.randn(n["emb_dim"], generator=g)
    else:
        scale, shift = torch.ones(n["emb_dim"]), torch.zeros(n["emb_dim"])
    return {"x": x, "weights": {"scale": scale, "shift": shift}}


def _rows_normalised(got, expected):
    """Judge: with scale 1 and shift 0, every row of the output has mean 0 and (biased) variance 1."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.shape == expected.shape:
        g = got.double()
        mean, var = g.mean(dim=-1), g.var(dim=-1, unbiased=False)
        emb_dim = g.shape[-1]
        off_mean = mean.abs().nan_to_num(nan=float("inf"))
        if off_mean.max() > 1e-4:
            at = tuple(int(i) for i in torch.unravel_index(off_mean.argmax(), off_mean.shape))
            raise Failed(WRONG_VALUES, f"with scale 1 and shift 0, each token's row (over the last dim, emb_dim) must "
                                       f"come out with mean 0; the row at [batch {at[0]}, num_tokens {at[1]}] has "
                                       f"mean {mean[at].item():.4g}. Take the mean and variance over dim=-1, "
                                       f"with keepdim=True.")
        off_var = (var - 1).abs().nan_to_num(nan=float("inf"))
        if off_var.max() > 1e-3:
            at = tuple(int(i) for i in torch.unravel_index(off_var.argmax(), off_var.shape))
            why = (f" That is (emb_dim - 1) / emb_dim = {(emb_dim - 1) / emb_dim:.4g}: divide the squared deviations "
                   f"by emb_dim (unbiased=False), not by emb_dim - 1."
                   if abs(var[at].item() - (emb_dim - 1) / emb_dim) < 1e-3 else
                   " Divide x - mean by the standard deviation, sqrt(var + eps).")
            raise Failed(WRONG_VALUES, f"with scale 1 and shift 0, each token's row must come out with variance 1 "
                                       f"(the mean of the squared deviations); the row at [batch {at[0]}, "
                                       f"num_tokens {at[1]}] has variance {var[at].item():.4g}.{why}")
    compare(got, expected, dims=DIMS, rtol=DEEP_RTOL, atol=DEEP_ATOL)


@check(task=1, inputs=lambda seed: {"emb_dim": 6 + seed % 3})
def layernorm_creates_eps_then_scale_of_ones_and_shift_of_zeros(m, emb_dim):
    """LayerNorm(emb_dim=6): its eps and its named_parameters() in order"""
    norm = m.LayerNorm(emb_dim)
    return {"eps": norm.eps, "named_parameters": list(norm.named_parameters())}


@check(task=1, inputs=layernorm_inputs, dims=DIMS, variants=LAYERNORM_VARIANTS)
def layernorm_values_match(m, x, weights):
    """LayerNorm(emb_dim=6) with given scale and shift, on x of shape (batch=2, num_tokens=5, emb_dim=6) with one low-variance row"""
    return load_weights(m.LayerNorm(x.shape[-1]), weights)(x)


@check(task=1, inputs=lambda seed: layernorm_inputs(seed, low_variance_row=False), judge=_rows_normalised, dims=DIMS)
def layernorm_rows_have_mean_0_and_variance_1(m, x, weights):
    """LayerNorm(emb_dim=6) with scale 1 and shift 0, on x of shape (batch=2, num_tokens=5, emb_dim=6)"""
    return load_weights(m.LayerNorm(x.shape[-1]), weights)(x)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"x": torch.linspace(-3.0, 3.0, sizes(seed, points=25)["points"])},
       variants=(gelu_squared_term, gelu_sqrt_2_pi, gelu_without_the_sqrt, gelu_without_the_cubic_term,
                 gelu_without_the_half, gelu_exact, gelu_is_relu))
def gelu_values_on_a_grid(m, x):
    """GELU()(x) for x = torch.linspace(-3, 3, 25)"""
    return m.GELU()(x)


# Task 3 ---------------------------------------------------------------------------------------

def feedforward_inputs(seed: int) -> dict:
    cfg, n = tiny_config(seed)
    shapes = {name.removeprefix("ff."): shape for name, shape in block_shapes(cfg).items() if name.startswith("ff.")}
    g = generator(seed)
    weights = random_weights(shapes, g)
    return {"x": torch.randn(n["batch"], n["num_tokens"], cfg["emb_dim"], generator=g), "cfg": cfg, "weights": weights}


@check(task=3, inputs=lambda seed: {"seed": 123, "cfg": TINY_CONFIG}, judge=seeded_construction)
def feedforward_layers_created_in_book_order(m, seed, cfg):
    """torch.manual_seed(123); FeedForward(cfg with emb_dim=6).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.FeedForward(cfg).named_parameters())


@check(task=3, inputs=feedforward_inputs, dims=DIMS,
       variants=(feedforward_with_relu, feedforward_with_exact_gelu, feedforward_without_activation))
def feedforward_values_match(m, x, cfg, weights):
    """FeedForward(cfg with emb_dim=6) with given weights, on x of shape (batch=2, num_tokens=5, emb_dim=6)"""
    return load_weights(m.FeedForward(cfg), weights)(x)


# Task 4 ---------------------------------------------------------------------------------------

def deep_network_inputs(seed: int, use_shortcut: bool) -> dict:
    """Five layers of width 3 (the last one down to 1), weights drawn like nn.Linear's, and one input."""
    width = sizes(seed, width=3)["width"]
    layer_sizes = [width] * 5 + [1]
    g = generator(seed)
    weights = {}
    for i, (size_in, size_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        bound = size_in ** -0.5
        weights[f"layers.{i}.0.weight"] = bound * (2 * torch.rand(size_out, size_in, generator=g) - 1)
        weights[f"layers.{i}.0.bias"] = bound * (2 * torch.rand(size_out, generator=g) - 1)
    return {"layer_sizes": layer_sizes, "use_shortcut": use_shortcut, "weights": weights,
            "x": torch.randn(1, width, generator=g)}


def _gradients_are_floats(gradients) -> None:
    """layer_gradients returns {name: float}: a 0-dim tensor would pass for its value, so say so."""
    tensors = [name for name, value in gradients.items() if isinstance(value, torch.Tensor)] \
        if isinstance(gradients, dict) else []
    if tensors:
        raise Failed(WRONG_TYPE, f"layer_gradients gives {tensors[0]!r} a tensor, not a float: it returns "
                     f"{{name: float}}, so take each mean as a Python number with .item() "
                     f"(param.grad.abs().mean().item()).")


def with_types(gradients) -> dict:
    """layer_gradients' dict, and the types of its values: compare takes a 0-dim tensor for the float
    it holds, so without them a mistake returning tensors would look like the reference's output."""
    types = sorted({type(v).__name__ for v in gradients.values()}) if isinstance(gradients, dict) else []
    return {"gradients": gradients, "types of the values": types}


def _gradients_match(got, expected):
    if isinstance(got, dict):
        _gradients_are_floats(got.get("gradients"))
    compare(got, expected, rtol=DEEP_RTOL, atol=GRADIENT_ATOL)


def _shortcuts_keep_gradients_alive(got, expected):
    """Judge: in the book's experiment, shortcuts make the first layer's gradient 100 times larger or more."""
    for gradients in got.values() if isinstance(got, dict) else ():
        _gradients_are_floats(gradients)
    if isinstance(got, dict) and all(isinstance(got.get(k), dict) for k in ("without", "with")):
        plain, shortcut = got["without"].get(FIRST_WEIGHT), got["with"].get(FIRST_WEIGHT)
        if isinstance(plain, float) and isinstance(shortcut, float) and not abs(shortcut) >= 100 * abs(plain):
            raise Failed(WRONG_VALUES, f"shortcuts should keep the first layer's gradient alive: the book gets a mean "
                                       f"absolute gradient of {expected['with'][FIRST_WEIGHT]:.4f} for {FIRST_WEIGHT} "
                                       f"with shortcuts and {expected['without'][FIRST_WEIGHT]:.5f} without; yours "
                                       f"are {shortcut:.4g} with and {plain:.4g} without. With use_shortcut, forward "
                                       f"must add each layer's input to its output (x = x + layer_output) wherever "
                                       f"the shapes match.")
    compare(got, expected, atol=GRADIENT_ATOL)


@check(task=4, inputs=lambda seed: {"seed": 123, "layer_sizes": BOOK_LAYER_SIZES}, judge=seeded_construction)
def deep_network_layers_created_in_book_order(m, seed, layer_sizes):
    """torch.manual_seed(123); ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=False).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.ExampleDeepNeuralNetwork(layer_sizes, use_shortcut=False).named_parameters())


@check(task=4, inputs=lambda seed: deep_network_inputs(seed, use_shortcut=False), atol=GRADIENT_ATOL,
       judge=_gradients_match, variants=(typed(shortcut_condition_inverted),))
def gradients_without_shortcuts_match(m, layer_sizes, use_shortcut, weights, x):
    """layer_gradients(ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=False) with given weights, x of shape (1, 3))"""
    model = load_weights(m.ExampleDeepNeuralNetwork(layer_sizes, use_shortcut), weights)
    return with_types(m.layer_gradients(model, x))


@check(task=4, inputs=lambda seed: deep_network_inputs(seed, use_shortcut=True), atol=GRADIENT_ATOL,
       judge=_gradients_match, variants=(typed(shortcut_condition_inverted),))
def gradients_with_shortcuts_match(m, layer_sizes, use_shortcut, weights, x):
    """layer_gradients(ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=True) with given weights, x of shape (1, 3))"""
    model = load_weights(m.ExampleDeepNeuralNetwork(layer_sizes, use_shortcut), weights)
    return with_types(m.layer_gradients(model, x))


@check(task=4, inputs=lambda seed: {"seed": 123, "layer_sizes": BOOK_LAYER_SIZES, "x": [[1.0, 0.0, -1.0]]},
       judge=_shortcuts_keep_gradients_alive)
def shortcuts_keep_the_first_gradient_100_times_larger(m, seed, layer_sizes, x):
    """The book's experiment: torch.manual_seed(123) before each ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=False, then True); layer_gradients(model, tensor([[1., 0., -1.]]))"""
    gradients = {}
    for name, use_shortcut in (("without", False), ("with", True)):
        torch.manual_seed(seed)
        gradients[name] = m.layer_gradients(m.ExampleDeepNeuralNetwork(layer_sizes, use_shortcut), torch.tensor(x))
    return gradients


# Task 5 ---------------------------------------------------------------------------------------

def block_inputs(seed: int, drop_rate: float = 0.0, full_context: bool = False) -> dict:
    """A config, the block's weights and x (batch=2, num_tokens=5, emb_dim=6); context_length is 7.
    n_layers is 1, not n_heads: a block that takes its head count from n_layers gives other outputs."""
    cfg, n = tiny_config(seed, drop_rate)
    cfg = dict(cfg, n_layers=1)
    g = generator(seed)
    weights = random_weights(block_shapes(cfg), g)
    num_tokens = cfg["context_length"] if full_context else n["num_tokens"]
    return {"x": torch.randn(n["batch"], num_tokens, cfg["emb_dim"], generator=g), "cfg": cfg, "weights": weights}


def build_block(m, cfg, weights):
    return load_weights(m.TransformerBlock(cfg), weights)


def _keeps_shape(got, expected):
    if isinstance(got, tuple) and not all(type(size) is int for size in got):
        raise Failed(WRONG_TYPE, f"the shape of TransformerBlock's output should be integers, {expected}; "
                                 f"yours is {got!r:.80}")
    if got != expected:
        raise Failed(WRONG_SHAPE, f"TransformerBlock must return a tensor of its input's shape (batch, num_tokens, "
                                  f"emb_dim) = {expected}, so that blocks can be stacked; yours returned {got}.")


@check(task=5, inputs=lambda seed: {"seed": 123, "cfg": dict(TINY_CONFIG, drop_rate=0.1, qkv_bias=True)},
       judge=seeded_construction)
def block_layers_created_in_book_order(m, seed, cfg):
    """torch.manual_seed(123); TransformerBlock(cfg with emb_dim=6, n_heads=2, qkv_bias=True): its children and named_parameters()"""
    torch.manual_seed(seed)
    block = m.TransformerBlock(cfg)
    # Children by name, not order: a LayerNorm or Dropout made earlier or later draws no random number.
    return {"children": sorted(name for name, _ in block.named_children()), "parameters": dict(block.named_parameters())}


@check(task=5, inputs=block_inputs, dims=DIMS, variants=BLOCK_VARIANTS)
def block_output_matches(m, x, cfg, weights):
    """TransformerBlock(cfg with emb_dim=6, n_heads=2, n_layers=1, context_length=7) with given weights, in eval mode, on x of shape (batch=2, num_tokens=5, emb_dim=6)"""
    return build_block(m, cfg, weights).eval()(x)


@check(task=5, inputs=lambda seed: block_inputs(seed, full_context=True), judge=_keeps_shape)
def block_output_has_the_input_shape(m, x, cfg, weights):
    """TransformerBlock(cfg with context_length=7) on x of shape (batch=2, num_tokens=7, emb_dim=6): the shape of its output"""
    return tuple(build_block(m, cfg, weights).eval()(x).shape)


@check(task=5, inputs=block_inputs, judge=causal(DIMS, CAUSAL_ADVICE, DEEP_RTOL, DEEP_ATOL), dims=DIMS,
       variants=with_last_token_changed(BLOCK_VARIANTS))
def block_later_tokens_do_not_change_earlier_outputs(m, x, cfg, weights):
    """TransformerBlock on x, then on x with its last token changed: earlier outputs must stay the same"""
    block = build_block(m, cfg, weights).eval()
    changed = x.clone()
    changed[:, -1] += 10.0
    return block(x), block(changed)


@check(task=5, inputs=lambda seed: block_inputs(seed, drop_rate=0.5), dims=DIMS)
def block_dropout_on_each_branch_in_train_mode(m, x, cfg, weights):
    """TransformerBlock(cfg with drop_rate=0.5) in train mode, after torch.manual_seed(123): drop_shortcut on each branch before its shortcut is added"""
    block = build_block(m, cfg, weights).train()
    torch.manual_seed(123)
    return block(x)
