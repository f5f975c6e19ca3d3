#!/usr/bin/python3
"""Fault-injection load test ("soak") of mail2alert behind a real Postfix.

    /usr/bin/python3 tests/soak/soak.py [--quick | --messages N] [options]   (root)

Pushes N messages (default 10,000 spread over at least 90 s; --quick: 400
over 24 s) through the loopback lab (tests/lab): 10 concurrent SMTP sessions
-> a private Postfix -> mail2alert (milter) -> Postfix -> SmtpSink, while

  * the GoCD stand-in cycles down (server stopped), hang, 500, garbage, close
    (mid-body), wrongshape and back to ok, every 1-2 s (each change is
    followed by SIGUSR2, "poll now", so every mode meets a poll);
  * the Slack stand-in cycles 429 (Retry-After: 1), 500, hang, close, ok;
  * the SMTP sink answers 451 to a burst of deliveries once (Postfix defers
    and retries them);
  * the milter is killed with SIGKILL once, half way, and restarted 2 s
    later with the same config.  GoCD is held failing (500) over the
    restart, so the new process must route from its state file.

Every message carries a unique token (Message-ID and body) and is entered in
a ledger with its expected outcome before it is sent.  The expectation of
each distinct message *shape* comes from the dry run (`mail2alert -n` on one
sample of the shape, same config) and is cross-checked against a small
Python model of the rules.  Routing is made independent of message order:
most GoCD mail has its own pipeline/stage (edge detection sees "unknown" and
keeps the parsed event), and the rules' event filters hold whole edge
classes ([FAILS, BREAKS], [PASSES, FIXED], [CANCELLED]) so that shared
stages, whose final event depends on arrival order, route the same either
way.  The pipeline groups never change during the run.

At the end every message must be one of
  delivered as expected   at the sink, envelope recipients == expected set,
                          X-Mail2alert as the dry run says (routed) or
                          absent (unwanted, trigger removed), To: rewritten,
                          body unchanged
  milter-down passthrough wanted mail delivered untouched (no X-Mail2alert,
                          original recipients) because its SMTP session
                          overlapped the kill -9 window
                          (milter_default_action = accept)
  discarded as expected   absent at the sink, and Postfix logged the
                          milter's DISCARD for its queue id
Anything else is lost, misrouted or duplicated.  Also checked: no bounce
(null sender) anywhere, `postqueue -j` empty, no "unresolved" routing, the
restarted milter loaded its state file and routed while GoCD failed, and it
stops cleanly on SIGTERM.  Slack posts are reported, not counted as mail.

Prints a summary table and `soak: N passed, F failed`; exit 1 if F > 0.
--milter-default-action tempfail runs the same with Postfix answering 451
while the milter is down (the senders retry like an MTA would); then no
passthrough is allowed.
"""

import argparse
import collections
import concurrent.futures
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.lab import (GocdStandIn, MilterProcess, PostfixInstance,  # noqa: E402
                       SmtpSink, free_port, plain_mail, send, stage_mail,
                       stage_subject)
from tests.lab.slack import SlackStandIn  # noqa: E402

TRIGGER = "mail2alert@example.com"
GOCD_SENDER = "go@gocd.example.com"
MAIL_SENDER = "backup@example.com"
BYSTANDER = "watcher@example.org"
TEAMS = "teams.example.net"
SLACK_TOKEN = "xoxb-soak-0000-not-a-real-token"
TOKEN_RE = re.compile(rb"SOAK[0-9a-f]{6}N[0-9]{6}")


def log(msg):
    print("soak: " + msg, file=sys.stderr, flush=True)


def team(local):
    return "%s@%s" % (local, TEAMS)


# =================================================================== rules
# One definition feeds both the config file and the Python model.

LONG_PIPE = "checkout-service-with-a-rather-long-name-that-makes-gocd-fold-the-subject"
GROUPS = collections.OrderedDict([
    ("team-a", ["api", "web", "db"]),
    ("team-b", ["billing", "search", LONG_PIPE]),
    ("chat", ["chatty", "noisy"]),
    ("ops", ["infra"]),
    ("quiet", ["docs"]),
])

Rule = collections.namedtuple("Rule", "name events function args actions")
RED, GREEN = ("FAILS", "BREAKS"), ("PASSES", "FIXED")
GOCD_RULES = [
    Rule("team-a red", RED, "pipelines.in_group", ("team-a",), ("mailto:" + team("team-a"),)),
    Rule("team-a green", GREEN, "pipelines.in_group", ("team-a",),
         ("mailto:" + team("team-a-green"),)),
    Rule("team-a qa", RED, "pipelines.in_group", ("team-a",),
         ("mailto:" + team("qa"), "mailto:" + team("team-a"))),      # union drops the dup
    Rule("team-b", None, "pipelines.in_group", ("team-b",), ("mailto:" + team("team-b"),)),
    Rule("releases", RED, "pipelines.name_like_in_group", ("(.+)-release.*", "team-b"),
         ("mailto:" + team("release"), "slack:#release")),
    Rule("chat", None, "pipelines.in_group", ("chat",), ("slack:#builds",)),   # Slack only
    Rule("ops", RED, "pipelines.in_group", ("ops",), ("mailto:" + team("ops"), "slack:#ops:full")),
    Rule("cancellations", ("CANCELLED",), "pipelines.any", (), ("mailto:" + team("cancel-watch"),)),
    Rule("hotfixes", None, "mail.in_subject", ("hotfix",), ("mailto:" + team("hotfix"),)),
]
MAIL_RULES = [
    Rule("backups", None, "mail.in_subject", ("server", "backup"),
         ("mailto:" + team("sys"), "mailto:" + team("op"))),
    Rule("disks", None, "mail.in_subject", ("disk", "full"),
         ("mailto:" + team("op"), "slack:#ops")),
]


def q(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def rule_text(r):
    f = []
    if r.events:
        f.append("events = [%s];" % ", ".join(q(e) for e in r.events))
    f.append("function = %s;" % q(r.function))
    if r.args:
        f.append("args = [%s];" % ", ".join(q(a) for a in r.args))
    return "{ name = %s; filter = { %s }; actions = [%s]; }" % (
        q(r.name), " ".join(f), ", ".join(q(a) for a in r.actions))


def config_text(milter_port, gocd_url, slack, state_file):
    lines = [
        'socket = "inet:%d@127.0.0.1";' % milter_port,
        "state-file = %s;" % q(state_file),
        'unresolved = "accept";',
        "slack-token = %s;" % q(SLACK_TOKEN),
        "slack-api = %s;" % q(slack.api_url),
        'slack-webhooks = ( { channel = "#ops"; url = %s; } );' % q(slack.hook_url("ops")),
        "slack-retry-time = 10;",
        "slack-queue-size = 500;",
    ]
    if os.geteuid() == 0:
        lines.append("allow-root = true;")     # the lab runs as root, no mail2alert user
    lines.append("""managers = (
  { name = "gocd"; url = %s; api = "admin"; poll-interval = 1;
    connect-timeout = 2; timeout = 5;
    messages-we-want = { to = %s; };
    rules = (
      %s
    ); },
  { name = "mail";
    messages-we-want = { from = %s; };
    rules = (
      %s
    ); }
);""" % (q(gocd_url), q(TRIGGER), ",\n      ".join(rule_text(r) for r in GOCD_RULES),
         q(MAIL_SENDER), ",\n      ".join(rule_text(r) for r in MAIL_RULES)))
    return "\n".join(lines) + "\n"


# =================================================================== model

STAGE_RE = re.compile(r"Stage \[([A-Za-z0-9_.-]{1,255})/([0-9]+)/([A-Za-z0-9_.-]{1,255})/([0-9]+)\]"
                      r"(.*)", re.S)
EVENT_WORDS = {"passed": "PASSES", "failed": "FAILS", "is broken": "BREAKS",
               "is fixed": "FIXED", "is cancelled": "CANCELLED"}
EDGE_CLASS = {"FAILS": "red", "BREAKS": "red", "PASSES": "green", "FIXED": "green",
              "CANCELLED": "CANCELLED", "none": "none"}


def addr_eq(a, b):
    la, _, da = a.rpartition("@")
    lb, _, db = b.rpartition("@")
    return la == lb and da.lower() == db.lower()


def group_of(pipeline):
    for g, ps in GROUPS.items():
        if any(p.lower() == pipeline.lower() for p in ps):
            return g
    return None


def model_function(r, subject, pipeline):
    if r.function in ("pipelines.any", "pipelines.all"):
        return True
    if r.function == "pipelines.in_group":
        return pipeline is not None and group_of(pipeline) == r.args[0]
    if r.function == "pipelines.name_like_in_group":
        if pipeline is None:
            return False
        m = re.search(r.args[0], pipeline)
        if not m:
            return False
        name = m.group(1) if m.groups() else m.group(0)
        return group_of(name) == r.args[1]
    if r.function == "mail.in_subject":
        return all(w.lower() in subject.lower() for w in r.args)
    raise ValueError(r.function)


def model_expect(mail_from, rcpts, subject):
    """The Python model's Expect for a message with decoded SUBJECT."""
    if any(addr_eq(r, TRIGGER) for r in rcpts):
        manager, want = "gocd", ("to", TRIGGER)
    elif addr_eq(mail_from, MAIL_SENDER):
        manager, want = "mail", ("from", MAIL_SENDER)
    else:
        return Expect("untouched", rcpts)
    m = STAGE_RE.search(subject)
    pipeline = stage = None
    event = "none"
    if m:
        pipeline, stage = m.group(1), m.group(3)
        event = EVENT_WORDS.get(m.group(5).strip(" \t"), "none")
    actions = []
    for r in (GOCD_RULES if manager == "gocd" else MAIL_RULES):
        if r.events is not None and event not in r.events:
            continue
        if model_function(r, subject, pipeline):
            actions += [a for a in r.actions if a not in actions]
    targets = [a[7:] for a in actions if a.startswith("mailto:")]
    slack = []
    for a in actions:
        if a.startswith("slack:"):
            parts = a[6:].split(":")
            slack.append((parts[0], parts[1] if len(parts) > 1 else "brief"))
    header = manager
    if pipeline is not None:
        header += "; pipeline=%s; stage=%s" % (pipeline, stage)
    header += "; event=%s" % event
    return outcome(want, rcpts, targets, header, slack)


class Expect:
    """kind: untouched | routed | trigger-removed | discard.  rcpts: the
    envelope recipients at the sink (lower-cased, sorted); to_hdr: the new
    To: list (routed); header: X-Mail2alert value (routed); slack: posts."""

    def __init__(self, kind, rcpts=(), to_hdr=(), header=None, slack=()):
        self.kind = kind
        self.rcpts = tuple(sorted({r.lower() for r in rcpts}))
        self.to_hdr = tuple(a.lower() for a in to_hdr)
        self.header = header
        self.slack = tuple(slack)

    def key(self):
        return (self.kind, self.rcpts, self.to_hdr, self.header, self.slack)

    def __eq__(self, other):
        return self.key() == other.key()

    def __repr__(self):
        s = self.kind
        if self.kind != "discard":
            s += " rcpts=%s" % ",".join(self.rcpts)
        if self.header:
            s += " header=%r" % self.header
        if self.slack:
            s += " slack=%s" % ",".join("%s:%s" % x for x in self.slack)
        return "<%s>" % s


def outcome(want, rcpts, targets, header, slack):
    """What SPEC 1.6 does with a routing result, for envelope RCPTS."""
    if want[0] == "from":
        bystanders = []
    else:
        bystanders = [r for r in rcpts if not addr_eq(r, want[1])]
    if targets:
        final = bystanders + [t for t in targets if not any(addr_eq(t, b) for b in bystanders)]
        return Expect("routed", final, targets, header, slack)
    if bystanders:
        return Expect("trigger-removed", bystanders, slack=slack)
    return Expect("discard", slack=slack)


# ================================================================ dry run

def dry_run(binary, conf, eml_path, msg):
    args = [binary, "-n", eml_path, "-c", conf, "--from", msg.mail_from]
    for r in msg.rcpts:
        args += ["--to", r]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError("mail2alert -n exited %d: %s %s" % (
            p.returncode, out, p.stderr.decode("utf-8", "replace")))
    return out


def parse_dry(out, msg):
    """Dry-run text -> Expect, applying the documented recipient semantics
    (the dry run prints only the mailto: list, not the final envelope)."""
    manager = result = header = None
    slack = []
    for line in out.splitlines():
        if line.startswith("manager:"):
            v = line[len("manager:"):].strip()
            if v.startswith("none wants it"):
                return Expect("untouched", msg.rcpts)
            m = re.match(r"(\S+) \((to|from) ([^)]*)\)", v)
            if not m:
                raise RuntimeError("cannot parse %r" % line)
            manager = (m.group(2), m.group(3))
        elif line.startswith("result:"):
            result = line[len("result:"):].strip()
        elif line.startswith("header:"):
            header = line[len("header:"):].strip()
            if not header.startswith("X-Mail2alert: "):
                raise RuntimeError("cannot parse %r" % line)
            header = header[len("X-Mail2alert: "):]
        elif line.startswith("slack:"):
            m = re.match(r"slack:\s+(\S+) \((brief|full)", line)
            slack.append((m.group(1), m.group(2)))
    if manager is None or result is None:
        raise RuntimeError("unexpected dry run output:\n" + out)
    if result.startswith("unresolved"):
        raise RuntimeError("dry run unresolved (GoCD not reachable?):\n" + out)
    if result.startswith("discarded") or result.startswith("trigger recipient removed"):
        targets = []
    else:
        m = re.match(r"to=(\S+)", result)
        if not m:
            raise RuntimeError("cannot parse %r" % result)
        targets = re.findall(r"<([^>]*)>", m.group(1))
    return outcome(manager, msg.rcpts, targets, header, slack)


# ================================================================== ledger

class Msg:
    __slots__ = ("idx", "token", "shape", "mail_from", "rcpts", "data", "stage",
                 "shared", "subject", "expect", "code", "reply", "queue_id",
                 "t_start", "t_end", "attempts", "error", "verdict", "detail")

    def __init__(self, idx, token, shape, mail_from, rcpts, data, subject,
                 stage=None, shared=False):
        self.idx, self.token, self.shape = idx, token, shape
        self.mail_from, self.rcpts, self.data = mail_from, list(rcpts), data
        self.subject = subject          # decoded subject, for the model
        self.stage, self.shared = stage, shared
        self.expect = None
        self.code = self.reply = self.queue_id = self.error = None
        self.t_start = self.t_end = None
        self.attempts = 0
        self.verdict = self.detail = None

    def expect_for_me(self, sample, shape_expect):
        """The shape's Expect with this message's own stage in the header."""
        e = shape_expect
        header = e.header
        if header and sample.stage and self.stage and sample.stage != self.stage:
            header = header.replace("; stage=%s;" % sample.stage, "; stage=%s;" % self.stage)
        x = Expect(e.kind, (), e.to_hdr, header, e.slack)
        x.rcpts = e.rcpts
        return x


def set_header(data, name, raw_value):
    """Replace header NAME (first, unfolded or folded) by NAME: RAW_VALUE."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = re.split(rb"\r\n(?![ \t])", head)
    out = []
    for ln in lines:
        if ln.lower().startswith(name.lower().encode() + b":"):
            out.append(name.encode() + b": " + raw_value)
        else:
            out.append(ln)
    return b"\r\n".join(out) + sep + body


def add_header(data, raw_line):
    head, sep, body = data.partition(b"\r\n\r\n")
    return head + b"\r\n" + raw_line + sep + body


def fold_long(text, width=70):
    """A long subject folded every WIDTH characters at a space."""
    words, lines, cur = text.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w) if cur else w
    lines.append(cur)
    return "\r\n ".join(lines)


GOCD_PIPES = ["api", "web", "db", "API", "billing", "search", LONG_PIPE,
              "billing-release-1.2.3", "search-release-7", "api-release-2",
              "chatty", "noisy", "infra", "docs", "ghost"]
SHARED_PIPES = ["api", "billing", "infra", "chatty", "docs", "search-release-7"]
EVENTS = ["passed", "failed", "broken", "fixed", "cancelled", "weird"]
MAIL_SUBJECTS = [("Server backup completed on db1", None),
                 ("DISK FULL on web3", None),
                 ("Server backup failed: disk full", None),
                 ("weekly report", None),
                 ("Server backup déjà fait", "Q")]
KIND_WEIGHTS = [("gocd", 45), ("gocd-shared", 15), ("envelope", 5), ("mail", 10),
                ("unwanted", 15), ("malformed", 10)]
MALFORMED = ["no-subject", "no-subject-bystander", "no-headers", "8bit-header",
             "8bit-subject", "2047-unterminated", "2047-bad-base64", "2047-bad-charset",
             "control-chars", "long-subject", "nul-header", "big-body", "binary-body"]
UNWANTED = ["plain", "plain-2rcpt", "trigger-case", "gocd-elsewhere", "junk-elsewhere"]
ENVELOPE = ["bystander", "domain-case", "target-is-bystander", "mail-to-trigger"]


def gocd_msg(i, token, msgid, pipeline, stage, event, encode=None, rcpts=(TRIGGER,),
             extra_headers=(), modifications=None):
    kw = dict(counter=1000 + i, to=", ".join(rcpts), sender=GOCD_SENDER, encode=encode,
              msgid=msgid, user=token, extra_headers=extra_headers)
    if modifications is not None:
        kw["modifications"] = modifications
    if event == "weird":
        data = stage_mail(pipeline, stage, "failed", event_text="is weird", **kw)
        subject = stage_subject(pipeline, stage, "failed", 1000 + i, event_text="is weird")
    else:
        data = stage_mail(pipeline, stage, event, **kw)
        subject = stage_subject(pipeline, stage, event, 1000 + i)
    return data, subject


def build_plan(n, seed, run_id):
    rng = random.Random(seed)
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    msgs = []
    for i in range(n):
        token = "SOAK%sN%06d" % (run_id, i)
        msgid = "<%s@soak.mail2alert.test>" % token
        kind = rng.choice(kinds)
        if kind == "gocd":
            pipe, event = rng.choice(GOCD_PIPES), rng.choice(EVENTS)
            prefix = rng.choice(["s", "s", "s", "hotfix-"])
            encode = rng.choice([None, None, "Q", "B"])
            stage = "%s%06d" % (prefix, i)
            data, subj = gocd_msg(i, token, msgid, pipe, stage, event, encode)
            m = Msg(i, token, ("gocd", pipe, event, prefix, encode), GOCD_SENDER, [TRIGGER],
                    data, subj, stage)
        elif kind == "gocd-shared":
            pipe, event = rng.choice(SHARED_PIPES), rng.choice(EVENTS)
            stage = rng.choice(["build", "deploy", "hotfix"])
            data, subj = gocd_msg(i, token, msgid, pipe, stage, event)
            m = Msg(i, token, ("shared", pipe, stage, event), GOCD_SENDER, [TRIGGER], data,
                    subj, stage, shared=True)
        elif kind == "envelope":
            v = rng.choice(ENVELOPE)
            stage = "e%06d" % i
            if v == "bystander":
                pipe, event = rng.choice(GOCD_PIPES), rng.choice(EVENTS)
                rcpts = [TRIGGER, BYSTANDER]
                data, subj = gocd_msg(i, token, msgid, pipe, stage, event, rcpts=rcpts)
                shape = ("env", v, pipe, event)
                sender = GOCD_SENDER
            elif v == "domain-case":
                pipe, event = rng.choice(["web", "billing", "infra"]), rng.choice(EVENTS[:5])
                rcpts = ["mail2alert@EXAMPLE.COM"]
                data, subj = gocd_msg(i, token, msgid, pipe, stage, event, rcpts=rcpts)
                shape = ("env", v, pipe, event)
                sender = GOCD_SENDER
            elif v == "target-is-bystander":
                pipe = rng.choice(["api", "web"])
                rcpts = [TRIGGER, team("team-a")]
                data, subj = gocd_msg(i, token, msgid, pipe, stage, "failed", rcpts=rcpts)
                shape = ("env", v, pipe)
                sender = GOCD_SENDER
            else:   # the mail manager's sender writes to the trigger: gocd owns it
                subj = "Server backup failed on db2"
                rcpts = [TRIGGER]
                data = plain_mail(subject=subj, to=TRIGGER, sender=MAIL_SENDER, msgid=msgid,
                                  body="nightly run %s\n" % token)
                shape = ("env", v)
                sender = MAIL_SENDER
                stage = None
            m = Msg(i, token, shape, sender, rcpts, data, subj, stage)
        elif kind == "mail":
            s, enc = rng.choice(MAIL_SUBJECTS)
            rcpts = rng.choice([["admin@example.org"], ["admin@example.org", "root@example.org"]])
            data = plain_mail(subject=s, to=", ".join(rcpts), sender=MAIL_SENDER, msgid=msgid,
                              encode=enc, body="report %s\nall done.\n" % token)
            m = Msg(i, token, ("mail", s, enc, len(rcpts)), MAIL_SENDER, rcpts, data, s)
        elif kind == "unwanted":
            v = rng.choice(UNWANTED)
            if v in ("plain", "plain-2rcpt"):
                rcpts = ["bob@example.org"] + (["carol@example.net"] if v == "plain-2rcpt" else [])
                subj = "lunch on friday?"
                data = plain_mail(subject=subj, to=", ".join(rcpts), sender="alice@example.org",
                                  msgid=msgid, body="see you %s\n" % token)
                sender = "alice@example.org"
            elif v in ("trigger-case", "gocd-elsewhere"):
                rcpts = (["Mail2alert@example.com"] if v == "trigger-case"
                         else ["ops-list@example.org"])
                data, subj = gocd_msg(i, token, msgid, "api", "u%06d" % i, "failed", rcpts=rcpts)
                sender = GOCD_SENDER
            else:
                rcpts = ["x@example.org"]
                subj = "junk"
                data = plain_mail(subject=subj, to="x@example.org", sender="someone@example.org",
                                  msgid=msgid, body="junk %s\n" % token)
                data = add_header(data, b"X-Junk: \xff\xfe\x80 raw \x01\x02 bytes \xc3\x28")
                sender = "someone@example.org"
            m = Msg(i, token, ("unwanted", v), sender, rcpts, data, subj)
        else:
            v = rng.choice(MALFORMED)
            m = malformed_msg(i, token, msgid, v, rng)
        msgs.append(m)
    return msgs


def malformed_msg(i, token, msgid, v, rng):
    stage = "m%06d" % i
    rcpts = [TRIGGER]
    subj = None
    if v in ("no-subject", "no-subject-bystander"):
        if v == "no-subject-bystander":
            rcpts = [TRIGGER, BYSTANDER]
        data = plain_mail(subject=None, to=", ".join(rcpts), sender=GOCD_SENDER, msgid=msgid,
                          body="no subject %s\n" % token)
        subj, stage = "", None
    elif v == "no-headers":
        # the first line has no colon: Postfix ends the header block there
        data = ("no header block in this one, token %s\r\n\r\nsecond paragraph\r\n"
                % token).encode()
        subj, stage = "", None
    elif v == "8bit-header":
        data, subj = gocd_msg(i, token, msgid, "api", stage, "failed",
                              extra_headers=[("X-Junk", b"\xff\xfe\x80 raw \x01\x02 \xc3\x28")])
    elif v == "8bit-subject":
        data, _ = gocd_msg(i, token, msgid, "web", stage, "broken")
        raw = b"\xc3\xa9t\xe9 \xff\xfe Stage [web/%d/%s/1] is broken" % (1000 + i, stage.encode())
        data = set_header(data, "Subject", raw)
        subj = raw.decode("utf-8", "replace")
    elif v == "2047-unterminated":
        data, _ = gocd_msg(i, token, msgid, "api", stage, "failed")
        raw = "=?UTF-8?Q?Stage_[api/%d/%s/1]_failed" % (1000 + i, stage)
        data = set_header(data, "Subject", raw.encode())
        subj = raw
    elif v == "2047-bad-base64":
        data, _ = gocd_msg(i, token, msgid, "web", stage, "broken")
        raw = "=?UTF-8?B?!!!not*base64?= Stage [web/%d/%s/1] is broken" % (1000 + i, stage)
        data = set_header(data, "Subject", raw.encode())
        subj = raw
    elif v == "2047-bad-charset":
        data, _ = gocd_msg(i, token, msgid, "billing", stage, "passed")
        raw = "=?X-NO-SUCH-CHARSET?Q?hello?= Stage [billing/%d/%s/1] passed" % (1000 + i, stage)
        data = set_header(data, "Subject", raw.encode())
        subj = raw
    elif v == "control-chars":
        data, _ = gocd_msg(i, token, msgid, "db", stage, "failed")
        raw = b"\x01\x07\x1b[31m Stage [db/%d/%s/1] failed" % (1000 + i, stage.encode())
        data = set_header(data, "Subject", raw)
        subj = raw.decode()
    elif v == "long-subject":
        # 3000 bytes of words before the stage text, folded: stays within
        # the daemon's HEADER_MAX (4096) so daemon and dry run see the same
        pad = " ".join("padding%04d" % k for k in range(250))
        text = "%s Stage [api/%d/%s/1] failed" % (pad, 1000 + i, stage)
        data, _ = gocd_msg(i, token, msgid, "api", stage, "failed")
        data = set_header(data, "Subject", fold_long(text).encode())
        subj = text
    elif v == "nul-header":
        data, subj = gocd_msg(i, token, msgid, "infra", stage, "failed",
                              extra_headers=[("X-Junk", b"before\x00after")])
    elif v == "big-body":
        big = "\n".join("log line %06d: %s" % (k, "x" * 60) for k in range(4000))
        data, subj = gocd_msg(i, token, msgid, "infra", stage, "broken",
                              modifications=[big])
    elif v == "binary-body":
        r = random.Random(i)
        junk = bytes(b for b in (r.randrange(256) for _ in range(6000)) if b not in (10, 13))
        lines = [junk[k:k + 70] for k in range(0, len(junk), 70)]
        body = b"token " + token.encode() + b"\r\n" + b"\r\n".join(lines) + b"\r\n"
        subj = "Stage [chatty/%d/%s/1] failed" % (1000 + i, stage)
        data = plain_mail(subject=subj, to=TRIGGER, sender=GOCD_SENDER, msgid=msgid,
                          body=body, cte="8bit")
    else:
        raise ValueError(v)
    return Msg(i, token, ("malformed", v), GOCD_SENDER, rcpts, data, subj, stage)


# ============================================================ stand-ins

class SoakSlack(SlackStandIn):
    """The lab's Slack stand-in plus a "429" mode (Retry-After: 1)."""

    def set_fault(self, mode):
        with self._lock:
            self._mode = mode
            self._lock.notify_all()

    def _respond(self, h, req, path, entry):
        if entry == "429":
            return self._send(h, 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"})
        return super()._respond(h, req, path, entry)


class GocdSwitch:
    """The GoCD stand-in plus a real "down" (server stopped, port closed)."""

    def __init__(self):
        self.instances = []
        self.g = self._new(0)
        self.port = self.g.port
        self.url = self.g.url
        self.mode = "ok"
        self.lock = threading.Lock()
        self.changes = collections.Counter()

    def _new(self, port):
        for _ in range(50):
            try:
                g = GocdStandIn(port=port, hang_seconds=120)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("cannot rebind the GoCD stand-in on port %d" % port)
        g.set_groups(GROUPS)
        g.set_cctray({})
        g.start()
        self.instances.append(g)
        return g

    def set(self, mode):
        with self.lock:
            if mode == "down":
                if self.g is not None:
                    self.g.set_mode("close")    # a kept-alive connection gets no answer
                    self.g.stop()
                    self.g = None
            else:
                if self.g is None:
                    self.g = self._new(self.port)
                self.g.set_mode(mode)
            self.mode = mode
            self.changes[mode] += 1

    def stop(self):
        with self.lock:
            if self.g is not None:
                self.g.stop()
                self.g = None

    def requests(self, path="admin"):
        out = []
        for g in list(self.instances):
            out += g.requests(path)
        return out


class Faults(threading.Thread):
    GOCD_CYCLE = ["down", "hang", "500", "garbage", "close", "wrongshape", "ok"]
    SLACK_CYCLE = ["429", "500", "hang", "close", "ok"]

    def __init__(self, gocd, slack, milter_ref, seed):
        super().__init__(name="faults", daemon=True)
        self.gocd, self.slack, self.milter_ref = gocd, slack, milter_ref
        self.rng = random.Random(seed + 1)
        self.stopping = threading.Event()
        self.gocd_hold = threading.Event()      # set: the cycle leaves GoCD alone
        self.slack_changes = collections.Counter()
        self.nudges = 0

    def hold_gocd(self, mode):
        self.gocd_hold.set()
        self.gocd.set(mode)

    def release_gocd(self):
        self.gocd.set("ok")
        self.gocd_hold.clear()

    def nudge(self):
        m = self.milter_ref()
        if m is not None and m.alive():
            try:
                m.proc.send_signal(signal.SIGUSR2)     # "poll GoCD now"
                self.nudges += 1
            except OSError:
                pass

    def run(self):
        gi = si = 0
        now = time.monotonic()
        next_g, next_s, nudge_at = now + 1.0, now + 0.5, None
        while not self.stopping.wait(0.05):
            now = time.monotonic()
            if now >= next_g and not self.gocd_hold.is_set():
                self.gocd.set(self.GOCD_CYCLE[gi % len(self.GOCD_CYCLE)])
                gi += 1
                next_g = now + self.rng.uniform(1.0, 2.0)
                nudge_at = now + 0.3
            if nudge_at is not None and now >= nudge_at:
                if not self.gocd_hold.is_set():
                    self.nudge()
                nudge_at = None
            if now >= next_s:
                mode = self.SLACK_CYCLE[si % len(self.SLACK_CYCLE)]
                self.slack.set_fault(mode)
                self.slack_changes[mode] += 1
                si += 1
                next_s = now + self.rng.uniform(1.0, 2.0)
        self.slack.set_fault("ok")
        if not self.gocd_hold.is_set():
            self.gocd.set("ok")


# ================================================================ the run

class Soak:
    def __init__(self, args):
        self.args = args
        self.binary = os.path.abspath(args.mail2alert)
        self.failures = []              # global checks that failed
        self.notes = []
        self.lab = None
        self.sink = self.postfix = self.gocd = self.slack = None
        self.milters = []
        self.faults = None
        self.kill_window = None         # (t_kill, t_ready) monotonic
        self.restart_info = {}
        self.lock = threading.Lock()
        self.done_count = 0
        self.first_4xx = None
        self.run_id = "%06x" % random.Random(args.seed * 7919 + int(time.time())).randrange(16 ** 6)

    # ------------------------------------------------------------ helpers
    def fail(self, what):
        self.failures.append(what)
        log("FAIL: " + what)

    def milter(self):
        return self.milters[-1] if self.milters else None

    def start_milter(self, name):
        m = MilterProcess(self.binary, self.conf, self.lab, name=name)
        self.milters.append(m)
        m.start(15)
        return m

    # ------------------------------------------------------------- phases
    def setup(self):
        self.lab = tempfile.mkdtemp(prefix="m2a-soak-")
        os.chmod(self.lab, 0o755)
        self.sink = SmtpSink().start()
        self.gocd = GocdSwitch()
        self.slack = SoakSlack().start()
        self.milter_port = free_port()
        self.state_file = os.path.join(self.lab, "state.json")
        self.conf = os.path.join(self.lab, "mail2alert.conf")
        with open(self.conf, "w") as f:
            f.write(config_text(self.milter_port, self.gocd.url, self.slack, self.state_file))
        p = subprocess.run([self.binary, "-t", "-c", self.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise RuntimeError("config check failed: %s" % p.stdout.decode(errors="replace"))
        self.postfix = PostfixInstance(
            os.path.join(self.lab, "postfix"), free_port(), self.sink.port,
            milter="inet:127.0.0.1:%d" % self.milter_port,
            main_extra={"milter_default_action": self.args.milter_default_action,
                        "enable_long_queue_ids": "yes"})
        self.postfix.start()

    def predict(self, msgs):
        """Dry run one sample per shape; model cross-check; fill m.expect."""
        shapes = collections.OrderedDict()
        for m in msgs:
            shapes.setdefault(m.shape, []).append(m)
        eml_dir = os.path.join(self.lab, "dry")
        os.makedirs(eml_dir)
        t0 = time.monotonic()

        def one(k):
            shape, members = k
            sample = members[0]
            path = os.path.join(eml_dir, "%s.eml" % sample.token)
            with open(path, "wb") as f:
                f.write(sample.data)
            return shape, sample, dry_run(self.binary, self.conf, path, sample)

        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(one, shapes.items()))
        disagree = []
        for shape, sample, out in results:
            dry = parse_dry(out, sample)
            model = model_expect(sample.mail_from, sample.rcpts, sample.subject)
            if dry != model:
                disagree.append((shape, dry, model, out))
            for m in shapes[shape]:
                m.expect = m.expect_for_me(sample, dry)
        self.n_shapes = len(shapes)
        self.n_agree = len(shapes) - len(disagree)
        self.dry_seconds = time.monotonic() - t0
        log("dry run: %d shapes in %.1fs; model agrees on %d" % (
            len(shapes), self.dry_seconds, len(shapes) - len(disagree)))
        for shape, dry, model, out in disagree[:10]:
            log("dry run and model disagree on %r:\n  dry run: %r\n  model:   %r\n%s"
                % (shape, dry, model, out))
        if disagree:
            self.fail("dry run and Python model disagree on %d of %d shapes"
                      % (len(disagree), len(shapes)))
        self.shape_count = collections.Counter(m.expect.kind for m in msgs)

    def wait_groups(self, base, timeout=20):
        deadline = time.monotonic() + timeout
        nudged = False
        while True:
            reqs = self.gocd.requests()
            ok = [i for i, r in enumerate(reqs) if i >= base and r.status in (200, 304)]
            if ok and len(reqs) >= ok[0] + 2:
                return
            if ok and not nudged:
                self.milter().proc.send_signal(signal.SIGUSR2)
                nudged = True
            if time.monotonic() > deadline:
                raise RuntimeError("the milter did not load the pipeline groups: %r" % reqs[base:])
            time.sleep(0.02)

    def wait_state_file(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.state_file) as f:
                    text = f.read()
                if '"groups"' in text and "team-a" in text:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    # ------------------------------------------------------------ sending
    def sender(self, msgs, order, t0, pace):
        port = self.postfix.smtpd_port
        tempfail = self.args.milter_default_action == "tempfail"
        while True:
            with self.lock:
                if not order:
                    return
                i = order.pop()
            m = msgs[i]
            if pace:
                delay = t0 + i * pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            give_up = time.monotonic() + 120
            while True:
                m.attempts += 1
                m.t_start = time.monotonic()
                try:
                    r = send(port, m.mail_from, m.rcpts, m.data, check=False, timeout=60)
                    m.code, m.reply, m.queue_id, m.error = r.code, r.text, r.queue_id, None
                except (OSError, smtplib.SMTPException) as e:
                    m.code, m.error = None, "%s: %s" % (type(e).__name__, e)
                m.t_end = time.monotonic()
                if m.code is not None and 400 <= m.code < 500 and self.first_4xx is None:
                    self.first_4xx = "%d %s" % (m.code, m.reply)
                if (tempfail and m.code is not None and 400 <= m.code < 500
                        and time.monotonic() < give_up):
                    time.sleep(0.5)             # what an MTA would do, faster
                    continue
                break
            with self.lock:
                self.done_count += 1

    def kill_and_restart(self):
        """kill -9 the milter, 2 s down, restart with GoCD failing."""
        f = self.faults
        if not self.wait_state_file():
            self.fail("restart: no state file with the pipeline groups before the kill")
        f.hold_gocd("500")
        old = self.milter()
        t_kill = time.monotonic()
        old.kill()
        log("milter pid %d killed with SIGKILL (rc=%s); down for %.1fs"
            % (old.pid, old.returncode, self.args.down_seconds))
        time.sleep(self.args.down_seconds)
        base = len(self.gocd.requests())
        m = self.start_milter("mail2alert-2")
        t_ready = time.monotonic()
        self.kill_window = (t_kill, t_ready)
        info = self.restart_info
        info["down"] = t_ready - t_kill
        try:
            line = m.wait_log(r"state file \S+: managers=(\d+) stages=(\d+)", timeout=10)
            info["state_line"] = line.group(0)
            if int(line.group(1)) < 1:
                self.fail("restart: the state file held no pipeline groups: %s" % line.group(0))
        except Exception as e:
            self.fail("restart: no state file load logged: %s" % e)
        try:
            m.wait_log(r"GoCD poll failed", timeout=15)
        except Exception as e:
            self.fail("restart: the restarted milter made no (failing) GoCD poll: %s" % e)
        sent_before = self.done_count
        time.sleep(self.args.hold_seconds)
        text = m.log()
        sent_during = self.done_count - sent_before
        routed = len(re.findall(r"manager=gocd pipeline=\S+ .*status=routed", text))
        good = [r for r in self.gocd.requests()[base:] if r.status in (200, 304)]
        info.update(routed_while_gocd_failed=routed, gocd_ok_answers=len(good),
                    sent_during_hold=sent_during)
        if good:
            self.fail("restart: GoCD answered %d polls during the hold" % len(good))
        if routed == 0 and sent_during > 0:
            self.fail("restart: the restarted milter routed no GoCD mail from its state file "
                      "while GoCD failed (%d messages sent meanwhile)" % sent_during)
        if "status=unresolved" in text:
            self.fail("restart: unresolved messages after the restart")
        log("milter restarted in %.1fs; %s; routed %d GoCD messages while GoCD answered 500"
            % (info["down"], info.get("state_line", "?"), routed))
        f.release_gocd()

    def load(self, msgs):
        n = len(msgs)
        pace = self.args.duration / n if self.args.duration else 0
        order = list(range(n - 1, -1, -1))     # pop() from the end: in order
        t0 = time.monotonic() + 0.2
        threads = [threading.Thread(target=self.sender, args=(msgs, order, t0, pace),
                                    name="sender-%d" % k, daemon=True)
                   for k in range(self.args.sessions)]
        self.t_load0 = time.monotonic()
        for t in threads:
            t.start()
        kill_at = int(n * self.args.kill_at)
        burst_at = int(n * 0.25)
        killed = burst = False
        while any(t.is_alive() for t in threads):
            done = self.done_count
            if not burst and done >= burst_at:
                k = max(5, n // 200)
                self.sink.reject("DATA_END", "451 4.3.0 soak: sink busy, try later", times=k)
                self.notes.append("sink answered 451 to %d deliveries at %d%%" % (k, 25))
                burst = True
            if not killed and self.args.kill_at > 0 and done >= kill_at:
                killed = True
                self.kill_and_restart()
            time.sleep(0.05)
        for t in threads:
            t.join()
        self.t_load = time.monotonic() - self.t_load0
        if self.args.kill_at > 0 and not killed:
            self.kill_and_restart()

    # -------------------------------------------------------- collecting
    def sink_index(self):
        idx = collections.defaultdict(list)
        strays = []
        for sm in self.sink.messages():
            t = TOKEN_RE.search(sm.data)
            if sm.mail_from == "":
                continue                # a bounce quotes the message: counted apart
            if t:
                idx[t.group(0).decode()].append(sm)
            else:
                strays.append(sm)
        return idx, strays

    def discard_qids(self):
        return set(re.findall(r"([0-9A-Za-z]+): milter-discard:", self.postfix.maillog()))

    def drain(self, msgs, timeout, settle=20.0):
        """Wait until every accepted message is at the sink or logged as
        discarded and the queue is empty; give up after TIMEOUT, or after
        SETTLE seconds with an empty queue and no progress."""
        deadline = time.monotonic() + timeout
        accepted = [m for m in msgs if m.code is not None and 200 <= m.code < 300]
        last, since = None, time.monotonic()
        while True:
            idx, _ = self.sink_index()
            discards = self.discard_qids()
            missing = [m for m in accepted if m.token not in idx and m.queue_id not in discards]
            try:
                queued = self.postfix.queue()
            except Exception:
                queued = ["?"]
            if not missing and not queued:
                return 0
            state = (len(missing), len(queued), len(self.sink.messages()))
            if state != last:
                last, since = state, time.monotonic()
            if time.monotonic() > deadline or (not queued and time.monotonic() - since > settle):
                return len(missing)
            time.sleep(0.5)

    # -------------------------------------------------------- accounting
    def account(self, msgs):
        idx, strays = self.sink_index()
        discards = self.discard_qids()
        lo, hi = self.kill_window or (None, None)
        margin = 0.25
        tally = collections.Counter()
        examples = collections.defaultdict(list)
        for m in msgs:
            v, d = self.judge(m, idx.get(m.token, []), discards, lo, hi, margin)
            m.verdict, m.detail = v, d
            tally[v] += 1
            if len(examples[v]) < 8 and d:
                examples[v].append("%s %r: %s" % (m.token, m.shape, d))
        bounces = [s for s in self.sink.messages() if s.mail_from == ""
                   or "mailer-daemon" in (s.header("From") or "").lower()]
        return tally, examples, strays, bounces

    def judge(self, m, got, discards, lo, hi, margin):
        e = m.expect
        if m.code is None or not 200 <= m.code < 300:
            return "rejected", "SMTP %s %s %s" % (m.code, m.reply, m.error or "")
        if not got:
            if e.kind == "discard" and m.queue_id in discards:
                return "discarded", None
            if e.kind == "discard":
                return "lost", "absent at the sink, but no milter-discard for %s" % m.queue_id
            return "lost", "queue id %s never reached the sink (expected %r)" % (m.queue_id, e)
        rcpts = collections.Counter(r.lower() for s in got for r in s.rcpts)
        if any(c > 1 for c in rcpts.values()):
            return "duplicate", "delivered %d times: %r" % (len(got), dict(rcpts))
        have = tuple(sorted(rcpts))
        traces = [" ".join(v.split()) for s in got for v in s.headers("X-Mail2alert")]
        body = m.data.partition(b"\r\n\r\n")[2]
        if not all(s.data.endswith(body) for s in got):
            return "misrouted", "body changed"
        original = tuple(sorted({r.lower() for r in m.rcpts}))
        # wanted mail delivered untouched: the milter was not there
        if e.kind != "untouched" and not traces and have == original:
            in_window = lo is not None and m.t_start <= hi + margin and m.t_end >= lo - margin
            if in_window and self.args.milter_default_action == "accept":
                return "passthrough", None
            return "misrouted", ("delivered untouched (milter bypassed) outside the kill window "
                                 "(sent %.2fs..%.2fs, window %s)" % (
                                     m.t_start - self.t_load0, m.t_end - self.t_load0,
                                     "none" if lo is None else "%.2f..%.2f" % (
                                         lo - self.t_load0, hi - self.t_load0)))
        if e.kind == "discard":
            return "misrouted", "expected discard, got rcpts=%s traces=%r" % (have, traces)
        if have != e.rcpts:
            return "misrouted", "rcpts %s, expected %s (traces %r)" % (have, e.rcpts, traces)
        if e.kind == "routed":
            if len(traces) != len(got) or len(set(traces)) != 1:
                return "misrouted", "X-Mail2alert %r, expected %r" % (traces, e.header)
            if not self.same_trace(traces[0], e.header, m.shared):
                return "misrouted", "X-Mail2alert %r, expected %r" % (traces[0], e.header)
            to = tuple(a for s in got[:1] for a in s.to_addrs())
            if to != e.to_hdr:
                return "misrouted", "To: %r, expected %r" % (to, e.to_hdr)
        elif traces:
            return "misrouted", "unexpected X-Mail2alert %r (expected %s)" % (traces, e.kind)
        return "delivered", None

    @staticmethod
    def same_trace(got, want, shared):
        if got == want:
            return True
        if not shared:
            return False
        # shared stages: the final event depends on arrival order, within its class
        g = re.match(r"(.*; event=)(\S+)$", got)
        w = re.match(r"(.*; event=)(\S+)$", want)
        return bool(g and w and g.group(1) == w.group(1)
                    and EDGE_CLASS.get(g.group(2)) == EDGE_CLASS.get(w.group(2)))

    # --------------------------------------------------------------- main
    def run(self):
        a = self.args
        t_all = time.monotonic()
        self.setup()
        msgs = build_plan(a.messages, a.seed, self.run_id)
        self.predict(msgs)

        self.gocd_base = len(self.gocd.requests())
        m = self.start_milter("mail2alert-1")
        self.wait_groups(self.gocd_base)
        self.faults = Faults(self.gocd, self.slack, self.milter, a.seed)
        self.faults.start()
        log("lab up in %.1fs: Postfix smtpd 127.0.0.1:%d, milter pid %d, sending %d messages "
            "in %d sessions%s" % (time.monotonic() - t_all, self.postfix.smtpd_port, m.pid,
                                  len(msgs), a.sessions,
                                  " over %.0fs" % a.duration if a.duration else ""))
        self.load(msgs)
        log("sent in %.1fs (%.0f msg/s); draining" % (self.t_load, len(msgs) / self.t_load))
        self.faults.stopping.set()
        self.faults.join(10)
        missing = self.drain(msgs, a.drain_timeout)
        t_drained = time.monotonic()
        queue = self.postfix.queue()
        if queue:
            self.fail("postqueue -j not empty at the end: %d messages, e.g. %r"
                      % (len(queue), queue[:3]))
        # stop the milter cleanly: SIGTERM, Slack drain, state saved
        last = self.milter()
        crashed = [p for p in self.milters[:-1] if not p.signalled]
        if not last.alive():
            self.fail("the restarted milter exited by itself (rc=%s)" % last.returncode)
        t_stop = time.monotonic()
        rc = last.stop(30)
        self.stop_seconds = time.monotonic() - t_stop
        if rc != 0:
            self.fail("the milter exited %s on SIGTERM" % rc)
        if crashed:
            self.fail("a milter process died unexpectedly")
        return self.report(msgs, queue, missing, time.monotonic() - t_all, t_drained)

    # ------------------------------------------------------------- report
    def milter_logs(self):
        return "".join(p.log() for p in self.milters)

    def slack_stats(self, msgs):
        """Slack posts of the mail the milter handled, followed by queue id
        through the milter logs: each must end sent, failed or dropped, or
        be saved at the final SIGTERM.  Posts still queued in the process
        that was killed with SIGKILL are counted apart."""
        final = collections.Counter()
        handled_by = {}
        st = collections.Counter()
        deferred = 0
        for k, p in enumerate(self.milters):
            for line in p.log().splitlines():
                m = re.search(r" (\S+): slack=\S+ status=(sent|failed|dropped|deferred)", line)
                if m:
                    if m.group(2) == "deferred":
                        deferred += 1
                    else:
                        final[m.group(1)] += 1
                        st[m.group(2)] += 1
                    continue
                m = re.search(r" (\S+): manager=\S+ .*status=(routed|discarded|trigger-removed)",
                              line)
                if m:
                    handled_by[m.group(1)] = k
        saved = sum(int(x) for x in re.findall(r"saved (\d+) unsent slack posts",
                                                self.milter_logs()))
        expected = 0
        missing = collections.Counter()         # by milter index
        for m in msgs:
            if m.verdict not in ("delivered", "discarded") or not m.expect.slack:
                continue
            n = len(m.expect.slack)
            expected += n
            gap = n - final.get(m.queue_id, 0)
            if gap > 0:
                missing[handled_by.get(m.queue_id, -1)] += gap
        killed = sum(v for k, v in missing.items() if 0 <= k < len(self.milters) - 1)
        last = missing.get(len(self.milters) - 1, 0)
        answers = collections.Counter(r.status for r in self.slack.requests())
        titles = collections.Counter(
            (r.path, (r.json or {}).get("channel"), str((r.json or {}).get("attachments")))
            for r in self.slack.requests() if r.status == 200)
        dup = sum(c - 1 for c in titles.values() if c > 1)
        return dict(expected=expected, sent=st["sent"], failed=st["failed"],
                    dropped=st["dropped"], deferred=deferred, saved=saved,
                    lost_in_kill=killed, last_missing=last, unknown=missing.get(-1, 0),
                    answers=answers, duplicates=dup)

    def report(self, msgs, queue, missing, total, t_drained):
        a = self.args
        tally, examples, strays, bounces = self.account(msgs)
        text = self.milter_logs()
        maillog = self.postfix.maillog()
        unresolved = len(re.findall(r"status=unresolved", text))
        if unresolved:
            self.fail("%d messages routed as unresolved" % unresolved)
        if bounces:
            self.fail("%d bounces at the sink" % len(bounces))
        bounced_log = len(re.findall(r"status=bounced", maillog))
        if bounced_log:
            self.fail("%d status=bounced lines in the Postfix log" % bounced_log)
        if strays:
            self.fail("%d messages at the sink without a soak token" % len(strays))
        if SLACK_TOKEN in text or SLACK_TOKEN in maillog:
            self.fail("the Slack token appears in a log")
        passthrough = tally["passthrough"]
        if a.milter_default_action == "tempfail" and passthrough:
            self.fail("milter_default_action = tempfail, yet %d messages passed untouched"
                      % passthrough)
        milter_warn = len(re.findall(r"warning: .*[Mm]ilter", maillog))
        retried = [m for m in msgs if m.attempts > 1]
        retried_unwanted = sum(1 for m in retried if m.expect.kind == "untouched")
        slack = self.slack_stats(msgs)
        kinds = collections.Counter(m.expect.kind for m in msgs if m.verdict == "delivered")
        slack_only = sum(1 for m in msgs if m.verdict == "discarded" and m.expect.slack)

        bad = tally["lost"] + tally["misrouted"] + tally["duplicate"] + tally["rejected"]
        passed = tally["delivered"] + tally["passthrough"] + tally["discarded"]
        failed = bad + len(self.failures)

        gocd_status = collections.Counter(r.status for r in self.gocd.requests()[self.gocd_base:])
        rows = [
            ("messages", len(msgs)),
            ("shapes dry-run (mail2alert -n)", self.n_shapes),
            ("  Python model agrees", self.n_agree),
            ("sent (2xx from Postfix)", sum(1 for m in msgs if m.code and 200 <= m.code < 300)),
            ("delivered as expected", tally["delivered"]),
            ("  routed (X-Mail2alert, new recipients)", kinds["routed"]),
            ("  untouched (unwanted)", kinds["untouched"]),
            ("  trigger removed, bystanders kept", kinds["trigger-removed"]),
            ("milter-down passthrough", passthrough),
            ("discarded as expected", tally["discarded"]),
            ("  of them Slack-only", slack_only),
            ("lost", tally["lost"]),
            ("misrouted", tally["misrouted"]),
            ("duplicates", tally["duplicate"]),
            ("bounces", len(bounces) + bounced_log),
            ("rejected / send errors", tally["rejected"]),
            ("queue at end (postqueue -j)", len(queue)),
        ]
        w = max(len(r[0]) for r in rows)
        print()
        print("soak: %d messages, %d sessions, %d shapes, milter_default_action = %s, seed %d"
              % (len(msgs), a.sessions, self.n_shapes, a.milter_default_action, a.seed))
        for k, v in rows:
            print("  %-*s %7d" % (w, k, v))
        print("  timings: total %.1fs, dry runs %.1fs, sending %.1fs (%.0f msg/s), "
              "drain %.1fs, SIGTERM stop %.1fs"
              % (total, self.dry_seconds, self.t_load, len(msgs) / self.t_load,
                 t_drained - self.t_load0 - self.t_load, self.stop_seconds))
        info = self.restart_info
        if info:
            print("  kill -9: milter down %.1fs; %d Postfix milter warnings; %d messages got "
                  "4xx and were sent again (%d of them not for mail2alert); restarted from the "
                  "state file (%s) and routed %d GoCD messages while GoCD answered 500"
                  % (info["down"], milter_warn, len(retried), retried_unwanted,
                     info.get("state_line", "?"), info.get("routed_while_gocd_failed", 0)))
        print("  GoCD stand-in: %s; group polls by HTTP status (garbage and wrongshape "
              "are 200s) %s; %d SIGUSR2 nudges"
              % (", ".join("%s x%d" % kv for kv in sorted(self.gocd.changes.items())),
                 ", ".join("%s: %d" % (k if k is not None else "none", v)
                           for k, v in sorted(gocd_status.items(), key=lambda kv: str(kv[0]))),
                 self.faults.nudges))
        print("  Slack stand-in: %s; answers %s"
              % (", ".join("%s x%d" % kv for kv in sorted(self.faults.slack_changes.items())),
                 ", ".join("%s: %d" % (k if k is not None else "none", v)
                           for k, v in sorted(slack["answers"].items(),
                                              key=lambda kv: str(kv[0])))))
        print("  Slack posts (not mail): %d expected from milter-handled mail: sent %d, "
              "failed %d, dropped (queue full) %d, saved at stop %d; %d still queued in the "
              "process killed by SIGKILL (lost); %d deferrals; %d posted twice"
              % (slack["expected"], slack["sent"], slack["failed"], slack["dropped"],
                 slack["saved"], slack["lost_in_kill"], slack["deferred"], slack["duplicates"]))
        if slack["last_missing"] != slack["saved"] or slack["unknown"]:
            self.fail("Slack posts of the last milter process unaccounted: %d missing, %d "
                      "saved at stop, %d of unknown queue ids"
                      % (slack["last_missing"], slack["saved"], slack["unknown"]))
        if self.first_4xx:
            print("  first 4xx reply seen by a client: %s" % self.first_4xx)
        for note in self.notes:
            print("  " + note)
        for v in ("lost", "misrouted", "duplicate", "rejected"):
            for ex in examples.get(v, []):
                print("  %s: %s" % (v, ex))
        for f in self.failures:
            print("  FAILED CHECK: " + f)
        self.summary_rows = rows
        print("soak: %d passed, %d failed" % (passed, failed))
        self.result = failed == 0
        return self.result

    def cleanup(self, keep):
        if self.faults is not None:
            self.faults.stopping.set()
        for p in self.milters:
            try:
                if p.alive():
                    p.stop(5)
            except Exception:
                pass
        for thing in (self.postfix, self.gocd, self.slack, self.sink):
            if thing is not None:
                try:
                    thing.stop()
                except Exception:
                    pass
        if self.lab:
            if keep:
                log("lab kept in %s" % self.lab)
            else:
                shutil.rmtree(self.lab, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=None, help="messages (default 10000)")
    ap.add_argument("--quick", action="store_true",
                    help="400 messages over 24 s (for make check)")
    ap.add_argument("--sessions", type=int, default=10, help="concurrent SMTP sessions")
    ap.add_argument("--duration", type=float, default=None,
                    help="spread the messages over at least this many seconds, so the "
                         "faults cycle many times (default 90; --quick: 24; 0: as fast as "
                         "the sessions go)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kill-at", type=float, default=0.5,
                    help="kill -9 the milter when this share was sent (0: never)")
    ap.add_argument("--down-seconds", type=float, default=2.0)
    ap.add_argument("--hold-seconds", type=float, default=2.0,
                    help="GoCD keeps failing this long after the restart")
    ap.add_argument("--milter-default-action", choices=("accept", "tempfail"), default="accept")
    ap.add_argument("--drain-timeout", type=float, default=180)
    ap.add_argument("--mail2alert", default=os.environ.get("MAIL2ALERT")
                    or os.path.join(REPO, "mail2alert"))
    ap.add_argument("--keep", action="store_true", help="keep the lab directory")
    a = ap.parse_args(argv)
    if a.messages is None:
        a.messages = 400 if a.quick else 10000
    if a.duration is None:
        a.duration = 24.0 if a.quick else 90.0
    if os.geteuid() != 0:
        log("needs root (a private Postfix instance)")
        return 2
    if not os.access(a.mail2alert, os.X_OK):
        log("no mail2alert binary at %s (make mail2alert)" % a.mail2alert)
        return 2
    s = Soak(a)
    ok = False
    try:
        ok = s.run()
    except KeyboardInterrupt:
        log("interrupted")
    except Exception as e:
        import traceback
        traceback.print_exc()
        log("ERROR: %s" % e)
        print("soak: 0 passed, 1 failed")
    finally:
        s.cleanup(a.keep or not ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
