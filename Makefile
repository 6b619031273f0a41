# The two commands for a newcomer: `make run` (app with demo data on http://127.0.0.1:5000, and
# the background worker that makes reports)
# and `make test` (the whole suite). Both set up what they need themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := village_survey

.PHONY: run test bench install system-deps system-deps-test translations i18n-update serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip setuptools
	$(BIN)/python -m pip install -q -e '.[test,bench,postgres,server]'
	touch $@

install: $(VENV)/.installed translations

system-deps:
	bash .ci/apt-deps runtime

system-deps-test:
	bash .ci/apt-deps test

# Catalogs are compiled at install time; the .mo files are not in git.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

run: system-deps install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	FLASK=$(BIN)/flask bin/run-with-worker --host $(HOST) --port $(PORT)

test: system-deps-test install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: system-deps-test install
	$(BIN)/python bench/run.py

# For developers: extract new strings, merge them into the catalogs, and fill the English one.
i18n-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F pyproject.toml -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -N --no-wrap -i translations/messages.pot -d translations
	$(BIN)/python .ci/fill_en_catalog.py translations/en/LC_MESSAGES/messages.po

clean:
	rm -rf $(VENV) instance
