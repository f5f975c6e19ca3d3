"""How mail2alert talks to GoCD (SPEC 6): endpoints, Accept, auth, ETag,
the `auto` fallback, 202 from the dashboard."""

import base64
import os

import pytest

from tests.lab.gocd import ENDPOINTS
from tests.system.m2a_helpers import deliver, gocd_config, gocd_mail, rule

ADMIN, DASH, LEGACY, CCTRAY = (ENDPOINTS[k] for k in ("admin", "dashboard", "legacy", "cctray"))


def cfg(api="admin", extra=""):
    return gocd_config(rule("mailto:team-a@example.com"),
                       rule("mailto:team-b@example.com", args=["team-b"]),
                       api=api, extra=extra)


def assert_routes_to(mta, sink, pipeline, team):
    _, m = deliver(mta, sink, gocd_mail(pipeline, "build", "broken"))
    assert m.rcpts == ["%s@example.com" % team]


def test_admin_api_accept_and_etag(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    milter(cfg("admin"))
    reqs = gocd.wait_for_requests(ADMIN, 3, timeout=10)
    assert "application/vnd.go.cd.v1+json" in reqs[0].headers["Accept"]
    assert reqs[0].headers.get("Authorization") is None     # no user/token configured
    assert reqs[0].status == 200
    # we accept gzip, so the tag is GoCD's Jetty's "<tag>--gzip" (stand-in)
    etag = '"%s--gzip"' % gocd.etag()
    assert reqs[1].headers.get("If-None-Match", "").strip() == etag
    assert reqs[1].status == 304
    assert_routes_to(mta, sink, "api", "team-a")


@pytest.mark.parametrize("api,path,accept", [
    ("dashboard", DASH, "application/vnd.go.cd.v4+json"),
    ("legacy", LEGACY, None),
])
def test_explicit_api_choice(gocd, milter, mta, sink, api, path, accept):
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    milter(cfg(api), groups_path=path)
    assert gocd.count(ADMIN) == 0
    if accept:
        assert accept in gocd.requests(path)[0].headers["Accept"]
    assert_routes_to(mta, sink, "api", "team-a")
    assert_routes_to(mta, sink, "db", "team-b")


@pytest.mark.parametrize("admin_mode", ["401", "403", "404"])
def test_auto_falls_back_to_dashboard_and_remembers(gocd, milter, mta, sink, admin_mode):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode(admin_mode, endpoint="admin")
    milter(cfg("auto"), groups_path=DASH)
    assert gocd.count(ADMIN) >= 1
    assert_routes_to(mta, sink, "api", "team-a")
    admin_seen = gocd.count(ADMIN)
    n = gocd.count(DASH)
    gocd.wait_for_requests(DASH, n + 2, timeout=10)
    assert gocd.count(ADMIN) == admin_seen, "auto should remember the API that worked"


def test_auto_falls_back_to_legacy(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    gocd.disable("admin")
    gocd.disable("dashboard")
    milter(cfg("auto"), groups_path=LEGACY)
    assert gocd.count(ADMIN) >= 1 and gocd.count(DASH) >= 1
    assert_routes_to(mta, sink, "api", "team-a")


def test_dashboard_202_keeps_old_snapshot(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    milter(cfg("dashboard"), groups_path=DASH)
    gocd.set_groups({"team-b": ["api"]})
    gocd.set_mode("202", endpoint="dashboard")
    n = gocd.count(DASH)
    gocd.wait_for_requests(DASH, n + 2, timeout=15, answered=True)
    assert_routes_to(mta, sink, "api", "team-a")
    gocd.set_mode(None, endpoint="dashboard")
    milter.wait_groups_loaded(gocd.count(DASH), path=DASH, timeout=30)
    assert_routes_to(mta, sink, "api", "team-b")


def test_basic_auth_from_environment(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_cctray({"api :: build": "Success"})
    gocd.set_auth(user="gobot", passwd="s3cr:et")
    milter(cfg("admin", extra='    user = "gobot";\n    passwd = "$GOPASS";\n'),
           env={"GOPASS": "s3cr:et"})
    want = "Basic " + base64.b64encode(b"gobot:s3cr:et").decode()
    assert gocd.requests(ADMIN)[0].headers["Authorization"] == want
    assert_routes_to(mta, sink, "api", "team-a")
    cc = gocd.wait_for_requests(CCTRAY, 1, timeout=10)
    assert cc[0].headers["Authorization"] == want


@pytest.mark.parametrize("how", ["token", "token-file"])
def test_bearer_token(gocd, milter, mta, sink, test_dir, how):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_auth(token="tok-123")
    if how == "token":
        extra = '    token = "tok-123";\n'
    else:
        tf = os.path.join(test_dir, "gocd.token")
        with open(tf, "w") as f:
            f.write("tok-123\n")
        extra = '    token-file = "%s";\n' % tf
    milter(cfg("admin", extra=extra))
    auth = gocd.requests(ADMIN)[0].headers["Authorization"]
    assert auth.lower() == "bearer tok-123"
    assert_routes_to(mta, sink, "api", "team-a")


def test_wrong_credentials_are_a_failed_poll(gocd, milter, mta, sink):
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_auth(user="gobot", passwd="right")
    m2a = milter(cfg("admin", extra='    user = "gobot";\n    passwd = "wrong";\n'),
                 wait_groups=False)
    gocd.wait_for_requests(ADMIN, 1, timeout=10, answered=True)
    assert gocd.requests(ADMIN)[0].status == 401
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.rcpts == ["mail2alert@example.com"]        # unresolved, accept
    assert m2a.alive()


def test_auto_asks_the_admin_api_again_after_a_refusal(gocd, milter, mta, sink):
    """One 401 from the admin API (a token being rotated, say) must not
    leave auto mode on the dashboard for good: every few polls it asks the
    admin API again, and stays there once it answers."""
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("401", endpoint="admin")
    m2a = milter(cfg("auto"), groups_path=DASH)
    gocd.set_mode(None, endpoint="admin")
    n = len([r for r in gocd.requests(ADMIN) if r.status == 200])
    deadline = 30
    gocd.wait_for_requests(ADMIN, gocd.count(ADMIN) + 1, timeout=deadline)
    m2a.wait_log(r"api=admin: using", timeout=deadline)
    ok = [r for r in gocd.requests(ADMIN) if r.status in (200, 304)]
    assert len(ok) > n
    dash = gocd.count(DASH)
    gocd.wait_for_requests(ADMIN, gocd.count(ADMIN) + 2, timeout=10)
    assert gocd.count(DASH) == dash, "back on the admin API, the dashboard is not asked"
    assert_routes_to(mta, sink, "api", "team-a")


def test_entity_tag_with_a_control_is_not_echoed(gocd, milter):
    """An ETag with a bare CR would split the next request's If-None-Match
    line; it is dropped, and the next poll asks unconditionally."""
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("etag-cr", endpoint="admin")
    milter(cfg("admin"))
    reqs = gocd.wait_for_requests(ADMIN, 3, timeout=10)
    assert reqs[0].status == 200
    for r in reqs[1:]:
        assert r.headers.get("If-None-Match") is None, r.headers.items()
        assert r.headers.get("X-Injected") is None


def test_not_modified_without_a_cached_answer_is_a_failure(gocd, milter, mta, sink):
    """A 304 to a request that was not conditional (a broken cache in front
    of GoCD) gives no groups: the poll failed, the mail is unresolved."""
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("304", endpoint="admin")
    m2a = milter(cfg("admin"), wait_groups=False)
    gocd.wait_for_requests(ADMIN, 1, timeout=10, answered=True)
    m2a.wait_log(r"HTTP 304 without a cached answer", timeout=10)
    _, m = deliver(mta, sink, gocd_mail("api", "build", "broken"))
    assert m.headers("X-Mail2alert") == ["unresolved"]
