"""The operator commands, run directly: -r (report), -r -j, -n (dry run), -V,
-h, bad options, and packaging/mail2alert-import (SPEC 7, mail2alert(8)).

No Postfix here: each test runs the binary with subprocess against a GoCD
stand-in on 127.0.0.1 (per-test `gocd` fixture) and looks at what it prints.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.lab import free_port, plain_mail, stage_mail
from tests.lab.slack import SlackStandIn
from tests.system.m2a_helpers import GOCD_SENDER, TRIGGER, on_this_machine, q

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMPORTER = os.path.join(REPO, "packaging", "mail2alert-import")
ADMIN = "/go/api/admin/pipeline_groups"


# ------------------------------------------------------------------ helpers

def run(binary, *args, env=None, timeout=30):
    """BINARY ARGS... -> CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(binary)] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          env=e, universal_newlines=True)


def write(path, text):
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    return path


def line_of(text, marker):
    """1-based number of the only line of TEXT that contains MARKER."""
    hits = [i + 1 for i, l in enumerate(text.splitlines()) if marker in l]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def state_doc(groups=None, stages=None):
    """A state file in the format of rules/state_doc.h."""
    return json.dumps({"version": 1, "groups": groups or {}, "stages": stages or {},
                       "slack": []})


def unreachable_url():
    """A GoCD URL on a loopback port where nothing listens."""
    return "http://127.0.0.1:%d/go" % free_port()


# ------------------------------------------------------------------ -r

# A rule's line is where its "{" is: the line of its marker comment.
REPORT_CONFIG = """\
socket = "inet:8895@127.0.0.1";
slack-token = "xoxb-report-test";
@STATE@
managers = (
  {
    name = "gocd";
    url = "@URL@";
    api = "admin";
    messages-we-want = { to = "mail2alert@example.com"; };
    rules = (
      { name = "team-a breaks and fixes"; # R1
        filter = { events = ["BREAKS", "FIXED"]; function = "pipelines.in_group";
                   args = ["team-a"]; };
        actions = ["mailto:team-a@example.com", "slack:#team-a:full"]; },
      { filter = { function = "pipelines.name_like_in_group"; # R2
                   args = ["(.+)-release.*", "team-a"]; };
        actions = ["mailto:release@example.com"]; },
      { name = "ops deploys"; # R3
        filter = { function = "pipelines.in_group"; args = ["ops"]; };
        actions = ["mailto:ops@example.com"]; }
    );
  },
  {
    name = "mail";
    messages-we-want = { from = "backup@example.com"; };
    rules = ( { filter = { function = "mail.in_subject"; args = ["backup"]; };
                actions = ["mailto:sys@example.com"]; } );
  }
);
"""
REPORT_GROUPS = {"team-a": ["api", "web", "web-release-2"], "other": ["misc"]}


def report_config(test_dir, url, state=None):
    text = REPORT_CONFIG.replace("@URL@", url).replace(
        "@STATE@", "state-file = %s;" % q(state) if state else "")
    return write(os.path.join(test_dir, "report.conf"), text), text


def expected_report_body(text):
    """The text report of REPORT_GROUPS under REPORT_CONFIG, after line 1."""
    return [
        "  group team-a",
        "    api",
        "      BREAKS,FIXED -> mailto:team-a@example.com slack:#team-a:full",
        "    web",
        "      BREAKS,FIXED -> mailto:team-a@example.com slack:#team-a:full",
        "    web-release-2",
        # the capture "web" is in team-a: the release rule sees every event
        "      PASSES,FAILS,CANCELLED -> mailto:release@example.com",
        "      BREAKS,FIXED -> mailto:team-a@example.com slack:#team-a:full "
        "mailto:release@example.com",
        "  group other",
        "    misc: no rule",
        "  pipelines no rule covers: misc",
        '  rules that match nothing: #3 (line %d, "ops deploys")' % line_of(text, "# R3"),
        # "ops" is not listed: it may be hidden from the API user (issue 13)
        "  warning: groups the rules name that GoCD does not list: ops (absent, or hidden "
        "from the API user: view permission, dashboard view); mail of their pipelines is "
        "discarded with reason=pipeline-not-in-any-group",
        "manager mail: acts on mail from backup@example.com; not tied to pipelines",
    ] + CHAT_DESTINATIONS


# -r ends with where the chat actions post (issue 13)
CHAT_DESTINATIONS = ["chat destinations:", "slack:#team-a: slack api (chat.postMessage)"]


def expected_report_json(text, source):
    brief = ["mailto:team-a@example.com", "slack:#team-a:full"]
    return [{
        "manager": "gocd",
        "groups": [
            {"name": "team-a", "pipelines": [
                {"name": "api", "routes": [{"events": ["BREAKS", "FIXED"], "actions": brief}]},
                {"name": "web", "routes": [{"events": ["BREAKS", "FIXED"], "actions": brief}]},
                {"name": "web-release-2", "routes": [
                    {"events": ["PASSES", "FAILS", "CANCELLED"],
                     "actions": ["mailto:release@example.com"]},
                    {"events": ["BREAKS", "FIXED"],
                     "actions": brief + ["mailto:release@example.com"]}]}]},
            {"name": "other", "pipelines": [{"name": "misc", "routes": []}]}],
        "uncovered": ["misc"],
        "unused_rules": [{"rule": 3, "line": line_of(text, "# R3"), "name": "ops deploys"}],
        "unlisted_groups": ["ops"],     # not listed: maybe hidden from the API user
        "source": source,
    }]


def test_report_text_exact(mail2alert_bin, gocd, test_dir):
    gocd.set_groups(REPORT_GROUPS)
    path, text = report_config(test_dir, gocd.url)
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == (["manager gocd: groups from GoCD (%s)" % gocd.url]
                                     + expected_report_body(text))
    # the groups are fetched once, with the manager's api, and only read
    assert [(r.method, r.path) for r in gocd.requests()] == [("GET", ADMIN)]


def test_report_json_same_content(mail2alert_bin, gocd, test_dir):
    gocd.set_groups(REPORT_GROUPS)
    path, text = report_config(test_dir, gocd.url)
    p = run(mail2alert_bin, "-r", "-j", "-c", path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)          # the whole of stdout is one JSON document
    # only managers with a url are in the JSON report
    assert doc == expected_report_json(text, "GoCD (%s)" % gocd.url)


def test_report_from_state_file_when_gocd_down(mail2alert_bin, test_dir):
    state = write(os.path.join(test_dir, "state.json"),
                  state_doc({"gocd": REPORT_GROUPS}, {"api/build": "failure"}))
    url = unreachable_url()
    path, text = report_config(test_dir, url, state=state)
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    first, rest = p.stdout.splitlines()[0], p.stdout.splitlines()[1:]
    assert first.startswith("manager gocd: groups from GoCD unreachable: "), first
    assert url in first
    assert first.endswith("; using the state file %s" % state), first
    assert rest == expected_report_body(text)

    p = run(mail2alert_bin, "-r", "-j", "-c", path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc == expected_report_json(text, first[len("manager gocd: groups from "):])


def test_report_escapes_names_from_the_state_file(mail2alert_bin, test_dir):
    """Issue 14 point 8: names from outside cannot drive the terminal.  The state
    file reader refuses names that are not GoCD names; -r escapes what it prints
    anyway, so neither layer alone has to hold."""
    evil_group = "\x1b[2J\x1b]0;owned\x07team\u202e\u0085"
    evil_pipeline = "api\x1b[31m\u2066"
    state = write(os.path.join(test_dir, "state.json"),
                  state_doc({"gocd": {evil_group: [evil_pipeline], "team-a": ["web"]}}))
    path, _ = report_config(test_dir, unreachable_url(), state=state)
    for args in (["-r"], ["-r", "-j"]):
        p = run(mail2alert_bin, *args, "-c", path)
        for bad in ("\x1b", "\x07", "\u202e", "\u0085", "\u2066"):
            assert bad not in p.stdout and bad not in p.stderr, (args, p.stdout, p.stderr)


def test_report_gocd_down_without_state_file_fails(mail2alert_bin, test_dir):
    url = unreachable_url()
    path, _ = report_config(test_dir, url)
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 69           # EX_UNAVAILABLE
    err = p.stderr.strip().splitlines()
    assert len(err) == 1, p.stderr
    assert err[0].startswith("mail2alert: manager gocd: no pipeline groups: GoCD unreachable: ")
    assert url in err[0] and err[0].endswith("; no usable state file"), err[0]
    # no made-up report for gocd (every rule would look unused); the rest is printed
    assert "rules that match nothing" not in p.stdout
    assert p.stdout.splitlines() == [
        "manager mail: acts on mail from backup@example.com; not tied to pipelines"
    ] + CHAT_DESTINATIONS

    p = run(mail2alert_bin, "-r", "-j", "-c", path)
    assert p.returncode == 69
    assert json.loads(p.stdout) == []
    assert "no usable state file" in p.stderr


@pytest.mark.parametrize("content,why", [
    (state_doc({"other-manager": {"g": ["p"]}}), "nothing for it in the state file"),
    ("this is not JSON {", "no usable state file"),
])
def test_report_gocd_down_state_file_without_groups(mail2alert_bin, test_dir, content, why):
    state = write(os.path.join(test_dir, "state.json"), content)
    path, _ = report_config(test_dir, unreachable_url(), state=state)
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 69
    assert p.stderr.startswith("mail2alert: manager gocd: no pipeline groups: "), p.stderr
    assert why in p.stderr


TEAMS_CONFIG = """\
socket = "inet:8895@127.0.0.1";
managers = (
  {
    name = "gocd";
    url = "@URL@";
    api = "admin";
    messages-we-want = { to = "mail2alert@example.com"; };
    teams = (
      { address = "core@example.com"; # T1
        groups = ["core", "infra"]; events = ["BREAKS", "FIXED"];
        release-pattern = "(.+)-release.*"; }
    );
  }
);
"""


def test_report_shows_teams_expansion(mail2alert_bin, gocd, test_dir):
    """A team with two groups and a release-pattern stands for four rules:
    in_group and name_like_in_group for each group, all with the team's
    actions and events."""
    gocd.set_groups({"core": ["api"], "infra": ["db"], "releases": ["db-release-7"],
                     "other": ["misc"]})
    text = TEAMS_CONFIG.replace("@URL@", gocd.url)
    path = write(os.path.join(test_dir, "teams.conf"), text)
    p = run(mail2alert_bin, "-t", "-c", path)
    assert p.returncode == 0 and p.stdout.strip().endswith("OK (managers=1 rules=4)"), p
    team = line_of(text, "# T1")
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "manager gocd: groups from GoCD (%s)" % gocd.url,
        "  group core",
        "    api",
        "      BREAKS,FIXED -> mailto:core@example.com",
        "  group infra",
        "    db",
        "      BREAKS,FIXED -> mailto:core@example.com",
        "  group releases",
        # not in the team's groups, but its capture "db" is in infra
        "    db-release-7",
        "      BREAKS,FIXED -> mailto:core@example.com",
        "  group other",
        "    misc: no rule",
        "  pipelines no rule covers: misc",
        # the expanded rules are numbered, carry the team's line and a name
        '  rules that match nothing: #2 (line %d, "team core@example.com: group core '
        '(release-pattern)")' % team,
    ]
    doc = json.loads(run(mail2alert_bin, "-r", "-j", "-c", path).stdout)
    assert doc[0]["unused_rules"] == [
        {"rule": 2, "line": team, "name": "team core@example.com: group core (release-pattern)"}]


# ------------------------------------------------------------------ -n

DRY_CONFIG = """\
socket = "inet:8895@127.0.0.1";
slack-token = "xoxb-dry-run-test";
slack-api = "@SLACK_API@";
slack-webhooks = ( { channel = "#hooked"; url = "@SLACK_HOOK@"; } );
@STATE@
managers = (
  {
    name = "gocd";
    url = "@URL@";
    api = "admin";
    messages-we-want = { to = "mail2alert@example.com"; };
    rules = (
      { name = "team-a"; # D1
        filter = { events = ["BREAKS", "FIXED"]; function = "pipelines.in_group";
                   args = ["team-a"]; };
        actions = ["mailto:team-a@example.com"]; },
      { name = "chat"; # D2
        filter = { function = "pipelines.in_group"; args = ["chat"]; };
        actions = ["slack:#builds", "slack:#hooked"]; },
      { filter = { events = ["FAILS"]; }; actions = ["mailto:fails@example.com"]; } # D3
    );
  },
  {
    name = "mail";
    messages-we-want = { from = "backup@example.com"; };
    rules = ( { filter = { function = "mail.in_subject"; args = ["backup"]; }; # M1
                actions = ["mailto:sys@example.com"]; } );
  }
);
"""
LONG_PIPE = "release-train-for-product-x-" + "y" * 30
DRY_GROUPS = {"team-a": ["api", LONG_PIPE], "chat": ["chatty"]}


@pytest.fixture
def slack():
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture
def dry(mail2alert_bin, gocd, slack, test_dir):
    """dry(eml_bytes, *args, state=None) -> (CompletedProcess, config text)."""
    gocd.set_groups(DRY_GROUPS)

    def _run(eml, *args, state=None):
        text = (DRY_CONFIG.replace("@URL@", gocd.url)
                .replace("@SLACK_API@", slack.api_url)
                .replace("@SLACK_HOOK@", slack.hook_url("hooked"))
                .replace("@STATE@", "state-file = %s;" % q(state) if state else ""))
        conf = write(os.path.join(test_dir, "dry.conf"), text)
        eml_path = write(os.path.join(test_dir, "message.eml"), eml)
        return run(mail2alert_bin, "-n", eml_path, "-c", conf, *args), text
    return _run


def rule_lines(text, results):
    """'  rule #N (line L) "name": matched' lines for DRY_CONFIG's gocd rules."""
    names = {1: ' "team-a"', 2: ' "chat"', 3: ""}
    return ["  rule #%d (line %d)%s: %s" % (n, line_of(text, "# D%d" % n), names[n], r)
            for n, r in enumerate(results, 1)]


def test_dry_run_gocd_mail_routed(dry, gocd):
    data = stage_mail("api", "build", "broken", counter=12, encode="B")
    assert b"=?UTF-8?B?" in data                        # precondition: encoded subject
    p, text = dry(data)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "envelope:  from=<%s> to=<%s>" % (GOCD_SENDER, TRIGGER),
        "manager:   gocd (to mail2alert@example.com)",
        "subject:   Stage [api/12/build/1] is broken",      # decoded
        "stage:     pipeline=api stage=build counters=12/1",
        "event:     parsed=BREAKS previous=unknown (no state file) final=BREAKS",
        "groups:    GoCD (%s)" % gocd.url,
    ] + rule_lines(text, ["matched", "no match", "no match"]) + [
        "result:    to=<team-a@example.com>",
        "header:    X-Mail2alert: gocd; pipeline=api; stage=build; event=BREAKS",
    ]


def test_dry_run_pipeline_hidden_from_the_api_user(dry, gocd):
    """GoCD lists only the groups the API user may view: a pipeline hidden
    from it is in no group, and -n says so rather than just "no rule"."""
    gocd.set_groups({"team-a": ["api"]})         # "secret" is not visible
    p, text = dry(stage_mail("secret", "build", "broken"))
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert "result:    discarded (no mailto: recipient)" in out
    assert out[-1] == ("reason:    pipeline-not-in-any-group (GoCD's groups, as the API user "
                       "sees them, do not list the pipeline: hidden from that user?)")
    # a pipeline in a group that no rule wants: no such reason
    p, _ = dry(stage_mail("api", "build", "passed"))
    out = p.stdout.splitlines()
    assert out[-1] == "result:    discarded (no mailto: recipient)"


def test_report_warns_when_the_api_user_looks_restricted(mail2alert_bin, gocd, test_dir):
    path, _ = report_config(test_dir, gocd.url)
    # team-a (and ops) hidden from the API user: only "other" is listed
    gocd.set_groups({"other": ["misc"]})
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    assert ("  warning: groups the rules name that GoCD does not list: team-a ops (absent, "
            "or hidden from the API user: view permission, dashboard view); mail of their "
            "pipelines is discarded with reason=pipeline-not-in-any-group") in p.stdout.splitlines()
    doc = json.loads(run(mail2alert_bin, "-r", "-j", "-c", path).stdout)
    assert doc[0]["unlisted_groups"] == ["team-a", "ops"]
    # nothing visible at all
    gocd.set_groups({})
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode == 0, p.stderr
    assert ("  warning: GoCD lists no pipeline group to the API user: it may lack view "
            "permission, or its dashboard view hides everything") in p.stdout.splitlines()


def test_dry_run_several_rules_union(dry):
    # FAILS: the catch-all FAILS rule; team-a only takes BREAKS/FIXED
    p, text = dry(stage_mail("api", "test", "failed", counter=31, stage_counter=2))
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert "stage:     pipeline=api stage=test counters=31/2" in out
    assert "event:     parsed=FAILS previous=unknown (no state file) final=FAILS" in out
    assert rule_lines(text, ["no match", "no match", "matched"]) == [
        l for l in out if l.startswith("  rule #")]
    assert "result:    to=<fails@example.com>" in out
    assert out[-1] == "header:    X-Mail2alert: gocd; pipeline=api; stage=test; event=FAILS"


def test_dry_run_from_and_to_override_envelope(dry):
    data = stage_mail("api", "build", "broken")         # To: the trigger address
    p, _ = dry(data, "--from", "ci@example.net",
               "--to", "ops@example.org, Mail2alert@EXAMPLE.com", "--to", "x@example.org")
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0] == ("envelope:  from=<ci@example.net> to=<ops@example.org>,"
                      "<Mail2alert@EXAMPLE.com>,<x@example.org>")
    # the trigger's local part is compared exactly: "Mail2alert" is not it
    assert out[1:] == ["manager:   none wants it: accepted untouched"]

    p, _ = dry(data, "--to", "mail2alert@EXAMPLE.com")
    out = p.stdout.splitlines()
    assert out[0] == "envelope:  from=<%s> to=<mail2alert@EXAMPLE.com>" % GOCD_SENDER
    assert out[1] == "manager:   gocd (to mail2alert@example.com)"
    assert "result:    to=<team-a@example.com>" in out

    # --to replaces the headers' recipients, it does not add to them
    p, _ = dry(data, "--to", "someone@example.org")
    assert p.stdout.splitlines() == [
        "envelope:  from=<%s> to=<someone@example.org>" % GOCD_SENDER,
        "manager:   none wants it: accepted untouched"]

    # --from picks the from-manager
    mail = plain_mail(subject="Server backup failed", to="admin@example.com",
                      sender="someone@example.com")
    p, text = dry(mail, "--from", "backup@example.com")
    out = p.stdout.splitlines()
    assert out[:3] == ["envelope:  from=<backup@example.com> to=<admin@example.com>",
                       "manager:   mail (from backup@example.com)",
                       "subject:   Server backup failed"]
    assert "  rule #1 (line %d): matched" % line_of(text, "# M1") in out
    assert "result:    to=<sys@example.com>" in out
    assert out[-1] == "header:    X-Mail2alert: mail; event=none"
    assert not any(l.startswith("groups:") for l in out)    # no GoCD needed


def test_dry_run_envelope_from_headers(dry):
    """Without --from: Return-Path, else From; without --to: To and Cc."""
    mail = plain_mail(subject="Server backup done", to="a@example.com",
                      sender="someone@example.com",
                      extra_headers=[("Cc", "Other <b@example.com>, c@example.com"),
                                     ("Return-Path", "<backup@example.com>")])
    p, _ = dry(mail)
    out = p.stdout.splitlines()
    assert out[0] == ("envelope:  from=<backup@example.com> to=<a@example.com>,"
                      "<b@example.com>,<c@example.com>")
    assert out[1] == "manager:   mail (from backup@example.com)"


def test_dry_run_message_with_lf_line_ends(dry):
    """A message saved with Unix line ends, long subject folded."""
    pipe = LONG_PIPE
    data = stage_mail(pipe, "build", "fixed").replace(b"\r\n", b"\n")
    assert b"\n " in data.split(b"Subject:", 1)[1].split(b"MIME-Version", 1)[0]
    p, _ = dry(data)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert "subject:   Stage [%s/12/build/1] is fixed" % pipe in out
    assert "event:     parsed=FIXED previous=unknown (no state file) final=FIXED" in out
    assert out[-1] == ("header:    X-Mail2alert: gocd; pipeline=%s; stage=build; event=FIXED"
                       % pipe)


def test_dry_run_display_names_with_commas(dry):
    mail = plain_mail(subject="Server backup failed", to='"Ops, Team" <ops@example.org>',
                      sender='"Backup, Nightly" <backup@example.com>')
    p, _ = dry(mail)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0] == "envelope:  from=<backup@example.com> to=<ops@example.org>"
    assert out[1] == "manager:   mail (from backup@example.com)"


def test_dry_run_unwanted_mail_accepted_untouched(dry, gocd):
    base = gocd.count(ADMIN)
    p, _ = dry(plain_mail(subject="lunch?", to="bob@example.com", sender="alice@example.com"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "envelope:  from=<alice@example.com> to=<bob@example.com>",
        "manager:   none wants it: accepted untouched"]
    assert gocd.count(ADMIN) == base            # no manager, no reason to ask GoCD


def test_dry_run_slack_action_shows_post(dry, slack):
    p, text = dry(stage_mail("chatty", "deploy", "broken", counter=5))
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert rule_lines(text, ["no match", "matched", "no match"]) == [
        l for l in out if l.startswith("  rule #")]
    title = "Stage [chatty/5/deploy/1] is broken"
    first_line = "See details: http://10.0.0.5:8153/go/pipelines/chatty/5/deploy/1"
    # no mailto: the daemon discards the mail after queueing the posts
    assert out[out.index("  rule #3 (line %d): no match" % line_of(text, "# D3")) + 1:] == [
        "result:    discarded (no mailto: recipient)",
        'slack:     #builds (brief) title="%s" text="%s"' % (title, first_line),
        'slack:     #hooked (brief, webhook) title="%s" text="%s"' % (title, first_line),
    ]
    assert slack.requests() == []               # shown, not sent


def test_dry_run_escapes_what_came_in_the_mail(dry, slack):
    """Issue 14 point 8: a subject or body cannot drive the terminal or forge a field."""
    subject = 'Stage [chatty/5/deploy/1] is broken \u202eexe.txt\u0085" text="forged'
    data = stage_mail("chatty", "deploy", "broken", counter=5, subject=subject)
    data = data.replace(b"See details:", b"\x1b[2J\x1b]0;owned\x07See details:")
    p, _ = dry(data)
    assert p.returncode == 0, p.stderr
    shown_subject = ('Stage [chatty/5/deploy/1] is broken \\u202Eexe.txt\\u0085\\" '
                     'text=\\"forged')
    assert "subject:   " + shown_subject in p.stdout.splitlines()
    assert ('slack:     #builds (brief) title="%s" text="\\x1B[2J\\x1B]0;owned\\x07'
            'See details: http://10.0.0.5:8153/go/pipelines/chatty/5/deploy/1"'
            % shown_subject) in p.stdout.splitlines()
    for bad in ("\x1b", "\x07", "\u202e", "\u0085"):
        assert bad not in p.stdout


def test_dry_run_edge_detection_from_state_file(dry, gocd, test_dir):
    state = write(os.path.join(test_dir, "state.json"),
                  state_doc({"gocd": {"team-a": ["api"]}}, {"api/build": "success"}))
    before = open(state, "rb").read()
    st = os.stat(state)
    p, text = dry(stage_mail("api", "build", "failed"), state=state)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert ("event:     parsed=FAILS previous=success (from the state file %s) final=BREAKS"
            % state) in out
    assert rule_lines(text, ["matched", "no match", "no match"]) == [
        l for l in out if l.startswith("  rule #")]
    assert "result:    to=<team-a@example.com>" in out
    assert out[-1] == "header:    X-Mail2alert: gocd; pipeline=api; stage=build; event=BREAKS"
    # a dry run changes no state: the same mail again is still a BREAKS
    p2, _ = dry(stage_mail("api", "build", "failed"), state=state)
    assert [l for l in p2.stdout.splitlines() if l.startswith("event:")] == [
        l for l in out if l.startswith("event:")]
    assert open(state, "rb").read() == before
    assert os.stat(state).st_mtime_ns == st.st_mtime_ns
    assert not os.path.exists(state + ".tmp")
    assert {r.method for r in gocd.requests()} == {"GET"}

    # "passed" after a saved failure is FIXED
    write(state, state_doc({}, {"api/build": "failure"}))
    p, _ = dry(stage_mail("api", "build", "passed"), state=state)
    assert ("event:     parsed=PASSES previous=failure (from the state file %s) final=FIXED"
            % state) in p.stdout.splitlines()


def test_dry_run_groups_from_state_file_when_gocd_down(mail2alert_bin, test_dir):
    state = write(os.path.join(test_dir, "state.json"),
                  state_doc({"gocd": {"team-a": ["api"]}}))
    url = unreachable_url()
    text = (DRY_CONFIG.replace("@URL@", url).replace("@SLACK_API@", "http://127.0.0.1:9/api")
            .replace("@SLACK_HOOK@", "http://127.0.0.1:9/hooks/x")
            .replace("@STATE@", "state-file = %s;" % q(state)))
    conf = write(os.path.join(test_dir, "dry.conf"), text)
    eml = write(os.path.join(test_dir, "m.eml"), stage_mail("api", "build", "broken"))
    p = run(mail2alert_bin, "-n", eml, "-c", conf)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    groups = [l for l in out if l.startswith("groups:")]
    assert len(groups) == 1 and groups[0].startswith("groups:    GoCD unreachable: ")
    assert groups[0].endswith("; using the state file %s" % state)
    assert "result:    to=<team-a@example.com>" in out

    # neither GoCD nor a state file: unresolved, with what `unresolved` would do
    os.unlink(state)
    p = run(mail2alert_bin, "-n", eml, "-c", conf)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == ("result:    unresolved (pipeline groups never "
                                         "loaded): unresolved = accept, delivered unchanged")


def test_dry_run_sends_nothing(mail2alert_bin, dry, gocd, slack, test_dir):
    """Under strace: the only network connections go to the GoCD stand-in
    (no SMTP, no Slack), and GoCD only sees GETs."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed")
    trace = os.path.join(test_dir, "connect.trace")
    for data in (stage_mail("chatty", "deploy", "broken"), stage_mail("api", "build", "fixed")):
        p, _ = dry(data)                # writes dry.conf and message.eml
        assert p.returncode == 0, p.stderr
        t = subprocess.run([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg",
                            "-o", trace, mail2alert_bin, "-n",
                            os.path.join(test_dir, "message.eml"),
                            "-c", os.path.join(test_dir, "dry.conf")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        if t.returncode != 0 and "ptrace" in t.stderr:
            pytest.skip("strace cannot trace here: %s" % t.stderr.strip())
        assert t.returncode == 0, t.stderr
        assert t.stdout == p.stdout
        with open(trace) as f:
            calls = f.read()
        ports = {int(m) for m in re.findall(r"sin6?_port=htons\((\d+)\)", calls)}
        assert ports == {gocd.port}, calls
    assert slack.requests() == []
    assert {(r.method, r.path) for r in gocd.requests()} == {("GET", ADMIN)}


def test_dry_run_unreadable_message(mail2alert_bin, test_dir):
    conf = write(os.path.join(test_dir, "c.conf"), DRY_CONFIG.replace("@URL@", unreachable_url())
                 .replace("@SLACK_API@", "http://127.0.0.1:9/api")
                 .replace("@SLACK_HOOK@", "http://127.0.0.1:9/hooks/x").replace("@STATE@", ""))
    missing = os.path.join(test_dir, "no-such.eml")
    p = run(mail2alert_bin, "-n", missing, "-c", conf)
    assert p.returncode == 66           # EX_NOINPUT
    assert p.stdout == ""
    assert p.stderr.strip() == "mail2alert: %s: No such file or directory" % missing


# ------------------------------------------------------------------ -V -h options

def test_version(mail2alert_bin):
    p = run(mail2alert_bin, "-V")
    assert p.returncode == 0 and p.stderr == ""
    assert re.fullmatch(r"mail2alert \S+\n", p.stdout), p.stdout
    with open(os.path.join(REPO, "Makefile")) as f:
        m = re.search(r"(?m)^VERSION\s*[:?]?=\s*(\S+)", f.read())
    if m and not os.environ.get("MAIL2ALERT"):
        assert p.stdout == "mail2alert %s\n" % m.group(1)


def test_help(mail2alert_bin):
    p = run(mail2alert_bin, "-h")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("usage: mail2alert ")
    for opt in ("-t [-c FILE]", "-r [-c FILE] [-j]", "-n FILE.eml", "--from ADDR",
                "--to ADDR", "-V | -h", "SIGUSR1"):
        assert opt in p.stdout, opt


@pytest.mark.parametrize("args,message", [
    (["-x"], "invalid option"),
    (["--bogus"], "unrecognized option"),
    (["-n"], "requires an argument"),
    (["-t", "extra-operand"], 'unexpected argument "extra-operand"'),
])
def test_bad_command_line_exits_ex_usage(mail2alert_bin, args, message):
    p = run(mail2alert_bin, *args)
    assert p.returncode == 64           # EX_USAGE
    assert p.stdout == ""
    assert message in p.stderr
    assert "usage: mail2alert" in p.stderr


# ------------------------------------------------------------------ mail2alert-import

# The configuration.yml of the Python tool's README, verbatim.
OLD_README_YAML = """\
---
local-smtp: localhost:1025
remote-smtp: localhost:8025
managers:
  - name: gocd
    url: http://localhost:8080/go
    user: olle
    passwd: pelle
    messages-we-want:
      to: mail2alert@example.com
    rules:
      - actions:
          - mailto:cat@example.com
        filter:
          events:
            - BREAKS
          function: pipelines.in_group
          args:
            - my-group
      - actions:
          - mailto:cat@example.com
        filter:
          events:
            - BREAKS
            - FIXED
          function: pipelines.name_like_in_group
          args:
            - (.+)-release.*
            - my-group
  - name: mail
    messages-we-want:
      from: go@example.com
    rules:
      - actions:
          - mailto:sys@example.com
          - mailto:op@example.com
        filter:
          function: mail.in_subject
          args:
            - server
            - backup
"""

# The same rules, written by hand for mail2alert.
NATIVE_EQUIVALENT = """\
socket = "inet:8895@127.0.0.1";
managers = (
  { name = "gocd"; url = "@URL@"; user = "olle"; passwd = "pelle";
    messages-we-want = { to = "mail2alert@example.com"; };
    rules = (
      { filter = { events = ["BREAKS"]; function = "pipelines.in_group"; args = ["my-group"]; };
        actions = ["mailto:cat@example.com"]; },
      { filter = { events = ["BREAKS", "FIXED"]; function = "pipelines.name_like_in_group";
                   args = ["(.+)-release.*", "my-group"]; };
        actions = ["mailto:cat@example.com"]; }
    ); },
  { name = "mail"; messages-we-want = { from = "go@example.com"; };
    rules = ( { filter = { function = "mail.in_subject"; args = ["server", "backup"]; };
                actions = ["mailto:sys@example.com", "mailto:op@example.com"]; } ); }
);
"""

IMPORT_GROUPS = {"my-group": ["ppp"], "releases": ["ppp-release-1.2.3"]}


def importer(*args, env=None):
    """packaging/mail2alert-import run as an operator would (its #! line)."""
    return run(IMPORTER, *args, env=env)


def routes_by_pipeline(report):
    return {p["name"]: p["routes"] for g in report["groups"] for p in g["pipelines"]}


def test_import_old_readme_example(mail2alert_bin, gocd, test_dir):
    yml = write(os.path.join(test_dir, "configuration.yml"), OLD_README_YAML)
    p = importer(yml)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    conf_text = p.stdout
    conf = write(os.path.join(test_dir, "imported.conf"), on_this_machine(conf_text, test_dir))

    c = run(mail2alert_bin, "-t", "-c", conf)
    assert c.returncode == 0, c.stderr
    assert c.stdout == "%s: OK (managers=2 rules=3)\n" % conf

    # local-smtp/remote-smtp are kept as a comment that says what replaces them
    comments = [l for l in conf_text.splitlines() if l.startswith("#")]
    assert "# local-smtp: localhost:1025" in comments
    assert "# remote-smtp: localhost:8025" in comments
    prose = " ".join(l.lstrip("# ") for l in comments)
    assert "Postfix milter" in prose and "socket below" in prose
    # the packaged socket below Postfix's chroot, and README's main.cf line
    assert "smtpd_milters = unix:/mail2alert/milter.sock" in prose
    assert "milter_default_action = accept" in prose
    assert 'socket = "unix:/var/spool/postfix/mail2alert/milter.sock";' in conf_text.splitlines()
    assert 'socket-mode = "0666";' in conf_text.splitlines()
    assert "localhost:1025" not in re.sub(r"(?m)^#.*$", "", conf_text)

    # the rules are equal: route the imported config and a hand-written one
    # against a stand-in that wants the old tool's credentials
    gocd.set_groups(IMPORT_GROUPS)
    gocd.set_auth("olle", "pelle")
    assert 'url = "http://localhost:8080/go";' in conf_text
    live = write(os.path.join(test_dir, "imported-live.conf"),
                 conf_text.replace("http://localhost:8080/go", gocd.url))
    native = write(os.path.join(test_dir, "native.conf"),
                   NATIVE_EQUIVALENT.replace("@URL@", gocd.url))
    r = run(mail2alert_bin, "-r", "-j", "-c", live)
    assert r.returncode == 0, r.stderr
    imported = json.loads(r.stdout)
    assert len(imported) == 1 and imported[0]["manager"] == "gocd"
    cat = ["mailto:cat@example.com"]
    assert routes_by_pipeline(imported[0]) == {
        "ppp": [{"events": ["BREAKS"], "actions": cat}],
        "ppp-release-1.2.3": [{"events": ["BREAKS", "FIXED"], "actions": cat}],
    }
    assert imported[0]["uncovered"] == [] and imported[0]["unused_rules"] == []
    assert imported[0]["source"] == "GoCD (%s)" % gocd.url     # credentials accepted
    r = run(mail2alert_bin, "-r", "-j", "-c", native)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == imported

    # the mail manager came along too
    eml = write(os.path.join(test_dir, "backup.eml"),
                plain_mail(subject="Server Backup Failed", to="admin@example.com",
                           sender="go@example.com"))
    n = run(mail2alert_bin, "-n", eml, "-c", live)
    assert n.returncode == 0, n.stderr
    out = n.stdout.splitlines()
    assert "manager:   mail (from go@example.com)" in out
    assert "result:    to=<sys@example.com>,<op@example.com>" in out


EARLY_SPELLING_YAML = """\
managers:
  - name: gocd
    url: @URL@
    message-we-want:
      rcpt: mail2alert@example.com
    rules:
      - actions: [mailto:cat@example.com]
        filter:
          event: [BREAKS, FIXED]
          function: pipelines.in_group
          args: [my-group]
      - actions: [mailto:rel@example.com]
        filter:
          event: CANCELLED
          function: pipelines.name_like_in_group
          args: ["(.+)-release.*", my-group]
"""


def test_import_early_spellings(mail2alert_bin, gocd, test_dir):
    """`message-we-want: rcpt:` and `filter: event:` (the old README's
    spelling, also as a single string) import as messages-we-want/to and
    events."""
    gocd.set_groups(IMPORT_GROUPS)
    yml = write(os.path.join(test_dir, "configuration.yml"),
                EARLY_SPELLING_YAML.replace("@URL@", gocd.url))
    p = importer(yml)
    assert p.returncode == 0, p.stderr
    conf_text = p.stdout
    assert 'messages-we-want = { to = "mail2alert@example.com"; };' in conf_text
    assert "message-we-want" not in conf_text.replace("messages-we-want", "")
    assert "rcpt" not in conf_text
    conf = write(os.path.join(test_dir, "imported.conf"), on_this_machine(conf_text, test_dir))
    c = run(mail2alert_bin, "-t", "-c", conf)
    assert c.returncode == 0, c.stderr
    r = run(mail2alert_bin, "-r", "-j", "-c", conf)
    assert r.returncode == 0, r.stderr
    assert routes_by_pipeline(json.loads(r.stdout)[0]) == {
        "ppp": [{"events": ["BREAKS", "FIXED"], "actions": ["mailto:cat@example.com"]}],
        "ppp-release-1.2.3": [{"events": ["CANCELLED"], "actions": ["mailto:rel@example.com"]}],
    }
    # and it routes a real mail file the same way
    eml = write(os.path.join(test_dir, "m.eml"), stage_mail("ppp", "build", "fixed"))
    n = run(mail2alert_bin, "-n", eml, "-c", conf)
    assert "result:    to=<cat@example.com>" in n.stdout.splitlines(), n.stdout


def test_import_keeps_environment_references(mail2alert_bin, gocd, test_dir):
    """The old README puts credentials in $GOUSER/$GOPASS: they stay
    references, expanded by mail2alert at load."""
    gocd.set_groups(IMPORT_GROUPS)
    gocd.set_auth("olle", "pelle")
    yml = write(os.path.join(test_dir, "configuration.yml"),
                OLD_README_YAML.replace("http://localhost:8080/go", gocd.url)
                .replace("user: olle", "user: $GOUSER").replace("passwd: pelle", "passwd: $GOPASS"))
    p = importer(yml)
    assert p.returncode == 0, p.stderr
    assert 'user = "$GOUSER";' in p.stdout and 'passwd = "$GOPASS";' in p.stdout
    conf = write(os.path.join(test_dir, "imported.conf"), p.stdout)
    env = dict(os.environ)
    env.pop("GOUSER", None)
    env.pop("GOPASS", None)
    c = subprocess.run([mail2alert_bin, "-t", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=30)
    assert c.returncode == 78 and "environment variable GOUSER is not set" in c.stderr
    r = run(mail2alert_bin, "-r", "-j", "-c", conf, env={"GOUSER": "olle", "GOPASS": "pelle"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["source"] == "GoCD (%s)" % gocd.url


@pytest.mark.parametrize("content,message", [
    ("managers: [\n  - name: gocd\n", "while parsing"),
    ("managers:\n\t- name: gocd\n", "found character '\\t'"),
    ("- just\n- a list\n", "not a mail2alert configuration"),
])
def test_import_invalid_yaml_exits_1(test_dir, content, message):
    yml = write(os.path.join(test_dir, "configuration.yml"), content)
    p = importer(yml)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("mail2alert-import: %s: " % yml), p.stderr
    assert message in p.stderr


@pytest.mark.parametrize("content", [
    "managers: {gocd: 1}\n",
    "managers: 5\n",
    "managers:\n  - name: gocd\n    url: http://x/go\n    poll-interval: 30s\n",
    "managers:\n  - name: gocd\n    rules: [just-a-string]\n",
], ids=["managers-mapping", "managers-number", "poll-interval-30s", "rule-string"])
def test_import_wrong_shape_exits_1_with_message(test_dir, content):
    yml = write(os.path.join(test_dir, "configuration.yml"), content)
    p = importer(yml)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr, p.stderr
    assert p.stderr.startswith("mail2alert-import: %s: " % yml), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_import_missing_file_exits_1(test_dir):
    missing = os.path.join(test_dir, "nope.yml")
    p = importer(missing)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("mail2alert-import: %s: " % missing)
    assert "No such file or directory" in p.stderr


def test_report_against_a_gzip_bomb_fails_fast(mail2alert_bin, gocd, test_dir):
    """-r polls like the daemon, so it refuses the same bomb before parsing
    it: a clear error and a non-zero exit, in seconds, not gigabytes."""
    gocd.set_mode("bomb", endpoint="admin")
    path, _ = report_config(test_dir, gocd.url)
    p = run(mail2alert_bin, "-r", "-c", path)
    assert p.returncode != 0
    assert "answer larger than 33554432 bytes" in p.stderr, p.stderr
