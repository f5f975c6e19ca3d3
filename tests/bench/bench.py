#!/usr/bin/python3
"""Throughput of Postfix with and without a milter, side by side.

    /usr/bin/python3 tests/bench/bench.py [--quick] [options]     (root)

Starts the loopback lab (tests/lab): a private Postfix whose smtpd listens on
127.0.0.1 and relays everything to Postfix's own smtp-sink, a GoCD stand-in
serving N pipelines, and the milters.  Then runs INTERLEAVED rounds of these
variants (switching = smtpd_milters + postfix reload):

    postfix          Postfix alone, no milter
    minimal-tcp      minimal libmilter milter (rewrite), TCP      } reference
    mail2alert-tcp   mail2alert routing GoCD mail, TCP
    minimal-unix     minimal milter (rewrite), unix socket
    mail2alert-unix  mail2alert routing GoCD mail, unix socket

and with --extra also variants of the minimal milter that show what the
protocol options buy: +TCP_NODELAY, +DATA callback, +no-reply flags.

Load: smtp-source, S parallel sessions, M messages per run, one SMTP
connection per message (as GoCD's mailer does), each a GoCD stage mail
("Stage [PIPELINE/12/build/1] failed", quoted-printable body) to the trigger
address.  A run lasts from smtp-source's start until smtp-sink has counted
all M messages.  Per variant: median msgs/s over rounds, min-max, ratio to the
Postfix-alone median, milter CPU (utime+stime of the milter process over the
run / messages), milter RSS, Postfix's "delays=a/..." first field (time
before the queue manager: smtpd + milter + cleanup), and how busy the whole
machine was.

--milter-maps: what mail that is not GoCD's costs with the recipe of
README and mail2alert(8), where Postfix's smtpd_milter_maps (3.2+) applies
the milter only to the GoCD server's address.  The load is an ordinary mail
(not from GoCD, to nobody a manager wants) from smtp-source, whose client
address is 127.0.0.1 (it cannot bind another); the GoCD server is 127.0.0.2
(an address on lo, reached by binding the client socket to it).  Variants:

    postfix          Postfix alone, no milter
    mail2alert-all   mail2alert in smtpd_milters, for every client, TCP
    mail2alert-maps  smtpd_milters empty; smtpd_milter_maps = cidr: table
                     "127.0.0.2/32 inet:127.0.0.1:PORT"; non_smtpd_milters
                     = the milter (local submission)

After the warm-up, one GoCD mail from 127.0.0.2 must be routed and one from
127.0.0.1 must not: the map, not an accident, decides.

--quick: 1 round of 200 messages (CI smoke, < 60 s; exit 0 once the table is
printed).  Default: 3 rounds of 2000 messages, 10 sessions.
"""

import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.lab import (GocdStandIn, MilterProcess, PostfixInstance,  # noqa: E402
                       free_port, plain_mail, stage_mail)

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
TRIGGER = "mail2alert@example.com"
GOCD_SENDER = "go@gocd.example.com"
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGET_RATIO = 0.85
TARGET_MAPS_RATIO = 0.97
GOCD_CLIENT = "127.0.0.2"       # the GoCD server's address in --milter-maps
OTHER_SENDER = "someone@example.org"
OTHER_RCPT = "someone-else@example.org"
TARGET_CPU_US = 30.0
TARGET_RSS_KB = 4096



def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- /proc

def proc_cpu_ticks(pid):
    """utime + stime of a whole process (all threads, dead ones included)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_threads(pid):
    return proc_status_kb(pid, "Threads")


def system_cpu():
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return total - idle, total


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "loadavg": open("/proc/loadavg").read().split()[:3]}


# ---------------------------------------------------------------- smtp-sink

class Sink:
    """Postfix's smtp-sink on 127.0.0.1, counting messages (-c)."""

    def __init__(self, port, log_path):
        self.port = port
        self.count = 0
        self.log_path = log_path
        self._cond = threading.Condition()
        # stderr to a file: a pipe nobody reads could fill up and stall it
        with open(log_path, "ab") as err:
            self.proc = subprocess.Popen(
                [SMTP_SINK, "-u", "postfix", "-c", "127.0.0.1:%d" % port, "1000"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        # "sess=N quit=N mesg=N\r" after every session, QUIT and message
        buf = b""
        rx = re.compile(rb"mesg=(\d+)")
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            records = (buf + chunk).split(b"\r")
            buf = records.pop()[-256:]          # incomplete record
            found = [int(x) for r in records for x in rx.findall(r)]
            if found:
                with self._cond:
                    self.count = max(self.count, max(found))
                    self._cond.notify_all()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-2000:]
        except OSError:
            return ""

    def wait_count(self, n, deadline):
        with self._cond:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ---------------------------------------------------------------- config

def q(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def group_name(g):
    return "team-%03d" % g


def pipeline_name(g, p):
    return "g%03d-service-%04d" % (g, p)


def gocd_groups(npipelines, ngroups):
    per = (npipelines + ngroups - 1) // ngroups
    groups = {}
    for i in range(npipelines):
        groups.setdefault(group_name(i // per), []).append(pipeline_name(i // per, i % per))
    return groups, per


def rules_text(nrules, ngroups, per):
    """A config shaped like a real one: per pipeline group, the team hears
    about its failures (pipelines.in_group, 3 rules in 5); release
    pipelines go to release managers (name_like_in_group, 1 in 5); a word
    in the subject (mail.in_subject, 1 in 5); and a last catch-all: every
    failure to the CI list.  The benchmark's mail (a failure of a pipeline
    in team-007) matches two rules: two recipients replace the trigger.
    (bench_rules.c times a harsher mix of 1,000 rules.)"""
    out = []
    for i in range(nrules):
        g = i % ngroups
        kind = i % 5
        if kind < 3:
            filt = ('events = ["FAILS", "BREAKS", "FIXED"]; function = "pipelines.in_group"; '
                    'args = [%s];' % q(group_name(g)))
            action = "mailto:%s@example.com" % group_name(g)
        elif kind == 3:
            filt = ('events = ["BREAKS", "FAILS"]; function = "pipelines.name_like_in_group"; '
                    'args = [%s, %s];' % (q("^(g%03d-service-[0-9]+)-release$" % g),
                                          q(group_name(g))))
            action = "mailto:release-%03d@example.com" % g
        else:
            filt = ('events = ["BREAKS"]; function = "mail.in_subject"; args = [%s, "deploy"];'
                    % q("service-%04d" % (i % per)))
            action = "mailto:deploy-%03d@example.com" % g
        out.append("{ name = %s; filter = { %s }; actions = [%s]; }"
                   % (q("rule %d" % i), filt, q(action)))
    out.append('{ name = "catch-all"; filter = { events = ["FAILS", "BREAKS"]; '
               'function = "pipelines.any"; }; actions = ["mailto:ci-failures@example.com"]; }')
    return ",\n      ".join(out)


def mail2alert_config(socket_spec, gocd_url, rules, extra=""):
    if socket_spec.startswith("unix:"):
        # Postfix's smtpd runs as postfix: socket-mode stays 0660, group postfix
        extra += 'socket-group = "postfix";\n'
    return """socket = %s;
allow-root = true;          # the benchmark runs as root
%sunresolved = "accept";
managers = (
  {
    name = "gocd";
    url = %s;
    api = "admin";
    poll-interval = 600;    # one poll at start-up; none during the runs
    messages-we-want = { to = %s; };
    rules = (
      %s
    );
  }
);
""" % (q(socket_spec), extra, q(gocd_url), q(TRIGGER), rules)


# ---------------------------------------------------------------- milters

class Milter:
    """A milter process the variants point Postfix at."""

    def __init__(self, name, argv_or_config, spec, kind, basedir):
        self.name = name
        self.kind = kind            # "minimal" | "mail2alert"
        self.spec = spec            # libmilter spec
        self.basedir = basedir
        self.argv_or_config = argv_or_config
        self.proc = None            # MilterProcess or Popen
        self.binary = None          # mail2alert: another build than --mail2alert
        self.log_path = os.path.join(basedir, "%s.log" % name)

    @property
    def postfix_spec(self):
        if self.spec.startswith("unix:"):
            return self.spec
        port, _, host = self.spec[len("inet:"):].partition("@")
        return "inet:%s:%s" % (host, port)

    @property
    def pid(self):
        if self.kind == "mail2alert":
            return self.proc.pid
        return self.proc.pid if self.proc else None

    def start(self, mail2alert_bin=None):
        if self.kind == "mail2alert":
            self.proc = MilterProcess(self.binary or mail2alert_bin, self.argv_or_config, self.basedir,
                                      socket_spec=self.spec, name=self.name)
            self.proc.start(timeout=20)
            return
        if self.spec.startswith("unix:") and os.path.exists(self.spec[5:]):
            os.unlink(self.spec[5:])
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv_or_config, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=logf, start_new_session=True)
        finally:
            logf.close()
        deadline = time.monotonic() + 10
        while not self._listening():
            if self.proc.poll() is not None:
                raise BenchError("%s exited (%s): %s" % (self.name, self.proc.returncode,
                                                        self.log()[-2000:]))
            if time.monotonic() > deadline:
                raise BenchError("%s not listening on %s" % (self.name, self.spec))
            time.sleep(0.02)

    def _listening(self):
        if self.spec.startswith("unix:"):
            path = self.spec[5:]
            try:
                with open("/proc/net/unix") as f:
                    return any(l.split()[-1] == path for l in f.readlines()[1:]
                               if len(l.split()) >= 8)
            except OSError:
                return False
        port = int(self.spec[len("inet:"):].partition("@")[0])
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[3] == "0A" and int(p[1].rsplit(":", 1)[1], 16) == port:
                    return True
        return False

    def alive(self):
        if self.proc is None:
            return False
        if self.kind == "mail2alert":
            return self.proc.alive()
        return self.proc.poll() is None

    def log(self):
        if self.kind == "mail2alert":
            return self.proc.log()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _popen(self):
        if self.proc is None:
            return None
        return self.proc.proc if self.kind == "mail2alert" else self.proc

    def terminate(self):
        p = self._popen()
        if p is not None and p.poll() is None:
            p.terminate()

    def wait(self, deadline):
        p = self._popen()
        if p is None:
            return
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


# ---------------------------------------------------------------- variants

# name, milter (None: Postfix alone), description
BASE_VARIANTS = [
    ("postfix", None, "Postfix alone"),
    ("minimal-tcp", "min-tcp", "minimal milter, rewrite, TCP"),
    ("mail2alert-tcp", "m2a-tcp", "mail2alert routing, TCP"),
    ("minimal-unix", "min-unix", "minimal milter, rewrite, unix"),
    ("mail2alert-unix", "m2a-unix", "mail2alert routing, unix"),
]
# --milter-maps: non-GoCD mail, the milter for every client or by the map
MAPS_VARIANTS = [
    ("postfix", None, "Postfix alone"),
    ("mail2alert-all", "m2a-tcp", "mail2alert in smtpd_milters, every client, TCP"),
    ("mail2alert-maps", "m2a-tcp", "mail2alert via smtpd_milter_maps, GoCD's address only"),
]
BY_MAP = {"mail2alert-maps"}

EXTRA_VARIANTS = [
    ("min-tcp+nodelay", "min-tcp-nd", "minimal, rewrite, TCP, +TCP_NODELAY"),
    ("min-tcp+nodelay+data", "min-tcp-nd-data",
     "minimal, +TCP_NODELAY +DATA callback (answered, as mail2alert's)"),
    ("min-tcp+nodelay+noreply", "min-tcp-nr",
     "minimal, +TCP_NODELAY, no-reply for connect/MAIL/RCPT/headers"),
    ("min-tcp+nd+data+noreply", "min-tcp-nr-data",
     "minimal, +TCP_NODELAY, no-reply flags, DATA answered"),
    ("min-unix+data+noreply", "min-unix-nr-data",
     "minimal, unix, no-reply flags, DATA answered"),
]

# --compare OTHER_BINARY: the same routing with another build, interleaved
# in the same rounds, so a change is measured side by side with its parent.
COMPARE_VARIANTS = [
    ("compare-tcp", "cmp-tcp", "mail2alert routing, TCP, --compare build"),
    ("compare-unix", "cmp-unix", "mail2alert routing, unix, --compare build"),
]

# --shared-state: the same routing with stage states in a loopback
# redis-server (issue 16: within 0.05 of the ratio without it)
SHARED_VARIANTS = [
    ("shared-tcp", "shr-tcp", "mail2alert routing, TCP, shared-state on redis"),
    ("shared-unix", "shr-unix", "mail2alert routing, unix, shared-state on redis"),
]
TARGET_SHARED_DROP = 0.05


# ---------------------------------------------------------------- maillog

def percentile(values, pct):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(pct / 100.0 * (len(v) - 1))))]


QID_RX = re.compile(r"postfix/[\w-]+\[\d+\]: ([0-9A-Za-z]{8,}): (.*)$")


def parse_segment(text):
    """Facts from a maillog segment: delivered messages, where they went,
    delays 'a' per message, milter trouble."""
    delays_a = {}
    to_counts = {}
    sent = 0
    other_status = 0
    milter_warnings = []
    for line in text.splitlines():
        if "milter" in line and ("warning" in line or "milter-" in line):
            if len(milter_warnings) < 5:
                milter_warnings.append(line.strip())
            else:
                milter_warnings.append(None)
        m = QID_RX.search(line)
        if not m:
            continue
        qid, rest = m.groups()
        if "status=" not in rest:
            continue
        st = re.search(r"status=(\w+)", rest).group(1)
        if st != "sent":
            other_status += 1
            continue
        sent += 1
        to = re.search(r"to=<([^>]*)>", rest)
        if to:
            to_counts[to.group(1)] = to_counts.get(to.group(1), 0) + 1
        d = re.search(r"delays=([\d.]+)/", rest)
        if d and qid not in delays_a:
            delays_a[qid] = float(d.group(1))
    return {"sent_lines": sent, "messages": len(delays_a), "to": to_counts,
            "delays_a": list(delays_a.values()), "other_status": other_status,
            "milter_warnings": [w for w in milter_warnings if w],
            "milter_warning_count": len(milter_warnings)}


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.basedir = None
        self.postfix = None
        self.sink = None
        self.gocd = None
        self.milters = {}
        self.redis = None
        self.current_spec = "unset"
        self.results = []           # one dict per measured run
        self.notes = []
        self.idle_rss = {}
        self.mail_bytes = 0
        self.load_before = open("/proc/loadavg").read().split()[:3]

    # ------------------------------------------------------------ set-up
    def setup(self):
        a = self.args
        if os.geteuid() != 0:
            raise BenchError("needs root (a private Postfix instance)")
        for exe in (SMTP_SOURCE, SMTP_SINK, a.mail2alert, a.minimal_milter):
            if not os.access(exe, os.X_OK):
                raise BenchError("not executable: %s (run `make bench-build`?)" % exe)
        self.basedir = tempfile.mkdtemp(prefix="m2a-bench-")
        os.chmod(self.basedir, 0o755)
        sockdir = os.path.join(self.basedir, "sock")
        os.makedirs(sockdir)
        os.chmod(sockdir, 0o755)
        log("lab in %s" % self.basedir)

        # GoCD stand-in with N pipelines
        groups, per = gocd_groups(a.pipelines, a.groups)
        self.per_group = per
        self.gocd = GocdStandIn().start()
        self.gocd.set_groups(groups)

        # the sink
        self.sink = Sink(free_port(), os.path.join(self.basedir, "smtp-sink.log"))
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.sink.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or self.sink.proc.poll() is not None:
                    raise BenchError("smtp-sink did not start: %s" % self.sink.log())
                time.sleep(0.05)
        # the probe connection counts as a session, not a message

        # milters
        rules = rules_text(a.rules, a.groups, per)
        mm = a.minimal_milter

        def minimal(name, spec, *opts):
            self.milters[name] = Milter(name, [mm, "rewrite", spec] + list(opts), spec,
                                        "minimal", self.basedir)

        def m2a(name, spec, extra=""):
            path = os.path.join(self.basedir, "%s.conf" % name)
            with open(path, "w") as f:
                f.write(mail2alert_config(spec, self.gocd.url, rules, extra))
            self.milters[name] = Milter(name, path, spec, "mail2alert", self.basedir)

        tcp = lambda: "inet:%d@127.0.0.1" % free_port()
        unix = lambda n: "unix:%s/%s.sock" % (sockdir, n)
        wanted = {v[1] for v in self.variants() if v[1]}
        if "min-tcp" in wanted:
            minimal("min-tcp", tcp())
        if "min-unix" in wanted:
            minimal("min-unix", unix("min"))
        if "min-tcp-nd" in wanted:
            minimal("min-tcp-nd", tcp(), "nodelay")
        if "min-tcp-nd-data" in wanted:
            minimal("min-tcp-nd-data", tcp(), "nodelay", "data")
        if "min-tcp-nr" in wanted:
            minimal("min-tcp-nr", tcp(), "nodelay", "noreply")
        if "min-tcp-nr-data" in wanted:
            minimal("min-tcp-nr-data", tcp(), "nodelay", "data", "noreply")
        if "min-unix-nr-data" in wanted:
            minimal("min-unix-nr-data", unix("min-nr-data"), "data", "noreply")
        if "m2a-tcp" in wanted:
            m2a("m2a-tcp", tcp())
        if "m2a-unix" in wanted:
            m2a("m2a-unix", unix("m2a"))
        if "cmp-tcp" in wanted:
            m2a("cmp-tcp", tcp())
            self.milters["cmp-tcp"].binary = a.compare
        if "cmp-unix" in wanted:
            m2a("cmp-unix", unix("cmp"))
            self.milters["cmp-unix"].binary = a.compare
        if wanted & {"shr-tcp", "shr-unix"}:
            url = self.start_redis()
            for name, spec in (("shr-tcp", tcp()), ("shr-unix", unix("shr"))):
                if name in wanted:
                    m2a(name, spec, 'shared-state = "%s";\nshared-state-node = "%s";\n'
                        % (url, name))
        for m in self.milters.values():
            m.start(a.mail2alert)
        n_m2a = sum(1 for m in self.milters.values() if m.kind == "mail2alert")
        if n_m2a:
            try:
                self.gocd.wait_for_requests("admin", n_m2a, timeout=30, answered=True)
            except TimeoutError as e:
                raise BenchError("mail2alert did not poll the GoCD stand-in: %s" % e)
            for m in self.milters.values():
                if m.kind == "mail2alert":
                    self.idle_rss[m.name] = self.settled_rss(m.pid)

        # Postfix
        self.postfix = PostfixInstance(os.path.join(self.basedir, "postfix"),
                                       free_port(), self.sink.port)
        self.postfix.configure()
        self.postfix.start()
        self.current_spec = None

        # the message: a GoCD stage mail naming a pipeline GoCD knows; with
        # --milter-maps an ordinary one of about the same size
        pipeline = pipeline_name(7 % a.groups, 42 % per)
        self.gocd_data = stage_mail(pipeline, "build", "failed", counter=12, to=TRIGGER,
                                    sender=GOCD_SENDER)
        data = self.gocd_data
        self.envelope = (GOCD_SENDER, TRIGGER)
        if a.milter_maps:
            data = plain_mail(subject="Minutes of Tuesday's meeting", to=OTHER_RCPT,
                              sender=OTHER_SENDER,
                              body="Some text of an ordinary message.\n"
                              * (len(self.gocd_data) // 35))
            self.envelope = (OTHER_SENDER, OTHER_RCPT)
            self.map_path = os.path.join(self.basedir, "postfix", "etc", "mail2alert_milters")
        # smtp-source -F appends CRLF to every line: give it LF lines
        self.mailfile = os.path.join(self.basedir, "gocd-stage-mail.txt")
        with open(self.mailfile, "wb") as f:
            f.write(data.replace(b"\r\n", b"\n"))
        self.mail_bytes = len(data)
        self.pipeline = pipeline

    def start_redis(self):
        """A redis-server on loopback, as a site would run one: no persistence."""
        port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", os.path.join(self.basedir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return "redis://127.0.0.1:%d/0" % port
            except OSError:
                pass
            if time.monotonic() > deadline or self.redis.poll() is not None:
                raise BenchError("redis-server did not start on port %d" % port)
            time.sleep(0.05)

    def settled_rss(self, pid, timeout=10.0):
        """VmRSS once it has stopped moving (the poll's index is built)."""
        deadline = time.monotonic() + timeout
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            rss = proc_status_kb(pid, "VmRSS")
            if rss != last:
                last, stable_since = rss, time.monotonic()
            elif time.monotonic() - stable_since > 0.7:
                break
            time.sleep(0.1)
        return {k: proc_status_kb(pid, k) for k in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}

    def maillog_size(self):
        try:
            return os.path.getsize(self.postfix.maillog_path)
        except OSError:
            return 0

    def maillog_from(self, offset):
        try:
            with open(self.postfix.maillog_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def variants(self):
        if self.args.milter_maps:
            return list(MAPS_VARIANTS)
        v = list(BASE_VARIANTS)
        if self.args.extra:
            v += EXTRA_VARIANTS
        if self.args.compare:
            v += COMPARE_VARIANTS
        if self.args.shared_state:
            v += SHARED_VARIANTS
        if self.args.variants:
            keep = self.args.variants.split(",")
            every = BASE_VARIANTS + EXTRA_VARIANTS + COMPARE_VARIANTS + SHARED_VARIANTS
            unknown = set(keep) - {x[0] for x in every}
            if unknown:
                raise BenchError("unknown variant(s): %s" % ", ".join(sorted(unknown)))
            v = [x for x in every if x[0] in keep]
            if "postfix" not in keep:
                v.insert(0, BASE_VARIANTS[0])   # ratios need the baseline
        return v

    # ------------------------------------------------------------ one run
    def switch(self, milter_name, by_map=False):
        spec = self.milters[milter_name].postfix_spec if milter_name else None
        if (spec, by_map) == self.current_spec:
            return
        if by_map:
            # the recipe: no milter for SMTP clients by default, the GoCD
            # server's address mapped to it, local submission through it
            with open(self.map_path, "w") as f:
                f.write("# client address -> milters (postconf(5) smtpd_milter_maps)\n"
                        "%s/32 %s\n" % (GOCD_CLIENT, spec))
            self.postfix.postconf("smtpd_milters =", "non_smtpd_milters = %s" % spec,
                                  "smtpd_milter_maps = cidr:%s" % self.map_path)
            self.postfix.reload()
        else:
            self.postfix.postconf("smtpd_milter_maps =")
            self.postfix.set_milter(spec)
        self.current_spec = (spec, by_map)

    def send_from(self, source, data):
        """One message from client address SOURCE; returns its queue id."""
        s = smtplib.SMTP("127.0.0.1", self.postfix.smtpd_port, timeout=30,
                         source_address=(source, 0))
        try:
            s.ehlo()
            s.mail(GOCD_SENDER)
            s.rcpt(TRIGGER)
            code, text = s.data(data)
        finally:
            s.quit()
        m = re.search(rb"queued as (\w+)", text)
        if code != 250 or not m:
            raise BenchError("sending from %s: %d %s" % (source, code, text))
        return m.group(1).decode()

    def check_map_decides(self, milter):
        """GoCD mail from GOCD_CLIENT is routed, from 127.0.0.1 it is not."""
        for source, routed in ((GOCD_CLIENT, True), ("127.0.0.1", False)):
            mark = self.maillog_size()
            base = self.sink.count
            qid = self.send_from(source, self.gocd_data)
            if not self.sink.wait_count(base + 1, time.monotonic() + 20):
                raise BenchError("GoCD mail from %s did not arrive" % source)
            time.sleep(0.2)
            hit = "%s: manager=gocd" % qid in milter.log()
            to = parse_segment(self.maillog_from(mark))["to"]
            if hit != routed or (TRIGGER in to) == routed:
                raise BenchError("GoCD mail from %s (%s) %s routed, expected %s; to=%r"
                                 % (source, qid, "was" if hit else "was not",
                                    "routed" if routed else "untouched", to))
        log("map check: GoCD mail from %s routed, from 127.0.0.1 untouched" % GOCD_CLIENT)

    def run_once(self, variant, nmsgs, measured=True):
        name, milter_name, _ = variant
        a = self.args
        self.switch(milter_name, name in BY_MAP)
        milter = self.milters.get(milter_name)
        if milter is not None and not milter.alive():
            raise BenchError("%s died: %s" % (milter.name, milter.log()[-2000:]))
        mark = self.maillog_size()
        mlog_mark = len(milter.log()) if milter else 0
        base = self.sink.count
        cpu0 = proc_cpu_ticks(milter.pid) if milter else None
        sys0 = system_cpu()
        argv = [SMTP_SOURCE, "-s", str(a.sessions), "-m", str(nmsgs), "-M", "bench.example.com",
                "-f", self.envelope[0], "-t", self.envelope[1], "-F", self.mailfile]
        if a.reuse:
            argv.insert(1, "-d")
        argv.append("127.0.0.1:%d" % self.postfix.smtpd_port)
        timeout = max(30.0, nmsgs / 20.0)
        t0 = time.monotonic()
        src = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
        ok = self.sink.wait_count(base + nmsgs, t0 + timeout)
        t1 = time.monotonic()
        sys1 = system_cpu()
        cpu1 = proc_cpu_ticks(milter.pid) if milter else None
        try:
            out, err = src.communicate(timeout=max(1.0, t0 + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(src.pid, signal.SIGKILL)
            out, err = src.communicate(timeout=5)
        got = self.sink.count - base
        if src.returncode != 0:
            ok = False
            self.notes.append("%s: smtp-source exited %s: %s" % (
                name, src.returncode, err.decode(errors="replace").strip()[-300:]))
        # let the last log lines land before reading them
        time.sleep(0.2)
        seg = parse_segment(self.maillog_from(mark))
        res = {
            "variant": name, "messages": nmsgs, "received": got, "ok": ok and got >= nmsgs,
            "seconds": t1 - t0, "msgs_per_s": got / (t1 - t0) if t1 > t0 else 0.0,
            "cpu_ticks": (cpu1 - cpu0) if milter else None,
            "rss_kb": proc_status_kb(milter.pid, "VmRSS") if milter else None,
            "threads": proc_threads(milter.pid) if milter else None,
            "delay_a_median": statistics.median(seg["delays_a"]) if seg["delays_a"] else None,
            "delay_a_mean": statistics.mean(seg["delays_a"]) if seg["delays_a"] else None,
            "delay_a_p95": percentile(seg["delays_a"], 95),
            "delay_a_max": max(seg["delays_a"]) if seg["delays_a"] else None,
            "sys_busy": (sys1[0] - sys0[0]) / max(1, sys1[1] - sys0[1]),
            "to": seg["to"], "milter_warnings": seg["milter_warnings"],
            "milter_warning_count": seg["milter_warning_count"],
        }
        if milter is not None and milter.kind == "mail2alert":
            mlog = milter.log()[mlog_mark:]
            res["routed"] = mlog.count("status=routed")
            res["unresolved"] = mlog.count("status=unresolved")
        if not res["ok"]:
            self.notes.append("%s: %d of %d messages reached the sink within %.0fs"
                              % (name, got, nmsgs, timeout))
            # do not let stragglers leak into the next run
            self.sink.wait_count(base + nmsgs, time.monotonic() + 10)
        if measured:
            self.results.append(res)
        return res

    def check_routing(self, variant, res):
        """Warm-up result: did the milter really do its job?"""
        name, milter_name, _ = variant
        if not res["ok"]:
            raise BenchError("warm-up of %s failed: %s" % (name, "; ".join(self.notes[-2:])))
        if milter_name is None:
            return True
        if self.args.milter_maps:
            # ordinary mail passes untouched, milter or not
            return set(res["to"]) == {OTHER_RCPT} and not res.get("routed")
        untouched = res["to"].get(TRIGGER, 0)
        if untouched:
            return False
        if "routed" in res and (res["unresolved"] or res["routed"] < res["messages"]):
            return False
        return True

    # ------------------------------------------------------------ rounds
    def run(self):
        a = self.args
        variants = self.variants()
        log("warm-up: %d messages per variant" % a.warmup)
        for v in variants:
            for attempt in range(5):
                res = self.run_once(v, a.warmup, measured=False)
                if self.check_routing(v, res):
                    break
                log("%s: warm-up not routed yet (to=%r unresolved=%s); again"
                    % (v[0], res["to"], res.get("unresolved")))
                time.sleep(1)
            else:
                raise BenchError("%s does not route the test mail: %r" % (v[0], res["to"]))
            if v[0] in BY_MAP:
                self.check_map_decides(self.milters[v[1]])
        self.notes.clear()
        for r in range(a.rounds):
            # rotate the order so no variant always runs first after a reload
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for v in order:
                res = self.run_once(v, a.messages)
                log("round %d/%d %-26s %7.1f msgs/s  %5.2fs  busy %3.0f%%%s"
                    % (r + 1, a.rounds, v[0], res["msgs_per_s"], res["seconds"],
                       100 * res["sys_busy"], "" if res["ok"] else "  INCOMPLETE"))

    # ------------------------------------------------------------ report
    def summary(self):
        by = {}
        for res in self.results:
            by.setdefault(res["variant"], []).append(res)
        base = by.get("postfix")
        base_med = statistics.median([r["msgs_per_s"] for r in base]) if base else None
        base_rates = [r["msgs_per_s"] for r in base] if base else []
        rows = []
        for name, milter_name, desc in self.variants():
            runs = by.get(name, [])
            if not runs:
                continue
            rates = [r["msgs_per_s"] for r in runs]
            med = statistics.median(rates)
            row = {"variant": name, "desc": desc, "rounds": len(runs), "median": med,
                   "min": min(rates), "max": max(rates),
                   "ratio": med / base_med if base_med else None,
                   # each round's ratio to Postfix alone in the same round: on a
                   # shared machine load drifts between rounds more than within one
                   "round_ratio": statistics.median(
                       [v / b for v, b in zip(rates, base_rates) if b]) if base_rates else None,
                   "complete": all(r["ok"] for r in runs),
                   "delay_a_ms": statistics.median([r["delay_a_median"] for r in runs
                                                    if r["delay_a_median"] is not None]) * 1000
                   if any(r["delay_a_median"] is not None for r in runs) else None,
                   "delay_a_mean_ms": statistics.mean([r["delay_a_mean"] for r in runs
                                                       if r["delay_a_mean"] is not None]) * 1000
                   if any(r["delay_a_mean"] is not None for r in runs) else None,
                   "delay_a_p95_ms": max(r["delay_a_p95"] for r in runs
                                         if r["delay_a_p95"] is not None) * 1000
                   if any(r["delay_a_p95"] is not None for r in runs) else None,
                   "per_round": rates,
                   "busy": statistics.median([r["sys_busy"] for r in runs]),
                   "cpu_us": None, "rss_kb": None, "milter_warnings": sum(
                       r["milter_warning_count"] for r in runs)}
            if milter_name:
                ticks = sum(r["cpu_ticks"] for r in runs)
                msgs = sum(r["received"] for r in runs)
                row["cpu_us"] = ticks / CLK_TCK / max(1, msgs) * 1e6
                row["cpu_resolution_us"] = 1e6 / CLK_TCK / max(1, msgs) * len(runs)
                row["rss_kb"] = max(r["rss_kb"] or 0 for r in runs)
            rows.append(row)
        return rows

    def print_table(self, rows):
        a = self.args
        print()
        print("mail2alert milter benchmark: %d round(s) x %d messages, %d sessions, "
              "%s, %d-byte %s, %d pipelines / %d rules"
              % (a.rounds, a.messages, a.sessions,
                 "connections reused (-d)" if a.reuse else "one connection per message",
                 self.mail_bytes, "ordinary (non-GoCD) mail from 127.0.0.1" if a.milter_maps
                 else "GoCD stage mail", a.pipelines, a.rules + 1))
        m = machine()
        print("machine: %d CPUs, %s, kernel %s, load average before: %s"
              % (m["nproc"], m["cpu"], m["kernel"], " ".join(self.load_before)))
        print()
        hdr = ("variant", "msgs/s", "min-max", "ratio", "cpu us/msg", "RSS kB",
               "delay a ms", "busy")
        fmt = "%-24s %8s %15s %6s %11s %8s %16s %5s"
        print(fmt % hdr)
        print(fmt % tuple("-" * len(h) for h in hdr))
        for r in rows:
            print(fmt % (
                r["variant"], "%.1f" % r["median"], "%.1f-%.1f" % (r["min"], r["max"]),
                "%.2f" % r["ratio"] if r["ratio"] is not None else "-",
                "%.1f" % r["cpu_us"] if r["cpu_us"] is not None else "-",
                "%d" % r["rss_kb"] if r["rss_kb"] else "-",
                "%.0f/%.0f/%.0f" % (r["delay_a_ms"], r["delay_a_mean_ms"], r["delay_a_p95_ms"])
                if r["delay_a_ms"] is not None else "-",
                "%.0f%%" % (100 * r["busy"])) + ("" if r["complete"] else "  INCOMPLETE"))
        if a.rounds > 1:
            print()
            print("per round (msgs/s, in the order run; ratio to Postfix alone in the same round):")
            base = next((r["per_round"] for r in rows if r["variant"] == "postfix"), None)
            for r in rows:
                cells = []
                for i, v in enumerate(r["per_round"]):
                    ratio = (" (%.2f)" % (v / base[i])) if base and i < len(base) and base[i] else ""
                    cells.append("%.1f%s" % (v, ratio))
                print("  %-24s %s" % (r["variant"], "  ".join(cells)))
        print()
        print("msgs/s: median of rounds; ratio: median / Postfix-alone median; cpu: "
              "utime+stime of the milter process / messages (all rounds, %d Hz ticks);"
              % CLK_TCK)
        print("RSS: milter VmRSS after its runs; delay a: Postfix delays= first field "
              "(before qmgr: smtpd+milter+cleanup),")
        print("median/mean/p95 over messages (p95: worst round; Postfix logs it in 10 ms "
              "steps); busy: all CPUs, whole machine.")
        for name, rss in sorted(self.idle_rss.items()):
            print("idle %s with %d pipelines loaded: VmRSS %s kB (anon %s, file %s)"
                  % (name, self.args.pipelines, rss["VmRSS"], rss["RssAnon"], rss["RssFile"]))
        # targets
        print()
        print("targets:" + ("" if a.rounds >= 3 else
                            "  (%d round(s): a smoke test, the ratios mean nothing)" % a.rounds))
        by = {r["variant"]: r for r in rows}
        if "mail2alert-maps" in by and by["mail2alert-maps"]["ratio"] is not None:
            r = by["mail2alert-maps"]
            print("  %-44s %5.2f  (>= %.2f)  %s" % (
                "non-GoCD mail, milter by map / Postfix alone", r["ratio"], TARGET_MAPS_RATIO,
                "met" if r["ratio"] >= TARGET_MAPS_RATIO else "NOT met"))
            print("  %-44s %5.2f  (>= %.2f)  %s" % (
                "  the same, median of per-round ratios", r["round_ratio"], TARGET_MAPS_RATIO,
                "met" if r["round_ratio"] >= TARGET_MAPS_RATIO else "NOT met"))
        for v in ("mail2alert-tcp", "mail2alert-unix"):
            if v in by and by[v]["ratio"] is not None:
                r = by[v]
                print("  %-44s %5.2f  (>= %.2f)  %s" % (
                    "%s throughput / Postfix alone" % v, r["ratio"], TARGET_RATIO,
                    "met" if r["ratio"] >= TARGET_RATIO else "NOT met"))
        for v in ("mail2alert-tcp", "mail2alert-unix"):
            if v in by and by[v]["cpu_us"] is not None:
                r = by[v]
                print("  %-44s %5.1f  (<= %.0f us, +-%.1f)  %s" % (
                    "%s CPU us per routed message" % v, r["cpu_us"], TARGET_CPU_US,
                    r["cpu_resolution_us"], "met" if r["cpu_us"] <= TARGET_CPU_US else "NOT met"))
        for name, rss in sorted(self.idle_rss.items()):
            print("  %-44s %5d  (<= %d kB)  %s" % (
                "%s idle RSS kB, %d pipelines" % (name, self.args.pipelines), rss["VmRSS"],
                TARGET_RSS_KB, "met" if rss["VmRSS"] <= TARGET_RSS_KB else "NOT met"))
        for plain, shared in (("mail2alert-tcp", "shared-tcp"), ("mail2alert-unix", "shared-unix")):
            if plain in by and shared in by and by[plain]["round_ratio"] is not None:
                drop = by[plain]["round_ratio"] - by[shared]["round_ratio"]
                print("  %-44s %5.2f  (<= %.2f)  %s" % (
                    "%s ratio lost to shared-state (per round)" % shared, drop,
                    TARGET_SHARED_DROP, "met" if drop <= TARGET_SHARED_DROP else "NOT met"))
        warn = [(r["variant"], r["milter_warnings"]) for r in rows if r["milter_warnings"]]
        for v, n in warn:
            print("  warning: %s: %d milter warning line(s) in the maillog" % (v, n))
        for n in self.notes:
            print("  note: " + n)
        sys.stdout.flush()

    # ------------------------------------------------------------ teardown
    def teardown(self):
        """Stop everything started; safe to call more than once."""
        milters, self.milters = list(self.milters.values()), {}
        for m in milters:               # all at once: libmilter takes seconds
            m.terminate()
        deadline = time.monotonic() + 12
        for m in milters:
            m.wait(deadline)
        if self.postfix is not None:
            try:
                self.postfix.stop()
            except Exception as e:
                log("stopping postfix: %s" % e)
        if self.sink is not None:
            self.sink.stop()
        if self.gocd is not None:
            try:
                self.gocd.stop()
            except Exception:
                pass
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(10)
            self.redis = None
        self.postfix = self.sink = self.gocd = None
        if self.basedir and not self.args.keep:
            shutil.rmtree(self.basedir, ignore_errors=True)
        elif self.basedir:
            log("kept %s" % self.basedir)
        self.basedir = None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="CI smoke: 1 round of 200 messages per variant (< 60 s)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    p.add_argument("--messages", type=int, help="messages per run (default 2000; quick 200)")
    p.add_argument("--sessions", type=int, default=10, help="parallel SMTP sessions (10)")
    p.add_argument("--warmup", type=int, help="unmeasured messages per variant first")
    p.add_argument("--pipelines", type=int, default=10000,
                   help="pipelines the GoCD stand-in serves (10000)")
    p.add_argument("--groups", type=int, default=100, help="pipeline groups (100)")
    p.add_argument("--rules", type=int, default=100,
                   help="rules in mail2alert's config, plus a catch-all (100)")
    p.add_argument("--extra", action="store_true",
                   help="also minimal-milter variants with TCP_NODELAY, DATA, no-reply flags")
    p.add_argument("--variants", help="comma-separated subset of variants")
    p.add_argument("--compare", metavar="BINARY",
                   help="also run another mail2alert build (compare-tcp, compare-unix)")
    p.add_argument("--shared-state", action="store_true",
                   help="also mail2alert with shared-state on a loopback redis-server "
                        "(shared-tcp, shared-unix)")
    p.add_argument("--milter-maps", action="store_true",
                   help="non-GoCD mail: Postfix alone, mail2alert for all, mail2alert "
                        "only for the GoCD server by smtpd_milter_maps")
    p.add_argument("--reuse", action="store_true",
                   help="smtp-source -d: many messages per SMTP connection")
    p.add_argument("--mail2alert", default=os.path.join(REPO, "mail2alert"))
    p.add_argument("--minimal-milter",
                   default=os.path.join(REPO, "build", "default", "bench", "minimal_milter"))
    p.add_argument("--json", help="write the results as JSON to this file")
    p.add_argument("--keep", action="store_true", help="keep the lab directory")
    p.add_argument("--time-limit", type=float,
                   help="give up after this many seconds (default quick 110, full 1800)")
    a = p.parse_args(argv)
    if a.rounds is None:
        a.rounds = 1 if a.quick else 3
    if a.messages is None:
        a.messages = 200 if a.quick else 2000
    if a.warmup is None:
        a.warmup = 30 if a.quick else 200
    if a.time_limit is None:
        a.time_limit = 110 if a.quick else 1800
    if min(a.rounds, a.messages, a.sessions, a.pipelines, a.groups, a.warmup) < 1 \
            or a.groups > a.pipelines or a.rules < 0:
        p.error("rounds, messages, sessions, pipelines, groups, warmup must be >= 1 "
                "and groups <= pipelines")
    return a


class TimeLimit(Exception):
    pass


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    bench = Bench(args)
    atexit.register(bench.teardown)

    def on_signal(sig, frame):
        raise TimeLimit("signal %d" % sig) if sig == signal.SIGALRM else SystemExit(128 + sig)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(int(args.time_limit))
    started = time.monotonic()
    rc = 0
    try:
        bench.setup()
        log("set-up %.1fs; %d variant(s), %d round(s) of %d messages"
            % (time.monotonic() - started, len(bench.variants()), args.rounds, args.messages))
        bench.run()
    except TimeLimit:
        bench.notes.append("time limit of %.0fs reached; results are partial" % args.time_limit)
        rc = 1
    except BenchError as e:
        log("error: %s" % e)
        rc = 1
    finally:
        signal.alarm(0)
    rows = bench.summary()
    if rows:
        # the table says what was incomplete; printing it is success
        bench.print_table(rows)
        rc = 0
    log("total %.1fs" % (time.monotonic() - started))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "machine": machine(), "rows": rows,
                       "runs": bench.results, "idle_rss": bench.idle_rss,
                       "notes": bench.notes, "load_before": bench.load_before}, f, indent=2)
    bench.teardown()
    return rc


if __name__ == "__main__":
    sys.exit(main())
