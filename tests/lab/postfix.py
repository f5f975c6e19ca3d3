"""A private Postfix instance on loopback (see /work/shared/POSTFIX-LAB.md).

Everything lives under one directory:

    BASEDIR/etc/      main.cf (built from empty with `postconf -c`), master.cf
    BASEDIR/spool/    queue_directory (pid/master.pid lives here)
    BASEDIR/data/     data_directory (postfix:postfix, 0700)
    BASEDIR/maillog   maillog_file (postlogd), where milter errors show up

The machine's own /etc/postfix is never written: every command gets
`-c BASEDIR/etc`.  Must run as root (Postfix's master needs it).
"""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SENDMAIL = "/usr/sbin/sendmail"
MASTER_CF_SOURCES = ("/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf")
MASTER_EXE = "/usr/lib/postfix/sbin/master"

# Debian's pipe(8) examples and other services a relay-only lab does not need.
UNUSED_SERVICES = ("maildrop/unix", "uucp/unix", "ifmail/unix", "bsmtp/unix",
                   "scalemail-backend/unix", "mailman/unix", "local/unix",
                   "virtual/unix", "lmtp/unix")


class PostfixError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# ports

_handed_out = set()


def free_port(host="127.0.0.1"):
    """A TCP port on HOST that is free right now (and not handed out before
    by this process)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise PostfixError("no free port found")


def wait_port(port, host="127.0.0.1", timeout=10.0):
    """Wait until something accepts TCP connections on HOST:PORT."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise PostfixError("nothing listening on %s:%d after %.1fs"
                                   % (host, port, timeout))
            time.sleep(0.05)


# --------------------------------------------------------------------------
# process helpers

def _pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


_subreaper = False


def become_subreaper():
    """prctl(PR_SET_CHILD_SUBREAPER): Postfix's master exits without
    reaping its children, and postfix-script leaves master orphaned.  As a
    subreaper this process inherits those orphans and reaps them at once in
    stop(), instead of leaving zombies until PID 1 gets round to it (which
    takes seconds in some containers)."""
    global _subreaper
    if _subreaper:
        return True
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(36, 1, 0, 0, 0) == 0
    except Exception:
        _subreaper = False
    return _subreaper


def _reap(pids):
    for p in pids:
        try:
            os.waitpid(p, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass


# Programs a Postfix instance runs; only exited orphans with these names are
# reaped by us (never a subprocess.Popen child of the tests).
POSTFIX_COMMS = {"master", "postfix", "postfix-script", "postsuper", "postlogd",
                 "postlog", "pickup", "qmgr", "smtpd", "smtp", "cleanup",
                 "trivial-rewrite", "bounce", "anvil", "scache", "showq", "flush",
                 "proxymap", "verify", "tlsmgr", "error", "discard", "postdrop",
                 "postqueue", "sendmail", "sh", "find", "sed", "test", "ls", "chown",
                 "chgrp", "chmod", "mkdir", "awk", "egrep", "grep", "xargs"}


def reap_postfix_orphans():
    """Reap exited children of this process that are Postfix helpers
    inherited as subreaper (e.g. the postsuper postfix-script leaves in the
    background)."""
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1:raw.rfind(")")]
        fields = raw.rsplit(")", 1)[1].split()
        if fields[0] == "Z" and int(fields[1]) == me and comm in POSTFIX_COMMS:
            _reap([int(d)])


def _run(argv, check=True, timeout=60, input=None, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, input=input, env=env)
    if check and p.returncode != 0:
        raise PostfixError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(argv), p.returncode,
            p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
    return p


class PostfixInstance:
    """A private Postfix that accepts mail on 127.0.0.1:smtpd_port and relays
    everything to [127.0.0.1]:relay_port (the sink).

    milter: Postfix milter spec for smtpd_milters/non_smtpd_milters, e.g.
    "inet:127.0.0.1:8895" or "unix:/path/sock" (None: no milter).
    main_extra: dict of extra main.cf settings (applied last).
    """

    def __init__(self, basedir, smtpd_port, relay_port, milter=None,
                 hostname="lab.mail2alert.test", main_extra=None):
        if os.geteuid() != 0:
            raise PostfixError("a private Postfix instance needs root")
        self.basedir = os.path.abspath(str(basedir))
        self.etc = os.path.join(self.basedir, "etc")
        self.spool = os.path.join(self.basedir, "spool")
        self.data = os.path.join(self.basedir, "data")
        self.maillog_path = os.path.join(self.basedir, "maillog")
        self.smtpd_port = int(smtpd_port)
        self.relay_port = int(relay_port)
        self.milter = milter
        self.hostname = hostname
        self.main_extra = dict(main_extra or {})
        self._configured = False
        self._master_seen = None

    # ------------------------------------------------------------------ paths
    @property
    def pidfile(self):
        return os.path.join(self.spool, "pid", "master.pid")

    def master_pid(self):
        """PID of this instance's master if it is running, else None."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None
        if not _pid_alive(pid):
            return None
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            exe = ""
        if exe and os.path.basename(exe.split(" ")[0]) != "master":
            return None     # pid reused by something else
        return pid

    def running(self):
        return self.master_pid() is not None

    def processes(self, zombies=False):
        """PIDs of every process belonging to this instance (master and its
        children): MAIL_CONFIG=ETC in the environment, or master's process
        group.  zombies=True also lists exited-but-unreaped ones."""
        key = ("MAIL_CONFIG=" + self.etc).encode()
        pgids = {p for p in (self._master_seen, self.master_pid()) if p}
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            pid = int(d)
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            state, pgrp = fields[0], int(fields[2])
            if state == "Z" and not zombies:
                continue
            if pgrp in pgids or key in _environ(pid):
                pids.append(pid)
        return pids

    # -------------------------------------------------------------- commands
    def postconf(self, *settings):
        """postconf -c ETC -e 'name = value' ..."""
        if settings:
            _run([POSTCONF, "-c", self.etc, "-e"] + list(settings))
            self._backdate()

    def _backdate(self):
        """Postfix's config reader waits (up to a second, retrying) while a
        file's mtime equals the current second ("file is being edited").
        Date main.cf/master.cf two seconds back so every following postconf,
        postfix check/start/reload runs at once."""
        t = time.time() - 2
        for f in ("main.cf", "master.cf"):
            p = os.path.join(self.etc, f)
            if os.path.exists(p):
                os.utime(p, (t, t))

    def postconf_get(self, name):
        p = _run([POSTCONF, "-c", self.etc, "-h", name])
        return p.stdout.decode().strip()

    def _postfix(self, *args, check=True, timeout=60):
        return _run([POSTFIX, "-c", self.etc] + list(args), check=check,
                    timeout=timeout)

    # ---------------------------------------------------------- configuration
    def configure(self, fresh=True):
        """Write etc/main.cf and etc/master.cf.  Stops a stale instance in
        the same directory first.  fresh=True empties the queue and data."""
        self._stop_stale()
        os.makedirs(self.basedir, exist_ok=True)
        self._check_ancestors()
        # The postfix user must reach the maillog and unix milter sockets.
        os.chmod(self.basedir, 0o755)
        if fresh:
            for d in (self.spool, self.data):
                shutil.rmtree(d, ignore_errors=True)
            try:
                os.unlink(self.maillog_path)
            except FileNotFoundError:
                pass
        for d in (self.etc, self.spool, self.data):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.etc, 0o755)
        os.chmod(self.spool, 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        os.chmod(self.data, 0o700)

        with open(os.path.join(self.etc, "main.cf"), "w"):
            pass
        for src in MASTER_CF_SOURCES:
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(self.etc, "master.cf"))
                break
        else:
            raise PostfixError("no master.cf to copy (is postfix installed?)")
        self._backdate()

        self.postconf(*["%s = %s" % kv for kv in self._main_settings()])

        # master.cf: no chroot, no port 25, one smtpd on loopback.
        _run([POSTCONF, "-c", self.etc, "-F", "*/*/chroot = n"])
        self._backdate()
        existing = _run([POSTCONF, "-c", self.etc, "-M"]).stdout.decode()
        have = {"/".join(l.split()[:2]) for l in existing.splitlines() if l.strip()}
        drop = [svc for svc in ("smtp/inet",) + UNUSED_SERVICES if svc in have]
        if drop:
            _run([POSTCONF, "-c", self.etc, "-MX"] + drop)
        name = "127.0.0.1:%d" % self.smtpd_port
        _run([POSTCONF, "-c", self.etc, "-M",
              "%s/inet = %s inet n - n - - smtpd" % (name, name)])
        self._backdate()
        self._configured = True

    def _check_ancestors(self):
        """Postfix daemons run as the postfix user and open files under
        BASEDIR (data/master.lock, unix milter sockets): every ancestor
        directory must be searchable by others (mkdtemp and pytest's
        tmp_path are 0700)."""
        d = os.path.dirname(self.basedir)
        while True:
            st = os.stat(d)
            if not st.st_mode & 0o001:
                raise PostfixError(
                    "%s is not searchable by the postfix user (mode %o); put the "
                    "instance under a 0755 directory (e.g. chmod 0755 the mkdtemp dir)"
                    % (d, st.st_mode & 0o7777))
            if d == "/":
                return
            d = os.path.dirname(d)

    def _main_settings(self):
        milter = self.milter or ""
        s = [
            ("compatibility_level", "3.6"),
            ("config_directory", self.etc),
            ("queue_directory", self.spool),
            ("data_directory", self.data),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("myhostname", self.hostname),
            ("mydomain", self.hostname.split(".", 1)[-1]),
            ("myorigin", "$myhostname"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("mynetworks", "127.0.0.0/8"),
            # no local delivery at all
            ("mydestination", ""),
            ("local_recipient_maps", ""),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("local_transport", "error:5.1.1 no local delivery in the lab"),
            ("biff", "no"),
            # everything goes to the sink
            ("relayhost", "[127.0.0.1]:%d" % self.relay_port),
            ("smtp_dns_support_level", "disabled"),
            ("smtp_host_lookup", "native"),
            ("smtp_address_preference", "ipv4"),
            ("smtpd_peername_lookup", "no"),
            ("smtp_tls_security_level", "none"),
            ("smtpd_tls_security_level", "none"),
            ("lmtp_tls_security_level", "none"),
            # logging without syslog
            ("maillog_file", self.maillog_path),
            ("maillog_file_prefixes", self.basedir),
            # relay at once, retry fast
            ("in_flow_delay", "0"),
            ("queue_run_delay", "1s"),
            ("minimal_backoff_time", "1s"),
            ("maximal_backoff_time", "2s"),
            ("smtp_connect_timeout", "5s"),
            ("delay_warning_time", "0h"),
            ("maximal_queue_lifetime", "1h"),
            ("bounce_queue_lifetime", "1h"),
            # do not touch what the tests send; allow big test messages
            ("local_header_rewrite_clients", ""),
            ("message_size_limit", "67108864"),
            ("mailbox_size_limit", "0"),
            ("virtual_mailbox_limit", "0"),
            # no throttling of the test client
            ("smtpd_error_sleep_time", "0"),
            ("smtpd_client_connection_count_limit", "0"),
            ("smtpd_client_connection_rate_limit", "0"),
            # milter
            ("smtpd_milters", milter),
            ("non_smtpd_milters", milter),
            ("milter_default_action", "accept"),
            ("milter_connect_timeout", "2s"),
            ("milter_command_timeout", "5s"),
            ("milter_content_timeout", "15s"),
        ]
        s.extend(self.main_extra.items())
        return s

    # ---------------------------------------------------------- start / stop
    def start(self, timeout=30.0):
        """postfix check + start, then wait for smtpd's 220 greeting."""
        if not self._configured:
            self.configure()
        if self.running():
            self._master_seen = self.master_pid()
            self.wait_greeting(timeout)
            return self
        become_subreaper()
        self._postfix("check")
        self._postfix("start")
        self._master_seen = self.master_pid()
        reap_postfix_orphans()
        try:
            self.wait_greeting(timeout)
        except PostfixError as e:
            raise PostfixError("%s\n--- maillog ---\n%s" % (e, self.maillog()[-4000:]))
        return self

    def wait_greeting(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.smtpd_port), timeout=5) as s:
                    f = s.makefile("rb")
                    line = f.readline()
                    if line.startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        f.readline()
                        return line.decode(errors="replace").strip()
                    last = line
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise PostfixError("no 220 greeting on 127.0.0.1:%d within %.0fs (last: %r)"
                           % (self.smtpd_port, timeout, last))

    def stop(self, timeout=20.0):
        """postfix stop, wait for master (and every child) to go."""
        pid = self.master_pid()
        if pid is not None:
            self._master_seen = pid
            if os.path.exists(os.path.join(self.etc, "main.cf")):
                self._postfix("stop", check=False)
            self._wait_gone([pid], timeout)
            if _pid_alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                self._wait_gone([pid], 5)
        # children exit on master's SIGTERM; make sure nothing is left behind
        left = self.processes()
        if left:
            self._wait_gone(left, 5)
            for p in self.processes():
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            self._wait_gone(left, 5)
        # Master exits without reaping; init reaps the orphans a moment
        # later.  Wait for that so `ps` right after stop() is clean.
        deadline = time.monotonic() + 3
        while True:
            z = self.processes(zombies=True)
            _reap(z)
            if not z or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        reap_postfix_orphans()

    @staticmethod
    def _wait_gone(pids, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(_pid_alive(p) for p in pids):
                return True
            time.sleep(0.02)
        return False

    def _stop_stale(self):
        """A master left behind by a crashed earlier run in this directory."""
        if self.running() or self.processes():
            self.stop()

    def reload(self, timeout=10.0):
        """postfix reload; waits until master has logged the reload and
        the previous smtpd processes are gone (so the next connection gets
        the new settings)."""
        pid = self.master_pid()
        if pid is None:
            raise PostfixError("reload: instance not running")
        old = [p for p in self._children(pid) if self._comm(p) == "smtpd"]
        mark = len(self.maillog())
        self._postfix("reload")
        self.wait_log(r"reload -- version", timeout=timeout, start=mark)
        if not self._wait_gone(old, timeout):
            # idle smtpd processes exit at their convenience; nudge them
            for p in old:
                try:
                    os.kill(p, signal.SIGTERM)
                except OSError:
                    pass
            self._wait_gone(old, 5)
        self.wait_greeting(timeout)

    @staticmethod
    def _children(ppid):
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == ppid:
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
        return out

    @staticmethod
    def _comm(pid):
        try:
            with open("/proc/%d/comm" % pid) as f:
                return f.read().strip()
        except OSError:
            return ""

    def set_milter(self, spec):
        """Point smtpd_milters/non_smtpd_milters at SPEC (None: no milter)
        and reload if running."""
        self.milter = spec
        if self._configured:
            self.postconf("smtpd_milters = %s" % (spec or ""),
                          "non_smtpd_milters = %s" % (spec or ""))
            if self.running():
                self.reload()

    # ------------------------------------------------------------- inspection
    def maillog(self):
        try:
            with open(self.maillog_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Wait until regex PATTERN matches maillog text after offset START;
        returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.maillog(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise PostfixError("maillog: no match for %r within %.1fs; tail:\n%s"
                                   % (pattern, timeout, self.maillog()[-3000:]))
            time.sleep(0.05)

    def queue(self):
        """postqueue -j: one dict per queued message."""
        p = _run([POSTQUEUE, "-c", self.etc, "-j"], check=False)
        if p.returncode != 0:
            raise PostfixError("postqueue -j failed: %s" % p.stderr.decode(errors="replace"))
        return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]

    def flush(self):
        """postqueue -f: attempt delivery of everything queued now."""
        _run([POSTQUEUE, "-c", self.etc, "-f"])

    def wait_queue_empty(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            q = self.queue()
            if not q:
                return
            if time.monotonic() > deadline:
                raise PostfixError("queue not empty after %.0fs: %r" % (timeout, q))
            time.sleep(0.1)

    def sendmail(self, mail_from, rcpts, data, timeout=30):
        """Submit locally with Postfix's sendmail(1) (pickup -> cleanup, so
        non_smtpd_milters apply)."""
        p = _run([SENDMAIL, "-C", self.etc, "-i", "-f", mail_from, "--"] + list(rcpts),
                 input=data, check=False, timeout=timeout)
        return p.returncode, p.stderr.decode(errors="replace")

    # ------------------------------------------------------------------ misc
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "<PostfixInstance %s smtpd=%d relay=%d milter=%s>" % (
            self.basedir, self.smtpd_port, self.relay_port, self.milter)
