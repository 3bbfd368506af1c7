# The README's commands: `make bench` runs the main job on the lab, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PLAYBOOK := $(BIN)/ansible-playbook
WORKER ?= all
PROFILE ?= quick
ANSIBLE_ARGS ?=

.PHONY: setup lab lab-down bench test test-unit test-lab test-release lint mutate clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-run.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

lab: setup
	$(PLAYBOOK) playbooks/lab.yml $(ANSIBLE_ARGS)

lab-down: setup
	$(PLAYBOOK) playbooks/lab.yml -e lab_state=absent $(ANSIBLE_ARGS)

# Debian 13's base root is built too (once, about 5 minutes), though the lab's hosts run Debian 12: make test's lab of
# unlike hosts (tests/lab/test_fleet.py) then finds it ready.
PREBUILD ?= ["trixie"]
bench: setup
	$(PLAYBOOK) bench.yml -e worker=$(WORKER) -e profile=$(PROFILE) -e '{"lab_prebuild_suites": $(PREBUILD)}' \
		$(ANSIBLE_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

# Two pytest workers: the lab's tests in order on one, the unit tests beside them (tests/conftest.py); lint runs
# beside them too, and its output follows theirs. Fails when either fails.
test: setup
	@lint_log=$$(mktemp); \
	$(MAKE) --no-print-directory lint > $$lint_log 2>&1 & lint_pid=$$!; \
	$(BIN)/pytest -v --durations=25 -m "not release" -n 2; tests=$$?; \
	wait $$lint_pid; lint=$$?; \
	echo "--- make lint (ran beside the tests): exit $$lint ---"; cat $$lint_log; rm -f $$lint_log; \
	test $$tests -eq 0 && test $$lint -eq 0

# The lab on trixie and back on bookworm, then lab_wipe=true (about 5 minutes; left out of make test).
test-release: setup
	$(BIN)/pytest -v -m release

test-unit: setup
	$(BIN)/pytest -v -m "not lab"

test-lab: setup
	$(BIN)/pytest -v -m "lab and not release"

# Mutation testing of the bench/ modules named in only_mutate against the non-lab tests
# (pyproject.toml [tool.mutmut]; mutmut pinned in requirements-dev.txt). Not part of `make test`. MUTANTS narrows it,
# e.g. MUTANTS='bench.trends.history*'. The last progress line is the score (checked/all, 🎉 killed, 🙁 survived); survivors follow.
MUTANTS ?=
mutate: setup
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -rf mutants
	$(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results | { grep -v ': not checked$$' || true; }

clean: lab-down
	rm -rf .lab
