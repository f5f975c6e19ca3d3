"""A capturing SMTP server on 127.0.0.1 for Postfix's smtp client.

Threaded (socketserver), one thread per connection.  Speaks EHLO/HELO, MAIL,
RCPT, DATA (dot-unstuffed), RSET, NOOP, VRFY, QUIT and advertises
PIPELINING, 8BITMIME, SIZE and SMTPUTF8.  Commands are read line by line from
a buffered stream, so pipelined batches (MAIL+RCPT+...+DATA in one write)
are answered one reply per command, in order.

Tests can make it answer 4xx/5xx at a stage with `reject()`.
"""

import email
import email.header
import email.policy
import email.utils
import re
import socket
import socketserver
import threading
import time

MAX_LINE = 1 << 20          # guards against a runaway client, not a real limit


class SinkMessage:
    """One delivered message."""

    def __init__(self, mail_from, rcpts, data, helo="", mail_params=(), peer=None):
        self.mail_from = mail_from          # str, no angle brackets ("" for <>)
        self.rcpts = list(rcpts)            # list of str, no angle brackets
        self.data = data                    # bytes, CRLF line ends, unstuffed
        self.helo = helo
        self.mail_params = list(mail_params)
        self.peer = peer
        self.received_at = time.time()
        self._msg = None

    @property
    def msg(self):
        """email.message.Message (compat32 policy: headers as raw strings)."""
        if self._msg is None:
            self._msg = email.message_from_bytes(self.data)
        return self._msg

    # convenience accessors -------------------------------------------------
    def header(self, name, default=None):
        """Raw header value, unfolded (CRLF+WSP removed), or default."""
        v = self.msg.get(name)
        if v is None:
            return default
        return re.sub(r"\r?\n(?=[ \t])", "", str(v))

    def headers(self, name):
        return [re.sub(r"\r?\n(?=[ \t])", "", str(v)) for v in self.msg.get_all(name, [])]

    @property
    def subject(self):
        """Subject, RFC 2047 decoded and unfolded."""
        raw = self.header("Subject")
        if raw is None:
            return None
        try:
            return str(email.header.make_header(email.header.decode_header(raw)))
        except Exception:
            return raw

    def to_addrs(self):
        """Addresses in the To: header(s), lower-cased, in order."""
        return [a.lower() for _, a in email.utils.getaddresses(self.headers("To")) if a]

    @property
    def body(self):
        """Raw body bytes (after the blank line)."""
        i = self.data.find(b"\r\n\r\n")
        if i < 0:
            return b""
        return self.data[i + 4:]

    def __repr__(self):
        return "<SinkMessage from=%r rcpts=%r subject=%r %dB>" % (
            self.mail_from, self.rcpts, self.header("Subject"), len(self.data))


def _strip_brackets(arg):
    """'<a@b> SIZE=12' -> ('a@b', ['SIZE=12'])"""
    arg = arg.strip()
    if arg.startswith("<"):
        end = arg.find(">")
        if end < 0:
            return None, []
        return arg[1:end], arg[end + 1:].split()
    parts = arg.split()
    return (parts[0] if parts else ""), parts[1:]


class _Handler(socketserver.StreamRequestHandler):
    timeout = 300
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.sink._register(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.sink._unregister(self.connection)

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE)
        if not line:
            raise EOFError
        return line

    def handle(self):
        sink = self.server.sink
        peer = self.client_address
        try:
            r = sink._rule("CONNECT", "")
            if r:
                self.reply(r)
                if r.startswith("5") or r.startswith("4"):
                    # SMTP: after a failing greeting the client sends QUIT
                    pass
            else:
                self.reply("220 %s ESMTP mail2alert-lab-sink" % sink.hostname)
            helo = ""
            mail_from = None
            mail_params = []
            rcpts = []
            while True:
                raw = self.readline()
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                sink._count_command(verb)
                if verb == "EHLO":
                    helo = arg
                    mail_from, rcpts = None, []
                    self.wfile.write(("250-%s\r\n250-PIPELINING\r\n250-SIZE %d\r\n"
                                      "250-8BITMIME\r\n250-SMTPUTF8\r\n"
                                      "250 ENHANCEDSTATUSCODES\r\n"
                                      % (sink.hostname, sink.size_limit)).encode())
                    self.wfile.flush()
                elif verb == "HELO":
                    helo = arg
                    mail_from, rcpts = None, []
                    self.reply("250 %s" % sink.hostname)
                elif verb == "MAIL":
                    if not arg.upper().startswith("FROM:"):
                        self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                        continue
                    if mail_from is not None:
                        self.reply("503 5.5.1 Error: nested MAIL command")
                        continue
                    addr, params = _strip_brackets(arg[5:])
                    if addr is None:
                        self.reply("501 5.1.7 Bad sender address syntax")
                        continue
                    r = sink._rule("MAIL", addr)
                    if r:
                        self.reply(r)
                        continue
                    mail_from, mail_params, rcpts = addr, params, []
                    self.reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    if mail_from is None:
                        self.reply("503 5.5.1 Error: need MAIL command")
                        continue
                    if not arg.upper().startswith("TO:"):
                        self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
                        continue
                    addr, _params = _strip_brackets(arg[3:])
                    if not addr:
                        self.reply("501 5.1.3 Bad recipient address syntax")
                        continue
                    r = sink._rule("RCPT", addr)
                    if r:
                        self.reply(r)
                        continue
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
                elif verb == "DATA":
                    if mail_from is None:
                        self.reply("503 5.5.1 Error: need MAIL command")
                        continue
                    if not rcpts:
                        self.reply("554 5.5.1 Error: no valid recipients")
                        continue
                    r = sink._rule("DATA", "")
                    if r:
                        self.reply(r)
                        mail_from, rcpts = None, []
                        continue
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        l = self.readline()
                        if l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        chunks.append(l)
                    data = b"".join(chunks)
                    m = SinkMessage(mail_from, rcpts, data, helo, mail_params, peer)
                    r = sink._rule("DATA_END", m)
                    if r:
                        self.reply(r)
                    else:
                        sink._deliver(m)
                        self.reply("250 2.0.0 Ok: queued as SINK%d" % sink._next_id())
                    mail_from, mail_params, rcpts = None, [], []
                elif verb == "RSET":
                    mail_from, mail_params, rcpts = None, [], []
                    self.reply("250 2.0.0 Ok")
                elif verb == "NOOP":
                    self.reply("250 2.0.0 Ok")
                elif verb == "VRFY":
                    self.reply("252 2.0.0 Cannot VRFY")
                elif verb == "QUIT":
                    self.reply("221 2.0.0 Bye")
                    return
                elif verb == "":
                    self.reply("500 5.5.2 Error: bad syntax")
                else:
                    self.reply("502 5.5.2 Error: command not recognized")
        except (EOFError, ConnectionError, socket.timeout, OSError):
            return


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128


class SmtpSink:
    """Capturing SMTP server.  `port` is the bound port (0 picks one)."""

    def __init__(self, host="127.0.0.1", port=0, hostname="sink.lab.test",
                 size_limit=128 * 1024 * 1024):
        self.host = host
        self.hostname = hostname        # must differ from Postfix's myhostname
        self.size_limit = size_limit
        self._cond = threading.Condition()
        self._messages = []
        self._rules = []
        self._conns = set()
        self._ids = 0
        self.commands = {}
        self._server = _Server((host, port), _Handler, bind_and_activate=True)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = None

    # ----------------------------------------------------------- lifecycle
    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="smtp-sink", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()
        with self._cond:
            conns = list(self._conns)
        for c in conns:             # cached Postfix connections
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -------------------------------------------------------------- results
    def messages(self):
        with self._cond:
            return list(self._messages)

    def clear(self):
        with self._cond:
            self._messages.clear()
            self._rules.clear()

    def wait_for(self, predicate=None, timeout=10.0):
        """Block until a message satisfying PREDICATE (default: any) has
        arrived; return the first such message.  Raises TimeoutError listing
        what did arrive."""
        predicate = predicate or (lambda m: True)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self._messages:
                    if predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("sink: no matching message within %.1fs; have %d: %r"
                                       % (timeout, len(self._messages), self._messages[-10:]))
                self._cond.wait(left)

    def wait_count(self, n, predicate=None, timeout=10.0):
        """Block until at least N messages (matching PREDICATE) arrived."""
        predicate = predicate or (lambda m: True)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self._messages if predicate(m)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("sink: %d of %d messages within %.1fs: %r"
                                       % (len(got), n, timeout, got[-10:]))
                self._cond.wait(left)

    def find(self, predicate):
        """Messages (already arrived) matching PREDICATE."""
        return [m for m in self.messages() if predicate(m)]

    # ---------------------------------------------------------------- faults
    def reject(self, stage, reply, times=None, match=None):
        """Answer REPLY (e.g. "450 4.2.0 try later") at STAGE: CONNECT, MAIL,
        RCPT, DATA (instead of 354) or DATA_END (after the dot).  TIMES limits
        how often (None: until clear()).  MATCH: optional callable given the
        address (MAIL/RCPT) or SinkMessage (DATA_END)."""
        with self._cond:
            self._rules.append([stage.upper(), reply, times, match])

    def _rule(self, stage, arg):
        with self._cond:
            for r in self._rules:
                st, reply, times, match = r
                if st != stage or (times is not None and times <= 0):
                    continue
                if match is not None and not match(arg):
                    continue
                if times is not None:
                    r[2] -= 1
                return reply
        return None

    # -------------------------------------------------------------- internal
    def _deliver(self, m):
        with self._cond:
            self._messages.append(m)
            self._cond.notify_all()

    def _next_id(self):
        with self._cond:
            self._ids += 1
            return self._ids

    def _count_command(self, verb):
        with self._cond:
            self.commands[verb] = self.commands.get(verb, 0) + 1

    def _register(self, conn):
        with self._cond:
            self._conns.add(conn)

    def _unregister(self, conn):
        with self._cond:
            self._conns.discard(conn)
