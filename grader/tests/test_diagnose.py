"""The diagnosis a failure carries when no catalogued mistake matches (grader.checks.diagnose)."""

import pytest
import torch

from grader.engine.checks import diagnose

E = torch.tensor([[0.3, -1.2, 0.7, 2.0], [1.1, 0.4, -0.6, 0.9], [-0.2, 0.8, 1.5, -1.0]])
SQUARE = torch.tensor([[0.3, -1.2, 0.7], [1.1, 0.4, -0.6], [-0.2, 0.8, 1.5]])
DIMS = ("num_tokens", "d_out")


@pytest.mark.parametrize("got,expected,says", [
    (E * 2 ** -0.5, E, "0.7071 times the expected ones (= 1/sqrt(2))"),
    (E * 3, E, "3 times the expected ones (= 3)"),
    (E + 0.25, E, "plus 0.25 everywhere"),
    (SQUARE.T, SQUARE, "transposed"),
    (E[[1, 0, 2]], E, "another order along the num_tokens dim"),
    (torch.cat([E[:1], E[:-1]]), E, "shifted by one position along the num_tokens dim"),
    (list(range(27)), list(range(9)), "27 items where 9 are expected: 3 times as many"),
    (torch.zeros(3, 2), E, "2 along the d_out dim where 4 are expected: 2 times fewer"),
    (0.5, 2.0, "0.25 times the expected value (= 1/4)"),
])
def test_a_simple_relation_is_named(got, expected, says):
    assert says in diagnose(got, expected, DIMS)


def test_an_input_handed_back_is_named():
    x = torch.randn(3, 4)
    assert "equals the input x, unchanged" in diagnose(x.clone(), E, DIMS, {"x": x})


@pytest.mark.parametrize("got,expected", [
    (torch.randn(3, 4, generator=torch.Generator().manual_seed(1)), E),  # nothing simple
    (E, E), ([1, 2], [1, 2, 3]), (1.37, 1.36), ("text", [1]), (torch.zeros(0, 4), E),
    (torch.full((3, 4), float("nan")), E), (torch.tensor([1, 2]), torch.tensor([2, 4])),
])
def test_nothing_is_claimed_without_evidence(got, expected):
    assert diagnose(got, expected, DIMS) == ""
