#!/usr/bin/env python3
"""The device side end to end, with real processes only: a real bulwarkd,
the administrator's real `bulwarkctl` and the device's real `bulwark`.

Devices activate from the values `bulwarkctl device activate` prints (as
text, as flags), from the QR code's URI, and from the URI on standard input;
each logs in with mutual TLS (`bulwark status`); `bulwarkctl device list`
shows them. A wrong password, an unknown user and an unknown code fail with
one and the same error; the fifth failure locks a code; expired and used
codes fail; a wrong CA fingerprint and a relay that terminates TLS are
detected; revocation refuses the device at the handshake and closes its
live connection; an impostor server is refused by the pinned CA.

The `bulwark` program comes from the environment (BULWARK_CLI, set by
CTest). Keystores here are made with the test-only low scrypt cost
(BULWARK_TEST_KEYSTORE_LOG2_N, docs/internals/keystore.md), so the suite
runs in seconds; the SPAKE2+ costs are the real defaults of bulwarkctl.
"""
import json
import os
import re
import socket
import sqlite3
import ssl
import stat
import subprocess
import tempfile
import threading
import time

from harness import Failure, Org, check, free_port, run
from test_activation import Relay

BULWARK = os.environ.get("BULWARK_CLI", "")
os.environ["BULWARK_TEST_KEYSTORE_LOG2_N"] = "10"

REFUSED = -706      # BULWARK_ERR_ACTIVATION_REFUSED
CA_MISMATCH = -707  # BULWARK_ERR_CA_MISMATCH
UNREACHABLE = -642  # BULWARK_ERR_UNREACHABLE
REVOKED = -647      # BULWARK_ERR_DEVICE_REVOKED
SERVER_CERT = -645  # BULWARK_ERR_SERVER_CERT
EXISTS = -605       # BULWARK_ERR_KS_EXISTS


class Device:
    """One device: its own home directory and keystore passphrase."""

    def __init__(self, org, name):
        self.org = org
        self.name = name
        self.home = tempfile.mkdtemp(dir=org.tmp, prefix="device_")
        os.rmdir(self.home)  # `bulwark activate` makes it, 0700
        self.passfile = os.path.join(org.tmp, name + ".pass")
        with open(self.passfile, "w") as f:
            f.write("passphrase of %s\n" % name)
        self.device_id = None

    def run(self, *argv, json_out=False, stdin=None, expect=None):
        cmd = [BULWARK] + list(argv) + ["--home", self.home,
                                        "--passphrase-file", self.passfile]
        if json_out:
            cmd.append("--json")
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=60, input=stdin)
        if expect is not None and out.returncode != expect:
            raise Failure("%s -> %d\n%s%s" % (
                " ".join(cmd), out.returncode, out.stdout, out.stderr))
        if json_out:
            out.json = json.loads(out.stdout) if out.stdout else None
        return out

    def activate(self, *values, stdin=None):
        """`bulwark activate VALUES --name NAME --json`."""
        out = self.run("activate", *values, "--name", self.name,
                       json_out=True, stdin=stdin)
        if out.returncode == 0:
            self.device_id = out.json["activation"]["device_id"]
        return out

    def status(self):
        return self.run("status", json_out=True)

    def keystore(self):
        return os.path.join(self.home, "keystore")


def error_of(out):
    """(exit status, error code, message) of a failed --json run."""
    err = out.json["error"] if out.json else {}
    return out.returncode, err.get("code"), err.get("message")


def printed_values(org, user):
    """`bulwarkctl device activate USER` as a person reads it."""
    text = org.ctl("device", "activate", user).stdout
    values = {}
    for key, pattern in (("server", r"^\s+server\s+(\S+)$"),
                         ("code", r"^\s+code\s+(\S+)$"),
                         ("password", r"^\s+password\s+(\S+)$"),
                         ("ca", r"^\s+CA \(SHA-256\)\s+(\S+)$"),
                         ("uri", r"^(bulwark://activate\?\S+)$")):
        m = re.search(pattern, text, re.M)
        if not m:
            raise Failure("no %s in:\n%s" % (key, text))
        values[key] = m.group(1)
    return values


def flags(v, user, password=None, ca=None):
    return ["--server", v["server"], "--user", user, "--code", v["code"],
            "--password", password or v["password"], "--ca", ca or v["ca"]]


def activations(org):
    org.ctl("user", "add", "alice")
    org.ctl("user", "add", "bob")
    laptop, phone, desk = (Device(org, n) for n in
                           ("alice-laptop", "alice-phone", "bob-desk"))

    v = printed_values(org, "alice")
    check("-" in v["password"] and ":" in v["ca"],
          "bulwarkctl prints a grouped password and a colon fingerprint")
    out = laptop.activate(*flags(v, "alice"))
    check(out.returncode == 0 and out.json["activation"]["user"] == "alice",
          "alice's laptop activates from the printed values " +
          out.stderr.strip())
    check(v["password"].replace("-", "") not in out.stdout + out.stderr,
          "the password is not printed back")
    mode = stat.S_IMODE(os.stat(laptop.home).st_mode)
    kmode = stat.S_IMODE(os.stat(laptop.keystore()).st_mode)
    check(mode == 0o700 and kmode == 0o600,
          "home 0700, keystore 0600 (%o, %o)" % (mode, kmode))
    with open(laptop.keystore(), "rb") as f:
        sealed = f.read()
    check(sealed.startswith(b"BWKS") and b"alice" not in sealed and
          b"BEGIN" not in sealed, "the keystore is sealed")

    v2 = printed_values(org, "alice")
    out = phone.activate(v2["uri"])
    check(out.returncode == 0, "alice's phone activates from the QR URI")

    v3 = printed_values(org, "bob")
    out = desk.activate("-", stdin=v3["uri"] + "\n")
    check(out.returncode == 0,
          "bob's desk activates from the URI on standard input")

    for dev, user in ((laptop, "alice"), (phone, "alice"), (desk, "bob")):
        out = dev.status()
        st = out.json["status"] if out.returncode == 0 else {}
        check(st.get("user") == user and
              st.get("device_id") == dev.device_id and
              st.get("device_name") == dev.name and
              st.get("server_name") == "localhost" and
              st.get("mls_suite") == 1 and
              st.get("certificate_expires", "").endswith("Z"),
              "%s logs in with mutual TLS: %s" % (dev.name,
                                                  out.stdout.strip()))
    text = laptop.run("status", expect=0).stdout
    check("mutual TLS" in text and laptop.device_id in text and
          v["ca"] in text, "bulwark status as text shows device and CA")

    listed = org.ctl("device", "list", json_out=True)["devices"]
    check(sorted((d["user"], d["name"], d["id"]) for d in listed) ==
          sorted([("alice", "alice-laptop", laptop.device_id),
                  ("alice", "alice-phone", phone.device_id),
                  ("bob", "bob-desk", desk.device_id)]),
          "bulwarkctl device list shows the three devices")

    out = laptop.activate(v2["uri"])
    check(error_of(out)[:2] == (1, EXISTS),
          "an activated device is not activated over: %s" % out.stdout)
    return v, laptop, phone, desk


def one_refusal(org, used):
    """Wrong password, unknown user, unknown or used code: one error."""
    v = printed_values(org, "alice")
    wrong_pw = Device(org, "wrong-pw").activate(
        *flags(v, "alice", password="ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
    no_user = Device(org, "no-user").activate(*flags(v, "mallory"))
    no_code = Device(org, "no-code").activate(
        *flags(dict(v, code="nosuchcode"), "alice"))
    used_code = Device(org, "used").activate(*flags(used, "alice"))
    results = [error_of(o) for o in (wrong_pw, no_user, no_code, used_code)]
    check(all(r == results[0] for r in results) and
          results[0][:2] == (1, REFUSED),
          "wrong password, unknown user, unknown code and used code fail "
          "alike: %r" % (results[0],))
    text = Device(org, "text").run(
        "activate", *flags(v, "alice", password="ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
    check(text.returncode == 1 and "activation refused" in text.stderr and
          "ZZZZ" not in text.stderr, "as text: " + text.stderr.strip())
    failed = [d for d in os.listdir(org.tmp) if d.startswith("device_")
              and os.path.exists(os.path.join(org.tmp, d, "keystore"))]
    check(len(failed) == 3, "no keystore is left by a failure")
    return v


def lockout(org):
    v = printed_values(org, "alice")
    dev = Device(org, "locked")
    for i in range(5):
        out = dev.activate(*flags(v, "alice", password="WRNG-%04d" % i))
        check(error_of(out)[1] == REFUSED, "wrong attempt %d refused" % (i + 1))
    out = dev.activate(*flags(v, "alice"))
    check(error_of(out)[1] == REFUSED,
          "after five failures the right password fails too")


def expiry(org):
    text = org.ctl("device", "activate", "alice", "--ttl", "1s").stdout
    uri = re.search(r"^(bulwark://activate\?\S+)$", text, re.M).group(1)
    time.sleep(2.1)
    out = Device(org, "late").activate(uri)
    check(error_of(out)[1] == REFUSED, "an expired code fails")


def interception(org):
    v = printed_values(org, "alice")
    dev = Device(org, "intercepted")
    ca = v["ca"].replace(":", "")
    bad_ca = "%02X" % (int(ca[:2], 16) ^ 0xFF) + ca[2:]  # differs always
    out = dev.activate(*flags(v, "alice", ca=bad_ca))
    check(error_of(out)[:2] == (1, CA_MISMATCH) and
          "possible interception" in error_of(out)[2],
          "a CA fingerprint that does not match is refused: %s" %
          (error_of(out),))

    # A relay with the server's own TLS key and the CA in its chain: the
    # fingerprint matches; SPAKE2+ bound to the TLS exporter does not.
    relay = Relay(org)
    chain = os.path.join(org.tmp, "chain.pem")
    with open(chain, "w") as f:
        for part in ("tls/server.crt", "ca/ca.crt"):
            with open(os.path.join(org.dir, part)) as src:
                f.write(src.read())
    relay.ctx.load_cert_chain(chain, os.path.join(org.dir, "tls/server.key"))
    relayed = dict(v, server="127.0.0.1:%d" % relay.port)
    out = dev.activate(*flags(relayed, "alice"))
    relay.lsock.close()
    check(error_of(out)[1] == REFUSED,
          "a TLS-terminating relay in the middle: activation refused")
    # A relay that shows only the server's certificate: no such CA.
    relay = Relay(org)
    relayed = dict(v, server="127.0.0.1:%d" % relay.port)
    out = dev.activate(*flags(relayed, "alice"))
    relay.lsock.close()
    check(error_of(out)[1] == CA_MISMATCH,
          "a relay without the organisation's CA: CA mismatch")

    out = dev.activate(*flags(dict(v, server="127.0.0.1:%d" % free_port()),
                              "alice"))
    check(error_of(out)[:2] == (1, UNREACHABLE) and
          "cannot reach the server" in error_of(out)[2],
          "a server that is not there: unreachable")
    con = sqlite3.connect("file:%s?mode=ro" % org.db, uri=True)
    attempts, used = con.execute(
        "SELECT attempts, used FROM activation_codes WHERE code_id = ?",
        (v["code"],)).fetchone()
    con.close()
    check((attempts, used) == (1, 0),
          "only the relayed exchange reached the server: a CA mismatch "
          "sends nothing (attempts %d)" % attempts)
    out = dev.activate(*flags(v, "alice"))
    check(out.returncode == 0, "the code still activates afterwards")


def revocation(org, laptop, phone, desk):
    hold = subprocess.Popen(
        [org.args.client, "hold-device", phone.keystore(), phone.passfile],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        check(hold.stdout.readline().startswith("user=alice") and
              hold.stdout.readline() == "ready\n",
              "alice's phone holds a session (libbulwark, mutual TLS)")
        org.ctl("device", "revoke", phone.device_id)
        line = hold.stdout.readline()
        check(line == "closed 1008 device revoked\n",
              "revocation closes the live connection at once (%r)" % line)
        hold.wait(20)
        check("this device was revoked" in hold.stderr.read(),
              "and libbulwark says why")
    finally:
        hold.kill()
        hold.wait()
    out = phone.status()
    check(error_of(out)[:2] == (1, REVOKED),
          "the revoked phone is refused at the handshake: %s" %
          (error_of(out),))
    out = phone.run("status")
    check("this device was revoked" in out.stderr,
          "as text: " + out.stderr.strip())
    check(laptop.status().returncode == 0, "alice's laptop still logs in")
    org.ctl("user", "disable", "bob")
    check(error_of(desk.status())[1] == REVOKED,
          "a disabled user's device is refused")


def local_errors(org, laptop):
    wrong = os.path.join(org.tmp, "wrong.pass")
    with open(wrong, "w") as f:
        f.write("not the passphrase\n")
    out = subprocess.run([BULWARK, "status", "--home", laptop.home,
                          "--passphrase-file", wrong],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 1 and "wrong passphrase" in out.stderr,
          "a wrong keystore passphrase: " + out.stderr.strip())
    out = Device(org, "fresh").run("status")
    check(out.returncode == 1 and "not activated" in out.stderr,
          "status before activation: " + out.stderr.strip())
    out = subprocess.run([BULWARK, "activate", "bulwark://nope"],
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, BULWARK_HOME=org.tmp + "/h"))
    check(out.returncode == 1 and "not an activation URI" in out.stderr,
          "a malformed URI: " + out.stderr.strip())
    for argv in (["--help"], ["activate", "--help"], ["status", "--help"]):
        out = subprocess.run([BULWARK] + argv, capture_output=True,
                             text=True, timeout=60)
        check(out.returncode == 0 and "usage: bulwark" in out.stdout,
              "bulwark %s" % " ".join(argv))


def impostor(org, laptop):
    """Another server at the same address, with a certificate of its own
    for the same name: the pinned CA refuses it."""
    key, cert = (os.path.join(org.tmp, n) for n in ("fake.key", "fake.crt"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.create_server(("127.0.0.1", org.port))

    def serve():
        try:
            conn, _ = lsock.accept()
            ctx.wrap_socket(conn, server_side=True).close()
        except (OSError, ssl.SSLError):
            pass

    threading.Thread(target=serve, daemon=True).start()
    out = laptop.status()
    lsock.close()
    check(error_of(out)[:2] == (1, SERVER_CERT),
          "an impostor server is refused by the pinned CA: %s" %
          (error_of(out),))


def main_test(args):
    if not BULWARK:
        raise Failure("BULWARK_CLI is not set")
    with Org(args) as org:
        org.start()
        first, laptop, phone, desk = activations(org)
        one_refusal(org, first)
        lockout(org)
        expiry(org)
        interception(org)
        revocation(org, laptop, phone, desk)
        local_errors(org, laptop)
        check(org.stop() == 0, "clean stop")
        impostor(org, laptop)


if __name__ == "__main__":
    run([main_test])
