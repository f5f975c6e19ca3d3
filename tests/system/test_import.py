"""mail2alert-import on the Python mail2alert's own configuration.yml
(tests/import/configuration.yml, its src/test/configuration.yml unchanged):
it imports, passes mail2alert -t with its variables set, and mail2alert -n
routes mail as the Python tool did.  Also: every key mail2alert knows
carries over (slack-token first: without it every slack: action fails -t),
and regular expressions are copied as written, never translated.

What the Python tool did, from its source (magnus-lycka/mail2alert,
src/mail2alert): server.py gives a message to the first manager whose
wants_message() is true (plugin/mail.py: `to` in the envelope recipients,
else `from` equal to the envelope sender); process_message() collects the
mailto: destinations of every matching rule as the new recipients, and an
empty list drops the message (server.py _adeliver: "Dropping email.").
plugin/gocd.py: a rule with `events` matches only those events; with no
earlier state the event is the one the subject names ("is broken" BREAKS,
"is fixed" FIXED, "failed" FAILS, "passed" PASSES); pipelines.in_group looks
the pipeline up in /api/config/pipeline_groups.  mail.in_subject: every word
in the subject, case-insensitively.  Mail no manager wants passes untouched.
"""

import importlib.machinery
import importlib.util
import os
import re
import subprocess

import pytest
import yaml

from tests.lab import plain_mail, stage_mail
from tests.system.m2a_helpers import TRIGGER, on_this_machine

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMPORTER = os.path.join(REPO, "packaging", "mail2alert-import")
FIXTURE = os.path.join(REPO, "tests", "import", "configuration.yml")

# Pipelines of the GoCD stand-in: ppp is in my-group (the fixture's group).
GROUPS = {"my-group": ["ppp", "ppp-release-12"], "other": ["qqq"]}


def run(args, env=None, unset=()):
    e = dict(os.environ)
    e.update(env or {})
    for name in unset:
        e.pop(name, None)
    return subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=e, timeout=30)


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


@pytest.fixture
def imported(gocd, test_dir):
    """The fixture imported, its GoCD URL pointed at the stand-in, which
    wants the fixture's credentials (olle/pelle) as the old GoCD did."""
    gocd.set_groups(GROUPS)
    gocd.set_auth("olle", "pelle")
    p = run([IMPORTER, FIXTURE])
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert 'url = "http://localhost:8080/go";' in p.stdout
    conf = write(os.path.join(test_dir, "imported.conf"),
                 on_this_machine(p.stdout.replace("http://localhost:8080/go", gocd.url),
                                 test_dir))
    return conf, p.stdout


def dry_run(binary, conf, test_dir, data, mail_from, env=None):
    """mail2alert -n: the result line (what happens to the recipients)."""
    eml = write(os.path.join(test_dir, "m.eml"), data)
    p = run([binary, "-n", eml, "--from", mail_from, "-c", conf],
            env=env or {"SLACK_TOKEN": "xoxb-imported"})
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    managers = [l for l in out if l.startswith("manager:")]
    results = [l for l in out if l.startswith("result:")]
    return managers[0], (results[0] if results else None)


def test_fixture_imports_with_slack_token(imported):
    conf, text = imported
    lines = text.splitlines()
    # the Python tool's slack-token, as the reference it was
    assert 'slack-token = "$SLACK_TOKEN";' in lines
    assert not [l for l in lines if l.startswith("#") and "slack" in l]
    assert 'user = "olle";' in [l.strip() for l in lines]
    assert 'passwd = "pelle";' in [l.strip() for l in lines]


def test_fixture_passes_check_with_its_variables(mail2alert_bin, imported):
    conf, _ = imported
    p = run([mail2alert_bin, "-t", "-c", conf], env={"SLACK_TOKEN": "xoxb-imported"})
    assert p.returncode == 0, p.stderr
    assert p.stdout == "%s: OK (managers=2 rules=2)\n" % conf
    # and says which variable is missing, as -t should
    p = run([mail2alert_bin, "-t", "-c", conf], unset=["SLACK_TOKEN"])
    assert p.returncode != 0
    assert "SLACK_TOKEN" in p.stderr


# (subject maker, envelope sender, what the Python tool did)
GOCD = "go@gocd.example.com"
CASES = [
    # gocd manager: BREAKS of a my-group pipeline goes to cat@
    (lambda: stage_mail("ppp", "build", "broken"), GOCD, "to=<cat@example.com>"),
    # other events, other groups: no rule, so the Python tool dropped it
    (lambda: stage_mail("ppp", "build", "fixed"), GOCD, "discarded"),
    (lambda: stage_mail("ppp", "build", "failed"), GOCD, "discarded"),
    (lambda: stage_mail("qqq", "build", "broken"), GOCD, "discarded"),
    # mail manager: both words, any case, to sys@ and op@
    (lambda: plain_mail(subject="Nightly SERVER Backup failed", to="admin@example.com",
                        sender="go@example.com"),
     "go@example.com", "to=<sys@example.com>,<op@example.com>"),
    (lambda: plain_mail(subject="server restarted", to="admin@example.com",
                        sender="go@example.com"), "go@example.com", "discarded"),
    # nobody's: untouched
    (lambda: plain_mail(subject="server backup", to="admin@example.com",
                        sender="alice@example.com"), "alice@example.com", None),
]


@pytest.mark.parametrize("make,mail_from,expected", CASES,
                         ids=["broken", "fixed", "failed", "other-group", "backup",
                              "one-word", "nobodys"])
def test_fixture_routes_as_the_python_tool(mail2alert_bin, imported, test_dir,
                                           make, mail_from, expected):
    conf, _ = imported
    manager, result = dry_run(mail2alert_bin, conf, test_dir, make(), mail_from)
    if expected is None:
        assert manager == "manager:   none wants it: accepted untouched"
    elif expected == "discarded":
        assert result == "result:    discarded (no mailto: recipient)", (manager, result)
    else:
        assert result == "result:    %s" % expected, (manager, result)


def test_every_config_key_carries_over(mail2alert_bin, gocd, test_dir):
    """A YAML that uses every key of the importer's tables imports to a file
    with all of them, none commented out, which -t accepts.  (That the tables
    hold every key mail2alert knows is the config table's own test.)"""
    loader = importlib.machinery.SourceFileLoader("m2a_import", IMPORTER)
    spec = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(spec)
    secret = write(os.path.join(test_dir, "token"), "t0k3n\n")
    os.chmod(secret, 0o600)
    everything = {
        "socket": "inet:8895@127.0.0.1", "user": "mail2alert", "socket-group": "root",
        "socket-mode": "0660", "allow-root": True,
        "state-file": os.path.join(test_dir, "state.json"),
        "unresolved": "tempfail", "body-limit": 65536, "slack-token": "$SLACK_TOKEN",
        "slack-api": "https://slack.example.com/api",
        "slack-webhooks": [{"channel": "#hooked", "url": "https://hooks.example.com/x"}],
        "slack-queue-size": 50, "slack-retry-time": 60,
        "managers": [{
            "name": "gocd", "url": gocd.url, "api": "admin", "token-file": secret,
            "ca-file": "/etc/ssl/certs/ca-certificates.crt", "connect-timeout": 3,
            "timeout": 9, "poll-interval": 45,
            "messages-we-want": {"to": TRIGGER},
            "rules": [{"name": "r", "owner": "o",
                       "filter": {"events": ["BREAKS"], "function": "pipelines.in_group",
                                  "args": ["my-group"]},
                       "actions": ["slack:#builds", "slack:#hooked:full"]}],
            "teams": [{"address": "team@example.com", "groups": ["other"],
                       "events": ["FIXED"], "release-pattern": "(.+)-release.*",
                       "actions": ["slack:#builds"]}],
        }] + [   # the other ways to authenticate, one manager each
            {"name": "gocd-%d" % n, "url": gocd.url, "messages-we-want": {"to": "m%d@x.org" % n},
             "rules": [{"actions": ["mailto:a@example.com"]}], **auth}
            for n, auth in enumerate([{"user": "u", "passwd": "p"},
                                      {"user": "u", "passwd-file": secret},
                                      {"token": "t"}])
        ],
    }
    yml = write(os.path.join(test_dir, "everything.yml"), yaml.safe_dump(everything))
    p = run([IMPORTER, yml])
    assert p.returncode == 0, p.stderr
    text = p.stdout
    assert "not imported" not in text, text
    for key in list(spec.ROOT_KEYS) + list(spec.MANAGER_KEYS) + list(spec.TEAM_KEYS) + \
            ["owner", "events", "function", "args", "channel"]:
        assert re.search(r"(^|[ {])%s = " % re.escape(key), text, re.M), (key, text)
    assert "allow-root = true;" in text and "body-limit = 65536;" in text
    conf = write(os.path.join(test_dir, "everything.conf"), on_this_machine(text, test_dir))
    c = run([mail2alert_bin, "-t", "-c", conf], env={"SLACK_TOKEN": "xoxb-1"})
    assert c.returncode == 0, c.stderr


def test_slack_actions_need_the_imported_token(mail2alert_bin, test_dir):
    """The fixture plus a slack: rule, as teams migrating with Slack have:
    -t passes because slack-token came along."""
    with open(FIXTURE) as f:
        old = yaml.safe_load(f)
    old["managers"][0]["rules"].append(
        {"actions": ["slack:#builds"], "filter": {"function": "pipelines.in_group",
                                                  "args": ["my-group"]}})
    yml = write(os.path.join(test_dir, "configuration.yml"), yaml.safe_dump(old))
    p = run([IMPORTER, yml])
    assert p.returncode == 0, p.stderr
    conf = write(os.path.join(test_dir, "slack.conf"), on_this_machine(p.stdout, test_dir))
    c = run([mail2alert_bin, "-t", "-c", conf], env={"SLACK_TOKEN": "xoxb-imported"})
    assert c.returncode == 0, c.stderr


def test_python_regex_copied_as_written(mail2alert_bin, gocd, test_dir):
    r"""A rule written for Python's re, `(\w+)-release-\d+`, reaches the
    config unchanged (libconfig-escaped): the importer translates nothing;
    mail2alert reads it with PCRE2, where it means what it meant in Python."""
    gocd.set_groups(GROUPS)
    old = {"managers": [{
        "name": "gocd", "url": gocd.url, "messages-we-want": {"to": TRIGGER},
        "rules": [{"actions": ["mailto:rel@example.com"],
                   "filter": {"function": "pipelines.name_like_in_group",
                              "args": [r"(\w+)-release-\d+", "my-group"]}}]}]}
    yml = write(os.path.join(test_dir, "configuration.yml"), yaml.safe_dump(old))
    p = run([IMPORTER, yml])
    assert p.returncode == 0, p.stderr
    assert r'args = ["(\\w+)-release-\\d+", "my-group"];' in p.stdout
    conf = write(os.path.join(test_dir, "regex.conf"), on_this_machine(p.stdout, test_dir))
    # Python: re.search finds ppp-release-12, group(1) is ppp, in my-group
    _, result = dry_run(mail2alert_bin, conf, test_dir,
                        stage_mail("ppp-release-12", "build", "broken"), GOCD)
    assert result == "result:    to=<rel@example.com>"
