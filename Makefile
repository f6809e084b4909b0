# Emergence in Neural Networks: build pipeline (GNU make). `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

# make book FAST=0            full, paper-faithful settings (injects FAST = False)
# make book EDITION=student   no solutions, into _build/student/html
# make book CHAPTERS=01,03    execute and build only these chapters (quick iteration)
# make book FORCE=1           re-execute every chapter even if its cached run is current
# make books                  both editions; EDITIONS_PARALLEL=1 (default) runs the two builds
#                             at once, every chapter at 1 thread; EDITIONS_PARALLEL=0 one after
#                             the other at the usual threads (README, "Speed")
# make book EDITION=student TRAINING_FROM=instructor
#                             load the models the instructor edition's chapters trained (its
#                             cache entries; waits for each) instead of training them again
# make unit UNIT_WORKERS=0    the unit tests in one process (default: 2 pytest-xdist workers at
#                             1 thread each, one test file per worker at a time)
FAST ?= 1
EDITION ?= instructor
CHAPTERS ?=
FORCE ?=
PYTEST_ARGS ?=
TRAINING_FROM ?=
EDITIONS_PARALLEL ?= 1
UNIT_WORKERS ?= 2

ifeq ($(EDITION),student)
SITE_DIR := _build/student/html
else
SITE_DIR := _build/html
endif

.PHONY: help install book books test-pipelines test-instructor test-student full-results test \
	lint unit site sites sync check-sync bench \
	constraints clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

install: $(STAMP)  ## create .venv and install the pinned environment (redone when pins change)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -c constraints.txt -e ".[book,test,cluster,serve,hf]"
	@touch $@

book: $(STAMP)  ## execute every chapter (FAST) and build the HTML into _build/html
	$(BIN)/python scripts/build_book.py --edition $(EDITION) --fast $(FAST) \
		$(if $(CHAPTERS),--chapters $(CHAPTERS)) $(if $(filter 1,$(FORCE)),--force) \
		$(if $(TRAINING_FROM),--training-from $(TRAINING_FROM))

# $(call both_editions,COMMAND,WHAT): COMMAND (a shell command using $$e) for the instructor and
# the student edition at the same time, every chapter at 1 thread, output prefixed by the edition
define both_editions
	@for e in instructor student; do \
	  ( set -o pipefail; \
	    { export EMERGENCE_THREADS=$${EMERGENCE_THREADS:-1} OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1}; \
	      $(1); } 2>&1 | sed -u "s/^/[$$e] /" ) & eval "pid_$$e=$$!"; \
	done; \
	status=0; \
	wait $$pid_instructor || { status=1; echo "$(2): the instructor edition FAILED"; }; \
	wait $$pid_student || { status=1; echo "$(2): the student edition FAILED"; }; \
	exit $$status
endef

books: $(STAMP)  ## both editions, at once unless EDITIONS_PARALLEL=0 (the student's with the instructor's models)
ifeq ($(EDITIONS_PARALLEL),1)
	$(call both_editions,$(MAKE) book EDITION=$$e \
	  $$([ $$e = student ] && echo TRAINING_FROM=instructor),make books)
else
	$(MAKE) book EDITION=instructor
	$(MAKE) book EDITION=student TRAINING_FROM=instructor
endif

full-results: $(STAMP)  ## run chapters in FULL mode and write their committed results (CHAPTERS=03)
	$(BIN)/python scripts/full_results.py $(if $(CHAPTERS),--chapters $(CHAPTERS))

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check src tests notebooks scripts benchmarks

unit: $(STAMP)  ## unit tests and notebook-pair checks (no browser), on UNIT_WORKERS processes
ifeq ($(UNIT_WORKERS),0)
	$(BIN)/python -m pytest -m "not site" $(PYTEST_ARGS)
else
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} EMERGENCE_THREADS=$${EMERGENCE_THREADS:-1} \
		$(BIN)/python -m pytest -m "not site" -n $(UNIT_WORKERS) --dist loadfile $(PYTEST_ARGS)
endif

site: $(STAMP)  ## browser tests of the built site (after make book)
	SITE_DIR=$(SITE_DIR) $(BIN)/python -m pytest -m site $(PYTEST_ARGS)

sites: $(STAMP)  ## browser tests of both editions' sites (after make books)
	$(MAKE) site EDITION=instructor
	$(MAKE) site EDITION=student

test: $(STAMP)  ## lint, unit tests, both editions built and site-tested (executes every chapter)
	@start=$$(date +%s); \
	$(MAKE) lint; \
	if [ "$(EDITIONS_PARALLEL)" = 1 ]; then \
	  $(MAKE) test-pipelines; \
	else \
	  $(MAKE) unit && $(MAKE) books && $(MAKE) sites; \
	fi; \
	echo "make test: all steps passed in $$(( $$(date +%s) - start )) s"

# make test's two pipelines at once, every chapter at 1 thread: the instructor edition (built,
# then site-tested), and the unit tests (one process) followed by the student edition (built
# with the models the instructor edition's runs of its chapters trained, then site-tested);
# the second one's output, unit tests included, is prefixed [student].
test-pipelines: $(STAMP)
	$(call both_editions,$(MAKE) test-$$e,make test)

test-instructor: $(STAMP)
	@t0=$$(date +%s); $(MAKE) book EDITION=instructor; t1=$$(date +%s); \
	$(MAKE) site EDITION=instructor; \
	echo "make test: the instructor edition built in $$(( t1 - t0 )) s and site-tested in" \
	  "$$(( $$(date +%s) - t1 )) s"

test-student: $(STAMP)
	@t0=$$(date +%s); $(MAKE) unit UNIT_WORKERS=0; t1=$$(date +%s); \
	$(MAKE) book EDITION=student TRAINING_FROM=instructor; t2=$$(date +%s); \
	$(MAKE) site EDITION=student; \
	echo "make test: the unit tests passed in $$(( t1 - t0 )) s; the student edition built in" \
	  "$$(( t2 - t1 )) s and site-tested in $$(( $$(date +%s) - t2 )) s"

sync: $(STAMP)  ## rewrite the install cell and regenerate notebooks/*.ipynb from the .py files
	$(BIN)/python scripts/sync_notebooks.py

check-sync: $(STAMP)  ## report notebook pairs that drifted (exit 1), change nothing
	$(BIN)/python scripts/sync_notebooks.py --check

bench: $(STAMP)  ## on an idle machine: chapter FAST times, library vs plain training loop, ...
	$(BIN)/python benchmarks/train_loop.py
	$(BIN)/python benchmarks/grokking.py
	$(BIN)/python benchmarks/batched_seeds.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/chapters.py $(if $(CHAPTERS),--chapters $(CHAPTERS))

constraints:  ## re-pin constraints.txt from the packages installed in .venv
	@{ sed -n '/^#/p' constraints.txt; \
	   $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^#' -e '^pip==' \
	   | sed -E 's/^(torch==[0-9.]+)\+cpu$$/\1/'; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) pins"

clean:  ## remove build outputs (_build)
	rm -rf _build

distclean: clean  ## also remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
