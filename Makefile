# SpineCase: two commands do all set-up on a fresh Debian machine.
#   make run    install into .venv and open the app on the thoracic sample case
#   make test   install into .venv (with the test extra), lint (ruff), type-check (mypy) and run the test suite offscreen
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SAMPLE := sample_dicoms/thoracic_ddlps/case.spinecase.json

.PHONY: run test typecheck bench samples screenshots lint sysdeps-run sysdeps-test node-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

sysdeps-run:
	@.ci/system-packages run

sysdeps-test:
	@.ci/system-packages test

run: sysdeps-run $(STAMP)
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != "offscreen" ]; then \
	  echo "No display found: run it under a virtual screen with 'xvfb-run -a make run', or render a PNG with '$(BIN)/spinecase open $(SAMPLE) --layout spine --screenshot out.png'."; \
	  exit 2; \
	fi
	$(BIN)/spinecase open $(SAMPLE) --layout spine

NODE_DIR   := tests/node
NODE_STAMP  = $(NODE_DIR)/node_modules/.installed-$(shell cat $(NODE_DIR)/package-lock.json | cksum | cut -d' ' -f1)

# tests/node: dcmjs and @cornerstonejs/adapters from the npm registry, pinned by package-lock.json; npm's own
# cache (~/.npm) makes a reinstall offline, and the stamp skips it while the lock file is unchanged.
node-deps:
	@if command -v npm >/dev/null; then \
	  if [ ! -f "$(NODE_STAMP)" ]; then \
	    (cd $(NODE_DIR) && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) && touch "$(NODE_STAMP)"; \
	  fi; \
	else echo "npm not found: the OHIF/Cornerstone3D SR tests will fail (install nodejs and npm)"; fi

test: sysdeps-test $(STAMP) node-deps
	$(BIN)/ruff check app imaging widgets tests benchmarks tools docs
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

typecheck: $(STAMP)
	$(BIN)/mypy

bench: sysdeps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_load.py
	@if [ -f benchmarks/bench_render.py ]; then QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_render.py; fi
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_window.py
	$(BIN)/python benchmarks/bench_scan.py
	$(BIN)/python benchmarks/bench_pacs.py

samples: $(STAMP)
	$(BIN)/python -m tools.phantom sample_dicoms

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python docs/make_screenshots.py docs/screenshots
	SPINECASE_SCREENSHOTS=full QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/test_measure_gui_screenshot.py

lint: $(STAMP)
	$(BIN)/ruff check app imaging widgets tests benchmarks tools docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis .bench_data $(NODE_DIR)/node_modules
