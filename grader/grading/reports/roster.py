"""The class's points written into the gradebook a learning platform exported, ready to import back.

`make grade ... ROSTER=FILE [COLUMN=NAME]` reads the CSV that Canvas ("Export" in the Gradebook)
or Moodle ("Grading worksheet" in an assignment's "Download grading worksheet") gave, and writes
the same file, row for row and column for column, into the output folder with one column filled
with each student's total. Every other cell, the header, Canvas's "Points Possible" row and its
byte-order mark are kept as they were.

- Canvas's export: columns Student, ID, SIS User ID, SIS Login ID, Section, then one per
  assignment ("LLM katas (123456)"); the column to fill is the one named COLUMN (its name as the
  header spells it, or its start).
- Moodle's worksheet: columns Identifier ("Participant 12345"), Full name, ..., Grade, Maximum
  grade, ...; the column to fill is Grade unless COLUMN says otherwise.

A student of the class matches a row by their id: the whole id (a folder named by a login or SIS
id), or the number at its end (`doejane_12345` from Canvas's download is Canvas's user ID 12345;
`Jane-Doe_777` from Moodle's is participant 777). Students on one side only are returned, so the
console can list them; their cells are left as they were.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID", "Login ID", "Identifier", "Email address", "ID number")
NUMBER_AT_END = re.compile(r"_(\d+)$")


class RosterError(Exception):
    """The roster cannot be filled: what it lacks, in words an instructor can act on."""


@dataclass
class Filled:
    content: bytes
    column: str
    filled: list[str]  # students written into the roster
    not_in_roster: list[str]  # graded, but no row matches them
    not_graded: list[str]  # rows (their first cell) that no graded student matches


def _keys(cell: str) -> set[str]:
    cell = cell.strip()
    found = re.fullmatch(r"Participant (\d+)", cell)
    return {cell, found[1]} if found else {cell} if cell else set()


def fill_roster(data: bytes, totals: dict[str, float], column: str | None = None) -> Filled:
    """`data` (the exported CSV) with `column` set to each matched student's total."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RosterError(f"the roster is not UTF-8 text ({err})") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise RosterError("the roster is empty")
    header = rows[0]
    wanted = column or ("Grade" if "Grade" in header else None)
    if wanted is None:
        raise RosterError("say which column to fill (COLUMN=...): the roster's columns are " + ", ".join(header))
    matches = [i for i, name in enumerate(header) if name == wanted] or \
              [i for i, name in enumerate(header) if name.startswith(wanted)]
    if len(matches) != 1:
        raise RosterError(f"{'no' if not matches else 'more than one'} column of the roster is named {wanted!r}: "
                          "its columns are " + ", ".join(header))
    target = matches[0]
    id_columns = [i for i, name in enumerate(header) if name in ID_COLUMNS]
    if not id_columns:
        raise RosterError("the roster has none of the columns that identify a student: " + ", ".join(ID_COLUMNS))
    by_key: dict[str, list[int]] = {}
    for r, row in enumerate(rows[1:], start=1):
        for i in id_columns:
            for key in _keys(row[i] if i < len(row) else ""):
                by_key.setdefault(key, []).append(r)
    filled, not_in_roster, matched_rows = [], [], set()
    for student, total in sorted(totals.items()):
        number = NUMBER_AT_END.search(student)
        candidates = {r for key in (student, number[1] if number else None) if key for r in by_key.get(key, [])}
        if len(candidates) != 1:  # none, or an id that names two rows: never guess
            not_in_roster.append(student)
            continue
        r = candidates.pop()
        row = rows[r]
        row.extend([""] * (target + 1 - len(row)))
        row[target] = f"{total:g}"
        filled.append(student)
        matched_rows.add(r)
    not_graded = [rows[r][0] if rows[r] else "" for r in range(1, len(rows))
                  if r not in matched_rows and any(rows[r][i].strip() for i in id_columns if i < len(rows[r]))
                  and "Points Possible" not in (rows[r][0] if rows[r] else "")]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=newline).writerows(rows)
    return Filled((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"), header[target], filled,
                  not_in_roster, not_graded)
