"""Edge detection (SPEC 2): the event is derived from the previous state of
the pipeline/stage; cctray.xml seeds the states."""

import pytest

from tests.lab.gocdmail import stage_subject
from tests.lab.milterclient import MilterSession, added_recipients

from tests.system.m2a_helpers import (GOCD_SENDER, TRIGGER, assert_discarded, deliver,
                                      gocd_config, gocd_mail, rule, trace)

EVENT_NAMES = ["PASSES", "FAILS", "BREAKS", "FIXED", "CANCELLED"]


def per_event_rules():
    """One rule per event, each to <event>@example.com."""
    return [rule("mailto:%s@example.com" % e.lower(), events=[e]) for e in EVENT_NAMES]


@pytest.fixture
def edge_milter(gocd, milter):
    gocd.set_groups({"team-a": ["api", "web"]})
    return milter(gocd_config(*per_event_rules()))


def route(mta, sink, pipeline, stage, event):
    """Send one stage mail; return the event name mail2alert decided on,
    checked both in the envelope and in X-Mail2alert."""
    _, m = deliver(mta, sink, gocd_mail(pipeline, stage, event))
    assert len(m.rcpts) == 1, m
    by_rcpt = m.rcpts[0].split("@")[0].upper()
    assert trace(m)[1]["event"] == by_rcpt, "header and routing disagree: %r" % m
    return by_rcpt


@pytest.mark.parametrize("sequence", [
    # (GoCD text, expected event) ...
    [("passed", "PASSES"), ("failed", "BREAKS")],
    [("failed", "FAILS"), ("passed", "FIXED")],
    [("passed", "PASSES"), ("passed", "PASSES")],
    [("failed", "FAILS"), ("failed", "FAILS")],
    [("broken", "BREAKS"), ("fixed", "FIXED"), ("failed", "BREAKS")],
    [("fixed", "FIXED"), ("failed", "BREAKS")],
    # disagreements where the expected event is not BREAKS/FIXED keep the parsed one
    [("failed", "FAILS"), ("broken", "BREAKS"), ("passed", "FIXED")],
    [("passed", "PASSES"), ("fixed", "FIXED"), ("passed", "PASSES")],
    # CANCELLED resets the state to unknown: the parsed event stands
    [("passed", "PASSES"), ("cancelled", "CANCELLED"), ("failed", "FAILS")],
    [("failed", "FAILS"), ("cancelled", "CANCELLED"), ("passed", "PASSES")],
    [("cancelled", "CANCELLED"), ("broken", "BREAKS")],
    [("passed", "PASSES"), ("failed", "BREAKS"), ("failed", "FAILS"), ("passed", "FIXED"),
     ("passed", "PASSES")],
], ids=lambda seq: "-".join(t for t, _ in seq))
def test_edge_sequences(edge_milter, mta, sink, sequence):
    got = [route(mta, sink, "api", "build", text) for text, _ in sequence]
    assert got == [e for _, e in sequence]


def test_states_are_per_pipeline_and_stage(edge_milter, mta, sink):
    assert route(mta, sink, "api", "build", "passed") == "PASSES"
    assert route(mta, sink, "api", "test", "failed") == "FAILS"      # other stage
    assert route(mta, sink, "web", "build", "failed") == "FAILS"     # other pipeline
    assert route(mta, sink, "api", "build", "failed") == "BREAKS"
    assert route(mta, sink, "api", "test", "passed") == "FIXED"


def test_breaks_only_rule_fires_after_a_pass(gocd, milter, mta, sink, postfix):
    gocd.set_groups({"team-a": ["api"]})
    milter(gocd_config(rule("mailto:breaks@example.com", events=["BREAKS"])))
    data = gocd_mail("api", "build", "passed")
    res = mta(GOCD_SENDER, [TRIGGER], data)
    assert_discarded(mta, sink, postfix, data, res)      # PASSES: no rule
    _, m = deliver(mta, sink, gocd_mail("api", "build", "failed"))
    assert m.rcpts == ["breaks@example.com"]
    assert trace(m)[1]["event"] == "BREAKS"


def wait_seeded(gocd, milter):
    """cctray.xml was answered, and a groups poll started after that."""
    cc = gocd.wait_for_requests("cctray", 1, timeout=15, answered=True)
    n = gocd.count("admin")
    gocd.wait_for_requests("admin", n + 1, timeout=15)
    return cc


# cctray says "Failure" for a failed *and* a cancelled stage (GoCD's
# StageState.cctrayStatus), so only "Success" is seeded: "Failure" now
# seeds nothing, and "passed" after it is PASSES (it was FIXED), as GoCD
# itself says "passed" after a cancel.
@pytest.mark.parametrize("status,text,expected", [
    ("Success", "failed", "BREAKS"),
    ("Failure", "passed", "PASSES"),
    ("Success", "passed", "PASSES"),
    ("Failure", "failed", "FAILS"),
    ("Unknown", "failed", "FAILS"),
])
def test_cctray_seeds_previous_state(gocd, milter, mta, sink, status, text, expected):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: build": status, "api :: deploy": "Success"})
    milter(gocd_config(*per_event_rules()))
    wait_seeded(gocd, milter)
    assert route(mta, sink, "api", "build", text) == expected
    # a stage absent from cctray stays unknown
    assert route(mta, sink, "api", "test", "failed") == "FAILS"


def test_passed_after_cancel_seeded_from_cctray_stays_passes(gocd, milter, mta, sink):
    """A cancelled run shows in cctray.xml as lastBuildStatus="Failure"
    (GoCD's StageState.cctrayStatus); GoCD mails "passed" for the next
    green run, and that must stay PASSES, not become FIXED."""
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: build": "Failure"})
    milter(gocd_config(*per_event_rules()))
    wait_seeded(gocd, milter)
    assert route(mta, sink, "api", "build", "passed") == "PASSES"
    # a real failure mailed after that is a break, and the next pass FIXED
    assert route(mta, sink, "api", "build", "failed") == "BREAKS"
    assert route(mta, sink, "api", "build", "passed") == "FIXED"


def test_cctray_job_entries_are_ignored(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    # only a three-part (job) entry for api :: build
    gocd.set_cctray({"api :: build :: compile": "Success"}, jobs=False)
    milter(gocd_config(*per_event_rules()))
    wait_seeded(gocd, milter)
    assert route(mta, sink, "api", "build", "failed") == "FAILS"


def test_states_seen_in_mail_win_over_the_seed(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: build": "Success"})
    milter(gocd_config(*per_event_rules()))
    wait_seeded(gocd, milter)
    assert route(mta, sink, "api", "build", "failed") == "BREAKS"
    # cctray still says Success; let a few more polls (and any re-seeding) pass
    n = gocd.count("admin")
    gocd.wait_for_requests("admin", n + 2, timeout=15)
    assert route(mta, sink, "api", "build", "failed") == "FAILS"



def test_concurrent_copies_make_one_breaks(gocd, milter):
    """Copies of one "failed" mail that reach the end of the message at the
    same instant all read the stage's state "success"; only one of them may
    become BREAKS, the others are FAILS.  Postfix cannot line sessions up
    like that, so this speaks the milter protocol itself: every copy is
    held just before its end of message, then all are released at once."""
    copies, rounds = 6, 5
    gocd.set_groups({"team-a": ["race%d" % n for n in range(rounds)]})
    m2a = milter(gocd_config(*per_event_rules()))
    address = m2a.sock[1:] if m2a.sock[0] == "inet" else m2a.sock[1]

    def session(pipeline, text):
        s = MilterSession(tuple(address) if isinstance(address, tuple) else address)
        s.envelope(GOCD_SENDER, [TRIGGER])
        s.headers([("Subject", stage_subject(pipeline, "build", text))])
        return s

    for n in range(rounds):
        pipeline = "race%d" % n
        with session(pipeline, "passed") as first:
            assert added_recipients(first.end_of_message("Q%dP" % n)) == ["passes@example.com"]
        held = [session(pipeline, "failed") for _ in range(copies)]
        for i, s in enumerate(held):            # back to back, no reply read
            s.send_end_of_message("Q%dF%d" % (n, i))
        got = sorted(added_recipients(s.read_end_of_message())[0] for s in held)
        for s in held:
            s.close()
        assert got == ["breaks@example.com"] + ["fails@example.com"] * (copies - 1), \
            "round %d: %r" % (n, got)
