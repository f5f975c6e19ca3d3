# tests/bench/bench.mk - performance benchmarks (docs/PERFORMANCE.md).
# Included by the top-level Makefile:  include tests/bench/bench.mk
#
#   make bench         bench_rules, then tests/bench/bench.py (full: 3 interleaved
#                      rounds of 2000 messages per variant; a few minutes; root)
#   make bench-maps    non-GoCD mail through Postfix alone, with mail2alert for
#                      every client, and with mail2alert only for the GoCD
#                      server's address (smtpd_milter_maps, the README recipe)
#   make bench-quick   both, small (CI smoke: about a minute)
#   make bench-journal the outbox journal's cost per chat post, on vs off
#                      (bench_journal; BENCH_JOURNAL_ARGS, e.g. "-t 4 /var/lib/x")
#
# Uses from the top Makefile: CC CFLAGS CPPFLAGS LDFLAGS BUILD LIBRULES
# LDLIBS_RULES PYTHON, and the mail2alert target.  BENCH_ARGS is passed to
# bench.py (e.g. make bench BENCH_ARGS="--rounds 5 --extra").

BENCH_DIR       = $(BUILD)/bench
BENCH_RULES     = $(BENCH_DIR)/bench_rules
BENCH_MILTER    = $(BENCH_DIR)/minimal_milter
BENCH_JOURNAL   = $(BENCH_DIR)/bench_journal
BENCH_ARGS     ?=
BENCH_JOURNAL_ARGS ?=

.PHONY: bench bench-maps bench-quick bench-build bench-journal

bench-build: mail2alert $(BENCH_RULES) $(BENCH_MILTER) $(BENCH_JOURNAL)

# bench_rules also times the swap of a polled index: milter/snapshots.c is
# pure apart from its lock, so it is linked in as the daemon uses it.
$(BENCH_RULES): tests/bench/bench_rules.c $(LIBRULES) $(BUILD)/milter/snapshots.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Imilter $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/milter/snapshots.o $(LIBRULES) $(LDLIBS_RULES) -lpthread

# bench_journal times the daemon's own journal code, linked in as it is used.
BENCH_JOURNAL_OBJ = $(addprefix $(BUILD)/milter/,outbox_journal.o post_id.o log.o files.o)
$(BENCH_JOURNAL): tests/bench/bench_journal.c $(LIBRULES) $(BENCH_JOURNAL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Imilter $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BENCH_JOURNAL_OBJ) $(LIBRULES) $(LDLIBS_RULES) -lsystemd -lpthread

bench-journal: $(BENCH_JOURNAL)
	$(BENCH_JOURNAL) $(BENCH_JOURNAL_ARGS) $(BENCH_DIR)

$(BENCH_MILTER): tests/bench/minimal_milter.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lmilter -lpthread

bench: bench-build
	$(BENCH_RULES)
	$(PYTHON) tests/bench/bench.py --shared-state --mail2alert $(CURDIR)/mail2alert \
		--minimal-milter $(abspath $(BENCH_MILTER)) $(BENCH_ARGS)

bench-maps: bench-build
	$(PYTHON) tests/bench/bench.py --milter-maps --mail2alert $(CURDIR)/mail2alert \
		--minimal-milter $(abspath $(BENCH_MILTER)) $(BENCH_ARGS)

bench-quick: bench-build
	$(BENCH_RULES) -q
	$(BENCH_JOURNAL) -C $(BENCH_DIR)
	$(BENCH_JOURNAL) -q $(BENCH_DIR)
	$(PYTHON) tests/bench/bench.py --quick --shared-state --mail2alert $(CURDIR)/mail2alert \
		--minimal-milter $(abspath $(BENCH_MILTER)) $(BENCH_ARGS)
	$(PYTHON) tests/bench/bench.py --quick --milter-maps --mail2alert $(CURDIR)/mail2alert \
		--minimal-milter $(abspath $(BENCH_MILTER)) $(BENCH_ARGS)

-include $(BENCH_DIR)/bench_rules.d $(BENCH_DIR)/minimal_milter.d $(BENCH_DIR)/bench_journal.d
