# Two commands on a fresh machine (Python 3.10+, Node.js 18+ with npm):
#   make demo    set up .venv (torch that fits this machine, nnscape with its viewer) and run the demo
#   make test    set up the same and run the whole test suite
# Variables: PYTHON (the interpreter the venv is made from), TORCH (the torch requirement, default the newest;
# CI pins one), TORCH_INDEX (where torch comes from: PyTorch's CPU-only wheels on Linux without an NVIDIA
# driver, else PyPI's default build; empty for your pip configuration), DEMO_ARGS (e.g. --no-browser).

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch
CPU_INDEX := https://download.pytorch.org/whl/cpu
# Only where it can be reached: pip would otherwise retry it for every package before falling back to PyPI.
TORCH_INDEX ?= $(shell [ "$$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1 \
                 && $(PYTHON) -c "import urllib.request as u; u.urlopen('$(CPU_INDEX)/', timeout=5)" 2>/dev/null \
                 && echo $(CPU_INDEX))
DEMO_ARGS ?=

BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BUNDLE := src/nnscape/server/static/viewer.js
# The official glTF validator the export tests run.
GLTF_CHECK := tests/gltf/node_modules/.package-lock.json
# PyPI stays an extra index so that torch's own requirements resolve.
TORCH_OPTIONS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)

.PHONY: demo test setup clean

demo: setup
	$(BIN)/nnscape demo $(DEMO_ARGS)

test: setup $(GLTF_CHECK)
	$(BIN)/python -m pytest

setup: $(INSTALLED) $(BUNDLE)

# The venv, torch, then the package with its test tools (`pip install -e` builds the viewer through npm).
$(INSTALLED): pyproject.toml web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing: install Node.js 18+ with npm (e.g. apt-get install nodejs npm)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_OPTIONS) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@$(BIN)/python -c "import torch; print('torch', torch.__version__, '(CUDA)' if torch.cuda.is_available() else '(CPU)')"
	touch $@

# The viewer again whenever its sources changed since the last build (a pull, an edit).
$(BUNDLE): $(INSTALLED) $(shell find web/src -type f) web/index.html web/build.mjs
	cd web && npm run build --silent
	touch $@

$(GLTF_CHECK): tests/gltf/package-lock.json
	cd tests/gltf && npm ci --no-audit --no-fund --silent

clean:
	rm -rf $(VENV) src/nnscape/server/static
