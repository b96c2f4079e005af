# tap-convai — two commands do all the set-up on a fresh machine:
#   make demo   run the main job against the built-in sandbox into an embedded PostgreSQL
#   make test   install what the tests need and run them all
#   make check  the fast lane: lint, types and the in-process tests (no Meltano, no PostgreSQL)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MELTANO := $(VENV)/bin/meltano

.PHONY: install meltano-install demo test check test-pythons test-sdk-next lint sandbox bench fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,dagster]"
	touch $@

meltano-install: .meltano/.installed

.meltano/.installed: $(VENV)/.installed meltano.yml
	MELTANO_SEND_ANONYMOUS_USAGE_STATS=false $(MELTANO) install
	touch $@

demo: install meltano-install
	$(PY) scripts/demo.py

test: install meltano-install lint
	$(PY) -m pytest

# The fast lane: what needs no process of its own (tests marked e2e are left to `make test`,
# and in this lane a test that starts a process fails, naming the mark it lacks).
check: install lint
	CONVAI_FAST_LANE=1 $(PY) -m pytest -q -m "not e2e"

# The fast lane on every Python the package supports (interpreters under pyenv), each in
# its own venv.
PYTHONS ?= 3.10.13 3.11.7 3.12.1 3.13.0
test-pythons:
	@set -e; root=$$(pyenv root); for version in $(PYTHONS); do \
	  venv=.venv-py$$version; \
	  [ -x $$venv/bin/python ] || $$root/versions/$$version/bin/python -m venv $$venv; \
	  $$venv/bin/python -m pip install -q --upgrade pip; \
	  $$venv/bin/python -m pip install -q -e ".[dev,dagster]"; \
	  echo "== Python $$version"; \
	  CONVAI_FAST_LANE=1 $$venv/bin/python -m pytest -q -p no:cacheprovider -m "not e2e"; \
	done

# The suite against the newest singer-sdk release, past the pinned range, in its own venv:
# an SDK upgrade is a measured step (tests/test_sdk_seam.py names any internal that moved).
# Runs through Meltano still use the pinned SDK of .meltano's plugin venv.
SDK_NEXT := .venv-sdk-next
test-sdk-next: meltano-install
	$(PYTHON) -m venv $(SDK_NEXT)
	$(SDK_NEXT)/bin/python -m pip install -q --upgrade pip
	$(SDK_NEXT)/bin/python -m pip install -q -e ".[dev,dagster]"
	$(SDK_NEXT)/bin/python -m pip install -q --upgrade "singer-sdk[msgspec]"
	$(SDK_NEXT)/bin/python -c "import importlib.metadata as m; print('singer-sdk', m.version('singer-sdk'))"
	$(SDK_NEXT)/bin/python -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

sandbox: install
	$(PY) -m sandbox --port 8765

bench: install meltano-install
	$(PY) -m bench

# A fuzz target per response parser, FUZZ_RUNS inputs each (not part of `make test`; every
# crash found becomes a case of tests/test_fuzz_regressions.py)
FUZZ_RUNS ?= 20000
fuzz: install
	$(PY) -m pip install -q -e ".[fuzz]"
	$(PY) -m fuzz --runs $(FUZZ_RUNS)

clean:
	rm -rf $(VENV) $(SDK_NEXT) .venv-py3* .meltano output .pytest_cache
