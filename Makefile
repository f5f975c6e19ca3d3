# mail2alert - a Postfix milter that routes CI alerts.
#
#   make            build ./mail2alert
#   make check      unit tests (cmocka) and system tests (pytest, real Postfix)
#   make demo       loopback lab: Postfix + mail2alert + GoCD stand-in + sample mail
#   make install    honours DESTDIR and PREFIX
#   make check SANITIZE=1   the same under ASan + UBSan

VERSION   = 0.1.0
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CC       ?= cc
PYTHON   ?= /usr/bin/python3
CFLAGS   ?= -O2 -g
# Messages are cut at their buffer's size on purpose (snprintf), so gcc's
# guesses about truncation are noise: -Wno-format-truncation.
# WERROR= (empty) builds with newer compilers' new warnings as warnings.
WERROR   ?= -Werror
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -fno-common \
            -Wno-format-truncation \
            -DMAIL2ALERT_VERSION='"$(VERSION)"'
CPPFLAGS += -Irules -MMD -MP
LDLIBS_MILTER = -lmilter -lconfig -lcjson -lexpat -lcurl -lsystemd -lpthread -lpcre2-8 -lmicrohttpd -lhiredis -lssl -lcrypto
LDLIBS_RULES  = -lconfig -lcjson -lexpat -lpcre2-8

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD   ?= build/sanitize
else
BUILD   ?= build/default
endif

RULES_SRC  = $(wildcard rules/*.c)
MILTER_SRC = $(wildcard milter/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
RULES_OBJ  = $(RULES_SRC:%.c=$(BUILD)/%.o)
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBRULES   = $(BUILD)/librules.a
BINARY     = $(BUILD)/mail2alert

.PHONY: all mail2alert check unit-check unit-tests system-check valgrind-check demo install clean deps

all: mail2alert

# ./mail2alert is always the build of the current flavour, so the system
# tests and the demo run what was just built.
mail2alert: $(BINARY)
	cp $(BINARY) $@.tmp && mv -f $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBRULES): $(RULES_OBJ)
	$(AR) rcs $@ $^

$(BINARY): $(MILTER_OBJ) $(LIBRULES)
	$(CC) $(LDFLAGS) -o $@ $(MILTER_OBJ) $(LIBRULES) $(LDLIBS_MILTER)

$(BUILD)/tests/%: tests/unit/%.c $(LIBRULES)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBRULES) -lcmocka $(LDLIBS_RULES)

deps:
	@packaging/install-deps --ensure

unit-check: deps unit-tests

# The unit tests alone, for package builds (debian/rules, the RPM's %check),
# whose build dependencies are installed already: no install-deps.
unit-tests: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || rc=1; done; exit $$rc

system-check: deps mail2alert
	MAIL2ALERT=$(CURDIR)/mail2alert $(PYTHON) -m pytest -ra tests/system

check: unit-check tls-pipe-check system-check

# The unit tests, and the daemon under the routing, edge, metrics and
# shared-state system tests (the metrics listener's thread, the store's
# threads and the TLS pipe), under valgrind.  Any finding
# fails: the logs must stay empty.
VALGRIND_LOGS = $(CURDIR)/build/valgrind-logs
valgrind-check: deps $(UNIT_BIN) mail2alert
	@rc=0; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full $$t || rc=1; done; exit $$rc
	rm -rf $(VALGRIND_LOGS)
	M2A_VALGRIND_LOGS=$(VALGRIND_LOGS) M2A_REAL_BINARY=$(CURDIR)/mail2alert \
		MAIL2ALERT=$(CURDIR)/tests/valgrind/mail2alert.sh \
		$(PYTHON) -m pytest -q tests/system/test_routing.py tests/system/test_edges.py \
		tests/system/test_metrics.py tests/system/test_shared_state.py
	@found=$$(find $(VALGRIND_LOGS) -name '*.log' -size +0 | wc -l); \
		echo "valgrind: $$(ls $(VALGRIND_LOGS) | wc -l) daemon runs, $$found with findings"; \
		[ $$found -eq 0 ] || { cat $(VALGRIND_LOGS)/*.log; exit 1; }

demo: deps mail2alert
	MAIL2ALERT=$(CURDIR)/mail2alert $(PYTHON) tests/demo/demo.py

install: mail2alert
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/mail2alert
	install -m 755 mail2alert $(DESTDIR)$(SBINDIR)/mail2alert
	install -m 755 packaging/mail2alert-import $(DESTDIR)$(SBINDIR)/mail2alert-import
	install -m 644 man/mail2alert-import.8 $(DESTDIR)$(MANDIR)/man8/mail2alert-import.8
	install -m 644 man/mail2alert.8 $(DESTDIR)$(MANDIR)/man8/mail2alert.8
	install -m 644 man/mail2alert.conf.5 $(DESTDIR)$(MANDIR)/man5/mail2alert.conf.5
	test -e $(DESTDIR)$(SYSCONFDIR)/mail2alert/mail2alert.conf || \
		install -m 640 packaging/mail2alert.conf $(DESTDIR)$(SYSCONFDIR)/mail2alert/mail2alert.conf

clean:
	rm -rf build mail2alert

include packaging/packaging.mk
include tests/bench/bench.mk
include tests/fuzz/fuzz.mk
include tests/soak/soak.mk
include tests/tls/tls.mk

-include $(RULES_OBJ:.o=.d) $(MILTER_OBJ:.o=.d)
