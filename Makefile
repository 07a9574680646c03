# razorlab: `make lab` to learn, `make test` to check everything. Needs only Python and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Exact versions the stored notebooks were executed with (`make lock` regenerates it);
# pyproject.toml keeps the ranges for people who `pip install` the package.
LOCK   := requirements.lock
PORT   ?= 8888
# Headless use: `make lab LAB_ARGS=--no-browser` (or NO_BROWSER=1).
LAB_ARGS ?= $(if $(NO_BROWSER),--no-browser,)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
JOBS   ?= 2
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout=300

# JupyterLab serves the repository root, so every link between chapters, exercises and
# solutions resolves, and opens the start-here notebook first. The pre-save hook keeps a saved
# notebook free of the PNG copies plotly's JupyterLab renderer adds to every figure.
LAB_START := /lab/tree/curriculum/00_start_here.ipynb
LAB_HOOK  := razorlab.course.lab.drop_figure_images

.PHONY: install lock lab test lint bench notebooks exercises go-measure clean services services-stop

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the lock or the package definition changes, so `make test` starts fast.
$(STAMP): pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml's ranges (with the lab, test and bench extras) to exact versions for every
# supported Python; commit the result with notebooks re-executed on it (`make notebooks`).
lock: | $(VENV)/bin/python
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra lab --extra test --extra bench --universal \
		--python-version 3.10 --no-emit-package uv -o $(LOCK)

lab: install
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=$(LAB_START) \
		--ContentsManager.pre_save_hook=$(LAB_HOOK) \
		--ServerApp.ip=127.0.0.1 --port=$(PORT) $(ROOT_ARGS) $(LAB_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Redis backend tests find the server `make services` started through .services/redis.url
# (or RAZORLAB_REDIS_URL); without one they skip, except under CI, where they fail.
test: lint
	$(BIN)/razorlab map --check
	$(BIN)/razorlab exercises build --check
	$(BIN)/pytest -n $(JOBS) --dist loadscope $(NBVAL) tests curriculum solutions

# Real services for the backends in razorlab/infra/backends: Redis and PostgreSQL 15 (database
# razorlab, trust auth on loopback) on free loopback ports, files and URLs under .services/
# (installed with apt-get when root and missing). Stop by recorded PID.
services:
	$(PYTHON) razorlab/infra/services.py start

services-stop:
	$(PYTHON) razorlab/infra/services.py stop

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
# Then, if go-newer installed it, Go $(GO_NEWER) on the experiments the model is compared on
# (data/go/measurements_go$(GO_NEWER).json).
go-measure: install go-newer
	$(BIN)/python data/go/run_measurements.py
	if [ -x $(GO_NEWER_BIN) ]; then $(BIN)/python data/go/run_measurements.py \
		--go $(GO_NEWER_BIN) --only gc_pointer_heap --only task_costs --only pool_locality \
		--only spawn_sleeps --only pool_sizes --only wakep_costs --only scavenger; \
	else echo "no Go $(GO_NEWER) at $(GO_NEWER_BIN): only Go 1.19 measured"; fi

# A newer Go next to golang-go: golang-$(GO_NEWER)-go from bookworm-backports, with apt-get when
# root on Debian bookworm (adds the backports source if missing); elsewhere a message only.
GO_NEWER     := 1.23
GO_NEWER_BIN := /usr/lib/go-$(GO_NEWER)/bin/go
.PHONY: go-newer
go-newer:
	$(PYTHON) data/go/run_measurements.py --install-go $(GO_NEWER)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
