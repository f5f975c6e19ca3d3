"""A GoCD server stand-in (see /work/shared/GOCD.md sections 2-4).

Serves on 127.0.0.1 (port 0 picks one; see `.port`, `.url` = base incl. /go):

    GET /go/api/admin/pipeline_groups   v1 shape, ETag + 304 on If-None-Match
    GET /go/api/dashboard               v4 shape, pipelines as plain strings
    GET /go/api/config/pipeline_groups  legacy array (pre 20.3)
    GET /go/cctray.xml                  Projects/Project name="p :: s"

Like real GoCD, the versioned APIs answer 404 to an Accept header that does
not name their version (strict_accept=False turns that off).

Failure modes (set_mode): ok, 500, 401, 403, 404, 202, nosecurity (GoCD with
security off: Basic credentials get a 401 that says so), garbage (non-JSON
body), wrongshape (JSON of the wrong shape), hang (no answer until the server
stops or hang_seconds pass), close (close the connection mid-body).
"""

import base64
import gzip
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINTS = {
    "admin": "/go/api/admin/pipeline_groups",
    "dashboard": "/go/api/dashboard",
    "legacy": "/go/api/config/pipeline_groups",
    "cctray": "/go/cctray.xml",
}
PATH_TO_ENDPOINT = {v: k for k, v in ENDPOINTS.items()}

ACCEPT = {
    "admin": ("application/vnd.go.cd.v1+json", "application/vnd.go.cd+json"),
    "dashboard": ("application/vnd.go.cd.v4+json", "application/vnd.go.cd+json"),
}
MODES = ("ok", "500", "401", "403", "404", "202", "garbage", "wrongshape", "hang", "close",
         "304", "etag-cr", "bomb", "nosecurity")

_BOMB = []


def gzip_bomb(mib=48):
    """gzip of "[0,0,...,0]" decoding to about MIB MiB (made once)."""
    if not _BOMB:
        import gzip
        n = mib * 1024 * 1024 // 2
        _BOMB.append(gzip.compress(b"[0" + b",0" * (n - 1) + b"]", compresslevel=9))
    return _BOMB[0]


MSG_401 = "You are not authorized to access this resource!"
MSG_403 = "You are not authorized to perform this action."
# server/.../server/newsecurity/controllers/AuthenticationController.java
# BAD_CREDENTIALS_MSG, what a wrong Basic password gets (401)
MSG_BAD_PASSWORD = ("Invalid credentials. Either your username and password are incorrect, "
                    "or there is a problem with your browser cookies. Please check with your "
                    "administrator.")
# a Bearer token GoCD does not know (401; GOCD.md, corrections section)
MSG_BAD_TOKEN = "Invalid Personal Access Token."
# server/src/main/java/com/thoughtworks/go/server/newsecurity/filters/
# AbstractBasicAuthenticationFilter.java: with security off, a request that
# brings Basic credentials anyway is refused, 401 with this message.
MSG_NOSECURITY = ("Basic authentication credentials are not required, since security "
                  "has been disabled on this server.")
MSG_404 = ("Either the resource you requested was not found, or you are not "
           "authorized to perform this action.")


class Request:
    """One recorded request."""

    def __init__(self, method, path, query, headers):
        self.method = method
        self.path = path            # without query string
        self.query = query
        self.headers = headers      # email.message.Message (case-insensitive get)
        self.time = time.time()
        self.status = None          # HTTP status sent (None: none, e.g. hang/close)
        self.done = False           # handler finished (answered, closed or released)

    def __repr__(self):
        return "<Request %s %s -> %s%s>" % (self.method, self.path, self.status,
                                            "" if self.done else " (pending)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GoCD-standin/1.0"
    sys_version = ""
    timeout = 60

    def log_message(self, fmt, *args):      # keep test output quiet
        pass

    def do_GET(self):
        self.server.gocd._handle(self)

    def do_HEAD(self):
        self.server.gocd._handle(self, head=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class GocdStandIn:
    def __init__(self, host="127.0.0.1", port=0, strict_accept=True, hang_seconds=600):
        self.strict_accept = strict_accept
        self.hang_seconds = hang_seconds
        self._lock = threading.Condition()
        self._groups = {}
        self._mode = "ok"
        self._endpoint_mode = {}
        self._disabled = set()
        self._cctray = {}
        self._cctray_jobs = True
        self._auth = None
        self._views = {}
        self._requests = []
        self._counts = {}
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.gocd = self
        self.host = host
        self.port = self._server.server_address[1]
        self.url = "http://%s:%d/go" % (host, self.port)
        self._thread = None

    # ------------------------------------------------------------ lifecycle
    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="gocd-standin", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        self._stopping.set()            # releases "hang" handlers
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

    # ---------------------------------------------------------------- state
    def set_groups(self, groups):
        """{"group": ["pipe1", ...], ...}; order is kept."""
        with self._lock:
            self._groups = {str(g): [str(p) for p in ps] for g, ps in groups.items()}

    def groups(self):
        with self._lock:
            return {g: list(ps) for g, ps in self._groups.items()}

    def set_mode(self, mode, endpoint=None):
        """Failure mode for every endpoint, or for one endpoint ("admin",
        "dashboard", "legacy", "cctray"; None there clears the override).
        Leaving "hang" releases pending hung requests (closed unanswered)."""
        if mode is not None and str(mode) not in MODES:
            raise ValueError("unknown mode %r (one of %s)" % (mode, ", ".join(MODES)))
        with self._lock:
            if endpoint is None:
                self._mode = str(mode)
            elif mode is None:
                self._endpoint_mode.pop(endpoint, None)
            else:
                self._endpoint_mode[self._ep(endpoint)] = str(mode)
            self._lock.notify_all()

    def disable(self, endpoint):
        """Make ENDPOINT answer 404 (as GoCD >= 20.3 does for "legacy")."""
        with self._lock:
            self._disabled.add(self._ep(endpoint))

    def enable(self, endpoint):
        with self._lock:
            self._disabled.discard(self._ep(endpoint))

    def set_cctray(self, projects, jobs=True):
        """{"pipe :: stage": "Success"|"Failure"|...}.  With jobs=True a
        three-part "pipe :: stage :: job" entry follows each stage, as in the
        real feed."""
        with self._lock:
            self._cctray = dict(projects)
            self._cctray_jobs = jobs

    def set_auth(self, user=None, passwd=None, token=None):
        """Require Basic USER:PASSWD or Bearer TOKEN (401 otherwise).
        All None: no auth required."""
        with self._lock:
            if user is None and token is None:
                self._auth = None
            else:
                self._auth = (user, passwd, token)

    def set_view(self, user, groups=None, dashboard_hidden=()):
        """What USER (a Basic user name; None: a request without one) sees.

        groups: the groups USER may view (None: all).  Both group APIs list
        only those (PipelineConfigsService.getGroupsForUser, used by the
        admin PipelineGroupsControllerV1 and by GoDashboardService for
        DashboardControllerV4).  dashboard_hidden: pipelines USER's saved
        dashboard view leaves out (PipelineSelections.namedFilter, applied
        by DashboardControllerV4 only); a group left with no pipeline is
        omitted from the dashboard, as GoCD does."""
        with self._lock:
            self._views[user] = (None if groups is None else set(groups),
                                 set(dashboard_hidden))

    @staticmethod
    def _basic_user(h):
        m = re.match(r"(?i)basic (.*)", h.headers.get("Authorization", ""))
        if not m:
            return None
        try:
            return base64.b64decode(m.group(1)).decode().partition(":")[0]
        except Exception:
            return None

    @staticmethod
    def _ep(endpoint):
        if endpoint in ENDPOINTS:
            return endpoint
        if endpoint in PATH_TO_ENDPOINT:
            return PATH_TO_ENDPOINT[endpoint]
        raise ValueError("unknown endpoint %r" % endpoint)

    # ------------------------------------------------------------- requests
    def requests(self, path=None):
        """Recorded requests, optionally for one path (or endpoint name)."""
        if path in ENDPOINTS:
            path = ENDPOINTS[path]
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def count(self, path):
        if path in ENDPOINTS:
            path = ENDPOINTS[path]
        with self._lock:
            return self._counts.get(path, 0)

    def answered(self, path, status=None):
        """Requests to PATH that got an HTTP answer (optionally STATUS)."""
        return [r for r in self.requests(path)
                if r.status is not None and (status is None or r.status == status)]

    def wait_for_requests(self, path, n, timeout=10.0, answered=False):
        """Wait until PATH (or endpoint name) has seen at least N requests in
        total (since start); with answered=True, N finished ones (answered,
        or closed in "close"/"hang" mode).  Returns the requests; raises
        TimeoutError."""
        if path in ENDPOINTS:
            path = ENDPOINTS[path]
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                reqs = [r for r in self._requests if r.path == path
                        and (not answered or r.done)]
                if len(reqs) >= n:
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "GoCD stand-in: %d of %d %srequests to %s within %.1fs; all: %r"
                        % (len(reqs), n, "answered " if answered else "", path,
                           timeout, self._requests[-10:]))
                self._lock.wait(left)

    def reset_requests(self):
        with self._lock:
            self._requests.clear()
            self._counts.clear()

    # ------------------------------------------------------------- payloads
    def etag(self):
        with self._lock:
            blob = json.dumps(self._groups, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def _admin_doc(self, groups):
        base = self.url
        return {
            "_links": {"self": {"href": base + "/api/admin/pipeline_groups"},
                       "doc": {"href": "https://api.gocd.org/current/#pipeline-group-config"},
                       "find": {"href": base + "/api/admin/pipeline_groups/:group_name"}},
            "_embedded": {"groups": [
                {"_links": {"self": {"href": base + "/api/admin/pipeline_groups/" + g},
                            "doc": {"href": "https://api.gocd.org/current/#pipeline-group-config"},
                            "find": {"href": base + "/api/admin/pipeline_groups/:group_name"}},
                 "name": g,
                 "authorization": {"view": {"users": ["operate"], "roles": []},
                                   "admins": {"users": ["admin"], "roles": []}},
                 "pipelines": [{"_links": {"self": {"href": base + "/api/admin/pipelines/" + p},
                                           "doc": {"href": "https://api.gocd.org/current/#pipeline-config"},
                                           "find": {"href": base + "/api/admin/pipelines/:pipeline_name"}},
                                "name": p} for p in ps]}
                for g, ps in groups.items()]},
        }

    def _dashboard_doc(self, groups):
        base = self.url
        pipes = []
        for g, ps in groups.items():
            for p in ps:
                pipes.append({
                    "_links": {"self": {"href": base + "/api/pipelines/%s/history" % p}},
                    "name": p, "last_updated_timestamp": 1542863609039, "locked": False,
                    "pause_info": {"paused": False, "paused_by": None, "pause_reason": None},
                    "can_operate": True, "can_administer": True, "can_unlock": True,
                    "can_pause": True, "from_config_repo": False,
                    "_embedded": {"instances": [{
                        "_links": {"self": {"href": base + "/api/pipelines/%s/1" % p}},
                        "label": "1", "counter": 1, "triggered_by": "Triggered by changes",
                        "scheduled_at": "2018-11-21T09:43:07Z",
                        "_embedded": {"stages": [{
                            "_links": {"self": {"href": base + "/api/stages/%s/1/build/1" % p}},
                            "name": "build", "counter": "1", "status": "Passed",
                            "approved_by": "changes", "scheduled_at": "2018-11-21T09:43:07Z"}]}}]},
                })
        return {
            "_links": {"self": {"href": base + "/api/dashboard"}},
            "_personalization": "2356e5d4241f22987d8f8cb8920913fda237385b423bd7eec7e97b2a9eb1be1a",
            "_embedded": {
                "pipeline_groups": [
                    {"_links": {"self": {"href": base + "/api/config/pipeline_groups"}},
                     "name": g, "pipelines": list(ps), "can_administer": True,
                     "defines_pipelines": True}
                    for g, ps in groups.items() if ps],      # empty groups omitted
                "environments": [],
                "pipelines": pipes,
            },
        }

    @staticmethod
    def _legacy_doc(groups):
        return [{"pipelines": [{"stages": [{"name": "build"}], "name": p,
                                "materials": [{"description": "URL: https://github.com/gocd/gocd, Branch: master",
                                               "fingerprint": "2d05446cd52a998fe3afd840fc2c46b7c7e421051f0209c7f619c95bedc28b88",
                                               "type": "Git"}],
                                "label": "${COUNT}"} for p in ps],
                 "name": g} for g, ps in groups.items()]

    def _cctray_doc(self):
        with self._lock:
            projects = dict(self._cctray)
            jobs = self._cctray_jobs
        base = "http://%s:%d" % (self.host, self.port)
        out = ['<?xml version="1.0" encoding="utf-8"?>', "<Projects>"]
        for name, status in projects.items():
            parts = [p.strip() for p in name.split("::")]
            p, s = (parts + ["", ""])[:2]
            esc = lambda v: (v.replace("&", "&amp;").replace('"', "&quot;")
                             .replace("<", "&lt;").replace(">", "&gt;"))
            out.append('  <Project name="%s" activity="Sleeping" lastBuildStatus="%s" '
                       'lastBuildLabel="12" lastBuildTime="2026-05-12T08:17:44Z" '
                       'webUrl="%s/go/pipelines/%s/12/%s/1" />'
                       % (esc(name), esc(status), base, esc(p), esc(s)))
            if jobs and len(parts) == 2:
                out.append('  <Project name="%s :: %s-job" activity="Sleeping" '
                           'lastBuildStatus="%s" lastBuildLabel="12" '
                           'lastBuildTime="2026-05-12T08:17:44Z" '
                           'webUrl="%s/go/tab/build/detail/%s/12/%s/1/%s-job" />'
                           % (esc(name), esc(s), esc(status), base, esc(p), esc(s), esc(s)))
        out.append("</Projects>")
        return ("\n".join(out) + "\n").encode()

    # ------------------------------------------------------------- handling
    def _handle(self, h, head=False):
        path, _, query = h.path.partition("?")
        req = Request(h.command, path, query, h.headers)
        with self._lock:
            self._requests.append(req)
            self._counts[path] = self._counts.get(path, 0) + 1
            self._lock.notify_all()
            ep = PATH_TO_ENDPOINT.get(path)
            mode = self._endpoint_mode.get(ep, self._mode)
            disabled = ep in self._disabled
            groups = {g: list(ps) for g, ps in self._groups.items()}
            view = self._views.get(self._basic_user(h))
            auth = self._auth
        if view is not None:
            viewable, hidden = view
            groups = {g: ps for g, ps in groups.items() if viewable is None or g in viewable}
            if ep == "dashboard":
                groups = {g: [p for p in ps if p not in hidden] for g, ps in groups.items()}
        try:
            status = self._respond(h, req, ep, mode, disabled, groups, auth, head)
        except (ConnectionError, OSError):
            status = None
        with self._lock:
            req.status = status
            req.done = True
            self._lock.notify_all()

    def _send(self, h, status, body, ctype="application/json; charset=utf-8",
              headers=(), head=False):
        if isinstance(body, str):
            body = body.encode()
        headers = list(headers)
        # GoCD's Jetty gzips API answers for a client that accepts gzip
        # (GzipHandler in server/.../server/Jetty9Server.java; its default
        # minimum size is 32 bytes) and then marks the entity tag, "<tag>"
        # becoming "<tag>--gzip" (GOCD.md, corrections section); fresh()
        # strips the suffix again (_fresh above).
        if (status == 200 and ctype.startswith("application/json") and len(body) >= 32
                and "gzip" in h.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body)
            headers = [(k, re.sub(r'"$', '--gzip"', v) if k == "ETag" else v)
                       for k, v in headers]
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        if not head:
            h.wfile.write(body)
        h.wfile.flush()
        return status

    @staticmethod
    def _fresh(h, tag):
        """GoCD's ApiController.fresh (api/api-base/.../ApiController.java):
        If-None-Match equals the tag once a "--gzip" (or "--deflate")
        suffix that Jetty's GzipHandler added to the sent ETag is
        stripped."""
        inm = h.headers.get("If-None-Match")
        if inm is None:
            return False
        v = re.sub(r"--(gzip|deflate)$", "", inm.strip().strip('"'))
        return v == tag

    @staticmethod
    def _not_modified(h):
        """ApiController.notModified: a bare 304, with no ETag header
        (GOCD.md, corrections section)."""
        h.send_response(304)
        h.send_header("Content-Length", "0")
        h.end_headers()
        h.wfile.flush()
        return 304

    def _json(self, h, status, obj, headers=(), head=False):
        return self._send(h, status, json.dumps(obj, indent=2), headers=headers, head=head)

    def _check_auth(self, h, auth):
        if auth is None:
            return True
        user, passwd, token = auth
        got = h.headers.get("Authorization", "")
        m = re.match(r"(?i)bearer (.*)", got)
        if token is not None and m and m.group(1) == token:
            return True
        m = re.match(r"(?i)basic (.*)", got)
        if user is not None and m:
            try:
                u, _, p = base64.b64decode(m.group(1)).decode().partition(":")
            except Exception:
                return False
            return u == user and p == passwd
        return False

    def _respond(self, h, req, ep, mode, disabled, groups, auth, head):
        if ep is None or disabled:
            return self._json(h, 404, {"message": MSG_404}, head=head)
        if mode == "hang":
            # no answer until the server stops, hang_seconds pass, or the
            # mode is changed away from "hang" (then: close, no answer)
            deadline = time.monotonic() + self.hang_seconds
            with self._lock:
                while (not self._stopping.is_set() and time.monotonic() < deadline
                       and self._endpoint_mode.get(ep, self._mode) == "hang"):
                    self._lock.wait(0.2)
            h.close_connection = True
            return None
        if mode == "close":
            body = json.dumps(self._admin_doc(groups)).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return None
        if mode == "nosecurity" and h.headers.get("Authorization", "").startswith("Basic "):
            return self._json(h, 401, {"message": MSG_NOSECURITY}, head=head)
        if mode in ("500", "401", "403", "404"):
            msg = {"500": "Internal server error", "401": MSG_401,
                   "403": MSG_403, "404": MSG_404}[mode]
            hdrs = [("WWW-Authenticate", 'Basic realm="GoCD"')] if mode == "401" else []
            return self._json(h, int(mode), {"message": msg}, headers=hdrs, head=head)
        if not self._check_auth(h, auth):
            # credentials GoCD rejects say why (newsecurity filters:
            # AbstractBasicAuthenticationFilter -> AuthenticationController.
            # BAD_CREDENTIALS_MSG; AccessTokenAuthenticationFilter for a
            # token); no credentials at all get the generic 401
            got = h.headers.get("Authorization", "")
            msg = (MSG_BAD_PASSWORD if got[:6].lower() == "basic " else
                   MSG_BAD_TOKEN if got[:7].lower() == "bearer " else MSG_401)
            return self._json(h, 401, {"message": msg},
                              headers=[("WWW-Authenticate", 'Basic realm="GoCD"')], head=head)
        if self.strict_accept and ep in ACCEPT:
            accept = h.headers.get("Accept", "")
            # SparkPreFilter (server/.../spark/SparkPreFilter.java): the whole
            # Accept value must be one valid API version (ApiVersion.isValid, a
            # set lookup, so "v1+json, */*" fails), else render404: text/plain,
            # "The url you are trying to reach appears to be incorrect.\n".
            if not re.fullmatch(r"application/vnd\.go\.cd(\.v\d+)?\+json", accept):
                return self._send(h, 404, "The url you are trying to reach appears to be "
                                  "incorrect.\n", ctype="text/plain;charset=utf-8", head=head)
            # a valid version this controller has no route for: Spark's 404
            if accept not in ACCEPT[ep]:
                return self._json(h, 404, {"message": "The url you are trying to reach "
                                           "appears to be incorrect."}, head=head)
        if mode == "202" and ep != "cctray":
            return self._json(h, 202, {"message": "Dashboard is being processed, this "
                                       "may take a few seconds. Please check back later."},
                              head=head)
        # Not GoCD's behaviour, a hostile or broken cache in front of it:
        # "304" answers Not Modified whatever was asked (RFC 9110 15.4.5 allows
        # it only for a conditional request), "etag-cr" puts a bare CR inside
        # the entity tag (RFC 9110 8.8.3 forbids controls there).
        if mode == "304":
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
            h.wfile.flush()
            return 304
        if mode == "etag-cr":
            return self._json(h, 200, self._admin_doc(groups) if ep == "admin" else
                              self._dashboard_doc(groups),
                              headers=[("ETag", '"abc\rX-Injected: 1"')], head=head)
        # "bomb": 64 KB of gzip that a client asking for gzip (as curl does
        # for us) decodes to 48 MiB of [0,0,0,...]: cheap to send, and a
        # tree of 25 million JSON values to whoever parses it whole.
        if mode == "bomb":
            h.send_response(200)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(gzip_bomb())))
            h.end_headers()
            if not head:
                h.wfile.write(gzip_bomb())
            h.wfile.flush()
            return 200
        if mode == "garbage":
            return self._send(h, 200, "<html><body>Oops, this is not JSON {{{",
                              ctype="application/json; charset=utf-8", head=head)
        if mode == "wrongshape":
            return self._json(h, 200, {"message": "wrong shape",
                                       "_embedded": {"groups": 42, "pipeline_groups": "x"}},
                              head=head)
        # mode ok
        if ep == "cctray":
            return self._send(h, 200, self._cctray_doc(),
                              ctype="application/xml; charset=utf-8",
                              headers=[("ETag", '"%s"' % hashlib.md5(self._cctray_doc()).hexdigest())],
                              head=head)
        if ep == "legacy":
            return self._json(h, 200, self._legacy_doc(groups), headers=[
                ("X-GoCD-API-Deprecated-In", "v19.12.0"),
                ("X-GoCD-API-Removal-In", "v20.3.0"),
                ("Link", '<%s/api/admin/pipeline_groups>; Accept="application/vnd.go.cd.v1+json"; '
                         'rel="successor-version"' % self.url),
                ("Warning", '299 GoCD/v20.2.0 "The Pipeline Groups Config Listing unversioned '
                            'API has been deprecated in GoCD Release v19.12.0."')], head=head)
        if ep == "admin":
            blob = json.dumps(groups, sort_keys=True).encode()
            tag = hashlib.sha256(blob).hexdigest()
            if self._fresh(h, tag):
                return self._not_modified(h)
            return self._json(h, 200, self._admin_doc(groups),
                              headers=[("ETag", '"%s"' % tag)], head=head)
        if ep == "dashboard":
            doc = self._dashboard_doc(groups)
            tag = hashlib.md5(json.dumps(doc["_embedded"]["pipeline_groups"],
                                         sort_keys=True).encode()).hexdigest()
            # DashboardControllerV4.index: fresh(request, etag) -> notModified
            if self._fresh(h, tag):
                return self._not_modified(h)
            return self._json(h, 200, doc, headers=[("ETag", '"%s"' % tag)], head=head)
        return self._json(h, 404, {"message": MSG_404}, head=head)
