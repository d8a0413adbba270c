# wf — one entry point for a new clone. Only Python 3.11+ and make are assumed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fuzz chaos proto lint clean

# The virtualenv is created and the project installed on first use, and again when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
			echo "wf needs Python 3.11 or newer: install it, or run make PYTHON=/path/to/python3.11" >&2; exit 1; }; \
		echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: start a dev server on embedded PostgreSQL at 127.0.0.1:$(PORT) and its web UI at the port + 1000,
## printing the UI's URL (make run PORT=7300 DATA_DIR=dir)
PORT ?= 7233
DATA_DIR ?=
run: $(STAMP)
	$(BIN)/wf server start-dev --port $(PORT)$(if $(DATA_DIR), --data-dir '$(DATA_DIR)')

## test: run the whole test suite against a real server and embedded PostgreSQL, in TEST_WORKERS
## processes (each with its own PostgreSQL; TEST_WORKERS=0 runs it in this one)
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

## fuzz: the fuzzing suite's long profile: at least 10,000 generated requests per RPC (about 30 minutes)
fuzz: $(STAMP)
	WF_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz -o timeout=0

## chaos: the chaos tests: wf servers and workers SIGKILLed, and PostgreSQL SIGKILLed 30 times (long)
chaos: $(STAMP)
	WF_CHAOS_PROFILE=long $(BIN)/python -m pytest tests/test_chaos.py tests/test_chaos_postgres.py -o timeout=0 -s

## proto: regenerate the committed wire modules in wf/ from proto/
proto: $(STAMP)
	rm -rf wf/v1 && mkdir -p wf/v1
	cd proto && ../$(BIN)/python -m grpc_tools.protoc -I . --python_out=.. --pyi_out=.. \
		--grpc_python_out=.. wf/v1/*.proto
	touch wf/v1/__init__.py

## lint: ruff and mypy (strict)
# mypy reads the packages as they are installed: history/, matching/ and server/ inside wf/, through
# a tree of links in build/typecheck (the editable install's import hook is invisible to mypy).
TYPECHECK := build/typecheck
lint: $(STAMP)
	$(BIN)/ruff check .
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/wf
	ln -s ../../worker_sdk $(TYPECHECK)/worker_sdk
	cd $(TYPECHECK)/wf && ln -s ../../../wf/__init__.py ../../../wf/v1 ../../../history ../../../matching \
		../../../server ../../../migrations ../../../ui .
	cd $(TYPECHECK) && ../../$(BIN)/mypy --config-file ../../pyproject.toml \
		-p worker_sdk -p wf.history -p wf.matching -p wf.server -p wf.ui

clean:
	rm -rf $(VENV) build *.egg-info
