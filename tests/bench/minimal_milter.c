/*
 * minimal_milter.c - the smallest libmilter milter that does what mail2alert
 * does on the wire, as a yardstick for tests/bench/bench.py.
 *
 *   minimal_milter MODE SOCKET [nodelay] [data] [noreply]
 *
 *   MODE     accept   accept every message at MAIL FROM
 *            rewrite  at end of message delete the first recipient, add
 *                     routed@example.com and change the first To: header
 *   SOCKET   libmilter spec: inet:PORT@127.0.0.1 or unix:/path (made 0666)
 *   nodelay  TCP_NODELAY on the listening socket (accepted sockets inherit it)
 *   data     an (empty) DATA callback, as mail2alert has
 *   noreply  negotiate: skip every step without a callback, and ask for no
 *            reply (SMFIP_NR_*) for connect, MAIL (rewrite), RCPT and
 *            headers.  DATA, when there is a callback for it, is still
 *            answered: over TCP the answer is what acknowledges the last
 *            bytes smtpd wrote before cleanup takes the socket over, so
 *            cleanup's first write does not wait for a delayed ACK (Postfix
 *            does not set TCP_NODELAY on milter sockets)
 *
 * Callbacks: connect, MAIL, RCPT, header, end of message (+ DATA).
 * SIGTERM stops it (libmilter's own signal handling).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define NEW_RCPT "<routed@example.com>"
#define NEW_TO "routed@example.com"

static bool mode_rewrite;
static bool opt_noreply;
static bool opt_data;

/* What a callback answers in a step the MTA was told not to wait for. */
static sfsistat
step_reply(unsigned long nr_bit, unsigned long negotiated)
{
	return (opt_noreply && (negotiated & nr_bit)) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* The protocol flags agreed at negotiation, kept per connection. */
struct conn {
	unsigned long pflags;
	char *rcpt;		/* first recipient of the current message */
};

static struct conn *
conn_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c != NULL && smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* *pf1 comes in holding the NO* flags for callbacks we do not have */
	unsigned long want = *pf1 | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOBODY |
	    SMFIP_NOEOH | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_RCPT | SMFIP_NR_HDR;
	struct conn *c = conn_of(ctx);

	(void)f2;
	(void)f3;
	if (mode_rewrite)
		want |= SMFIP_NR_MAIL;	/* accept mode answers ACCEPT at MAIL */
	if (opt_data)
		want &= ~(unsigned long)SMFIP_NODATA;
	else
		want |= SMFIP_NODATA;
	*pf0 = f0 & (SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS);
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	if (c != NULL)
		c->pflags = *pf1;
	return SMFIS_CONTINUE;
}

static unsigned long
negotiated(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	return c != NULL ? c->pflags : 0;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)host;
	(void)addr;
	return conn_of(ctx) == NULL ? SMFIS_TEMPFAIL :
	    step_reply(SMFIP_NR_CONN, negotiated(ctx));
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	(void)argv;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	free(c->rcpt);
	c->rcpt = NULL;
	if (!mode_rewrite)
		return SMFIS_ACCEPT;
	return step_reply(SMFIP_NR_MAIL, c->pflags);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->rcpt == NULL && argv[0] != NULL)
		c->rcpt = strdup(argv[0]);
	return step_reply(SMFIP_NR_RCPT, negotiated(ctx));
}

static sfsistat
cb_data(SMFICTX *ctx)
{
	return step_reply(SMFIP_NR_DATA, negotiated(ctx));
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return step_reply(SMFIP_NR_HDR, negotiated(ctx));
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->rcpt == NULL)
		return SMFIS_ACCEPT;
	if (smfi_delrcpt(ctx, c->rcpt) != MI_SUCCESS ||
	    smfi_addrcpt(ctx, NEW_RCPT) != MI_SUCCESS ||
	    smfi_chgheader(ctx, "To", 1, NEW_TO) != MI_SUCCESS)
		fprintf(stderr, "minimal_milter: modification failed\n");
	free(c->rcpt);
	c->rcpt = NULL;
	return SMFIS_ACCEPT;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		free(c->rcpt);
		c->rcpt = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		free(c->rcpt);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* libmilter does not hand out its listener: find it among our descriptors. */
static void
listener_nodelay(void)
{
	for (int fd = 0; fd < 64; fd++) {
		int listening = 0, on = 1;
		socklen_t optlen = sizeof(listening);
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 ||
		    !listening || getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
			continue;
		if ((addr.ss_family == AF_INET || addr.ss_family == AF_INET6) &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
			fprintf(stderr, "minimal_milter: TCP_NODELAY: %s\n", strerror(errno));
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: minimal_milter accept|rewrite SOCKET [nodelay] [data] [noreply]\n"
	    "  SOCKET: inet:PORT@127.0.0.1 or unix:/path\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "minimal_milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_connect = cb_connect,
		.xxfi_envfrom = cb_envfrom,
		.xxfi_envrcpt = cb_envrcpt,
		.xxfi_header = cb_header,
		.xxfi_eom = cb_eom,
		.xxfi_abort = cb_abort,
		.xxfi_close = cb_close,
	};
	bool nodelay = false;
	const char *spec;

	if (argc < 3)
		usage();
	if (strcmp(argv[1], "rewrite") == 0)
		mode_rewrite = true;
	else if (strcmp(argv[1], "accept") != 0)
		usage();
	spec = argv[2];
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "nodelay") == 0)
			nodelay = true;
		else if (strcmp(argv[i], "data") == 0)
			opt_data = true;
		else if (strcmp(argv[i], "noreply") == 0)
			opt_noreply = true;
		else
			usage();
	}
	if (mode_rewrite)
		desc.xxfi_flags = SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS;
	if (opt_data)
		desc.xxfi_data = cb_data;
	if (opt_noreply)
		desc.xxfi_negotiate = cb_negotiate;

	if (smfi_setconn((char *)spec) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "minimal_milter: cannot set up %s\n", spec);
		return 1;
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "minimal_milter: cannot listen on %s\n", spec);
		return 1;
	}
	if (nodelay)
		listener_nodelay();
	if (strncmp(spec, "unix:", 5) == 0 && chmod(spec + 5, 0666) != 0) {
		fprintf(stderr, "minimal_milter: chmod %s: %s\n", spec + 5, strerror(errno));
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
