# promstack's verbs. `make test` is what CI runs (through .ci/run) on a fresh clone.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

# Where `make setup` keeps what it downloads (moto's venv, Prometheus 3.5); the harness reads the same.
export PROMSTACK_CACHE ?= $(HOME)/.cache/promstack
export PROMSTACK_VENV ?= $(PROMSTACK_CACHE)/venv
VENV_BIN := $(PROMSTACK_VENV)/bin
CARGO ?= cargo

.PHONY: setup lint test unit build build-check bench bench-reload demo deploy lint-template clean fuzz

## setup: install what a fresh Debian machine lacks (Prometheus, moto server, cargo-lambda, linters)
setup:
	bash scripts/setup.sh

## lint: formatting (rustfmt.toml), clippy on every target and feature (warnings are errors), and one
## feature set for every build (scripts/check-feature-sets.py)
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	python3 scripts/check-feature-sets.py

## test: setup, then every test (unit, handler, integration against real servers) and the template checks
test: setup
	$(CARGO) test --workspace --all-features --no-fail-fast
	@if [ -f template.yaml ] && [ -f scripts/check-template.sh ]; then bash scripts/check-template.sh; fi

## unit: only the tests that need no server (fast feedback while editing)
unit:
	$(CARGO) test --workspace --all-features --lib --bins

## build: Lambda zips for arm64 (provided.al2023) with cargo-lambda, as `sam build` does
build: setup
	PATH="$(VENV_BIN):$$PATH" $(CARGO) lambda build --release --arm64 --output-format zip \
	  $(foreach f,$(wildcard functions/*),--package $(notdir $(f)))

## build-check: release build of every function with cargo-lambda for this machine's arch (CI:
## arm64 needs `rustup target add aarch64-unknown-linux-gnu`, which this CI cannot fetch)
build-check: setup
	PATH="$(VENV_BIN):$$PATH" $(CARGO) lambda build --release \
	  $(foreach f,$(wildcard functions/*),--package $(notdir $(f)))
	@ls -l target/lambda/*/bootstrap

## fuzz: every fuzz target for FUZZ_SECONDS each (cargo-fuzz, installed by the script; docs/development.md, Fuzzing)
FUZZ_SECONDS ?= 20
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

## bench: criterion benches (figures in docs/benchmarks.md)
bench: setup
	$(CARGO) bench --workspace --all-features

## bench-reload: only config-updater's webhook-to-reload bench (real Prometheus, git, moto)
bench-reload: setup
	$(CARGO) bench --features config-updater --bench webhook_to_reload

## demo: start moto and Prometheus locally, run each function against them, print where to look
demo: setup
	bash scripts/demo.sh

## lint-template: cfn-lint, sam validate --lint and checkov on template.yaml
lint-template: setup
	bash scripts/check-template.sh

## deploy: build with SAM and deploy (asks for the parameters the first time)
deploy:
	PATH="$(VENV_BIN):$$PATH" sam build
	PATH="$(VENV_BIN):$$PATH" sam deploy --guided

clean:
	$(CARGO) clean
