# Two commands on a fresh Debian machine (as root, or with sudo):
#   make run    set everything up, then score the bundled examples in embedded mode
#   make test   set everything up, then run the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := firejail redis-server python3 python3-venv util-linux passwd
SANDBOX_USER := acefarm-sandbox

.PHONY: setup run test test-deploy lint bench clean system-packages language-packages cpp-pch sandbox-user deploy-packages

setup: system-packages language-packages cpp-pch sandbox-user $(VENV)/.installed broker/_generated/farm_pb2_grpc.py

# apt only when something is missing, so repeated runs are fast and offline.
system-packages:
	@if ! command -v firejail >/dev/null || ! command -v redis-server >/dev/null \
	    || [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null \
	    || ! command -v setpriv >/dev/null; then \
	  echo ">> installing system packages: $(APT_PACKAGES)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

# Toolchains of the languages beside Python, and the Python packages programs may import
# (executor/languages/). `make setup LANGUAGES="c cpp"` installs a subset (LANGUAGES=none: none);
# the farm offers the languages whose tools it finds (ACEFARM_LANGUAGES narrows that at run time).
LANGUAGES ?= c cpp java javascript go rust bash python-packages
PKG_c := gcc libc6-dev
PKG_cpp := g++
PKG_java := openjdk-17-jdk-headless
PKG_javascript := nodejs
PKG_go := golang-go
PKG_rust := rustc gcc
PKG_bash := bash coreutils
PKG_python-packages := python3-numpy python3-sortedcontainers python3-sympy python3-mpmath python3-networkx \
	python3-regex python3-dateutil python3-six
LANGUAGE_PACKAGES := $(foreach l,$(filter-out none,$(LANGUAGES)),$(PKG_$(l)))
language-packages:
	@missing=$$(for p in $(LANGUAGE_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo ">> installing language toolchains: $$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# bits/stdc++.h precompiled for the cpp and cpp20 builds (executor/languages/cpp.py): a program
# that includes it (most contest C++) builds in ~0.3 s instead of ~1.2 s. Rebuilt when g++ changes;
# g++ ignores a stale one and reads the header.
PCH_DIR := /usr/local/lib/acefarm/pch
cpp-pch: language-packages
	@if command -v g++ >/dev/null; then \
	  for std in gnu++17 gnu++20; do \
	    gch=$(PCH_DIR)/$$std/bits/stdc++.h.gch; \
	    hdr=$$(echo '#include <bits/stdc++.h>' | g++ -std=$$std -x c++ -M - 2>/dev/null | tr ' \\' '\n\n' | grep '/bits/stdc++.h$$' | head -1); \
	    if [ -n "$$hdr" ] && { [ ! -f $$gch ] || [ $$(readlink -f $$(command -v g++)) -nt $$gch ]; }; then \
	      echo ">> precompiling bits/stdc++.h for -std=$$std"; \
	      $(SUDO) mkdir -p $$(dirname $$gch) && \
	      $(SUDO) g++ -std=$$std -O2 -pipe -x c++-header $$hdr -o $$gch.tmp && $(SUDO) mv $$gch.tmp $$gch; \
	    fi; \
	  done; \
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
