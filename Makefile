# The two commands: `make run` and `make test`. See README.md.
.PHONY: run test build lint bench load chaos fuzz security infra-check clean

run:
	@scripts/run

test:
	@scripts/test

build:
	go build -trimpath -ldflags "-X carematch/app.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/carematch ./cmd/carematch

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	@scripts/bench

# The reliability and security suites (docs/reliability.md); short
# versions of load, chaos and the fuzz seeds run in `make test`.
load:
	@scripts/load

chaos:
	@scripts/chaos

fuzz:
	@scripts/fuzz

security:
	@scripts/security

infra-check:
	@bash deploy/check.sh

clean:
	-scripts/pgcluster stop .data/pg
	-scripts/pgcluster stop .data/pgtest
	-scripts/pgcluster stop .data/pgload
	-for d in .data/pgchaos-*; do [ -d "$$d" ] && scripts/pgcluster stop "$$d"; done
	rm -rf bin .data
