"""A Slack stand-in: the Web API's chat.postMessage and incoming webhooks.

Serves on 127.0.0.1 (port 0 picks one; see `.port`):

    POST /api/chat.postMessage     slack-api = slack.api_url ("http://127.0.0.1:PORT/api")
    GET  /api/users.list           slack.users, paginated (limit, cursor)
    GET  /api/users.lookupByEmail  slack.users by profile.email
    POST /hooks/<name>             an incoming webhook: slack.hook_url("<name>")

Every request is recorded (method, path, headers, raw body, parsed JSON,
arrival time, the status sent).  Answers by default: the Web API
`{"ok": true, ...}` (JSON), a webhook the plain text `ok`; any other path 404.

Programmable answers, per path, first from a script (a queue consumed one
entry per request), then from the path's mode, then the global mode:

    slack.script("/api/chat.postMessage", [
        (429, {"Retry-After": "2"}, '{"ok":false,"error":"ratelimited"}'),
        (200, {}, '{"ok":true}')])
    slack.set_mode("500")                     # every path; or set_mode("hang", path)

A script entry is (status, headers, body) with body str, bytes, or a
dict/list (sent as JSON), or one of the mode names.  Modes:

    ok      the default answer
    500     HTTP 500, {"ok": false, "error": "internal_error"}
    hang    no answer until release(), leaving "hang" mode, the server's
            stop, the client closing its end (`client_gone`) or
            hang_seconds; then: release() answers with the default (or its
            `answer`), anything else closes the connection unanswered
    close   read the request, then close the connection without an answer

    with SlackStandIn().start() as slack:
        ...
        slack.wait_for_posts(1, timeout=5)
"""

import base64
import json
import urllib.parse
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_PATH = "/api/chat.postMessage"
USERS_LIST_PATH = "/api/users.list"
LOOKUP_EMAIL_PATH = "/api/users.lookupByEmail"
HOOK_PREFIX = "/hooks/"
MODES = ("ok", "500", "hang", "close")


class SlackRequest:
    """One recorded request."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers          # email.message.Message (case-insensitive get)
        self.body = body                # raw bytes
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None
        self.query = {}                 # the query string, one value per key
        if "?" in path:
            self.path, qs = path.split("?", 1)
            self.query = {k: v[0] for k, v in urllib.parse.parse_qs(qs).items()}
        self.time = time.time()         # wall clock
        self.mono = time.monotonic()    # for measuring gaps
        self.status = None              # status sent (None: none, hang/close)
        self.done = False               # handler finished
        self.hanging = False            # held in "hang" right now
        self.client_gone = False        # the client closed while it hung

    @property
    def is_webhook(self):
        return self.path.startswith(HOOK_PREFIX)

    def header(self, name):
        return self.headers.get(name)

    def attachment(self):
        """The single attachment of a post (asserts there is exactly one)."""
        atts = (self.json or {}).get("attachments")
        assert isinstance(atts, list) and len(atts) == 1, \
            "expected one attachment, got %r" % (self.json,)
        return atts[0]

    def __repr__(self):
        state = "hanging" if self.hanging else ("done" if self.done else "pending")
        title = None
        if isinstance(self.json, dict):
            atts = self.json.get("attachments") or [{}]
            title = atts[0].get("title") if isinstance(atts[0], dict) else None
        return "<SlackRequest %s %s -> %s (%s) title=%r>" % (self.method, self.path,
                                                            self.status, state, title)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Slack-standin/1.0"
    sys_version = ""
    timeout = 60

    def log_message(self, fmt, *args):      # keep test output quiet
        pass

    def do_POST(self):
        self.server.slack._handle(self)

    def do_GET(self):
        self.server.slack._handle(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


def _peer_closed(sock):
    """True once the client has closed its end (EOF or reset)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError, socket.timeout):
        return False
    except OSError:
        return True


def _norm_path(path):
    """"/hooks/x" stays; a bare hook name "x" is not accepted (be explicit)."""
    return path.split("?", 1)[0]


class SlackStandIn:
    def __init__(self, host="127.0.0.1", port=0, hang_seconds=600):
        self.hang_seconds = hang_seconds
        self._lock = threading.Condition()
        self._requests = []
        self._scripts = {}              # path -> [entry, ...]
        self._path_mode = {}            # path -> mode
        self._mode = "ok"
        self._release_gen = 0           # bumped by release()
        self._release_answer = None
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.slack = self
        self.host = host
        self.port = self._server.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self.api_url = self.url + "/api"
        # The workspace's members, for users.list and users.lookupByEmail.
        self.users = [
            {"id": "U0ALICE0001", "name": "alice", "deleted": False,
             "profile": {"display_name": "Alice", "email": "alice@example.com"}},
            {"id": "U0BOB000002", "name": "bob", "deleted": False,
             "profile": {"display_name": "bobby", "email": "bob@example.com"}},
        ]
        self._thread = None

    # ------------------------------------------------------------ lifecycle
    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="slack-standin", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        self._stopping.set()            # hanging handlers close unanswered
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def hook_url(self, name):
        return "%s%s%s" % (self.url, HOOK_PREFIX, name)

    # ---------------------------------------------------------- behaviour
    def script(self, path, responses):
        """Append RESPONSES to PATH's queue; each request to PATH takes the
        next one.  Entries: (status, headers, body) or a mode name."""
        path = _norm_path(path)
        entries = []
        for r in responses:
            if isinstance(r, str):
                if r not in MODES:
                    raise ValueError("unknown mode %r (one of %s)" % (r, ", ".join(MODES)))
            else:
                status, headers, body = r
                r = (int(status), dict(headers or {}), body)
            entries.append(r)
        with self._lock:
            self._scripts.setdefault(path, []).extend(entries)

    def scripted_left(self, path):
        with self._lock:
            return len(self._scripts.get(_norm_path(path), []))

    def set_mode(self, mode, path=None):
        """Mode for every path, or for PATH (mode None clears the override)."""
        if mode is not None and mode not in MODES:
            raise ValueError("unknown mode %r (one of %s)" % (mode, ", ".join(MODES)))
        with self._lock:
            if path is None:
                self._mode = mode or "ok"
            elif mode is None:
                self._path_mode.pop(_norm_path(path), None)
            else:
                self._path_mode[_norm_path(path)] = mode
            self._lock.notify_all()

    def release(self, answer=None, mode=None, path=None):
        """Let every request hanging now go: answered with ANSWER
        ((status, headers, body) or a mode name other than "hang") or the
        path's default answer.  With MODE, set_mode(MODE, PATH) in the same
        step, so later requests do not hang again."""
        if mode is not None and mode not in MODES:
            raise ValueError("unknown mode %r (one of %s)" % (mode, ", ".join(MODES)))
        if answer == "hang":
            raise ValueError("a released request cannot hang again")
        with self._lock:
            if mode is not None:
                if path is None:
                    self._mode = mode
                else:
                    self._path_mode[_norm_path(path)] = mode
            self._release_gen += 1
            self._release_answer = answer
            self._lock.notify_all()

    # ------------------------------------------------------------- records
    def requests(self, path=None):
        """Recorded requests (optionally to one path), in arrival order."""
        with self._lock:
            return [r for r in self._requests
                    if path is None or r.path == _norm_path(path)]

    def answered_requests(self, path=None, timeout=10.0):
        """requests(path), once every one of them has been answered: the
        milter may log an answer before this server has recorded it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                reqs = [r for r in self._requests
                        if path is None or r.path == _norm_path(path)]
                left = deadline - time.monotonic()
                if all(r.done for r in reqs) or left <= 0:
                    return reqs
                self._lock.wait(left)

    def posts(self, path=None):
        """Recorded requests whose body parsed as JSON."""
        return [r for r in self.requests(path) if r.json is not None]

    def count(self, path=None):
        return len(self.requests(path))

    def hanging(self):
        """Requests held in "hang" right now."""
        with self._lock:
            return [r for r in self._requests if r.hanging]

    def wait_for_requests(self, n, timeout=10.0, path=None, pred=None, answered=False):
        """Wait until at least N requests (to PATH, matching PRED; with
        answered=True only finished ones) were seen; returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self._requests
                       if (path is None or r.path == _norm_path(path))
                       and (pred is None or pred(r)) and (not answered or r.done)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "Slack stand-in: %d of %d %srequests%s within %.1fs; all: %r"
                        % (len(got), n, "answered " if answered else "",
                           " to %s" % path if path else "", timeout, self._requests[-10:]))
                self._lock.wait(min(left, 0.5))

    def wait_for_posts(self, n, timeout=10.0, path=None, pred=None):
        """Wait for N requests with a JSON body (optionally to PATH, matching
        PRED); returns them."""
        return self.wait_for_requests(
            n, timeout, path, lambda r: r.json is not None and (pred is None or pred(r)))

    def wait_hanging(self, n=1, timeout=10.0):
        """Wait until N requests are held in "hang" at once."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self._requests if r.hanging]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("Slack stand-in: %d of %d requests hanging within "
                                       "%.1fs; all: %r" % (len(got), n, timeout,
                                                           self._requests[-10:]))
                self._lock.wait(min(left, 0.5))

    def reset_requests(self):
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------ handling
    def _users_list(self, req):
        # https://api.slack.com/methods/users.list: "members", paginated by
        # "limit" and an opaque "cursor"; response_metadata.next_cursor is
        # "" on the last page.
        try:
            limit = max(1, min(1000, int(req.query.get("limit", "0")) or 1000))
        except ValueError:
            limit = 1000
        cursor = req.query.get("cursor", "")
        try:
            start = int(base64.b64decode(cursor).decode()[5:]) if cursor else 0
        except ValueError:
            return (200, {}, {"ok": False, "error": "invalid_cursor"})
        page = self.users[start:start + limit]
        more = start + limit < len(self.users)
        nxt = base64.b64encode(("user:%d" % (start + limit)).encode()).decode() if more else ""
        return (200, {}, {"ok": True, "members": page,
                          "response_metadata": {"next_cursor": nxt}})

    def _lookup_email(self, req):
        # https://api.slack.com/methods/users.lookupByEmail: {"ok":true,
        # "user":{...}}, or {"ok":false,"error":"users_not_found"}.
        email = req.query.get("email", "")
        for u in self.users:
            if u["profile"].get("email") == email and not u["deleted"]:
                return (200, {}, {"ok": True, "user": u})
        return (200, {}, {"ok": False, "error": "users_not_found"})

    def _default_answer(self, path, req):
        if path == USERS_LIST_PATH:
            return self._users_list(req)
        if path == LOOKUP_EMAIL_PATH:
            return self._lookup_email(req)
        if path == API_PATH:
            channel = (req.json or {}).get("channel", "") if isinstance(req.json, dict) else ""
            # "@name" was retired with usernames in 2017
            # (https://api.slack.com/changelog/2017-09-the-one-about-usernames):
            # chat.postMessage answers it as an unknown channel.
            if isinstance(channel, str) and channel.startswith("@"):
                return (200, {}, {"ok": False, "error": "channel_not_found"})
            return (200, {}, {"ok": True, "channel": "C0123456789", "ts": "%.6f" % time.time(),
                              "message": {"type": "message", "subtype": "bot_message"}})
        if path.startswith(HOOK_PREFIX) and len(path) > len(HOOK_PREFIX):
            return (200, {"Content-Type": "text/html"}, "ok")
        return (404, {"Content-Type": "text/plain"}, "not found")

    def _handle(self, h):
        path = _norm_path(h.path)
        try:
            length = int(h.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = h.rfile.read(length) if length > 0 else b""
        req = SlackRequest(h.command, h.path, h.headers, body)
        with self._lock:
            self._requests.append(req)
            script = self._scripts.get(path)
            if script:
                entry = script.pop(0)
            else:
                entry = self._path_mode.get(path, self._mode)
            self._lock.notify_all()
        status = None
        try:
            status = self._respond(h, req, path, entry)
        except (ConnectionError, OSError):
            status = None
        with self._lock:
            req.status = status
            req.done = True
            req.hanging = False
            self._lock.notify_all()

    def _respond(self, h, req, path, entry):
        if entry == "hang":
            deadline = time.monotonic() + self.hang_seconds
            with self._lock:
                gen = self._release_gen
                req.hanging = True
                self._lock.notify_all()
                while (not self._stopping.is_set() and time.monotonic() < deadline
                       and self._release_gen == gen
                       and self._path_mode.get(path, self._mode) == "hang"):
                    if _peer_closed(h.connection):
                        req.client_gone = True
                        break
                    self._lock.wait(0.1)
                req.hanging = False
                released = self._release_gen != gen
                answer = self._release_answer
                self._lock.notify_all()
            if self._stopping.is_set() or req.client_gone or not released:
                h.close_connection = True
                return None
            entry = answer or "ok"
        if entry == "close":
            h.close_connection = True
            return None
        if entry == "ok":
            entry = self._default_answer(path, req)
        elif entry == "500":
            entry = (500, {}, {"ok": False, "error": "internal_error"})
        return self._send(h, *entry)

    @staticmethod
    def _send(h, status, headers, body):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""
        headers.setdefault("Content-Type", "application/json; charset=utf-8"
                           if body[:1] in (b"{", b"[") else "text/plain; charset=utf-8")
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, str(v))
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        return status
