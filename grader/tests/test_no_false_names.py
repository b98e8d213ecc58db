"""Messages that never claim what a learner's code did not do: a catalogued mistake that the task's
other cases contradict is not named (grader.engine.judge.consistent_with_the_task), and the seeding
check says "initialised differently" where the order is the book's (checks.seeded_construction).
The submissions are realistic slips nobody catalogued, found by held-out trial 8."""

import pytest
import torch

from grader.course.curriculum import load
from grader.course.mistakes import Patch, mistaken_tree
from grader.engine.checks import Failed, seeded_construction
from grader.engine.messages import explain
from grader.engine.session import run_topic

# (slug, the edit, the catalogued mistake its error or output matched before, which the rest of
# the task contradicts)
CONTRADICTED = {
    # positions numbered across the batch: arange(batch * num_tokens).view(batch, num_tokens)
    "positions_across_the_batch": ("embeddings", (
        "positions = torch.arange(num_tokens, device=in_idx.device)",
        "positions = torch.arange(batch_size * num_tokens, device=in_idx.device).view(batch_size, num_tokens)")),
    # text_to_token_ids adds a second batch dim; the catalogue's mistake is in token_ids_to_text
    "two_batch_dims": ("training", (
        "return torch.tensor(encoded).unsqueeze(0)", "return torch.tensor([encoded]).unsqueeze(0)")),
}


@pytest.mark.parametrize("name", list(CONTRADICTED))
def test_a_mistake_the_task_contradicts_is_not_named(name):
    slug, edit = CONTRADICTED[name]
    topic = load()[slug]
    with mistaken_tree(topic, Patch(name, (edit,))) as tree:
        verdicts = run_topic(topic, tree)
    failed = [v for v in verdicts if not v.passed]
    assert failed, "the edit must fail a check"
    named = [(v.check, v.mistake) for v in failed if v.mistake]
    assert not named, f"named a mistake this code does not make: {named}"
    assert not any("known mistake" in explain(v, topic) for v in failed)


def _parameters(**changed):
    g = torch.Generator().manual_seed(0)
    book = {"W_query": torch.rand(3, 2, generator=g), "W_key": torch.rand(3, 2, generator=g),
            "W_value": torch.rand(3, 2, generator=g)}
    return book, dict(book, **changed)


def _advice(got, expected) -> str:
    with pytest.raises(Failed) as failed:
        seeded_construction(got, expected)
    return failed.value.message


def test_seeding_names_the_parameter_initialised_another_way():
    book, empty = _parameters(W_key=torch.tensor([[4.6e-41, 1.7e6], [0.0, 3.1e-44], [1.0, 2.0]]))
    says = _advice(empty, book)
    assert "W_key is initialised differently" in says and "one created before it matches" in says
    assert "torch.empty" in says and "book's order" not in says
    book, _ = _parameters()
    zeros = dict(book, W_value=torch.zeros(3, 2))
    says = _advice(book, zeros)  # a random B where the book's is zeros (LoRA)
    assert "W_value is initialised differently" in says and "The book's W_value holds 0 everywhere" in says


def test_seeding_keeps_the_order_sentence_for_another_order():
    book, _ = _parameters()
    swapped = {"W_query": book["W_key"], "W_key": book["W_query"], "W_value": book["W_value"]}
    reordered = {"W_key": book["W_key"] + 1, "W_query": book["W_query"], "W_value": book["W_value"]}
    for got in (swapped, reordered):
        says = _advice(got, book)
        assert "Create the layers in the book's order" in says and "initialised differently" not in says


def test_seeding_names_the_layer_created_out_of_order():
    # held-out trial 10, t49: TransformerBlock created ff before att; the message said only
    # "create the layers in the book's order", and its first line was about att's values.
    g = torch.Generator().manual_seed(0)
    book = {"att.W_query.weight": torch.rand(3, 2, generator=g), "att.W_key.weight": torch.rand(3, 2, generator=g),
            "ff.layers.0.weight": torch.rand(2, 2, generator=g), "norm1.scale": torch.ones(2)}
    mine = {"ff.layers.0.weight": book["ff.layers.0.weight"] + 1, "att.W_query.weight": book["att.W_query.weight"] + 1,
            "att.W_key.weight": book["att.W_key.weight"], "norm1.scale": torch.ones(2)}
    says = _advice({"parameters": mine}, {"parameters": book})
    assert "You create self.ff before self.att; the book creates self.att first (its order: att, ff, norm1)" in says
    assert "Create the layers in the book's order" in says
