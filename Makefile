# Fundbridge: make run starts everything; make test is what CI runs.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
# Packages where concurrency lives: the store, the service runtime, the projections, the gateway (its limiter).
RACE_PKGS ?= ./events/... ./services/svc/... ./projections/... ./services/gateway/...

# Fuzz targets, package:Target; each runs FUZZTIME in make test (longer:
# make fuzz FUZZTIME=10m). A crash is saved under the package's
# testdata/fuzz and from then on runs as a regular test.
FUZZTIME ?= 5s
FUZZ_TARGETS ?= ./money:FuzzParse ./services/funds/fundsapi:FuzzFraction .:FuzzUSCC \
	./services/applications/applicationsapi:FuzzPatentNumber ./events:FuzzDecodeUpcast \
	./events/jetstream:FuzzDecodeCommit ./events/jetstream:FuzzCommitRoundTrip \
	./services/svc:FuzzDecode ./projections:FuzzFastDecode \
	./services/deals/dealsapi/loan:FuzzParseRate

.PHONY: run test vet lint race unit fuzz bench build openapi-lint fault

run:
	$(GO) run ./cmd/fundbridge dev

build:
	$(GO) build -o bin/fundbridge ./cmd/fundbridge

test: vet lint race unit fuzz openapi-lint fault

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# A package's tests may take longer than go test's 10-minute default on a
# shared, loaded machine (cmd/fundbridge starts and kills whole servers).
TEST_TIMEOUT ?= 25m
race:
	$(GO) test -race -short -count=1 -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# Go 1.26's fuzzer can fail a target as its -fuzztime runs out, with a bare
# "context deadline exceeded" and no input written (golang/go#75804, fixed
# in Go 1.27): that target runs once more. Anything else fails at once.
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		for try in 1 2; do \
			out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1) && break; \
			if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz $$name ($$pkg): stopped by the fuzzer's own deadline (golang/go#75804), no input found; once more"; continue; \
			fi; \
			echo "$$out"; exit 1; \
		done; \
		echo "fuzz $$name ($$pkg): $$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1)"; \
	done
# The OpenAPI document against Redocly's recommended rules, warnings as
# errors; npx fetches the CLI from the npm registry on first use.
REDOCLY ?= npx --yes @redocly/cli@2.77.0
openapi-lint:
	FUNDBRIDGE_REDOCLY="$(REDOCLY)" $(GO) test -count=1 -run TestOpenAPIPassesRedoclyLint ./services/gateway/

bench:
	$(GO) run ./cmd/fundbridge bench

# The fault test: a three-node NATS cluster (nats-server built from the
# module proxy) and every service as its own process on 127.0.0.1, under
# load, with a NATS node, a service and the active process manager
# SIGKILLed. Longer: make fault FAULT_DURATION=10m.
FAULT_DURATION ?= 60s
fault:
	FUNDBRIDGE_FAULT_TEST=1 FUNDBRIDGE_FAULT_DURATION=$(FAULT_DURATION) $(GO) test -count=1 -v -timeout 30m -run '^TestFault$$' ./internal/clustertest/
