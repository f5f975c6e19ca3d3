"""A minimal milter protocol client: talks to mail2alert the way Postfix's
milter8 client does, so a test can hold several sessions at the end of
the message and release them at the same instant (something no SMTP
client can arrange through Postfix).

Protocol as in sendmail's libmilter/docs and include/libmilter/mfdef.h
(Postfix src/milter/milter8.c speaks the same): every packet is a 4-byte
big-endian length, a command byte and its data.  We offer protocol
version 6 with no "skip" or "no reply" flags, so every command except
macros ('D') is answered, which keeps the client simple.

    s = MilterSession(("127.0.0.1", port))
    s.envelope("go@example.com", ["alerts@example.com"])
    s.headers([("Subject", "Stage [api/1/build/1] failed")])
    reply = s.end_of_message("4BcQid1")     # -> Reply(final='a', actions=[...])
"""

import socket
import struct
from collections import namedtuple

SMFI_VERSION = 6
# actions we let the milter take: add/change headers, add/delete recipients,
# and set the macro list (SMFIF_ADDHDRS|CHGBODY|ADDRCPT|DELRCPT|CHGHDRS|SETSYMLIST)
ACTIONS = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x100

Reply = namedtuple("Reply", "final actions")


class MilterProtocolError(RuntimeError):
    pass


class MilterSession:
    def __init__(self, address, timeout=10.0):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self._negotiate()

    # -- wire
    def _send(self, cmd, data=b""):
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise MilterProtocolError("milter closed the connection")
            buf += chunk
        return buf

    def _recv(self):
        (length,) = struct.unpack(">I", self._recv_exact(4))
        if length < 1 or length > 1 << 20:
            raise MilterProtocolError("bad packet length %d" % length)
        packet = self._recv_exact(length)
        return packet[:1], packet[1:]

    def _command(self, cmd, data=b""):
        """Send a command; return the replies up to the first final one
        (modification actions come before it at end of message)."""
        self._send(cmd, data)
        actions = []
        while True:
            code, data = self._recv()
            if code in (b"+", b"-", b"h", b"m", b"i", b"2", b"e", b"b", b"f"):
                actions.append((code.decode(), data))
                continue
            if code == b"p":            # progress: keep waiting
                continue
            return Reply(code.decode(), actions)

    # -- protocol steps
    def _negotiate(self):
        self._send(b"O", struct.pack(">III", SMFI_VERSION, ACTIONS, 0))
        code, data = self._recv()
        if code != b"O" or len(data) < 12:
            raise MilterProtocolError("bad negotiation answer %r" % code)
        self.version, self.actions, self.protocol = struct.unpack(">III", data[:12])
        if self.protocol & 0x7F000:     # any SMFIP_NR_*: we did not offer them
            raise MilterProtocolError("milter asked for no-reply steps we did not offer")
        self.skip = self.protocol

    @staticmethod
    def _args(*args):
        return b"".join(a.encode() + b"\0" for a in args)

    def _step(self, flag, cmd, data=b""):
        if self.skip & flag:
            return Reply("c", [])
        reply = self._command(cmd, data)
        if reply.final not in ("c",):
            raise MilterProtocolError("step %r answered %r" % (cmd, reply))
        return reply

    def envelope(self, sender, recipients):
        self._step(0x01, b"C", b"localhost\0" + b"4" + struct.pack(">H", 25) + b"127.0.0.1\0")
        self._step(0x02, b"H", self._args("localhost"))
        self._command(b"M", self._args("<%s>" % sender))
        for r in recipients:
            self._command(b"R", self._args("<%s>" % r))
        return self._command(b"T")

    def headers(self, pairs):
        for name, value in pairs:
            reply = self._command(b"L", self._args(name, value))
            if reply.final != "c":
                return reply
        return self._command(b"N")

    def send_end_of_message(self, queue_id, body=b""):
        """Send macros, body and end of message; read the answer later."""
        self._send(b"D", b"E" + self._args("i", queue_id))
        if body and not self.skip & 0x10:
            self._command(b"B", body)
        self._send(b"E")

    def read_end_of_message(self):
        actions = []
        while True:
            code, data = self._recv()
            if code == b"p":
                continue
            if code in (b"+", b"-", b"h", b"m", b"i", b"2", b"e", b"b", b"f"):
                actions.append((code.decode(), data))
                continue
            return Reply(code.decode(), actions)

    def end_of_message(self, queue_id, body=b""):
        self.send_end_of_message(queue_id, body)
        return self.read_end_of_message()

    def close(self):
        try:
            self._send(b"Q")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def added_recipients(reply):
    """The envelope recipients a reply added, without angle brackets."""
    return [d.rstrip(b"\0").decode().strip("<>") for c, d in reply.actions if c == "+"]
