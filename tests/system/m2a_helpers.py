"""Shared helpers for the mail2alert system tests (config text builders,
sending through the lab and checking what arrived)."""

import email.utils
import itertools
import os
import random
import re
import time

from tests.lab import plain_mail, stage_mail

TRIGGER = "mail2alert@example.com"
GOCD_SENDER = "go@gocd.example.com"
MAIL_SENDER = "go@example.com"          # the mail manager's `from`
CONTROL_RCPT = "control@example.org"

_counter = itertools.count(100)


def wait_for(predicate, timeout=20.0, what="condition", interval=0.05):
    """Poll predicate until it returns something true (returned), or fail
    after timeout seconds naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def next_counter():
    """A fresh pipeline counter, so every test mail is distinct."""
    return next(_counter)


# ------------------------------------------------------------------ config

def q(s):
    """libconfig string literal."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def rule(actions, function="pipelines.in_group", args=("team-a",), events=None,
         name=None, owner=None):
    """One rule group in libconfig syntax."""
    filt = []
    if events is not None:
        filt.append("events = [%s];" % ", ".join(q(e) for e in events))
    if function is not None:
        filt.append("function = %s;" % q(function))
    if args is not None:
        filt.append("args = [%s];" % ", ".join(q(a) for a in args))
    if isinstance(actions, str):
        actions = [actions]
    head = ""
    if name:
        head += "name = %s; " % q(name)
    if owner:
        head += "owner = %s; " % q(owner)
    return "{ %sfilter = { %s }; actions = [%s]; }" % (
        head, " ".join(filt), ", ".join(q(a) for a in actions))


def gocd_manager(rules, want_to=TRIGGER, api="admin", poll_interval=1, name="gocd",
                 extra=""):
    return """  {
    name = %s;
    url = "@GOCD_URL@";
    api = %s;
    poll-interval = %d;
%s    messages-we-want = { to = %s; };
    rules = (
      %s
    );
  }""" % (q(name), q(api), poll_interval, extra, q(want_to), ",\n      ".join(rules))


def mail_manager(rules, want_from=MAIL_SENDER, name="mail"):
    return """  {
    name = %s;
    messages-we-want = { from = %s; };
    rules = (
      %s
    );
  }""" % (q(name), q(want_from), ",\n      ".join(rules))


def config(*managers, unresolved="accept", top_extra=""):
    """A whole config; @SOCKET@/@GOCD_URL@/@DIR@ are filled by the fixtures."""
    lines = ['socket = "@SOCKET@";']
    if unresolved is not None:
        lines.append("unresolved = %s;" % q(unresolved))
    if top_extra:
        lines.append(top_extra.rstrip())
    lines.append("managers = (\n%s\n);" % ",\n".join(managers))
    return "\n".join(lines) + "\n"


def gocd_config(*rules, **kw):
    """config() with one GoCD manager holding RULES."""
    unresolved = kw.pop("unresolved", "accept")
    top_extra = kw.pop("top_extra", "")
    return config(gocd_manager(list(rules), **kw), unresolved=unresolved, top_extra=top_extra)


# ------------------------------------------------------------------ mail

def message_id(data):
    """DATA's Message-ID, or failing that its M2A-MARK-... body token."""
    m = re.search(rb"(?im)^Message-ID:\s*(<[^>\r\n]*>)", data)
    if m:
        return m.group(1).decode()
    m = re.search(rb"M2A-MARK-[0-9A-Za-z]+", data)
    assert m, "test mail without Message-ID or M2A-MARK- token"
    return m.group(0).decode()


def same_message(data):
    """Predicate for sink.wait_for: the message with DATA's Message-ID (or
    M2A-MARK- token)."""
    mid = message_id(data)
    if mid.startswith("M2A-MARK-"):
        token = mid.encode()
        return lambda m: token in m.data
    return lambda m: (m.header("Message-ID") or "").strip() == mid


def mark():
    """A unique token for mail without a Message-ID."""
    return "M2A-MARK-%d%06d" % (next_counter(), random.randrange(10 ** 6))


def gocd_mail(pipeline="api", stage="build", event="broken", **kw):
    kw.setdefault("counter", next_counter())
    kw.setdefault("to", TRIGGER)
    kw.setdefault("sender", GOCD_SENDER)
    return stage_mail(pipeline, stage, event, **kw)


def deliver(mta, sink, data, rcpts=(TRIGGER,), mail_from=GOCD_SENDER, timeout=20):
    """Send and wait for the message (by Message-ID) at the sink."""
    res = mta(mail_from, list(rcpts), data)
    assert res.ok, res
    try:
        m = sink.wait_for(same_message(data), timeout=timeout)
    except TimeoutError as e:
        raise AssertionError("message %s (queue id %s) did not reach the sink: %s"
                             % (message_id(data), res.queue_id, e))
    return res, m


def send_control(mta, sink, timeout=20):
    """An unwanted plain message; returns once it reached the sink."""
    data = plain_mail(subject="control message", to=CONTROL_RCPT,
                      sender="someone@example.org")
    res = mta("someone@example.org", [CONTROL_RCPT], data)
    assert res.ok, res
    return sink.wait_for(same_message(data), timeout=timeout)


def assert_discarded(mta, sink, postfix, data, res):
    """DATA (sent with result RES) was discarded: Postfix logged the milter's
    DISCARD for its queue id, and a control message sent afterwards arrived
    while DATA did not."""
    assert res.ok, "discarded mail must still get 2xx: %r" % (res,)
    postfix.wait_log(r"%s: milter-discard: END-OF-MESSAGE" % re.escape(res.queue_id),
                     timeout=10)
    send_control(mta, sink)
    mid = message_id(data)
    got = sink.find(same_message(data))
    assert not got, "message %s should have been discarded, got %r" % (mid, got)


def x_mail2alert(m):
    """The X-Mail2alert header(s) of sink message M, whitespace-normalised."""
    return [" ".join(v.split()) for v in m.headers("X-Mail2alert")]


def trace(m):
    """Parse the single X-Mail2alert header: ("gocd", {"pipeline": ..., ...})."""
    vals = x_mail2alert(m)
    assert len(vals) == 1, "expected one X-Mail2alert header, got %r" % vals
    parts = [p.strip() for p in vals[0].split(";")]
    fields = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        fields[k.strip()] = v.strip()
    return parts[0], fields


def to_addrs(m):
    return [a.lower() for _, a in email.utils.getaddresses(m.headers("To")) if a]


def headers_except(data, drop=("received", "to", "x-mail2alert")):
    """(name, raw value) pairs of a message's header block, minus DROP."""
    head = data.split(b"\r\n\r\n", 1)[0]
    out = []
    for line in re.split(rb"\r\n(?![ \t])", head):
        name, _, value = line.partition(b":")
        if name.strip().lower().decode(errors="replace") not in drop:
            out.append((name.strip().lower(), value.strip()))
    return out


def body_of(data):
    i = data.find(b"\r\n\r\n")
    return data[i + 4:] if i >= 0 else b""


def routed_line(queue_id, pipeline, stage, event, to):
    """Regex for the milter's per-message log line."""
    return (r"%s: manager=gocd pipeline=%s stage=%s event=%s to=%s"
            % (re.escape(queue_id), re.escape(pipeline), re.escape(stage), event,
               re.escape(to)))


PACKAGED_SOCKET_DIR = "/var/spool/postfix/mail2alert"


def on_this_machine(conf_text, test_dir):
    """A config written for the packaged install (user mail2alert, socket
    under Postfix's queue directory), adapted to a machine without the
    package, where -t would rightly refuse both: the user becomes nobody
    and the socket moves into TEST_DIR."""
    import pwd
    try:
        pwd.getpwnam("mail2alert")
    except KeyError:
        conf_text = conf_text.replace('user = "mail2alert";', 'user = "nobody";')
    if not os.path.isdir(PACKAGED_SOCKET_DIR):
        conf_text = conf_text.replace("unix:%s/" % PACKAGED_SOCKET_DIR, "unix:%s/" % test_dir)
    return conf_text

