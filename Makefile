# storekit developer tasks. Tools run through `go run pkg@version`, so a fresh
# machine with Go needs nothing installed by hand.

GO         ?= go
PKGS       ?= ./...
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   = golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH      ?= .
BENCH_COUNT ?= 6
BENCH_OUT  ?= bench/latest.txt

.PHONY: all test fmt-check vet lint test-race cover bench demo tidy

all: test

## test: everything CI runs: formatting, vet, staticcheck, and every test under -race
test: fmt-check vet lint test-race

fmt-check:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## lint: staticcheck (and vet)
lint: vet
	$(GO) run $(STATICCHECK) $(PKGS)

test-race:
	$(GO) test $(TEST_FLAGS) $(PKGS)

## cover: test coverage per package, HTML report in cover.html
cover:
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS)
	$(GO) tool cover -func=cover.out | tail -1
	$(GO) tool cover -html=cover.out -o cover.html

## bench: run the benchmarks BENCH_COUNT times and summarize them with benchstat
bench:
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) $(PKGS) | tee $(BENCH_OUT)
	$(GO) run $(BENCHSTAT) $(BENCH_OUT)

## demo: the walk-through on the in-memory store
demo:
	$(GO) run ./cmd/storekit demo

tidy:
	$(GO) mod tidy
