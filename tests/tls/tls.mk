# tests/tls/tls.mk - milter/tls_pipe.c against a real redis-server over TLS.
#
# Included from the top Makefile (include tests/tls/tls.mk), or run on its
# own from the top of the tree:
#   make -f tests/tls/tls.mk tls-pipe-check
#
#   make tls-pipe-check   throwaway CAs and server certificates (openssl),
#                         two TLS-only redis-servers on free loopback ports,
#                         build/tls/tls_pipe_test under valgrind; non-zero
#                         exit on any failed check, leak or valgrind error
#   make tls-pipe-check TLS_VALGRIND=    the same without valgrind
#
# Needs openssl, redis-server (Debian's is built with TLS), valgrind,
# libhiredis-dev and libssl-dev.  The test is built with its own flags, not
# the top Makefile's CFLAGS: SANITIZE=1 builds would not run under valgrind.

CC              ?= cc
TLS_TEST_DIR    ?= build/tls
TLS_TEST_BIN     = $(TLS_TEST_DIR)/tls_pipe_test
TLS_TEST_CFLAGS ?= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
                   -Wstrict-prototypes -Wmissing-prototypes -g -O1
TLS_VALGRIND    ?= valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
                   --error-exitcode=1

.PHONY: tls-pipe-check

$(TLS_TEST_BIN): tests/tls/tls_pipe_test.c milter/tls_pipe.c milter/tls_pipe.h
	@mkdir -p $(dir $@)
	$(CC) $(TLS_TEST_CFLAGS) -Imilter -o $@ tests/tls/tls_pipe_test.c \
		milter/tls_pipe.c -lhiredis -lssl -lcrypto -lpthread

# ca and other-ca: self-signed CAs; ip (SAN IP:127.0.0.1) and name (SAN
# DNS:localhost): server certificates signed by ca.  All in a temporary
# directory, removed afterwards with the servers' logs (printed on failure).
tls-pipe-check: $(TLS_TEST_BIN)
	@set -e; d=$$(mktemp -d "$${TMPDIR:-/tmp}/m2a-tls.XXXXXX"); \
	trap 'rm -rf "$$d"' EXIT; \
	ossl() { openssl "$$@" >>"$$d/openssl.log" 2>&1 || \
		{ cat "$$d/openssl.log"; exit 1; }; }; \
	for ca in ca other-ca; do \
		ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 2 -subj "/CN=mail2alert test $$ca" \
			-keyout "$$d/$$ca.key" -out "$$d/$$ca.pem"; \
	done; \
	for cert in ip:IP:127.0.0.1 name:DNS:localhost; do \
		n=$${cert%%:*}; san=$${cert#*:}; \
		ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -subj "/CN=$${san#*:}" \
			-keyout "$$d/$$n.key" -out "$$d/$$n.csr"; \
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$$san" \
			>"$$d/$$n.ext"; \
		ossl x509 -req -in "$$d/$$n.csr" -CA "$$d/ca.pem" \
			-CAkey "$$d/ca.key" -CAcreateserial -days 2 \
			-extfile "$$d/$$n.ext" -out "$$d/$$n.pem"; \
	done; \
	rc=0; $(TLS_VALGRIND) $(TLS_TEST_BIN) "$$d" || rc=$$?; \
	if [ $$rc -ne 0 ]; then \
		for f in "$$d"/redis-*.log; do echo "== $$f"; tail -n 20 "$$f"; done; \
		echo "tls-pipe-check: FAILED (exit $$rc)"; \
	else \
		echo "tls-pipe-check: passed$(if $(TLS_VALGRIND), (under valgrind),)"; \
	fi; \
	exit $$rc
