# Two commands on a fresh machine (Python >= 3.11):
#   make demo   set up .venv, scaffold a demo project, show its status board and checklists
#   make test   set up .venv and run the test suite (what CI runs)
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned first so pip takes the CPU build; the project's own range stays `torch>=2.13`.
TORCH ?= torch==2.13.0
DEMO_PARENT ?= build/demo
DEMO_NAME ?= support-summarizer
DEMO := $(DEMO_PARENT)/$(DEMO_NAME)

.PHONY: setup demo test bench

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	mkdir -p $(DEMO_PARENT)
	rm -rf $(DEMO)  # the demo folder is the Makefile's own (under build/)
	$(VENV)/bin/lifecycle new $(DEMO_NAME) -o $(DEMO_PARENT) --no-input --task summarization \
	  --use-case "Summarize customer support dialogues so agents can pick up a case in seconds"
	cd $(DEMO) && $(CURDIR)/$(VENV)/bin/lifecycle status && $(CURDIR)/$(VENV)/bin/lifecycle check

test: setup
	$(VENV)/bin/ruff check lifecycle tests benchmarks
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/run_all.py
