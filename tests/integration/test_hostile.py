#!/usr/bin/env python3
"""Hostile input: garbage before TLS, plain and wrong HTTP, malformed,
oversize and never-ending WebSocket frames, unknown and malformed requests,
clients that never finish the TLS handshake. Each gets a clear error or a
timeout; meanwhile a well-behaved device is served; and nothing stored
changes."""
import socket
import ssl
import struct
import time

from harness import (HELLO, Failure, Org, call, check, expect_close, frame,
                     opaque, read_until, recv_frame, request, run,
                     tls_connect, ws_connect)

PREAUTH_MAX = 4096


def closed_soon(sock, within):
    """True if the server hangs up within `within` seconds."""
    sock.settimeout(within)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def well_behaved(org, device):
    """A device with a certificate logs in and is answered."""
    out = org.client("whoami", org.address, device + "/device.crt",
                     device + "/device.key", timeout=20)
    return out.returncode == 0 and out.stdout.startswith("user=alice")


def hostile_transport(org, device):
    # Garbage where a TLS ClientHello belongs.
    raw = socket.create_connection(("127.0.0.1", org.port))
    raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
    check(closed_soon(raw, 5), "garbage before TLS: connection closed")
    raw.close()
    # Plain HTTP inside TLS, on the wrong path and without the upgrade.
    s = tls_connect(org.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    check(read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 404"),
          "wrong path: 404")
    s.close()
    s = tls_connect(org.port)
    s.sendall(b"GET /bulwark/v1 HTTP/1.1\r\nHost: x\r\n\r\n")
    check(read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 426"),
          "no upgrade: 426")
    s.close()
    s = tls_connect(org.port)
    s.sendall(b"\x00\x01\x02 not http\r\n\r\n")
    check(read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 400"),
          "binary junk instead of HTTP: 400")
    s.close()
    s = tls_connect(org.port)
    s.sendall(b"GET /bulwark/v1 HTTP/1.1\r\n" + b"X-Long: " + b"a" * 8000)
    check(read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 431"),
          "endless headers: 431")
    s.close()
    check(well_behaved(org, device), "a device is still served")


def expect_ws_close(org, data, code, what):
    s = ws_connect(org.port)
    s.sendall(data)
    got = expect_close(s)
    s.close()
    check(got == code, "%s: close %s (got %s)" % (what, code, got))


def hostile_frames(org, device):
    expect_ws_close(org, frame(2, HELLO, mask=False), 1002, "unmasked frame")
    expect_ws_close(org, frame(2, HELLO, rsv=4), 1002, "reserved bit")
    expect_ws_close(org, frame(1, b"hello"), 1003, "text frame")
    expect_ws_close(org, frame(0, HELLO), 1002, "continuation of nothing")
    expect_ws_close(org, frame(3, b""), 1002, "reserved opcode")
    expect_ws_close(org, frame(9, b"x" * 10, fin=False), 1002,
                    "fragmented ping")
    # A 16-bit length field holding a length that fits in 7 bits.
    key = b"\x00\x00\x00\x00"
    expect_ws_close(org, b"\x82\xfe\x00\x05" + key + b"hello", 1002,
                    "length not minimally encoded")
    # Refused at its first payload bytes, long before it could arrive.
    expect_ws_close(org, frame(2, b"", length=PREAUTH_MAX + 1)[:8] + b"abc",
                    1009, "oversize frame before authentication")
    expect_ws_close(org, frame(2, b"", length=1 << 62)[:14] + b"abc", 1009,
                    "frame of 2^62 bytes")
    # Fragments adding up past the limit.
    s = ws_connect(org.port)
    s.sendall(frame(2, b"x" * 3000, fin=False) + frame(0, b"x" * 3000,
                                                        fin=False))
    check(expect_close(s) == 1009, "fragments past the limit: close 1009")
    s.close()
    # Fragments that never end, each small: cut off by time.
    s = ws_connect(org.port)
    start = time.time()
    s.settimeout(10)
    try:
        for _ in range(40):
            s.sendall(frame(2 if _ == 0 else 0, b"y", fin=False))
            time.sleep(0.1)
    except OSError:
        pass
    got = expect_close(s)
    check(got in (1008, None) and time.time() - start < 8,
          "never-ending fragmented message: cut off (close %s after %.1fs)"
          % (got, time.time() - start))
    s.close()
    # A frame that stops half way: the idle timer ends it.
    s = ws_connect(org.port)
    s.sendall(frame(2, b"z" * 100)[:50])
    check(expect_close(s) == 1008, "half a frame: idle timeout")
    s.close()
    # Ping is answered with the same payload.
    s = ws_connect(org.port)
    s.sendall(frame(9, b"are you there"))
    check(recv_frame(s) == (10, b"are you there"), "ping answered by pong")
    s.close()
    check(well_behaved(org, device), "a device is still served")


def hostile_requests(org, device):
    s = ws_connect(org.port)
    check(call(s, HELLO)[2] == 0, "HELLO")
    check(call(s, request(0x0777, b"", 5)) == (0x0777, 5, 3),
          "unknown request type: status 3 (unknown message type)")
    check(call(s, b"\x01\x01\x00") == (0, 0, 1),
          "truncated envelope: error response, status 1")
    check(call(s, b"\x07" + HELLO[1:])[2] == 2,
          "unknown envelope version: status 2")
    check(call(s, request(0x0003, b"", 6)) == (3, 6, 4),
          "WHOAMI without a certificate: not allowed")
    check(call(s, request(0x0002, opaque(b"x"), 7)) == (2, 7, 4),
          "PING without a certificate: not allowed")
    check(call(s, request(0x0101, b"\xff\xff", 8)) == (0x0101, 8, 1),
          "malformed activation request: status 1")
    check(call(s, request(0x0102, b"", 9)) == (0x0102, 9, 4),
          "ACTIVATE_FINISH before START: not allowed")
    check(call(s, HELLO)[2] == 0, "the connection still works after errors")
    # Before authentication, errors are rationed.
    for i in range(12):
        try:
            s.sendall(frame(2, b"\x01"))
        except OSError:
            break
    got = expect_close(s)
    check(got == 1008, "too many errors before authentication: close 1008")
    s.close()
    # An authenticated device only ever gets error responses.
    check(well_behaved(org, device), "a device is still served")


def slow_clients(org, device):
    # Connections that never complete the handshake, or stall half way.
    stalled = []
    for i in range(20):
        c = socket.create_connection(("127.0.0.1", org.port))
        if i % 2:
            c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        stalled.append(c)
    check(well_behaved(org, device),
          "a device is served while 20 handshakes stall")
    start = time.time()
    gone = [closed_soon(c, 6) for c in stalled]
    check(all(gone), "stalled handshakes closed after the timeout "
          "(%.1fs)" % (time.time() - start))
    for c in stalled:
        c.close()
    # Upgraded but silent before authentication: idle timeout.
    s = ws_connect(org.port)
    check(expect_close(s) == 1008, "silent pre-auth connection: close 1008")
    s.close()


def main_test(args):
    with Org(args) as org:
        org.start()
        org.ctl("user", "add", "alice")
        check(org.code("alice", "c1", "right-password").returncode == 0,
              "activation code")
        out, device = org.activate("alice", "c1", "right-password")
        check(out.returncode == 0, "a device to stay well-behaved")
        before = org.dump()
        hostile_transport(org, device)
        hostile_frames(org, device)
        hostile_requests(org, device)
        slow_clients(org, device)
        check(org.dump() == before, "nothing stored changed")
        check(org.proc.poll() is None, "the server is still running")
        check(org.stop() == 0, "clean stop")


if __name__ == "__main__":
    run([main_test])
