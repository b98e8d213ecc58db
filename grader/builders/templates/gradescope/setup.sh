#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu), with this
# bundle unpacked in /autograder/source. It installs Python 3.11+ and the pinned packages into
# /autograder/source/.venv; run_autograder then grades every submission with them.
set -euo pipefail
SOURCE="${KATA_AUTOGRADER_ROOT:-/autograder}/source"
cd "$SOURCE"
export DEBIAN_FRONTEND=noninteractive

apt-get update
# bubblewrap is the grader's sandbox; where it cannot start (Docker without user namespaces)
# grading still runs with resource limits and seccomp, and every result says so.
apt-get install -y --no-install-recommends ca-certificates bubblewrap libseccomp2 python3 python3-venv

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then  # Ubuntu 22.04 ships 3.10 as python3; 3.11 is in its own package
  apt-get install -y --no-install-recommends python3.11 python3.11-venv
  python=python3.11
fi
"$python" -m venv .venv || { apt-get install -y --no-install-recommends "$python-venv" && "$python" -m venv .venv; }

pip=(.venv/bin/python -m pip install --no-cache-dir --disable-pip-version-check)
"${pip[@]}" --upgrade pip
# torch's CPU build first (PyPI's Linux wheel would bring CUDA, several GB); the rest of the
# pinned dependencies from pyproject.toml then find torch==2.13.0 already satisfied.
"${pip[@]}" --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
"${pip[@]}" -e .
.venv/bin/python -m grader.course.offline   # GPT-2's BPE files for tiktoken, built from data/, offline
chmod -R a+rX "$SOURCE"              # the graded code runs as uid 65534 and imports the runtime
