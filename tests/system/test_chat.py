"""Chat services through Postfix + mail2alert + stand-ins (issue 13).

Each driver posts, through the real Postfix and the real daemon, to a
stand-in that answers the way that server's source says (tests/lab/chat.py,
tests/lab/slack.py): Mattermost, Rocket.Chat and Microsoft Teams webhooks
named in chat-webhooks, Slack users looked up by name or address, Slack's
transient errors, and rate limits that hold only their own destination.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests.lab.chat import ChatStandIn
from tests.lab.gocdmail import plain_mail
from tests.lab.slack import API_PATH, LOOKUP_EMAIL_PATH, USERS_LIST_PATH, SlackStandIn
from tests.system.m2a_helpers import (
    GOCD_SENDER, MAIL_SENDER, TRIGGER, config, gocd_mail, gocd_manager, mail_manager, q, rule)

TOKEN = "xoxb-m2a-CHAT-1c5e9a7b3d2f4e6a8c0b"
HOOK_SECRET = "hooksecretQ7w2"


@pytest.fixture
def slack():
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture
def mattermost():
    s = ChatStandIn("mattermost").start()
    yield s
    s.stop()


@pytest.fixture
def rocketchat():
    s = ChatStandIn("rocketchat").start()
    yield s
    s.stop()


@pytest.fixture
def teams():
    s = ChatStandIn("teams").start()
    yield s
    s.stop()


@pytest.fixture
def groups(gocd):
    gocd.set_groups({"team-a": ["api", "web"]})
    return gocd


@pytest.fixture(autouse=True)
def _secrets_never_logged(milter):
    yield
    for p in milter.procs:
        assert TOKEN not in p.log() and HOOK_SECRET not in p.log(), p.log_path


def chat_config(actions, hooks=(), slack=None, retry_time=10, state_file=None):
    """One GoCD manager, one rule with ACTIONS; hooks: [(name, service, url)]."""
    lines = ["slack-retry-time = %d;" % retry_time]
    if slack is not None:
        lines += ["slack-token = %s;" % q(TOKEN), "slack-api = %s;" % q(slack.api_url)]
    if hooks:
        lines.append("chat-webhooks = (\n%s\n);" % ",\n".join(
            "  { name = %s; service = %s; url = %s; }" % (q(n), q(s), q(u))
            for n, s, u in hooks))
    if state_file is not None:
        lines.append("state-file = %s;" % q(state_file))
    return config(gocd_manager([rule(actions, function="pipelines.any", args=None)]),
                  top_extra="\n".join(lines))


def send_wanted(mta, data):
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert res.ok and res.queue_id, res
    return res


def subject_of(data):
    return re.search(rb"(?m)^Subject: (.*)$", data).group(1).decode().strip()


def first_line(data):
    return data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[0].decode()


def chat_sent(qid, name, attempts=1):
    return r"%s: chat=%s status=sent attempts=%d" % (re.escape(qid), re.escape(name), attempts)


# ------------------------------------------------------------------ drivers

def test_mattermost_gets_slack_body_without_channel_even_when_locked(
        groups, mattermost, milter, mta, sink):
    path = "/hooks/mmhook" + HOOK_SECRET
    mattermost.locked_hooks.add(path)
    m2a = milter(chat_config(["chat:mm"], [("mm", "mattermost", mattermost.url + path)]))
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    post = mattermost.wait_for_posts(1)[0]
    assert post.path == path and post.header("Authorization") is None
    assert post.json == {"text": "", "attachments": [
        {"fallback": subject_of(data), "title": subject_of(data), "text": first_line(data),
         "color": "#D50200"}]}
    m2a.wait_log(chat_sent(res.queue_id, "mm"))
    assert mattermost.answered_requests(path)[0].status == 200


def test_mattermost_error_id_logged_not_retried(groups, mattermost, milter, mta, sink):
    path = "/hooks/mmgone"
    m2a = milter(chat_config(["chat:mm"], [("mm", "mattermost", mattermost.url + path)]))
    # server/channels/app/webhook.go: an unknown hook id is 400 invalid_webhook
    mattermost.script(path, [(400, {}, {"id": "web.incoming_webhook.invalid.app_error",
                                        "message": "Invalid webhook.", "status_code": 400})])
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    m2a.wait_log(r"%s: chat=mm status=failed error=HTTP 400 "
                 r"web\.incoming_webhook\.invalid\.app_error subject=" % re.escape(res.queue_id))


@pytest.mark.parametrize("legacy", [False, True])
def test_rocketchat_hook_with_default_settings_receives_posts(
        groups, rocketchat, milter, mta, sink, legacy):
    """A Rocket.Chat hook as 6.3+ makes it (no channel override) takes our
    posts, whether named in chat-webhooks or, as before, in slack-webhooks."""
    path = "/hooks/rcid/" + HOOK_SECRET
    if legacy:
        cfg = config(gocd_manager([rule(["slack:#alerts:full"], function="pipelines.any",
                                        args=None)]),
                     top_extra="slack-webhooks = ( { channel = \"#alerts\"; url = %s; } );"
                     % q(rocketchat.url + path))
    else:
        cfg = chat_config(["chat:rc:full"], [("rc", "rocketchat", rocketchat.url + path)])
    m2a = milter(cfg)
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    post = rocketchat.wait_for_posts(1)[0]
    assert "channel" not in post.json and "roomId" not in post.json
    assert post.json["text"].startswith("Message from: ")
    assert post.attachment()["title"] == subject_of(data)
    m2a.wait_log(r"%s: %s status=sent attempts=1" % (
        re.escape(res.queue_id), "slack=#alerts" if legacy else "chat=rc"))
    assert rocketchat.answered_requests(path)[0].status == 200


def test_rocketchat_refusal_logged_with_its_error(groups, rocketchat, milter, mta, sink):
    path = "/hooks/rcid/tok"
    m2a = milter(chat_config(["chat:rc"], [("rc", "rocketchat", rocketchat.url + path)]))
    rocketchat.script(path, [(400, {}, {"success": False, "error": "error-invalid-user"})])
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    m2a.wait_log(r"%s: chat=rc status=failed error=HTTP 400 error-invalid-user subject="
                 % re.escape(res.queue_id))


def test_teams_gets_an_adaptive_card(groups, teams, milter, mta, sink):
    url = teams.hook_url("wf" + HOOK_SECRET)
    m2a = milter(chat_config(["chat:team:full"], [("team", "teams", url)]))
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    post = teams.wait_for_posts(1)[0]
    body = post.json
    assert body["type"] == "message" and len(body["attachments"]) == 1
    att = body["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert att["contentUrl"] is None
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["fallbackText"] == subject_of(data)
    title, sender, text = card["body"]
    assert title == {"type": "TextBlock", "text": subject_of(data), "wrap": True,
                     "weight": "Bolder", "size": "Medium", "color": "Attention"}
    assert sender["text"] == "Message from: GoCD Server <go@gocd.example.com>" or \
        sender["text"].startswith("Message from: ")
    assert sender["isSubtle"] is True
    assert text["type"] == "TextBlock" and text["text"].startswith(first_line(data)[:20])
    m2a.wait_log(chat_sent(res.queue_id, "team"))
    assert teams.answered_requests()[0].status == 202


def test_teams_throttling_retry_after_honoured(groups, teams, milter, mta, sink):
    url = teams.hook_url("wf1")
    m2a = milter(chat_config(["chat:team"], [("team", "teams", url)]))
    path = url.split("127.0.0.1:%d" % teams.port, 1)[1].split("?")[0]
    teams.script(path, [(429, {"Retry-After": "2"}, {"error": {"code": "WorkflowTriggerIsThrottled",
                                                               "message": "throttled"}})])
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    first, second = teams.wait_for_posts(2, timeout=10)
    assert 1.8 <= second.mono - first.mono < 4.5
    m2a.wait_log(chat_sent(res.queue_id, "team", attempts=2))


# ------------------------------------------------------------- rate limits

def test_rocketchat_429_reset_honoured_while_others_flow(groups, rocketchat, mattermost,
                                                        milter, mta, sink):
    rc_path, mm_path = "/hooks/rcid/tok", "/hooks/mmhook"
    m2a = milter(chat_config(["chat:rc", "chat:mm"],
                             [("rc", "rocketchat", rocketchat.url + rc_path),
                              ("mm", "mattermost", mattermost.url + mm_path)]))
    # the limiter's own answer: 429 with only X-RateLimit-Reset (ms since the epoch)
    reset_ms = int(time.time() * 1000) + 3000
    rocketchat.script(rc_path, [(429, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                                       "X-RateLimit-Reset": str(reset_ms)},
                                 {"success": False, "error": "Error, too many requests. "
                                  "[error-too-many-requests]",
                                  "errorType": "error-too-many-requests"})])
    res1 = send_wanted(mta, gocd_mail("api", "build", "broken"))
    m2a.wait_log(r"%s: chat=rc status=deferred error=rate limited retry_in=[234]s"
                 % re.escape(res1.queue_id))
    # Mattermost is not held by Rocket.Chat's wait: this mail's post and
    # the next one's go before Rocket.Chat is asked again
    res2 = send_wanted(mta, gocd_mail("web", "build", "failed"))
    mm = mattermost.wait_for_posts(2, timeout=10)
    m2a.wait_log(chat_sent(res2.queue_id, "mm"))
    rc = rocketchat.wait_for_posts(3, timeout=15)
    assert rc[1].time * 1000 >= reset_ms - 50, "retried before X-RateLimit-Reset"
    assert rc[1].time - rc[0].time < 6
    assert all(p.mono < rc[1].mono for p in mm), "Mattermost waited for Rocket.Chat"
    # posts to one destination stay in order
    assert [p.attachment()["title"] for p in rc[1:]] == \
        [rc[0].attachment()["title"], mm[1].attachment()["title"]]
    m2a.wait_log(chat_sent(res1.queue_id, "rc", attempts=2))
    m2a.wait_log(chat_sent(res2.queue_id, "rc"))


def test_429_without_any_header_backs_off_exponentially(groups, rocketchat, milter, mta, sink):
    path = "/hooks/rcid/tok"
    m2a = milter(chat_config(["chat:rc"], [("rc", "rocketchat", rocketchat.url + path)]))
    limited = (429, {}, {"success": False, "error": "error-too-many-requests"})
    rocketchat.script(path, [limited, limited])
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    a, b, c = rocketchat.wait_for_posts(3, timeout=15)
    assert 0.8 <= b.mono - a.mono < 1.8, b.mono - a.mono
    assert 1.8 <= c.mono - b.mono < 3.5, c.mono - b.mono
    m2a.wait_log(r"%s: chat=rc status=deferred error=rate limited retry_in=2s"
                 % re.escape(res.queue_id))
    m2a.wait_log(chat_sent(res.queue_id, "rc", attempts=3))


def test_rocketchat_rate_limiter_window(groups, rocketchat, milter, mta, sink):
    """Rocket.Chat's own limiter, 2 calls in a 3 s window: the third post
    waits for the window's end and is then sent."""
    path = "/hooks/rcid/tok"
    rocketchat.rate_limit = (2, 3000)
    m2a = milter(chat_config(["chat:rc"], [("rc", "rocketchat", rocketchat.url + path)]))
    res = [send_wanted(mta, gocd_mail("api", "stage%d" % i, "broken")) for i in range(3)]
    for r in res:
        m2a.wait_log(chat_sent(r.queue_id, "rc", attempts=1) + "|" +
                     chat_sent(r.queue_id, "rc", attempts=2), timeout=20)
    reqs = rocketchat.answered_requests(path)
    assert [r.status for r in reqs].count(429) >= 1
    assert [r.status for r in reqs][-1] == 200
    limited = [r for r in reqs if r.status == 429]
    assert "Retry-After" not in m2a.log()
    # no second 429 in a row: the retry waited for the reset
    statuses = [r.status for r in reqs]
    assert "429,429" not in ",".join(map(str, statuses)), statuses
    assert limited


# ------------------------------------------------------------------ Slack

def test_slack_users_by_id_name_and_address(groups, slack, milter, mta, sink):
    # alice is on the second page of users.list (limit=200)
    slack.users[:0] = [{"id": "U0FILL%05d" % i, "name": "filler%d" % i, "deleted": False,
                        "profile": {"display_name": "", "email": ""}} for i in range(250)]
    m2a = milter(chat_config(["slack:@alice", "slack:@bob@example.com", "slack:U0CAROL0003",
                              "slack:@bobby"], slack=slack))
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    posts = slack.wait_for_posts(4, timeout=10, path=API_PATH)
    assert sorted(p.json["channel"] for p in posts) == \
        ["U0ALICE0001", "U0BOB000002", "U0BOB000002", "U0CAROL0003"]
    for p in posts:
        assert p.status in (None, 200)
    lists = slack.requests(USERS_LIST_PATH)
    assert [r.query.get("cursor") is None for r in lists][:2] == [True, False]
    assert all(r.header("Authorization") == "Bearer " + TOKEN for r in lists)
    assert slack.requests(LOOKUP_EMAIL_PATH)[0].query == {"email": "bob@example.com"}
    for target in ("@alice", "@bob@example.com", "U0CAROL0003", "@bobby"):
        m2a.wait_log(r"%s: slack=%s status=sent attempts=1" % (re.escape(res.queue_id),
                                                                re.escape(target)))
    # cached: a second mail asks no more lookups
    n_list, n_mail = len(lists), len(slack.requests(LOOKUP_EMAIL_PATH))
    res2 = send_wanted(mta, gocd_mail("api", "build", "failed"))
    slack.wait_for_posts(8, timeout=10, path=API_PATH)
    m2a.wait_log(r"%s: slack=@bobby status=sent" % re.escape(res2.queue_id))
    assert len(slack.requests(USERS_LIST_PATH)) == n_list
    assert len(slack.requests(LOOKUP_EMAIL_PATH)) == n_mail


def test_slack_unknown_user_fails_with_the_lookup_error(groups, slack, milter, mta, sink):
    m2a = milter(chat_config(["slack:@nobody", "slack:@ghost@example.com"], slack=slack))
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    m2a.wait_log(r"%s: slack=@nobody status=failed error=user lookup: users_not_found"
                 % re.escape(res.queue_id))
    m2a.wait_log(r"%s: slack=@ghost@example.com status=failed error=user lookup: "
                 r"users_not_found" % re.escape(res.queue_id))
    # never posted as "@nobody", which Slack would answer channel_not_found
    assert slack.requests(API_PATH) == []


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable",
                                   "request_timeout"])
def test_slack_transient_errors_retried(groups, slack, milter, mta, sink, error):
    m2a = milter(chat_config(["slack:#builds"], slack=slack))
    slack.script(API_PATH, [(200, {}, {"ok": False, "error": error})])
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    first, second = slack.wait_for_posts(2, timeout=10, path=API_PATH)
    assert second.json == first.json
    m2a.wait_log(r"%s: slack=#builds status=deferred error=%s retry_in=1s"
                 % (re.escape(res.queue_id), error))
    m2a.wait_log(r"%s: slack=#builds status=sent attempts=2" % re.escape(res.queue_id))


def test_slack_ratelimited_error_waits_retry_after(groups, slack, milter, mta, sink):
    m2a = milter(chat_config(["slack:#builds"], slack=slack))
    slack.script(API_PATH, [(200, {"Retry-After": "2"}, {"ok": False, "error": "ratelimited"})])
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    first, second = slack.wait_for_posts(2, timeout=10, path=API_PATH)
    assert second.mono - first.mono >= 1.8
    m2a.wait_log(r"%s: slack=#builds status=sent attempts=2" % re.escape(res.queue_id))


# ------------------------------------------------------------ state, CLI

def test_unsent_chat_post_saved_with_its_destination_and_sent_after_restart(
        groups, mattermost, milter, mta, sink, test_dir):
    state = os.path.join(test_dir, "state.json")
    path = "/hooks/mmhook"
    cfg = chat_config(["chat:mm"], [("mm", "mattermost", mattermost.url + path)],
                      retry_time=600, state_file=state)
    m2a = milter(cfg)
    mattermost.set_mode("500", path)
    res = send_wanted(mta, gocd_mail("api", "build", "broken"))
    m2a.wait_log(r"%s: chat=mm status=deferred error=HTTP 500" % re.escape(res.queue_id))
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(25)
    # kept in the outbox journal beside the state file (one "P <record>" line), not in it
    with open(state) as f:
        assert json.load(f)["slack"] == []
    with open(state + ".outbox") as f:
        saved = [json.loads(line[2:]) for line in f.read().splitlines()]
    assert len(saved) == 1 and saved[0]["chat"] == "mm" and "channel" not in saved[0]
    mattermost.set_mode("ok", path)
    m2b = milter(cfg)
    m2b.wait_log(chat_sent(res.queue_id, "mm"))


def test_check_and_dry_run_show_chat_destinations(mail2alert_bin, test_dir, gocd, slack,
                                                  mattermost):
    gocd.set_groups({"team-a": ["api"]})
    conf = os.path.join(test_dir, "m2a.conf")
    text = chat_config(["slack:#builds", "slack:@alice", "slack:@bob@example.com", "chat:mm"],
                       [("mm", "mattermost", mattermost.url + "/hooks/x")], slack=slack)
    with open(conf, "w") as f:
        f.write(text.replace("@SOCKET@", "inet:1@127.0.0.1").replace("@GOCD_URL@", gocd.url))
    t = subprocess.run([mail2alert_bin, "-t", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert t.returncode == 0, t.stderr
    lines = t.stdout.splitlines()
    assert lines[1:] == [
        "chat destinations:",
        "slack:@alice: user ID looked up at run time with users.list (token scope users:read)",
        "slack:@bob@example.com: user ID looked up at run time with users.lookupByEmail "
        "(token scope users:read.email)"]
    r = subprocess.run([mail2alert_bin, "-r", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "slack:#builds: slack api (chat.postMessage)\n" in r.stdout
    assert "chat:mm: mattermost\n" in r.stdout
    eml = os.path.join(test_dir, "m.eml")
    with open(eml, "wb") as f:
        f.write(gocd_mail("api", "build", "broken"))
    n = subprocess.run([mail2alert_bin, "-n", eml, "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert n.returncode == 0, n.stderr
    assert re.search(r"(?m)^chat:      mm \(brief, mattermost webhook\) title=", n.stdout)
    assert re.search(r"(?m)^slack:     @alice \(brief, user ID looked up with users.list "
                     r"at run time\)", n.stdout)
    assert slack.requests() == []           # -t, -r and -n never ask Slack


# ------------------------------------------------------------------ escaping

def test_markup_from_mail_reaches_slack_and_mattermost_escaped(groups, slack, mattermost,
                                                              milter, mta, sink):
    """Anyone who can mail the trigger address writes the subject: its
    "<!channel>" must not notify a channel, nor a link be disguised
    (Slack's escaping; Mattermost reads the same markup)."""
    path = "/hooks/mmhook"
    milter(config(gocd_manager([rule(["mailto:a@example.com"], function="pipelines.any",
                                     args=None)]),
                  mail_manager([rule(["slack:#ops:full", "chat:mm"],
                                     function="mail.in_subject", args=["backup"])]),
                  top_extra="\n".join([
                      "slack-token = %s;" % q(TOKEN), "slack-api = %s;" % q(slack.api_url),
                      "chat-webhooks = ( { name = \"mm\"; service = \"mattermost\"; "
                      "url = %s; } );" % q(mattermost.url + path)])))
    subject = "Backup failed <!channel> & <http://evil.example|docs>"
    data = plain_mail(subject=subject, to="admin@example.com", sender=MAIL_SENDER,
                      body="See <!here> now\n")
    res = mta(MAIL_SENDER, ["admin@example.com"], data)
    assert res.ok, res
    escaped = "Backup failed &lt;!channel&gt; &amp; &lt;http://evil.example|docs&gt;"
    post = slack.wait_for_posts(1, path=API_PATH)[0]
    assert post.attachment()["title"] == escaped
    assert post.attachment()["fallback"] == escaped
    assert post.attachment()["text"] == "See &lt;!here&gt; now\n"      # :full: the body
    assert "<" not in post.body.decode()
    mm = mattermost.wait_for_posts(1)[0]
    assert mm.attachment()["title"] == escaped
