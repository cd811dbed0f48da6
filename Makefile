# Two commands on a fresh Debian machine (as root, or with sudo):
#   make run    set everything up, then score the bundled examples in embedded mode
#   make test   set everything up, then run the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := firejail redis-server python3 python3-venv util-linux passwd
SANDBOX_USER := acefarm-sandbox

.PHONY: setup run test test-deploy lint bench clean system-packages sandbox-user deploy-packages

setup: system-packages sandbox-user $(VENV)/.installed broker/_generated/farm_pb2_grpc.py

# apt only when something is missing, so repeated runs are fast and offline.
system-packages:
	@if ! command -v firejail >/dev/null || ! command -v redis-server >/dev/null \
	    || [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null \
	    || ! command -v setpriv >/dev/null; then \
	  echo ">> installing system packages: $(APT_PACKAGES)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

# The sandbox runs programs as unprivileged users when the farm runs as root: slot N as
# $(SANDBOX_USER)-N (N < SLOT_USERS; the per-user process limit is then each slot's own),
# $(SANDBOX_USER) when those are missing.
SLOT_USERS := 32
sandbox-user:
	@if [ "$$(id -u)" = 0 ]; then \
	  for u in $(SANDBOX_USER) $$(seq -f '$(SANDBOX_USER)-%g' 0 $$(($(SLOT_USERS) - 1))); do \
	    id -u $$u >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
	      --shell /usr/sbin/nologin --user-group $$u || exit 1; \
	  done; \
	fi

# The RL frameworks whose own client code the HTTP API's tests call (tests/cluster/clients.py):
# without their dependencies (torch, ray...), outside the venv's packages, imported by path.
RL_CLIENTS := verl==0.9.1 openrlhf==0.11.2

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,train]'
	$(PY) -m pip install -q --no-deps --upgrade --target $(VENV)/clients $(RL_CLIENTS)
	@touch $@

# gRPC stubs are generated from proto/, never committed.
broker/_generated/farm_pb2_grpc.py: proto/acefarm/v1/farm.proto $(VENV)/.installed
	$(PY) -m broker.protos

run: setup
	@mkdir -p out
	$(VENV)/bin/acefarm score broker/examples/demo.jsonl -o out/demo.results.jsonl
	@echo ">> results: out/demo.results.jsonl"
	$(VENV)/bin/acefarm score trainer/examples/acecode_sample.jsonl -o out/acecode.scored.jsonl
	$(VENV)/bin/acefarm pairs out/acecode.scored.jsonl -o out/acecode.pairs.jsonl
	@echo ">> AceCode example: out/acecode.scored.jsonl (pass rates recomputed), out/acecode.pairs.jsonl"

test: setup lint
	$(VENV)/bin/pytest

# deploy/ for real (tests/deploy/test_compose.py): the image built on a Debian base made with
# debootstrap, and the Compose file run under podman. Slow; `make test` deselects it.
DEPLOY_PACKAGES := podman runc debootstrap netavark aardvark-dns iptables
deploy-packages:
	@if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null \
	    || [ ! -x /usr/lib/podman/aardvark-dns ]; then \
	  echo ">> installing system packages: $(DEPLOY_PACKAGES)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEPLOY_PACKAGES); \
	fi

test-deploy: setup deploy-packages
	$(VENV)/bin/pytest -m deploy tests/deploy

# ruff (lint + format) over the whole tree, mypy strict on executor/ and broker/; settings
# in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/humaneval.py

clean:
	rm -rf $(VENV) out .pytest_cache *.egg-info
