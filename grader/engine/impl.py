"""Load an implementation folder (exercises/, solutions/, a student's submission) as a package.

Each folder is imported under a fresh package name, so two implementations never share modules
and a topic module's relative imports (`from .causal_attention import CausalAttention`) resolve
inside the same folder. The folder's own `__init__.py`, if any, is never executed.
"""

from __future__ import annotations

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
        return self.source_to_code(self.get_data(self.path), self.path)


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
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


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
