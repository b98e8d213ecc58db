"""The hidden seeds: derived from the instructor's secret, so that nobody without it can rebuild
the hidden inputs from the public checks. The class grader (grading.grade) and nbgrader's
instructor side (learner.notebook_checks) both take them from here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from pathlib import Path

from . import checks as C
from . import wire
from ..course.curriculum import ROOT


SECRET_ENV = "KATA_SECRET"  # the path of the instructor's secret, if not the default


def secret_path() -> Path:
    """Where the instructor's secret lives: $KATA_SECRET, else kata/secret in the instructor's
    config folder ($XDG_CONFIG_HOME or ~/.config): outside the repository and any release."""
    if os.environ.get(SECRET_ENV):
        return Path(os.environ[SECRET_ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "kata" / "secret"


def instructor_secret(path: Path | None = None) -> tuple[bytes, str]:
    """The secret the hidden inputs are derived from, and where it is (never its value). Made on
    first use: 32 random bytes, written readable by its owner only (0600)."""
    path = path or secret_path()
    try:
        secret = path.read_bytes().strip()
        if len(secret) >= 16:
            shared = path.stat().st_mode & 0o077
            return secret, (_MADE.get(path) or f"hidden inputs derived from the secret in {path}"
                            + (" -- others can read it: chmod 600 it" if shared else ""))
        raise ValueError(f"the secret in {path} is too short (16 bytes at least): delete it to make a new one")
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another grader made it meanwhile
        return instructor_secret(path)
    with os.fdopen(fd, "wb") as out:
        out.write(secret + b"\n")
    _MADE[path] = (f"hidden inputs derived from a new secret, made now in {path} (mode 0600): keep it, "
                   f"and out of anything students see")
    return secret, _MADE[path]


_MADE: dict[Path, str] = {}  # secrets this process made: the grader says so once it prints the note


def hidden_seeds(root: Path = ROOT, secret: bytes | None = None) -> tuple[int, ...]:
    """The hidden seeds: `count` of them (solutions/hidden.toml), each an HMAC of the instructor's
    secret, so that nobody without the secret can rebuild the hidden inputs from the public checks."""
    path = root / "solutions" / "hidden.toml"
    if not path.exists():
        return ()
    config = tomllib.loads(path.read_text())
    count = int(config.get("count", len(config.get("seeds", ()))))
    secret = secret if secret is not None else instructor_secret()[0]
    return tuple(_derived_seed(secret, i) for i in range(count))


def _derived_seed(secret: bytes, index: int, attempt: int = 0) -> int:
    """A seed in [1, 2**62): too many to try each against hidden inputs that leak a few bits."""
    label = f"kata hidden seed {index}" + (f" attempt {attempt}" if attempt else "")
    return 1 + int.from_bytes(hmac.new(secret, label.encode(), hashlib.sha256).digest()[:8], "big") % (2**62 - 2)


def _fresh_seeds(chk: C.Check, secret: bytes, count: int, attempts: int = 16) -> tuple[int, ...]:
    """For each hidden seed, the first derived seed whose inputs differ from the public ones (an
    input may use only seed % 3, say); none when the inputs ignore the seed (a seeded construction)."""
    public = wire.pack(chk.inputs(0))
    seeds = []
    for i in range(count):
        for attempt in range(attempts):
            seed = _derived_seed(secret, i, attempt)
            if seed not in seeds and wire.pack(chk.inputs(seed)) != public:
                seeds.append(seed)
                break
    return tuple(seeds)

