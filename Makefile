# Hearth — the two commands: `make dev` and `make test`. Everything else is a helper.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/hearth

.PHONY: dev test deps build vet fmt-check darwin bench bench-run clean

## dev: start the emulator suite, functions and API with demo data; Ctrl-C stops it all
dev: deps build
	./$(BIN) dev

## test: install what is needed, start the emulators, run every test with -race
test: deps build vet fmt-check darwin
	./$(BIN) emulators exec --free-ports -- $(GO) test -race -count=1 -timeout 20m ./...

## deps: Go modules from go.sum, the pinned firebase-tools from package-lock.json, and checks
deps:
	@command -v java >/dev/null || { echo "java not found: install Java 17+ (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	$(GO) mod download
	@test -x emulator/node_modules/.bin/firebase || (cd emulator && npm ci --no-audit --no-fund --loglevel=error)

build:
	$(GO) build -o $(BIN) ./cmd/hearth

vet:
	$(GO) vet ./...

## darwin: macOS (amd64, arm64) builds every package and vets it, test files included, so
## a Linux-only call cannot slip in (the suite's per-OS code is in emulator/process_*.go)
darwin:
	@for arch in amd64 arm64; do \
		echo "GOOS=darwin GOARCH=$$arch go build ./... && go vet ./..."; \
		GOOS=darwin GOARCH=$$arch $(GO) build ./... && GOOS=darwin GOARCH=$$arch $(GO) vet ./... || exit 1; \
	done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './emulator/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the benchmarks behind docs/performance.md against a private suite, BENCH_COUNT runs each; prints its table (medians)
BENCH_COUNT ?= 5
bench: deps build
	set -o pipefail; ./$(BIN) emulators exec --free-ports -- $(MAKE) --no-print-directory bench-run | $(GO) run ./cmd/benchtable

# bench-run runs the benchmarks of docs/performance.md under an already running suite.
bench-run:
	$(GO) test -run '^$$' -bench 'BenchmarkUploadRoute' -benchtime 2s -count $(BENCH_COUNT) ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkAPI/(paired|http-paired)$$' -count $(BENCH_COUNT) ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkRevocationPropagation' -benchtime 10x -count 1 ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkInboxLatency' -benchtime 500x -count 3 ./functions/
	$(GO) test -run '^$$' -bench 'BenchmarkFanout10k' -count $(BENCH_COUNT) ./internal/push/

clean:
	rm -rf bin .hearth
