"""A real redis-server on loopback for tests, and a minimal RESP client.

    r = RedisServer(basedir).start()          # 127.0.0.1, a free port
    r.url                                     # "redis://127.0.0.1:PORT/0"
    r.command("SET", "k", "v")                # -> "OK"
    r.keys("mail2alert:*")
    r.stop(); r.start()                       # same port (the daemon's URL stays valid)
    r.kill()                                  # SIGKILL
    r.freeze(); r.thaw()                      # SIGSTOP / SIGCONT: a hung server
    r.pause(3000)                             # CLIENT PAUSE 3000 WRITE: writes wait
    r.sleep(2)                                # DEBUG SLEEP 2 in a thread: everything waits

Options:
    password="..."   requirepass; .password_file is a 0600 file holding it
    unixsocket=True  also listen on BASEDIR/redis.sock (.unix_url "unix:/...?db=0")
    tls=True         TLS only: a throwaway CA and server certificate (IP SAN
                     127.0.0.1) made with the openssl CLI; .url is rediss://,
                     .ca_file the CA for the daemon; command() speaks TLS too

Nothing is ever saved (--save "" --appendonly no): a restart starts empty.
The server log is BASEDIR/redis.log.  Port 6379 is never used.
"""

import os
import signal
import socket
import ssl
import subprocess
import threading
import time

from .postfix import free_port

REDIS_SERVER = "/usr/bin/redis-server"
OPENSSL = "/usr/bin/openssl"


class RedisError(RuntimeError):
    """An error reply (-ERR ...) or a lab failure."""


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        """One RESP2 reply: str for simple strings and bulk (UTF-8, bytes
        if not decodable), int, list, None for nil; an error reply is
        returned as a RedisError instance (raised by the caller)."""
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.exact(n)
            try:
                return data.decode()
            except UnicodeDecodeError:
                return data
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.reply() for _ in range(n)]
        raise RedisError("unexpected RESP reply %r" % line[:80])


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        else:
            b = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class RedisServer:
    def __init__(self, basedir, port=None, password=None, unixsocket=False, tls=False,
                 host="127.0.0.1", db=0):
        self.basedir = os.path.abspath(str(basedir))
        self.host = host
        self.port = int(port) if port else free_port(host)
        if self.port == 6379:
            raise RedisError("the lab never uses port 6379")
        self.password = password
        self.tls = tls
        self.db = db
        self.socket_path = os.path.join(self.basedir, "redis.sock") if unixsocket else None
        self.log_path = os.path.join(self.basedir, "redis.log")
        self.password_file = None
        self.ca_file = self.cert_file = self.key_file = None
        self.proc = None
        self._sleepers = []
        os.makedirs(self.basedir, exist_ok=True)
        os.chmod(self.basedir, 0o755)
        if password is not None:
            self.password_file = os.path.join(self.basedir, "redis.password")
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password + "\n")
            os.chmod(self.password_file, 0o600)
        if tls:
            self._make_certs()

    # ------------------------------------------------------------ addresses
    @property
    def url(self):
        return "%s://%s:%d/%d" % ("rediss" if self.tls else "redis", self.host, self.port,
                                 self.db)

    @property
    def unix_url(self):
        if not self.socket_path:
            raise RedisError("started without unixsocket=True")
        return "unix:%s?db=%d" % (self.socket_path, self.db)

    # ---------------------------------------------------------------- TLS
    def _openssl(self, *args):
        p = subprocess.run([OPENSSL] + list(args), cwd=self.basedir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise RedisError("openssl %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))

    def _make_certs(self, name="ca"):
        """A CA and a server certificate for 127.0.0.1 signed by it."""
        d = self.basedir
        self.ca_file = os.path.join(d, "ca.pem")
        ca_key = os.path.join(d, "ca.key")
        self.key_file = os.path.join(d, "server.key")
        self.cert_file = os.path.join(d, "server.pem")
        csr = os.path.join(d, "server.csr")
        ext = os.path.join(d, "server.ext")
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
                      "-out", self.ca_file, "-days", "2", "-subj", "/CN=mail2alert lab CA")
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key_file,
                      "-out", csr, "-subj", "/CN=127.0.0.1")
        with open(ext, "w") as f:
            f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                    "basicConstraints = CA:FALSE\n"
                    "keyUsage = digitalSignature, keyEncipherment\n"
                    "extendedKeyUsage = serverAuth\n")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", ca_key,
                      "-CAcreateserial", "-out", self.cert_file, "-days", "2", "-extfile", ext)
        for f in (self.key_file, ca_key):
            os.chmod(f, 0o600)

    def other_ca(self):
        """A second, unrelated CA certificate (for "wrong CA" tests)."""
        d = os.path.join(self.basedir, "other-ca")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "ca.pem")
        if not os.path.exists(path):
            self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          os.path.join(d, "ca.key"), "-out", path, "-days", "2",
                          "-subj", "/CN=some other CA")
        return path

    # ----------------------------------------------------------- lifecycle
    def argv(self):
        a = [REDIS_SERVER, "--bind", self.host, "--dir", self.basedir,
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", self.log_path, "--protected-mode", "no",
             "--databases", "16", "--enable-debug-command", "local"]
        if self.tls:
            a += ["--port", "0", "--tls-port", str(self.port),
                  "--tls-cert-file", self.cert_file, "--tls-key-file", self.key_file,
                  "--tls-ca-cert-file", self.ca_file, "--tls-auth-clients", "no"]
        else:
            a += ["--port", str(self.port)]
        if self.socket_path:
            a += ["--unixsocket", self.socket_path, "--unixsocketperm", "777"]
        if self.password is not None:
            a += ["--requirepass", self.password]
        return a

    def start(self, timeout=10.0):
        """Start (or start again, on the same port); returns once it
        answers PING."""
        if self.alive():
            return self
        if self.socket_path and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RedisError("redis-server exited %s; log:\n%s"
                                 % (self.proc.returncode, self.log()[-3000:]))
            try:
                if self.command("PING", timeout=1) == "PONG":
                    return self
            except (OSError, ConnectionError, RedisError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                raise RedisError("redis-server not answering on %d after %.0fs; log:\n%s"
                                 % (self.port, timeout, self.log()[-3000:]))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _wait_port_free(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((self.host, self.port))
                    return
                except OSError:
                    time.sleep(0.05)

    def stop(self, timeout=10.0):
        """SIGTERM and wait (then SIGKILL)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)       # in case it is frozen
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._wait_port_free()
        return self.proc.returncode

    def kill(self):
        """SIGKILL and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._wait_port_free()
        return None if self.proc is None else self.proc.returncode

    def freeze(self):
        """SIGSTOP: the server hangs; the kernel still completes TCP
        connects (into the listen backlog), but nothing is answered."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        """SIGCONT after freeze()."""
        self.proc.send_signal(signal.SIGCONT)

    def restart(self, timeout=10.0):
        self.stop()
        return self.start(timeout)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -------------------------------------------------------------- client
    def connect(self, timeout=5.0):
        """A connected, authenticated socket (TLS when tls=True)."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            s = ctx.wrap_socket(s, server_hostname=self.host)
        if self.password is not None:
            s.sendall(encode_command(["AUTH", self.password]))
            r = _Reader(s).reply()
            if isinstance(r, RedisError):
                s.close()
                raise r
        if self.db:
            s.sendall(encode_command(["SELECT", self.db]))
            _Reader(s).reply()
        return s

    def command(self, *args, timeout=5.0):
        """Send one command on a fresh connection; return its reply
        (str/bytes, int, list, None).  An error reply raises RedisError."""
        with self.connect(timeout) as s:
            s.sendall(encode_command(args))
            r = _Reader(s).reply()
        if isinstance(r, RedisError):
            raise r
        return r

    def keys(self, pattern="*"):
        return sorted(self.command("KEYS", pattern))

    def get(self, key):
        return self.command("GET", key)

    def ttl(self, key):
        return self.command("TTL", key)

    def flush(self):
        return self.command("FLUSHALL")

    def pause(self, ms, mode="WRITE"):
        """CLIENT PAUSE MS [WRITE|ALL]: the server holds (write) commands
        of every client for MS milliseconds; returns at once."""
        args = ["CLIENT", "PAUSE", int(ms)]
        if mode:
            args.append(mode)
        return self.command(*args)

    def sleep(self, seconds):
        """DEBUG SLEEP SECONDS on a background connection: the whole server
        answers nobody for that long.  Returns the thread (join() to wait)."""
        s = self.connect()
        s.sendall(encode_command(["DEBUG", "SLEEP", seconds]))

        def _wait():
            try:
                s.settimeout(float(seconds) + 30)
                _Reader(s).reply()
            except OSError:
                pass
            finally:
                s.close()
        t = threading.Thread(target=_wait, name="redis-debug-sleep", daemon=True)
        t.start()
        self._sleepers.append(t)
        return t

    def __repr__(self):
        return "<RedisServer %s pid=%s>" % (self.url, self.proc.pid if self.proc else None)


class TcpProxy:
    """A loopback TCP relay to 127.0.0.1:target_port, to cut one client off
    from a server while others still reach it (a network partition).

        p = TcpProxy(redis.port).start()      # p.port: point the client here
        p.cut()                               # close every connection; refuse new ones
        p.heal()                              # accept again
    """

    def __init__(self, target_port, host="127.0.0.1"):
        self.host = host
        self.target = (host, int(target_port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._socks = set()
        self._cut = False
        self._stopping = False
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def _accept(self):
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                cut = self._cut or self._stopping
            if cut:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _close_all(self):
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        with self._lock:
            self._cut = True
        self._close_all()

    def heal(self):
        with self._lock:
            self._cut = False

    def stop(self):
        self._stopping = True
        self._listener.close()
        self._close_all()
