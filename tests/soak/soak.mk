# tests/soak/soak.mk - fault-injection load test (tests/soak/README.md).
# Included by the top-level Makefile:  include tests/soak/soak.mk
#
#   make soak         10,000 messages through the real Postfix + mail2alert while
#                     GoCD, Slack and the milter fail (about 70 s here; root)
#   make soak-quick   400 messages spread over 24 s (about 35 s in all; make check)
#
# Uses from the top Makefile: PYTHON, CURDIR and the mail2alert target.
# SOAK_ARGS is passed to soak.py, for example
#   make soak SOAK_ARGS="--seed 7"
#   make soak-quick SOAK_ARGS="--milter-default-action tempfail"
#   make soak SOAK_ARGS="--messages 50000 --keep"

SOAK_ARGS ?=

.PHONY: soak soak-quick

soak: mail2alert
	$(PYTHON) $(CURDIR)/tests/soak/soak.py --mail2alert $(CURDIR)/mail2alert $(SOAK_ARGS)

soak-quick: mail2alert
	$(PYTHON) $(CURDIR)/tests/soak/soak.py --quick --mail2alert $(CURDIR)/mail2alert \
		$(SOAK_ARGS)
