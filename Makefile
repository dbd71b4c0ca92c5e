# Every target installs what it needs into .venv first; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR := data/demo

.PHONY: install run test lint format bench bench-scale lock demo clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/ticket-controlling demo-data --out $(DEMO_DIR) --build-db --if-missing

run: demo
	$(BIN)/streamlit run dashboard/app.py

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The goals of docs/performance.md: 1 M tickets (a few minutes), then 10 M (about 10 minutes).
bench: install
	$(BIN)/python bench/run.py load analyst pages

bench-scale: install
	$(BIN)/python bench/run.py scale incremental

# Re-pin every dependency to what is installed now (after changing pyproject.toml).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
