# Hub — two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint system-packages test-requirements clean

run: install
	$(PY) manage.py runhub $(HUB_ARGS)

test: install test-requirements
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

# mysqlclient builds against the MariaDB client headers; it is the one system
# package Hub cannot do without.
system-packages:
	@./deploy/system-packages.sh

# What the tests need from the machine (Chromium, the peer servers, ...): checked in
# milliseconds, installed when missing (as root). The list is in the script.
test-requirements:
	@./deploy/test-requirements.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
