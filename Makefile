# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
# Every flask command gets HOST and PORT: links printed or mailed use them unless BASE_URL is set.
FLASK := HOST=$(HOST) PORT=$(PORT) $(BIN)/flask --app wsgi

.PHONY: run test browser-tools install translations messages migrate seed clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d lms/translations

migrate: install
	$(FLASK) db upgrade

# Curriculum and calendar loads are idempotent; `calendar apply` moves running cohorts to the loaded
# calendar at once (in production, look at `lms calendar apply --dry-run` first); the demo command does
# nothing when its data is already there.
seed: migrate
	$(FLASK) lms curriculum load
	$(FLASK) lms calendar load
	$(FLASK) lms calendar apply
	$(FLASK) lms demo

# The web server and, beside it, the scheduler (reminders, mail); stopping one stops the other.
run: seed
	@$(FLASK) lms scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium (installed here when missing) and inject axe-core from npm.
browser-tools:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium (Debian package) for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund

# Two test processes (pytest-xdist), one per core: every test has its own databases and ports.
PYTEST_WORKERS ?= 2
test: install browser-tools
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The performance benchmark (benchmarks/RESULTS.md), not part of `make test`: generates the data at scale
# once per database (SQLite file, PostgreSQL database lms_bench), then prints the tables for each.
# BENCH_SCALE=5 (30,000 participants) regenerates a database that holds another scale.
BENCH_SQLITE ?= sqlite:///$(CURDIR)/instance/bench.sqlite3
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/lms_bench
BENCH_SCALE ?= 1
bench: install
	$(BIN)/python -m benchmarks.generate --database-url $(BENCH_SQLITE) --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.run --database-url $(BENCH_SQLITE) $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.generate --database-url $(BENCH_POSTGRES) --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.run --database-url $(BENCH_POSTGRES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/lms.sqlite3

# After changing user-facing strings: extract them and merge into the catalogs, then translate.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o lms/translations/messages.pot .
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching --ignore-obsolete
