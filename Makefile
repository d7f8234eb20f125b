# Hub — two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint system-packages test-requirements clean

run: install
	$(PY) manage.py runhub $(HUB_ARGS)

# -n auto: as many test processes as tests/bootstrap.py says (HUB_TEST_WORKERS=0: one process).
test: install test-requirements
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

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
	$(PY) -m pip install --quiet --no-deps 'pysnow==0.7.17'  # see the note at its dependencies in pyproject.toml
	touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
