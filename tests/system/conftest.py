"""Fixtures for mail2alert system tests.

Session: one SMTP sink, one private Postfix (pointed at a fixed milter port
chosen once, so Postfix is never reloaded), one lab directory (removed at the
end unless M2A_KEEP_LAB=1).
Per test: a GoCD stand-in, a `milter(config_text)` factory that starts the
binary on the session's milter port, a cleared sink.

The binary is $MAIL2ALERT, default <repo>/mail2alert.  A missing binary is a
test failure with a clear message, never a skip.

Run:  /usr/bin/python3 -m pytest tests/system
"""

import os
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab import (GocdStandIn, MilterProcess, PostfixInstance, SmtpSink,  # noqa: E402
                       free_port, send as smtp_send, check_config)

TRIGGER = "mail2alert@example.com"          # messages-we-want address in test configs
GOCD_SENDER = "go@gocd.example.com"         # envelope sender of GoCD-like mail
GROUPS_PATH = "/go/api/admin/pipeline_groups"


# ---------------------------------------------------------------- binary

def _binary_path():
    return os.environ.get("MAIL2ALERT") or os.path.join(REPO, "mail2alert")


@pytest.fixture(scope="session")
def mail2alert_bin():
    path = _binary_path()
    if not os.path.isfile(path):
        pytest.fail("mail2alert binary not found at %s: build it first (make) or set "
                    "MAIL2ALERT=/path/to/mail2alert" % path, pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail("mail2alert binary %s is not executable" % path, pytrace=False)
    return path


# ---------------------------------------------------------------- secrets
# Every password and token a test hands the GoCD stand-in, plus anything
# shaped like a Slack token, must never reach a log line of the whole run.

SECRETS = set()
SLACK_TOKEN_RE = re.compile(r"xox[abpr]-[A-Za-z0-9-]{6,}")
_stand_in_set_auth = GocdStandIn.set_auth


def _recording_set_auth(self, user=None, passwd=None, token=None):
    SECRETS.update(s for s in (passwd, token) if s and len(s) >= 6)
    return _stand_in_set_auth(self, user=user, passwd=passwd, token=token)


GocdStandIn.set_auth = _recording_set_auth


def leaked_secrets(root):
    """(file, secret) for every secret found in a log under root."""
    found = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not (name.endswith(".log") or name == "maillog"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            found += [(path, s) for s in SECRETS if s in text]
            found += [(path, m) for m in SLACK_TOKEN_RE.findall(text)]
    return found


# ---------------------------------------------------------------- session lab

@pytest.fixture(scope="session")
def lab_dir():
    d = tempfile.mkdtemp(prefix="m2a-lab-")
    os.chmod(d, 0o755)      # the postfix user must reach maillog, sockets, data/
    yield d
    if os.environ.get("M2A_KEEP_LAB"):
        sys.stderr.write("\nlab kept in %s\n" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log(lab_dir):
    """After the whole run: grep every milter and Postfix log for secrets."""
    yield
    leaks = leaked_secrets(lab_dir)
    assert not leaks, "secrets in logs: %r" % leaks[:10]


@pytest.fixture(scope="session")
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def milter_port():
    return free_port()


@pytest.fixture(scope="session")
def postfix(lab_dir, sink, milter_port):
    pf = PostfixInstance(os.path.join(lab_dir, "postfix"), free_port(), sink.port,
                         milter="inet:127.0.0.1:%d" % milter_port)
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()


@pytest.fixture(autouse=True)
def _clean_sink(sink):
    sink.clear()
    yield


# ---------------------------------------------------------------- per test

@pytest.fixture
def gocd():
    g = GocdStandIn().start()
    yield g
    g.stop()


@pytest.fixture
def test_dir(lab_dir, request):
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)[:80]
    d = os.path.join(lab_dir, "t", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.chmod(os.path.join(lab_dir, "t"), 0o755)
    os.chmod(d, 0o755)
    return d


def render_config(text, gocd_url="http://127.0.0.1:9/go", port=0, test_dir="/tmp"):
    """Fill placeholders in a config text: @GOCD_URL@, @SOCKET@, @PORT@, @DIR@."""
    text = textwrap.dedent(text)
    return (text.replace("@GOCD_URL@", gocd_url)
            .replace("@SOCKET@", "inet:%d@127.0.0.1" % port)
            .replace("@PORT@", str(port))
            .replace("@DIR@", test_dir))


def as_root_config(text):
    """The lab runs as root and has no mail2alert user: say that root is
    meant (mail2alert refuses to handle mail as root otherwise)."""
    if os.geteuid() == 0 and "allow-root" not in text:
        text += "\nallow-root = true;\n"
    return text


class MilterFactory:
    # libmilter notices SIGTERM only when its listener's select() times out
    # (about 5 s), so a clean stop takes seconds.  Between tests that is just
    # waiting: give SIGTERM this long, then SIGKILL.  A clean SIGTERM exit is
    # tested on its own (test_failures.py::test_sigterm_stops_cleanly).
    stop_timeout = 0.5
    # Once a poll was answered, send SIGUSR2 ("poll now") so the next poll,
    # which shows the answer was handled, comes at once.
    nudge = True

    def __init__(self, binary, port, gocd, test_dir):
        self.binary = binary
        self.port = port
        self.gocd = gocd
        self.dir = test_dir
        self.procs = []

    def write_config(self, text, name="mail2alert.conf"):
        path = os.path.join(self.dir, name)
        text = render_config(text, self.gocd.url if self.gocd else "http://127.0.0.1:9/go",
                             self.port, self.dir)
        with open(path, "w") as f:
            f.write(as_root_config(text))
        return path

    def __call__(self, config_text, wait_groups=True, env=None, args=(), timeout=10.0,
                 groups_path=GROUPS_PATH):
        """Write CONFIG_TEXT (placeholders filled), start the milter on the
        session's milter port.  wait_groups: wait until the GoCD stand-in
        has answered one pipeline-groups poll and the next poll has begun,
        so the first snapshot is in use (poll-interval must be small)."""
        for p in self.procs:            # one milter at a time on the port
            if p.alive():
                p.stop(self.stop_timeout)
        path = self.write_config(config_text)
        base = self.gocd.count(groups_path) if self.gocd else 0
        m = MilterProcess(self.binary, path, self.dir, args=args, env=env,
                          name="mail2alert-%d" % (len(self.procs) + 1))
        self.procs.append(m)
        m.start(timeout)
        if wait_groups:
            self.wait_groups_loaded(base, path=groups_path)
        return m

    def wait_groups_loaded(self, base=None, timeout=15.0, path=GROUPS_PATH):
        """Wait for a successful pipeline-groups answer (200/304) among the
        requests after index BASE, then for the request after it.  Polls
        run one at a time, so the next request means the answer has been
        handled and the snapshot is in use."""
        if base is None:
            base = self.gocd.count(path)
        deadline = time.monotonic() + timeout
        nudged = False
        while True:
            reqs = self.gocd.requests(path)
            ok = [i for i, r in enumerate(reqs) if i >= base and r.status in (200, 304)]
            if ok and len(reqs) >= ok[0] + 2:
                return
            if ok and not nudged and self.nudge:
                # SIGUSR2 = "poll GoCD now" (SPEC 7): saves waiting a poll interval
                p = self.procs[-1] if self.procs else None
                if p is not None and p.alive():
                    p.proc.send_signal(signal.SIGUSR2)
                nudged = True
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the milter did not load pipeline groups from the GoCD stand-in "
                    "within %.0fs (requests to %s: %r)" % (timeout, path, reqs[base:]))
            time.sleep(0.02)

    def stop_all(self):
        for p in self.procs:
            p.stop(self.stop_timeout)


@pytest.fixture
def milter(mail2alert_bin, milter_port, postfix, gocd, test_dir, request):
    f = MilterFactory(mail2alert_bin, milter_port, gocd, test_dir)
    yield f
    crashed = [p for p in f.procs if p.proc and p.returncode is not None and not p.signalled]
    f.stop_all()
    for p in f.procs:
        print("---- %s (rc=%s) ----\n%s" % (p.log_path, p.returncode, p.log()[-6000:]))
    if crashed:
        p = crashed[0]
        pytest.fail("mail2alert exited by itself during the test (rc=%s); log:\n%s"
                    % (p.returncode, p.log()[-4000:]), pytrace=False)


@pytest.fixture
def mta(postfix):
    """Send through the lab Postfix: mta(mail_from, rcpts, data, check=True)."""
    def _send(mail_from, rcpts, data, **kw):
        return smtp_send(postfix.smtpd_port, mail_from, rcpts, data, **kw)
    return _send


@pytest.fixture
def config_check(mail2alert_bin, test_dir):
    """config_check(text, name=...) -> (path, rc, stdout, stderr)."""
    def _check(text, name="mail2alert.conf", gocd_url="http://127.0.0.1:9/go", env=None):
        path = os.path.join(test_dir, name)
        with open(path, "w") as f:
            f.write(render_config(text, gocd_url, free_port(), test_dir))
        rc, out, err = check_config(mail2alert_bin, path, env=env)
        return path, rc, out, err
    return _check
