"""Shared pieces of the loopback integration tests.

Every test makes an organisation with `bulwarkctl init` in a temporary
directory, on free ports, starts a real bulwarkd on it, talks to it with
bulwarkctl, bw_testclient and raw sockets, and stops every process it
started, whatever happens (the `with` blocks below).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import time

# Short timeouts so the hostile-input tests take seconds.
TEST_TUNING = """
# integration test tuning
workers = 2
log_level = debug
handshake_timeout = 2s
preauth_idle_timeout = 3s
message_timeout = 2s
"""


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--bulwarkd", required=True)
    p.add_argument("--bulwarkctl", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--memscan", default="")
    return p.parse_args()


def free_port():
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok  ", what, flush=True)


class Org:
    """An organisation made by `bulwarkctl init`, and its running server."""

    def __init__(self, args, tuning=TEST_TUNING):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="bw_it_")
        self.dir = os.path.join(self.tmp, "org")
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.dir, "bulwarkd.conf")
        self.proc = None
        self.log_path = os.path.join(self.tmp, "bulwarkd.log")
        out = subprocess.run(
            [args.bulwarkctl, "init", "--data-dir", self.dir, "--org",
             "Integration Org", "--server-name", "localhost", "--listen",
             self.address], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise Failure("bulwarkctl init failed: " + out.stderr)
        with open(self.conf, "a") as f:
            f.write(tuning)
        self.admin_socket = os.path.join(self.dir, "admin.sock")
        self.db = os.path.join(self.dir, "db", "bulwark.db")

    # ---- the server process ----

    def start(self):
        # A restart appends to the log: only what this process wrote counts
        # (a killed predecessor's "listening on" and socket do not).
        begin = os.path.getsize(self.log_path) if os.path.exists(
            self.log_path) else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.args.bulwarkd, "-c", self.conf],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("bulwarkd exited at start:\n" + self.log())
            with open(self.log_path, "rb") as f:
                f.seek(begin)
                started = b"listening on" in f.read()
            if started and os.path.exists(
                    self.admin_socket):
                return
            time.sleep(0.05)
        raise Failure("bulwarkd did not start:\n" + self.log())

    def stop(self, timeout=20):
        """SIGTERM; the exit status (0 for a clean shutdown)."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.proc = None
        return rc

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        if exc[0] is not None:
            sys.stderr.write("---- bulwarkd log ----\n" + self.log())
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    # ---- tools ----

    def ctl(self, *argv, json_out=False, expect=0):
        cmd = [self.args.bulwarkctl] + (["--json"] if json_out else [])
        cmd += list(argv) + ["-c", self.conf]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if expect is not None and out.returncode != expect:
            raise Failure("%s -> %d, expected %d\n%s%s" % (
                " ".join(cmd), out.returncode, expect, out.stdout,
                out.stderr))
        return json.loads(out.stdout) if json_out and out.stdout else out

    def client(self, *argv, timeout=60):
        return subprocess.run([self.args.client] + list(argv),
                              capture_output=True, text=True,
                              timeout=timeout)

    def code(self, user, code_id, password, ttl=None):
        """An activation code with low KDF costs (tests run many)."""
        argv = ["code", self.admin_socket, "localhost", user, code_id,
                password] + ([str(ttl)] if ttl is not None else [])
        return self.client(*argv)

    def activate(self, user, code_id, password, address=None, tamper=False):
        outdir = tempfile.mkdtemp(dir=self.tmp)
        out = self.client("activate", address or self.address, "localhost",
                          user, code_id, password, outdir,
                          *(["tamper"] if tamper else []))
        return out, outdir

    def dump(self):
        """Everything stored, as SQL text (read-only connection)."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()


# ---- raw TLS and WebSocket, for hostile input ----

def tls_connect(port, timeout=5):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


UPGRADE = (b"GET /bulwark/v1 HTTP/1.1\r\nHost: localhost\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: bulwark.v1\r\n\r\n")


def read_until(sock, marker, limit=65536):
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def ws_connect(port):
    s = tls_connect(port)
    s.sendall(UPGRADE)
    head = read_until(s, b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise Failure("upgrade refused: %r" % head[:80])
    return s


def frame(opcode, payload, fin=True, mask=True, rsv=0, length=None):
    """One WebSocket frame; length overrides the declared payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def recv_frame(sock):
    """(opcode, payload) of the next frame from the server."""
    b0, b1 = recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(sock, 8))[0]
    return b0 & 0x0F, recv_exact(sock, n)


def expect_close(sock):
    """The close code the server sends (None if it just hangs up)."""
    try:
        while True:
            op, payload = recv_frame(sock)
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if payload else 0
    except (EOFError, OSError, ssl.SSLError):
        return None


def opaque(b):
    """opaque<V> of the project codec (RFC 9420 §2.1.2 varint length)."""
    n = len(b)
    if n < 64:
        return bytes([n]) + b
    if n < 16384:
        return struct.pack("!H", 0x4000 | n) + b
    return struct.pack("!I", 0x80000000 | n) + b


def request(type_, body=b"", request_id=1):
    """A device-protocol request envelope."""
    return struct.pack("!BBHI", 1, 1, type_, request_id) + opaque(body)


HELLO = request(0x0001, bytes([1, 1]) + opaque(b"harness"))


def response_status(payload):
    """(type, request_id, status) of a response envelope."""
    version, kind, type_, rid, status = struct.unpack("!BBHIH", payload[:10])
    if version != 1 or kind != 2:
        raise Failure("not a response: %r" % payload[:16])
    return type_, rid, status


def call(sock, message):
    sock.sendall(frame(2, message))
    while True:
        op, payload = recv_frame(sock)
        if op == 2:
            return response_status(payload)
        if op == 8:
            raise Failure("closed: %r" % payload)


def run(tests):
    """Run test functions in order; exit non-zero on the first failure."""
    args = parse_args()
    for t in tests:
        print("---", t.__name__, flush=True)
        try:
            t(args)
        except Failure as e:
            print("FAIL", t.__name__ + ":", e, flush=True)
            sys.exit(1)
    print("all passed")
