# razorlab: `make lab` to learn, `make test` to check everything. Needs only Python and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888
# Headless use: `make lab LAB_ARGS=--no-browser` (or NO_BROWSER=1).
LAB_ARGS ?= $(if $(NO_BROWSER),--no-browser,)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
JOBS   ?= 2
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: install lab test lint bench notebooks exercises go-measure clean

# Re-install only when the package definition changes, so `make test` starts fast.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[lab,test]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=curriculum --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ROOT_ARGS) $(LAB_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/razorlab map --check
	$(BIN)/razorlab exercises build --check
	$(BIN)/pytest -n $(JOBS) --dist loadscope $(NBVAL) tests curriculum solutions

bench: install
	$(BIN)/python -m benchmarks

notebooks: install
	$(BIN)/razorlab notebooks -j $(JOBS)
	$(BIN)/razorlab exercises build
	$(BIN)/razorlab map

# Regenerate the student notebooks in exercises/ from solutions/.
exercises: install
	$(BIN)/razorlab exercises build

# Re-measure the real Go runtime (needs `go`, e.g. Debian's golang-go); rewrites
# data/go/measurements.json, which the model tests compare against. Not part of `make test`.
go-measure: install
	$(BIN)/python data/go/run_measurements.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
