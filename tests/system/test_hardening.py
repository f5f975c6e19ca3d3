"""Issue 14, points 3, 4 and 7: secrets stay out of errors and warnings,
files the configuration names are bounded and found wherever the daemon
runs, and mail addresses are single plain mailboxes.  Each test performs
the attack the issue describes."""

import os
from os import EX_CONFIG
import signal
import subprocess
import time

from tests.lab import GocdStandIn, free_port
from tests.system.m2a_helpers import config, gocd_config, gocd_manager, rule

SECRET = "S3cr3t-pa$tail"           # a '$' followed by a name: "$tail"
SECRET_BRACED = "S3cr3t-${oops"      # an unterminated ${


def _manager_with(extra):
    return gocd_config(rule("mailto:a@example.com"), extra=extra)


# ---------------------------------------------------------------- point 3

def test_check_never_prints_a_secret_with_a_dollar(config_check):
    """A password or token with '$' made -t print it (or its tail) in the
    error; now the error names file, line and key only."""
    cases = [
        '    user = "bot"; passwd = "%s";\n' % SECRET,
        '    user = "bot"; passwd = "%s";\n' % SECRET_BRACED,
        '    token = "%s";\n' % SECRET,
        '    token = "%s";\n' % SECRET_BRACED,
    ]
    for extra in cases:
        path, rc, out, err = config_check(_manager_with(extra))
        assert rc == EX_CONFIG, extra
        key = "passwd" if "passwd" in extra else "token"
        assert path + ":" in err and key + ":" in err, err
        assert "not shown" in err, err
        for piece in ("S3cr3t", "tail", "oops"):
            assert piece not in err + out, (extra, err)
    # slack-token is a secret too; a whole-value reference may be named
    path, rc, out, err = config_check(
        _manager_with("").replace('socket =', 'slack-token = "xoxb-%s";\nsocket =' % SECRET))
    assert rc == EX_CONFIG and "slack-token" in err and "tail" not in err and "S3cr3t" not in err
    path, rc, out, err = config_check(_manager_with('    token = "$M2A_UNSET_TOKEN";\n'))
    assert rc == EX_CONFIG and "environment variable M2A_UNSET_TOKEN is not set" in err, err


def test_reload_failure_line_never_prints_a_secret(milter, gocd, test_dir):
    """The reload-failure log line carries the same error: no secret in it."""
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(gocd_config(rule("mailto:a@example.com")))
    with open(m2a.config_path) as f:
        text = f.read()
    with open(m2a.config_path, "w") as f:
        f.write(text.replace('    api = "admin";\n',
                             '    api = "admin";\n    token = "%s";\n' % SECRET))
    mark = len(m2a.log())
    m2a.proc.send_signal(signal.SIGUSR1)
    m2a.wait_log("reload failed", timeout=10)
    log = m2a.log()[mark:]
    assert "token" in log and "not shown" in log, log
    assert "S3cr3t" not in m2a.log() and "tail" not in log


def test_credentials_over_http_are_warned_about(config_check, test_dir):
    """Basic auth or a token sent to an http:// URL: one warning per
    manager from -t, naming the manager and the key, not the secret."""
    pw = os.path.join(test_dir, "pw")
    with open(pw, "w") as f:
        f.write("Fi1e-S3cret\n")
    os.chmod(pw, 0o600)
    text = config(
        gocd_manager([rule("mailto:a@example.com")], name="clear-a",
                     extra='    user = "bot"; passwd = "Inl1ne-S3cret";\n'),
        gocd_manager([rule("mailto:a@example.com")], name="clear-b",
                     extra='    token-file = "%s";\n' % pw),
        gocd_manager([rule("mailto:a@example.com")], name="no-auth"))
    path, rc, out, err = config_check(text)
    assert rc == 0, err
    warnings = [line for line in err.splitlines() if "http://" in line]
    assert len(warnings) == 2, err
    assert "manager clear-a: passwd is sent in clear text" in warnings[0]
    assert "manager clear-b: token-file is sent in clear text" in warnings[1]
    assert "S3cret" not in err + out
    https = text.replace("@GOCD_URL@", "https://127.0.0.1:9/go")
    path, rc, out, err = config_check(https)
    assert rc == 0 and "clear text" not in err, err


# ---------------------------------------------------------------- point 4

def test_include_of_a_fifo_is_refused_not_waited_on(config_check, test_dir):
    """libconfig opens @include files itself; a FIFO hung -t and reload."""
    fifo = os.path.join(test_dir, "inc.fifo")
    os.mkfifo(fifo)
    good = os.path.join(test_dir, "good.inc")
    with open(good, "w") as f:
        f.write('@include "%s"\n' % fifo)
    text = gocd_config(rule("mailto:a@example.com"))
    for top in ('@include "%s"\n' % fifo, '  @include "%s"\n' % good):
        path, rc, out, err = config_check(top + text)
        assert rc == EX_CONFIG
        assert "@include: cannot read %s: not a regular file" % fifo in err, err
    line2 = '# a comment\n@include "%s"\n' % fifo
    path, rc, out, err = config_check(line2 + text)
    assert "%s:2: @include" % path in err, err
    # an escape could make libconfig open another file than the one checked
    path, rc, out, err = config_check('@include "%s\\x2e"\n' % good + text)
    assert rc == EX_CONFIG and "without backslashes" in err, err
    # a file that includes itself stops at the depth bound
    loop = os.path.join(test_dir, "loop.inc")
    with open(loop, "w") as f:
        f.write('@include "%s"\n' % loop)
    path, rc, out, err = config_check('@include "%s"\n' % loop + text)
    assert rc == EX_CONFIG and "@include: nested more than 10 deep" in err, err


def test_env_expansion_is_bounded(config_check):
    """$VAR expansion had no bound; now 64 KiB a value, with file, line,
    key and variable named and the value not printed."""
    big = "B" * (65 * 1024)
    text = _manager_with('    user = "$M2A_BIG";\n    passwd = "x";\n')
    path, rc, out, err = config_check(text, env={"M2A_BIG": big})
    assert rc == EX_CONFIG
    assert "user: environment variable M2A_BIG adds more than 65536 bytes" in err
    assert path + ":" in err and "BBBB" not in err + out
    # many values of 60 KiB each: the total bound stops them
    rules = [rule("mailto:a@example.com", function="pipelines.in_group",
                  args=("$M2A_BIG",)) for _ in range(20)]
    path, rc, out, err = config_check(gocd_config(*rules), env={"M2A_BIG": "g" * 60000})
    assert rc == EX_CONFIG and "adds more than" in err and "(or 1048576 to the file)" in err, err
    assert "gggg" not in err


def test_relative_paths_are_relative_to_the_config_file(mail2alert_bin, test_dir):
    """-c sub/x.conf from another directory: the config's relative
    passwd-file is found beside it, whatever the working directory."""
    sub = os.path.join(test_dir, "sub")
    os.mkdir(sub)
    with open(os.path.join(sub, "pw"), "w") as f:
        f.write("Rel-S3cret\n")
    os.chmod(os.path.join(sub, "pw"), 0o600)
    with open(os.path.join(sub, "x.conf"), "w") as f:
        f.write(gocd_config(rule("mailto:a@example.com"),
                            extra='    user = "bot"; passwd-file = "pw";\n')
                .replace("@SOCKET@", "inet:9@127.0.0.1")
                .replace("@GOCD_URL@", "https://127.0.0.1:9/go"))
    p = subprocess.run([mail2alert_bin, "-t", "-c", "sub/x.conf"], cwd=test_dir,
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr


def test_daemon_with_relative_config_keeps_its_files(mail2alert_bin, gocd, test_dir):
    """A relative -c made every reload after daemonising fail, and a
    relative state-file landed in /.  Now both are resolved at start."""
    gocd.set_groups({"team-a": ["api"]})
    port = free_port()
    name = "rel-%d" % port
    conf = os.path.join(test_dir, name + ".conf")
    with open(conf, "w") as f:
        f.write(gocd_config(rule("mailto:team-a@example.com"),
                            top_extra='state-file = "%s.json";' % name)
                .replace("@SOCKET@", "inet:%d@127.0.0.1" % port)
                .replace("@GOCD_URL@", gocd.url) + "\nallow-root = true;\n")
    start = subprocess.run([mail2alert_bin, "-c", name + ".conf"], cwd=test_dir,
                           capture_output=True, timeout=20)
    assert start.returncode == 0, start.stderr
    out = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], capture_output=True,
                         text=True).stdout
    pid = int(out.split("pid=")[1].split(",")[0])
    other = GocdStandIn().start()
    try:
        # a reload reads name.conf again: it now names another GoCD, and
        # only a reload that found the file makes the daemon poll that one
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace(gocd.url, other.url))
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 15
        while not other.requests() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert other.requests(), "the reload after daemonising did not read the config"
    finally:
        other.stop()
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    in_root = "/%s.json" % name
    planted = os.path.exists(in_root)
    if planted:
        os.unlink(in_root)
    assert not planted, "the state file went to /"
    assert os.path.exists(os.path.join(test_dir, name + ".json"))


# ---------------------------------------------------------------- point 7

def test_mailto_takes_one_plain_mailbox(config_check):
    for bad in ("a@example.com;c@example.com", "a@example.com (boss)",
                "@a.example,@b.example:x@example.com", "<a@example.com>"):
        path, rc, out, err = config_check(gocd_config(rule("mailto:" + bad)))
        assert rc == EX_CONFIG and "not a mail address" in err, (bad, err)
        path, rc, out, err = config_check(
            gocd_config(rule("mailto:a@example.com"), unresolved="mailto:" + bad))
        assert rc == EX_CONFIG and "unresolved" in err, (bad, err)
    path, rc, out, err = config_check(gocd_config(rule('mailto:"a b"@[192.0.2.1]')))
    assert rc == 0, err
