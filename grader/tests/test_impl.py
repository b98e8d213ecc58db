"""Loading an implementation folder: each load is a fresh package, its modules are forgotten on
unload, and what runs is always the source as it is now (grader/engine/impl.py)."""
import sys

from grader.engine.impl import import_topic, load_package, unload_package


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def test_unload_forgets_the_package_and_every_module_it_imported(tmp_path):
    _write(tmp_path, "first.py", "VALUE = 1\n")
    _write(tmp_path, "second.py", "from .first import VALUE\nfrom . import first\n")
    other = load_package(tmp_path)
    import_topic(other, "first")
    package = load_package(tmp_path)
    import_topic(package, "second")
    import json.tool  # noqa: F401 -- a module imported meanwhile that is no part of either package
    unload_package(package)
    assert not [k for k in sys.modules if k == package or k.startswith(package + ".")]
    assert f"{other}.first" in sys.modules and "json.tool" in sys.modules
    unload_package(other)
    assert not [k for k in sys.modules if k == other or k.startswith(other + ".")]


def test_a_changed_source_runs_as_changed_even_at_once(tmp_path):
    """The same path with other bytes (a quick second save, a mistake patched in place) is compiled
    again; the same bytes at another path name that path in tracebacks."""
    _write(tmp_path, "topic.py", "def f():\n    return 'dim=0'\n")
    package = load_package(tmp_path)
    assert import_topic(package, "topic").f() == "dim=0"
    unload_package(package)
    _write(tmp_path, "topic.py", "def f():\n    return 'dim=1'\n")
    package = load_package(tmp_path)
    assert import_topic(package, "topic").f() == "dim=1"
    unload_package(package)
    elsewhere = tmp_path / "copy"
    elsewhere.mkdir()
    _write(elsewhere, "topic.py", "def f():\n    return 'dim=1'\n")
    package = load_package(elsewhere)
    assert import_topic(package, "topic").f.__code__.co_filename == str(elsewhere / "topic.py")
    unload_package(package)
