"""The outbox journal (issue 16, one host): chat posts are on disk before
Postfix is answered, so kill -9 loses none, and none is sent twice.

A post counts as delivered when the Slack stand-in answered it 200.  A
request the killed daemon left hanging was never answered, so it does not
count: its post must come again after the restart.
"""

import json
import os
import re
import signal
import time

from tests.lab.slack import API_PATH
from tests.system.m2a_helpers import gocd_mail
from tests.system.test_slack import (  # noqa: F401 (fixtures)
    _token_never_logged, groups, send_wanted, sent_line, slack, slack_config, subject_of)


def delivered(slack):
    """Titles of the posts Slack answered 200, in order."""
    return [r.attachment()["title"] for r in slack.requests(API_PATH) if r.status == 200]


def wait_delivered(slack, subjects, timeout=20):
    """Wait until every subject was answered 200; returns delivered(slack)."""
    slack.wait_for_requests(len(subjects), timeout=timeout, path=API_PATH,
                            pred=lambda r: r.status == 200 and r.attachment()["title"]
                            in subjects)
    return delivered(slack)


def kill_hard(m2a):
    m2a.kill()
    assert m2a.returncode == -signal.SIGKILL


def test_kill_9_with_posts_queued_loses_none_and_sends_each_once(groups, slack, milter,
                                                                 mta, test_dir):
    """(a) The journal's default place (beside the state file): five posts
    queued behind a hanging one, kill -9, restart: each arrives once."""
    state = os.path.join(test_dir, "state.json")
    cfg = slack_config(slack, ["slack:#builds"], retry_time=600, state_file=state)
    m2a = milter(cfg)
    slack.set_mode("hang", API_PATH)
    datas = [gocd_mail("api", "build", ev)
             for ev in ("broken", "failed", "failed", "fixed", "passed")]
    qids = [send_wanted(mta, d).queue_id for d in datas]   # 250: each post is on disk
    slack.wait_hanging(1, timeout=5)
    kill_hard(m2a)
    assert delivered(slack) == []

    slack.set_mode("ok", API_PATH)
    m2b = milter(cfg)
    subjects = [subject_of(d) for d in datas]
    got = wait_delivered(slack, subjects)
    assert got == subjects, got
    m2b.wait_log(r"outbox journal %s: posts=5 to send" % re.escape(state + ".outbox"))
    # the journal empties once nothing is left to send
    m2b.wait_log(sent_line(qids[-1]), timeout=5)
    deadline = time.monotonic() + 5
    while os.path.getsize(state + ".outbox") > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.getsize(state + ".outbox") == 0


def test_post_sent_before_kill_is_not_sent_again(groups, slack, milter, mta, test_dir):
    """(b) A relative outbox-journal is beside the config.  The first post
    went out; after kill -9 and a restart only the unsent second one is
    sent, then a third, new one: the first never again."""
    cfg = slack_config(slack, ["slack:#builds"], retry_time=600,
                       outbox_journal="outbox.journal")
    m2a = milter(cfg)
    first = gocd_mail("api", "build", "broken")
    res1 = send_wanted(mta, first)
    m2a.wait_log(sent_line(res1.queue_id))
    slack.set_mode("hang", API_PATH)
    second = gocd_mail("api", "build", "fixed")
    send_wanted(mta, second)
    slack.wait_hanging(1, timeout=5)
    assert os.path.exists(os.path.join(test_dir, "outbox.journal"))
    kill_hard(m2a)

    slack.set_mode("ok", API_PATH)
    m2b = milter(cfg)
    third = gocd_mail("api", "build", "failed")
    send_wanted(mta, third)
    # one worker, in order: once the third is in, nothing older is still to come
    got = wait_delivered(slack, [subject_of(third)])
    assert got == [subject_of(first), subject_of(second), subject_of(third)], got
    assert "posts=1 to send" in m2b.log()


def record(subject, channel="#builds", post_id=None, **extra):
    post = {"id": post_id or os.urandom(16).hex(), "channel": channel, "style": "brief",
            "subject": subject, "from": "GoCD <go@gocd.example.com>", "text": subject,
            "event": "BREAKS", "queue_id": "JOURNAL1"}
    post.update(extra)
    return post


def test_torn_and_garbage_lines_skipped_with_warnings(groups, slack, milter, test_dir):
    """(c) A journal as a crash and a bad disk left it: a garbage line, a
    post marked done, a post for a channel no longer configured, and a
    torn last line.  Each bad line is one warning; the good posts go."""
    path = os.path.join(test_dir, "outbox")
    good1, done, gone, good2 = (record("good one"), record("done already"),
                                record("gone", channel="#gone"), record("good two"))
    lines = ["P " + json.dumps(good1), "this is not a journal line",
             "P " + json.dumps(done), "P " + json.dumps(gone), "D " + done["id"],
             'P {"id": "' + "0" * 32 + '", "channel": "#builds"}',
             "P " + json.dumps(good2)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + "P " + json.dumps(record("torn"))[:40])
    m2a = milter(slack_config(slack, ["slack:#builds"], outbox_journal=path))
    got = wait_delivered(slack, ["good one", "good two"])
    assert got == ["good one", "good two"], got
    log = m2a.log()
    q = re.escape(path)
    assert re.search(r"warning: outbox journal %s: line 2 skipped: neither" % q, log)
    assert re.search(r"warning: outbox journal %s: line 6 skipped: not a chat post" % q, log)
    assert re.search(r"warning: outbox journal %s: incomplete last line 8" % q, log)
    assert re.search(r"JOURNAL1: saved slack post for #gone dropped", log)
    assert len(re.findall(r"warning: outbox journal", log)) == 3, log
    assert "done already" not in [r.attachment()["title"] for r in slack.requests(API_PATH)]
    # rewritten at start: no torn line left for the next append to run into
    m2a.wait_log(sent_line("JOURNAL1"))
    with open(path) as f:
        assert all(line.startswith(("P {", "D ")) for line in f.read().splitlines())


def test_unusable_journal_keeps_mail_and_posts_flowing(groups, slack, milter, mta, sink,
                                                       test_dir):
    """(d) The journal cannot be created (its directory is a file, which
    stops root too): logged with path and reason; mail and posts flow."""
    blocker = os.path.join(test_dir, "not-a-dir")
    open(blocker, "w").close()
    path = os.path.join(blocker, "outbox")
    m2a = milter(slack_config(slack, ["mailto:team-a@example.com", "slack:#builds"],
                              outbox_journal=path))
    m2a.wait_log(r"error: outbox journal %s: cannot open it: Not a directory; chat posts "
                 r"are kept in memory only" % re.escape(path))
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    sink.wait_for(lambda m: subject_of(data) in m.data.decode("utf-8", "replace"),
                  timeout=20)
    m2a.wait_log(sent_line(res.queue_id))
    assert delivered(slack) == [subject_of(data)]


def test_empty_outbox_journal_turns_it_off(groups, slack, milter, mta, test_dir):
    """(e) outbox-journal = "": no journal beside the state file; at stop
    the state file keeps the unsent post, as before the journal."""
    state = os.path.join(test_dir, "state.json")
    m2a = milter(slack_config(slack, ["slack:#builds"], retry_time=600, state_file=state,
                              outbox_journal=""))
    slack.set_mode("hang", API_PATH)
    send_wanted(mta, gocd_mail("api", "build", "broken"))
    slack.wait_hanging(1, timeout=5)
    assert not os.path.exists(state + ".outbox")
    assert "outbox journal" not in m2a.log()
    m2a.signal(signal.SIGTERM)
    slack.release(answer="close", path=API_PATH)
    m2a.proc.wait(25)
    assert not os.path.exists(state + ".outbox")
    with open(state) as f:
        assert len(json.load(f)["slack"]) == 1


def test_graceful_stop_keeps_posts_in_the_journal_not_the_state_file(groups, slack, milter,
                                                                     mta, test_dir):
    """With the journal on, a stop leaves unsent posts in it only: saved in
    the state file as well, they would be sent twice after the restart."""
    state = os.path.join(test_dir, "state.json")
    cfg = slack_config(slack, ["slack:#builds"], retry_time=600, state_file=state)
    m2a = milter(cfg)
    slack.set_mode("500", API_PATH)
    data = gocd_mail("api", "build", "broken")
    res = send_wanted(mta, data)
    m2a.wait_log(r"%s: slack=#builds status=deferred" % re.escape(res.queue_id))
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(25)
    assert m2a.returncode == 0, m2a.log()[-3000:]
    assert "1 unsent chat posts kept for the next start" in m2a.log()
    with open(state) as f:
        assert json.load(f)["slack"] == []

    slack.set_mode("ok", API_PATH)
    m2b = milter(cfg)
    m2b.wait_log(sent_line(res.queue_id))
    third = gocd_mail("api", "build", "fixed")
    send_wanted(mta, third)
    got = wait_delivered(slack, [subject_of(third)])
    assert got == [subject_of(data), subject_of(third)], got


def test_reload_changing_the_journal_says_it_needs_a_restart(groups, slack, milter, mta,
                                                             test_dir):
    """A reload cannot move the journal (posts in flight are in the old
    one): a warning says so, and posts keep going to the journal in use."""
    m2a = milter(slack_config(slack, ["slack:#builds"], outbox_journal="first.journal"))
    milter.write_config(slack_config(slack, ["slack:#builds"], outbox_journal="second.journal"))
    m2a.signal(signal.SIGHUP)
    m2a.wait_log(r"warning: reload: outbox-journal .* changed; the journal in use stays "
                 r"until mail2alert restarts")
    m2a.wait_log(r"reloaded ")
    slack.set_mode("hang", API_PATH)
    send_wanted(mta, gocd_mail("api", "build", "broken"))
    slack.wait_hanging(1, timeout=5)
    assert os.path.getsize(os.path.join(test_dir, "first.journal")) > 0
    assert not os.path.exists(os.path.join(test_dir, "second.journal"))
