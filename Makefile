# storekit developer tasks. Tools run through `go run pkg@version`, so a fresh
# machine with Go needs nothing installed by hand.

GO         ?= go
PKGS       ?= ./...
# The benchmarks are a module of their own (benchmarks/go.mod), so that what
# only they need (the peers they are measured against) stays out of the
# module users download. BENCH_MOD_PKGS are its packages, run from BENCH_MOD.
BENCH_MOD  ?= benchmarks
BENCH_MOD_PKGS ?= ./...
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   = golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH      ?= .
BENCH_COUNT ?= 6
BENCH_OUT  ?= bench/latest.txt
BENCH_PKGS ?= .
BENCH_TIME ?= 1s
BENCH_CPU  ?= 2

.PHONY: all test fmt-check vet lint test-race cover bench demo tidy

all: test

## test: everything CI runs: formatting, vet, staticcheck, and every test under -race, in
## the main module and in the benchmarks' module
test: fmt-check vet lint test-race

fmt-check:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	cd $(BENCH_MOD) && $(GO) vet $(BENCH_MOD_PKGS)

## lint: staticcheck (and vet)
lint: vet
	$(GO) run $(STATICCHECK) $(PKGS)
	cd $(BENCH_MOD) && $(GO) run $(STATICCHECK) $(BENCH_MOD_PKGS)

test-race:
	$(GO) test $(TEST_FLAGS) $(PKGS)
	cd $(BENCH_MOD) && $(GO) test $(TEST_FLAGS) $(BENCH_MOD_PKGS)

## cover: test coverage per package, HTML report in cover.html
cover:
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS)
	$(GO) tool cover -func=cover.out | tail -1
	$(GO) tool cover -html=cover.out -o cover.html

## bench: the side-by-side benchmarks of package benchmarks (BENCH_PKGS of module
## BENCH_MOD) at GOMAXPROCS=BENCH_CPU, in
## BENCH_COUNT passes (each pass runs every implementation once, so noise hits them alike),
## raw output in BENCH_OUT; then benchstat tables by implementation (BenchmarkStores and
## BenchmarkLock alike, then BenchmarkCluster and BenchmarkTyped against their anchors) and
## the performance targets
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
	$(GO) run $(BENCHSTAT) -col '/impl@(rueidis-helper goredis-pipe goredis rueidiskv-nocache rueidiskv)' \
		-filter '.name:Cluster' $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) -col '/impl@(goredis-cache codec-rueidiskv)' -filter '.name:Typed' $(BENCH_OUT)
	cd $(BENCH_MOD) && $(GO) run ./ratios $(abspath $(BENCH_OUT))

## demo: the walk-through on the in-memory store
demo:
	$(GO) run ./cmd/storekit demo

tidy:
	$(GO) mod tidy
	cd $(BENCH_MOD) && $(GO) mod tidy
