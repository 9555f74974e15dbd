.PHONY: run test soak bench build migrate seed vet screenshots

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

# The long fault test: 2,000 users over three webhook replicas, one killed with SIGKILL (README: Replicas).
soak:
	go test -count=1 -timeout 60m -run 'Soak' -v ./cmd/bonusbot/ -args -soak

vet:
	go vet ./...

# Drops and recreates the bonusbot_bench database; writes bench-results.json.
bench:
	go run ./cmd/bonusbench

# The Mini App in headless Chromium against the demo data: docs/screenshots/*.png (needs Debian's chromium).
screenshots: build
	go run ./cmd/appshots -bin bin/bonusbot -out docs/screenshots
