# tests/fuzz/fuzz.mk - libFuzzer harnesses for rules/ (see tests/fuzz/README.md).
#
# Included from the top Makefile (include tests/fuzz/fuzz.mk, after
# RULES_SRC is set), or run on its own from the top of the tree:
#   make -f tests/fuzz/fuzz.mk fuzz-smoke
#
#   make fuzz-build             build/fuzz/fuzz_* (clang, ASan + UBSan + libFuzzer)
#   make fuzz                   each harness for FUZZ_SECONDS (default 300)
#   make fuzz-smoke             each harness for 20 s (CI); non-zero exit on a crash
#   make fuzz FUZZERS="fuzz_body fuzz_config" FUZZ_SECONDS=60
#   make fuzz-clean             remove build/fuzz (corpora found, artifacts, logs)
#
# The rules/ sources are compiled again here with the fuzzer's
# instrumentation; the gcc-built librules.a is not used.

# Defaults for running without the top Makefile.
RULES_SRC    ?= $(wildcard rules/*.c)
LDLIBS_RULES ?= -lconfig -lcjson -lexpat -lpcre2-8
CPPFLAGS     ?= -Irules

FUZZ_CC       ?= clang-14
FUZZ_SECONDS  ?= 300
FUZZ_TIMEOUT  ?= 10
FUZZ_ARGS     ?=
FUZZ_DIR      ?= build/fuzz
FUZZERS       ?= fuzz_subject fuzz_body fuzz_config fuzz_gocd_json fuzz_cctray \
                 fuzz_slack fuzz_state fuzz_eml fuzz_outbox_record fuzz_store_url

FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  ?= -g -O1 -fno-omit-frame-pointer
# -MMD/-MP of the top Makefile are replaced by our own (.d next to each .o)
FUZZ_CPPFLAGS = $(filter-out -MMD -MP -Irules,$(CPPFLAGS)) -Irules -Itests/fuzz
FUZZ_ALLFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(FUZZ_CFLAGS) $(FUZZ_SANITIZE)

FUZZ_ALL_NAMES = fuzz_subject fuzz_body fuzz_config fuzz_gocd_json fuzz_cctray \
                 fuzz_slack fuzz_state fuzz_eml fuzz_outbox_record fuzz_store_url
FUZZ_RULES_OBJ = $(RULES_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS      = $(FUZZ_ALL_NAMES:%=$(FUZZ_DIR)/%)

.PHONY: fuzz-build fuzz fuzz-smoke fuzz-clean

fuzz-build: $(FUZZ_BINS)

# keep the harness objects (make would delete them as intermediates)
.SECONDARY: $(FUZZ_RULES_OBJ) $(FUZZ_ALL_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz/%.o)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_ALLFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_RULES_OBJ)
	$(FUZZ_CC) $(FUZZ_ALLFLAGS) -o $@ $^ $(LDLIBS_RULES)

# Each run works on build/fuzz/corpus-NAME, seeded from tests/fuzz/corpus/NAME,
# so what the fuzzer finds never lands in the repository's corpus.
fuzz: fuzz-build
	@FUZZ_DIR='$(FUZZ_DIR)' FUZZ_TIMEOUT='$(FUZZ_TIMEOUT)' FUZZ_ARGS='$(FUZZ_ARGS)' \
	    sh tests/fuzz/run-fuzzers $(FUZZ_SECONDS) $(FUZZERS)

fuzz-smoke: FUZZ_SECONDS = 20
fuzz-smoke: fuzz

fuzz-clean:
	rm -rf $(FUZZ_DIR)

-include $(FUZZ_RULES_OBJ:.o=.d) $(FUZZ_ALL_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz/%.d)
