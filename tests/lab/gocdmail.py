"""GoCD-shaped test mail, and sending it over SMTP.

stage_mail() reproduces what GoCD's StageNotificationService hands to Jakarta
Mail (see /work/shared/GOCD.md section 1): subject
"Stage [pipe/12/stage/1] is broken", folded by MimeUtility.fold(9, ...) when
longer than 76 columns, optionally RFC 2047 encoded (Q or B) the way
MimeUtility.encodeText does it, From = Sender = Reply-To = the mailhost
"from", one To, and a text/plain body encoded as Jakarta Mail chooses
(jakarta_body: us-ascii 7bit when all ASCII).  Headers come
in Jakarta's InternetHeaders order.  All lines end in CRLF.
"""

import base64
import datetime
import itertools
import os
import random
import re
import smtplib

# GoCD StageEvent.describe() without the leading space
EVENT_TEXT = {
    "passed": "passed",
    "failed": "failed",
    "broken": "is broken",
    "fixed": "is fixed",
    "cancelled": "is cancelled",
}
# aliases: GoCD enum names and mail2alert event names
_EVENT_ALIASES = {
    "passes": "passed", "fails": "failed", "breaks": "broken",
    "pass": "passed", "fail": "failed", "break": "broken", "fix": "fixed",
    "cancel": "cancelled", "canceled": "cancelled",
}

_counter = itertools.count(1)
_rand = random.Random(os.getpid() ^ id(object()))


# ---------------------------------------------------------------- Jakarta Mail

def _check_ascii(s):
    """MimeUtility.checkAscii(String): 1 ALL_ASCII, 2 MOSTLY_ASCII, 3 MOSTLY_NONASCII."""
    ascii_n = non = 0
    for ch in s:
        c = ord(ch)
        if c >= 0o177 or (c < 0o40 and ch not in "\r\n\t"):
            non += 1
        else:
            ascii_n += 1
    if non == 0:
        return 1
    return 3 if non > ascii_n else 2


def _q_encoded_length(b):
    n = 0
    for c in b:
        n += 3 if (c < 0o40 or c >= 0o177 or chr(c) in "=_?") else 1
    return n


def _q_encode(b):
    out = []
    for c in b:
        if c == 0x20:
            out.append("_")
        elif c < 0o40 or c >= 0o177 or chr(c) in "=_?":
            out.append("=%02X" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def encode_text(text, charset="UTF-8", encoding=None, force=False):
    """MimeUtility.encodeText(text, charset, encoding): the whole text as one
    run of encoded-words (split by halving, joined with a space), each at
    most 75 characters.  Pure ASCII is returned unchanged unless FORCE."""
    kind = _check_ascii(text)
    if kind == 1 and not force:
        return text
    if encoding is None:
        encoding = "B" if kind == 3 else "Q"
    encoding = encoding.upper()
    if encoding not in ("B", "Q"):
        raise ValueError("encoding must be B or Q")
    avail = 75 - 7 - len(charset)
    prefix = "=?%s?%s?" % (charset, encoding)
    pycharset = charset.lower()
    words = []

    def do_encode(s, first):
        b = s.encode(pycharset)
        ln = ((len(b) + 2) // 3) * 4 if encoding == "B" else _q_encoded_length(b)
        if ln > avail and len(s) > 1:
            split = len(s) // 2
            do_encode(s[:split], first)
            do_encode(s[split:], False)
        else:
            enc = base64.b64encode(b).decode() if encoding == "B" else _q_encode(b)
            words.append(prefix + enc + "?=")

    do_encode(text, True)
    return " ".join(words)


def fold(used, s):
    """MimeUtility.fold(used, s): break at linear whitespace with CRLF plus
    that whitespace when a line would pass 76 columns."""
    end = len(s)
    while end > 0 and s[end - 1] in " \t\r\n":
        end -= 1
    s = s[:end]
    if used + len(s) <= 76:
        return s
    out = []
    lastc = ""
    while used + len(s) > 76:
        lastspace = -1
        for i, c in enumerate(s):
            if lastspace != -1 and used + i > 76:
                break
            if c in " \t" and lastc not in (" ", "\t"):
                lastspace = i
            lastc = c
        if lastspace == -1:
            out.append(s)
            s = ""
            used = 0
            break
        out.append(s[:lastspace])
        out.append("\r\n")
        lastc = s[lastspace]
        out.append(lastc)
        s = s[lastspace + 1:]
        used = 1
    out.append(s)
    return "".join(out)


def qp_encode(data, bytes_per_line=76):
    """Jakarta QPEncoderStream: CRLF line breaks, soft breaks '=\\r\\n' so no
    line passes 76 columns, space/tab before a break encoded, '=' and
    non-ASCII as =XX."""
    limit = bytes_per_line - 1
    out = bytearray()
    count = 0
    got_space = got_cr = False

    def output(c, encode):
        nonlocal count
        if encode:
            count += 3
            if count > limit:
                out.extend(b"=\r\n")
                count = 3
            out.extend(b"=%02X" % c)
        else:
            count += 1
            if count > limit:
                out.extend(b"=\r\n")
                count = 1
            out.append(c)

    def crlf():
        nonlocal count
        out.extend(b"\r\n")
        count = 0

    for c in data:
        if got_space:
            output(0x20, c in (0x0D, 0x0A))
            got_space = False
        if c == 0x0D:
            got_cr = True
            crlf()
        else:
            if c == 0x0A:
                if not got_cr:
                    crlf()
            elif c == 0x20:
                got_space = True
            elif c < 0o40 or c >= 0o177 or c == ord("="):
                output(c, True)
            else:
                output(c, False)
            got_cr = False
    if got_space:
        output(0x20, True)
    return bytes(out)


def mail_date(dt=None):
    """Jakarta MailDateFormat: 'Tue, 12 May 2026 08:17:44 +0000 (UTC)'."""
    dt = dt or datetime.datetime.now(datetime.timezone.utc)
    return "%s, %d %s %s +0000 (UTC)" % (
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[dt.weekday()], dt.day,
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
         "Nov", "Dec")[dt.month - 1], dt.strftime("%Y %H:%M:%S"))


def java_date(dt=None):
    """java.util.Date.toString(): 'Tue May 12 08:17:44 UTC 2026'."""
    dt = dt or datetime.datetime.now(datetime.timezone.utc)
    return dt.strftime("%a %b %d %H:%M:%S UTC %Y")


def message_id(host="gocd.example.com"):
    """Jakarta's '<hash.counter.millis@host>' form, unique per call."""
    import time
    return "<%d.%d.%d@%s>" % (_rand.randrange(10 ** 8, 2 * 10 ** 9), next(_counter),
                              int(time.time() * 1000), host)


# ------------------------------------------------------------------ builders

def _event_text(event):
    e = str(event).lower()
    e = _EVENT_ALIASES.get(e, e)
    if e not in EVENT_TEXT:
        raise ValueError("unknown event %r (one of %s; or pass event_text=)"
                         % (event, ", ".join(EVENT_TEXT)))
    return EVENT_TEXT[e]


def stage_subject(pipeline, stage, event, counter=12, stage_counter=1, event_text=None):
    """'Stage [pipeline/12/stage/1] is broken' (unfolded, unencoded)."""
    text = event_text if event_text is not None else _event_text(event)
    return "Stage [%s/%s/%s/%s] %s" % (pipeline, counter, stage, stage_counter, text)


def _header_block(headers):
    """[(name, value)] -> bytes; value may already contain CRLF folding."""
    out = []
    for name, value in headers:
        if isinstance(value, bytes):
            out.append(name.encode() + b": " + value)
        else:
            out.append(("%s: %s" % (name, value)).encode("utf-8"))
    return b"\r\n".join(out) + b"\r\n"


def _subject_header(subject, encode, charset, do_fold):
    if encode:
        value = encode_text(subject, charset, encode, force=True)
    else:
        value = encode_text(subject, charset)      # auto for non-ASCII, like Jakarta
    return fold(9, value) if do_fold else value


def jakarta_body(text, charset="UTF-8"):
    """What Jakarta Mail makes of MimeMessage.setText(text): the charset is
    us-ascii when the text is all ASCII, else the given one
    (MimeMessage/MimeBodyPart.setText -> MimeUtility.checkAscii); the
    transfer encoding is MimeUtility.getEncoding's: 7bit when all ASCII and
    no line passes 998 bytes, base64 when non-ASCII bytes are the majority
    (MOSTLY_NONASCII), quoted-printable otherwise (MOSTLY_ASCII).  Returns
    (charset, cte, body bytes with CRLF line ends)."""
    raw = text.encode(charset.lower())
    nonascii = sum(1 for b in raw if b >= 0x80)
    longest = max(len(l) for l in raw.split(b"\n"))
    if nonascii == 0 and longest <= 998:
        return "us-ascii", "7bit", raw.replace(b"\n", b"\r\n")
    if nonascii > len(raw) - nonascii:
        b64 = base64.encodebytes(raw).replace(b"\n", b"\r\n")    # 76-column lines
        return charset, "base64", b64
    return charset, "quoted-printable", qp_encode(raw)


def stage_mail(pipeline, stage, event, counter=12, stage_counter=1,
               to="mail2alert@example.com", sender="go@gocd.example.com",
               encode=None, fold_subject=True, charset="UTF-8",
               site_url="http://10.0.0.5:8153", user="jez", cancelled_by="admin",
               modifications=None, changes_heading="-- CHANGES --",
               event_text=None, subject=None, msgid=None, date=None,
               extra_headers=(), cte=None):
    """A GoCD stage notification mail as bytes (CRLF line ends).

    event: passed | failed | broken | fixed | cancelled (GoCD's texts
    "passed", "failed", "is broken", "is fixed", "is cancelled"); or give the
    raw text after "]" as event_text=.  encode: None (Jakarta's automatic
    choice, i.e. none for ASCII) | "Q" | "B" (forced RFC 2047).  subject=
    overrides the whole subject text.  modifications: list of material
    emailContent strings (default: one Git modification).  changes_heading:
    "-- CHANGES --" since GoCD 26.1.0, "-- CHECK-INS --" before (GOCD.md,
    corrections section).  cte: None for Jakarta Mail's own choice (see
    jakarta_body), or "quoted-printable" to force it in charset."""
    subj = subject if subject is not None else stage_subject(
        pipeline, stage, event, counter, stage_counter, event_text)
    is_cancel = event_text is None and subject is None and _event_text(event) == "is cancelled"

    if modifications is None:
        modifications = [
            "Git: https://git.example.com/%s.git\n"
            "revision: 3f2a9c1e7b, modified by Dev Eloper <dev@example.com> on %s\n"
            "Fix the flaky test in %s\n"
            "modified src/main.c\n"
            "added tests/test_main.py" % (pipeline, java_date(date), stage)]
    body = ""
    if is_cancel and cancelled_by:
        body += "The stage was cancelled by %s.\n" % cancelled_by
    body += "See details: %s/go/pipelines/%s/%s/%s/%s" % (
        site_url, pipeline, counter, stage, stage_counter)
    body += "\n\n" + changes_heading
    for m in modifications:
        body += "\n\n" + m
    body += "\n\nSent by Go on behalf of %s" % user

    headers = [
        ("Date", mail_date(date)),
        ("From", sender),
        ("Sender", sender),
        ("Reply-To", sender),
        ("To", to),
        ("Message-ID", msgid or message_id()),
        ("Subject", _subject_header(subj, encode, charset, fold_subject)),
    ]
    headers += list(extra_headers)
    if cte is None:
        body_charset, cte, body_b = jakarta_body(body, charset)
    else:
        body_charset, body_b = charset, qp_encode(body.encode(charset.lower()))
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=%s" % body_charset),
        ("Content-Transfer-Encoding", cte),
    ]
    # On the wire the message ends with CRLF before the final dot (Jakarta's
    # SMTP transport adds it; so does smtplib): make it part of the bytes.
    if not body_b.endswith(b"\r\n"):
        body_b += b"\r\n"
    return _header_block(headers) + b"\r\n" + body_b


def plain_mail(subject="Hello", to="someone@example.com", sender="alice@example.com",
               body="Just a normal message.\n", encode=None, extra_headers=(),
               msgid=None, date=None, charset="UTF-8", cte=None):
    """An ordinary (non-GoCD) text/plain mail as bytes (CRLF line ends).
    subject=None leaves the Subject header out.  to may be a str or list."""
    if isinstance(to, (list, tuple)):
        to = ", ".join(to)
    body_b = body.encode("utf-8") if isinstance(body, str) else body
    body_b = re.sub(rb"\r?\n", b"\r\n", body_b)
    if not body_b.endswith(b"\r\n"):
        body_b += b"\r\n"
    if cte is None:
        cte = "8bit" if any(c >= 0x80 for c in body_b) else "7bit"
    headers = [
        ("Date", mail_date(date)),
        ("From", sender),
        ("To", to),
        ("Message-ID", msgid or message_id("mail.example.com")),
    ]
    if subject is not None:
        headers.append(("Subject", _subject_header(subject, encode, charset, True)))
    headers += list(extra_headers)
    headers += [("MIME-Version", "1.0"),
                ("Content-Type", "text/plain; charset=%s" % charset),
                ("Content-Transfer-Encoding", cte)]
    return _header_block(headers) + b"\r\n" + body_b


# ---------------------------------------------------------------------- send

class SendResult:
    """Outcome of send(): code/text of the final reply; queue_id parsed from
    Postfix's '250 2.0.0 Ok: queued as QUEUEID'."""

    def __init__(self, code, text, stage="DATA", refused=None):
        self.code = code
        self.text = text
        self.stage = stage
        self.refused = refused or {}
        m = re.search(r"queued as ([0-9A-Za-z]+)", text or "")
        self.queue_id = m.group(1) if m else None

    @property
    def ok(self):
        return 200 <= self.code < 300

    def __repr__(self):
        return "<SendResult %s %d %r queue_id=%s>" % (self.stage, self.code, self.text,
                                                      self.queue_id)


class SmtpSendError(Exception):
    """A 4xx/5xx reply from the SMTP server."""

    def __init__(self, result):
        self.result = result
        super().__init__("SMTP %s refused: %d %s%s" % (
            result.stage, result.code, result.text,
            (" refused rcpts: %r" % result.refused) if result.refused else ""))

    @property
    def code(self):
        return self.result.code


def send(port, mail_from, rcpts, data, host="127.0.0.1", timeout=60, check=True,
         mail_options=(), helo="client.lab.test"):
    """Send DATA from MAIL_FROM to RCPTS through the SMTP server at
    HOST:PORT.  Returns a SendResult for the end-of-data reply.  A 4xx/5xx at
    any stage raises SmtpSendError (check=False: returned instead).  A
    refused recipient (but others accepted) also raises, with .refused."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    if isinstance(data, str):
        data = data.encode("utf-8")
    opts = list(mail_options)
    if any(c >= 0x80 for c in data) and not any(o.upper().startswith("BODY=") for o in opts):
        opts.append("BODY=8BITMIME")
    s = smtplib.SMTP(host, port, timeout=timeout, local_hostname=helo)
    try:
        s.ehlo()
        code, text = s.mail(mail_from, opts)
        if code >= 300:
            return _fail(SendResult(code, text.decode(errors="replace"), "MAIL"), check, s)
        refused = {}
        for r in rcpts:
            code, text = s.rcpt(r)
            if code >= 300:
                refused[r] = (code, text.decode(errors="replace"))
        if len(refused) == len(rcpts):
            c, t = next(iter(refused.values()))
            return _fail(SendResult(c, t, "RCPT", refused), check, s)
        try:
            code, text = s.data(data)
        except smtplib.SMTPDataError as e:      # DATA itself refused (no 354)
            code, text = e.smtp_code, e.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        res = SendResult(code, text, "DATA", refused)
        if code >= 300 or refused:
            return _fail(res, check, s)
        return res
    finally:
        try:
            s.quit()
        except Exception:
            s.close()


def _fail(res, check, s):
    try:
        s.rset()
    except Exception:
        pass
    if check:
        raise SmtpSendError(res)
    return res
