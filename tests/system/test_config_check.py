"""`mail2alert -t -c FILE` (SPEC 4, 7): exit 0 for a good config; exit 1
with `FILE:LINE: KEY: message` on stderr for a bad one; no network."""

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
def test_bad_config_exits_1_naming_file_and_line(config_check, quiet_gocd, case):
    name, old, new, tokens = case
    text, line = _bad_text(old, new)
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == 1, "rc=%r for %s\nstdout: %s\nstderr: %s" % (rc, name, out, err)
    assert_names_file_and_line(path, err, line, slack=1 if name == "syntax-error" else 0)
    if tokens:
        assert any(t in err for t in tokens), \
            "stderr should name the key or value (%r):\n%s" % (tokens, err)


def test_missing_config_file(mail2alert_bin, test_dir):
    path = os.path.join(test_dir, "does-not-exist.conf")
    rc, out, err = check_config(mail2alert_bin, path)
    assert rc == 1
    assert "does-not-exist.conf" in err


def test_error_inside_later_manager_names_its_line(config_check, quiet_gocd):
    text, line = _bad_text('args = ["server", "backup"]; };',
                           'args = ["server", "backup"]; bogus = 1; };')
    path, rc, out, err = config_check(text, gocd_url=quiet_gocd.url, env=ENV)
    assert rc == 1
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
