"""GoCD integration through the real Postfix + milter (SPEC 1.7, 2, 6).

What test_polling.py already covers (endpoint/Accept per API, the auto
fallback chain, 202 after a good snapshot, Basic/Bearer headers) is not
repeated; these tests look at what happens around the polls: how fast a
change reaches routing, what a failing or hanging GoCD does to mail and to
the log, the state file across restarts, the unresolved policies, cctray
seeding over time, a big GoCD, forced APIs and secrets in the log.

Every "nothing happened" conclusion rests on a later event (a control mail,
a later poll), never on a sleep alone.
"""

import base64
import json
import os
import re
import signal
import time

import pytest

from tests.lab import free_port
from tests.lab.gocd import ENDPOINTS
from tests.system.m2a_helpers import (
    GOCD_SENDER, TRIGGER, assert_discarded, deliver, gocd_config, gocd_mail, rule,
    same_message, send_control, to_addrs, trace, x_mail2alert)

ADMIN, DASH, LEGACY, CCTRAY = (ENDPOINTS[k] for k in ("admin", "dashboard", "legacy", "cctray"))
EVENT_NAMES = ["PASSES", "FAILS", "BREAKS", "FIXED", "CANCELLED"]
POLL_FAILED = "GoCD poll failed"
RECOVERED = re.compile(r"GoCD poll works again after (\d+) failures")


# ------------------------------------------------------------------ helpers

def team_cfg(**kw):
    """team-a -> team-a@, team-b -> team-b@."""
    return gocd_config(rule("mailto:team-a@example.com"),
                       rule("mailto:team-b@example.com", args=["team-b"]), **kw)


def per_event_cfg(**kw):
    """Pipelines of team-a: one rule per event, to <event>@example.com."""
    return gocd_config(*[rule("mailto:%s@example.com" % e.lower(), events=[e])
                         for e in EVENT_NAMES], **kw)


def poll_now(m2a):
    """SIGUSR2: "poll GoCD now" (SPEC 7).  Sent directly, so the fixture's
    check for a milter that exits by itself stays armed."""
    m2a.proc.send_signal(signal.SIGUSR2)


def rcpts_of(mta, sink, pipeline, event="broken", stage="build", **kw):
    _, m = deliver(mta, sink, gocd_mail(pipeline, stage, event, **kw))
    return m.rcpts


def event_of(mta, sink, pipeline, stage, event, **kw):
    """The event mail2alert decided on, with per_event_cfg(): the envelope
    and the X-Mail2alert header must agree."""
    _, m = deliver(mta, sink, gocd_mail(pipeline, stage, event, **kw))
    assert len(m.rcpts) == 1, m
    by_rcpt = m.rcpts[0].split("@")[0].upper()
    assert trace(m)[1]["event"] == by_rcpt, "header and routing disagree: %r" % m
    return by_rcpt


def forced_polls(m2a, gocd, path, k):
    """Make K more polls happen now (SIGUSR2 each, so backoff does not
    matter) and wait until each was answered."""
    for _ in range(k):
        n = gocd.count(path)
        poll_now(m2a)
        gocd.wait_for_requests(path, n + 1, timeout=15, answered=True)


def wait_poll_handled(gocd, path, base, timeout=15.0, statuses=(200,)):
    """Wait for a request to PATH at index >= BASE answered with one of
    STATUSES, then for the cctray.xml request that the poller makes right
    after handling a good answer (publish, then seed): from then on the new
    snapshot is in use.  Returns (answered request, cctray request)."""
    deadline = time.monotonic() + timeout
    while True:
        reqs = gocd.requests(path)
        good = [r for r in reqs[base:] if r.status in statuses]
        if good:
            cc = [r for r in gocd.requests(CCTRAY) if r.time >= good[0].time]
            if cc:
                return good[0], cc[0]
        if time.monotonic() > deadline:
            raise TimeoutError("no handled %s answer from index %d: %r / cctray %r"
                               % (statuses, base, reqs[base:], gocd.requests(CCTRAY)[-3:]))
        time.sleep(0.02)


def log_lines(m2a, needle):
    return [l for l in m2a.log().splitlines() if needle in l]


def closed_url():
    """A GoCD URL where nothing listens (connection refused)."""
    return "http://127.0.0.1:%d/go" % free_port()


def assert_not_delivered(mta, sink, data):
    """DATA is not at the sink, checked after a control mail went through."""
    send_control(mta, sink)
    assert not sink.find(same_message(data)), "message should not have been delivered"


# ------------------------------------------------------------------ group changes

def test_membership_change_followed_at_once_on_sigusr2(gocd, milter, mta, sink):
    """poll-interval is 30 s: only SIGUSR2 can explain a change within seconds."""
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_cfg(poll_interval=30))
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]

    gocd.set_groups({"team-a": [], "team-b": ["db", "api"]})
    base = gocd.count(ADMIN)
    t0 = time.monotonic()
    poll_now(m2a)
    answer, _ = wait_poll_handled(gocd, ADMIN, base, timeout=5)
    took = time.monotonic() - t0
    assert answer.status == 200
    assert took < 3, "SIGUSR2 did not poll at once (%.1fs)" % took
    assert rcpts_of(mta, sink, "api", "failed") == ["team-b@example.com"]
    assert rcpts_of(mta, sink, "db", "failed") == ["team-b@example.com"]


def test_membership_change_followed_within_a_poll_interval(gocd, milter, mta, sink):
    """No SIGUSR2 at all (the factory's nudge is off): poll-interval = 1."""
    milter.nudge = False
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    milter(team_cfg(poll_interval=1))
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]

    base = gocd.count(ADMIN)
    t0 = time.time()
    gocd.set_groups({"team-b": ["api", "db"]})
    answer, cc = wait_poll_handled(gocd, ADMIN, base, timeout=10)
    assert answer.status == 200
    assert cc.time - t0 < 4, "the change took %.1fs to be fetched" % (cc.time - t0)
    assert rcpts_of(mta, sink, "api", "failed") == ["team-b@example.com"]


# ------------------------------------------------------------------ ETag

def test_etag_304s_keep_routing_on_the_snapshot(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_cfg())
    # we accept gzip (libcurl), so GoCD's Jetty marks the tag "--gzip"
    tag = '"%s--gzip"' % gocd.etag()
    forced_polls(m2a, gocd, ADMIN, 4)
    reqs = gocd.requests(ADMIN)
    first_ok = next(i for i, r in enumerate(reqs) if r.status == 200)
    assert reqs[first_ok].headers.get("If-None-Match") is None
    later = reqs[first_ok + 1:]
    assert len(later) >= 4
    for r in later:
        if r.done:
            assert r.headers.get("If-None-Match") == tag, r.headers.items()
            assert r.status == 304
    # the 304s did not lose the groups
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]
    assert rcpts_of(mta, sink, "db") == ["team-b@example.com"]

    # a change: 200 with a new ETag, which the next poll sends
    gocd.set_groups({"team-b": ["api", "db"]})
    new_tag = '"%s--gzip"' % gocd.etag()
    assert new_tag != tag
    base = gocd.count(ADMIN)
    poll_now(m2a)
    answer, _ = wait_poll_handled(gocd, ADMIN, base)
    assert answer.headers.get("If-None-Match") == tag
    forced_polls(m2a, gocd, ADMIN, 2)
    last = gocd.requests(ADMIN)[-1]
    assert last.headers.get("If-None-Match") == new_tag
    assert last.status == 304
    assert rcpts_of(mta, sink, "api", "failed") == ["team-b@example.com"]


# ------------------------------------------------------------------ hanging GoCD

def test_hanging_gocd_never_delays_mail(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_cfg())
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]

    gocd.set_mode("hang")
    n = gocd.count(ADMIN)
    hung = gocd.wait_for_requests(ADMIN, n + 1, timeout=10)[n]
    poll_now(m2a)                       # must not start a second poll beside it
    t0 = time.monotonic()
    assert rcpts_of(mta, sink, "api", "failed") == ["team-a@example.com"]
    assert rcpts_of(mta, sink, "db", "failed") == ["team-b@example.com"]
    took = time.monotonic() - t0
    assert took < 4, "mail took %.1fs while GoCD hangs" % took
    assert not hung.done, "the hanging poll request should still be pending"
    assert gocd.count(ADMIN) == n + 1, "a second poll started while one was in flight: %r" \
        % gocd.requests(ADMIN)[n:]

    # GoCD answers again: polling resumes with fresh groups
    gocd.set_groups({"team-b": ["api", "db"]})
    base = gocd.count(ADMIN)
    gocd.set_mode("ok")                 # the hung request is closed unanswered
    milter.wait_groups_loaded(base, timeout=20)
    assert rcpts_of(mta, sink, "api", "passed") == ["team-b@example.com"]
    assert m2a.alive()


def test_sigterm_while_a_poll_hangs_stops_cleanly_and_saves(gocd, milter, mta, sink,
                                                             test_dir):
    """The poll in flight is abandoned at stop: no wait for its 30 s timeout."""
    state = os.path.join(test_dir, "state.json")
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(team_cfg(top_extra='state-file = "@DIR@/state.json";'))
    # only the groups endpoint hangs: a cctray.xml seed in flight at this
    # moment must finish, so the request that hangs is the next poll
    gocd.set_mode("hang", endpoint="admin")
    n = gocd.count(ADMIN)
    hung = gocd.wait_for_requests(ADMIN, n + 1, timeout=10)[n]
    t0 = time.monotonic()
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(40)
    took = time.monotonic() - t0
    assert m2a.returncode == 0, m2a.log()[-2000:]
    assert took < 15, "stop waited %.1fs for the hanging poll" % took
    assert not hung.status
    assert read_state(state)["groups"] == {"gocd": {"team-a": ["api"]}}


# ------------------------------------------------------------------ failure streak

STREAK_MODES = ["500", "garbage", "wrongshape", "close", "401"]


def test_failure_streak_keeps_snapshot_and_logs_once(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_cfg())
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]

    pre = gocd.count(ADMIN)
    gocd.set_groups({"team-b": ["api", "db"]})      # only a good poll can show this
    for mode in STREAK_MODES:
        gocd.set_mode(mode)
        forced_polls(m2a, gocd, ADMIN, 2)
        assert rcpts_of(mta, sink, "api", "failed") == ["team-a@example.com"], mode
        assert rcpts_of(mta, sink, "db", "failed") == ["team-b@example.com"], mode
    n1 = gocd.count(ADMIN)      # backoff is long now: no poll starts on its own
    reqs = gocd.requests(ADMIN)
    first_fail = next(i for i in range(pre, n1) if reqs[i].status == 500)
    failed = n1 - first_fail
    assert failed >= 2 * len(STREAK_MODES)
    assert all(r.done for r in reqs[:n1])

    gocd.set_mode("ok")
    poll_now(m2a)
    milter.wait_groups_loaded(n1, timeout=15)
    assert rcpts_of(mta, sink, "api", "passed") == ["team-b@example.com"]
    m = m2a.wait_log(RECOVERED.pattern, timeout=5)

    warnings = log_lines(m2a, POLL_FAILED)
    assert len(warnings) == 1, "one warning per failure streak, got:\n" + "\n".join(warnings)
    assert "HTTP 500" in warnings[0] and "warning" in warnings[0]
    recoveries = RECOVERED.findall(m2a.log())
    assert len(recoveries) == 1, recoveries
    assert int(m.group(1)) == failed, "recovery line counts %s failures, GoCD saw %d" \
        % (m.group(1), failed)


# ------------------------------------------------------------------ state file

def read_state(path):
    with open(path) as f:
        return json.load(f)


def test_stages_of_unknown_pipelines_are_not_kept(gocd, milter, mta, sink, test_dir):
    """Mail can name any pipeline, cctray.xml any project: only stages of
    pipelines GoCD's groups name are kept, so junk cannot grow the stage
    table or the state file."""
    state = os.path.join(test_dir, "state.json")
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: test": "Success", "junkcc%d :: build" % 0: "Failure",
                     "junkcc1 :: build": "Success"})
    m2a = milter(team_cfg(top_extra='state-file = "@DIR@/state.json";'))
    gocd.wait_for_requests(CCTRAY, 2, timeout=15, answered=True)
    for i in range(20):
        res = mta(GOCD_SENDER, [TRIGGER], gocd_mail("junk%d" % i, "build", "failed"))
        assert res.ok, res
    assert rcpts_of(mta, sink, "api", "failed") == ["team-a@example.com"]
    m2a.signal(signal.SIGTERM)          # stop saves the state at once
    m2a.proc.wait(20)
    assert sorted(read_state(state)["stages"]) == ["api/build", "api/test"]


def test_state_file_never_writes_through_a_planted_temp_name(gocd, milter, test_dir):
    """A symlink planted where a predictable temporary name would be (the
    old 'state.json.tmp') must not be followed: the victim stays as it
    was, and the state file is still written."""
    state = os.path.join(test_dir, "state.json")
    victim = os.path.join(test_dir, "victim")
    with open(victim, "w") as f:
        f.write("precious")
    os.symlink(victim, state + ".tmp")
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(team_cfg(top_extra='state-file = "@DIR@/state.json";'))
    m2a.signal(signal.SIGTERM)          # stop saves the state at once
    m2a.proc.wait(20)
    assert read_state(state)["groups"] == {"gocd": {"team-a": ["api"]}}
    with open(victim) as f:
        assert f.read() == "precious"
    assert os.path.islink(state + ".tmp")
    assert sorted(os.listdir(test_dir)).count("state.json") == 1
    # state.json.outbox is the outbox journal beside it, not a temporary file
    assert not [n for n in os.listdir(test_dir) if n.startswith("state.json.")
                and n not in ("state.json.tmp", "state.json.outbox")], \
        "temporary file left behind"


def test_state_file_carries_groups_and_stages_over_a_restart_with_gocd_down(
        gocd, milter, mta, sink, test_dir):
    state = os.path.join(test_dir, "state.json")
    text = gocd_config(*[rule("mailto:%s@example.com" % e.lower(), events=[e])
                         for e in EVENT_NAMES],
                       rule("mailto:team-b@example.com", args=["team-b"]),
                       top_extra='state-file = "@DIR@/state.json";')
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(text)
    assert rcpts_of(mta, sink, "api", "passed") == ["passes@example.com"]

    # saved while running (at most every 5 s when something changed)
    deadline = time.monotonic() + 9
    while True:
        try:
            doc = read_state(state)
            if doc.get("stages", {}).get("api/build") == "success":
                break
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, "state file not written while running"
        time.sleep(0.2)

    # a change just before the stop must be in the file saved at stop
    assert rcpts_of(mta, sink, "db", "failed") == ["team-b@example.com"]
    m2a.signal(signal.SIGTERM)
    m2a.proc.wait(20)
    assert m2a.returncode == 0, m2a.log()[-2000:]
    doc = read_state(state)
    assert doc["version"] == 1
    assert doc["groups"] == {"gocd": {"team-a": ["api"], "team-b": ["db"]}}
    assert doc["stages"] == {"api/build": "success", "db/build": "failure"}
    assert not os.path.exists(state + ".tmp")

    # GoCD is down now; a new milter starts from the file
    gocd.set_mode("500")
    base = gocd.count(ADMIN)
    m2 = milter(text, wait_groups=False)
    m2.wait_log(r"state file %s: managers=1 stages=2" % re.escape(state), timeout=5)
    gocd.wait_for_requests(ADMIN, base + 1, timeout=10, answered=True)
    m2.wait_log(POLL_FAILED, timeout=5)
    # groups from the cache; edge detection from the saved stage states
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed", counter=2))
    assert m.rcpts == ["breaks@example.com"]
    assert trace(m) == ("gocd", {"pipeline": "api", "stage": "build", "event": "BREAKS"})
    _, m = deliver(mta, sink, gocd_mail("db", "build", "passed"))
    assert m.rcpts == ["team-b@example.com"]
    assert trace(m)[1]["event"] == "FIXED"
    assert x_mail2alert(m) != ["unresolved"]


def valid_state_text():
    return json.dumps({"version": 1, "groups": {"gocd": {"team-a": ["api"]}},
                       "stages": {"api/build": "success"}, "slack": []})


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "wrong_version"])
def test_corrupt_state_file_is_logged_and_ignored(gocd, milter, mta, sink, test_dir, kind):
    state = os.path.join(test_dir, "state.json")
    good = valid_state_text()
    content = {"truncated": good[:len(good) - 20].encode(),
               "garbage": b"\x00\xffnot json at all {{{\n",
               "empty": b"",
               "wrong_version": good.replace('"version": 1', '"version": 99').encode()}[kind]
    with open(state, "wb") as f:
        f.write(content)
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("500")
    m2a = milter(per_event_cfg(top_extra='state-file = "@DIR@/state.json";'),
                 wait_groups=False)
    m2a.wait_log(r"warning: state file %s: .*ignored" % re.escape(state), timeout=5)
    gocd.wait_for_requests(ADMIN, 1, timeout=10, answered=True)
    # nothing of it was used: groups unresolved (accept), no saved stage state
    data = gocd_mail("api", "build", "failed")
    _, m = deliver(mta, sink, data)
    assert m.rcpts == [TRIGGER]
    assert x_mail2alert(m) == ["unresolved"]
    assert m2a.alive()
    # groups arrive: the stage state from the file was not used either
    gocd.set_mode("ok")
    poll_now(m2a)
    milter.wait_groups_loaded(0, timeout=15)
    assert event_of(mta, sink, "api", "deploy", "failed") == "FAILS"
    if kind == "truncated":
        # and the ignored file is replaced by a good one (saved within ~5 s)
        deadline = time.monotonic() + 9
        while True:
            try:
                if read_state(state).get("stages", {}).get("api/deploy") == "failure":
                    break
            except ValueError:
                pass
            assert time.monotonic() < deadline, "the corrupt state file was never replaced"
            time.sleep(0.2)


# ------------------------------------------------------------------ unresolved

@pytest.mark.parametrize("policy", ["accept", "tempfail", "mailto:fallback@example.com"])
def test_unresolved_policy_with_gocd_down_and_no_state(milter, mta, sink, policy):
    text = team_cfg(unresolved=policy).replace("@GOCD_URL@", closed_url())
    m2a = milter(text, wait_groups=False)
    m2a.wait_log(POLL_FAILED, timeout=10)
    data = gocd_mail("api", "build", "broken")
    if policy == "tempfail":
        res = mta(GOCD_SENDER, [TRIGGER], data, check=False)
        assert 400 <= res.code < 500, res
        assert res.code == 451 and "4.3.0" in res.text, res
        m2a.wait_log(r"status=tempfail reason=groups-not-loaded", timeout=5)
        assert_not_delivered(mta, sink, data)
    elif policy == "accept":
        _, m = deliver(mta, sink, data)
        assert m.rcpts == [TRIGGER]
        assert to_addrs(m) == [TRIGGER]
        assert x_mail2alert(m) == ["unresolved"]
    else:
        _, m = deliver(mta, sink, data)
        assert m.rcpts == ["fallback@example.com"]
        assert to_addrs(m) == ["fallback@example.com"]
        assert x_mail2alert(m) == ["unresolved"]
    assert m2a.alive()


def test_tempfailed_mail_does_not_count_for_edge_detection(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("500")
    m2a = milter(per_event_cfg(unresolved="tempfail"), wait_groups=False)
    gocd.wait_for_requests(ADMIN, 1, timeout=10, answered=True)
    data = gocd_mail("api", "build", "passed")
    res = mta(GOCD_SENDER, [TRIGGER], data, check=False)
    assert res.code == 451, res

    gocd.set_mode("ok")
    base = gocd.count(ADMIN)
    poll_now(m2a)
    milter.wait_groups_loaded(base, timeout=15)
    # the refused "passed" left no state: a "failed" now is FAILS, not BREAKS
    assert event_of(mta, sink, "api", "build", "failed") == "FAILS"


# ------------------------------------------------------------------ cctray seeding

def test_cctray_seed_makes_first_failure_a_break_and_mail_wins_later(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["pipe"]})
    gocd.set_cctray({"pipe :: build": "Success"})
    m2a = milter(per_event_cfg())
    gocd.wait_for_requests(CCTRAY, 1, timeout=10, answered=True)

    _, m = deliver(mta, sink, gocd_mail("pipe", "build", "failed", counter=2))
    assert m.rcpts == ["breaks@example.com"]          # the BREAKS-only rule fired
    assert "Stage [pipe/2/build/1] failed" in m.subject
    assert trace(m)[1]["event"] == "BREAKS"
    assert event_of(mta, sink, "pipe", "build", "passed", counter=3) == "FIXED"

    assert event_of(mta, sink, "pipe", "build", "failed", counter=4) == "BREAKS"

    # cctray now disagrees with what mail said, and knows a new stage.  Only
    # "Success" is seeded: cctray says "Failure" for a cancel too (GoCD's
    # StageState.cctrayStatus), so this test seeds Success now (it seeded
    # Failure before that was found).
    gocd.set_cctray({"pipe :: build": "Success", "pipe :: deploy": "Success"})
    c = gocd.count(CCTRAY)
    forced_polls(m2a, gocd, ADMIN, 1)
    gocd.wait_for_requests(CCTRAY, c + 1, timeout=10, answered=True)
    forced_polls(m2a, gocd, ADMIN, 1)                 # the seed is applied by now
    # a stage not yet known is seeded after a later poll ...
    assert event_of(mta, sink, "pipe", "deploy", "failed", counter=5) == "BREAKS"
    # ... but the state seen in mail (failure) wins over the later seed (Success)
    assert event_of(mta, sink, "pipe", "build", "failed", counter=5) == "FAILS"


def test_cctray_seeded_at_start_even_when_the_groups_poll_fails(gocd, milter, mta, sink):
    gocd.set_cctray({"api :: build": "Success"})
    gocd.set_mode("403", endpoint="admin")
    # rules that need no groups, so mail is routed (not unresolved) meanwhile
    milter(gocd_config(rule("mailto:breaks@example.com", function="pipelines.any", args=None,
                            events=["BREAKS"]),
                       rule("mailto:other@example.com", function="pipelines.any", args=None)),
           wait_groups=False)
    gocd.wait_for_requests(ADMIN, 2, timeout=10, answered=True)
    try:
        gocd.wait_for_requests(CCTRAY, 1, timeout=3, answered=True)
    except TimeoutError:
        pass                            # judged by the mail below
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"))
    assert trace(m)[1]["event"] == "BREAKS", "no seed: %r" % (gocd.requests(CCTRAY),)
    assert sorted(m.rcpts) == ["breaks@example.com", "other@example.com"]


# ------------------------------------------------------------------ big GoCD

def test_fifty_thousand_pipelines(gocd, milter, mta, sink, postfix):
    groups = {"g%03d" % g: ["p%05d" % (g * 100 + i) for i in range(100)] for g in range(500)}
    gocd.set_groups(groups)
    t0, t0_wall = time.monotonic(), time.time()
    milter(gocd_config(rule("mailto:last@example.com", args=["g499"]),
                       rule("mailto:first@example.com", args=["g000"])),
           timeout=10)
    ok = next(r for r in gocd.requests(ADMIN) if r.status == 200)
    print("50,000 pipelines: first good poll requested %.2fs after start, snapshot in use "
          "after %.2fs" % (ok.time - t0_wall, time.monotonic() - t0))
    assert rcpts_of(mta, sink, "p49998") == ["last@example.com"]
    assert rcpts_of(mta, sink, "p00001") == ["first@example.com"]
    data = gocd_mail("p25050", "build", "broken")       # in a group no rule names
    assert_discarded(mta, sink, postfix, data, mta(GOCD_SENDER, [TRIGGER], data))


# ------------------------------------------------------------------ dashboard 202

def test_dashboard_202_at_start_then_200_retried_soon(gocd, milter, mta, sink):
    """With poll-interval 30, a 202 is retried within seconds."""
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("202", endpoint="dashboard")
    m2a = milter(team_cfg(api="dashboard", poll_interval=30), wait_groups=False)
    first = gocd.wait_for_requests(DASH, 1, timeout=10, answered=True)[0]
    assert first.status == 202
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == [TRIGGER]
    assert x_mail2alert(m) == ["unresolved"]

    gocd.set_mode(None, endpoint="dashboard")
    second = gocd.wait_for_requests(DASH, 2, timeout=12, answered=True)[1]
    assert second.status == 200
    assert second.time - first.time < 10, "202 retried after %.1fs" % (second.time - first.time)
    wait_poll_handled(gocd, DASH, 1)
    assert rcpts_of(mta, sink, "api", "failed") == ["team-a@example.com"]
    assert not log_lines(m2a, POLL_FAILED), "a 202 is not a failed poll"


def test_dashboard_etag_304s_keep_routing_on_the_snapshot(gocd, milter, mta, sink):
    """The dashboard API answers 304 to a matching If-None-Match like the
    admin one (DashboardControllerV4 checks fresh(); the stand-in mirrors
    it), so its ETag is sent back too (issue 13, point 7)."""
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    m2a = milter(team_cfg(api="dashboard"), wait_groups=False)
    wait_poll_handled(gocd, DASH, 0)
    forced_polls(m2a, gocd, DASH, 3)
    reqs = gocd.requests(DASH)
    first_ok = next(i for i, r in enumerate(reqs) if r.status == 200)
    assert reqs[first_ok].headers.get("If-None-Match") is None
    later = [r for r in reqs[first_ok + 1:] if r.done]
    assert len(later) >= 3
    tags = {r.headers.get("If-None-Match") for r in later}
    # gzip accepted, so the tag is GoCD's Jetty's "<tag>--gzip"
    assert len(tags) == 1 and re.fullmatch(r'"[0-9a-f]+--gzip"', tags.pop())
    assert all(r.status == 304 for r in later)
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]
    assert rcpts_of(mta, sink, "db") == ["team-b@example.com"]

    # a change: 200 (to the old tag), then 304s to the new one
    gocd.set_groups({"team-b": ["api", "db"]})
    base = gocd.count(DASH)
    poll_now(m2a)
    answer, _ = wait_poll_handled(gocd, DASH, base)
    assert answer.headers.get("If-None-Match") == reqs[-1].headers.get("If-None-Match")
    forced_polls(m2a, gocd, DASH, 1)
    last = gocd.requests(DASH)[-1]
    assert last.headers.get("If-None-Match") not in (None, answer.headers.get("If-None-Match"))
    assert last.status == 304
    assert rcpts_of(mta, sink, "api", "failed") == ["team-b@example.com"]


@pytest.mark.parametrize("api", ["admin", "dashboard"])
def test_pipeline_hidden_from_the_api_user_is_reported(gocd, milter, mta, sink, postfix, api):
    """GoCD lists only the groups the API user may view, and the dashboard
    API applies that user's saved view too (the stand-in's set_view mirrors
    both): the hidden pipeline's mail is discarded with a reason that says
    so, not as if no rule matched (issue 13, point 7)."""
    gocd.set_groups({"team-a": ["api", "secret"], "team-b": ["db"]})
    if api == "admin":
        gocd.set_view("gobot", groups=["team-b"])           # no view permission on team-a
        hidden = "api"
    else:
        gocd.set_view("gobot", dashboard_hidden=["secret"])  # filtered out of the dashboard
        hidden = "secret"
    url = gocd.url.replace("http://", "http://gobot:pw@")
    m2a = milter(team_cfg(api=api).replace("@GOCD_URL@", url),
                 groups_path=ADMIN if api == "admin" else DASH)
    data = gocd_mail(hidden, "build", "broken")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)
    m2a.wait_log(r"%s: manager=gocd pipeline=%s stage=build event=BREAKS status=discarded "
                 r"reason=pipeline-not-in-any-group$" % (re.escape(res.queue_id), hidden))
    assert rcpts_of(mta, sink, "db") == ["team-b@example.com"]


# ------------------------------------------------------------------ forced APIs

@pytest.mark.parametrize("api,path", [("dashboard", DASH), ("legacy", LEGACY)])
def test_forced_api_routes_and_never_falls_back(gocd, milter, mta, sink, api, path):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    gocd.disable(api)                   # 404, which `auto` would fall back on
    m2a = milter(team_cfg(api=api), wait_groups=False)
    gocd.wait_for_requests(path, 1, timeout=10, answered=True)
    forced_polls(m2a, gocd, path, 1)    # a second poll of the same endpoint ...
    others = [p for p in (ADMIN, DASH, LEGACY) if p != path]
    assert [gocd.count(p) for p in others] == [0, 0], "forced api=%s fell back" % api
    assert rcpts_of(mta, sink, "api") == [TRIGGER]      # unresolved, accept

    gocd.enable(api)
    base = gocd.count(path)
    poll_now(m2a)
    milter.wait_groups_loaded(base, path=path, timeout=15)
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]
    assert rcpts_of(mta, sink, "db") == ["team-b@example.com"]
    gocd.set_groups({"team-b": ["api", "db"]})
    base = gocd.count(path)
    poll_now(m2a)
    milter.wait_groups_loaded(base, path=path, timeout=15)
    assert rcpts_of(mta, sink, "api", "failed") == ["team-b@example.com"]
    assert [gocd.count(p) for p in others] == [0, 0]
    if api == "legacy":                 # no ETag there: never a conditional GET
        assert all(r.headers.get("If-None-Match") is None for r in gocd.requests(path))


# ------------------------------------------------------------------ secrets

TOKEN = "tok-S3CRET-b7f1e2a9"
PASSWD = "pw-S3CRET-9a8c7d"


@pytest.mark.parametrize("how", ["token-file", "passwd-file", "url"])
def test_secrets_sent_but_never_logged(gocd, milter, mta, sink, test_dir, how):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: build": "Success"})
    url = "@GOCD_URL@"
    if how == "token-file":
        secret, secret_file = TOKEN, os.path.join(test_dir, "gocd.token")
        extra = '    token-file = "%s";\n' % secret_file
        want = "Bearer " + TOKEN
        right, wrong = dict(token=TOKEN), dict(token="other-token")
    elif how == "passwd-file":
        secret, secret_file = PASSWD, os.path.join(test_dir, "gocd.passwd")
        extra = '    user = "gobot";\n    passwd-file = "%s";\n' % secret_file
        want = "Basic " + base64.b64encode(("gobot:" + PASSWD).encode()).decode()
        right, wrong = dict(user="gobot", passwd=PASSWD), dict(user="gobot", passwd="x")
    else:
        secret, secret_file = PASSWD, None
        extra = ""
        url = gocd.url.replace("http://", "http://gobot:%s@" % PASSWD)
        want = "Basic " + base64.b64encode(("gobot:" + PASSWD).encode()).decode()
        right, wrong = dict(user="gobot", passwd=PASSWD), dict(user="gobot", passwd="x")
    if secret_file:
        with open(secret_file, "w") as f:
            f.write(secret + "\n")
        os.chmod(secret_file, 0o600)

    gocd.set_auth(**wrong)              # a 401 streak first: failures get logged
    text = team_cfg(extra=extra).replace("@GOCD_URL@", url)
    m2a = milter(text, wait_groups=False, args=("-d",))
    gocd.wait_for_requests(ADMIN, 1, timeout=10, answered=True)
    # GoCD's own 401 text is logged: it says which credential was wrong
    m2a.wait_log(r'HTTP 401 "%s' % ("Invalid Personal Access Token\\." if how == "token-file"
                                    else "Invalid credentials\\. Either your username"),
                 timeout=10)
    gocd.set_mode("500")
    forced_polls(m2a, gocd, ADMIN, 1)
    gocd.set_mode("ok")
    gocd.set_auth(**right)
    base = gocd.count(ADMIN)
    poll_now(m2a)
    milter.wait_groups_loaded(base, timeout=15)
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]
    m2a.wait_log(RECOVERED.pattern, timeout=5)
    cc = gocd.wait_for_requests(CCTRAY, 1, timeout=10, answered=True)[-1]

    for r in gocd.requests(ADMIN) + [cc]:
        assert r.headers.get("Authorization") == want, r.headers.items()
    log = m2a.log()
    assert POLL_FAILED in log
    assert "debug:" in log
    b64 = base64.b64encode(("gobot:" + secret).encode()).decode()
    for s in (secret, b64, secret[4:]):
        assert s not in log, "secret %r in the milter log:\n%s" % (s, log[-3000:])



@pytest.mark.parametrize("passwd", ["pw@S3CRET-7", "pw/S3CRET-7", "p@w/S3CRET@-7"])
def test_password_with_at_or_slash_in_url_is_not_logged(milter, passwd):
    """Passwords are often written into the URL unencoded; the log shows
    the URL without any part of them, even when they hold '@' or '/'."""
    url = "http://gobot:%s@127.0.0.1:9/go" % passwd
    m2a = milter(team_cfg().replace("@GOCD_URL@", url), wait_groups=False)
    m2a.wait_log(POLL_FAILED, timeout=15)
    log = m2a.log()
    assert "127.0.0.1:9/go" in log
    for part in ("S3CRET", passwd, passwd.split("@")[-1], passwd.split("/")[-1]):
        assert part not in log, "%r in the milter log:\n%s" % (part, log[-2000:])


def proc_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def test_gzip_bomb_poll_is_refused_with_bounded_memory(gocd, milter, mta, sink):
    """48 KB of gzip that decode to 48 MiB of [0,0,...]: the poll is refused
    while it decodes, at gocd-answer-limit (32 MiB by default), before a
    JSON tree is built (that tree took 2.7 GB); the peak stays within a few
    times the limit, memory goes back after the failed poll (not checked
    under ASan, whose quarantine keeps freed memory by design), and routing
    goes on with the groups it had."""
    gocd.set_groups({"team-a": ["api"]})
    m2a = milter(team_cfg())
    idle = proc_kb(m2a.pid, "VmRSS")
    gocd.set_mode("bomb", endpoint="admin")
    n = gocd.count(ADMIN)
    poll_now(m2a)
    gocd.wait_for_requests(ADMIN, n + 1, timeout=15, answered=True)
    m2a.wait_log(r"answer larger than 33554432 bytes", timeout=20)
    peak = proc_kb(m2a.pid, "VmHWM")
    assert peak < 64 * 1024 * 4, "peak RSS %d kB for a 48 MiB answer" % peak
    with open("/proc/%d/maps" % m2a.pid) as f:
        asan = "libasan" in f.read()
    deadline = time.monotonic() + 10
    while not asan and proc_kb(m2a.pid, "VmRSS") > idle + 16 * 1024:
        assert time.monotonic() < deadline, "RSS %d kB after the failed poll, %d kB idle" % (
            proc_kb(m2a.pid, "VmRSS"), idle)
        time.sleep(0.2)
    assert rcpts_of(mta, sink, "api") == ["team-a@example.com"]


def test_answer_limit_is_a_config_key(gocd, milter):
    """gocd-answer-limit (issue 14 point 1): with the smallest limit, 1 MiB,
    an ordinary answer of 30,000 pipelines (about 2 MB) is refused by size,
    pipeline groups and cctray.xml alike, with the limit in the message."""
    big = {"team-%d" % g: ["pipeline-with-a-longish-name-%05d" % (g * 1000 + i)
                           for i in range(1000)] for g in range(30)}
    gocd.set_groups(big)
    gocd.set_cctray({"pipeline-with-a-longish-name-%05d :: build" % i: "Success"
                     for i in range(30000)})
    m2a = milter(team_cfg(top_extra="gocd-answer-limit = 1048576;"), wait_groups=False)
    m2a.wait_log(r"%s.*answer larger than 1048576 bytes" % POLL_FAILED, timeout=20)
    m2a.wait_log(r"cctray\.xml: answer larger than 1048576 bytes", timeout=20)
    m2a.signal(signal.SIGTERM)      # a poll in flight may take a second to see it
    m2a.proc.wait(10)
    # the default takes the same answer
    m2a = milter(team_cfg())
    assert "answer larger" not in m2a.log()

# ------------------------------------------------------------------ GoCD's own words

def test_poll_failure_logs_gocds_error_text(gocd, milter):
    """GoCD with security off refuses Basic credentials with a 401 whose
    message says so (issue 13, point 7): the log line carries that text,
    not only the status."""
    gocd.set_mode("nosecurity")
    text = gocd_config(rule("mailto:a@example.com", function="pipelines.any", args=None),
                       extra='    user = "ci";\n    passwd = "secret";\n')
    m2a = milter(text, wait_groups=False)
    m2a.wait_log(r"%s[^\n]*HTTP 401 \"Basic authentication credentials are not required, "
                 r"since security has been disabled on this server\.\"" % POLL_FAILED,
                 timeout=15)


def test_trailing_slash_in_url_is_one_server(gocd, milter, mta, sink):
    """url = ".../go/" as an admin may write it: the requests go to
    /go/api/..., not /go//api/..., which GoCD does not serve."""
    gocd.set_groups({"team-a": ["api"]})
    text = gocd_config(rule("mailto:a@example.com", function="pipelines.in_group",
                            args=["team-a"]))
    assert '"@GOCD_URL@"' in text
    milter(text.replace('"@GOCD_URL@"', '"@GOCD_URL@/"'))
    assert all("//" not in r.path for r in gocd.requests())
    res, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["a@example.com"]
