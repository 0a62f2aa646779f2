# Hearth — the two commands: `make dev` and `make test`. Everything else is a helper.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/hearth
# Stamped into the binary (`hearth version`) and the image labels.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: dev test deps build vet fmt-check bench clean

## dev: start the emulator suite, functions and API with demo data; Ctrl-C stops it all
dev: deps build
	./$(BIN) dev

## test: install what is needed, start the emulators, run every test with -race
test: deps build vet fmt-check
	./$(BIN) emulators exec --free-ports -- $(GO) test -race -count=1 -timeout 20m ./...

## deps: Go modules from go.sum, the pinned firebase-tools from package-lock.json, and checks
deps:
	@command -v java >/dev/null || { echo "java not found: install Java 17+ (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	$(GO) mod download
	@test -x emulator/node_modules/.bin/firebase || (cd emulator && npm ci --no-audit --no-fund --loglevel=error)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hearth

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './emulator/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the Go benchmarks, against the local suite
bench: deps build
	./$(BIN) emulators exec --free-ports -- $(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin .hearth
