# Megacity — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# 100,000 requests over 12 months (~1.5 min to load): enough rated requests per street and
# town for a street ranking and a governance focus list; DEMO_COUNT=20000 loads in ~15 s.
DEMO_COUNT ?= 100000
BENCH_ROWS ?= 10000000
export MEGACITY_DATABASE_URL ?= sqlite:///megacity.db

.PHONY: run test lint bench install install-dev messages docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, create ./megacity.db, load the Beijing demo if empty, train the dispatch model if
## missing, compute the pages' rankings and analyses (megacity refresh), serve http://127.0.0.1:8000
run: install
	$(BIN)/megacity init
	$(BIN)/megacity demo --count $(DEMO_COUNT) --months 12 --if-empty --accounts
	$(BIN)/megacity classify retrain --if-missing
	$(BIN)/megacity refresh
	$(BIN)/megacity serve --host $(HOST) --port $(PORT)

## make test: install with the dev extra and run every test tier that this machine can run
test: install-dev
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

## make lint: ruff (lint + format) and mypy --strict
lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## make bench: benchmarks with printed figures (see bench/README.md)
bench: install-dev
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/assess.py --rows $(BENCH_ROWS)
	$(BIN)/python bench/repeats.py --n $(BENCH_ROWS)
	$(BIN)/python bench/indicators.py
	$(BIN)/python bench/forecast.py
	$(BIN)/python bench/topics_replies.py
	$(BIN)/python bench/abnormal.py
	$(BIN)/python bench/pages.py

## make docs: regenerate docs/cli.md from the commands' --help
docs: install-dev
	$(BIN)/typer megacity.cli utils docs --name megacity --output docs/cli.md

## make messages: re-extract and compile the Babel catalogues
messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ --no-location -o src/megacity/locale/messages.pot --project=megacity .
	$(BIN)/pybabel update -i src/megacity/locale/messages.pot -d src/megacity/locale
	$(BIN)/pybabel compile -d src/megacity/locale

clean:
	rm -rf $(VENV) megacity.db megacity.db-wal megacity.db-shm files
