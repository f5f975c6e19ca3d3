"""Run the mail2alert binary as a foreground milter for tests.

    m = MilterProcess(binary, "/tmp/x/mail2alert.conf", "/tmp/x").start()
    ...
    m.stop()

Readiness is detected from /proc/net (a listening socket owned by the
process), so no probe connection ever reaches the milter.
"""

import os
import re
import signal
import subprocess
import time


class MilterError(RuntimeError):
    pass


# ------------------------------------------------------------------ sockets

def parse_socket(spec):
    """libmilter socket spec -> ("inet", host, port) or ("unix", path).

    Accepts libmilter forms "inet:PORT@HOST", "inet:PORT", "unix:/path",
    "local:/path", "/path", and Postfix's "inet:HOST:PORT"."""
    spec = spec.strip()
    if spec.startswith("/"):
        return ("unix", spec)
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind in ("unix", "local"):
        return ("unix", rest)
    if kind in ("inet", "inet6"):
        if "@" in rest:
            port, _, host = rest.partition("@")
        elif rest.count(":") == 1:
            host, _, port = rest.partition(":")
        else:
            port, host = rest, "0.0.0.0"
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return ("inet", host or "0.0.0.0", int(port))
    raise MilterError("cannot parse milter socket spec %r" % spec)


def postfix_milter_spec(spec):
    """libmilter spec -> the form Postfix's smtpd_milters wants."""
    p = parse_socket(spec)
    if p[0] == "unix":
        return "unix:" + p[1]
    host = "127.0.0.1" if p[1] in ("0.0.0.0", "") else p[1]
    return "inet:%s:%d" % (host, p[2])


def socket_from_config(text):
    """The value of the top-level `socket = "..."` setting, or None."""
    for line in text.splitlines():
        line = re.sub(r"(#|//).*$", "", line)
        m = re.match(r'\s*socket\s*[=:]\s*"([^"]*)"', line)
        if m:
            return m.group(1)
    return None


def _listening_inodes(sock):
    """Inodes of listening sockets matching the parsed spec."""
    out = set()
    if sock[0] == "inet":
        want_port = sock[2]
        for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(fn) as f:
                    next(f)
                    for line in f:
                        parts = line.split()
                        local, state, inode = parts[1], parts[3], parts[9]
                        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == want_port:
                            out.add(inode)
            except OSError:
                pass
    else:
        try:
            with open("/proc/net/unix") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) >= 8 and parts[7] == sock[1] and int(parts[3], 16) & 0x10000:
                        out.add(parts[6])
        except OSError:
            pass
    return out


def _socket_inodes(pid):
    out = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                out.add(t[8:-1])
    except OSError:
        pass
    return out


# ------------------------------------------------------------------ process

class MilterProcess:
    """BINARY -f -c CONFIG [ARGS...], stdout+stderr to BASEDIR/<name>.log."""

    def __init__(self, binary, config_path, basedir, socket_spec=None, args=(),
                 env=None, name="mail2alert"):
        self.binary = str(binary)
        self.config_path = str(config_path)
        self.basedir = str(basedir)
        if socket_spec is None:
            with open(self.config_path) as f:
                socket_spec = socket_from_config(f.read())
            if socket_spec is None:
                raise MilterError("no socket = \"...\" in %s" % self.config_path)
        self.socket_spec = socket_spec
        self.sock = parse_socket(socket_spec)
        self.args = list(args)
        self.env = env
        self.log_path = os.path.join(self.basedir, "%s.log" % name)
        self.proc = None
        self.signalled = False      # set when a test sent a signal on purpose

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def postfix_spec(self):
        return postfix_milter_spec(self.socket_spec)

    @property
    def argv(self):
        return [self.binary, "-f", "-c", self.config_path] + self.args

    def start(self, timeout=10.0):
        os.makedirs(self.basedir, exist_ok=True)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        if self.sock[0] == "unix" and os.path.exists(self.sock[1]):
            # a stale socket file from an earlier run; the milter may also
            # remove it itself, but do not let it make readiness look true
            try:
                os.unlink(self.sock[1])
            except OSError:
                pass
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=env, start_new_session=True)
        except OSError as e:
            raise MilterError("cannot run %s: %s" % (self.binary, e))
        finally:
            log.close()
        self.wait_ready(timeout)
        return self

    def listening(self):
        """True when a listening socket on our spec belongs to the process."""
        if not self.alive():
            return False
        want = _listening_inodes(self.sock)
        return bool(want & _socket_inodes(self.proc.pid))

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise MilterError("%s exited with %s before listening on %s\n--- log ---\n%s"
                                  % (" ".join(self.argv), self.proc.returncode,
                                     self.socket_spec, self.log()[-4000:]))
            if self.listening():
                return
            if time.monotonic() > deadline:
                other = _listening_inodes(self.sock)
                raise MilterError("%s not listening on %s after %.1fs%s\n--- log ---\n%s"
                                  % (" ".join(self.argv), self.socket_spec, timeout,
                                     " (another process holds it)" if other else "",
                                     self.log()[-4000:]))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def signal(self, sig):
        self.signalled = True
        if self.alive():
            self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL and reap."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)
        return self.returncode

    def stop(self, timeout=10.0):
        """SIGTERM, wait up to TIMEOUT, then SIGKILL.  Returns the exit code
        (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.sock[0] == "inet":
            # wait until the port is really released before a restart
            deadline = time.monotonic() + 5
            while _listening_inodes(self.sock) & _socket_inodes(self.proc.pid) \
                    and time.monotonic() < deadline:
                time.sleep(0.02)
        return self.proc.returncode

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Wait until regex PATTERN matches the log after offset START."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise MilterError("milter log: no match for %r within %.1fs; log tail:\n%s"
                                  % (pattern, timeout, self.log()[-3000:]))
            time.sleep(0.05)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "<MilterProcess %s pid=%s rc=%s>" % (self.socket_spec, self.pid, self.returncode)


def check_config(binary, path, timeout=20, env=None, extra_args=()):
    """BINARY -t -c PATH -> (returncode, stdout, stderr) as text."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([str(binary), "-t", "-c", str(path)] + list(extra_args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=e)
    return (p.returncode, p.stdout.decode("utf-8", errors="replace"),
            p.stderr.decode("utf-8", errors="replace"))
