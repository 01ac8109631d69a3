# Bore: share a local TCP port on a public server. `make` lists the targets.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/bore
FUZZTIME ?= 30s
TRAYIDLE ?= 15

.DEFAULT_GOAL := help
.PHONY: help build run test bench fuzz lint clean soak

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/bore stamped with the version from git describe
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build ## build and start the tray app
	./$(BIN)

test: lint ## make lint, then every test with the race detector (fuzz targets run on their seeds)
	$(GO) test -race -count=1 -timeout 20m ./...

bench: build ## measure the tunnel against a direct loopback connection, then the tray's idle footprint
	$(GO) run ./tunnel/tunnelbench -bore $(BIN) $(BENCHFLAGS)
	@echo; $(GO) run ./app/inspect/inspectbench $(INSPECTBENCHFLAGS)
	@if command -v dbus-daemon >/dev/null && command -v ss >/dev/null; then \
	  echo; echo "tray app, idle with three tunnels open (RSS floor 30 MB):"; \
	  app/tray/measure-idle.sh $(BIN) $(TRAYIDLE); \
	else echo "tray footprint skipped: needs dbus-daemon and ss (apt-get install dbus iproute2)"; fi

soak: build ## run bore under steady load for SOAKTIME (default 10m) and check for leaks
	$(GO) run ./tunnel/soak -bore $(BIN) $(SOAKFLAGS)

fuzz: ## run each fuzz target for FUZZTIME (default 30s), one after another
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: ## gofmt, go vet, staticcheck, govulncheck (Linux, Windows, macOS), actionlint: build/lint.sh
	GO=$(GO) sh build/lint.sh

clean: ## remove build outputs
	rm -rf bin dist

-include build/dist.mk
