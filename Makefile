# Every command a user types is here and in the README. The first target sets up .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTDEPS := $(VENV)/.testdeps-installed
TOPIC  ?=

.PHONY: help setup test lint check fixtures topic grade bench release notebooks gradescope classroom prairielearn clean

help:
	@echo "make grade      grade the demo class in examples/submissions into grades/"
	@echo "                (SUBMISSIONS=DIR OUT=DIR for a real class; ARGS=--force to re-grade all)"
	@echo "make test       prove the suite: reference passes, stubs and mistakes fail, fixtures fresh"
	@echo "make lint       ruff over the code, mypy over the engine (make test runs both)"
	@echo "make check      check your exercises/ (TOPIC=causal_attention for one topic)"
	@echo "make fixtures   regenerate tests/fixtures from solutions/"
	@echo "make topic      scaffold a new topic: SLUG=name TITLE=\"...\" CHAPTER=4.2 [DEPENDS=a,b] (CONTRIBUTING.md)"
	@echo "make bench      time the grader against one pytest run per submission"
	@echo "make release    dist/student/ and dist/student.zip: the course without solutions"
	@echo "make notebooks  an nbgrader course folder generated from the same sources"
	@echo "make gradescope dist/gradescope/autograder.zip (ASSIGNMENT=ch3: dist/gradescope/ch3/, that assignment only)"
	@echo "make classroom  dist/classroom/: a Classroom 50 template repository with its autograder.py"
	@echo "make prairielearn dist/prairielearn/: a PrairieLearn question per topic, its grader image"

setup: $(STAMP)

# PyPI's torch wheel for Linux carries CUDA (several GB). A learner's CPU-only Linux machine can take
# PyTorch's own CPU build of the same version first: make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_PIN := $(shell grep -o '"torch==[0-9.]*"' pyproject.toml | tr -d '"')

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet --disable-pip-version-check --index-url $(TORCH_INDEX) $(TORCH_PIN))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	$(BIN)/python -m grader.course.offline
	$(BIN)/kata snapshot
	@touch $@

$(TESTDEPS): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[nbgrader,dev]'
	@touch $@

# Each proof runs once per kernel set: test_suite runs the catalogue once per pass (fresh fixtures
# and named mistakes from the same run). The main pass spreads whole test files over every core
# (pytest-xdist, --dist loadfile: a file's class-wide fixtures, such as the hostile class, are built
# once); no bytecode is written, so nothing in the repository changes while test_hostile proves that
# grading changes nothing there. The pass on PyTorch's portable kernels runs beside it; its output follows.
# Every process is single-threaded (OMP_NUM_THREADS=1, as the checks and the grading workers are): the
# processes already fill the cores, and torch's threads on top of them only wait for each other
# (the learner-path training took 52 s in the suite, 7 s single-threaded).
PORTABLE_LOG := $(VENV)/portable-kernels.log
test: export OMP_NUM_THREADS = 1
test: setup $(TESTDEPS) lint
	@ATEN_CPU_CAPABILITY=default PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest tests --impl solutions grader/tests/test_suite.py \
	  grader/tests/test_diagnose.py -q -p no:cacheprovider > $(PORTABLE_LOG) 2>&1 & portable=$$!; \
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest tests --impl solutions grader/tests -q -n auto --dist loadfile; main=$$?; \
	wait $$portable; again=$$?; \
	echo "Again on PyTorch's portable kernels: the same verdicts and the same named mistakes on any CPU"; \
	cat $(PORTABLE_LOG); test $$main -eq 0 && test $$again -eq 0

lint: setup $(TESTDEPS)
	$(BIN)/ruff check grader tests exercises solutions scripts
	$(BIN)/mypy

check: setup
	$(BIN)/kata check $(TOPIC)

fixtures: setup
	$(BIN)/python -m grader.builders.fixtures $(TOPIC)

topic: setup
	$(BIN)/python -m grader.builders.scaffold "$(SLUG)" --title "$(TITLE)" --chapter "$(CHAPTER)" --depends "$(DEPENDS)"

SUBMISSIONS ?= examples/submissions
OUT         ?= $(if $(ASSIGNMENT),grades/$(ASSIGNMENT),grades)
grade: setup
	@if [ "$(SUBMISSIONS)" = "examples/submissions" ]; then $(BIN)/python -m grader.builders.demo examples/class.toml examples/submissions; fi
	$(BIN)/python -m grader grade $(SUBMISSIONS) --out $(OUT) $(if $(ROSTER),--roster "$(ROSTER)") $(if $(COLUMN),--column "$(COLUMN)") $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") $(ARGS)

bench: setup
	$(BIN)/python -m grader.builders.bench

release: setup
	$(BIN)/python -m grader.builders.release

notebooks: setup $(TESTDEPS)
	$(BIN)/python -m grader.builders.notebooks

gradescope: setup
	$(BIN)/python -m grader.builders.gradescope $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)")

classroom: setup
	$(BIN)/python -m grader.builders.classroom

prairielearn: setup
	$(BIN)/python -m grader.builders.prairielearn

clean:
	rm -rf $(VENV) data/tiktoken-cache grades dist
