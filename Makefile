# Two commands: `make demo` (set up, run the main job) and `make test` (set up, run the tests).
# Setup makes .venv and installs torch==2.13.0 FIRST: any other torch spec pulls CUDA builds.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TORCH  := torch==2.13.0

.PHONY: setup demo test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,tensorboard]'
	touch $(STAMP)

# The main job. Until the labs land it trains Lecture 10's deep XOR nets: sigmoid (stuck) vs ReLU.
demo: setup
	$(BIN)/trainlab train examples/xor_deep_sigmoid.yaml --out runs/demo-xor-deep-sigmoid-$$(date +%s)
	$(BIN)/trainlab train examples/xor_deep_relu.yaml --out runs/demo-xor-deep-relu-$$(date +%s)

# Every test, the slow ones included (CI runs this).
test: setup
	$(BIN)/python -m pytest -q -m "slow or not slow"

# The fast suite only, for quick iteration.
test-fast: setup
	$(BIN)/python -m pytest -q

bench: setup
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
