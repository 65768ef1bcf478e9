# The two commands of the README: `make run` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= $(or $(CRMLENS_DB),data/crm.duckdb)
PORT ?= 8501
CHROMIUM ?= /usr/bin/chromium
HEADLESS_SHELL ?= /usr/bin/chromium-headless-shell
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test demo bench browser postgresql

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

## make run: create the env and demo data when missing, then start the app on http://localhost:$(PORT)
run: $(VENV)/.installed
	@case "$(DB)" in ducklake:*) ;; *) test -f "$(DB)" || $(BIN)/python -m crmlens demo --db "$(DB)";; esac
	CRMLENS_DB="$(DB)" $(BIN)/streamlit run app.py --server.port $(PORT)

## make test: the whole suite, browser tests included (installs Debian's Chromium and PostgreSQL when missing), on two workers
test: $(VENV)/.installed-dev browser postgresql
	$(BIN)/python -m pytest -n 2

## Headless Chromium (the browser tests drive its headless shell) and a font with Chinese characters, from Debian
## (Playwright's own download fails here)
browser:
	@if [ ! -x "$(CHROMIUM)" ] || [ ! -x "$(HEADLESS_SHELL)" ] || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-headless-shell fonts-wqy-microhei >/dev/null; \
	fi

## PostgreSQL from Debian for the DuckLake tests: they start a throw-away cluster of their own (tests/pg.py)
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi

demo: $(VENV)/.installed
	$(BIN)/python -m crmlens demo --db "$(DB)"

## make bench: issue 13's benchmark (demo data, every part; BENCH_ARGS="--customers 800000" for 10M orders, see README "Performance")
bench: $(VENV)/.installed-dev browser
	$(BIN)/python -m bench $(BENCH_ARGS)
