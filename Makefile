# storekit developer tasks. Tools run through `go run pkg@version`, so a fresh
# machine with Go needs nothing installed by hand.

GO         ?= go
# PKGS are the main module's packages that vet, lint and test-race check.
PKGS       ?= ./...
# NESTED_MODS are the directories of the modules of their own (each with a
# go.mod) inside this repository, kept apart so that what only they need
# stays out of the module users download: the benchmarks (the peers they are
# measured against), the testcontainers fallback of internal/redistest and
# the OpenTelemetry exporter (otel), the PostgreSQL backend
# (backends/postgres, with pgx), the differential and linearizability
# checks of every backend (robustness, with porcupine) and the storekit
# command (cmd/storekit, which runs every backend, PostgreSQL's too).
# tidy-check, vet, lint and test-race cover each of them, with all of its
# packages; add a directory here to add a module.
NESTED_MODS ?= benchmarks internal/redistest/rediscontainer otel backends/postgres robustness cmd/storekit
# MODS are every module's directory, the main module's first.
MODS        = . $(NESTED_MODS)
# VULN_MODS are the modules vulncheck scans: those whose code runs outside
# the tests (the main one, the command and the exporter) or whose results
# are published (the benchmarks).
VULN_MODS  ?= . cmd/storekit otel benchmarks
# BENCH_MOD is the benchmarks' module, where make bench runs.
BENCH_MOD  ?= benchmarks
# NEWEST_GO is the newest Go release, which test-newest-go runs the tests
# with (the go command fetches it as a toolchain module).
NEWEST_GO  ?= go1.27.3
comma      := ,
# The go.work at the root is there for `go run ./cmd/storekit` from the root
# (make demo). Every other target runs each module on its own go.mod, as its
# users build it; the modules the workspace leaves out fail inside it.
export GOWORK = off
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK = golang.org/x/vuln/cmd/govulncheck@v1.9.0
BENCHSTAT   = golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH      ?= .
BENCH_COUNT ?= 6
BENCH_OUT  ?= bench/latest.txt
BENCH_PKGS ?= .
BENCH_TIME ?= 1s
BENCH_CPU  ?= 2

.PHONY: all test fmt-check tidy-check vet lint test-race test-newest-go vulncheck modgraph cover bench demo tidy soak

all: test

## test: the checks of the code that CI runs (besides make modgraph): formatting, tidy go.mod
## files, vet, staticcheck, and every test under -race, in the main module and in each of
## NESTED_MODS
test: fmt-check tidy-check vet lint test-race

# each runs its shell command, given as $(1), in every module of $(3) (MODS when
# empty), first printing "== $(2) (NAME module)". The command sees the module's
# directory as $$mod, and PKGS as $$pkgs in the main module, ./... in the others.
define each
	@set -e; for mod in $(or $(3),$(MODS)); do \
		if [ "$$mod" = . ]; then name=main; pkgs='$(PKGS)'; else name=$$mod; pkgs=./...; fi; \
		echo "== $(2) ($$name module)"; \
		(cd $$mod && set -x && $(1)); \
	done
endef

fmt-check:
	@echo "== gofmt"
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## tidy-check: fail if go mod tidy would change a module's go.mod or go.sum
tidy-check:
	$(call each,$(GO) mod tidy -diff,go mod tidy -diff)

vet:
	$(call each,$(GO) vet $$pkgs,vet)

## lint: staticcheck (and vet)
lint: vet
	$(call each,$(GO) run $(STATICCHECK) $$pkgs,staticcheck)

test-race:
	$(call each,$(GO) test $(TEST_FLAGS) $$pkgs,race tests)

## soak: the differential tests of module robustness for minutes per backend (STOREKIT_SOAK: 1,
## the default, for 3 minutes, or a duration; STOREKIT_SEED repeats a run), with a line per backend
soak:
	cd robustness && STOREKIT_SOAK=$${STOREKIT_SOAK:-1} $(GO) test -race -count=1 -timeout 60m -v -run TestDifferential .

## test-newest-go: go version, build, vet and the race tests under the newest Go release,
## NEWEST_GO, in every module
test-newest-go: export GOTOOLCHAIN = $(NEWEST_GO)
test-newest-go:
	$(call each,$(GO) version && $(GO) build ./... && $(GO) vet $$pkgs && $(GO) test $(TEST_FLAGS) $$pkgs,build$(comma) vet and race tests with $(NEWEST_GO))

## vulncheck: govulncheck on the modules of VULN_MODS (needs the Go vulnerability database online)
vulncheck:
	$(call each,$(GO) run $(GOVULNCHECK) $$pkgs,govulncheck,$(VULN_MODS))

## modgraph: an app importing each public package pulls in no test-only module (.ci/modgraph)
modgraph:
	@echo "== modgraph"
	bash .ci/modgraph
	bash .ci/modgraph 'github.com/cledar/storekit/otel|^go\.opentelemetry\.io/'
	bash .ci/modgraph 'github.com/cledar/storekit/backends/postgres|^github\.com/jackc/'

## cover: test coverage per package, HTML report in cover.html
cover:
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS)
	$(GO) tool cover -func=cover.out | tail -1
	$(GO) tool cover -html=cover.out -o cover.html

## bench: the side-by-side benchmarks of package benchmarks (BENCH_PKGS of module
## BENCH_MOD) at GOMAXPROCS=BENCH_CPU, in
## BENCH_COUNT passes (in each, the implementations of a benchmark take turns of 100 ms, so noise hits them alike),
## raw output in BENCH_OUT; then benchstat tables by implementation (BenchmarkStores and
## BenchmarkLock alike, then BenchmarkCluster and BenchmarkTyped against their anchors, then
## BenchmarkPostgres: the postgres store against pgx running its statements) and the
## performance targets. The PostgreSQL benchmarks run on the server that
## backends/postgres/pgtest finds (STOREKIT_POSTGRES_URL, or 127.0.0.1:5432) and are
## skipped without one, unless STOREKIT_REQUIRE_POSTGRES=1
bench:
	@mkdir -p $(dir $(BENCH_OUT))
	@: > $(BENCH_OUT)
	@for i in $$(seq $(BENCH_COUNT)); do \
		echo "bench: pass $$i of $(BENCH_COUNT)"; \
		(cd $(BENCH_MOD) && $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCH_TIME) \
			-cpu $(BENCH_CPU) -count 1 -timeout 30m $(BENCH_PKGS)) | tee -a $(BENCH_OUT); \
		if grep -q -e '^FAIL' -e '^--- FAIL' $(BENCH_OUT); then echo "bench: a benchmark failed"; exit 1; fi; \
	done
	$(GO) run $(BENCHSTAT) -col '/impl@(goredis-raw goredis-pipe goredis)' -filter '-.name:Cluster' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(rueidis-raw rueidis-pipe rueidiskv-nocache rueidiskv rueidiskv-miss)' \
		-filter '-.fullname:/CacheMemory/ -.name:Cluster' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(syncmap memory rueidiskv)' -filter '-.fullname:/CacheMemory/ -.name:Cluster' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col /impl -filter '.fullname:/CacheMemory/' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(rueidis-helper goredis-pipe goredis-autopipe goredis-separate goredis rueidiskv-nocache rueidiskv)' \
		-filter '.name:Cluster' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(goredis-cache codec-rueidiskv)' -filter '.name:Typed' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(pgx-raw postgres)' -filter '.name:Postgres' $(BENCH_OUT)
	cd $(BENCH_MOD) && $(GO) run ./ratios $(abspath $(BENCH_OUT))

## demo: the walk-through on the in-memory store
demo: export GOWORK = auto
demo:
	$(GO) run ./cmd/storekit demo

## tidy: go mod tidy in every module
tidy:
	$(call each,$(GO) mod tidy,go mod tidy)
