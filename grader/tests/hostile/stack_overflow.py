"""Overflows the C stack: lifts Python's recursion limit, then recurses through C calls (map and
sum), so each level costs C stack and the interpreter dies (SIGSEGV) or raises RecursionError."""
import sys

sys.setrecursionlimit(10 ** 7)


def _down(n):
    return sum(map(_down, [n + 1]))


def attention_scores(inputs):
    return _down(0)


def softmax_naive(x):
    return _down(0)


def attention_weights(scores):
    return _down(0)


def context_vectors(inputs):
    return _down(0)
