# deferproxy — the two commands a newcomer needs:
#   make demo   run the product on an embedded example (throwaway PostgreSQL + proxy)
#   make test   install what the tests need and run them all
SHELL := /bin/bash
GO ?= go
VENV ?= $(CURDIR)/.venv
export DEFERPROXY_VENV := $(VENV)
BIN := bin/deferproxy
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# An execution count, not a duration: Go 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# when a duration-based -fuzztime ends while a worker is mid-call (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 20000x

.PHONY: all build test test-go pgx-suite conformance fuzz fuzz-short deps postgres chromium java venv demo run bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/deferproxy

## deps: PostgreSQL server binaries (Debian packages), the Python test venv, Chromium, a JDK with Maven and the JDBC
## driver jars.
deps: postgres venv chromium java

postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing PostgreSQL from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null; \
	  else echo "PostgreSQL server binaries are missing: sudo apt-get install postgresql" >&2; exit 1; fi; \
	fi

## chromium: Debian's Chromium, which the admin page's browser test drives headless (chromedp).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Chromium from Debian's packages (for the admin page's browser test)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing (the admin page's browser test needs it): sudo apt-get install chromium" >&2; exit 1; fi; \
	fi

## java: a JDK and Maven from Debian's packages, then pgjdbc and HikariCP from Maven Central into .tmp/drivers/jars
## (deferral/testdata/drivers/pom.xml) for the BI driver test; Maven's own cache is ~/.m2, filled on first use.
DRIVER_JARS := $(CURDIR)/.tmp/drivers/jars
export DEFERPROXY_DRIVER_JARS := $(DRIVER_JARS)
java: $(DRIVER_JARS)/.installed

$(DRIVER_JARS)/.installed: deferral/testdata/drivers/pom.xml
	@if ! command -v javac >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing a JDK and Maven from Debian's packages (for the JDBC driver test)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless maven >/dev/null; \
	  else echo "a JDK and Maven are missing (the JDBC driver test needs them): sudo apt-get install default-jdk-headless maven" >&2; exit 1; fi; \
	fi
	rm -rf $(DRIVER_JARS) && mkdir -p $(DRIVER_JARS)
	mvn -q -B -f deferral/testdata/drivers/pom.xml dependency:copy-dependencies -DoutputDirectory=$(DRIVER_JARS)
	touch $@

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

## test: everything, including the integration tests against a throwaway PostgreSQL and real dbt, then every fuzz
## target briefly (FUZZTIME new inputs each, from its kept seed corpus). Long runs are `make fuzz FUZZTIME=…`, done
## before a change lands (docs/RELIABILITY.md), so that the brief run here finds nothing new by chance. It ends with
## one summary line; in CI (CI=true) a skipped test fails the run (docs/TESTING.md).
test: deps
	@$(MAKE) --no-print-directory test-go fuzz-short
	@cat .tmp/test-summary.txt

## test-go: go vet and every package's tests (one package: go test ./proxy/), reported by internal/testreport: package
## results, the output of failed tests, the skipped tests and their reasons, then the counts.
test-go:
	@mkdir -p .tmp
	$(GO) vet ./...
	set -o pipefail; $(GO) test -json -count=1 -timeout 40m ./... \
	  | $(GO) run ./internal/testreport $(if $(filter true,$(CI)),-fail-on-skip) -summary .tmp/test-summary.txt

## pgx-suite: pgx's own test suite run directly and through deferproxy with the defer engine on, compared test by
## test (internal/clientsuite; part of test-go, about 6 minutes of it; this target runs it alone, verbosely).
pgx-suite:
	$(GO) test -count=1 -v -timeout 40m -run 'TestPgxSuite|TestProxyOnly' ./internal/clientsuite

## conformance: psycopg 3's own test suite directly and through deferproxy with the defer engine on (outside `make
## test`: minutes per run, and its tests come from its repository, which no package registry carries). PSYCOPG_REPO
## is a clone (or bare mirror) of github.com/psycopg/psycopg; its tests/ and tools/ at tag PSYCOPG_VERSION are used.
PSYCOPG_VERSION ?= 3.3.4
CONFORMANCE_DIR ?= $(CURDIR)/.conformance
conformance: postgres
	@test -n "$(PSYCOPG_REPO)" || { echo "set PSYCOPG_REPO to a clone of github.com/psycopg/psycopg" >&2; exit 1; }
	rm -rf $(CONFORMANCE_DIR)/psycopg && mkdir -p $(CONFORMANCE_DIR)/psycopg
	git -C $(PSYCOPG_REPO) archive $(PSYCOPG_VERSION) tests tools | tar -x -C $(CONFORMANCE_DIR)/psycopg
	test -x $(CONFORMANCE_DIR)/venv/bin/python || python3 -m venv $(CONFORMANCE_DIR)/venv
	$(CONFORMANCE_DIR)/venv/bin/pip install -q --disable-pip-version-check "psycopg[binary]==$(PSYCOPG_VERSION)" \
	  "psycopg-pool>=3.3,<3.4" "pytest>=6.2.5" "anyio>=4.0" "pproxy>=2.7"
	PSYCOPG_TESTS=$(CONFORMANCE_DIR)/psycopg PSYCOPG_PYTHON=$(CONFORMANCE_DIR)/venv/bin/python \
	  $(GO) test -tags conformance -count=1 -v -timeout 60m -run TestPsycopgSuite ./internal/clientsuite

## fuzz-short / fuzz: each fuzz target for FUZZTIME executions of new input (`make fuzz FUZZTIME=2000000x` for a
## long run). A failure writes the input to testdata/fuzz/<Target>/: fix the bug and commit the file as a seed.
fuzz fuzz-short:
	@mkdir -p .tmp; set -e; n=0; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	    n=$$((n+1)); \
	  done; \
	done; \
	if [ $$n = 0 ]; then echo "fuzz: no fuzz target found" >&2; exit 1; fi; \
	echo "fuzz: $$n targets, $(FUZZTIME) new inputs each, no failure" | tee .tmp/fuzz-summary.txt

## demo: DEMO_LISTEN=127.0.0.1:7432 DEMO_ADMIN=127.0.0.1:7480 make demo runs it on other ports.
demo: build postgres
	./$(BIN) demo $(if $(DEMO_LISTEN),--listen $(DEMO_LISTEN)) $(if $(DEMO_ADMIN),--admin $(DEMO_ADMIN))

run: demo

bench: build postgres
	bash bench/pgbench.sh

clean:
	rm -rf bin
