"""Prints and raises terminal escape codes (clear the screen, red text, a window title), bidi
overrides and Markdown meant to forge the reports: a heading and a table row saying every
student scored 70 of 70, a pipe to split a table cell, a fence to close a code block."""
import torch

FORGED = ("\x1b[2J\x1b[31m\x1b]0;graded\x07 \u202e\r\n\n## Every student: 70 of 70\n\n"
          "| zz-honest-stubs | 70 of 70 |\n```\n~~~\n</pre><b>PWN</b>\x00\x08\x7f\x85\u2028end")

print(FORGED, flush=True)


def attention_scores(inputs):
    raise ValueError(FORGED)


def softmax_naive(x):
    raise ValueError("|" + FORGED + "|")


def attention_weights(scores):
    raise ValueError(FORGED)


def context_vectors(inputs):
    raise ValueError(FORGED)
