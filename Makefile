# Fundbridge: make run starts everything; make test is what CI runs.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
# Packages where concurrency lives: the store, the service runtime, the projections, the gateway (its limiter).
RACE_PKGS ?= ./events/... ./services/svc/... ./projections/... ./services/gateway/...

.PHONY: run test vet lint race unit bench build

run:
	$(GO) run ./cmd/fundbridge dev

build:
	$(GO) build -o bin/fundbridge ./cmd/fundbridge

test: vet lint race unit

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

race:
	$(GO) test -race -short -count=1 $(RACE_PKGS)

unit:
	$(GO) test -count=1 ./...

bench:
	$(GO) run ./cmd/fundbridge bench
