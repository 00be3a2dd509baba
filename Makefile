# Two commands matter: `make run` serves the API on the local stack, `make test` runs every test from nothing.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
INFRA := infra

.PHONY: help dev venv run up down deploy test unit integration e2e lint format pr clean bench bench-latency bench-budget bench-ingest \
	local-api openapi bench-local invoke logs test-resilience parity load up-docker bridge-start bridge-stop \
	bridge-status bridge-logs kafka-up kafka-down replay-dlq bench-load bench-burst bench-cpu web web-dev web-test bench-refused \
	bench-imports-record bench-imports-check

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: ## create or refresh the virtual environments (pinned requirements)
	@$(INFRA)/bootstrap.sh

dev: venv ## venv plus a git pre-commit hook that runs the static checks
	@printf '#!/bin/sh\nexec make lint\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit

run: venv ## start Redis, RabbitMQ, Kafka, MiniStack, build, deploy, start the event bridge, print the API URL
	@$(INFRA)/services.sh up
	@$(INFRA)/deploy.sh >/dev/null
	@$(INFRA)/web.sh deploy >/dev/null
	@$(INFRA)/bridge.sh start
	@.venv/bin/python -m infra.prewarm
	@echo "API: $$(cat .local/api-url)"
	@echo "Web: $$(cat .local/web-url)"
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

kafka-up: ## start the local Kafka broker (Tansu; in memory, or KAFKA_STORAGE=s3 for durable) and create the topics
	@$(INFRA)/kafka.sh up

kafka-down: ## stop the local Kafka broker if kafka-up started it (in memory: its data is lost)
	@$(INFRA)/kafka.sh down

deploy: venv ## rebuild and redeploy to the running local stack
	@$(INFRA)/deploy.sh
	@$(INFRA)/web.sh deploy

web: venv ## build the web app if it changed and upload it to the stack's bucket; prints the web URL
	@$(INFRA)/web.sh deploy

web-dev: venv ## Vite's dev server (http://localhost:5173) against the deployed API (.local/api-url or API_BASE_URL)
	@$(INFRA)/web.sh dev

web-test: venv ## the browser suite: vitest, build, upload, Playwright + axe, Lighthouse, bundle budget (infra/web-test.sh)
	@$(INFRA)/web-test.sh

test: ## every test: static checks, unit, integration, e2e (starts and stops what it needs)
	@$(INFRA)/test-all.sh

unit: venv ## unit tests only (moto, fakeredis; no network)
	@$(INFRA)/pytest.sh tests/unit -q

integration: venv ## integration tests against the running local stack
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} $(INFRA)/pytest.sh tests/integration -q

e2e: venv ## e2e tests against the running local stack (API_BASE_URL or .local/api-url)
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} $(INFRA)/pytest.sh tests/e2e -q

bench: bench-budget bench-latency ## every benchmark below

bench-latency: venv ## p50/p95 of GET /tasks/{id} on the running stack and deploy.sh time -> benchmarks/core-latency.md
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} .venv/bin/python -m benchmarks.core_latency

bench-ingest: venv ## batched vs one-item-per-write ingestion into MiniStack's DynamoDB -> benchmarks/ingest-batching.md
	@PYTHONPATH=layers/shared .venv/bin/python -m benchmarks.ingest_batching

bench-budget: venv ## performance budget: cold-start imports, warm latency, bcrypt cost -> benchmarks/perf_budget.{json,md}
	@$(INFRA)/build.sh
	@.venv/bin/python -m benchmarks.perf_budget

lint: venv ## ruff, mypy, sam validate, sam validate --lint, checkov (template), bandit (our code)
	@$(INFRA)/lint.sh

format: venv ## apply ruff's fixes and formatting
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

pr: format test ## what to run before opening a pull request

clean: down ## remove build output and local state
	@rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache

local-api: venv ## serve the API in-process on 127.0.0.1:3000 from template.yaml (no Docker; reloads on save)
	@$(INFRA)/services.sh up
	@.venv/bin/python -m infra.local_api --env-vars $${ENV_VARS:-env.local.json}

openapi: venv ## regenerate functions/openapi/openapi.json and README's endpoint table from the code
	@.venv/bin/python -m infra.openapi_spec

bench-local: venv ## time warm requests on make local-api vs the deployed API; writes benchmarks/local-api-latency.json
	@$(INFRA)/services.sh up
	@.venv/bin/python -m benchmarks.local_api_latency $${API_BASE_URL:+--deployed-url $$API_BASE_URL}

invoke: ## invoke FN=<LogicalId|folder> EVENT=<file.json> on the deployed stack (STACK_NAME), or in-process with LOCAL=1
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=GetTaskFunction EVENT=events/get_task.json [LOCAL=1]" >&2; exit 2; }
	@source $(INFRA)/common.sh && .venv/bin/python -m infra.oncall invoke "$(FN)" "$(EVENT)" $(if $(LOCAL),--local,)

replay-dlq: ## after a fix, put dead letters back: [BROKER=kafka|rabbitmq|outbox] [DRY_RUN=1] [LIMIT=N] [STACK_NAME=...]
	@source $(INFRA)/common.sh && for broker in $(or $(BROKER),kafka rabbitmq outbox); do \
	  if [ "$$broker" = outbox ]; then \
	    PYTHONPATH=layers/shared .venv/bin/python -m infra.replay_outbox --stack "$$STACK_NAME" \
	      $(if $(DRY_RUN),--dry-run,) $(if $(LIMIT),--limit $(LIMIT),) || exit 1; continue; \
	  fi; \
	  .venv/bin/python -m infra.replay_dlq $$broker $(if $(DRY_RUN),--dry-run,) $(if $(LIMIT),--limit $(LIMIT),) \
	    $$( [ "$$broker" = rabbitmq ] && [ -n "$(STACK_NAME)" ] && echo --stack "$(STACK_NAME)" ) || exit 1; \
	done

logs: ## print a deployed function's logs: make logs FN=<LogicalId|folder> [SINCE=10m] [FOLLOW=1]
	@test -n "$(FN)" || { echo "usage: make logs FN=get_task [SINCE=10m] [FOLLOW=1]" >&2; exit 2; }
	@source $(INFRA)/common.sh && .venv/bin/python -m infra.oncall logs "$(FN)" --since "$${SINCE:-10m}" $(if $(FOLLOW),--follow,)

test-resilience: venv ## schemathesis: >= 1,000 generated cases on every route of the in-process API (needs services up)
	@$(INFRA)/services.sh up
	@$(INFRA)/pytest.sh tests/resilience -q -p no:cacheprovider

parity: venv ## sam build, then prove handlers, layer, env vars and routes of .aws-sam/build statically
	@$(INFRA)/pytest.sh tests/build -q

bench-load: venv ## autocannon 10/50/200 connections x 10 s vs make local-api, the make run stack, MiniStack alone (BENCH_ARGS="--target deployed")
	@cd benchmarks/load && npm ci --no-audit --no-fund --loglevel=error
	@$(INFRA)/services.sh up
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url 2>/dev/null)} .venv/bin/python -m benchmarks.autocannon_load $(BENCH_ARGS)

bench-burst: venv ## the first burst of POST /tasks on a fresh make run stack -> benchmarks/first-burst.md (LABEL=..)
	@.venv/bin/python -m benchmarks.first_burst --label "$${LABEL:?say what this row measures: LABEL=...}"

bench-cpu: venv ## CPU-ms per 1,000 warm requests per route in-process, main vs the working tree -> benchmarks/cpu-per-request.md
	@.venv/bin/python -m benchmarks.cpu_per_request

bench-imports-record: venv ## callgrind instructions of every function's cold import -> benchmarks/import-instructions.json
	@$(INFRA)/build.sh
	@.venv/bin/python -m benchmarks.import_instructions record

bench-imports-check: venv ## the make test gate: a few functions' import instructions vs that baseline (fails > +10%)
	@.venv/bin/python -m benchmarks.import_instructions check --build

bench-refused: venv ## p50 of refused vs accepted tokens on the deployed stack (API_BASE_URL) -> benchmarks/refused-token.md
	@API_BASE_URL=$${API_BASE_URL:-$$(cat .local/api-url)} PYTHONPATH=layers/shared .venv/bin/python -m benchmarks.refused_token

load: venv ## locust headless: USERS=20 DURATION=30s against make local-api (or API_BASE_URL); JSON under benchmarks/
	@$(INFRA)/services.sh up
	@.venv/bin/python -m benchmarks.run_load

up-docker: ## Docker path: compose up LocalStack+Redis+RabbitMQ+Kafka, deploy, bridge, e2e (needs LOCALSTACK_AUTH_TOKEN)
	@$(INFRA)/up-docker.sh
