# kim-hub: `make run` and `make test` do all set-up on a fresh machine.
# the distribution's Python where it is 3.11 or newer and has venv: Debian builds it with profile-guided
# optimisation, and the tests and the hub ran 10-25 % faster on it than on an unoptimised build such as
# pyenv's default (CHANGELOG, "A shorter test run"); else python3 from PATH
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOME_DIR ?= kim-home
# test processes (pytest-xdist): one per CPU; a test file stays on one worker, so its module-scoped
# fixtures (a whole ingest, a Prefect server) are built once. Files are handed out in the order
# tests/conftest.py collects them, the long-running first (xdist's own order puts the files with
# the most tests first, which left the few long reliability files to the end, on one worker).
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30
# the production rooms (docs/architecture.md); tests and benchmarks are linted, not type-checked
ROOMS  := core runtime mappings connectors linkage exchange reporting synth hub_db pipeline flows web cli
TYPECHECK_DIR := .typecheck

.PHONY: install run test test-fast lint typecheck check clean openapi

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(VENV)/bin/kim-hub demo --home $(HOME_DIR)

# the real OpenID provider the sign-in tests start (Node.js; pinned by its lock file)
OIDC_PROVIDER := tests/support/oidc

$(OIDC_PROVIDER)/node_modules/.installed: $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund
	@touch $@

# axe-core, which the browser test injects into every page of its walk (accessibility check)
AXE := tests/support/axe

$(AXE)/node_modules/.installed: $(AXE)/package-lock.json
	npm ci --prefix $(AXE) --no-audit --no-fund
	@touch $@

test: install $(OIDC_PROVIDER)/node_modules/.installed $(AXE)/node_modules/.installed
	$(PYTEST)

test-fast: install $(OIDC_PROVIDER)/node_modules/.installed
	$(PYTEST) -m "not e2e"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy finds a package by its folder's name, and this package's folder is the repository root
# (named whatever the clone is called). So a throw-away folder holds a symlink `kim_hub` to the
# root, and mypy runs from inside it: `kim_hub` resolves through the link, and the root itself
# is not on mypy's path (where its rooms would pass for top-level packages).
typecheck: install
	@mkdir -p $(TYPECHECK_DIR)
	@ln -sfn .. $(TYPECHECK_DIR)/kim_hub
	cd $(TYPECHECK_DIR) && MYPYPATH=. $(abspath $(VENV))/bin/mypy \
		--config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/.mypy_cache \
		--python-executable $(abspath $(PY)) -m kim_hub $(addprefix -p kim_hub.,$(ROOMS))

check: lint typecheck test

clean:
	rm -rf $(VENV) $(HOME_DIR) $(OIDC_PROVIDER)/node_modules $(AXE)/node_modules .pytest_cache .mypy_cache .ruff_cache $(TYPECHECK_DIR) build *.egg-info

# the providers' API's OpenAPI document, generated from the code (tests/test_api.py compares them)
openapi: install
	$(VENV)/bin/kim-hub api-openapi > docs/hub-api.openapi.json
