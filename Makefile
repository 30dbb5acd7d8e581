# Two commands: `make serve` and `make test`. Both create .venv, install the pinned Python
# packages and the npm front-end assets, then serve the site or run every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENDOR := docs/assets/vendor
PYTEST_ARGS ?=
export NO_MKDOCS_2_WARNING := 1  # silence Material's end-of-life banner in every build

.PHONY: setup serve build test coverage bench constraints clean

setup: $(VENV)/.installed $(VENDOR)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints.txt -e ".[pages,docs,test]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Mermaid and KaTeX are served by the site itself (no CDN): copy their builds under docs/.
$(VENDOR)/.installed: node_modules/.package-lock.json
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mermaid $(VENDOR)/katex
	cp node_modules/mermaid/dist/mermaid.min.js node_modules/mermaid/LICENSE $(VENDOR)/mermaid/
	cp -R node_modules/katex/dist/katex.min.js node_modules/katex/dist/katex.min.css \
	      node_modules/katex/dist/fonts node_modules/katex/dist/contrib node_modules/katex/LICENSE \
	      $(VENDOR)/katex/
	touch $@

serve: setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: setup
	$(BIN)/mkdocs build --strict

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# The same tests, measuring which lines of cnnqa they run, site builds included. Not part of
# `make test`: tracing every line costs about a quarter of its time (126 s against 162 s).
coverage: setup
	$(BIN)/pytest --cov=cnnqa --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

# Timings, saved where docs/reference/performance.md includes them. A failed target in the first
# two runs fails make; the third measures under the environment's OpenBLAS kernels, for comparison.
bench: setup
	cd benchmarks && \
	../$(BIN)/python bench_ops.py > results/bench_ops.txt; ops=$$?; cat results/bench_ops.txt; \
	../$(BIN)/python bench_backward.py > results/bench_backward.txt; backward=$$?; cat results/bench_backward.txt; \
	../$(BIN)/python bench_ops.py --keep-blas-coretype --quick > results/bench_ops_env_blas.txt; \
	cat results/bench_ops_env_blas.txt; test $$ops = 0 && test $$backward = 0

# Re-resolve the pins after changing pyproject.toml (torch stays on the machine's CPU build).
constraints: $(VENV)/.installed
	{ sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --exclude-editable | sed 's/+cpu//'; } > constraints.tmp
	mv constraints.tmp constraints.txt

clean:
	rm -rf $(VENV) node_modules $(VENDOR) site .pytest_cache .hypothesis .coverage
