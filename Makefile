# The two commands: `make demo` and `make test`. Each creates .venv when missing and installs
# what it needs from pyproject.toml, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
# Browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install demo test test-fast lint bench corpus docs labextension clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml hatch_build.py hitnb/core/_file_events.c hitnb/hashing/_shared.c | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The JupyterLab extension, built from the committed lockfile (npm ci) and linked into the
# environment's labextensions folder, where `jupyter lab` finds it.
LABEXT := hitnb/labextension/package.json
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/hitnb-labextension
LABEXT_SOURCES := $(wildcard labextension/src/*.ts labextension/style/*) \
	labextension/package.json labextension/package-lock.json

$(LABEXT): $(LABEXT_SOURCES) | $(STAMP)
	cd labextension && npm ci --no-audit --no-fund --loglevel=error
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" npm run build
	touch $(LABEXT)

labextension: $(LABEXT)
	mkdir -p $(dir $(LABEXT_LINK))
	ln -sfn $(CURDIR)/hitnb/labextension $(LABEXT_LINK)

# The demo runs the quickstart twice, and links the JupyterLab extension so that the
# `jupyter lab` it suggests next shows the hitnb panel.
demo: install labextension
	$(PY) example_notebooks/run_demo.py example_notebooks/quickstart.ipynb

docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install lint labextension $(CHROMIUM)
	cd labextension && npx jest --silent
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow" -x -q

bench: install
	$(PY) benchmarks/run.py --write-docs

# The notebook corpus (statsmodels' 81 example notebooks, fetched into the user cache folder):
# plain twice, memoized twice, compared cell by cell. CORPUS_ARGS="--sample" runs the fast sample.
corpus: install
	$(PY) benchmarks/notebooks.py $(CORPUS_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -rf hitnb/labextension labextension/node_modules labextension/lib labextension/build-test
