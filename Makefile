# Roster's two commands, and a few around them. See the README.
SHELL := /bin/bash

.PHONY: run test chaos soak stop e2e services replica loadtest loadtest-short cluster cluster-stop

## Run Roster on its embedded Postgres and Redis at http://127.0.0.1:3000.
run:
	@scripts/run.sh

## Every check: format, lints (server and browser), unit, integration and browser tests.
test:
	@scripts/test.sh

## The fault tests: Postgres and Redis of their own, stopped and restarted for real.
chaos:
	@scripts/chaos.sh

## Stop the embedded Postgres and Redis that `make run` / `make test` started.
stop:
	@scripts/services.sh stop

## Only the Playwright suite (needs a release build: `cargo leptos build --release --split --precompress`).
e2e:
	@scripts/services.sh start && scripts/e2e.sh

## Start the embedded Postgres and Redis and print their settings.
services:
	@scripts/services.sh start && scripts/services.sh env

## A streaming read replica of the embedded Postgres (pg_basebackup, hot standby) on
## the next port; `make run` and `make cluster` then read from it (DATABASE_READ_URL).
replica:
	@scripts/services.sh start-replica && scripts/services.sh env

## The load test against the release build on 1,000,000 contacts (docs/PERFORMANCE.md).
loadtest:
	@scripts/loadtest.sh

## The same, short: 100,000 contacts and phases of seconds.
loadtest-short:
	@scripts/loadtest.sh --short

## Two Roster instances behind nginx (deploy/nginx.conf) at http://127.0.0.1:3500.
cluster:
	@scripts/cluster.sh start

## 200 people for 10 minutes against the release build, judged: no errors, p99 within
## the targets, memory growth under 10% (docs/PERFORMANCE.md).
soak:
	@scripts/loadtest.sh --soak

## Stop the cluster that `make cluster` started.
cluster-stop:
	@scripts/cluster.sh stop
