"""Issue 15: /metrics, /-/healthy, /-/ready and mail2alert -s, through the
lab's real Postfix and the GoCD stand-in; and a real Prometheus server
scraping the daemon."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.lab import free_port
from tests.system.m2a_helpers import (assert_discarded, deliver, gocd_config, gocd_mail,
                                      rule, wait_for)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_FILE = os.path.join(REPO, "packaging", "monitoring", "mail2alert.rules.yml")
DASHBOARD = os.path.join(REPO, "packaging", "monitoring", "grafana-dashboard.json")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def metrics_config(port, poll_interval=1, extra=""):
    return gocd_config(rule("mailto:team-a@example.com"), poll_interval=poll_interval,
                       top_extra='metrics-listen = "127.0.0.1:%d";\n%s' % (port, extra))


def http_get(port, path, timeout=5):
    """(status, content type, body text) of GET http://127.0.0.1:PORT/PATH."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def wait_http(port, path="/-/healthy", timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http_get(port, path)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def scrape(port):
    """{(name, frozenset of label pairs): value} of /metrics."""
    status, ctype, text = wait_http(port, "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def scrape_text(port):
    return "\n".join(l for l in wait_http(port, "/metrics")[2].splitlines()
                     if l.startswith("mail2alert_chat"))


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def status_cmd(mail2alert_bin, config_path, *args):
    return subprocess.run([mail2alert_bin, "-s", "-c", config_path] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=30)


def test_messages_counted_by_manager_and_outcome(gocd, milter, mta, sink, postfix):
    port = free_port()
    gocd.set_groups({"team-a": ["api"], "team-b": ["db"]})
    milter(metrics_config(port))
    before = scrape(port)
    assert value(before, "mail2alert_messages_total", manager="gocd", outcome="routed") == 0
    deliver(mta, sink, gocd_mail("api", "build", "passed"))
    deliver(mta, sink, gocd_mail("api", "build", "failed"))      # edge: BREAKS
    data = gocd_mail("db", "build", "broken")                    # team-b: no rule
    res = mta("go@gocd.example.com", ["mail2alert@example.com"], data)
    assert_discarded(mta, sink, postfix, data, res)              # + one unwanted mail
    s = scrape(port)
    expect = {"routed": 2, "discarded": 1, "unresolved": 0, "tempfail": 0,
              "trigger-removed": 0, "fallback": 0}
    for outcome, n in expect.items():
        assert value(s, "mail2alert_messages_total", manager="gocd", outcome=outcome) == n, \
            outcome
    assert value(s, "mail2alert_messages_total", manager="", outcome="not-wanted") == 1
    assert value(s, "mail2alert_events_total", event="PASSES") == 1
    assert value(s, "mail2alert_events_total", event="BREAKS") == 2
    assert value(s, "mail2alert_events_total", event="FAILS") == 0
    assert value(s, "mail2alert_edge_rewrites_total") == 1
    assert value(s, "mail2alert_eom_duration_seconds_count") == 3
    assert value(s, "mail2alert_eom_duration_seconds_bucket", le="+Inf") == 3
    assert 0 < value(s, "mail2alert_eom_duration_seconds_sum") < 3
    assert value(s, "mail2alert_gocd_polls_total", manager="gocd", result="updated") >= 1
    assert value(s, "mail2alert_gocd_polls_total", manager="gocd", result="failed") == 0
    assert value(s, "mail2alert_gocd_api_info", manager="gocd", api="admin") == 1
    assert value(s, "mail2alert_gocd_groups", manager="gocd") == 2
    assert value(s, "mail2alert_gocd_pipelines", manager="gocd") == 2
    assert abs(value(s, "mail2alert_gocd_last_success_timestamp_seconds",
                     manager="gocd") - time.time()) < 30
    assert value(s, "mail2alert_stage_states") == 2
    assert value(s, "mail2alert_build_info", version="0.1.0") == 1
    assert value(s, "mail2alert_chat_queue_depth") == 0
    assert value(s, "mail2alert_config_reloads_total", result="success") == 0


def test_promtool_accepts_the_exposition(gocd, milter, mta, sink):
    if not os.path.exists(PROMTOOL):
        pytest.skip("promtool not installed (Debian package prometheus; "
                    "packaging/install-deps installs it)")
    port = free_port()
    gocd.set_groups({"team-a": ["api"]})
    milter(metrics_config(port))
    deliver(mta, sink, gocd_mail("api", "build", "broken"))
    _, _, text = wait_http(port, "/metrics")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    assert p.returncode == 0, p.stdout


def test_health_endpoints_and_unknown_paths(gocd, milter):
    port = free_port()
    gocd.set_groups({"team-a": ["api"]})
    milter(metrics_config(port))
    assert wait_http(port, "/-/healthy")[::2] == (200, "OK\n")
    assert http_get(port, "/-/ready")[::2] == (200, "OK\n")
    assert http_get(port, "/nothing")[0] == 404


def test_gocd_failures_counted_and_readiness_follows(gocd, milter, mta, sink,
                                                      mail2alert_bin):
    """Before any groups: 503 and unresolved mail; after GoCD recovers: 200;
    GoCD down past ready-max-poll-age x poll-interval: 503 again."""
    port = free_port()
    gocd.set_groups({"team-a": ["api"]})
    gocd.set_mode("500")
    m = milter(metrics_config(port, extra="ready-max-poll-age = 2;"), wait_groups=False)
    wait_for(lambda: value(scrape(port), "mail2alert_gocd_polls_total", manager="gocd",
                           result="failed") >= 1, what="a failed poll counted")
    s = scrape(port)
    assert value(s, "mail2alert_gocd_polls_total", manager="gocd", result="updated") == 0
    assert value(s, "mail2alert_gocd_last_success_timestamp_seconds", manager="gocd") == 0
    assert value(s, "mail2alert_gocd_groups", manager="gocd") is None
    status, _, body = http_get(port, "/-/ready")
    assert status == 503 and "manager=gocd: pipeline groups never loaded" in body, body

    p = status_cmd(mail2alert_bin, m.config_path)
    assert p.returncode == 1, p.stderr
    assert "ready: no" in p.stdout and "never loaded" in p.stdout, p.stdout
    assert "HTTP 500" in p.stdout, p.stdout                      # the last error

    deliver(mta, sink, gocd_mail("api", "build", "broken"))     # unresolved: accepted
    assert value(scrape(port), "mail2alert_messages_total", manager="gocd",
                 outcome="unresolved") == 1

    gocd.set_mode("ok")
    m.signal(signal.SIGUSR2)
    wait_for(lambda: http_get(port, "/-/ready")[0] == 200, what="ready after recovery")
    p = status_cmd(mail2alert_bin, m.config_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ready: yes" in p.stdout and "groups 1, pipelines 1" in p.stdout, p.stdout

    gocd.set_mode("500")
    status, _, body = wait_for(
        lambda: (lambda r: r if r[0] == 503 else None)(http_get(port, "/-/ready")),
        timeout=30, what="unready with GoCD down")
    assert "last confirmed" in body and "(limit 2s)" in body, body
    assert status_cmd(mail2alert_bin, m.config_path).returncode == 1
    gocd.set_mode("ok")
    m.signal(signal.SIGUSR2)
    wait_for(lambda: http_get(port, "/-/ready")[0] == 200, what="ready again")


def test_status_text_and_json(gocd, milter, mta, sink, mail2alert_bin):
    port = free_port()
    gocd.set_groups({"team-a": ["api", "web"]})
    m = milter(metrics_config(port))
    deliver(mta, sink, gocd_mail("api", "build", "broken"))
    p = status_cmd(mail2alert_bin, m.config_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("mail2alert 0.1.0, started "), out
    assert "ready: yes" in out
    assert "manager gocd: api admin (configured admin)" in out, out
    assert "groups 1, pipelines 2" in out, out
    assert "routed 1" in out, out
    assert "chat: queue depth 0" in out, out

    p = status_cmd(mail2alert_bin, m.config_path, "-j")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ready"] is True and doc["version"] == "0.1.0"
    (gocd_m,) = doc["managers"]
    assert gocd_m["name"] == "gocd" and gocd_m["api"] == "admin"
    assert gocd_m["groups"] == 1 and gocd_m["pipelines"] == 2
    assert gocd_m["messages"]["routed"] == 1
    assert gocd_m["last_poll_result"] in ("updated", "unchanged")
    assert doc["counters"]["events"]["BREAKS"] == 1
    assert doc["chat"]["queue_depth"] == 0


def test_status_when_daemon_is_not_there(milter, mail2alert_bin):
    port = free_port()
    path = milter.write_config(metrics_config(port))
    p = status_cmd(mail2alert_bin, path)
    assert p.returncode == 69, (p.returncode, p.stderr)          # EX_UNAVAILABLE
    assert "cannot reach the daemon at http://127.0.0.1:%d/status.json" % port in p.stderr
    path = milter.write_config(gocd_config(rule("mailto:team-a@example.com")), name="no.conf")
    p = status_cmd(mail2alert_bin, path)
    assert p.returncode == 78 and "metrics-listen" in p.stderr, p.stderr   # EX_CONFIG


def test_reloads_counted(gocd, milter):
    port = free_port()
    gocd.set_groups({"team-a": ["api"]})
    m = milter(metrics_config(port))
    started = value(scrape(port), "mail2alert_config_last_reload_success_timestamp_seconds")
    m.signal(signal.SIGHUP)
    wait_for(lambda: value(scrape(port), "mail2alert_config_reloads_total",
                           result="success") == 1, what="a reload counted")
    with open(m.config_path, "a") as f:
        f.write("this is not libconfig\n")
    m.signal(signal.SIGHUP)
    wait_for(lambda: value(scrape(port), "mail2alert_config_reloads_total",
                           result="failure") == 1, what="a failed reload counted")
    assert value(scrape(port), "mail2alert_config_last_reload_success_timestamp_seconds") \
        >= started


def test_bad_metrics_listen_is_a_config_error(config_check):
    _, rc, out, err = config_check(gocd_config(rule("mailto:team-a@example.com"),
                                               top_extra='metrics-listen = "9874";'))
    assert rc == 78 and "metrics-listen" in err, (rc, out, err)


def test_shipped_rules_pass_promtool():
    if not os.path.exists(PROMTOOL):
        pytest.skip("promtool not installed (Debian package prometheus; "
                    "packaging/install-deps installs it)")
    p = subprocess.run([PROMTOOL, "check", "rules", RULES_FILE], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert p.returncode == 0, p.stdout
    with open(DASHBOARD) as f:
        dash = json.load(f)
    assert dash["panels"] and "mail2alert_messages_total" in json.dumps(dash)


def test_real_prometheus_scrapes_and_reads_back_the_counters(gocd, milter, mta, sink,
                                                              test_dir):
    if not os.path.exists(PROMETHEUS):
        pytest.skip("prometheus not installed (Debian package prometheus; "
                    "packaging/install-deps installs it)")
    port, prom_port = free_port(), free_port()
    gocd.set_groups({"team-a": ["api"]})
    milter(metrics_config(port))
    for event in ("passed", "failed", "broken"):
        deliver(mta, sink, gocd_mail("api", "build", event))
    prom_dir = tempfile.mkdtemp(prefix="prom-", dir=test_dir)
    conf = os.path.join(prom_dir, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n"
                "rule_files:\n  - %s\n"
                "scrape_configs:\n  - job_name: mail2alert\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                % (RULES_FILE, port))
    log = open(os.path.join(prom_dir, "prometheus.log"), "w")
    prom = subprocess.Popen([PROMETHEUS, "--config.file=" + conf,
                             "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
                             "--web.listen-address=127.0.0.1:%d" % prom_port],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        def query(expr):
            url = "http://127.0.0.1:%d/api/v1/query?%s" % (
                prom_port, urllib.parse.urlencode({"query": expr}))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    doc = json.load(r)
            except (urllib.error.URLError, ConnectionError):
                return None
            return doc["data"]["result"] if doc.get("status") == "success" else None

        expr = 'mail2alert_messages_total{job="mail2alert",manager="gocd",outcome="routed"}'
        result = wait_for(lambda: query(expr), timeout=60, what="prometheus to scrape")
        assert float(result[0]["value"][1]) == 3
        up = query('up{job="mail2alert"}')
        assert up and up[0]["value"][1] == "1"
        edges = query("mail2alert_edge_rewrites_total")
        assert edges and edges[0]["value"][1] == "1"
    finally:
        prom.terminate()
        try:
            prom.wait(20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait(10)
        log.close()


def test_chat_posts_counted_by_driver_and_outcome(gocd, milter, mta, sink):
    """Each chat post's end is counted under its driver (slack-api): a sent one, one
    retried after a 503 and then sent, and one Slack refuses for good; the
    queue depth goes back to 0."""
    from tests.lab.slack import SlackStandIn

    slack = SlackStandIn().start()
    try:
        port = free_port()
        gocd.set_groups({"team-a": ["api"]})
        extra = ('slack-token = "xoxb-metrics-test";\nslack-api = "%s";\n'
                 'slack-retry-time = 30;\n' % slack.api_url)
        milter(gocd_config(rule(["mailto:team-a@example.com", "slack:#builds"]),
                           poll_interval=1,
                           top_extra='metrics-listen = "127.0.0.1:%d";\n%s' % (port, extra)))
        api = "/api/chat.postMessage"
        # Slack's answers, in order: ok; a 503 then ok; ok:false, not retried
        slack.script(api, [(200, {"Content-Type": "application/json"}, '{"ok":true}'),
                           (503, {}, "upstream connect error"),
                           (200, {"Content-Type": "application/json"}, '{"ok":true}'),
                           (200, {"Content-Type": "application/json"},
                            '{"ok":false,"error":"channel_not_found"}')])
        for _ in range(3):
            deliver(mta, sink, gocd_mail("api", "build", "broken"))
        slack.wait_for_requests(4, timeout=20, path=api, answered=True)

        want = {"sent": 2, "retried": 1, "failed": 1, "dropped": 0}
        got = {}

        def counted():
            s = scrape(port)
            got.update({o: value(s, "mail2alert_chat_posts_total", driver="slack-api", outcome=o)
                        for o in want})
            return got == want
        try:
            wait_for(counted, what="chat counters")
        finally:
            assert got == want, scrape_text(port)
        assert value(scrape(port), "mail2alert_chat_queue_depth") == 0
    finally:
        slack.stop()
