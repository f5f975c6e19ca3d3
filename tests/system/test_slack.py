"""Slack posts through Postfix + mail2alert + a Slack stand-in (SPEC 1.6, 5, 7).

Every test sends real mail through the lab Postfix to the real milter; the
milter's Slack worker posts to tests/lab/slack.py (chat.postMessage at
slack-api, incoming webhooks at /hooks/<name>).  Absence ("not retried",
"dropped") is shown by ordering, never by sleeping: the worker sends one
post at a time, in order, so once a later post has arrived, an earlier post
that was going to be (re)sent would have been seen first.
"""

import base64
import email
import email.policy
import json
import os
import re
import signal
import time

import pytest

from tests.lab.gocdmail import mail_date, message_id as new_message_id, qp_encode
from tests.lab.slack import API_PATH, SlackStandIn
from tests.lab import plain_mail
from tests.system.m2a_helpers import (
    GOCD_SENDER, MAIL_SENDER, TRIGGER, assert_discarded, config, deliver, gocd_mail,
    gocd_manager, mail_manager, next_counter, q, rule, same_message, trace)

TOKEN = "xoxb-m2a-TEST-7f3c9a1e5b2d4c6e8a0f"
GROUPS = {"team-a": ["api", "web"]}
COLORS = {"BREAKS": "#D50200", "FAILS": "#D50200", "PASSES": "#2FA44F",
          "FIXED": "#2FA44F", "CANCELLED": "#DE9E31", None: "#4ABCF9"}


# ------------------------------------------------------------------ fixtures

@pytest.fixture
def slack():
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture
def groups(gocd):
    gocd.set_groups(GROUPS)
    return gocd


@pytest.fixture(autouse=True)
def _token_never_logged(milter):
    """Whatever a test does, the Slack token is in none of the milter's logs."""
    yield
    for p in milter.procs:
        assert TOKEN not in p.log(), "the Slack token appears in %s" % p.log_path


# ------------------------------------------------------------------ config

def slack_settings(slack, token=TOKEN, retry_time=10, queue_size=None, body_limit=None,
                   webhooks=None, state_file=None, outbox_journal=None):
    """Top-level config lines for Slack.  webhooks: {"#chan": url}.
    outbox_journal: "" turns the journal off (it is on beside a state file)."""
    lines = []
    if token is not None:
        lines.append("slack-token = %s;" % q(token))
    lines.append("slack-api = %s;" % q(slack.api_url))
    lines.append("slack-retry-time = %d;" % retry_time)
    if queue_size is not None:
        lines.append("slack-queue-size = %d;" % queue_size)
    if body_limit is not None:
        lines.append("body-limit = %d;" % body_limit)
    if state_file is not None:
        lines.append("state-file = %s;" % q(state_file))
    if outbox_journal is not None:
        lines.append("outbox-journal = %s;" % q(outbox_journal))
    if webhooks:
        lines.append("slack-webhooks = (\n%s\n);" % ",\n".join(
            "  { channel = %s; url = %s; }" % (q(c), q(u)) for c, u in webhooks.items()))
    return "\n".join(lines)


def slack_config(slack, actions, function="pipelines.any", args=None, events=None,
                 extra_managers=(), **settings):
    """One GoCD manager with one rule (ACTIONS), plus Slack settings."""
    return config(gocd_manager([rule(actions, function=function, args=args, events=events)]),
                  *extra_managers, top_extra=slack_settings(slack, **settings))


# ------------------------------------------------------------------ mail

def body_mail(subject, body, content_type="text/plain; charset=UTF-8", cte="quoted-printable",
              sender="GoCD Server <go@gocd.example.com>", to=TRIGGER, extra_headers=()):
    """A wanted mail with a hand-made body (bytes, already encoded as CTE says)."""
    headers = [("Date", mail_date()), ("From", sender), ("To", to),
               ("Message-ID", new_message_id()), ("Subject", subject)]
    headers += list(extra_headers)
    headers.append(("MIME-Version", "1.0"))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if cte is not None:
        headers.append(("Content-Transfer-Encoding", cte))
    head = b"".join(("%s: %s\r\n" % hv).encode() for hv in headers)
    body = re.sub(rb"\r?\n", b"\r\n", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return head + b"\r\n" + body


def stage_subject(pipeline="api", stage="build", text="is broken"):
    return "Stage [%s/%d/%s/1] %s" % (pipeline, next_counter(), stage, text)


def decoded_text(data):
    """What SPEC 5 calls the decoded body, computed independently with
    Python's email package: the first text/plain part, transfer encoding
    and charset decoded, line ends LF."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")


def slack_escape(text):
    """Slack's escaping of text from mail (issue 13, point 6):
    https://api.slack.com/reference/surfaces/formatting#escaping"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_wanted(mta, data, mail_from=GOCD_SENDER, rcpts=(TRIGGER,)):
    res = mta(mail_from, list(rcpts), data)
    assert res.ok and res.queue_id, res
    return res


def subject_of(data):
    m = re.search(rb"(?m)^Subject: (.*)$", data)
    return m.group(1).decode().strip()


def sent_line(qid, channel="#builds", attempts=1):
    return r"%s: slack=%s status=sent attempts=%d" % (re.escape(qid), re.escape(channel),
                                                     attempts)


# ------------------------------------------------------------------ payloads

def test_brief_post_exact_json_and_headers(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["mailto:team-a@example.com", "slack:#builds"],
                              function="pipelines.in_group", args=["team-a"]))
    # an "=" in the URL is QP "=3D", and the long first line gets a soft break;
    # QP forced, since Jakarta Mail sends an all-ASCII body as 7bit
    counter = next_counter()
    data = gocd_mail("api", "build", "broken", encode="B", counter=counter,
                     site_url="http://gocd.example.com:8153/ci?tenant=nordic&zone=eu-north-1",
                     cte="quoted-printable")
    assert b"Subject: =?UTF-8?B?" in data                  # the title must be decoded
    first_raw = data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[0]
    assert first_raw.endswith(b"=") and b"=3D" in first_raw, first_raw   # QP really used
    res, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]

    post = slack.wait_for_posts(1, timeout=10)[0]
    subject = "Stage [api/%d/build/1] is broken" % counter
    first_line = decoded_text(data).split("\n")[0]
    assert first_line.startswith("See details: http://gocd.example.com:8153/ci?tenant=nordic")
    assert post.method == "POST" and post.path == API_PATH
    assert post.json == {
        "channel": "#builds",
        "text": "",
        # the "&" of the URL is escaped, as Slack asks
        "attachments": [{"fallback": subject, "title": subject,
                         "text": slack_escape(first_line), "color": "#D50200"}],
    }
    assert post.header("Authorization") == "Bearer " + TOKEN
    assert post.header("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(post.body.decode("utf-8")) == post.json
    m2a.wait_log(sent_line(res.queue_id))
    assert slack.count() == 1


def test_colour_by_event_and_mail_manager(groups, slack, milter, mta, sink):
    milter(config(
        gocd_manager([rule("slack:#builds", function="pipelines.any", args=None)]),
        mail_manager([rule("slack:#ops", function="mail.in_subject", args=["backup"])]),
        top_extra=slack_settings(slack)))
    sent = []
    for i, (ev, name) in enumerate([("broken", "BREAKS"), ("failed", "FAILS"),
                                    ("passed", "PASSES"), ("fixed", "FIXED"),
                                    ("cancelled", "CANCELLED")]):
        # a stage of its own each: no previous state, so the parsed event stands
        data = gocd_mail("api", "stage%d" % i, ev)
        send_wanted(mta, data)
        sent.append((subject_of(data), decoded_text(data).split("\n")[0], name))
    data = plain_mail(subject="Server Backup Failed", to="admin@example.com",
                      sender=MAIL_SENDER, body="Backup of the Go server failed.\nDetails...\n")
    send_wanted(mta, data, mail_from=MAIL_SENDER, rcpts=["admin@example.com"])
    sent.append(("Server Backup Failed", "Backup of the Go server failed.", None))

    posts = slack.wait_for_posts(len(sent), timeout=15)
    assert len(posts) == len(sent)
    for (subject, first, event), post in zip(sent, posts):       # in order, one each
        want_channel = "#ops" if event is None else "#builds"
        assert post.json == {"channel": want_channel, "text": "", "attachments": [
            {"fallback": subject, "title": subject, "text": first,
             "color": COLORS[event]}]}, event
    assert sent[4][1] == "The stage was cancelled by admin."


def test_full_post_qp_utf8_body(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["slack:#builds:full"]))
    text = ("Bygget är trasigt – ✓\n"
            "See details: http://gocd.example.com:8153/go/pipelines/api/12/build/1 "
            "(a line long enough for a soft break; tab\there)\n"
            "\n"
            "Räksmörgås = 3 €, naïve café\n"
            "Sent by Go on behalf of jez\n")
    subject = stage_subject()
    data = body_mail(subject, qp_encode(text.encode("utf-8")))
    assert b"=\r\n" in data and b"=C3=A4" in data
    assert decoded_text(data) == text
    res = send_wanted(mta, data)
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.json == {
        "channel": "#builds",
        "text": "Message from: GoCD Server &lt;go@gocd.example.com&gt;",
        "attachments": [{"fallback": subject, "title": subject, "text": text,
                         "color": "#D50200"}],
    }
    assert post.header("Authorization") == "Bearer " + TOKEN
    m2a.wait_log(sent_line(res.queue_id))


BODIES = {
    "base64-utf8": lambda text: (base64.encodebytes(text.encode("utf-8")),
                                 "text/plain; charset=utf-8", "base64"),
    "base64-latin1": lambda text: (base64.encodebytes(text.encode("iso-8859-1")),
                                   'text/plain; charset="ISO-8859-1"', "base64"),
    "qp-cp1252": lambda text: (qp_encode(text.encode("cp1252")),
                               "text/plain; charset=windows-1252", "quoted-printable"),
}


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_full_post_decodes_transfer_encoding_and_charset(groups, slack, milter, mta, sink,
                                                         kind):
    milter(slack_config(slack, ["slack:#builds:full"]))
    text = "Bygget är trasigt – på grund av ändringar\nrad två: åäö ÅÄÖ\n"
    if kind == "base64-latin1":
        text = text.replace("–", "-")            # not in ISO-8859-1
    body, ctype, cte = BODIES[kind](text)
    subject = stage_subject()
    data = body_mail(subject, body, content_type=ctype, cte=cte)
    assert decoded_text(data) == text
    send_wanted(mta, data)
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.attachment()["text"] == text
    assert post.attachment()["title"] == subject


MULTIPART_TEXT = "Bygget är trasigt – ✓\nSecond line of the plain part\n"


def _part(headers, body):
    """One body part; the line break before the next boundary line belongs to
    the boundary (RFC 2046), so a text that is to end in LF needs two."""
    return "".join("%s\n" % h for h in headers) + "\n" + body


def _multipart(boundary, parts, preamble="This is a multi-part message in MIME format.\n"):
    out = preamble
    for p in parts:
        out += "--%s\n%s" % (boundary, p)
        if not p.endswith("\n"):
            out += "\n"
    return (out + "--%s--\n" % boundary).encode("utf-8")


HTML_PART = _part(["Content-Type: text/html; charset=UTF-8",
                   "Content-Transfer-Encoding: 7bit"],
                  "<html><body><p>HTML version, not wanted</p></body></html>\n")


def _send_full_and_get_text(slack, mta, data):
    subject = subject_of(data)
    send_wanted(mta, data)
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.attachment()["title"] == subject
    return post.attachment()["text"]


def test_full_post_first_text_plain_part_of_multipart(groups, slack, milter, mta, sink):
    """The first text/plain part is taken (an HTML part before it is not);
    an 8bit part needs no decoding."""
    milter(slack_config(slack, ["slack:#builds:full"]))
    body = _multipart("==alt-42==", [
        HTML_PART,
        _part(["Content-Type: text/plain; charset=UTF-8",
               "Content-Transfer-Encoding: 8bit"], MULTIPART_TEXT + "\n"),
        _part(["Content-Type: text/plain; charset=UTF-8"], "a second plain part\n")])
    data = body_mail(stage_subject(), body, cte="8bit",
                     content_type='multipart/alternative; boundary="==alt-42=="')
    assert decoded_text(data) == MULTIPART_TEXT
    assert _send_full_and_get_text(slack, mta, data) == MULTIPART_TEXT


@pytest.mark.parametrize("cte", ["quoted-printable", "base64"])
def test_full_post_multipart_alternative_encoded_part(groups, slack, milter, mta, sink, cte):
    milter(slack_config(slack, ["slack:#builds:full"]))
    raw = MULTIPART_TEXT.encode("utf-8")
    enc = (qp_encode(raw) if cte == "quoted-printable" else base64.encodebytes(raw))
    body = _multipart("==alt-42==", [
        _part(["Content-Type: text/plain; charset=UTF-8",
               "Content-Transfer-Encoding: " + cte], enc.decode("ascii") + "\n"),
        HTML_PART])
    data = body_mail(stage_subject(), body, cte=None,
                     content_type='multipart/alternative; boundary="==alt-42=="')
    assert decoded_text(data) == MULTIPART_TEXT
    assert _send_full_and_get_text(slack, mta, data) == MULTIPART_TEXT


def test_full_post_nested_multipart(groups, slack, milter, mta, sink):
    """multipart/mixed > multipart/alternative > text/plain (8bit, so only
    the nesting is tested), then an attachment."""
    milter(slack_config(slack, ["slack:#builds:full"]))
    inner = _multipart("inner", [
        _part(["Content-Type: text/plain; charset=utf-8"], MULTIPART_TEXT + "\n"),
        HTML_PART], preamble="").decode("utf-8")
    body = _multipart("outer", [
        _part(["Content-Type: multipart/alternative; boundary=inner"], inner),
        _part(["Content-Type: application/octet-stream; name=log.bin",
               "Content-Transfer-Encoding: base64"],
              base64.encodebytes(b"\x00\x01binary").decode("ascii"))])
    data = body_mail(stage_subject(), body, cte="8bit",
                     content_type="multipart/mixed; boundary=outer")
    assert decoded_text(data) == MULTIPART_TEXT
    assert _send_full_and_get_text(slack, mta, data) == MULTIPART_TEXT


def test_body_limit_cuts_text_on_a_character_boundary(groups, slack, milter, mta, sink):
    milter(slack_config(slack, ["slack:#builds:full", "slack:#brief"], body_limit=41))
    text = "ab" + "ä" * 30 + "\nsecond line\n"    # 2 + 60 bytes on the first line
    subject = stage_subject()
    data = body_mail(subject, qp_encode(text.encode("utf-8")))
    send_wanted(mta, data)
    full, brief = slack.wait_for_posts(2, timeout=10)
    cut = text.encode("utf-8")[:41].decode("utf-8", errors="ignore")   # 2 + 19*2 = 40 bytes
    assert len(cut.encode("utf-8")) == 40
    assert full.json["channel"] == "#builds"
    assert full.attachment()["text"] == cut
    assert brief.json["channel"] == "#brief"
    assert brief.attachment()["text"] == cut


def test_body_limit_cut_of_long_qp_text_leaves_no_stray_character(groups, slack, milter,
                                                                  mta, sink):
    milter(slack_config(slack, ["slack:#builds:full"], body_limit=26))
    text = "ä" * 200 + "\n"                     # every byte QP-escaped, soft breaks
    data = body_mail(stage_subject(), qp_encode(text.encode("utf-8")))
    got = _send_full_and_get_text(slack, mta, data)
    assert len(got.encode("utf-8")) <= 26
    assert text.startswith(got), "not a prefix of the decoded body: %r" % got
    assert len(got.encode("utf-8")) >= 26 - 3, "cut far below body-limit: %r" % got


# ------------------------------------------------------------------ routing with Slack

def test_slack_only_rule_discards_mail_and_posts(groups, slack, milter, mta, sink, postfix):
    m2a = milter(slack_config(slack, ["slack:#builds"]))
    data = gocd_mail("api", "build", "failed")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)        # absent at the sink, control arrived
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.attachment()["title"] == subject_of(data)
    assert post.attachment()["color"] == "#D50200"
    m2a.wait_log(r"%s: manager=gocd pipeline=api stage=build event=FAILS slack=#builds "
                 r"status=discarded" % re.escape(res.queue_id))
    m2a.wait_log(sent_line(res.queue_id))


def test_mailto_and_slack_both_happen(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["mailto:team-a@example.com", "slack:#builds"],
                              function="pipelines.in_group", args=["team-a"]))
    data = gocd_mail("web", "deploy", "fixed")
    res, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m) == ("gocd", {"pipeline": "web", "stage": "deploy", "event": "FIXED"})
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.json["channel"] == "#builds"
    assert post.attachment()["title"] == subject_of(data)
    assert post.attachment()["color"] == "#2FA44F"
    m2a.wait_log(r"%s: manager=gocd pipeline=web stage=deploy event=FIXED "
                 r"to=<team-a@example\.com> slack=#builds status=routed" % re.escape(res.queue_id))
    m2a.wait_log(sent_line(res.queue_id))


def test_webhook_channel_posts_to_webhook_without_token(groups, slack, milter, mta, sink):
    hook = slack.hook_url("T000/B000/hooksecret")
    m2a = milter(slack_config(slack, ["slack:#hooked", "slack:#builds"],
                              webhooks={"#hooked": hook}))
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    hooked, api = slack.wait_for_posts(2, timeout=10)
    assert hooked.path == "/hooks/T000/B000/hooksecret"
    assert hooked.header("Authorization") is None
    assert hooked.header("Content-Type") == "application/json; charset=utf-8"
    # a webhook posts to its own channel: no "channel" (issue 13, point 2)
    assert hooked.json == {"text": "", "attachments": [
        {"fallback": subject_of(data), "title": subject_of(data),
         "text": decoded_text(data).split("\n")[0], "color": "#D50200"}]}
    assert api.path == API_PATH and api.json["channel"] == "#builds"
    assert api.header("Authorization") == "Bearer " + TOKEN
    m2a.wait_log(sent_line(res.queue_id, "#hooked"))
    m2a.wait_log(sent_line(res.queue_id, "#builds"))
    assert slack.count() == 2


@pytest.mark.parametrize("status,answer", [(404, "channel_not_found"),
                                           (400, "invalid_payload"),
                                           (200, "no_service")])
def test_webhook_plain_text_error_logged_not_retried(groups, slack, milter, mta, sink,
                                                     status, answer):
    hook = slack.hook_url("h1")
    m2a = milter(slack_config(slack, ["slack:#hooked"], webhooks={"#hooked": hook}))
    slack.script("/hooks/h1", [(status, {"Content-Type": "text/html"}, answer)])
    data1 = gocd_mail("api", "build", "broken")
    res1 = send_wanted(mta, data1)
    m2a.wait_log(r"%s: slack=#hooked status=failed error=[^\n]*%s[^\n]*subject=\"%s\""
                 % (re.escape(res1.queue_id), answer, re.escape(subject_of(data1))))
    # a later post goes through; had the first been retried, it would come first
    data2 = gocd_mail("api", "build", "failed")
    res2 = send_wanted(mta, data2)
    m2a.wait_log(sent_line(res2.queue_id, "#hooked"))
    reqs = slack.answered_requests("/hooks/h1")
    assert [r.attachment()["title"] for r in reqs] == [subject_of(data1), subject_of(data2)]
    assert [r.status for r in reqs] == [status, 200]


def test_ok_false_logged_with_error_channel_queue_id_not_retried(groups, slack, milter, mta,
                                                                 sink):
    m2a = milter(slack_config(slack, ["slack:#nochan"]))
    slack.script(API_PATH, [(200, {}, {"ok": False, "error": "channel_not_found"})])
    data1 = gocd_mail("api", "build", "broken")
    res1 = send_wanted(mta, data1)
    m2a.wait_log(r"%s: slack=#nochan status=failed error=channel_not_found "
                 r"subject=\"%s\"" % (re.escape(res1.queue_id), re.escape(subject_of(data1))))
    data2 = gocd_mail("api", "build", "failed")
    res2 = send_wanted(mta, data2)
    m2a.wait_log(sent_line(res2.queue_id, "#nochan"))
    reqs = slack.requests(API_PATH)
    assert [r.attachment()["title"] for r in reqs] == [subject_of(data1), subject_of(data2)]
    assert len(re.findall(r"status=(?:failed|deferred)", m2a.log())) == 1


# ------------------------------------------------------------------ retries

def test_429_retry_after_honoured(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["slack:#builds"]))
    slack.script(API_PATH, [(429, {"Retry-After": "2"}, '{"ok":false,"error":"ratelimited"}')])
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    first, second = slack.wait_for_posts(2, timeout=10)
    gap = second.mono - first.mono
    assert gap >= 1.8, "retried %.2fs after a 429 with Retry-After: 2" % gap
    assert gap < 4.5, "waited %.2fs after Retry-After: 2" % gap
    assert first.status == 429 and second.json == first.json
    m2a.wait_log(r"%s: slack=#builds status=deferred error=rate limited retry_in=2s"
                 % re.escape(res.queue_id))
    m2a.wait_log(sent_line(res.queue_id, attempts=2))


@pytest.mark.parametrize("mode", ["500", "close"])
def test_server_errors_retried_then_given_up(groups, slack, milter, mta, sink, mode):
    m2a = milter(slack_config(slack, ["slack:#builds"], retry_time=3))
    slack.set_mode(mode, API_PATH)
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    t0 = time.monotonic()
    failed = m2a.wait_log(r"%s: slack=#builds status=failed error=([^\n]*) attempts=(\d+) "
                          r"reason=retry-time-exhausted subject=\"%s\""
                          % (re.escape(res.queue_id), re.escape(subject_of(data))), timeout=15)
    took = time.monotonic() - t0
    reqs = slack.requests(API_PATH)
    assert len(reqs) >= 2, "a %s answer was not retried: %r" % (mode, reqs)
    assert int(failed.group(2)) == len(reqs)
    assert reqs[1].mono - reqs[0].mono >= 0.9, "no backoff before the retry"
    assert reqs[-1].mono - reqs[0].mono <= 3.5 and took <= 6, \
        "retried beyond slack-retry-time = 3 (%.1fs)" % (reqs[-1].mono - reqs[0].mono)
    if mode == "500":
        assert failed.group(1) == "HTTP 500"
    assert re.search(r"%s: slack=#builds status=deferred" % re.escape(res.queue_id), m2a.log())
    # given up for good: a later post is the next request
    slack.set_mode("ok", API_PATH)
    data2 = gocd_mail("api", "build", "failed")
    res2 = send_wanted(mta, data2)
    m2a.wait_log(sent_line(res2.queue_id))
    titles = [r.attachment()["title"] for r in slack.requests(API_PATH)]
    assert titles == [subject_of(data)] * len(reqs) + [subject_of(data2)]


# ------------------------------------------------------------------ Slack never holds mail up

def test_hanging_slack_never_delays_mail(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["mailto:team-a@example.com", "slack:#builds"]))
    slack.set_mode("hang", API_PATH)
    data1 = gocd_mail("api", "build", "broken")
    t0 = time.monotonic()
    res1, m = deliver(mta, sink, data1)
    took1 = time.monotonic() - t0
    assert m.rcpts == ["team-a@example.com"]
    held = slack.wait_hanging(1, timeout=5)[0]
    assert held.attachment()["title"] == subject_of(data1)

    took = []
    sent = [data1]
    for ev in ("failed", "fixed"):
        data = gocd_mail("api", "build", ev)
        t0 = time.monotonic()
        _, m = deliver(mta, sink, data)
        took.append(time.monotonic() - t0)
        assert m.rcpts == ["team-a@example.com"]
        sent.append(data)
    # all three mails arrived while the first post was still held by Slack
    assert held.hanging and not held.done, "the stand-in let go of the post too early"
    assert slack.count(API_PATH) == 1
    assert max([took1] + took) < 2.5, "mail waited for Slack: %r" % ([took1] + took)
    assert m2a.alive()

    # once Slack answers, the held post and the two queued behind it go, in order
    slack.release(mode="ok", path=API_PATH)
    posts = slack.wait_for_requests(3, timeout=10, path=API_PATH, answered=True)
    assert [p.attachment()["title"] for p in posts] == [subject_of(d) for d in sent]
    assert [p.status for p in posts] == [200, 200, 200]
    m2a.wait_log(sent_line(res1.queue_id))


def test_full_queue_drops_with_error_line(groups, slack, milter, mta, sink):
    m2a = milter(slack_config(slack, ["mailto:team-a@example.com", "slack:#builds"],
                              queue_size=1))
    slack.set_mode("hang", API_PATH)
    data1 = gocd_mail("api", "build", "broken")
    res1, _ = deliver(mta, sink, data1)
    slack.wait_hanging(1, timeout=5)
    results = [(data1, res1)]
    for ev in ("failed", "failed", "failed"):
        data = gocd_mail("api", "build", ev)
        res, m = deliver(mta, sink, data)            # mail is never held up
        assert m.rcpts == ["team-a@example.com"]
        results.append((data, res))
    # the queue (size 1) was full at least for the last two
    drops = {}
    for data, res in results[2:]:
        mo = m2a.wait_log(r"error: %s: slack=#builds status=dropped reason=queue-full "
                          r"dropped_total=(\d+)" % re.escape(res.queue_id))
        drops[res.queue_id] = int(mo.group(1))
    mo = re.search(r"%s: slack=#builds status=dropped reason=queue-full dropped_total=(\d+)"
                   % re.escape(res1.queue_id), m2a.log())
    assert mo is None, "the first post (being sent) was dropped"
    mo = re.search(r"%s: slack=#builds status=dropped reason=queue-full dropped_total=(\d+)"
                   % re.escape(results[1][1].queue_id), m2a.log())
    if mo:
        drops[results[1][1].queue_id] = int(mo.group(1))
    totals = [drops[r.queue_id] for _, r in results[1:] if r.queue_id in drops]
    assert totals == list(range(1, len(totals) + 1)), "drop counter: %r" % totals
    assert m2a.alive()

    # Slack is back: the held post and whatever was queued go; dropped ones never do
    slack.release(mode="ok", path=API_PATH)
    m2a.wait_log(sent_line(res1.queue_id))
    data5 = gocd_mail("api", "build", "fixed")
    res5, _ = deliver(mta, sink, data5)
    m2a.wait_log(sent_line(res5.queue_id))
    kept = [d for d, r in results if r.queue_id not in drops] + [data5]
    titles = [r.attachment()["title"] for r in slack.requests(API_PATH)]
    assert titles == [subject_of(d) for d in kept]


# ------------------------------------------------------------------ stop and restart

def test_unsent_posts_saved_at_stop_and_sent_after_restart(groups, slack, milter, mta, sink,
                                                           test_dir):
    state = os.path.join(test_dir, "state.json")
    # without the outbox journal (test_outbox_journal.py), the state file keeps them
    cfg = slack_config(slack, ["slack:#builds:full"], retry_time=600, state_file=state,
                       outbox_journal="")
    m2a = milter(cfg)
    slack.set_mode("500", API_PATH)
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    m2a.wait_log(r"%s: slack=#builds status=deferred error=HTTP 500" % re.escape(res.queue_id))
    first = slack.requests(API_PATH)[0]

    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(25)
    assert m2a.returncode == 0, m2a.log()[-3000:]
    assert re.search(r"state file %s: saved 1 unsent slack posts" % re.escape(state), m2a.log())
    with open(state) as f:
        doc = json.load(f)
    saved = doc["slack"]
    assert len(saved) == 1, saved
    assert saved[0]["channel"] == "#builds"
    assert saved[0]["style"] == "full"
    assert saved[0]["subject"] == subject_of(data)
    assert saved[0]["queue_id"] == res.queue_id
    assert saved[0]["event"] == "BREAKS"
    assert saved[0]["text"] == decoded_text(data)

    slack.set_mode("ok", API_PATH)
    n = slack.count(API_PATH)
    m2b = milter(cfg)
    again = slack.wait_for_requests(n + 1, timeout=10, path=API_PATH)[n]
    assert again.status in (None, 200)
    assert again.json == first.json
    assert again.header("Authorization") == "Bearer " + TOKEN
    m2b.wait_log(r"state file %s: managers=\d+ stages=\d+ slack_posts=1" % re.escape(state))
    m2b.wait_log(sent_line(res.queue_id))


def test_saved_post_for_a_destination_no_longer_configured_is_dropped(
        groups, slack, milter, mta, sink, test_dir):
    """Issue 14 point 9: a saved post for a channel the config no longer
    names was sent with the bot token at start.  Now it is dropped with a
    log line naming queue id and channel; the configured one is sent."""
    state = os.path.join(test_dir, "state.json")
    m2a = milter(slack_config(slack, ["slack:#builds", "slack:#gone"], retry_time=600,
                              state_file=state, outbox_journal=""))
    slack.set_mode("500", API_PATH)
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    m2a.wait_log(r"%s: slack=#builds status=deferred" % re.escape(res.queue_id))
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(25)
    with open(state) as f:
        assert sorted(p["channel"] for p in json.load(f)["slack"]) == ["#builds", "#gone"]

    slack.set_mode("ok", API_PATH)
    n = slack.count(API_PATH)
    m2b = milter(slack_config(slack, ["slack:#builds"], retry_time=600, state_file=state,
                              outbox_journal=""))
    m2b.wait_log(r"%s: saved slack post for #gone dropped" % re.escape(res.queue_id))
    m2b.wait_log(sent_line(res.queue_id))
    time.sleep(1)
    channels = [r.json["channel"] for r in slack.requests(API_PATH)[n:]]
    assert channels == ["#builds"], channels


def test_stop_gives_the_queue_time_to_drain(groups, slack, milter, mta, sink):
    """SIGTERM with posts queued behind a hanging request: once Slack
    answers (during the drain), all of them are sent before the exit."""
    m2a = milter(slack_config(slack, ["slack:#builds"]))
    slack.set_mode("hang", API_PATH)
    datas = [gocd_mail("api", "build", ev) for ev in ("broken", "failed", "fixed")]
    qids = [send_wanted(mta, d).queue_id for d in datas]
    slack.wait_hanging(1, timeout=5)
    mark_at = len(m2a.log())
    m2a.signal(signal.SIGTERM)
    m2a.wait_log(r"mail2alert: stopping", start=mark_at, timeout=15)
    assert m2a.alive()
    slack.release(mode="ok", path=API_PATH)
    m2a.proc.wait(15)
    assert m2a.returncode == 0, m2a.log()[-3000:]
    log = m2a.log()
    for qid in qids:
        assert re.search(sent_line(qid), log), "post of %s not sent at stop" % qid
    assert "reason=shutdown" not in log
    titles = [r.attachment()["title"] for r in slack.requests(API_PATH)]
    assert titles == [subject_of(d) for d in datas]


def test_stop_without_state_file_is_bounded_and_logs_lost_posts(groups, slack, milter, mta,
                                                                 sink):
    m2a = milter(slack_config(slack, ["slack:#builds"], retry_time=600))
    slack.set_mode("hang", API_PATH)
    datas = [gocd_mail("api", "build", ev) for ev in ("broken", "failed")]
    qids = [send_wanted(mta, d).queue_id for d in datas]
    slack.wait_hanging(1, timeout=5)
    mark_at = len(m2a.log())
    m2a.signal(signal.SIGTERM)
    m2a.wait_log(r"mail2alert: stopping", start=mark_at, timeout=15)
    t0 = time.monotonic()
    m2a.proc.wait(15)
    took = time.monotonic() - t0
    assert m2a.returncode == 0, m2a.log()[-3000:]
    assert took < 5 + 2.5, "the drain at stop took %.1fs (bound: 5 s)" % took
    for qid, data in zip(qids, datas):
        m2a.wait_log(r"error: %s: slack=#builds status=failed reason=shutdown subject=\"%s\""
                     % (re.escape(qid), re.escape(subject_of(data))), timeout=1)
    # the hanging request was given up: the stand-in saw its connection end
    req = slack.wait_for_requests(1, timeout=5, path=API_PATH, answered=True)[0]
    assert req.client_gone and req.status is None
    assert slack.count(API_PATH) == 1


# ------------------------------------------------------------------ secrets

def test_token_never_in_log_even_with_debug(groups, slack, milter, mta, sink):
    """The token (from the environment) and the webhook URL are nowhere in
    the log, through sends, rate limits, rejections and server errors, with -d."""
    hook_secret = "B0SECRET/xyzzyHookSecret42"
    hook = slack.hook_url("T000/" + hook_secret)
    cfg = slack_config(slack, ["slack:#builds", "slack:#hooked"], token="$SLACK_TOKEN",
                       webhooks={"#hooked": hook})
    m2a = milter(cfg, env={"SLACK_TOKEN": TOKEN}, args=["-d"])
    slack.script(API_PATH, [
        (429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}),
        (200, {}, {"ok": True}),
        (500, {}, {"ok": False, "error": "internal_error"}),
        (200, {}, {"ok": True}),
        (200, {}, {"ok": False, "error": "invalid_auth"}),
    ])
    slack.script("/hooks/T000/" + hook_secret, [(403, {}, "action_prohibited")])
    qids = []
    for ev in ("broken", "failed", "fixed"):
        qids.append(send_wanted(mta, gocd_mail("api", "build", ev)).queue_id)
    m2a.wait_log(r"%s: slack=#builds status=failed error=invalid_auth" % re.escape(qids[2]),
                 timeout=15)
    m2a.wait_log(r"%s: slack=#hooked status=sent" % re.escape(qids[2]))
    api = slack.requests(API_PATH)
    assert all(r.header("Authorization") == "Bearer " + TOKEN for r in api)
    assert len(api) == 5
    log = m2a.log()
    assert TOKEN not in log
    assert TOKEN[-12:] not in log
    assert "xyzzyHookSecret42" not in log, "the webhook URL (a secret) is in the log"


def test_reload_adding_the_first_chat_action_posts_bodies_on_open_connections(
        groups, slack, milter, mta, sink, postfix):
    """A connection opened while no rule posted to chat, then a reload that
    adds the first slack: action: the next message on that connection still
    posts its body's first line, not an empty text."""
    import smtplib

    m2a = milter(slack_config(slack, ["mailto:team-a@example.com"],
                              function="pipelines.in_group", args=["team-a"]))
    smtp = smtplib.SMTP("127.0.0.1", postfix.smtpd_port, timeout=30)
    try:
        first = gocd_mail("api", "build", "broken")
        smtp.sendmail(GOCD_SENDER, [TRIGGER], first)
        sink.wait_for(same_message(first), timeout=20)
        path = m2a.config_path
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace('"mailto:team-a@example.com"',
                                 '"mailto:team-a@example.com", "slack:#builds"'))
        m2a.signal(signal.SIGUSR1)
        m2a.wait_log(r"reloaded .* rules=", timeout=10)
        second = gocd_mail("api", "build", "broken")
        smtp.sendmail(GOCD_SENDER, [TRIGGER], second)
        sink.wait_for(same_message(second), timeout=20)
    finally:
        smtp.quit()
    post = slack.wait_for_posts(1, timeout=10)[0]
    assert post.json["attachments"][0]["text"] == decoded_text(second).split("\n")[0]
    assert post.json["attachments"][0]["text"].startswith("See details: ")
