"""Raises exceptions whose messages hold lone surrogates ("\ud800", and "\udcff" as os keeps an
undecodable byte): no UTF-8 file can hold them, so results.json, feedback.md and the class
report could not be written and the whole class stopped, on every rerun."""
import torch


def attention_scores(inputs):
    raise ValueError("no scores \ud800 here")


def softmax_naive(x):
    raise ValueError("\udcff")


def attention_weights(scores):
    raise RuntimeError("\ud800\udfff\udbff")


def context_vectors(inputs):
    raise ValueError("\ud800" * 100)
