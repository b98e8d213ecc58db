"""Plants code and files for whoever runs after it on the same warm worker. In every place it can
write (each folder on sys.path, the repository folder and its grader/ package as the sandbox shows
them, /, /tmp, /dev/shm, the working folder) it writes a module for each name a later job might
import (pdb, doctest, ... and grader's own submodules), whose code makes every later check fail,
and a file `kata-planted-leftover`. Then it ends its process (os._exit), so the student's next
topics run in a fresh child, as a later student's would: the catalogue gives this student a
qkv_attention.py (extra/planted_victim.txt) that imports those names and looks for the leftovers,
and its causal_attention (the reference, graded in that fresh child) must keep full marks."""
import os
import sys

import grader.engine.checks

PLANTED = ("pdb", "doctest", "pydoc", "difflib", "fractions", "decimal", "statistics", "cmd", "code",
           "timeit", "trace", "cProfile", "profile", "pstats", "shlex", "tabnanny", "zipapp", "mailbox")
PAYLOAD = '''
import grader.engine.checks as C
C.run_probe = lambda *a, **k: C.Outcome("wrong_values", message="sabotaged by a module planted by an earlier job: " + __name__)
'''
_repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(grader.engine.checks.__file__))))
_grader = os.path.join(_repo, "grader", "engine")
_places = {p for p in sys.path if p and os.path.isdir(p)} | {_repo, "/", "/tmp", "/dev/shm", os.getcwd()}
_names = set(PLANTED) | {n for n in getattr(sys, "stdlib_module_names", ()) if n not in sys.modules
                         and n.isidentifier() and not n.startswith("_")}
_grader_names = {n[:-3] for n in os.listdir(_grader) if n.endswith(".py") and f"grader.engine.{n[:-3]}" not in sys.modules}
PLANTED_IN = []
for _place, _names_here in [(p, _names) for p in sorted(_places)] + [(_grader, _grader_names)]:
    try:
        with open(os.path.join(_place, "kata-planted-leftover"), "w") as _f:
            _f.write("left by an earlier job\n")
        PLANTED_IN.append(_place)
    except OSError:
        continue
    for _name in sorted(_names_here):
        try:
            with open(os.path.join(_place, f"{_name}.py"), "w") as _f:
                _f.write(PAYLOAD)
        except OSError:
            break
print(f"planted in: {PLANTED_IN}", flush=True)
os._exit(0)
