"""Tests of the lab itself (no mail2alert binary needed): Postfix relays to
the sink with the envelope intact, the GoCD stand-in serves the real shapes
and its failure modes, GoCD-like mail is built as Jakarta Mail would."""

import email
import email.header
import gzip
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.lab import (GocdStandIn, PostfixInstance, SmtpSink, SmtpSendError, free_port,
                       plain_mail, send, stage_mail)
from tests.lab.gocdmail import fold, encode_text, qp_encode
from tests.lab.milter import parse_socket, postfix_milter_spec, socket_from_config


# ------------------------------------------------------------------ Postfix

@pytest.fixture(scope="module")
def bare_lab(lab_dir):
    """Postfix WITHOUT a milter, relaying to its own sink."""
    sink = SmtpSink().start()
    pf = PostfixInstance(os.path.join(lab_dir, "bare-postfix"), free_port(), sink.port)
    t0 = time.monotonic()
    try:
        pf.start()
        started = time.monotonic() - t0
        yield pf, sink, started
    finally:
        pf.stop()
        sink.stop()


def test_postfix_without_milter_relays_with_envelope_intact(bare_lab):
    pf, sink, started = bare_lab
    assert started < 10, "Postfix start took %.1fs" % started
    assert pf.postconf_get("smtpd_milters") == ""
    data = plain_mail(subject="lab relay check", to="bob@example.com",
                      body="line one\n.leading dot line\n..two dots\n")
    res = send(pf.smtpd_port, "alice@example.org",
               ["bob@example.com", "carol@example.net", "Dave@Example.COM"], data)
    assert res.ok and res.queue_id
    m = sink.wait_for(lambda m: m.subject == "lab relay check", timeout=15)
    assert m.mail_from == "alice@example.org"
    assert sorted(m.rcpts) == sorted(["bob@example.com", "carol@example.net",
                                      "Dave@Example.COM"])
    # Postfix prepends exactly one Received: header and changes nothing else
    # (dot-stuffing undone by the sink).
    assert m.data.endswith(data)
    head = m.data[:len(m.data) - len(data)]
    assert head.startswith(b"Received: ") and head.count(b"\r\nReceived:") == 0
    assert res.queue_id.encode() in head
    assert m.body == b"line one\r\n.leading dot line\r\n..two dots\r\n"
    # the maillog is where Postfix reports; the queue drains
    pf.wait_log(r"%s: to=<bob@example.com>.*status=sent" % res.queue_id)
    pf.wait_queue_empty(10)


def test_postfix_null_sender_and_8bit_and_big_message(bare_lab):
    pf, sink, _ = bare_lab
    big = b"x" * 70 + b"\r\n"
    data = (b"From: <>\r\nTo: z@example.com\r\nSubject: caf\xc3\xa9 8bit \xff\r\n\r\n"
            + big * 40000)   # ~2.8 MB
    res = send(pf.smtpd_port, "", ["z@example.com"], data)
    assert res.ok
    m = sink.wait_for(lambda m: m.rcpts == ["z@example.com"], timeout=30)
    assert m.mail_from == ""
    assert m.data.endswith(data)
    assert "BODY=8BITMIME" in m.mail_params


def test_sink_reject_and_postfix_retries(bare_lab):
    pf, sink, _ = bare_lab
    sink.reject("RCPT", "450 4.2.0 try again later", times=1,
                match=lambda a: a == "retry@example.com")
    res = send(pf.smtpd_port, "a@example.com", ["retry@example.com"],
               plain_mail(subject="retry me", to="retry@example.com"))
    pf.wait_log(r"%s: to=<retry@example.com>.*status=deferred" % res.queue_id, timeout=15)
    assert [q["queue_id"] for q in pf.queue()] == [res.queue_id]
    pf.flush()
    m = sink.wait_for(lambda m: m.subject == "retry me", timeout=15)
    assert m.rcpts == ["retry@example.com"]
    pf.wait_queue_empty(10)


def test_send_raises_on_5xx_from_postfix(bare_lab):
    pf, sink, _ = bare_lab
    # message_size_limit is 64 MB; SIZE above it is refused at MAIL
    with pytest.raises(SmtpSendError) as ei:
        send(pf.smtpd_port, "a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n",
             mail_options=["SIZE=999999999"])
    assert ei.value.code == 552
    assert ei.value.result.stage == "MAIL"


def test_sink_handles_pipelined_commands():
    with SmtpSink() as sink:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=5) as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"220")
            s.sendall(b"EHLO x\r\n")
            lines = []
            while True:
                l = f.readline()
                lines.append(l)
                if l[3:4] == b" ":
                    break
            assert any(b"PIPELINING" in l for l in lines)
            s.sendall(b"MAIL FROM:<a@x> SIZE=10\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n"
                      b"DATA\r\n")
            codes = [f.readline()[:3] for _ in range(4)]
            assert codes == [b"250", b"250", b"250", b"354"]
            s.sendall(b"Subject: p\r\n\r\n..dot\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
            codes = [f.readline()[:3] for _ in range(4)]
            assert codes == [b"250", b"250", b"250", b"221"]
        m = sink.wait_for(timeout=5)
        assert (m.mail_from, m.rcpts, m.body) == ("a@x", ["b@y", "c@y"], b".dot\r\n")


def test_postfix_start_stop_is_quick_and_clean(lab_dir):
    sink = SmtpSink().start()
    basedir = os.path.join(lab_dir, "startstop")
    pf = PostfixInstance(basedir, free_port(), sink.port, milter="inet:127.0.0.1:%d" % free_port())
    try:
        t0 = time.monotonic()
        pf.start()
        procs = pf.processes()
        assert pf.master_pid() in procs
        # a crashed run leaves a master behind: a new object in the same
        # directory stops it first
        pf2 = PostfixInstance(basedir, pf.smtpd_port, sink.port)
        pf2.start()
        assert pf.master_pid() == pf2.master_pid()
        assert not set(procs) & set(pf2.processes())
        # milter configured but down: milter_default_action = accept
        res = send(pf2.smtpd_port, "a@example.com", ["b@example.com"],
                   plain_mail(subject="no milter yet"))
        assert res.ok
        sink.wait_for(lambda m: m.subject == "no milter yet", timeout=10)
        pf2.set_milter("inet:127.0.0.1:9")     # closed port, reload
        res = send(pf2.smtpd_port, "a@example.com", ["b@example.com"],
                   plain_mail(subject="after reload"))
        assert res.ok
        sink.wait_for(lambda m: m.subject == "after reload", timeout=10)
        pf2.wait_log(r"connect to Milter service inet:127\.0\.0\.1:9: Connection refused")
        pf2.stop()
        elapsed = time.monotonic() - t0
        assert elapsed < 10, "two starts, a reload and a stop took %.1fs" % elapsed
        assert pf2.processes(zombies=True) == []
        assert not pf2.running()
    finally:
        pf.stop()
        sink.stop()


# ------------------------------------------------------------------ GoCD

def _get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


V1 = {"Accept": "application/vnd.go.cd.v1+json"}
V4 = {"Accept": "application/vnd.go.cd.v4+json"}


def test_gocd_standin_shapes_etag_and_auth():
    with GocdStandIn() as g:
        g.set_groups({"first": ["up42", "api"], "empty": []})
        st, h, body = _get(g.url + "/api/admin/pipeline_groups", V1)
        assert st == 200
        doc = json.loads(body)
        names = {gr["name"]: [p["name"] for p in gr["pipelines"]]
                 for gr in doc["_embedded"]["groups"]}
        assert names == {"first": ["up42", "api"], "empty": []}
        etag = h["ETag"]
        assert re.fullmatch(r'"[0-9a-f]+"', etag)
        assert _get(g.url + "/api/admin/pipeline_groups",
                    dict(V1, **{"If-None-Match": etag}))[0] == 304
        assert _get(g.url + "/api/admin/pipeline_groups",
                    dict(V1, **{"If-None-Match": etag[:-1] + '--gzip"'}))[0] == 304
        # as GoCD's Jetty: gzip for a client that accepts it, the tag marked
        # "--gzip", and a 304 (to either form) that carries no ETag
        for url, hdrs in ((g.url + "/api/admin/pipeline_groups", V1),
                          (g.url + "/api/dashboard", V4)):
            st, hz, body = _get(url, dict(hdrs, **{"Accept-Encoding": "gzip"}))
            assert st == 200 and hz["Content-Encoding"] == "gzip", hz
            assert json.loads(gzip.decompress(body))["_embedded"]
            assert re.fullmatch(r'"[0-9a-f]+--gzip"', hz["ETag"])
            st, h304, _ = _get(url, dict(hdrs, **{"If-None-Match": hz["ETag"],
                                                   "Accept-Encoding": "gzip"}))
            assert st == 304 and "ETag" not in h304, h304
        g.set_groups({"first": ["up42"]})
        st, h2, _ = _get(g.url + "/api/admin/pipeline_groups",
                         dict(V1, **{"If-None-Match": etag}))
        assert st == 200 and h2["ETag"] != etag
        # versioned APIs: wrong Accept is 404, as in GoCD; not one valid
        # version as the whole header is SparkPreFilter's text/plain 404
        for accept in ("application/json", "application/vnd.go.cd.v1+json, */*"):
            st, h3, body = _get(g.url + "/api/admin/pipeline_groups", {"Accept": accept})
            assert st == 404 and h3["Content-Type"].startswith("text/plain"), (accept, h3)
            assert body == b"The url you are trying to reach appears to be incorrect.\n"
        # a valid version the controller does not serve: Spark's JSON 404
        st, h3, _ = _get(g.url + "/api/admin/pipeline_groups", V4)
        assert st == 404 and h3["Content-Type"].startswith("application/json")
        # dashboard v4: pipelines are plain strings, empty groups omitted
        g.set_groups({"first": ["up42"], "empty": []})
        st, _, body = _get(g.url + "/api/dashboard", V4)
        pg = json.loads(body)["_embedded"]["pipeline_groups"]
        assert st == 200 and [(x["name"], x["pipelines"]) for x in pg] == [("first", ["up42"])]
        # legacy array
        st, h, body = _get(g.url + "/api/config/pipeline_groups", {"Accept": "application/json"})
        assert st == 200 and json.loads(body)[0]["pipelines"][0]["name"] == "up42"
        assert h["X-GoCD-API-Removal-In"] == "v20.3.0"
        g.disable("legacy")
        assert _get(g.url + "/api/config/pipeline_groups")[0] == 404
        # cctray
        g.set_cctray({"up42 :: build": "Failure"})
        st, h, body = _get(g.url + "/cctray.xml")
        assert st == 200 and h["Content-Type"].startswith("application/xml")
        assert b'name="up42 :: build" activity="Sleeping" lastBuildStatus="Failure"' in body
        assert b'name="up42 :: build :: build-job"' in body
        # auth: recorded headers, Basic and Bearer
        g.set_auth(user="bot", passwd="s3cret")
        assert _get(g.url + "/api/admin/pipeline_groups", V1)[0] == 401
        basic = {"Authorization": "Basic Ym90OnMzY3JldA=="}
        assert _get(g.url + "/api/admin/pipeline_groups", dict(V1, **basic))[0] == 200
        g.set_auth(token="tok")
        assert _get(g.url + "/api/admin/pipeline_groups",
                    dict(V1, Authorization="bearer tok"))[0] == 200
        last = g.requests("admin")[-1]
        assert last.headers["Authorization"] == "bearer tok"
        assert last.headers["Accept"] == "application/vnd.go.cd.v1+json"
        assert g.count("/go/api/admin/pipeline_groups") == len(g.requests("admin")) == 12  # the gzip and 404 checks included
        g.wait_for_requests("admin", 12, timeout=1)
        with pytest.raises(TimeoutError):
            g.wait_for_requests("admin", 13, timeout=0.2)


@pytest.mark.parametrize("mode,status", [("500", 500), ("401", 401), ("403", 403),
                                         ("404", 404), ("202", 202)])
def test_gocd_standin_error_modes(mode, status):
    with GocdStandIn() as g:
        g.set_groups({"a": ["b"]})
        g.set_mode(mode)
        st, _, body = _get(g.url + "/api/admin/pipeline_groups", V1)
        assert st == status
        assert "message" in json.loads(body)
        g.set_mode("ok")
        assert _get(g.url + "/api/admin/pipeline_groups", V1)[0] == 200


def test_gocd_standin_garbage_wrongshape_close_hang():
    with GocdStandIn(hang_seconds=30) as g:
        g.set_groups({"a": ["b"]})
        g.set_mode("garbage")
        st, _, body = _get(g.url + "/api/admin/pipeline_groups", V1)
        assert st == 200
        with pytest.raises(ValueError):
            json.loads(body)
        g.set_mode("wrongshape")
        st, _, body = _get(g.url + "/api/admin/pipeline_groups", V1)
        assert st == 200 and not isinstance(json.loads(body)["_embedded"]["groups"], list)
        g.set_mode("close")
        with pytest.raises((http.client.IncompleteRead, ConnectionError, urllib.error.URLError)):
            _get(g.url + "/api/admin/pipeline_groups", V1)
        # per-endpoint override
        g.set_mode("ok")
        g.set_mode("500", endpoint="cctray")
        assert _get(g.url + "/cctray.xml")[0] == 500
        assert _get(g.url + "/api/admin/pipeline_groups", V1)[0] == 200
        g.set_mode("hang")
        t0 = time.monotonic()
        with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
            _get(g.url + "/api/admin/pipeline_groups", V1, timeout=0.5)
        assert time.monotonic() - t0 < 3
    # stop() returned although a handler was hanging
    t1 = time.monotonic()
    g2 = GocdStandIn(hang_seconds=60).start()
    g2.set_mode("hang")
    def client():
        try:
            _get(g2.url + "/api/dashboard", V4, timeout=30)
        except Exception:       # the connection is closed without an answer
            pass
    th = threading.Thread(target=client, daemon=True)
    th.start()
    g2.wait_for_requests("dashboard", 1, timeout=5)
    g2.stop()
    th.join(5)
    assert not th.is_alive() and time.monotonic() - t1 < 8


# ------------------------------------------------------------------ mail

def test_stage_mail_is_jakarta_shaped():
    raw = stage_mail("api", "build", "broken", counter=12, stage_counter=1)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    head, body = raw.split(b"\r\n\r\n", 1)
    names = [l.split(b":", 1)[0] for l in head.split(b"\r\n") if not l[:1].isspace()]
    assert names == [b"Date", b"From", b"Sender", b"Reply-To", b"To", b"Message-ID",
                     b"Subject", b"MIME-Version", b"Content-Type",
                     b"Content-Transfer-Encoding"]
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "Stage [api/12/build/1] is broken"
    assert msg["From"] == msg["Sender"] == msg["Reply-To"] == "go@gocd.example.com"
    # Jakarta Mail: an all-ASCII body goes as us-ascii 7bit (MimeUtility)
    assert msg["Content-Type"] == "text/plain; charset=us-ascii"
    assert msg["Content-Transfer-Encoding"] == "7bit"
    text = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert re.search(r"(?m)^See details: http://.*:8153/go/pipelines/api/12/build/1$", text)
    assert "\n\n-- CHANGES --\n\nGit: " in text                 # GoCD 26.1 on
    # a few non-ASCII bytes: quoted-printable; mostly non-ASCII: base64
    for mods, cte in ((["Git: x\nrevision: 1, modified by Zoë\nFix"], "quoted-printable"),
                      (["Git: x\n" + "日本語のコミット" * 40], "base64")):
        m = email.message_from_bytes(stage_mail("p", "s", "passed", modifications=mods))
        assert m["Content-Type"] == "text/plain; charset=UTF-8", cte
        assert m["Content-Transfer-Encoding"] == cte
        assert mods[0] in m.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
    assert text.endswith("\n\nSent by Go on behalf of jez\n")
    assert stage_mail("a", "b", "passed") != stage_mail("a", "b", "passed")  # Message-ID
    for ev, txt in [("passed", "passed"), ("failed", "failed"), ("fixed", "is fixed"),
                    ("cancelled", "is cancelled")]:
        m = email.message_from_bytes(stage_mail("p", "s", ev, counter=3, stage_counter=2))
        assert m["Subject"] == "Stage [p/3/s/2] %s" % txt
    assert b"The stage was cancelled by admin." in qp_decode(stage_mail("p", "s", "cancelled"))


def qp_decode(raw):
    return email.message_from_bytes(raw).get_payload(decode=True)


def test_subject_folding_and_encoding():
    long_pipe = "release-train-for-product-x-" + "y" * 30
    raw = stage_mail(long_pipe, "integration", "broken")
    subj_line = raw.split(b"Subject: ", 1)[1].split(b"\r\nMIME-Version", 1)[0]
    assert b"\r\n " in subj_line                     # folded
    assert all(len(l) <= 76 or b" " not in l.strip() for l in
               (b"Subject: " + subj_line).split(b"\r\n"))
    expect = "Stage [%s/12/integration/1] is broken" % long_pipe
    assert subj_line.replace(b"\r\n", b"").decode() == expect
    assert fold(9, "short") == "short"
    assert fold(9, "a " * 60).count("\r\n") == 1
    for enc in ("Q", "B"):
        raw = stage_mail(long_pipe, "integration", "broken", encode=enc)
        v = email.message_from_bytes(raw)["Subject"]
        assert "=?UTF-8?%s?" % enc in v
        decoded = str(email.header.make_header(email.header.decode_header(
            re.sub(r"\r\n(?=[ \t])", "", v))))
        assert decoded == expect
        for word in re.findall(r"=\?[^ ]*?\?=", v):
            assert len(word) <= 75
    assert encode_text("caf\u00e9") == "=?UTF-8?Q?caf=C3=A9?="
    assert encode_text("\u00e9\u00e9\u00e9") == "=?UTF-8?B?w6nDqcOp?="
    assert qp_encode(b"a = b \nc\t\n") == b"a =3D b=20\r\nc=09\r\n"
    assert max(len(l) for l in qp_encode(b"z" * 300).split(b"\r\n")) <= 76


def test_socket_spec_parsing():
    assert parse_socket("inet:8895@127.0.0.1") == ("inet", "127.0.0.1", 8895)
    assert parse_socket("inet:127.0.0.1:8895") == ("inet", "127.0.0.1", 8895)
    assert parse_socket("unix:/run/m.sock") == ("unix", "/run/m.sock")
    assert postfix_milter_spec("inet:8895@127.0.0.1") == "inet:127.0.0.1:8895"
    assert socket_from_config('# socket = "unix:/x"\nsocket = "inet:1@127.0.0.1";\n') \
        == "inet:1@127.0.0.1"
