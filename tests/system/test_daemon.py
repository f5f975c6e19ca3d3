"""The daemon under a service manager (mail2alert(8) SIGNALS, LOGGING, EXIT
STATUS): SIGHUP reloads like SIGUSR1 while SIGTERM still stops; READY=1,
RELOADING=1 and STOPPING=1 reach $NOTIFY_SOCKET; with -f and a matching
$JOURNAL_STREAM each line carries its sd-daemon priority and no time
stamp; without -f lines go to syslog with facility mail, and start-up
errors also reach the terminal.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.lab import free_port
from tests.system.m2a_helpers import deliver, gocd_config, gocd_mail, rule

GROUPS = {"team-a": ["api"]}
LOG_MAIL = 2 << 3               # syslog facility mail, as in <PRI>
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


@pytest.fixture
def groups(gocd):
    gocd.set_groups(GROUPS)
    return gocd


def routed_to(mta, sink, event="broken"):
    _, m = deliver(mta, sink, gocd_mail("api", "build", event))
    return m.rcpts


def bind_datagram(path):
    """A unix datagram socket bound at PATH, as journald and systemd do."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.settimeout(0.2)
    return s


def receive(sock, pred, timeout=15.0, seen=None):
    """Datagrams until one satisfies PRED; returns it.  All go to SEEN."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            d = sock.recv(65536).decode("utf-8", "replace")
        except socket.timeout:
            continue
        if seen is not None:
            seen.append(d)
        if pred(d):
            return d
    raise AssertionError("no matching datagram within %.0fs; got %r" % (timeout, seen))


def connects(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def daemon_config(test_dir, gocd, port, rules=("mailto:a@example.com",), extra=""):
    path = os.path.join(test_dir, "daemon.conf")
    with open(path, "w") as f:
        f.write(gocd_config(*[rule(r) for r in rules])
                .replace("@SOCKET@", "inet:%d@127.0.0.1" % port)
                .replace("@GOCD_URL@", gocd.url) + "\nallow-root = true;\n" + extra)
    return path


def wait_exit(proc, timeout=20):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError("mail2alert did not stop within %ds" % timeout)


# ------------------------------------------------------------------ SIGHUP

def test_sighup_reloads_like_sigusr1_and_sigterm_still_stops(groups, milter, mta, sink):
    m2a = milter(gocd_config(rule("mailto:a@example.com")))
    assert routed_to(mta, sink) == ["a@example.com"]

    path = milter.write_config(gocd_config(rule("mailto:b@example.com")))
    mark = len(m2a.log())
    m2a.signal(signal.SIGHUP)
    m2a.wait_log(r"mail2alert: reloaded %s: managers=1 rules=1$" % re.escape(path), start=mark)
    assert routed_to(mta, sink) == ["b@example.com"]

    # a burst of HUPs: every one is a reload (pending ones merge), none a stop
    milter.write_config(gocd_config(rule("mailto:c@example.com")))
    mark = len(m2a.log())
    for _ in range(20):
        m2a.proc.send_signal(signal.SIGHUP)
    m2a.wait_log(r"reloaded %s" % re.escape(path), start=mark)
    time.sleep(0.5)
    assert m2a.alive() and m2a.listening()
    assert "stopping" not in m2a.log()
    assert routed_to(mta, sink) == ["c@example.com"]

    # SIGTERM is still libmilter's: a clean stop with status 0
    m2a.proc.send_signal(signal.SIGTERM)
    assert wait_exit(m2a.proc) == 0
    assert "mail2alert: stopping" in m2a.log()


# ------------------------------------------------------------------ sd_notify

def test_notify_socket_ready_reloading_stopping(mail2alert_bin, groups, test_dir):
    port = free_port()
    conf = daemon_config(test_dir, groups, port)
    notify = bind_datagram(os.path.join(test_dir, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(test_dir, "notify.sock"))
    log = open(os.path.join(test_dir, "notify.log"), "wb")
    proc = subprocess.Popen([mail2alert_bin, "-f", "-c", conf], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, env=env, start_new_session=True)
    seen = []
    try:
        ready = receive(notify, lambda d: "READY=1" in d.split("\n"), seen=seen)
        # READY=1 is the first word, and the milter takes connections by then
        assert connects(port), "READY=1 came before the socket took connections"
        assert seen == [ready] and "STATUS=listening on inet:%d@127.0.0.1" % port in ready

        proc.send_signal(signal.SIGHUP)
        reloading = receive(notify, lambda d: "RELOADING=1" in d.split("\n"), seen=seen)
        assert re.search(r"(?m)^MONOTONIC_USEC=\d+$", reloading), reloading
        receive(notify, lambda d: d == "READY=1", seen=seen)

        proc.send_signal(signal.SIGTERM)
        receive(notify, lambda d: d == "STOPPING=1", seen=seen)
        assert wait_exit(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        notify.close()


# ------------------------------------------------------------------ logging

def test_journal_stream_lines_have_priority_and_no_time_stamp(groups, milter, test_dir):
    """stderr is the stream named in JOURNAL_STREAM: "<N>line", N from
    sd-daemon.h (3 error, 4 warning, 6 info), no time stamp of our own."""
    log_path = os.path.join(test_dir, "mail2alert-1.log")    # the factory's first log
    open(log_path, "wb").close()
    st = os.stat(log_path)
    m2a = milter(gocd_config(rule("mailto:a@example.com")),
                 env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
    assert m2a.log_path == log_path
    text = milter.write_config(gocd_config(rule("mailto:b@example.com")))
    with open(text, "a") as f:
        f.write("this is = not = libconfig;\n")
    m2a.signal(signal.SIGUSR1)
    m2a.wait_log(r"^<3>error: reload failed, still running on the previous configuration: ")
    lines = m2a.log().splitlines()
    assert lines[0].startswith("<6>starting: version="), lines
    assert all(re.match(r"<[0-7]>", l) for l in lines), lines
    assert not any(STAMP.search(l) for l in lines), lines
    assert not any("mail2alert:" in l for l in lines), lines


def test_journal_stream_of_another_file_keeps_stderr_format(groups, milter, test_dir):
    """A JOURNAL_STREAM that is not our stderr (inherited by a shell, say)
    is ignored: the usual time-stamped lines."""
    other = os.stat(test_dir)
    m2a = milter(gocd_config(rule("mailto:a@example.com")),
                 env={"JOURNAL_STREAM": "%d:%d" % (other.st_dev, other.st_ino)})
    first = m2a.log().splitlines()[0]
    assert re.match(STAMP.pattern + r" mail2alert: starting: version=", first), first


NAMESPACE_SCRIPT = r"""
set -e
mount --make-rprivate /
mkdir -p "$M2A_DIR/realdev"
mount --bind /dev "$M2A_DIR/realdev"
mount -t tmpfs -o mode=755 m2a-dev /dev
for n in null zero urandom random; do
    touch "/dev/$n"; mount --bind "$M2A_DIR/realdev/$n" "/dev/$n"
done
umount -l "$M2A_DIR/realdev"
touch /dev/log
mount --bind "$M2A_DIR/syslog.sock" /dev/log
exec "$@"
"""


def test_daemon_logs_to_syslog_facility_mail(mail2alert_bin, groups, test_dir):
    """Without -f: syslog(3), facility mail, ident mail2alert[pid], errors
    at priority err.  The daemon runs in a private mount namespace whose
    /dev/log is this test's socket, so the machine's syslog is untouched."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a private /dev/log")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs x /mnt"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here: %s" % probe.stderr.strip())
    port = free_port()
    conf = daemon_config(test_dir, groups, port)
    sock = bind_datagram(os.path.join(test_dir, "syslog.sock"))
    script = os.path.join(test_dir, "ns.sh")
    with open(script, "w") as f:
        f.write(NAMESPACE_SCRIPT)
    env = dict(os.environ, M2A_DIR=test_dir)
    env.pop("JOURNAL_STREAM", None)
    p = subprocess.run(["unshare", "-m", "sh", script, mail2alert_bin, "-c", conf],
                       capture_output=True, text=True, env=env, timeout=30)
    seen = []
    pid = None
    try:
        assert p.returncode == 0, p.stderr
        assert p.stderr == "" and p.stdout == ""
        start = receive(sock, lambda d: "starting: version=" in d, seen=seen)
        m = re.match(r"<(\d+)>.*? mail2alert\[(\d+)\]: starting: version=", start)
        assert m, start
        pid = int(m.group(2))
        assert int(m.group(1)) == LOG_MAIL | 6, start                   # mail.info
        with open(conf, "a") as f:
            f.write("this is = not = libconfig;\n")
        os.kill(pid, signal.SIGUSR1)
        err = receive(sock, lambda d: "reload failed" in d, seen=seen)
        assert err.startswith("<%d>" % (LOG_MAIL | 3)), err             # mail.err
        assert "mail2alert[%d]: error: reload failed" % pid in err, err
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.1)
            if os.path.exists("/proc/%d" % pid):
                os.kill(pid, signal.SIGKILL)
        sock.close()


def test_daemon_start_up_errors_reach_the_terminal(mail2alert_bin, groups, test_dir):
    """Without -f, a daemon that cannot start says why on stderr, as well as
    in syslog, and exits with the sysexits code: here root without `user`."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    port = free_port()
    path = daemon_config(test_dir, groups, port)
    with open(path) as f:
        text = f.read().replace("allow-root = true;", "allow-root = false;")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([mail2alert_bin, "-c", path], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 77, p                                        # EX_NOPERM
    assert ("mail2alert: error: refusing to handle mail as root: set user = \"mail2alert\" "
            "(or allow-root = true) in %s\n" % path) in p.stderr, p.stderr
    assert not connects(port)
