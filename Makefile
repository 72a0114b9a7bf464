# Practice Portal: `make demo` runs everything locally, `make test` runs the test suite.
# Needs only Python 3.11+ (PYTHON=python3.12 make demo to choose another interpreter).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint migrate venv dev clean

$(BIN)/python:
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else \"Python 3.11+ is required (found \" + sys.version.split()[0] + \")\")"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-runtime

venv: $(VENV)/.installed-runtime

dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed-runtime
	$(BIN)/python -m portal.demo_runner

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

migrate: $(VENV)/.installed-runtime
	mkdir -p var
	FLASK_APP=wsgi $(BIN)/flask db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
