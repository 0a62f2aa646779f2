# Hearth — the two commands: `make dev` and `make test`. Everything else is a helper.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/hearth
# Stamped into the binary (`hearth version`) and the image labels.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_ARCH ?= amd64

.PHONY: dev test deps build image vet fmt-check darwin bench bench-run clean

## dev: start the emulator suite, functions and API with demo data; Ctrl-C stops it all
dev: deps build
	./$(BIN) dev

## test: install what is needed, start the emulators, run every test with -race
test: deps build vet fmt-check darwin
	./$(BIN) emulators exec --free-ports -- $(GO) test -race -count=1 -timeout 20m ./...

## deps: Go modules from go.sum, the pinned firebase-tools from package-lock.json, Chromium, promtool (Debian's prometheus), and checks
deps:
	@command -v java >/dev/null || { echo "java not found: install Java 17+ (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	$(GO) mod download
	@test -x emulator/node_modules/.bin/firebase || (cd emulator && npm ci --no-audit --no-fund --loglevel=error)
	@# Chromium for the console's browser tests (admin/console): Debian's chromium package.
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium (the console's browser tests drive it)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; \
		else \
			echo "chromium not found: the console's browser tests need it; install Debian's chromium package (sudo apt-get install chromium) or set HEARTH_CHROMIUM=/path/to/chromium"; \
		fi; }
	@# promtool for the alert rules' checks (deploy/): Debian's prometheus package.
	@command -v promtool >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "promtool not found: installing Debian's prometheus package"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }; \
		else \
			echo "promtool not found (the alert rules' checks need it): install Debian's prometheus package (sudo apt-get install prometheus) or put a Prometheus release's promtool on PATH"; \
		fi; }

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hearth

## image: the container image, offline (no Docker, no base image): bin/hearth-image.tar (OCI
## archive) and bin/hearth-image/ (OCI layout: crane push bin/hearth-image $$IMAGE). See docs/deploy.md.
## The nodynamic tag keeps github.com/gen2brain/heic from linking libheif through purego,
## which would make the binary dynamic even with CGO_ENABLED=0.
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -tags nodynamic -trimpath -ldflags '$(LDFLAGS)' -o bin/linux-$(IMAGE_ARCH)/hearth ./cmd/hearth
	rm -rf bin/hearth-image
	$(GO) run ./cmd/hearth-image -binary bin/linux-$(IMAGE_ARCH)/hearth -out bin/hearth-image.tar -layout bin/hearth-image \
		-version '$(VERSION)' -commit '$(COMMIT)' -created '$(SOURCE_DATE_EPOCH)'

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
# The burst of BenchmarkBurst: users in overlapping rooms, messages in all.
BURST_USERS ?= 6
BURST_ROOMS ?= 4
BURST_MESSAGES ?= 3350
bench: deps build
	set -o pipefail; ./$(BIN) emulators exec --free-ports -- $(MAKE) --no-print-directory bench-run | $(GO) run ./cmd/benchtable

# bench-run runs the benchmarks of docs/performance.md under an already running suite.
bench-run:
	$(GO) test -run '^$$' -bench 'BenchmarkUploadRoute' -benchtime 2s -count $(BENCH_COUNT) ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkAPI/(paired|http-paired)$$' -count $(BENCH_COUNT) ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkRevocationPropagation' -benchtime 10x -count 1 ./admin/
	$(GO) test -run '^$$' -bench 'BenchmarkInboxLatency' -benchtime 500x -count 3 ./functions/
	$(GO) test -run '^$$' -bench 'BenchmarkFanout10k' -count $(BENCH_COUNT) ./internal/push/
	$(GO) test -run '^$$' -bench 'BenchmarkBurst' -benchtime 1x -count 3 ./functions/ -args -burst.users $(BURST_USERS) -burst.rooms $(BURST_ROOMS) -burst.messages $(BURST_MESSAGES)
	$(GO) test -run '^$$' -bench 'BenchmarkLargeRoom' -benchtime 10x -count 3 ./functions/

clean:
	rm -rf bin .hearth
