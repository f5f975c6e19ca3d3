"""`mail2alert -t -c FILE` (SPEC 4, 7): exit 0 for a good config; exit 78
(EX_CONFIG) with `FILE:LINE: KEY: message` on stderr for a bad one, or
`FILE: KEY ...: message` for what would fail at start (socket spec, user,
files); no network."""

import os
import re

import pytest

from tests.lab import GocdStandIn, check_config
from tests.system.m2a_helpers import gocd_config, rule

GOOD = """\
socket = "@SOCKET@";
user = "nobody";
state-file = "@DIR@/state.json";
unresolved = "accept";
body-limit = 65536;
slack-token = "$SLACK_TOKEN";
slack-api = "http://127.0.0.1:9/api";
managers = (
  {
    name = "gocd";
    url = "@GOCD_URL@";
    api = "auto";
    user = "$GOUSER"; passwd = "$GOPASS";
    poll-interval = 30;
    messages-we-want = { to = "mail2alert@example.com"; };
    rules = (
      { filter = { events = ["BREAKS", "FIXED"]; function = "pipelines.in_group";
                   args = ["my-group"]; };
        actions = ["mailto:team@example.com", "slack:#builds"]; },
      { name = "releases"; owner = "release-team";
        filter = { function = "pipelines.name_like_in_group";
                   args = ["(.+)-release.*", "mygroup"]; };
        actions = ["mailto:rel@example.com", "slack:@someone:full", "slack:#rel:brief"]; },
      { filter = { events = ["PASSES", "FAILS", "CANCELLED"]; function = "pipelines.any"; };
        actions = ["mailto:all@example.com"]; }
    );
  },
  {
    name = "mail";
    messages-we-want = { from = "go@example.com"; };
    rules = ( { filter = { function = "mail.in_subject"; args = ["server", "backup"]; };
                actions = ["mailto:sys@example.com", "mailto:op@example.com"]; } );
  }
);
"""

EX_CONFIG = 78
ENV = {"SLACK_TOKEN": "xoxb-test", "GOUSER": "bot", "GOPASS": "pw"}


@pytest.fixture
def quiet_gocd():
    """A GoCD stand-in that must not be contacted by -t."""
    g = GocdStandIn().start()
    yield g
    g.stop()
    assert g.requests() == [], "mail2alert -t must not touch the network"


def test_good_config_exits_0(config_check, quiet_gocd):
    path, rc, out, err = config_check(GOOD, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == 0, "stdout: %s\nstderr: %s" % (out, err)


def test_minimal_and_test_style_configs_exit_0(config_check, quiet_gocd):
    text = gocd_config(rule("mailto:team-a@example.com"),
                       rule(["mailto:${TEAM}", "slack:#x"], function="pipelines.any",
                            args=None, events=["FIXED"]),
                       top_extra='slack-token = "xoxb-1";')
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env={"TEAM": "t@x.org"})
    assert rc == 0, err
    minimal = ('socket = "@SOCKET@";\nmanagers = ( { name = "mail"; messages-we-want = '
               '{ from = "go@example.com"; }; rules = ( { filter = { function = '
               '"mail.in_subject"; args = ["x"]; }; actions = ["mailto:a@example.com"]; } ); } );\n')
    path, rc, out, err = config_check(minimal, gocd_url=quiet_gocd.url)
    assert rc == 0, err


# (id, old text in GOOD, replacement, tokens of which one must appear in stderr)
BAD = [
    ("syntax-error", "    poll-interval = 30;", "    poll-interval = = 30;", None),
    ("unknown-top-key", "body-limit = 65536;", "body-limt = 65536;", ["body-limt"]),
    ("unknown-manager-key", "    poll-interval = 30;", "    pol-interval = 30;",
     ["pol-interval"]),
    ("unknown-filter-key", 'function = "pipelines.any"; };',
     'function = "pipelines.any"; evnts = ["FIXED"]; };', ["evnts"]),
    ("unknown-want-key", 'messages-we-want = { to = "mail2alert@example.com"; };',
     'messages-we-want = { cc = "mail2alert@example.com"; };', ["cc"]),
    ("unknown-function", 'function = "pipelines.any";', 'function = "pipelines.in_grop";',
     ["pipelines.in_grop", "function"]),
    ("bad-event", 'events = ["BREAKS", "FIXED"];', 'events = ["BREAKS", "BRAKES"];',
     ["BRAKES", "events"]),
    ("bad-regex", 'args = ["(.+)-release.*", "mygroup"]; };',
     'args = ["(.+-release.*", "mygroup"]; };', ["args", "(.+-release.*", "regex", "regular"]),
    ("unknown-action", 'actions = ["mailto:all@example.com"]; }',
     'actions = ["smtp:all@example.com"]; }', ["smtp:all@example.com", "actions", "action"]),
    ("bad-unresolved", 'unresolved = "accept";', 'unresolved = "maybe";',
     ["unresolved", "maybe"]),
    ("bad-api", 'api = "auto";', 'api = "v2";', ["api"]),
]


def _bad_text(old, new):
    text = GOOD
    assert text.count(old) == 1, "test bug: %r must occur once in GOOD" % old
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if old in line:
            lines[i] = line.replace(old, new)
            return "\n".join(lines), i + 1
    raise AssertionError(old)


def assert_names_file_and_line(path, err, line, slack=0):
    """stderr has FILE:LINE (full path or basename) for an acceptable line."""
    names = "(?:%s|%s)" % (re.escape(path), re.escape(os.path.basename(path)))
    found = [int(n) for n in re.findall(names + r":(\d+)\b", err)]
    assert found, "stderr does not name %s:LINE:\n%s" % (path, err)
    assert any(abs(n - line) <= slack for n in found), \
        "stderr names line(s) %r, expected %d:\n%s" % (found, line, err)


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_config_exits_ex_config_naming_file_and_line(config_check, quiet_gocd, case):
    name, old, new, tokens = case
    text, line = _bad_text(old, new)
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == EX_CONFIG, "rc=%r for %s\nstdout: %s\nstderr: %s" % (rc, name, out, err)
    assert_names_file_and_line(path, err, line, slack=1 if name == "syntax-error" else 0)
    if tokens:
        assert any(t in err for t in tokens), \
            "stderr should name the key or value (%r):\n%s" % (tokens, err)


def test_missing_config_file(mail2alert_bin, test_dir):
    path = os.path.join(test_dir, "does-not-exist.conf")
    rc, out, err = check_config(mail2alert_bin, path)
    assert rc == EX_CONFIG
    assert "does-not-exist.conf" in err


def test_error_inside_later_manager_names_its_line(config_check, quiet_gocd):
    text, line = _bad_text('args = ["server", "backup"]; };',
                           'args = ["server", "backup"]; bogus = 1; };')
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == EX_CONFIG
    assert_names_file_and_line(path, err, line)
    assert "bogus" in err


def test_fifo_for_config_or_secret_is_refused_not_waited_on(mail2alert_bin, config_check,
                                                             test_dir):
    """A FIFO where a file should be would block a reader until someone
    writes to it; -t (and a reload) must answer at once."""
    fifo = os.path.join(test_dir, "token.fifo")
    os.mkfifo(fifo)
    text = gocd_config(rule("mailto:a@example.com"),
                       extra='    token-file = "%s";\n' % fifo)
    path, rc, out, err = config_check(text)
    assert rc != 0
    assert "token-file: cannot read %s: not a regular file" % fifo in err

    conf_fifo = os.path.join(test_dir, "conf.fifo")
    os.mkfifo(conf_fifo)
    rc, out, err = check_config(mail2alert_bin, conf_fifo)
    assert rc != 0
    assert "%s: cannot open: not a regular file" % conf_fifo in err


# ------------------------------------------------------------------ what fails at start
# -t also checks what the text cannot say: the socket as libmilter reads it,
# that user and socket-group exist, that the files can be used by the user
# the daemon runs as.  Messages are "FILE: KEY ...: what" (no line).

def _check_with(config_check, quiet_gocd, old, new, env=ENV):
    text, _ = _bad_text(old, new)
    return config_check(text, gocd_url=quiet_gocd.url, env=env)


def test_postfix_socket_spelling_refused_with_hint(config_check, quiet_gocd):
    """Postfix writes inet:127.0.0.1:8895; libmilter would read that as
    port 127 on every address."""
    path, rc, out, err = _check_with(config_check, quiet_gocd, 'socket = "@SOCKET@";',
                                     'socket = "inet:127.0.0.1:8895";')
    assert rc == EX_CONFIG and out == ""
    errors = [l for l in err.splitlines() if not l.startswith("mail2alert: warning: ")]
    assert errors == ['mail2alert: %s: socket "inet:127.0.0.1:8895" is Postfix\'s spelling '
                      '(inet:HOST:PORT); libmilter\'s is "inet:8895@127.0.0.1"' % path], err


@pytest.mark.parametrize("spec,message", [
    ("tcp:8895", 'socket "tcp:8895": unknown type "tcp"; use unix:/PATH, inet:PORT@HOST '
                 'or inet6:PORT@HOST'),
    ("inet:88x95@127.0.0.1", '"88x95" is not a port'),
    ("inet:0@127.0.0.1", '"0" is not a port'),
    ("inet:8895@", "no host after @"),
    ("inet:8895@[::1]", '"[::1]" is not an IPv4 address'),
    ("inet6:[::1]:8895", "libmilter's is \"inet6:8895@[::1]\""),
    ("unix:relative.sock", "the path must be absolute"),
    ("unix:/nonexistent-m2a/milter.sock", "directory /nonexistent-m2a does not exist"),
    ("unix:/" + "x" * 120, "path longer than 107 bytes"),
])
def test_bad_socket_specs_refused(config_check, quiet_gocd, spec, message):
    path, rc, out, err = _check_with(config_check, quiet_gocd, 'socket = "@SOCKET@";',
                                     'socket = "%s";' % spec)
    assert rc == EX_CONFIG, err
    errors = [l for l in err.splitlines() if not l.startswith("mail2alert: warning: ")]
    assert errors[0].startswith("mail2alert: %s: socket" % path) and message in errors[0], err


@pytest.mark.parametrize("spec", ["inet:8895", "inet:8895@127.0.0.1", "inet:8895@localhost",
                                  "inet:smtp@[127.0.0.1]", "inet6:8895@::1",
                                  "inet6:8895@[::1]", "unix:@DIR@/m.sock",
                                  "local:@DIR@/m.sock", "@DIR@/m.sock"])
def test_good_socket_specs_accepted(config_check, quiet_gocd, spec):
    path, rc, out, err = _check_with(config_check, quiet_gocd, 'socket = "@SOCKET@";',
                                     'socket = "%s";' % spec)
    assert rc == 0, err


def test_unknown_user_and_group_refused(config_check, quiet_gocd):
    text, _ = _bad_text('user = "nobody";',
                        'user = "m2a-no-such-user"; socket-group = "m2a-no-such-group";')
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == EX_CONFIG and out == ""
    # the stand-in is plain http: the clear-text warning is not this test's
    assert [l for l in err.splitlines() if "sent in clear text" not in l] == [
        'mail2alert: %s: user "m2a-no-such-user" does not exist' % path,
        'mail2alert: %s: socket-group "m2a-no-such-group" does not exist' % path,
    ], err


def test_files_checked_as_the_daemons_user(config_check, quiet_gocd, test_dir):
    """As root with user = "nobody": a ca-file only root can read is an
    error (every poll would fail); a passwd-file only root can read and a
    state-file directory nobody cannot write are warnings (the daemon
    starts, reloads and saves fail); a missing state directory is an
    error."""
    if os.geteuid() != 0:
        pytest.skip("needs root to check as another user")
    ca = os.path.join(test_dir, "ca.pem")
    secret = os.path.join(test_dir, "gocd.passwd")
    for p in (ca, secret):
        with open(p, "w") as f:
            f.write("x\n")
        os.chmod(p, 0o600)
    text = (GOOD.replace('user = "$GOUSER"; passwd = "$GOPASS";',
                         'user = "$GOUSER"; passwd-file = "%s"; ca-file = "%s";' % (secret, ca)))
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == EX_CONFIG, err
    lines = [l for l in err.splitlines() if "can be read by group or others" not in l and
             "sent in clear text" not in l]
    assert lines == [
        "mail2alert: %s: ca-file %s: nobody cannot read it: Permission denied; "
        "every poll of GoCD would fail" % (path, ca),
        "mail2alert: warning: %s: passwd-file %s: nobody cannot read it: Permission denied; "
        "every reload would fail" % (path, secret),
        "mail2alert: warning: %s: state-file %s/state.json: nobody cannot write directory "
        "%s: Permission denied; the stage states and unsent Slack posts would not be saved"
        % (path, test_dir, test_dir),
    ], err

    os.chmod(ca, 0o644)
    path, rc, out, err = config_check(text.replace("@DIR@/state.json", "@DIR@/no/state.json"),
                                      gocd_url=quiet_gocd.url, env=ENV)
    assert rc == EX_CONFIG, err
    assert ("mail2alert: %s: state-file %s/no/state.json: directory %s/no does not exist"
            % (path, test_dir, test_dir)) in err.splitlines(), err
    assert "ca-file" not in err
