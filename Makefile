# The two quick-start commands: `make run` (the portal on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

TRANSLATIONS := portal/translations
# The Vietnamese (and any other) catalogs; their compiled .mo files are build products, not committed.
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install install-dev translations translations-update lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: install $(VENV)/.installed-dev

## Compile the message catalogs (again whenever a .po file changes)
translations: $(MO_FILES)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -l $*

## For developers: collect the source strings again (babel.cfg) and merge them into every catalog; then
## translate the new entries in the .po files (tests/test_i18n.py fails while one is missing or fuzzy)
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --project=MotCua --copyright-holder=MotCua \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

## Install, build the SQLite database, load demo data and the bundled procedures, serve on http://127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) documents demo-ca  # demo keys: each agency signs its documents (existing keys are kept)
	$(FLASK) run --host $(HOST) --port $(PORT)

## Install the test tools, check lint, formatting and types, and run the whole suite (SQLite; set
## TEST_DATABASE_URL for PostgreSQL). `make test LINT=0` skips the checks (CI runs them once, not per database).
LINT ?= 1
test: install-dev $(if $(filter 0,$(LINT)),,lint)
	$(BIN)/pytest $(PYTEST_ARGS)

## ruff's rules, ruff's formatting, and mypy on portal/, workflows/, forms/ (settings in pyproject.toml)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) instance/motcua.db $(MO_FILES)
