"""Issue 16: two relays, one truth.  Shared stage states and a shared chat
outbox in Redis.

The lab: relay A is the session's Postfix and `milter` factory; relay B is a
second private Postfix (own directory, own smtpd port, same sink) with its
milter on another port (module fixtures below).  Both daemons poll the same
GoCD stand-in and share one real redis-server on loopback
(tests/lab/redis.py), flushed before every test.

Each daemon logs in to the GoCD stand-in with its own user name (relay-a,
relay-b), so "this daemon has loaded the pipeline groups" is told apart
from the other daemon's polls.

Nothing waits by sleeping: every wait is a poll with a deadline on the
sink, the Slack stand-in, a log or Redis.
"""

import base64
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.lab import PostfixInstance, RedisServer, TcpProxy, free_port, send as smtp_send
from tests.lab.gocdmail import stage_subject
from tests.lab.milterclient import MilterSession, added_recipients
from tests.lab.slack import API_PATH, SlackStandIn
from conftest import GROUPS_PATH, MilterFactory   # the module pytest loaded (no __init__.py)
from tests.system.m2a_helpers import (GOCD_SENDER, TRIGGER, config, deliver, gocd_mail,
                                      gocd_manager, next_counter, q, rule, same_message,
                                      trace, wait_for)

EVENT_NAMES = ["PASSES", "FAILS", "BREAKS", "FIXED", "CANCELLED"]
PREFIX = "mail2alert:"
SLACK_TOKEN = "xoxb-m2a-SHARED-3e1d5c7a9b0f2468"
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


# ------------------------------------------------------------------ lab: relay B, Redis

@pytest.fixture(scope="module")
def milter_port_b():
    return free_port()


@pytest.fixture(scope="module")
def postfix_b(lab_dir, sink, milter_port_b):
    """Relay B: a second private Postfix, relaying to the same sink."""
    pf = PostfixInstance(os.path.join(lab_dir, "postfix-b"), free_port(), sink.port,
                         milter="inet:127.0.0.1:%d" % milter_port_b,
                         hostname="relay-b.mail2alert.test")
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()


@pytest.fixture(scope="module")
def redis_server(lab_dir):
    r = RedisServer(os.path.join(lab_dir, "redis"))
    r.start()
    yield r
    r.stop()


@pytest.fixture
def redis(redis_server):
    """The shared Redis, running and empty."""
    if not redis_server.alive():
        redis_server.start()
    redis_server.flush()
    return redis_server


def _print_logs(factory):
    for p in factory.procs:
        print("---- %s (rc=%s) ----\n%s" % (p.log_path, p.returncode, p.log()[-6000:]))


@pytest.fixture
def milter_b(mail2alert_bin, milter_port_b, postfix_b, gocd, test_dir):
    """Like `milter`, for relay B (config and log in TEST_DIR/b)."""
    d = os.path.join(test_dir, "b")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    f = MilterFactory(mail2alert_bin, milter_port_b, gocd, d)
    yield f
    crashed = [p for p in f.procs if p.proc and p.returncode is not None and not p.signalled]
    f.stop_all()
    _print_logs(f)
    if crashed:
        pytest.fail("relay B's mail2alert exited by itself (rc=%s); log:\n%s"
                    % (crashed[0].returncode, crashed[0].log()[-4000:]), pytrace=False)


class Relay:
    """One relay: its Postfix, its milter factory, its node name."""

    def __init__(self, name, postfix, factory, gocd, sink):
        self.name = name
        self.postfix = postfix
        self.factory = factory
        self.gocd = gocd
        self.sink = sink
        self.m2a = None

    def mta(self, mail_from, rcpts, data, **kw):
        return smtp_send(self.postfix.smtpd_port, mail_from, rcpts, data, **kw)

    def start(self, text, wait_groups=True, **kw):
        """Start this relay's daemon with config TEXT; wait until it has
        loaded the pipeline groups (its own polls, told by user name)."""
        base = len(self.gocd.requests(GROUPS_PATH))
        for p in self.factory.procs:
            if p.alive():
                p.signalled = True      # stopped on purpose by the factory: not a crash
        self.m2a = self.factory(text, wait_groups=False, **kw)
        if wait_groups:
            wait_own_groups(self.gocd, self.name, base, self.m2a)
        return self.m2a

    def route(self, pipeline, stage, text, counter=None):
        """Send one stage mail through this relay; the event it was routed as."""
        kw = {} if counter is None else {"counter": counter}
        _, m = deliver(self.mta, self.sink, gocd_mail(pipeline, stage, text, **kw))
        return event_of(m)


def event_of(m):
    """The event of a sink message routed by per_event_rules(): the
    recipient and the X-Mail2alert trace must agree."""
    assert len(m.rcpts) == 1, m
    by_rcpt = m.rcpts[0].split("@")[0].upper()
    assert trace(m)[1]["event"] == by_rcpt, "header and routing disagree: %r" % m
    return by_rcpt


def basic_user(req):
    auth = req.headers.get("Authorization") or ""
    if not auth.startswith("Basic "):
        return None
    try:
        return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
    except ValueError:
        return None


def wait_own_groups(gocd, user, base, proc, timeout=15.0):
    """A 200/304 pipeline-groups answer to USER after request BASE, then
    USER's next request (polls run one at a time: the snapshot is in use)."""
    deadline = time.monotonic() + timeout
    nudged = False
    while True:
        mine = [r for r in gocd.requests(GROUPS_PATH)[base:] if basic_user(r) == user]
        ok = [i for i, r in enumerate(mine) if r.status in (200, 304)]
        if ok and len(mine) >= ok[0] + 2:
            return
        if ok and not nudged and proc.alive():
            proc.proc.send_signal(signal.SIGUSR2)       # poll now
            nudged = True
        if not proc.alive():
            raise AssertionError("%s's daemon exited; log:\n%s" % (user, proc.log()[-3000:]))
        if time.monotonic() > deadline:
            raise TimeoutError("%s did not load pipeline groups within %.0fs" % (user, timeout))
        time.sleep(0.02)


@pytest.fixture
def relays(gocd, milter, postfix, milter_b, postfix_b, sink):
    gocd.set_groups({"team-a": ["api", "web", "svc"] + ["race%d" % n for n in range(8)]
                     + ["kq%d" % n for n in range(1, 10)]})
    return (Relay("relay-a", postfix, milter, gocd, sink),
            Relay("relay-b", postfix_b, milter_b, gocd, sink))


# ------------------------------------------------------------------ config

def per_event_rules():
    """One rule per event, each to <event>@example.com."""
    return [rule("mailto:%s@example.com" % e.lower(), events=[e]) for e in EVENT_NAMES]


def shared_settings(url, node, timeout=50, ttl=None, prefix=None, password_file=None,
                    ca_file=None, journal=None, extra=""):
    lines = []
    if url is not None:
        lines.append("shared-state = %s;" % q(url))
        lines.append("shared-state-node = %s;" % q(node))
        lines.append("shared-state-timeout = %d;" % timeout)
    if ttl is not None:
        lines.append("shared-state-ttl = %d;" % ttl)
    if prefix is not None:
        lines.append("shared-state-prefix = %s;" % q(prefix))
    if password_file is not None:
        lines.append("shared-state-password-file = %s;" % q(password_file))
    if ca_file is not None:
        lines.append("shared-state-ca-file = %s;" % q(ca_file))
    if journal is not None:
        lines.append("outbox-journal = %s;" % q(journal))
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def relay_config(node, url, rules=None, **settings):
    """A config for relay NODE: per-event rules (or RULES), GoCD polled as
    user NODE, shared state at URL (None: none)."""
    manager = gocd_manager(rules or per_event_rules(),
                           extra='    user = %s; passwd = "lab-pw";\n' % q(node))
    return config(manager, top_extra=shared_settings(url, node, **settings))


def slack_settings(slack, retry_time=300):
    return "\n".join(["slack-token = %s;" % q(SLACK_TOKEN),
                      "slack-api = %s;" % q(slack.api_url),
                      "slack-retry-time = %d;" % retry_time])


# ------------------------------------------------------------------ helpers

_probes = iter(range(10 ** 6))


def wait_reads_shared(relay, redis, timeout=30.0):
    """Wait until RELAY decides by Redis: a stage state put into Redis by
    hand ("success") makes its "failed" mail BREAKS.  A fresh stage per try,
    so a try decided on the relay alone leaves nothing behind."""
    deadline = time.monotonic() + timeout
    while True:
        stage = "probe%d" % next(_probes)
        redis.command("SET", PREFIX + "stage:api/" + stage, "success", "EX", 600)
        if relay.route("api", stage, "failed") == "BREAKS":
            return
        if time.monotonic() > deadline:
            raise AssertionError("%s still decides alone %.0fs after Redis answered again"
                                 % (relay.name, timeout))
        time.sleep(0.2)


def count_log(proc, pattern):
    return len(re.findall(pattern, proc.log(), re.M))


def http_get(port, path, timeout=5):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(port, timeout=10):
    """{metric name: value} for unlabelled samples of /metrics."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, text = http_get(port, "/metrics")
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert status == 200, status
    out = {}
    for line in text.splitlines():
        m = SAMPLE_RE.match(line)
        if m and not m.group(2):
            out[m.group(1)] = float(m.group(3))
    return out


def status_cmd(binary, config_path, *args):
    return subprocess.run([binary, "-s", "-c", config_path] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=30)


def outage_re(url):
    return (r"shared state %s: unavailable \([^)\n]*\); deciding on this relay until it "
            r"answers" % re.escape(url))


def back_re(url):
    return r"shared state %s: back after \d+s; (\d+) stage states? written back" % re.escape(url)


def connected_re(url):
    return r"shared state %s: connected" % re.escape(url)


# ------------------------------------------------------------------ (a) BREAKS across relays

@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
def test_passed_on_a_then_failed_on_b_breaks(relays, redis, shared):
    """(a) With shared state, "passed" through A then "failed" through B
    is BREAKS; without it (control) B knows nothing and says FAILS."""
    a, b = relays
    url = redis.url if shared else None
    a.start(relay_config("relay-a", url))
    b.start(relay_config("relay-b", url))
    assert a.route("api", "build", "passed") == "PASSES"
    assert b.route("api", "build", "failed") == ("BREAKS" if shared else "FAILS")
    # and back: B's failure is known to A
    assert a.route("api", "build", "passed") == ("FIXED" if shared else "PASSES")
    if not shared:
        assert redis.keys("*") == []


def test_cancelled_on_b_resets_the_shared_state(relays, redis):
    """CANCELLED makes the state unknown (test_edges.py) on every relay:
    passed on A, cancelled on B, failed on A is FAILS, not BREAKS."""
    a, b = relays
    a.start(relay_config("relay-a", redis.url))
    b.start(relay_config("relay-b", redis.url))
    assert a.route("web", "cancel", "passed") == "PASSES"
    assert b.route("web", "cancel", "cancelled") == "CANCELLED"
    assert a.route("web", "cancel", "failed") == "FAILS"
    assert b.route("web", "cancel", "passed") == "FIXED"


def wait_cctray_seen(gocd, user, proc, timeout=15.0):
    """USER's cctray.xml was answered, and a groups poll of USER came after."""
    def seen():
        reqs = gocd.requests()
        cc = [i for i, r in enumerate(reqs) if r.path == "/go/cctray.xml"
              and basic_user(r) == user and r.status == 200]
        return cc and any(r.path == GROUPS_PATH and basic_user(r) == user
                          for r in reqs[cc[0] + 1:])
    wait_for(seen, timeout=timeout, what="%s to read cctray.xml" % user)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
def test_cctray_seed_still_counts_with_shared_state(relays, redis, shared):
    """Today a stage seeded "Success" from cctray.xml makes the next
    "failed" BREAKS (test_edges.py).  With shared state set and nothing in
    Redis for the stage yet, the seed must still count, on either relay."""
    a, b = relays
    a.gocd.set_cctray({"api :: seeded": "Success", "web :: seeded": "Success"})
    url = redis.url if shared else None
    m_a = a.start(relay_config("relay-a", url))
    m_b = b.start(relay_config("relay-b", url))
    wait_cctray_seen(a.gocd, "relay-a", m_a)
    wait_cctray_seen(b.gocd, "relay-b", m_b)
    assert a.route("api", "seeded", "failed") == "BREAKS"
    assert b.route("web", "seeded", "failed") == "BREAKS"
    # and once in Redis, Redis is what counts: the seed does not bring "success" back
    # (without shared state B still has its own seed)
    assert b.route("api", "seeded", "failed") == ("FAILS" if shared else "BREAKS")


# ------------------------------------------------------------------ (i) keys, TTL, prefix

@pytest.mark.parametrize("prefix", [None, "m2a-lab/x:"], ids=["default-prefix", "custom"])
def test_stage_keys_in_redis(relays, redis, prefix):
    """(i) After passed on A / failed on B: <prefix>stage:<pipeline>/<stage>
    holds "failure" with a TTL no longer than shared-state-ttl."""
    a, b = relays
    ttl = 600
    a.start(relay_config("relay-a", redis.url, ttl=ttl, prefix=prefix))
    b.start(relay_config("relay-b", redis.url, ttl=ttl, prefix=prefix))
    p = prefix if prefix is not None else PREFIX
    key = "%sstage:svc/deploy" % p
    assert a.route("svc", "deploy", "passed") == "PASSES"
    assert redis.get(key) == "success"
    assert b.route("svc", "deploy", "failed") == "BREAKS"
    assert redis.get(key) == "failure"
    t = redis.ttl(key)
    assert 0 < t <= ttl, "TTL of %s: %r (shared-state-ttl %d)" % (key, t, ttl)
    stage_keys = redis.keys("*stage:*")
    assert stage_keys == [key], stage_keys
    if prefix is not None:
        assert not redis.keys(PREFIX + "*"), redis.keys("*")


# ------------------------------------------------------------------ (b) race across relays

@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
def test_concurrent_failed_on_both_relays_makes_one_breaks(relays, redis, shared):
    """(b) After a pass (through A, then through B, so that without shared
    state each relay would hold "success" of its own), the same "failed"
    mail sent through A and through B at the same moment: one BREAKS and one
    FAILS, never two BREAKS.  Several rounds on fresh pipelines to give a
    race a chance.  Control without shared state: two BREAKS."""
    a, b = relays
    url = redis.url if shared else None
    a.start(relay_config("relay-a", url))
    b.start(relay_config("relay-b", url))
    rounds = 5 if shared else 1
    for n in range(rounds):
        pipeline = "race%d" % n
        assert a.route(pipeline, "build", "passed") == "PASSES"
        assert b.route(pipeline, "build", "passed") == "PASSES"
        counter = next_counter()
        datas = [gocd_mail(pipeline, "build", "failed", counter=counter) for _ in (a, b)]
        barrier = threading.Barrier(2)
        results = [None, None]

        def send(i, relay):
            barrier.wait(5)
            results[i] = relay.mta(GOCD_SENDER, [TRIGGER], datas[i])

        threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate((a, b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert all(r is not None and r.ok for r in results), results
        got = sorted(event_of(a.sink.wait_for(same_message(d), timeout=20)) for d in datas)
        assert got == (["BREAKS", "FAILS"] if shared else ["BREAKS", "BREAKS"]), \
            "round %d: %r" % (n, got)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
def test_ends_of_message_held_on_both_daemons_make_one_breaks(relays, redis, shared):
    """(b), at the milter protocol: "passed" on both relays, then copies of
    one "failed" mail held just before their end of message on both
    daemons and all released at once (Postfix cannot line sessions up like
    that; see test_edges.py).  Shared: only one copy across both relays may
    read "success" and become BREAKS.  Control without shared state: each
    relay has its own "success", so each makes one BREAKS."""
    a, b = relays
    url = redis.url if shared else None
    m_a = a.start(relay_config("relay-a", url))
    m_b = b.start(relay_config("relay-b", url))
    per_daemon, rounds = 3, 5 if shared else 1

    def session(m2a, pipeline, text):
        s = MilterSession(tuple(m2a.sock[1:]))
        s.envelope(GOCD_SENDER, [TRIGGER])
        s.headers([("Subject", stage_subject(pipeline, "build", text))])
        return s

    for n in range(rounds):
        pipeline = "race%d" % n
        for i, m in enumerate((m_a, m_b)):
            with session(m, pipeline, "passed") as first:
                assert added_recipients(first.end_of_message("S%dP%d" % (n, i))) == \
                    ["passes@example.com"]
        held = [session(m, pipeline, "failed") for m in (m_a, m_b) for _ in range(per_daemon)]
        for i, s in enumerate(held):            # back to back, no reply read
            s.send_end_of_message("S%dF%d" % (n, i))
        got = [added_recipients(s.read_end_of_message())[0] for s in held]
        for s in held:
            s.close()
        breaks = 1 if shared else 2
        assert sorted(got) == ["breaks@example.com"] * breaks + ["fails@example.com"] * (
            2 * per_daemon - breaks), "round %d (A's copies first): %r" % (n, got)


# ------------------------------------------------------------------ (c) kill -9 with posts queued

def _titles_answered_200(slack):
    out = {}
    for r in slack.requests(API_PATH):
        if r.status == 200 and isinstance(r.json, dict) and r.json.get("attachments"):
            t = r.json["attachments"][0].get("title")
            out[t] = out.get(t, 0) + 1
    return out


@pytest.fixture
def slack():
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.mark.parametrize("variant", ["restart", "other-relay", "journal-restart"])
def test_kill_9_with_posts_queued_loses_none_and_sends_none_twice(relays, redis, slack,
                                                                  test_dir, variant):
    """(c) Slack hangs; 5 mails through A each make a post; once Postfix has
    accepted all, A is killed with SIGKILL.  Then A restarts with the same
    config ("restart"), or B takes over A's posts once A's heartbeat has
    expired ("other-relay"), or, without Redis, A restarts and sends its
    on-disk outbox-journal ("journal-restart").  Every post is answered
    200 exactly once."""
    a, b = relays
    post_rules = [rule(["slack:#builds"], function="pipelines.any", args=None)]
    if variant == "journal-restart":
        cfg_a = relay_config("relay-a", None, rules=post_rules,
                             journal=os.path.join(test_dir, "outbox.journal"),
                             extra=slack_settings(slack))
    else:
        cfg_a = relay_config("relay-a", redis.url, rules=post_rules,
                             extra=slack_settings(slack))
    m_a = a.start(cfg_a)
    if variant == "other-relay":
        b.start(relay_config("relay-b", redis.url, rules=post_rules,
                             extra=slack_settings(slack)))
    slack.set_mode("hang", API_PATH)
    n = 5
    datas = [gocd_mail("kq%d" % (i + 1), "build", "failed") for i in range(n)]
    titles = [re.search(rb"(?m)^Subject: (.*)$", d).group(1).decode().strip() for d in datas]
    for d in datas:
        res = a.mta(GOCD_SENDER, [TRIGGER], d)
        assert res.ok and res.queue_id, res       # Postfix accepted: the post is promised
    slack.wait_hanging(1, timeout=10)
    m_a.kill()
    assert not m_a.alive()
    if variant == "other-relay":
        # the outbox is in Redis, not lost with A
        assert redis.keys(PREFIX + "*"), "nothing of A's posts in Redis"
    slack.set_mode("ok", API_PATH)     # the hanging request ends unanswered (client gone)
    if variant != "other-relay":
        a.start(cfg_a)
    got = wait_for(lambda: (lambda d: d if all(d.get(t) for t in titles) else None)(
        _titles_answered_200(slack)),
        timeout=45 if variant == "other-relay" else 30,
        what="all %d posts answered 200 (have %r)" % (n, _titles_answered_200(slack)))
    # None twice: a marker post made after all of them through the relay that
    # sends now; once it is answered, any duplicate would have come first.
    sender = b if variant == "other-relay" else a
    marker = gocd_mail("kq9", "build", "failed")
    mtitle = re.search(rb"(?m)^Subject: (.*)$", marker).group(1).decode().strip()
    assert sender.mta(GOCD_SENDER, [TRIGGER], marker).ok
    wait_for(lambda: _titles_answered_200(slack).get(mtitle), timeout=20,
             what="the marker post")
    got = _titles_answered_200(slack)
    assert {t: got.get(t, 0) for t in titles} == {t: 1 for t in titles}, got
    assert got.get(mtitle) == 1, got
    if variant != "journal-restart":
        left = [k for k in redis.keys(PREFIX + "*")
                if k.startswith((PREFIX + "outbox", PREFIX + "processing:"))]
        left = [k for k in left if redis.command("LLEN", k)]
        assert not left, "posts left in Redis after delivery: %r" % left


def test_two_live_workers_send_each_post_once(relays, redis, slack):
    """Both relays' workers take posts from the one shared outbox: mail sent
    through A and B at the same time makes every post exactly once, and all
    keys live under a custom shared-state-prefix."""
    a, b = relays
    prefix = "lab-outbox:"
    post_rules = [rule(["slack:#builds"], function="pipelines.any", args=None)]
    for r in (a, b):
        r.start(relay_config(r.name, redis.url, rules=post_rules, prefix=prefix,
                             extra=slack_settings(slack)))
    per_relay = 8
    datas = {r.name: [gocd_mail("kq%d" % (i % 8 + 1), "build", "failed")
                      for i in range(per_relay)] for r in (a, b)}
    titles = [re.search(rb"(?m)^Subject: (.*)$", d).group(1).decode().strip()
              for ds in datas.values() for d in ds]
    barrier = threading.Barrier(2)
    errors = []

    def send(relay):
        barrier.wait(5)
        for d in datas[relay.name]:
            res = relay.mta(GOCD_SENDER, [TRIGGER], d)
            if not res.ok:
                errors.append(res)

    threads = [threading.Thread(target=send, args=(r,)) for r in (a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    wait_for(lambda: all(_titles_answered_200(slack).get(x) for x in titles), timeout=30,
             what="all posts answered 200")
    marker = gocd_mail("kq9", "build", "failed")
    mtitle = re.search(rb"(?m)^Subject: (.*)$", marker).group(1).decode().strip()
    assert a.mta(GOCD_SENDER, [TRIGGER], marker).ok
    wait_for(lambda: _titles_answered_200(slack).get(mtitle), timeout=20, what="the marker post")
    got = _titles_answered_200(slack)
    dups = {x: n for x, n in got.items() if n != 1}
    assert not dups, "posts sent more than once: %r" % dups
    assert len(slack.requests(API_PATH)) == len(titles) + 1, slack.requests(API_PATH)
    stray = [k for k in redis.keys("*") if not k.startswith(prefix)]
    assert not stray, "keys outside shared-state-prefix: %r" % stray
    assert redis.keys(prefix + "*"), "nothing under the prefix"


# ------------------------------------------------------------------ (d) Redis stopped mid-stream

def test_redis_stopped_mid_stream_mail_flows_and_state_converges(relays, redis):
    """(d) Mail through A in a loop while Redis stops: every message is
    accepted, routed and delivered, none slower than 2 s (timeout 50 ms);
    the outage is logged once.  A "failed" routed during the outage is
    written back when Redis returns: "passed" through B is then FIXED."""
    a, b = relays
    m_a = a.start(relay_config("relay-a", redis.url, timeout=50))
    b.start(relay_config("relay-b", redis.url, timeout=50))
    m_a.wait_log(connected_re(redis.url), timeout=10)
    delays = []
    stopped = threading.Event()

    def stop_soon():
        redis.stop()
        stopped.set()

    stopper = None
    for i in range(16):
        if i == 4:
            stopper = threading.Thread(target=stop_soon)
            stopper.start()
        if i >= 10:
            assert stopped.wait(15)
        data = gocd_mail("web", "build", "passed" if i % 2 else "failed")
        t0 = time.monotonic()
        res = a.mta(GOCD_SENDER, [TRIGGER], data)
        delays.append(time.monotonic() - t0)
        assert res.ok, res
        m = a.sink.wait_for(same_message(data), timeout=20)
        assert trace(m)[1].get("event"), "message %d not routed by mail2alert: %r" % (i, m)
    stopper.join(15)
    assert max(delays) < 2.0, "per-message delays: %r" % ["%.2f" % d for d in delays]
    m_a.wait_log(outage_re(redis.url), timeout=10)
    # during the outage: api/deploy fails on A (decided on A alone)
    assert a.route("api", "deploy", "failed") == "FAILS"
    assert count_log(m_a, outage_re(redis.url)) == 1, m_a.log()[-3000:]
    redis.start()
    m = m_a.wait_log(back_re(redis.url), timeout=30)
    assert int(m.group(1)) >= 1, m.group(0)
    assert redis.get(PREFIX + "stage:api/deploy") == "failure"
    wait_reads_shared(b, redis)         # B too has found Redis again
    assert b.route("api", "deploy", "passed") == "FIXED"
    assert count_log(m_a, outage_re(redis.url)) == 1


@pytest.fixture
def proxy(redis):
    p = TcpProxy(redis.port).start()
    yield p
    p.stop()


def test_partition_write_back_does_not_undo_newer_states(relays, redis, proxy):
    """A alone loses Redis (through a proxy that is cut) while B keeps it.
    A decides api/part "failure" alone; then B sees the stage fail and
    pass again ("success" in Redis, the newest word).  When A gets Redis
    back, its stale "failure" must not overwrite B's newer state: the next
    "failed" anywhere is BREAKS."""
    a, b = relays
    proxied = "redis://127.0.0.1:%d/0" % proxy.port
    m_a = a.start(relay_config("relay-a", proxied))
    b.start(relay_config("relay-b", redis.url))
    m_a.wait_log(connected_re(proxied), timeout=10)
    assert a.route("api", "part", "passed") == "PASSES"
    proxy.cut()
    assert a.route("api", "part", "failed") == "BREAKS"        # decided on A alone
    m_a.wait_log(outage_re(proxied), timeout=10)
    assert redis.get(PREFIX + "stage:api/part") == "success"
    assert b.route("api", "part", "failed") == "BREAKS"
    assert b.route("api", "part", "passed") == "FIXED"
    assert redis.get(PREFIX + "stage:api/part") == "success"
    proxy.heal()
    m_a.wait_log(back_re(proxied), timeout=40)
    assert redis.get(PREFIX + "stage:api/part") == "success", \
        "relay A's stale state, decided alone, overwrote relay B's newer one"
    assert b.route("api", "part", "failed") == "BREAKS"


# ------------------------------------------------------------------ (e) Redis slow

@pytest.mark.parametrize("how", ["client-pause", "debug-sleep"])
def test_slow_redis_does_not_hold_mail(relays, redis, how):
    """(e) Redis holds every write for 3 s (CLIENT PAUSE WRITE) or answers
    nothing for 2 s (DEBUG SLEEP): a mail going through meanwhile is routed
    and accepted well within 2 s, decided on this relay, and counted as a
    fallback."""
    a, _ = relays
    port = free_port()
    m_a = a.start(relay_config("relay-a", redis.url, timeout=50,
                               extra='metrics-listen = "127.0.0.1:%d";' % port))
    m_a.wait_log(connected_re(redis.url), timeout=10)
    assert a.route("web", "test", "passed") == "PASSES"
    before = scrape(port).get("mail2alert_shared_state_fallbacks_total")
    assert before == 0, before
    if how == "client-pause":
        redis.pause(3000, "WRITE")
    else:
        sleeper = redis.sleep(2)
    data = gocd_mail("web", "test", "failed")
    t0 = time.monotonic()
    res = a.mta(GOCD_SENDER, [TRIGGER], data)
    took = time.monotonic() - t0
    assert res.ok, res
    assert took < 2.0, "accepted after %.2fs with Redis slow" % took
    m = a.sink.wait_for(same_message(data), timeout=20)
    assert event_of(m) in ("BREAKS", "FAILS")       # decided here: routed, not passed through
    assert scrape(port)["mail2alert_shared_state_fallbacks_total"] >= 1
    if how == "client-pause":
        redis.command("CLIENT", "UNPAUSE")
    else:
        sleeper.join(10)


def test_hung_redis_does_not_hold_mail(relays, redis):
    """Redis frozen (SIGSTOP): connects still complete, nothing is answered.
    Mail through A keeps flowing within the bound; one outage is logged;
    after SIGCONT the relay comes back and writes its states back."""
    a, b = relays
    m_a = a.start(relay_config("relay-a", redis.url, timeout=50))
    b.start(relay_config("relay-b", redis.url, timeout=50))
    m_a.wait_log(connected_re(redis.url), timeout=10)
    assert a.route("api", "hung", "passed") == "PASSES"
    redis.freeze()
    try:
        delays = []
        for i in range(6):
            data = gocd_mail("api", "hung", "failed" if i % 2 == 0 else "passed")
            t0 = time.monotonic()
            res = a.mta(GOCD_SENDER, [TRIGGER], data)
            delays.append(time.monotonic() - t0)
            assert res.ok, res
            event_of(a.sink.wait_for(same_message(data), timeout=20))
        assert max(delays) < 2.0, "per-message delays: %r" % ["%.2f" % d for d in delays]
        # the last one, "passed" after "failed" on A alone, leaves api/hung at success;
        # now a failure on another stage, decided alone
        assert a.route("api", "hung2", "failed") == "FAILS"
        m_a.wait_log(outage_re(redis.url), timeout=10)
    finally:
        redis.thaw()
    m = m_a.wait_log(back_re(redis.url), timeout=40)
    assert int(m.group(1)) >= 1, m.group(0)
    assert count_log(m_a, outage_re(redis.url)) == 1, m_a.log()[-3000:]
    wait_reads_shared(b, redis)
    assert b.route("api", "hung2", "passed") == "FIXED"


def test_started_with_redis_down_then_two_outages(relays, redis, mail2alert_bin):
    """A starts while Redis is down: one outage line at start, mail flows;
    Redis comes: back, states written back.  A second outage is logged
    once more and counted (outages_total 2)."""
    a, b = relays
    port = free_port()
    redis.stop()
    m_a = a.start(relay_config("relay-a", redis.url,
                               extra='metrics-listen = "127.0.0.1:%d";' % port))
    assert a.route("web", "cold", "failed") == "FAILS"
    m_a.wait_log(outage_re(redis.url), timeout=10)
    assert scrape(port).get("mail2alert_shared_state_up") == 0
    redis.start()
    m = m_a.wait_log(back_re(redis.url), timeout=40)
    assert int(m.group(1)) >= 1, m.group(0)
    assert redis.get(PREFIX + "stage:web/cold") == "failure"
    b.start(relay_config("relay-b", redis.url))
    assert b.route("web", "cold", "passed") == "FIXED"
    at = len(m_a.log())
    redis.stop()
    assert a.route("web", "cold2", "failed") == "FAILS"
    m_a.wait_log(outage_re(redis.url), timeout=10, start=at)
    redis.start()
    m_a.wait_log(back_re(redis.url), timeout=40, start=at)
    assert count_log(m_a, outage_re(redis.url)) == 2, m_a.log()[-3000:]
    assert count_log(m_a, back_re(redis.url)) == 2, m_a.log()[-3000:]
    s = scrape(port)
    assert s.get("mail2alert_shared_state_outages_total") == 2, s
    wait_for(lambda: scrape(port).get("mail2alert_shared_state_up") == 1, timeout=10,
             what="mail2alert_shared_state_up 1")


def test_kill_9_while_redis_is_down_journal_keeps_the_posts(relays, redis, slack, test_dir):
    """Redis down and outbox-journal set: posts fall back to the journal
    before the reply; a kill -9 then loses none, and a restart (Redis back)
    sends each exactly once."""
    a, _ = relays
    post_rules = [rule(["slack:#builds"], function="pipelines.any", args=None)]
    cfg = relay_config("relay-a", redis.url, rules=post_rules,
                       journal=os.path.join(test_dir, "outbox.journal"),
                       extra=slack_settings(slack))
    m_a = a.start(cfg)
    m_a.wait_log(connected_re(redis.url), timeout=10)
    redis.stop()
    slack.set_mode("hang", API_PATH)
    datas = [gocd_mail("kq%d" % (i + 1), "build", "failed") for i in range(3)]
    titles = [re.search(rb"(?m)^Subject: (.*)$", d).group(1).decode().strip() for d in datas]
    for d in datas:
        res = a.mta(GOCD_SENDER, [TRIGGER], d)
        assert res.ok and res.queue_id, res
    slack.wait_hanging(1, timeout=10)
    m_a.kill()
    slack.set_mode("ok", API_PATH)
    redis.start()
    a.start(cfg)
    wait_for(lambda: all(_titles_answered_200(slack).get(t) for t in titles), timeout=30,
             what="all 3 posts answered 200 (have %r)" % _titles_answered_200(slack))
    marker = gocd_mail("kq9", "build", "failed")
    mtitle = re.search(rb"(?m)^Subject: (.*)$", marker).group(1).decode().strip()
    assert a.mta(GOCD_SENDER, [TRIGGER], marker).ok
    wait_for(lambda: _titles_answered_200(slack).get(mtitle), timeout=20, what="the marker post")
    got = _titles_answered_200(slack)
    assert {t: got.get(t, 0) for t in titles + [mtitle]} == {t: 1 for t in titles + [mtitle]}, got


# ------------------------------------------------------------------ (f) -t

def test_config_check_of_the_shared_state_url(config_check, redis):
    base = relay_config("relay-a", None, rules=[rule("mailto:x@example.com",
                                                     function="pipelines.any", args=None)])
    base = base.replace('    user = "relay-a"; passwd = "lab-pw";\n', "")

    def with_url(url):
        return 'shared-state = %s;\nshared-state-node = "relay-a";\n' % q(url) + base

    # a bad URL: FILE:LINE: shared-state: why
    path, rc, out, err = config_check(with_url("redis://h:99999"))
    assert rc == 78, (rc, out, err)
    assert re.search(r"%s:1: shared-state: .*port" % re.escape(path), err), err
    # shared-state-ttl has a floor of 60 s
    path, rc, out, err = config_check(with_url(redis.url) .replace(
        'shared-state-node = "relay-a";', 'shared-state-node = "relay-a"; shared-state-ttl = 59;'))
    assert rc == 78 and re.search(r"%s:2: shared-state-ttl: " % re.escape(path), err), \
        (rc, out, err)
    # a valid URL with nothing listening: named, said to be unreachable
    dead = "redis://127.0.0.1:%d/0" % free_port()
    path, rc, out, err = config_check(with_url(dead))
    both = out + err
    assert dead in both and re.search(r"(?i)unreachable|cannot (connect|reach)|refused|not answer",
                                      both), both
    # a warning, exit 0: the packaged unit runs -t as ExecStartPre, and a
    # Redis that is down must not keep the milter from starting
    assert rc == 0, (rc, out, err)
    assert re.search(r"(?m)^mail2alert: warning: .*%s" % re.escape(dead), err), (out, err)
    # a reachable one
    path, rc, out, err = config_check(with_url(redis.url))
    assert rc == 0, (rc, out, err)
    assert "warning" not in err, err
    assert re.search(r"(?im)^.*%s.*\b(ok|connected|reachable|answered)\b" % re.escape(redis.url),
                     out + err), (out, err)


def test_config_check_refused_by_the_store_is_an_error(config_check, test_dir):
    """-t against a store that answers but refuses us (wrong password, a
    certificate the CA file does not vouch for): EX_CONFIG naming the URL;
    the password is never printed."""
    base = gocd_config_plain()
    r = RedisServer(os.path.join(test_dir, "redis-auth"), password=PASSWORD).start()
    try:
        wrong = os.path.join(test_dir, "wrong.password")
        with open(wrong, "w") as f:
            f.write(WRONG_PASSWORD + "\n")
        os.chmod(wrong, 0o600)
        _, rc, out, err = config_check(
            'shared-state = %s;\nshared-state-password-file = %s;\n' % (q(r.url), q(wrong))
            + base)
        assert rc == 78 and r.url in err, (rc, out, err)
        assert WRONG_PASSWORD not in out + err and PASSWORD not in out + err
        _, rc, out, err = config_check(
            'shared-state = %s;\nshared-state-password-file = %s;\n'
            % (q(r.url), q(r.password_file)) + base)
        assert rc == 0 and PASSWORD not in out + err, (rc, out, err)
    finally:
        r.stop()
    t = RedisServer(os.path.join(test_dir, "redis-tls"), tls=True).start()
    try:
        _, rc, out, err = config_check('shared-state = %s;\nshared-state-ca-file = %s;\n'
                                       % (q(t.url), q(t.other_ca())) + base)
        assert rc == 78 and t.url in err, (rc, out, err)
        assert re.search(r"(?i)certificate|verify", err), err
        _, rc, out, err = config_check('shared-state = %s;\nshared-state-ca-file = %s;\n'
                                       % (q(t.url), q(t.ca_file)) + base)
        assert rc == 0, (rc, out, err)
    finally:
        t.stop()


def gocd_config_plain():
    """A config with no GoCD credentials (so -t has nothing else to warn about)."""
    return config(gocd_manager([rule("mailto:x@example.com", function="pipelines.any",
                                     args=None)]))


# ------------------------------------------------------------------ (g) auth, unix, TLS

def _no_secret_anywhere(root, secret):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".log") or name == "maillog":
                with open(os.path.join(dirpath, name), "rb") as f:
                    assert secret.encode() not in f.read(), \
                        "the Redis password appears in %s" % os.path.join(dirpath, name)


def _shared_works(a, b, redis_like, url, **settings):
    """A/B with URL: BREAKS across relays, and the key landed in Redis."""
    m_a = a.start(relay_config("relay-a", url, **settings))
    b.start(relay_config("relay-b", url, **settings))
    m_a.wait_log(connected_re(url), timeout=10)
    pipeline = "api"
    assert a.route(pipeline, "auth", "passed") == "PASSES"
    down = re.search(outage_re(url), m_a.log())
    assert not down, "relay A fell back with Redis up: %s" % down.group(0)
    assert b.route(pipeline, "auth", "failed") == "BREAKS"
    assert redis_like.get(PREFIX + "stage:api/auth") == "failure"
    return m_a


PASSWORD = "redis-LAB-pw-5b8e1c0d7a"
WRONG_PASSWORD = "not-the-password-7d1e"


@pytest.fixture
def redis_auth(test_dir, lab_dir):
    r = RedisServer(os.path.join(test_dir, "redis-auth"), password=PASSWORD).start()
    yield r
    r.stop()
    for secret in (PASSWORD, WRONG_PASSWORD):
        _no_secret_anywhere(lab_dir, secret)


def test_password_file(relays, redis_auth):
    a, b = relays
    assert oct(os.stat(redis_auth.password_file).st_mode & 0o777) == "0o600"
    _shared_works(a, b, redis_auth, redis_auth.url, password_file=redis_auth.password_file)


def test_wrong_password_is_logged_and_mail_flows(relays, redis_auth, test_dir):
    a, _ = relays
    wrong = os.path.join(test_dir, "wrong.password")
    fd = os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(WRONG_PASSWORD + "\n")
    m_a = a.start(relay_config("relay-a", redis_auth.url, password_file=wrong))
    m = m_a.wait_log(outage_re(redis_auth.url), timeout=10)
    assert re.search(r"(?i)auth|password|WRONGPASS", m.group(0)), m.group(0)
    assert a.route("web", "auth", "failed") == "FAILS"      # routed here, not passed through
    assert a.route("web", "auth", "passed") == "FIXED"      # by this relay's own table
    assert count_log(m_a, outage_re(redis_auth.url)) == 1, m_a.log()[-3000:]
    assert redis_auth.keys("*") == []


def test_unix_socket(relays, test_dir):
    a, b = relays
    r = RedisServer(os.path.join(test_dir, "redis-unix"), unixsocket=True).start()
    try:
        _shared_works(a, b, r, r.unix_url)
    finally:
        r.stop()


@pytest.fixture
def redis_tls(test_dir):
    r = RedisServer(os.path.join(test_dir, "redis-tls"), tls=True).start()
    yield r
    r.stop()


def test_tls_with_ca_file(relays, redis_tls):
    a, b = relays
    assert redis_tls.url.startswith("rediss://")
    _shared_works(a, b, redis_tls, redis_tls.url, ca_file=redis_tls.ca_file)


def test_tls_wrong_ca_is_refused_and_mail_flows(relays, redis_tls):
    a, _ = relays
    m_a = a.start(relay_config("relay-a", redis_tls.url, ca_file=redis_tls.other_ca()))
    m = m_a.wait_log(outage_re(redis_tls.url), timeout=10)
    assert re.search(r"(?i)certificate|verify", m.group(0)), m.group(0)
    assert a.route("web", "tls", "failed") == "FAILS"
    assert a.route("web", "tls", "passed") == "FIXED"
    assert redis_tls.keys("*") == []


# ------------------------------------------------------------------ (h) /metrics and -s

def test_metrics_and_status_through_an_outage(relays, redis, mail2alert_bin):
    a, _ = relays
    port = free_port()
    m_a = a.start(relay_config("relay-a", redis.url,
                               extra='metrics-listen = "127.0.0.1:%d";' % port))
    m_a.wait_log(connected_re(redis.url), timeout=10)
    s = scrape(port)
    assert s.get("mail2alert_shared_state_up") == 1, s
    assert s.get("mail2alert_shared_state_fallbacks_total") == 0, s
    assert s.get("mail2alert_shared_state_outages_total") == 0, s
    p = status_cmd(mail2alert_bin, m_a.config_path)
    assert re.search(r"(?m)^shared state: up \(%s\)" % re.escape(redis.url), p.stdout), p.stdout
    doc = json.loads(status_cmd(mail2alert_bin, m_a.config_path, "-j").stdout)
    assert doc["shared_state"]["url"] == redis.url and doc["shared_state"]["up"] is True, doc

    redis.stop()
    assert a.route("api", "metrics", "failed") == "FAILS"
    wait_for(lambda: scrape(port).get("mail2alert_shared_state_up") == 0, timeout=10,
             what="mail2alert_shared_state_up 0")
    a.route("api", "metrics", "passed")
    s = scrape(port)
    assert s["mail2alert_shared_state_fallbacks_total"] >= 1, s
    assert s["mail2alert_shared_state_outages_total"] == 1, s
    p = status_cmd(mail2alert_bin, m_a.config_path)
    assert re.search(r"(?m)^shared state: down \(%s\)" % re.escape(redis.url), p.stdout), p.stdout
    doc = json.loads(status_cmd(mail2alert_bin, m_a.config_path, "-j").stdout)
    st = doc["shared_state"]
    assert st["up"] is False and st["outages"] == 1 and st["fallbacks"] >= 1, st

    redis.start()
    m_a.wait_log(back_re(redis.url), timeout=30)
    wait_for(lambda: scrape(port).get("mail2alert_shared_state_up") == 1, timeout=10,
             what="mail2alert_shared_state_up 1 again")


def test_no_shared_state_metrics_without_the_setting(relays):
    a, _ = relays
    port = free_port()
    a.start(relay_config("relay-a", None, extra='metrics-listen = "127.0.0.1:%d";' % port))
    s = scrape(port)
    assert not [k for k in s if k.startswith("mail2alert_shared_state")], s
