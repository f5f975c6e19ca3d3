#!/usr/bin/python3
"""make demo: mail2alert in a real Postfix on loopback, end to end.

Starts a private Postfix on 127.0.0.1 whose smtpd calls the milter, a
capturing SMTP sink as Postfix's relay host, a GoCD stand-in serving the
pipeline-groups API, and the mail2alert binary; sends a handful of GoCD
mails over SMTP; prints where each one went.  Stops everything it started.
"""

import os
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.lab import (GocdStandIn, MilterProcess, PostfixInstance,  # noqa: E402
                       SmtpSink, free_port, plain_mail, send, stage_mail)

TRIGGER = "mail2alert@example.com"
GOCD = "go@gocd.example.com"

GROUPS = {
    "team-api": ["api", "api-gateway"],
    "team-web": ["web"],
}

CONFIG = """
socket = "inet:{port}@127.0.0.1";
allow-root = true;                     # the demo runs as root and has no mail2alert user
managers = (
  {{
    name = "gocd";
    url = "{gocd}";
    api = "admin";
    poll-interval = 2;
    messages-we-want = {{ to = "{trigger}"; }};
    rules = (
      {{ name = "api team: breaks and fixes";
         filter = {{ events = ["BREAKS", "FIXED"]; function = "pipelines.in_group";
                    args = ["team-api"]; }};
         actions = ["mailto:api-team@example.com"]; }},
      {{ name = "web team: everything";
         filter = {{ function = "pipelines.in_group"; args = ["team-web"]; }};
         actions = ["mailto:web-team@example.com"]; }},
      {{ name = "release builds go to the release managers";
         filter = {{ events = ["FAILS", "BREAKS"]; function = "pipelines.name_like_in_group";
                    args = ["(.+)-release.*", "team-api"]; }};
         actions = ["mailto:release-managers@example.com"]; }}
    );
  }},
  {{
    name = "mail";
    messages-we-want = {{ from = "{gocd_sender}"; }};
    rules = ( {{ filter = {{ function = "mail.in_subject"; args = ["backup", "failed"]; }};
                actions = ["mailto:sysadmin@example.com"]; }} );
  }}
);
"""


def sample_mails():
    """(description, envelope sender, recipients, message bytes)."""
    def stage(p, s, e, c):
        return ("GoCD", GOCD, [TRIGGER], stage_mail(p, s, e, counter=c, to=TRIGGER, sender=GOCD))
    return [
        stage("api", "build", "passed", 41),
        stage("api", "build", "failed", 42),          # after a pass: BREAKS
        stage("api", "build", "failed", 43),          # still failing: FAILS, no rule
        stage("api", "build", "passed", 44),          # after a failure: FIXED
        stage("web", "deploy", "cancelled", 7),
        stage("api-release-2.1", "package", "failed", 3),
        stage("unknown-pipeline", "build", "broken", 1),
        ("other", "alice@example.com", ["bob@example.com"],
         plain_mail("Lunch?", to="bob@example.com", sender="alice@example.com")),
        ("GoCD admin", GOCD, ["admin@example.com"],
         plain_mail("Server Backup Failed", to="admin@example.com", sender=GOCD,
                    body="Backup of the Go server at '10.0.0.5' has failed.")),
    ]


def wait_all_delivered(sink, ids, control_id, timeout=30):
    """Wait for the control message, sent last: Postfix delivers in order
    closely enough that everything not yet in by then was dropped."""
    sink.wait_for(lambda m: m.header("Message-ID") == control_id, timeout=timeout)
    time.sleep(0.5)


def main():
    binary = os.environ.get("MAIL2ALERT") or os.path.join(REPO, "mail2alert")
    base = tempfile.mkdtemp(prefix="mail2alert-demo-")
    os.chmod(base, 0o755)
    port = free_port()
    sink = SmtpSink().start()
    gocd = GocdStandIn().start()
    gocd.set_groups(GROUPS)
    postfix = PostfixInstance(os.path.join(base, "postfix"), free_port(), sink.port,
                              milter="inet:127.0.0.1:%d" % port)
    milter = None
    try:
        conf = os.path.join(base, "mail2alert.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=port, gocd=gocd.url, trigger=TRIGGER, gocd_sender=GOCD))
        print("lab: Postfix smtpd 127.0.0.1:%d -> milter inet:127.0.0.1:%d -> sink 127.0.0.1:%d;"
              " GoCD stand-in %s" % (postfix.smtpd_port, port, sink.port, gocd.url))
        print("GoCD groups: %s" % ", ".join("%s=%s" % (g, "+".join(p)) for g, p in GROUPS.items()))
        postfix.start()
        milter = MilterProcess(binary, conf, base, name="mail2alert")
        milter.start()
        gocd.wait_for_requests("/go/api/admin/pipeline_groups", 2, timeout=15)

        sent = []
        for kind, mail_from, rcpts, data in sample_mails():
            msg_id = _header(data, "Message-ID")
            send(postfix.smtpd_port, mail_from, rcpts, data)
            sent.append((kind, _header(data, "Subject"), rcpts, msg_id))
        control = plain_mail("control", to="control@example.com")
        send(postfix.smtpd_port, "demo@example.com", ["control@example.com"], control)
        wait_all_delivered(sink, [s[3] for s in sent], _header(control, "Message-ID"))

        by_id = {m.header("Message-ID"): m for m in sink.messages()}
        rows = [("subject", "sent to", "mail2alert", "delivered to")]
        for kind, subject, rcpts, msg_id in sent:
            m = by_id.get(msg_id)
            if m is None:
                rows.append((subject, ",".join(rcpts), "-", "dropped (no rule matched)"))
            else:
                rows.append((subject, ",".join(rcpts), m.header("X-Mail2alert", "untouched"),
                             ", ".join(m.rcpts)))
        _table(rows)
        print("\nmilter log:")
        for line in milter.log().splitlines():
            if "status=" in line:
                print("  " + line)
        return 0
    finally:
        if milter is not None:
            milter.stop(2)
        postfix.stop()
        gocd.stop()
        sink.stop()
        shutil.rmtree(base, ignore_errors=True)


def _header(data, name):
    import email
    v = email.message_from_bytes(data).get(name, "")
    return " ".join(str(v).split())


def _table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
