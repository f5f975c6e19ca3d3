"""Operating the daemon through the real Postfix + milter: SIGUSR1 reload,
privilege drop to `user`, refusing to run as root, and a unix socket with
socket-mode/socket-group that Postfix can use (SPEC 7, mail2alert(8)).

The privilege tests need a system user; `m2a-test` is created when missing
(useradd --system, idempotent) and never removed.
"""

import grp
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from tests.lab import free_port
from tests.system.m2a_helpers import deliver, gocd_config, gocd_mail, rule, trace

TEST_USER = "m2a-test"
GROUPS = {"team-a": ["api"]}


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def test_user():
    """The pwd entry of TEST_USER, created if missing; never deleted."""
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pass
    p = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", TEST_USER], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    # 9: created meanwhile by someone else
    if p.returncode not in (0, 9):
        pytest.fail("cannot create the test user %s: useradd exited %d: %s"
                    % (TEST_USER, p.returncode, p.stdout), pytrace=False)
    return pwd.getpwnam(TEST_USER)


@pytest.fixture
def groups(gocd):
    gocd.set_groups(GROUPS)
    return gocd


def reload_and_wait(m2a, pattern, timeout=10):
    """SIGUSR1, then wait for PATTERN in the log lines written after it."""
    mark = len(m2a.log())
    m2a.signal(signal.SIGUSR1)
    return m2a.wait_log(pattern, start=mark, timeout=timeout)


def routed_to(mta, sink, pipeline="api", event="broken"):
    _, m = deliver(mta, sink, gocd_mail(pipeline, "build", event))
    return m.rcpts


def proc_ids(pid):
    """(uids, gids, groups) of a process from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = [int(v) for v in value.split()] if key in ("Uid", "Gid", "Groups") \
                else value
    return out["Uid"], out["Gid"], out["Groups"]


def refused(port):
    """True when nothing listens on 127.0.0.1:PORT."""
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


# ------------------------------------------------------------------ reload

def test_reload_switches_rules_and_keeps_them_on_a_bad_config(groups, milter, mta, sink):
    m2a = milter(gocd_config(rule("mailto:a@example.com")))
    assert routed_to(mta, sink) == ["a@example.com"]

    path = milter.write_config(gocd_config(rule("mailto:b@example.com"),
                                           rule("mailto:b2@example.com", events=["FIXED"])))
    reload_and_wait(m2a, r"mail2alert: reloaded %s: managers=1 rules=2$" % re.escape(path))
    assert routed_to(mta, sink) == ["b@example.com"]
    assert m2a.alive()

    # a syntax error on a known line: refused, logged with FILE:LINE, B kept
    lines = gocd_config(rule("mailto:c@example.com")).splitlines()
    bad_at = 2                                    # after the socket line
    lines.insert(bad_at, "this is = not = libconfig;")
    milter.write_config("\n".join(lines) + "\n")
    with open(path) as f:
        assert f.read().splitlines()[bad_at] == "this is = not = libconfig;"
    m = reload_and_wait(m2a, r"error: reload failed.*$")
    assert m.group(0) == ("error: reload failed, still running on the previous "
                          "configuration: %s:%d: syntax error: syntax error"
                          % (path, bad_at + 1))
    assert m2a.alive()
    assert routed_to(mta, sink) == ["b@example.com"]
    assert sorted(routed_to(mta, sink, event="fixed")) == ["b2@example.com", "b@example.com"]

    # a well-formed file with a wrong key: the same, with the key named
    text = gocd_config(rule("mailto:c@example.com"))
    milter.write_config(text.replace("poll-interval = 1;", "poll-interval = 1; pol-interval = 2;"))
    bad_line = [i + 1 for i, l in enumerate(open(path).read().splitlines())
                if "pol-interval" in l][0]
    m = reload_and_wait(m2a, r"error: reload failed.*$")
    assert m.group(0).endswith("configuration: %s:%d: managers[0].pol-interval: unknown key"
                               % (path, bad_line)), m.group(0)
    assert m2a.alive()
    assert routed_to(mta, sink) == ["b@example.com"]

    # and a good file after the bad ones is taken again
    milter.write_config(gocd_config(rule("mailto:d@example.com")))
    reload_and_wait(m2a, r"reloaded %s: managers=1 rules=1" % re.escape(path))
    assert routed_to(mta, sink) == ["d@example.com"]


def test_reload_changing_socket_says_restart_needed(groups, milter, mta, sink):
    m2a = milter(gocd_config(rule("mailto:a@example.com")))
    new_port = free_port()
    new_socket = "inet:%d@127.0.0.1" % new_port
    path = milter.write_config(gocd_config(rule("mailto:b@example.com"))
                               .replace("@SOCKET@", new_socket))
    m = reload_and_wait(m2a, r"reloaded %s: managers=1 rules=1" % re.escape(path))
    log = m2a.log()
    assert ("warning: reload: socket changed to %s; restart mail2alert to listen there"
            % new_socket) in log
    assert log.index("socket changed to") < m.start()
    # still on the old socket, not on the new one; the rest of the reload applies
    assert m2a.listening()
    assert refused(new_port)
    assert routed_to(mta, sink) == ["b@example.com"]
    assert m2a.alive()


# ------------------------------------------------------------------ privileges

def test_drops_privileges_to_user(groups, milter, mta, sink, test_user):
    """user = "m2a-test" and no allow-root: the daemon runs as m2a-test (real,
    effective and saved ids, no supplementary root group), routes mail, and
    re-reads its config as that user."""
    m2a = milter(gocd_config(rule("mailto:a@example.com"),
                             top_extra='user = "%s";\nallow-root = false;' % TEST_USER))
    os.chmod(m2a.config_path, 0o644)
    ps = subprocess.run(["ps", "-o", "user=", "-p", str(m2a.pid)], stdout=subprocess.PIPE,
                        universal_newlines=True, timeout=10)
    assert ps.stdout.strip() == TEST_USER
    uids, gids, supplementary = proc_ids(m2a.pid)
    assert uids == [test_user.pw_uid] * 4
    assert gids == [test_user.pw_gid] * 4
    assert 0 not in supplementary
    assert routed_to(mta, sink) == ["a@example.com"]

    # reload as m2a-test: a readable file is taken
    milter.write_config(gocd_config(rule("mailto:b@example.com"),
                                    top_extra='user = "%s";\nallow-root = false;' % TEST_USER))
    os.chmod(m2a.config_path, 0o644)
    reload_and_wait(m2a, r"reloaded %s" % re.escape(m2a.config_path))
    assert routed_to(mta, sink) == ["b@example.com"]

    # one only root may read is refused (mail2alert(8) CAVEATS), B is kept
    milter.write_config(gocd_config(rule("mailto:c@example.com"),
                                    top_extra='user = "%s";\nallow-root = false;' % TEST_USER))
    os.chmod(m2a.config_path, 0o600)
    m = reload_and_wait(m2a, r"error: reload failed.*$")
    assert "%s: cannot open: Permission denied" % m2a.config_path in m.group(0)
    assert m2a.alive()
    assert routed_to(mta, sink) == ["b@example.com"]


@pytest.mark.parametrize("extra,message,code", [
    ("allow-root = false;", r"error: refusing to handle mail as root: set user = "
                            r"\"mail2alert\" \(or allow-root = true\) in %(path)s", 77),
    ("", r"error: refusing to handle mail as root", 77),
    ('user = "m2a-no-such-user";\nallow-root = false;',
     r"error: %(path)s: user \"m2a-no-such-user\" does not exist", 78),
], ids=["allow-root-false", "allow-root-absent", "unknown-user"])
def test_refuses_to_run_as_root(mail2alert_bin, gocd, test_dir, extra, message, code):
    """Started by root without `user`: exit EX_NOPERM (77) at once, saying
    why, and not left listening; an unknown user is EX_CONFIG (78).  Run directly, not through the milter factory (which
    would add allow-root = true and wait for readiness)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    port = free_port()
    path = os.path.join(test_dir, "mail2alert.conf")
    with open(path, "w") as f:
        f.write(gocd_config(rule("mailto:a@example.com"), top_extra=extra)
                .replace("@SOCKET@", "inet:%d@127.0.0.1" % port)
                .replace("@GOCD_URL@", gocd.url))
    assert ("allow-root = true" not in open(path).read())
    start = time.monotonic()
    proc = subprocess.Popen([mail2alert_bin, "-f", "-c", path], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("mail2alert kept running as root for 10s; output:\n%s" % out)
    assert time.monotonic() - start < 5
    assert proc.returncode == code, out
    assert re.search(message % {"path": re.escape(path)}, out), out
    assert "starting:" not in out
    assert refused(port)
    # no mail was touched and no thread started: GoCD was never asked
    assert gocd.requests() == []


def test_unix_socket_mode_owner_group_and_postfix_uses_it(
        groups, milter, mta, sink, postfix, milter_port, test_dir, test_user):
    sock = os.path.join(test_dir, "m2a.sock")
    assert os.stat(test_dir).st_mode & 0o777 == 0o755       # postfix must reach it
    m2a = milter(gocd_config(rule("mailto:a@example.com"),
                             top_extra='user = "%s";\nsocket-group = "postfix";\n'
                                       'allow-root = false;' % TEST_USER)
                 .replace("@SOCKET@", "unix:@DIR@/m2a.sock"))
    assert m2a.socket_spec == "unix:%s" % sock
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(stat.S_IMODE(st.st_mode))
    assert not st.st_mode & stat.S_IWOTH
    assert pwd.getpwuid(st.st_uid).pw_name == TEST_USER
    assert grp.getgrgid(st.st_gid).gr_name == "postfix"
    assert pwd.getpwuid(proc_ids(m2a.pid)[0][1]).pw_name == TEST_USER

    try:
        postfix.set_milter("unix:%s" % sock)
        mark = len(postfix.maillog())
        data = gocd_mail("api", "build", "broken")
        _, m = deliver(mta, sink, data)
        assert m.rcpts == ["a@example.com"]
        assert trace(m) == ("gocd", {"pipeline": "api", "stage": "build", "event": "BREAKS"})
        assert "Milter" not in postfix.maillog()[mark:]     # no milter warnings
    finally:
        postfix.set_milter("inet:127.0.0.1:%d" % milter_port)


def _listening_pids(port):
    """Pids of processes with a TCP socket listening on 127.0.0.1:port."""
    out = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], capture_output=True,
                         text=True).stdout
    return [int(p) for p in re.findall(r"pid=(\d+)", out)]


def test_daemon_mode_exit_status_says_whether_it_started(mail2alert_bin, gocd, test_dir):
    """Without -f the command returns once the daemon listens (0), or with
    EX_UNAVAILABLE (69) and the reason on stderr when it could not listen:
    init scripts and admins at a terminal rely on that."""
    port = free_port()
    conf = os.path.join(test_dir, "daemon.conf")
    with open(conf, "w") as f:
        f.write(gocd_config(rule("mailto:team-a@example.com"))
                .replace("@SOCKET@", "inet:%d@127.0.0.1" % port)
                .replace("@GOCD_URL@", gocd.url) + "\nallow-root = true;\n")
    first = subprocess.run([mail2alert_bin, "-c", conf], capture_output=True, timeout=20)
    pids = _listening_pids(port)
    try:
        assert first.returncode == 0, first.stderr
        assert pids, "the daemon is not listening on %d after its parent exited 0" % port
        # the same port again: the second daemon cannot listen and must say so
        second = subprocess.run([mail2alert_bin, "-c", conf], capture_output=True, timeout=20)
        assert second.returncode == 69, second.stderr
        assert ("mail2alert: error: cannot listen on inet:%d@127.0.0.1: Address already in use"
                % port) in second.stderr.decode(), second.stderr
        assert first.stderr == b"" and first.stdout == b""
        assert _listening_pids(port) == pids
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
