.PHONY: run test bench build migrate seed vet screenshots soak

# With no TELEGRAM_BOT_TOKEN the console chat is attached, so a newcomer can talk to the bot at once.
CONSOLE := $(if $(TELEGRAM_BOT_TOKEN),,--console)

build:
	go build -o bin/bonusbot ./cmd/bonusbot

run: build
	./bin/bonusbot migrate
	./bin/bonusbot seed --demo
	./bin/bonusbot serve $(CONSOLE)

test:
	go test -race -count=1 ./...

vet:
	go vet ./...

# The long proofs (README: Replicas, and Benchmarks): first 2,000 users over three webhook replicas, one
# killed with SIGKILL; then the ledger's random-concurrency property test (ledger/property_test.go) for at
# least 1,000,000 operations (concurrent batches of up to 64 accruals, reversals, redeems, refunds, gifts,
# blocks and sweeps on four accounts, the invariants checked every 100 batches and at the end), printing
# "soak: N operations … invariant breaks: 0". About 45 minutes on the 2-core development VM.
soak:
	go test -count=1 -timeout 60m -run 'Soak' -v ./cmd/bonusbot/ -args -soak
	go test ./ledger -run 'TestLedgerInvariantsUnderRandomConcurrency$$' -count=1 -timeout 4h -v -soak.ops=1000000

# Drops and recreates the bonusbot_bench database; writes bench-results.json.
bench:
	go run ./cmd/bonusbench

# The Mini App in headless Chromium against the demo data: docs/screenshots/*.png (needs Debian's chromium).
screenshots: build
	go run ./cmd/appshots -bin bin/bonusbot -out docs/screenshots
