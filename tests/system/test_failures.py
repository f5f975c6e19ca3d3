"""Failures around the milter: GoCD down or misbehaving, unresolved groups,
malformed mail, the milter itself dying (SPEC 1.7, 6, 7, 9)."""

import hashlib
import os
import signal
import time

import pytest

from tests.system.m2a_helpers import (
    GOCD_SENDER, MAIL_SENDER, TRIGGER, assert_discarded, body_of, config, deliver,
    gocd_config, gocd_mail, gocd_manager, headers_except, mail_manager, mark, rule,
    to_addrs, trace, x_mail2alert)
from tests.lab import plain_mail

FAIL_MODES = ["500", "garbage", "wrongshape", "hang", "close", "401", "403", "404"]


def team_rules():
    return gocd_config(rule("mailto:team-a@example.com"),
                       rule("mailto:team-b@example.com", args=["team-b"]))


# ------------------------------------------------------------------ GoCD down

@pytest.mark.parametrize("mode", FAIL_MODES)
def test_gocd_failure_after_good_poll_keeps_last_groups(gocd, milter, mta, sink, mode):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_rules())
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]

    n = gocd.count("admin")
    gocd.set_mode(mode)
    gocd.wait_for_requests("admin", n + 1, timeout=15)          # a failing poll began
    if mode != "hang":
        gocd.wait_for_requests("admin", n + 1, timeout=15, answered=True)
        try:                                 # and, backoff permitting, another one
            gocd.wait_for_requests("admin", n + 2, timeout=2)
        except TimeoutError:
            pass
    t0 = time.monotonic()
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"))
    took = time.monotonic() - t0
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m)[1]["pipeline"] == "api"
    _, m = deliver(mta, sink, gocd_mail("db", "build", "failed"))
    assert m.rcpts == ["team-b@example.com"]
    assert took < 4, "a failing GoCD must not slow mail down (took %.1fs)" % took
    assert m2a.alive()

    # GoCD comes back with new membership: polling resumed and follows it
    gocd.set_groups({"team-b": ["api", "db"]})
    base = gocd.count("admin")
    gocd.set_mode("ok")
    milter.wait_groups_loaded(base, timeout=45)
    _, m = deliver(mta, sink, gocd_mail("api", "build", "passed"))
    assert m.rcpts == ["team-b@example.com"]


@pytest.mark.parametrize("mode", ["500", "hang", "garbage", "404"])
def test_groups_never_loaded_unresolved_accept(gocd, milter, mta, sink, mode):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode(mode)
    m2a = milter(team_rules(), wait_groups=False)
    gocd.wait_for_requests("admin", 1, timeout=15)
    data = gocd_mail("api", "build", "broken")
    t0 = time.monotonic()
    _, m = deliver(mta, sink, data)
    assert time.monotonic() - t0 < 4
    assert m.rcpts == [TRIGGER]
    assert to_addrs(m) == [TRIGGER]
    assert x_mail2alert(m) == ["unresolved"]
    drop = ("received", "x-mail2alert")
    assert headers_except(m.data, drop) == headers_except(data, drop)
    assert body_of(m.data) == body_of(data)
    assert m2a.alive()


def test_unresolved_only_when_a_rule_needs_groups(gocd, milter, mta, sink):
    gocd.set_mode("500")
    milter(config(
        gocd_manager([rule("mailto:any@example.com", function="pipelines.any", args=None,
                           events=["BREAKS"])]),
        mail_manager([rule("mailto:sys@example.com", function="mail.in_subject",
                           args=["backup"])])), wait_groups=False)
    gocd.wait_for_requests("admin", 1, timeout=15)
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["any@example.com"]
    assert trace(m) == ("gocd", {"pipeline": "api", "stage": "build", "event": "BREAKS"})
    data = plain_mail(subject="Server Backup Failed", to="admin@example.com", sender=MAIL_SENDER)
    _, m = deliver(mta, sink, data, rcpts=["admin@example.com"], mail_from=MAIL_SENDER)
    assert m.rcpts == ["sys@example.com"]
    assert trace(m)[0] == "mail"


def test_group_membership_change_followed(gocd, milter, mta, sink, postfix):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    milter(team_rules())
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]

    t0 = time.monotonic()
    gocd.set_groups({"team-a": [], "team-b": ["db", "api"]})
    milter.wait_groups_loaded(gocd.count("admin"), timeout=10)
    assert time.monotonic() - t0 < 6, "new groups not fetched within a few poll intervals"
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"))
    assert m.rcpts == ["team-b@example.com"]

    gocd.set_groups({"team-b": ["db"]})                 # api in no group any more
    milter.wait_groups_loaded(gocd.count("admin"), timeout=10)
    data = gocd_mail("api", "build", "failed")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)
    # unchanged groups answer 304 to the ETag, and routing stays the same
    n = gocd.count("admin")
    gocd.wait_for_requests("admin", n + 2, timeout=10)
    assert gocd.requests("admin")[-2].status == 304
    _, m = deliver(mta, sink, gocd_mail("db", "build", "failed"))
    assert m.rcpts == ["team-b@example.com"]


# ------------------------------------------------------------------ malformed mail

SUBJ = b"Subject: Stage [api/%d/build/1] is broken\r\n"


def _malformed(kind):
    """-> (data, outcome for the trigger address: "routed" | "discarded")."""
    tok = mark().encode()
    mid = b"Message-ID: <" + tok + b"@test>\r\n"
    base = b"From: go@gocd.example.com\r\nTo: mail2alert@example.com\r\n" + mid
    subj = SUBJ % int(tok[-6:])
    body = b"See details: http://x/go/pipelines/api/1/build/1\r\n" + tok + b"\r\n"
    if kind == "no_subject":
        return base + b"\r\n" + body, "discarded"
    if kind == "no_header_block":
        return b"just a body line " + tok + b"\r\n", "discarded"
    if kind == "8bit_headers":
        return (subj + b"From: \xe9t\xe9 \xff <go@gocd.example.com>\r\nTo: \xc3\xa9 <"
                + TRIGGER.encode() + b">\r\n" + mid + b"X-W: \xff\xfe\xfd\x80\r\n\r\n"
                + body + b"caf\xe9\r\n"), "routed"
    if kind == "control_chars":
        return (base + subj + b"X-Junk: a\x01\x02\x7f\x1b[31mred\x08\x0b\x0c\r\n"
                b"X-Nul: before\x00after\r\n\r\n" + body + b"\x00\x01\xff\r\n"), "routed"
    if kind == "huge_header":
        return (base + b"X-Big: " + b"A" * (1024 * 1024) + b"\r\n" + subj + b"\r\n"
                + body), "routed"
    if kind == "huge_folded_header":
        return (base + b"X-Big: " + (b"B" * 70 + b"\r\n\t") * 15000 + b"end\r\n" + subj
                + b"\r\n" + body), "routed"
    if kind == "many_headers":
        return (base + b"".join(b"X-N%d: %d\r\n" % (i, i) for i in range(5000)) + subj
                + b"\r\n" + body), "routed"
    if kind == "huge_body":
        line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
        return base + subj + b"\r\n" + body + line * (8 * 1024 * 1024 // len(line)), "routed"
    if kind == "binary_body":
        # every byte value but CR and LF (Postfix normalises bare line ends),
        # NUL included, in 100-byte lines
        raw = bytes(b for b in range(256) if b not in (10, 13)) * 400
        blob = b"\r\n".join(raw[i:i + 100] for i in range(0, len(raw), 100))
        return (base + subj + b"Content-Type: application/octet-stream\r\n\r\n" + body
                + blob + b"\r\n"), "routed"
    if kind == "long_subject_line":
        # an unknown event text: pipeline found, no event; in_group still matches
        return (base + b"Subject: Stage [api/1/build/1] is broken " + b"x" * 20000
                + b"\r\n\r\n" + body), "routed"
    if kind == "broken_rfc2047":
        return (base + b"Subject: =?UTF-8?B?!!!notbase64?= =?bogus-charset?Q?=ZZ=?= "
                b"=?UTF-8?Q?=E9=?= =?UTF-8?B?w6?=\r\n\r\n" + body), "discarded"
    if kind == "bad_to_header":
        return (b"From: go@gocd.example.com\r\nTo: <<<>>>, \"unterminated <x@\r\n" + mid
                + subj + b"\r\n" + body), "routed"
    raise ValueError(kind)


MALFORMED = ["no_subject", "no_header_block", "8bit_headers", "control_chars", "huge_header",
             "huge_folded_header", "many_headers", "huge_body", "binary_body",
             "long_subject_line", "broken_rfc2047", "bad_to_header"]


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_mail_passes_and_milter_survives(gocd, milter, mta, sink, postfix, kind):
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(gocd_config(rule("mailto:team-a@example.com")))

    # not wanted: passes through untouched
    data, outcome = _malformed(kind)
    _, m = deliver(mta, sink, data, rcpts=["bystander@example.org"], timeout=60)
    assert m.rcpts == ["bystander@example.org"]
    assert x_mail2alert(m) == []
    if kind in ("huge_body", "binary_body"):
        assert hashlib.sha256(body_of(m.data)).digest() == hashlib.sha256(body_of(data)).digest()
    assert m2a.alive(), "milter died on unwanted %s mail" % kind

    # wanted: accepted, routed or discarded as the rules say
    data, outcome = _malformed(kind)
    if outcome == "routed":
        _, m = deliver(mta, sink, data, timeout=60)
        assert m.rcpts == ["team-a@example.com"]
        assert trace(m)[1].get("pipeline") == "api"
        if kind in ("huge_body", "binary_body"):
            assert body_of(m.data) == body_of(data)
    else:
        res = mta(GOCD_SENDER, [TRIGGER], data)
        assert_discarded(mta, sink, postfix, data, res)
    assert m2a.alive(), "milter died on wanted %s mail" % kind

    # and it still works
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]


# ------------------------------------------------------------------ the milter process

def test_milter_killed_mail_still_delivered(gocd, milter, mta, sink, postfix, milter_port):
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(gocd_config(rule("mailto:team-a@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]

    assert m2a.kill() == -signal.SIGKILL
    mark_at = len(postfix.maillog())
    data = gocd_mail("api", "build", "failed")
    _, m = deliver(mta, sink, data)
    assert m.rcpts == [TRIGGER]                      # milter_default_action = accept
    assert x_mail2alert(m) == []
    assert m.data.endswith(data)
    postfix.wait_log(r"connect to Milter service inet:127\.0\.0\.1:%d: Connection refused"
                     % milter_port, start=mark_at)

    # a new milter on the same port: Postfix uses it again without a reload
    milter(gocd_config(rule("mailto:team-a@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "fixed"))
    assert m.rcpts == ["team-a@example.com"]


def test_sigterm_stops_cleanly(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(gocd_config(rule("mailto:team-a@example.com")))
    deliver(mta, sink, gocd_mail("api", "build", "broken"))
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(15)
    assert m2a.returncode == 0, m2a.log()[-2000:]
    data = gocd_mail("api", "build", "failed")
    _, m = deliver(mta, sink, data)
    assert m.rcpts == [TRIGGER]


def test_sigusr1_reloads_config(gocd, milter, mta, sink):
    """SIGUSR1 re-reads the config; a bad config is refused and the old one
    kept; the milter stays up throughout (SPEC 7)."""
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(gocd_config(rule("mailto:first@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["first@example.com"]

    path = milter.write_config(gocd_config(rule("mailto:second@example.com")))
    m2a.signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while True:
        _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
        if m.rcpts == ["second@example.com"]:
            break
        assert m.rcpts == ["first@example.com"]
        assert time.monotonic() < deadline, "SIGUSR1 did not load the new config"
        time.sleep(0.2)

    mark_at = len(m2a.log())
    milter.write_config('socket = "@SOCKET@";\nmanagers = ( { name = "gocd"; = } );\n')
    m2a.signal(signal.SIGUSR1)
    m2a.wait_log(r"%s:\d+" % os.path.basename(path), start=mark_at, timeout=10)
    assert m2a.alive()
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["second@example.com"]
