"""Regular expressions of pipelines.name_like_in_group and release-pattern
are PCRE2, the dialect of Python's re that the Python mail2alert's rules
were written in (SPEC section 3, mail2alert.conf(5)): checked with -t and
routed with -r against a GoCD stand-in, as an admin migrating would.
"""

import os
import re
import subprocess
from os import EX_CONFIG

from tests.system.m2a_helpers import on_this_machine

REGEX_CONFIG = r"""
socket = "inet:8895@127.0.0.1";
managers = (
  {
    name = "gocd";
    url = "@URL@";
    api = "admin";
    messages-we-want = { to = "mail2alert@example.com"; };
    rules = (
      { filter = { function = "pipelines.name_like_in_group";
                   args = ["@REGEX@", "apps"]; };     # R1
        actions = ["mailto:apps@example.com"]; }
    );
  }
);
"""


def run(*args):
    return subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                          universal_newlines=True)


def config(test_dir, url, regex):
    text = REGEX_CONFIG.replace("@URL@", url).replace("@REGEX@", regex)
    path = os.path.join(test_dir, "regex.conf")
    with open(path, "w") as f:
        f.write(text)
    line = [i + 1 for i, l in enumerate(text.splitlines()) if "# R1" in l][0]
    return path, line


def test_python_regex_routes_by_its_capture(mail2alert_bin, gocd, test_dir):
    # libconfig reads "\\" as one backslash: the rule says (\w+)-release-\d+
    path, _ = config(test_dir, gocd.url, r"(\\w+)-release-\\d+")
    gocd.set_groups({"apps": ["myapp"], "releases": ["myapp-release-12", "myapp-release-d"]})
    p = run(mail2alert_bin, "-t", "-c", path)
    assert p.returncode == 0 and p.stdout.strip().endswith("OK (managers=1 rules=1)"), p
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "manager gocd: groups from GoCD (%s)" % gocd.url,
        "  group apps",
        "    myapp: no rule",
        "  group releases",
        # \w+ captures "myapp", which is in apps
        "    myapp-release-12",
        "      PASSES,FAILS,BREAKS,FIXED,CANCELLED -> mailto:apps@example.com",
        # \d is a digit, not the letter d that POSIX ERE made of it
        "    myapp-release-d: no rule",
        "  pipelines no rule covers: myapp myapp-release-d",
        "  rules that match nothing: none",
    ], p.stdout


def test_regex_that_does_not_compile_names_file_line_and_key(mail2alert_bin, gocd,
                                                             test_dir):
    path, line = config(test_dir, gocd.url, r"(\\w+-release-\\d+")
    p = run(mail2alert_bin, "-t", "-c", path)
    assert p.returncode == EX_CONFIG and p.stdout == ""
    assert re.match(r"mail2alert: %s:%d: managers\[0\]\.rules\[0\]\.filter\.args: "
                    r"regex \"\(\\w\+-release-\\d\+\" does not compile: .*missing closing "
                    r"parenthesis" % (re.escape(path), line), p.stderr), p.stderr


def test_costly_regex_refused_by_check(mail2alert_bin, gocd, test_dir):
    """Issue 14: stacked quantifiers made glibc's regcomp take exponential
    memory and crash -t at about 24.  Such patterns are refused, quickly and
    with a clear message, before they are compiled."""
    for regex, why in [("a{1,2}" * 70, "more than 64 repetitions"),
                       ("(" * 24 + "a*" + ")*" * 24, "groups nested more than 16 deep"),
                       ("a" * 2000, "2000 characters, at most 1024"),
                       ("(a{1,1000})", "repeats 1000 times, at most 255")]:
        path, line = config(test_dir, gocd.url, regex)
        p = run(mail2alert_bin, "-t", "-c", path)
        assert p.returncode == EX_CONFIG and p.stdout == "", (regex, p)
        assert p.stderr.startswith("mail2alert: %s:%d: managers[0].rules[0].filter.args: "
                                   "regex \"" % (path, line)), p.stderr
        assert ("is too costly: " + why) in p.stderr, p.stderr


PYTHON_YAML = r"""
local-smtp: localhost:1025
remote-smtp: localhost:8025
slack-token: $SLACK_TOKEN
managers:
  - name: gocd
    url: @URL@
    messages-we-want:
      to: mail2alert@example.com
    rules:
      - actions:
          - mailto:apps@example.com
          - slack:#apps
        filter:
          events: [BREAKS, FIXED]
          function: pipelines.name_like_in_group
          args:
            - (\w+)-release-\d+
            - apps
"""


def test_python_rule_imports_and_means_what_it_meant(mail2alert_bin, gocd, test_dir):
    """A configuration.yml of the Python tool with a Python regex and a
    Slack action: mail2alert-import carries slack-token and the regex
    (backslashes doubled for libconfig), -t accepts it, and it routes
    myapp-release-12 by the capture "myapp" as Python's re did."""
    importer = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "packaging", "mail2alert-import")
    yml = os.path.join(test_dir, "configuration.yml")
    with open(yml, "w") as f:
        f.write(PYTHON_YAML.replace("@URL@", gocd.url))
    p = run(importer, yml)
    assert p.returncode == 0, p.stderr
    assert 'slack-token = "$SLACK_TOKEN";' in p.stdout.splitlines()
    assert r'"(\\w+)-release-\\d+"' in p.stdout
    conf = os.path.join(test_dir, "mail2alert.conf")
    with open(conf, "w") as f:
        f.write(on_this_machine(p.stdout, test_dir))
    env = dict(os.environ, SLACK_TOKEN="xoxb-imported")
    gocd.set_groups({"apps": ["myapp"], "releases": ["myapp-release-12", "myapp-release-d"]})
    t = subprocess.run([mail2alert_bin, "-t", "-c", conf], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    assert t.returncode == 0, t.stderr
    r = subprocess.run([mail2alert_bin, "-r", "-c", conf], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    i = lines.index("    myapp-release-12")
    assert lines[i + 1] == "      BREAKS,FIXED -> mailto:apps@example.com slack:#apps", r.stdout
    assert "    myapp-release-d: no rule" in lines, r.stdout
