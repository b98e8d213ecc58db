"""Load an implementation folder (exercises/, solutions/, a student's submission) as a package.

Each folder is imported under a fresh package name, so two implementations never share modules
and a topic module's relative imports (`from .causal_attention import CausalAttention`) resolve
inside the same folder. The folder's own `__init__.py`, if any, is never executed.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import itertools
import sys
import types
from pathlib import Path

_fresh = itertools.count()


class MissingName(Exception):
    """A name the check needs is not defined in the learner's module."""

    def __init__(self, name: str, filename: str):
        super().__init__(f"we cannot find `{name}` in {filename}")
        self.name, self.filename = name, filename


class _FromSource(importlib.machinery.SourceFileLoader):
    """Compiles every import from the .py file. A cached .pyc is trusted when the source's size
    and mtime second match, so a quick second save (dim=0 -> dim=1) could run the old code; and a
    submitted __pycache__ must never run."""

    def get_code(self, fullname):
        return _compiled(self.get_data(self.path), self.path)


@functools.lru_cache(maxsize=64)
def _compiled(source: bytes, path: str) -> types.CodeType:
    """The code of a source file, compiled once per process for the same bytes at the same path:
    a grading child imports each topic's module afresh, and with it every module it imports
    (`training` brings `gpt_model`, `gpt_blocks`, ...). A code object is immutable; each import
    still runs it in a new module."""
    return compile(source, path, "exec", dont_inherit=True)


def load_package(directory: Path | str) -> str:
    """Register `directory` as a new, empty package and return its name."""
    directory = Path(directory).resolve()
    sys.path_importer_cache[str(directory)] = importlib.machinery.FileFinder(str(directory), (_FromSource, [".py"]))
    name = f"kata_impl_{next(_fresh)}"
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(directory)]
    sys.modules[name] = package
    return name


def unload_package(name: str) -> None:
    """Forget the package and its modules. They all entered sys.modules after the package itself
    (a dict keeps its insertion order), so only those last entries are read, not torch's two
    thousand. One put back earlier by hand stays behind, harmlessly: no package's name is reused."""
    prefix, doomed = name + ".", []
    for key in reversed(sys.modules):
        if key == name or key.startswith(prefix):
            doomed.append(key)
        if key == name:
            break
    for key in doomed:
        sys.modules.pop(key, None)


def import_topic(package: str, slug: str) -> types.ModuleType:
    """Import one topic module of a loaded package (errors propagate to the caller)."""
    return importlib.import_module(f"{package}.{slug}")


class TopicModule:
    """The learner's module as checks see it: a missing name is a `MissingName`, not a crash."""

    def __init__(self, module: types.ModuleType, slug: str):
        self._module, self._slug = module, slug

    def __getattr__(self, name: str):
        try:
            return getattr(self._module, name)
        except AttributeError:
            raise MissingName(name, f"{self._slug}.py") from None
