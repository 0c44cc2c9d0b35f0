#!/usr/bin/env python3
"""Activation with SPAKE2+ against a real server, and device login with
mutual TLS: success; a wrong password, an unknown user and an unknown code
look the same; the fifth failure locks a code; expired and used codes fail;
a relay that terminates TLS is detected; revocation and disabling close
live connections and refuse the handshake; the CA key is never in the
network process's memory. All of it with OpenSSL's built-in EC and
Ed25519 methods (lib/common/key_methods.h), and a login with the
providers' (openssl_key_methods = providers)."""
import socket
import sqlite3
import ssl
import subprocess
import threading
import time

from harness import (HELLO, TEST_TUNING, Org, call, check, expect_close,
                     frame, free_port, opaque, request, run, ws_connect)

REFUSED = "refused confirmV\n"


def whoami(org, device):
    return org.client("whoami", org.address, device + "/device.crt",
                      device + "/device.key")


def activate_with_bulwarkctl(org, user):
    a = org.ctl("device", "activate", user, json_out=True)["activation"]
    check(len(a["password"]) == 16 and a["uri"].startswith(
        "bulwark://activate?server=localhost:%d&user=%s&code=%s&pw=%s&ca="
        % (org.port, user, a["code_id"], a["password"])),
        "bulwarkctl device activate prints password, code and URI")
    text = org.ctl("device", "activate", user).stdout
    check("password" in text and "\u2588" in text and "bulwark://" in text,
          "the text output has the values and a QR code")
    return a


def successes(org):
    a = activate_with_bulwarkctl(org, "alice")
    out, alice1 = org.activate("alice", a["code_id"], a["password"])
    check(out.returncode == 0 and out.stdout.startswith("activated "),
          "alice's first device activates (password from bulwarkctl)")
    check(org.code("alice", "second", "pw-alice-2").returncode == 0 and
          org.code("bob", "first", "pw-bob-1").returncode == 0,
          "more activation codes")
    out, alice2 = org.activate("alice", "second", "pw-alice-2")
    check(out.returncode == 0, "alice's second device activates")
    out, bob1 = org.activate("bob", "first", "pw-bob-1")
    check(out.returncode == 0, "bob's device activates")
    for dev, user in ((alice1, "alice"), (alice2, "alice"), (bob1, "bob")):
        out = whoami(org, dev)
        device_id = open(dev + "/device_id").read().strip()
        check(out.returncode == 0 and out.stdout.strip() ==
              "user=%s device=%s" % (user, device_id),
              "%s's device logs in with mutual TLS" % user)
    devices = org.ctl("device", "list", json_out=True)["devices"]
    check(sorted(d["user"] for d in devices) == ["alice", "alice", "bob"]
          and not any(d["revoked"] for d in devices),
          "bulwarkctl device list shows the three devices")
    return a, alice1, alice2, bob1


def same_failure(org, first_code):
    check(org.code("alice", "wrongpw", "the-right-one").returncode == 0,
          "a code for the wrong-password case")
    wrong, _ = org.activate("alice", "wrongpw", "not-the-right-one")
    unknown_user, _ = org.activate("mallory", "wrongpw", "not-the-right-one")
    unknown_code, _ = org.activate("alice", "nosuchcode", "whatever")
    used, _ = org.activate("alice", first_code["code_id"],
                           first_code["password"])
    results = [(o.returncode, o.stdout) for o in
               (wrong, unknown_user, unknown_code, used)]
    check(results == [(1, REFUSED)] * 4,
          "wrong password, unknown user, unknown code and used code all "
          "fail the same way: %r" % results)


def bad_confirmation(org):
    check(org.code("alice", "tampered", "good-password").returncode == 0,
          "a code for the tampered confirmation")
    out, _ = org.activate("alice", "tampered", "good-password", tamper=True)
    check(out.returncode == 1 and out.stdout == "refused 5 activation failed\n",
          "a confirmP that does not verify: status 5, no certificate")
    out, _ = org.activate("alice", "tampered", "good-password")
    check(out.returncode == 0, "the code is still usable afterwards")


def start_limit(org):
    """A connection gets four exchanges, then must reconnect."""
    s = ws_connect(org.port)
    call(s, HELLO)
    body = opaque(b"mallory") + opaque(b"guess") + opaque(b"\x04" + bytes(64))
    for i in range(4):
        check(call(s, request(0x0101, body, 10 + i))[2] == 5,
              "exchange %d of one connection answered (status 5)" % (i + 1))
    s.sendall(frame(2, request(0x0101, body, 20)))
    check(expect_close(s) == 1008, "the fifth on one connection: close 1008")
    s.close()


def lockout(org):
    check(org.code("alice", "locked", "correct-horse").returncode == 0,
          "a code to lock")
    for i in range(5):
        out, _ = org.activate("alice", "locked", "wrong-%d" % i)
        check(out.stdout == REFUSED, "wrong attempt %d refused" % (i + 1))
    out, _ = org.activate("alice", "locked", "correct-horse")
    check(out.stdout == REFUSED, "after 5 failures the right password fails")
    con = sqlite3.connect("file:%s?mode=ro" % org.db, uri=True)
    attempts, used = con.execute(
        "SELECT attempts, used FROM activation_codes WHERE code_id = "
        "'locked'").fetchone()
    con.close()
    check(attempts == 6 and used == 0, "attempts counted, code not used")


def expiry(org):
    check(org.code("alice", "shortlived", "quick-one", ttl=1).returncode == 0,
          "a code valid for one second")
    time.sleep(2.1)
    out, _ = org.activate("alice", "shortlived", "quick-one")
    check(out.stdout == REFUSED, "an expired code fails")


class Relay:
    """A man in the middle that terminates TLS with its own certificate
    and opens its own TLS connection to the server."""

    def __init__(self, org):
        self.port = free_port()
        self.target = org.port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(org.dir + "/tls/server.crt",
                                 org.dir + "/tls/server.key")
        self.lsock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        conn, _ = self.lsock.accept()
        front = self.ctx.wrap_socket(conn, server_side=True)
        up_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        up_ctx.check_hostname = False
        up_ctx.verify_mode = ssl.CERT_NONE
        back = up_ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", self.target)),
            server_hostname="localhost")
        threading.Thread(target=self.pump, args=(back, front),
                         daemon=True).start()
        self.pump(front, back)

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass


def relay_detected(org):
    check(org.code("alice", "relayed", "via-relay").returncode == 0,
          "a code for the relay case")
    relay = Relay(org)
    out, _ = org.activate("alice", "relayed", "via-relay",
                          address="127.0.0.1:%d" % relay.port)
    check(out.stdout == REFUSED,
          "a TLS-terminating relay in the middle: activation fails")
    relay.lsock.close()


def revocation(org, alice2, bob1):
    hold = subprocess.Popen(
        [org.args.client, "hold", org.address, alice2 + "/device.crt",
         alice2 + "/device.key"], stdout=subprocess.PIPE, text=True)
    try:
        check(hold.stdout.readline().startswith("user=alice") and
              hold.stdout.readline() == "ready\n", "a device holds a session")
        device_id = open(alice2 + "/device_id").read().strip()
        org.ctl("device", "revoke", device_id)
        line = hold.stdout.readline()
        check(line == "closed 1008 device revoked\n",
              "revocation closes the live connection at once (%r)" % line)
    finally:
        hold.kill()
        hold.wait()
    out = whoami(org, alice2)
    check(out.returncode == 3,
          "the revoked device is refused at the handshake (%d %s%s)" % (
              out.returncode, out.stdout, out.stderr))
    org.ctl("device", "revoke", device_id, expect=1)
    org.ctl("user", "disable", "bob")
    check(whoami(org, bob1).returncode == 3,
          "a disabled user's device is refused at the handshake")
    devices = org.ctl("device", "list", "--user", "alice",
                      json_out=True)["devices"]
    check(sum(d["revoked"] for d in devices) == 1, "device list shows it")


def no_ca_key_in_memory(org):
    if not org.args.memscan:
        return
    key, pw = org.dir + "/ca/ca.key", org.dir + "/ca/passphrase"
    out = subprocess.run([org.args.memscan, "--pid", str(org.proc.pid),
                          "--ca-key", key, "--passphrase-file", pw],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0,
          "neither the CA key nor its passphrase is in bulwarkd's memory "
          "after issuing certificates: " + out.stdout.strip())
    monitor = [int(l.split()[-1]) for l in org.log().splitlines()
               if "CA monitor running as process" in l][0]
    out = subprocess.run([org.args.memscan, "--pid", str(monitor),
                          "--ca-key", key, "--passphrase-file", pw,
                          "--expect-key"], capture_output=True, text=True,
                         timeout=120)
    check(out.returncode == 0,
          "positive control: the monitor does hold the key: " +
          out.stdout.strip())


# OpenSSL 3.2 and later cache what 3.0 rebuilds: the providers stay.
BUILTIN = ssl.OPENSSL_VERSION_INFO < (3, 2)
METHODS_LOG = "openssl: EC and Ed25519 keys through its %s"


def provider_methods(args):
    with Org(args, tuning=TEST_TUNING +
             "openssl_key_methods = providers\n") as org:
        org.start()
        check(METHODS_LOG % "providers" in org.log(),
              "openssl_key_methods = providers: logged")
        org.ctl("user", "add", "carol")
        check(org.code("carol", "one", "pw-carol-1").returncode == 0,
              "an activation code")
        out, dev = org.activate("carol", "one", "pw-carol-1")
        check(out.returncode == 0 and whoami(org, dev).returncode == 0,
              "with the providers' key methods a device activates and "
              "logs in")
        check(org.stop() == 0, "clean stop")
    with Org(args, tuning=TEST_TUNING +
             "openssl_key_methods = fast\n") as org:
        out = subprocess.run([args.bulwarkd, "-c", org.conf],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 1 and "openssl_key_methods" in out.stderr,
              "another value of openssl_key_methods is refused")


def main_test(args):
    with Org(args) as org:
        org.start()
        check(METHODS_LOG % ("built-in methods" if BUILTIN else "providers")
              in org.log(), "the key methods in use are logged")
        for user in ("alice", "bob"):
            org.ctl("user", "add", user)
        first, alice1, alice2, bob1 = successes(org)
        devices_before = org.ctl("device", "list", json_out=True)
        same_failure(org, first)
        bad_confirmation(org)
        start_limit(org)
        lockout(org)
        expiry(org)
        relay_detected(org)
        devices = org.ctl("device", "list", json_out=True)["devices"]
        check(len(devices) == len(devices_before["devices"]) + 1,
              "no failure added or changed a device (one more success)")
        no_ca_key_in_memory(org)
        revocation(org, alice2, bob1)
        check(whoami(org, alice1).returncode == 0,
              "alice's other device still logs in")
        audit = org.dump()
        check("refused: code locked" in audit and
              "refused: code expired" in audit and
              "refused: unknown user or code" in audit,
              "refusals are in the audit log, with their reason")
        check(org.stop() == 0, "clean stop")


if __name__ == "__main__":
    run([main_test, provider_methods])
