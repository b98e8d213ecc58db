"""Words for verdicts: one renderer for pytest, `kata`, the grader's feedback and nbgrader."""

from __future__ import annotations

import math
import re
from typing import Any

from . import verdicts as C  # no torch: overviews show saved verdicts without it
from ..course.curriculum import Topic

HEADLINES = {
    C.PASSED: "passed",
    C.NOT_IMPLEMENTED: "not implemented yet",
    C.MISSING_NAME: "missing name",
    C.WRONG_VALUES: "wrong values",
    C.WRONG_SHAPE: "wrong shape",
    C.WRONG_LENGTH: "wrong length",
    C.WRONG_TYPE: "wrong type",
    C.EXCEPTION: "raised an exception",
    C.FORBIDDEN_API: "uses a forbidden API",
    C.BAD_OUTPUT: "bad output",
    C.TIMEOUT: "too slow (time limit)",
    C.MEMORY: "used too much memory",
    C.CRASH: "crashed",
    C.NOT_RUN: "not run",
}


def headline(verdict: C.Verdict) -> str:
    return HEADLINES.get(verdict.reason, verdict.reason.replace("_", " "))


def mistake_note(verdict: C.Verdict, topic: Topic) -> str:
    """'This looks like a known mistake: ...' with the hint to read, or '' if none is recognised."""
    mistake = topic.mistakes.get(verdict.mistake) if verdict.mistake else None
    if mistake is None:
        return ""
    # Only the first line of an error, or an output several known mistakes give: not proof.
    unsure = verdict.reason == C.EXCEPTION or len(verdict.candidates) > 1
    opening = "One way to get this is a known mistake" if unsure else "This looks like a known mistake"
    return (f"{opening}: {mistake.says.rstrip('.')}.\n"
            f"Hint {mistake.hint} of task {mistake.task} explains it: kata hint {topic.slug} {mistake.task} {mistake.hint}")


def _elsewhere(verdict: C.Verdict, topic: Topic) -> bool:
    """Whether the first differing value sits in another task's function than the named mistake's
    task: a consequence there (a LoRALayer built with the wrong size because the replacement
    picked the wrong layers), which would invite an edit where the slip is not."""
    mistake = topic.mistakes.get(verdict.mistake) if verdict.mistake else None
    function = verdict.diverges_in
    if mistake is None or not function:
        return False
    owners = {t.id for t in topic.tasks if function in t.api or function.split(".")[0] in t.api}
    return bool(owners) and mistake.task not in owners


def explain(verdict: C.Verdict, topic: Topic) -> str:
    """The full message for a failed check, written for a beginner."""
    lines = [f"{topic.slug} task {verdict.task} ({topic.task(verdict.task).title}): {headline(verdict)}",
             f"  check: {verdict.check} -- {verdict.what}"]
    if verdict.seed not in (None, 0):
        lines.append(f"  (on hidden inputs, seed {verdict.seed})")
    lines += ["  " + line for line in verdict.message.splitlines()]
    note = mistake_note(verdict, topic)
    if note:
        lines += ["  " + line for line in note.splitlines()]
        if not _elsewhere(verdict, topic):
            lines += ["  " + line for line in verdict.diverges.splitlines()]
    elif verdict.reason not in (C.PASSED, C.NOT_IMPLEMENTED):
        lines += ["  " + line for line in verdict.shows.splitlines()]
        lines += ["  " + line for line in verdict.diverges.splitlines()]
        lines.append(f"  Stuck? kata hint {topic.slug} {verdict.task}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Text a student wrote (exception messages, printed output, file and entry names), made safe to
# show: in Markdown, HTML, JSON, CSV and a terminal. Control characters (terminal escape codes
# among them) and bidirectional overrides are removed; a lone surrogate, which no UTF-8 file can
# hold, shows as the byte it stood for (\\xff: from a name that is not UTF-8) or as U+FFFD.

# Invisible, so shown as their escape: "tokenizer\\u200b.py" is not tokenizer.py (hostile round 13).
_INVISIBLE_CHARS = "\u00ad\u034f\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
_SURROGATE_CHARS = "\ud800-\udfff"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     + _INVISIBLE_CHARS + _SURROGATE_CHARS + "]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_PLAIN = re.compile("[\x20-\x7e\t\n]*")
_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _unsafe(match: re.Match) -> str:
    char = match.group()
    if _INVISIBLE.match(char):
        return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
    if "\udc80" <= char <= "\udcff":  # os and zipfile keep an undecodable byte as this surrogate
        return f"\\x{ord(char) - 0xDC00:02x}"
    return "\ufffd" if "\ud800" <= char <= "\udfff" else ""


_SURROGATES = re.compile(f"[{_SURROGATE_CHARS}]")


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate shown as clean() shows it, and nothing else changed: what
    strict JSON (grade.json) can hold of any text a submission printed or raised."""
    return text if text.isascii() else _SURROGATES.sub(_unsafe, text)


def clean(text: Any) -> str:
    """Any text from a submission, lines kept: every line break becomes \\n, tabs stay."""
    if type(text) is str and text.isascii() and (text.isprintable() or _PLAIN.fullmatch(text)):
        return text  # printable ASCII, tabs and \n: nothing to change (most text, quickly)
    return _UNSAFE.sub(_unsafe, _BREAKS.sub("\n", str(text)))


def one_line(text: Any) -> str:
    """clean(), on one line: for a name, a path, a table cell or a status."""
    return " ".join(clean(text).replace("\t", " ").split("\n"))


# An underscore between two letters or digits (a slug, an id) can neither open nor close emphasis.
_MARKDOWN = re.compile(r"([\\`*\[\]<>|&~#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_BLOCK_START = re.compile(r"^([-+=>])|^(\d+)([.)])")  # what would open a list, a quote or a heading


def md_cell(text: Any) -> str:
    """A Markdown table cell that reads as the text itself: no emphasis, link, raw HTML, entity,
    code span or heading can start in it, and no | can open another cell. Surrounding spaces
    are dropped (Markdown would drop them too)."""
    return _MARKDOWN.sub(r"\\\1", one_line(text).strip())


def md_text(text: Any) -> str:
    """md_cell, safe wherever the text stands: no list, quote or heading at its start either."""
    return _BLOCK_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}",
                            md_cell(text))


def cleaned(data: Any) -> Any:
    """A JSON document with every string cleaned and every float finite (NaN and infinities,
    which strict JSON cannot hold, become 0): safe to encode as UTF-8 and to read back."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, bool) or data is None or isinstance(data, int):
        return data
    if isinstance(data, float):
        return data if math.isfinite(data) else 0.0
    if isinstance(data, dict):
        return {clean(k): cleaned(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [cleaned(v) for v in data]
    return clean(data)
