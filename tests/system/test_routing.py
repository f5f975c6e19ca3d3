"""Routing through Postfix + mail2alert, asserted at the sink (SPEC 1, 3)."""

import re
import smtplib
import threading

import pytest

from tests.lab import plain_mail, send
from tests.system.m2a_helpers import (
    GOCD_SENDER, MAIL_SENDER, TRIGGER, assert_discarded, body_of, config,
    deliver, gocd_config, gocd_mail, gocd_manager, headers_except, mail_manager,
    routed_line, rule, same_message, to_addrs, trace, x_mail2alert)

GROUPS = {"team-a": ["api", "web"], "team-b": ["db"], "mygroup": ["ppp"]}

EVENTS = [("passed", "PASSES"), ("failed", "FAILS"), ("broken", "BREAKS"),
          ("fixed", "FIXED"), ("cancelled", "CANCELLED")]


@pytest.fixture
def groups(gocd):
    gocd.set_groups(GROUPS)
    return gocd


def assert_only_to_changed(sent, m):
    """Everything but Received/To/X-Mail2alert and the body is as sent."""
    assert headers_except(m.data) == headers_except(sent)
    assert body_of(m.data) == body_of(sent)


@pytest.mark.parametrize("event,name", EVENTS)
def test_each_event_routed_through_in_group(groups, milter, mta, sink, event, name):
    m2a = milter(gocd_config(rule("mailto:team-a@example.com")))
    data = gocd_mail("api", "build", event)
    res, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]
    assert m.mail_from == GOCD_SENDER
    assert to_addrs(m) == ["team-a@example.com"]
    assert trace(m) == ("gocd", {"pipeline": "api", "stage": "build", "event": name})
    assert_only_to_changed(data, m)
    m2a.wait_log(routed_line(res.queue_id, "api", "build", name, "<team-a@example.com>"))


def test_trace_header_exact_text(groups, milter, mta, sink):
    milter(gocd_config(rule("mailto:team-a@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert x_mail2alert(m) == ["gocd; pipeline=api; stage=build; event=BREAKS"]


def test_forged_trace_headers_are_replaced(groups, milter, mta, sink):
    """X-Mail2alert is ours: copies that came with the mail (a forgery that
    would make it look routed elsewhere) go when ours is added."""
    milter(gocd_config(rule("mailto:team-a@example.com")))
    forged = [("X-Mail2alert", "gocd; pipeline=evil; stage=x; event=FIXED"),
              ("x-mail2alert", "unresolved")]
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken", extra_headers=forged))
    assert x_mail2alert(m) == ["gocd; pipeline=api; stage=build; event=BREAKS"]


def test_rules_union_deduplicated_in_order(groups, milter, mta, sink):
    milter(gocd_config(
        rule(["mailto:a1@example.com", "mailto:a2@example.com"]),
        rule(["mailto:a2@example.com", "mailto:all@example.com"], function="pipelines.any",
             args=None),
        rule("mailto:b@example.com", args=["team-b"]),
        rule("mailto:never@example.com", events=["FIXED"])))
    _, m = deliver(mta, sink, gocd_mail("web", "deploy", "broken"))
    assert sorted(m.rcpts) == ["a1@example.com", "a2@example.com", "all@example.com"]
    assert to_addrs(m) == ["a1@example.com", "a2@example.com", "all@example.com"]
    assert trace(m)[1]["pipeline"] == "web"


def test_to_manager_replaces_only_the_trigger_recipient(groups, milter, mta, sink):
    milter(gocd_config(rule("mailto:team-a@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"),
                   rcpts=["bystander@example.org", TRIGGER])
    assert sorted(m.rcpts) == ["bystander@example.org", "team-a@example.com"]
    assert TRIGGER not in to_addrs(m)
    assert "team-a@example.com" in to_addrs(m)


def test_trigger_domain_compares_case_insensitively(groups, milter, mta, sink):
    milter(gocd_config(rule("mailto:team-a@example.com")))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"),
                   rcpts=["mail2alert@EXAMPLE.Com"])
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m)[0] == "gocd"


@pytest.mark.parametrize("rcpt", ["someone-else@example.com", "Mail2alert@example.com",
                                  "mail2alert@example.org"])
def test_unwanted_mail_arrives_untouched(groups, milter, mta, sink, rcpt):
    milter(gocd_config(rule("mailto:team-a@example.com", function="pipelines.any",
                            args=None)))
    # GoCD-looking mail, but not to the trigger address (local part is exact)
    data = gocd_mail("api", "build", "broken", to=rcpt)
    res, m = deliver(mta, sink, data, rcpts=[rcpt, "other@example.net"])
    assert sorted(m.rcpts) == sorted([rcpt, "other@example.net"])
    assert m.mail_from == GOCD_SENDER
    assert x_mail2alert(m) == []
    # Postfix prepends its Received: header; not one byte else differs
    assert m.data.endswith(data)
    # and plain mail
    data = plain_mail(subject="lunch?", to="bob@example.com")
    _, m = deliver(mta, sink, data, rcpts=["bob@example.com"], mail_from="alice@example.com")
    assert m.rcpts == ["bob@example.com"] and m.data.endswith(data)
    assert x_mail2alert(m) == []


def test_no_matching_rule_discards(groups, milter, mta, sink, postfix):
    m2a = milter(gocd_config(rule("mailto:team-a@example.com", events=["BREAKS"])))
    # first mail of a stage: state unknown, "passed" stays PASSES -> no rule
    data = gocd_mail("api", "build", "passed")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)
    # no rule matched: no reason beyond the rules
    m2a.wait_log(r"%s: manager=gocd pipeline=api stage=build event=PASSES "
                 r"status=discarded$" % re.escape(res.queue_id))
    # a pipeline in no group: the log says so, since GoCD lists only what the
    # API user may view and such a pipeline may be hidden from it (issue 13)
    data = gocd_mail("orphan-pipeline", "build", "broken")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)
    m2a.wait_log(r"%s: manager=gocd pipeline=orphan-pipeline stage=build event=BREAKS "
                 r"status=discarded reason=pipeline-not-in-any-group$"
                 % re.escape(res.queue_id))
    # while a matching one still routes
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]


def test_unknown_event_text_gives_pipeline_but_no_event(groups, milter, mta, sink):
    milter(gocd_config(
        rule("mailto:team-a@example.com"),
        rule("mailto:events@example.com", function="pipelines.any", args=None,
             events=["PASSES", "FAILS", "BREAKS", "FIXED", "CANCELLED"])))
    data = gocd_mail("api", "build", None, event_text="exploded")
    _, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m)[1].get("pipeline") == "api"


def test_pipelines_any_matches_every_message(groups, milter, mta, sink):
    milter(gocd_config(rule("mailto:all@example.com", function="pipelines.any", args=None)))
    _, m = deliver(mta, sink, gocd_mail("not-in-any-group", "build", "passed"))
    assert m.rcpts == ["all@example.com"]
    data = plain_mail(subject="Go Email Notification", to=TRIGGER,
                      sender=GOCD_SENDER, body="You received this configuration test email")
    _, m = deliver(mta, sink, data)
    assert m.rcpts == ["all@example.com"]
    assert trace(m)[0] == "gocd"


def test_mail_manager_subject_words(groups, milter, mta, sink, postfix):
    milter(config(
        gocd_manager([rule("mailto:team-a@example.com")]),
        mail_manager([rule(["mailto:sys@example.com", "mailto:op@example.com"],
                           function="mail.in_subject", args=["server", "backup"])])))
    for subject in ("Server Backup Completed Successfully", "Server Backup Failed",
                    "the BACKUP of the server"):
        data = plain_mail(subject=subject, to="admin@example.com", sender=MAIL_SENDER,
                          body="Backup of the Go server at '10.0.0.5' ...")
        _, m = deliver(mta, sink, data, rcpts=["admin@example.com"], mail_from=MAIL_SENDER)
        assert sorted(m.rcpts) == ["op@example.com", "sys@example.com"], subject
        assert to_addrs(m) == ["sys@example.com", "op@example.com"]
        assert trace(m)[0] == "mail"
        assert_only_to_changed(data, m)
    # only one of the words: no rule, discarded
    data = plain_mail(subject="Low database disk space warning message from Go Server",
                      to="admin@example.com", sender=MAIL_SENDER)
    res = mta(MAIL_SENDER, ["admin@example.com"], data)
    assert_discarded(mta, sink, postfix, data, res)
    # another sender is not the mail manager's
    data = plain_mail(subject="Server Backup Failed", to="admin@example.com",
                      sender="other@example.com")
    _, m = deliver(mta, sink, data, rcpts=["admin@example.com"], mail_from="other@example.com")
    assert m.rcpts == ["admin@example.com"] and x_mail2alert(m) == []


def test_from_manager_replaces_all_recipients(groups, milter, mta, sink):
    milter(config(mail_manager([rule(["mailto:sys@example.com", "mailto:op@example.com"],
                                     function="mail.in_subject", args=["backup"])])),
           wait_groups=False)
    data = plain_mail(subject="Server Backup Completed Successfully",
                      to=["admin@example.com", "ops@example.org"], sender=MAIL_SENDER)
    _, m = deliver(mta, sink, data, rcpts=["admin@example.com", "ops@example.org",
                                           "third@example.net"], mail_from=MAIL_SENDER)
    assert sorted(m.rcpts) == ["op@example.com", "sys@example.com"]
    assert to_addrs(m) == ["sys@example.com", "op@example.com"]


def test_functions_of_both_families_in_gocd_manager(groups, milter, mta, sink):
    milter(gocd_config(rule("mailto:words@example.com", function="mail.in_subject",
                            args=["broken"])))
    _, m = deliver(mta, sink, gocd_mail("db", "build", "broken"))
    assert m.rcpts == ["words@example.com"]


def test_name_like_in_group(groups, milter, mta, sink, postfix):
    milter(gocd_config(rule("mailto:release@example.com",
                            function="pipelines.name_like_in_group",
                            args=["(.+)-release.*", "mygroup"])))
    _, m = deliver(mta, sink, gocd_mail("ppp-release-1.2.3", "deploy", "broken"))
    assert m.rcpts == ["release@example.com"]
    assert trace(m)[1]["pipeline"] == "ppp-release-1.2.3"
    for pipe in ("qqq-release-1", "ppp"):       # capture not in group / no match
        data = gocd_mail(pipe, "deploy", "broken")
        res = mta(GOCD_SENDER, [TRIGGER], data)
        assert_discarded(mta, sink, postfix, data, res)


def test_group_and_pipeline_names_ignore_case(gocd, milter, mta, sink):
    gocd.set_groups({"Team-A": ["API"]})
    milter(gocd_config(rule("mailto:team-a@example.com", args=["team-a"])))
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["team-a@example.com"]


LONG_PIPE = "release-train-for-product-x-" + "y" * 30


@pytest.mark.parametrize("encode", [None, "Q", "B"])
def test_folded_and_encoded_subjects_routed(gocd, milter, mta, sink, encode):
    gocd.set_groups({"team-a": [LONG_PIPE]})
    milter(gocd_config(rule("mailto:team-a@example.com")))
    data = gocd_mail(LONG_PIPE, "integration", "broken", encode=encode)
    raw_subject = re.search(rb"(?s)\r\nSubject: (.*?)\r\n(?![ \t])", data).group(1)
    assert b"\r\n " in raw_subject                      # precondition: folded
    if encode:
        assert b"=?UTF-8?" + encode.encode() + b"?" in raw_subject
    _, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m) == ("gocd", {"pipeline": LONG_PIPE, "stage": "integration",
                                 "event": "BREAKS"})
    assert_only_to_changed(data, m)


def test_subject_folded_before_event_text(gocd, milter, mta, sink):
    # a pipeline name long enough that Jakarta folds between "]" and "is fixed"
    pipe = "p" * 47
    gocd.set_groups({"team-a": [pipe]})
    milter(gocd_config(rule("mailto:team-a@example.com")))
    data = gocd_mail(pipe, "build", "fixed", counter=12)
    assert b"/12/build/1]\r\n is fixed" in data           # precondition
    _, m = deliver(mta, sink, data)
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m)[1]["event"] == "FIXED"


def test_environment_variables_in_config(groups, milter, mta, sink):
    milter(gocd_config(rule(["mailto:${TEAM_ADDR}", "mailto:$OTHER_ADDR"])),
           env={"TEAM_ADDR": "env-team@example.com", "OTHER_ADDR": "env-other@example.com"})
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert sorted(m.rcpts) == ["env-other@example.com", "env-team@example.com"]


def test_locally_submitted_mail_is_routed(groups, milter, sink, postfix):
    """sendmail(1) -> pickup -> cleanup: non_smtpd_milters."""
    milter(gocd_config(rule("mailto:team-a@example.com")))
    data = gocd_mail("api", "build", "broken")
    rc, err = postfix.sendmail(GOCD_SENDER, [TRIGGER], data)
    assert rc == 0, err
    m = sink.wait_for(same_message(data), timeout=20)
    assert m.rcpts == ["team-a@example.com"]
    assert trace(m)[1]["event"] == "BREAKS"


def test_many_messages_in_one_session_and_in_parallel(groups, milter, sink, postfix):
    """Each message is routed on its own envelope (no state leaks between
    messages of a connection or between concurrent connections)."""
    milter(gocd_config(rule("mailto:team-a@example.com"),
                       rule("mailto:team-b@example.com", args=["team-b"])))
    sent = []
    port = postfix.smtpd_port
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        for i in range(6):
            pipe = "api" if i % 2 == 0 else "db"
            data = gocd_mail(pipe, "build", "broken")
            rcpts = [TRIGGER] if i % 3 else [TRIGGER, "cc@example.org"]
            conn.sendmail(GOCD_SENDER, rcpts, data)
            sent.append((data, pipe, rcpts))
    finally:
        conn.quit()
    errors = []

    def worker(pipe):
        try:
            for _ in range(3):
                data = gocd_mail(pipe, "test", "failed")
                send(port, GOCD_SENDER, [TRIGGER], data)
                sent.append((data, pipe, [TRIGGER]))
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(p,)) for p in ("api", "db", "web")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for data, pipe, rcpts in sent:
        m = sink.wait_for(same_message(data), timeout=20)
        team = "team-b@example.com" if pipe == "db" else "team-a@example.com"
        want = sorted([team] + [r for r in rcpts if r != TRIGGER])
        assert sorted(m.rcpts) == want, (pipe, m)
        assert trace(m)[1]["pipeline"] == pipe
