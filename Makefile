# Two commands matter: `make run` serves the API on the local stack, `make test` runs every test from nothing.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
INFRA := infra

.PHONY: invoke help dev venv run up down deploy test unit integration e2e lint format pr clean bridge-start bridge-stop \
	bridge-status bridge-logs kafka-up kafka-down

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: ## create or refresh the virtual environments (pinned requirements)
	@$(INFRA)/bootstrap.sh

dev: venv ## venv plus a git pre-commit hook that runs the static checks
	@printf '#!/bin/sh\nexec make lint\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit

run: venv ## start Redis, RabbitMQ, Kafka, MiniStack, build, deploy, start the event bridge, print the API URL
	@$(INFRA)/services.sh up
	@$(INFRA)/deploy.sh >/dev/null
	@$(INFRA)/bridge.sh start
	@echo "API: $$(cat .local/api-url)"
	@echo "try: curl -s $$(cat .local/api-url)/health"

up: run ## alias of run

down: ## stop what `make run` started (by pid): the bridge, then the servers
	@$(INFRA)/bridge.sh stop
	@$(INFRA)/services.sh down

bridge-start: ## start the Kafka/RabbitMQ -> Lambda event bridge for STACK_NAME (default taskapp)
	@$(INFRA)/bridge.sh start

bridge-stop: ## stop the event bridge
	@$(INFRA)/bridge.sh stop

bridge-status: ## is the event bridge running and ready?
	@$(INFRA)/bridge.sh status

bridge-logs: ## follow the event bridge's JSON-lines log
	@$(INFRA)/bridge.sh logs

kafka-up: ## start the local Kafka broker (Tansu, memory-only) and create the topics
	@$(INFRA)/kafka.sh up

kafka-down: ## stop the local Kafka broker if kafka-up started it (its data is lost)
	@$(INFRA)/kafka.sh down

deploy: venv ## rebuild and redeploy to the running local stack
	@$(INFRA)/deploy.sh

test: ## every test: static checks, unit, integration, e2e (starts and stops what it needs)
	@$(INFRA)/test-all.sh

unit: venv ## unit tests only (moto, fakeredis; no network)
	@$(INFRA)/pytest.sh tests/unit -q

integration: venv ## integration tests against the running local stack
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} $(INFRA)/pytest.sh tests/integration -q

e2e: venv ## e2e tests against the running local stack (API_BASE_URL or .local/api-url)
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} $(INFRA)/pytest.sh tests/e2e -q

lint: venv ## ruff, mypy, sam validate, sam validate --lint
	@$(INFRA)/lint.sh

format: venv ## apply ruff's fixes and formatting
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

pr: format test ## what to run before opening a pull request

clean: down ## remove build output and local state
	@rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache

invoke: ## invoke a deployed function with a sample event: make invoke FN=task_ingestion EVENT=batch-with-bad-record
	@source $(INFRA)/common.sh && "$$VENV/bin/python" -m infra.invoke --stack-name "$$STACK_NAME" "$(FN)" "$(EVENT)"
