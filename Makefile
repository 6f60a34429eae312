# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= articurated.settings

.PHONY: run test contract install system-deps migrate demo lint clean proto rungrpc screenshots bench drills

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: system-deps $(VENV)/.installed

system-deps:
	@bash scripts/system-deps.sh

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py bootstrap_demo

run: demo
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/  API: http://127.0.0.1:$(PORT)/api/v1/docs"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest

screenshots: install
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest e2e imports/tests/test_admin_browser.py

# Regenerates payment_service_pb/ from proto/ (commit the result; a test checks it is current).
proto: install
	$(PY) scripts/proto_generate.py

# The payment service over gRPC (GRPC_PORT, default 50051); `make run` calls it in-process.
rungrpc: migrate
	$(PY) manage.py rungrpc

# The API against the ceilings of QUALITY.md on the local PostgreSQL (BENCH_DATABASE_URL), same
# run; prints the table and writes bench/RESULTS.md. SCALE=1 adds the list at 10k/100k/1M orders.
bench: install
	@for tool in wrk psql pgbench; do command -v $$tool >/dev/null || { echo "make bench needs $$tool (Debian: apt-get install wrk postgresql-client postgresql)" >&2; exit 1; }; done
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/run.py $(if $(filter 1,$(SCALE)),--scale,)

# The schemathesis contract run alone (issue 8; `make test` runs it too): every check and phase,
# each role, against gunicorn on the test database.
contract: install
	TEST_DB_SUFFIX="$${TEST_DB_SUFFIX:-}_contract" $(PY) -m pytest -rP demo/tests/test_contract_schemathesis.py

# Reliability drills on the local PostgreSQL + RabbitMQ (QUALITY.md "Reliability bars").
DRILL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/articurated
DRILL_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672/
drills: install
	DATABASE_URL=$(DRILL_DATABASE_URL) BROKER_URL=$(DRILL_BROKER_URL) $(PY) scripts/webhook_drill.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/proto_generate.py --check

clean:
	rm -rf $(VENV) db.sqlite3 var media
