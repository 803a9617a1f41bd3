# Xueji: `make run` serves the demo, `make test` runs the test suite. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format e2e bench fuzz migrate seed worker beat messages clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py signing_key
	$(PY) manage.py load_reference_data
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e -m browser

bench: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/xueji_bench} $(PY) -m pytest -o addopts="" -p no:cacheprovider --create-db -s tests/benchmarks

fuzz: $(STAMP)  # schemathesis against a server it starts (needs PostgreSQL on 127.0.0.1:5432)
	bash .ci/fuzz

messages: $(STAMP)  # compile every */locale/*/LC_MESSAGES/*.po to .mo (no GNU gettext needed)
	$(PY) -c "import pathlib, polib; [polib.pofile(str(p)).save_as_mofile(str(p.with_suffix('.mo'))) for p in pathlib.Path('.').glob('*/locale/*/LC_MESSAGES/*.po')]"

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) var db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
