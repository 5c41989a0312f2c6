# Every target creates .venv and installs what is missing, so on a fresh
# machine `make demo` and `make test` are the whole set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-browser bench lint vectors guide clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" "setuptools>=68"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)
	@echo "samoorg is installed in $(VENV): run $(BIN)/samoorg, or first '. $(BIN)/activate' for plain 'samoorg'"

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Only the tests in a real headless Chromium (.ci/install-chromium installs Debian's).
test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	mkdir -p .typecheck/samoorg && for d in node protocol crdt cli; do ln -sfn ../../$$d .typecheck/samoorg/$$d; done
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPYPATH=.typecheck $(BIN)/mypy -p samoorg

vectors: $(STAMP)
	$(BIN)/python scripts/gen_vectors.py
	$(BIN)/python scripts/gen_sync_vectors.py
	$(BIN)/python scripts/gen_agreement_vectors.py
	$(BIN)/python scripts/gen_announce_vectors.py
	$(BIN)/python scripts/gen_view_vectors.py

guide: $(STAMP)
	$(BIN)/python scripts/gen_guide.py

clean:
	rm -rf $(VENV) .typecheck .pytest_cache .mypy_cache .ruff_cache .hypothesis
