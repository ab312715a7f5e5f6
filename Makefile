# aftersale - one Makefile.
#
#   make            build build/aftersale (release, -O2 -g)
#   make run        install what is missing, build, start a private PostgreSQL
#                   (unless DATABASE_URL is set), migrate, serve on $PORT
#   make test       install what is missing, unit tests, integration tests
#   make asan       build build-asan/aftersale with ASan + UBSan
#   make test-asan  unit + integration tests against the sanitizer build
#   make lint       OpenAPI lint (redocly) and cppcheck
#   make bench      benchmark against pgbench (see bench/README.md)
#   make plugin     the WordPress plugin's installable zip, build/aftersale-plugin.zip
#   make plugin-test  php -l, PHP_CodeSniffer and PHPUnit on the plugin (part of make test)

CC       ?= cc
PKGS     := libmicrohttpd libpq jansson libcurl libjwt libcrypto
PYTHON   := /usr/bin/python3
COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
WARN     := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
            -Wcast-qual -Wpointer-arith -Wformat=2 -fno-common
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DAFTERSALE_COMMIT='"$(COMMIT)"'
CFLAGS_BASE = -std=c11 $(WARN) -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread -lm

SRC      := $(shell find src -name '*.c' | sort)
SQL      := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
LOCALES  := $(sort $(wildcard locales/*.json))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

# Two build flavours share the rules below: release and sanitizers.
BUILD      ?= build
OPT        ?= -O2 -g
SAN        ?=
OBJ        := $(SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/migrations.o \
              $(BUILD)/obj/gen/locales.o
LIB_OBJ    := $(filter-out $(BUILD)/obj/main.o,$(OBJ))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit integration asan test-asan lint lint-openapi fmt bench clean deps migrate browser-deps
.PHONY: plugin plugin-test plugin-pot plugin-mo

all: $(BUILD)/aftersale

$(BUILD)/aftersale: $(OBJ)
	$(CC) $(OPT) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c $(shell find include -name '*.h')
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(OPT) $(SAN) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: $(SQL) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $@ $(SQL)

$(BUILD)/obj/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(OPT) $(SAN) -c -o $@ $<

# The customer-facing catalogues (locales/*.json), compiled in like sql/.
$(BUILD)/gen/locales.c: $(LOCALES) scripts/embed-locales
	@mkdir -p $(dir $@)
	scripts/embed-locales $@ $(LOCALES)

$(BUILD)/obj/gen/locales.o: $(BUILD)/gen/locales.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(OPT) $(SAN) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -Wno-missing-prototypes $(OPT) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	scripts/install-deps

run: deps
	$(MAKE) all
	scripts/run-dev

migrate: all
	$(BUILD)/aftersale migrate

# Unit tests: every tests/unit/test_*.c is its own cmocka binary.
unit: $(UNIT_BIN)
	@scripts/run-unit $(UNIT_BIN)

# Node packages of the browser test (playwright-core; the browser is Debian's chromium).
# Reinstalled whenever the lock file changes (a checkout that pinned another
# playwright-core version gets the new one, not the old node_modules).
browser-deps: tests/browser/node_modules/.installed

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent
	@touch $@

integration: all browser-deps
	AFTERSALE_BIN=$(abspath $(BUILD)/aftersale) $(PYTHON) -m pytest -q -p no:cacheprovider tests/fakes tests/integration tests/realwoo

test: deps
	$(MAKE) unit
	$(MAKE) plugin-test
	$(MAKE) integration

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all

test-asan: deps browser-deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	AFTERSALE_BIN=$(abspath build-asan/aftersale) AFTERSALE_SANITIZED=1 \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration tests/realwoo

lint-openapi:
	scripts/lint-openapi

# cppcheck sees jansson's iteration macros through its header; the other
# system headers stay out (missingIncludeSystem) to keep it quick.
lint: lint-openapi
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr -Iinclude --suppress=missingIncludeSystem \
	  --include=$(shell pkg-config --variable=includedir jansson)/jansson.h src

fmt:
	clang-format -i $(SRC) $(shell find include -name '*.h') $(UNIT_SRC)

bench: deps
	$(MAKE) all
	bench/run

# ---- the WordPress plugin (wordpress/aftersale) ----------------------------
PLUGIN_DIR := wordpress/aftersale
PLUGIN_PHP  = $(shell find $(PLUGIN_DIR) -name '*.php' | sort)
PLUGIN_PO   = $(wildcard $(PLUGIN_DIR)/languages/*.po)
# The translatable calls, as WordPress's i18n tools know them (wp-cli is not packaged).
XGETTEXT := xgettext --language=PHP --from-code=UTF-8 --add-comments=translators: \
	--keyword=__ --keyword=_e --keyword=esc_html__ --keyword=esc_html_e --keyword=esc_attr__ \
	--keyword=esc_attr_e --keyword=_n:1,2 --keyword=_x:1,2c --package-name=Aftersale \
	--package-version=0.1.0 --msgid-bugs-address=https://github.com/aftersale/aftersale/issues

plugin: plugin-mo
	@mkdir -p build
	rm -f build/aftersale-plugin.zip
	cd $(dir $(PLUGIN_DIR)) && zip -q -r -X $(abspath build/aftersale-plugin.zip) aftersale \
	  -x 'aftersale/phpcs.xml' -x 'aftersale/languages/*.po~'
	@echo built build/aftersale-plugin.zip

# Regenerate the template of translations from the sources.
plugin-pot:
	cd $(PLUGIN_DIR) && $(XGETTEXT) -o languages/aftersale.pot $(patsubst $(PLUGIN_DIR)/%,%,$(PLUGIN_PHP))
	sed -i 's/charset=CHARSET/charset=UTF-8/' $(PLUGIN_DIR)/languages/aftersale.pot

# Compiled translations, one .mo per .po.
plugin-mo: $(PLUGIN_PO:.po=.mo)

$(PLUGIN_DIR)/languages/%.mo: $(PLUGIN_DIR)/languages/%.po
	msgfmt --check -o $@ $<

plugin-test:
	@for f in $(PLUGIN_PHP) $(shell find tests/plugin -name '*.php'); do \
	  php -l $$f > /dev/null || exit 1; done; echo "php -l: ok"
	phpcs --standard=$(PLUGIN_DIR)/phpcs.xml $(PLUGIN_DIR)
	phpunit -c tests/plugin/phpunit.xml
	scripts/check-plugin-i18n
	$(MAKE) plugin
	unzip -l build/aftersale-plugin.zip | grep -q ' aftersale/aftersale.php$$'
	! unzip -l build/aftersale-plugin.zip | grep -E 'phpcs.xml|tests/'

clean:
	rm -rf build build-asan
