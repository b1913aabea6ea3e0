# `make run` starts the demo (web, worker and beat); `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv's python, celery and honcho come first, also for the Procfile's processes.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

# A stamp named after the requirements' hash: a repeated run skips pip entirely, and an
# edited requirements file gives a new name, so pip runs again.
REQ_HASH := $(shell cat requirements.txt | sha256sum | cut -c1-16)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
REQ_STAMP := $(VENV)/.installed-$(REQ_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_HASH)

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PYTEST_ARGS ?=

.PHONY: run test lint install install-dev chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(REQ_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '.installed-dev-*' -delete
	touch $@

# requirements-dev.txt includes requirements.txt, so both stamps are true afterwards.
$(DEV_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	find $(VENV) -maxdepth 1 -name '.installed-*' -delete
	touch $@ $(REQ_STAMP)

install: $(REQ_STAMP)

install-dev: $(DEV_STAMP)

var:
	mkdir -p var

run: install | var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho start -f Procfile.dev

# Browser tests drive Debian's Chromium through Playwright.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

test: install-dev chromium | var
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
