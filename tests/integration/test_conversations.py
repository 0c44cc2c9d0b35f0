#!/usr/bin/env python3
"""Conversations end to end, with real processes only: a real bulwarkd,
the administrator's bulwarkctl and each device's own `bulwark`.

Alice (two devices, a third later), Bob and Carol, on one organisation:

1. Alice creates a conversation with Bob and Carol; messages flow in every
   direction and every device has every message, in one order.
2. Bob is offline while 100 messages are sent; he receives each once.
3. bulwarkd is killed with SIGKILL while Alice streams messages and Bob
   listens; restarted, no acknowledged message is lost or duplicated.
4. Alice's third device, activated later, joins her conversations by
   external commit and reads what follows.
5. Carol is removed and sees nothing sent after; a revoked device is
   removed from every conversation it was in (the server proposes, a
   member commits).
6. Two members commit in the same epoch: one wins, the other catches up
   and succeeds on retry; no member forks (epoch authenticators agree).
7. Key packages: claims bring a device below the server's low-water mark;
   its listener is told (KP_LOW) and tops the stock up.
8. Hostile input through the device path: unknown users and
   conversations, a removed member, control sequences in messages;
   nothing the server stores changes.
9. No backdoor: a canary sent in the messages is nowhere in the server's
   data directory, its logs or a capture of its traffic; no key the server
   holds opens a Welcome (a real HPKE open, checked on RFC 9180 vectors).

The `bulwark` program comes from BULWARK_CLI (set by CTest); keystores use
the test-only low scrypt cost (docs/internals/keystore.md).
"""
import json
import os
import re
import secrets
import select
import shutil
import signal
import sqlite3
import subprocess
import time

from harness import Failure, Org, check, opaque, run

BULWARK = os.environ.get("BULWARK_CLI", "")
VECTORS = os.environ.get("BULWARK_VECTORS_DIR", "")
os.environ["BULWARK_TEST_KEYSTORE_LOG2_N"] = "10"

CANARY = "CANARY-" + secrets.token_hex(12)

UNKNOWN_USER = -692       # BULWARK_ERR_UNKNOWN_USER
NO_CONVERSATION = -780    # BULWARK_ERR_NO_CONVERSATION
CONV_INACTIVE = -782      # BULWARK_ERR_CONV_INACTIVE
ALREADY_MEMBER = -791     # BULWARK_ERR_ALREADY_MEMBER
REMOVE_SELF = -789        # BULWARK_ERR_REMOVE_SELF


class Device:
    """One device of a user: its own home, keystore and passphrase."""

    def __init__(self, org, user, name):
        self.org = org
        self.user = user
        self.name = name
        self.home = os.path.join(org.tmp, "home-" + name)
        self.passfile = os.path.join(org.tmp, name + ".pass")
        with open(self.passfile, "w") as f:
            f.write("passphrase of %s\n" % name)
        self.device_id = None

    def argv(self, *args):
        return [BULWARK] + list(args) + ["--home", self.home,
                                         "--passphrase-file", self.passfile,
                                         "--json"]

    def run(self, *args, stdin=None, expect=0, timeout=120):
        out = subprocess.run(self.argv(*args), capture_output=True,
                             text=True, timeout=timeout, input=stdin)
        if expect is not None and out.returncode != expect:
            raise Failure("%s %s -> %d\n%s%s" % (
                self.name, " ".join(args), out.returncode, out.stdout,
                out.stderr))
        lines = [json.loads(l) for l in out.stdout.splitlines() if l]
        out.json = lines[-1] if lines else None
        out.lines = lines
        return out

    def activate(self):
        text = self.org.ctl("device", "activate", self.user).stdout
        uri = re.search(r"^(bulwark://activate\?\S+)$", text, re.M).group(1)
        out = self.run("activate", uri, "--name", self.name)
        self.device_id = out.json["activation"]["device_id"]
        return self

    def error(self, *args, stdin=None):
        """(code, message) of a command that must fail."""
        out = self.run(*args, stdin=stdin, expect=1)
        return out.json["error"]["code"], out.json["error"]["message"]

    def recv(self):
        return self.run("recv").json["messages"]

    def send(self, chat, text):
        return self.run("send", chat, text).json["sent"]

    def history(self, chat, offline=False):
        args = ["history", chat] + (["--offline"] if offline else [])
        return self.run(*args).json["history"]["messages"]

    def chats(self, offline=False):
        args = ["chat", "list"] + (["--offline"] if offline else [])
        return self.run(*args).json["conversations"]

    def chat(self, conv_id, offline=False):
        for c in self.chats(offline):
            if c["id"] == conv_id:
                return c
        raise Failure("%s does not have conversation %s" % (self.name,
                                                            conv_id[:8]))


def members(conv):
    return sorted((m["user"], m["device_id"]) for m in conv["members"])


def texts(msgs):
    return [(m["seq"], m["user"], m["text"]) for m in msgs
            if m["kind"] == "text"]


def same_view(devices, conv_id, what):
    """Every device is in the same epoch with the same members and the
    same epoch authenticator (RFC 9420 §8.7): nobody forked."""
    views = [d.chat(conv_id) for d in devices]
    first = views[0]
    check(all(v["epoch"] == first["epoch"] and
              v["epoch_authenticator"] == first["epoch_authenticator"] and
              members(v) == members(first) for v in views),
          "%s: %d devices agree on epoch %d, its authenticator and %d "
          "members" % (what, len(devices), first["epoch"],
                       len(first["members"])))
    return first


# ---- the scenarios ----

def conversation_flows(org, a1, a2, b1, c1):
    out = a1.run("chat", "create", "--with", "bob,carol", "--name", "team")
    team = out.json["created"]
    check(team["name"] == "team" and members(team) == sorted(
        [("alice", a1.device_id), ("alice", a2.device_id),
         ("bob", b1.device_id), ("carol", c1.device_id)]),
        "alice creates 'team' with every device of bob, carol and her own "
        "other device, in one commit (epoch %d)" % team["epoch"])
    for d in (a2, b1, c1):
        got = d.recv()
        check(any(m["kind"] == "title" and m["text"] == "team"
                  for m in got),
              "%s joins from its Welcome and learns the name" % d.name)
    same_view([a1, a2, b1, c1], team["id"], "after the Welcome")

    sent, senders = [], []
    for d in (a1, b1, c1, a2, b1, a1):
        text = "hello from %s %s" % (d.name, CANARY)
        sent.append((d.send("team", text)["seq"], d.user, text))
        senders.append(d)
    everyone = [a1, a2, b1, c1]
    for d in everyone:
        got = [(m["seq"], m["user"], m["text"]) for m in d.recv()]
        others = [s for s, by in zip(sent, senders) if by is not d]
        check(got == others,
              "%s receives every other device's message once, in order"
              % d.name)
    histories = [texts(d.history("team", offline=True)) for d in everyone]
    check(all(h == sorted(sent) for h in histories),
          "every device holds the same %d messages, in the server's order, "
          "each decrypted" % len(sent))
    short = team["short_id"]
    check(texts(b1.history(short, offline=True)) == sorted(sent),
          "a conversation is also named by its short id")
    return team


def offline_backlog(org, a1, b1, team):
    lines = ["backlog %03d %s" % (i, CANARY) for i in range(100)]
    out = a1.run("send", "team", "--lines", stdin="\n".join(lines) + "\n")
    seqs = [l["sent"]["seq"] for l in out.lines]
    check(len(seqs) == 100 and seqs == sorted(seqs) and
          len(set(seqs)) == 100,
          "alice sends 100 messages while bob is offline")
    got = [m for m in b1.recv() if m["text"].startswith("backlog ")]
    check([m["text"] for m in got] == lines and
          [m["seq"] for m in got] == seqs,
          "bob comes back and receives all 100, once each, in order")
    again = b1.recv()
    check(again == [], "nothing is received twice (%d)" % len(again))
    hist = [m["text"] for m in b1.history("team", offline=True)]
    check(all(hist.count(l) == 1 for l in lines),
          "bob's history holds each of the 100 exactly once")


def restart(org):
    """Start bulwarkd again on the same data directory and port."""
    os.replace(org.log_path, org.log_path + ".%d" % time.time_ns())
    org.start()


def sigkill_mid_stream(org, a1, b1, team):
    listener = subprocess.Popen(b1.argv("listen"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    shown = Output(listener)
    time.sleep(0.5)
    sender = subprocess.Popen(a1.argv("send", "team", "--lines",
                                      "--timeout", "30"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    lines = ["stream %03d %s" % (i, CANARY) for i in range(40)]
    for i, line in enumerate(lines):
        if i == 20:
            time.sleep(0.3)
            org.proc.send_signal(signal.SIGKILL)
            org.proc.wait()
            org.proc = None
            time.sleep(0.5)
            restart(org)
        sender.stdin.write(line + "\n")
        sender.stdin.flush()
        time.sleep(0.02)
    out, err = sender.communicate(timeout=90)  # closes its input
    acked = [json.loads(l)["sent"]["seq"] for l in out.splitlines() if l]
    check(sender.returncode == 0 and len(acked) == len(lines),
          "the sender rides out the SIGKILL: all %d messages acknowledged "
          "(%s)" % (len(lines), err.strip()[-200:]))
    sent = dict(zip(acked, lines))

    def all_shown(objects):
        texts_ = [o["message"]["text"] for o in objects]
        return all(line in texts_ for line in lines)

    shown.until(all_shown, time.time() + 30)
    lerr = shown.finish(30)
    streamed = [o["message"]["text"] for o in shown.objects
                if o["message"]["text"].startswith("stream ")]
    check(listener.returncode == 0 and
          sorted(streamed) == sorted(lines),
          "bob's listener, reconnecting by itself, shows each acknowledged "
          "message once (%d of %d) %s" % (len(streamed), len(lines),
                                          lerr.strip()[-200:]))
    hist = b1.history("team")
    by_seq = {m["seq"]: m["text"] for m in hist}
    check(all(by_seq.get(seq) == text for seq, text in sent.items()) and
          sum(1 for m in hist if m["text"].startswith("stream ")) ==
          len(lines),
          "every acknowledged (seq, message) is stored once at bob")


class Output:
    """A running process's standard output, one JSON object a line, read
    from the pipe as it comes (no buffering between the pipe and us)."""

    def __init__(self, proc):
        self.proc = proc
        self.fd = proc.stdout.fileno()
        self.buf = b""
        self.objects = []

    def read(self, timeout):
        """False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        data = os.read(self.fd, 65536)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        self.objects += [json.loads(l) for l in lines if l]
        return bool(data)

    def until(self, done, deadline):
        while not done(self.objects) and time.time() < deadline:
            if not self.read(0.2):
                break

    def finish(self, timeout):
        self.proc.send_signal(signal.SIGINT)
        deadline = time.time() + timeout
        while time.time() < deadline and self.read(0.2):
            pass
        self.proc.wait(timeout)
        return self.proc.stderr.read().decode(errors="replace")


def third_device(org, a1, a2, b1, c1, team):
    a3 = Device(org, "alice", "alice-3").activate()
    before = a3.recv()
    conv = a3.chat(team["id"])
    check(("alice", a3.device_id) in members(conv) and conv["active"],
          "alice's third device joins 'team' by external commit")
    check(before == [] and a3.history(team["short_id"], offline=True) == [],
          "it sees nothing sent before it joined")
    text = "welcome a3 " + CANARY
    seq = a1.send("team", text)["seq"]
    got = a3.recv()
    check([(m["seq"], m["text"]) for m in got] == [(seq, text)],
          "and reads what is sent after")
    for d in (a2, b1, c1):
        d.recv()
    same_view([a1, a2, a3, b1, c1], team["id"], "after the external join")
    return a3


def removal_and_revocation(org, a1, a2, a3, b1, c1, team):
    out = a1.run("chat", "remove", "team", "carol")
    check(("carol", c1.device_id) not in members(out.json["removed"]),
          "alice removes carol (every device of hers)")
    secret = "after carol left " + CANARY
    a1.send("team", secret)
    c1.recv()
    conv = c1.chat(team["id"], offline=True)
    check(not conv["active"],
          "carol's device knows it was removed")
    check(all(m["text"] != secret for m in c1.history(team["id"],
                                                      offline=True)),
          "carol's device holds nothing sent after the removal")
    code, _ = c1.error("send", "team", "still here?")
    check(code == CONV_INACTIVE, "carol's device cannot send to it")

    # Bob's second device joins by external commit, is in two
    # conversations, and is revoked.
    b2 = Device(org, "bob", "bob-2").activate()
    out = a1.run("chat", "create", "--with", "bob", "--name", "pair")
    pair = out.json["created"]
    b2.recv()
    check(all(("bob", b2.device_id) in members(b2.chat(c["id"]))
              for c in (team, pair)),
          "bob's second device is in 'team' (external commit) and 'pair' "
          "(Welcome)")
    for d in (a2, a3, b1):
        d.recv()
    org.ctl("device", "revoke", b2.device_id)
    # Every member that comes online commits the server's Remove
    # proposals; the first commit wins, the others catch up.
    for d in (b1, a1, a2, a3, b1):
        d.recv()
    for c in (team, pair):
        devices = [a1, a2, a3, b1]
        view = same_view(devices, c["id"], "after the revocation")
        check(("bob", b2.device_id) not in members(view),
              "the revoked device is removed from '%s'" % c["name"])


def concurrent_commits(org, a1, a2, a3, b1, team):
    org.ctl("user", "add", "dave")
    org.ctl("user", "add", "erin")
    d1 = Device(org, "dave", "dave-1").activate()
    e1 = Device(org, "erin", "erin-1").activate()
    stale = b1.chat(team["id"], offline=True)["epoch"]
    out = a1.run("chat", "add", "team", "dave")
    won = out.json["added"]["epoch"]
    check(won == stale + 1, "alice's commit wins epoch %d" % stale)
    # Bob has not seen it: his commit is for the same epoch.
    out = b1.run("chat", "add", "team", "erin")
    view = out.json["added"]
    check(view["epoch"] == won + 1 and
          ("dave", d1.device_id) in members(view) and
          ("erin", e1.device_id) in members(view),
          "bob's commit for epoch %d is refused as stale; he catches up "
          "and succeeds on retry (epoch %d)" % (stale, view["epoch"]))
    for d in (a1, a2, a3, d1, e1):
        d.recv()
    same_view([a1, a2, a3, b1, d1, e1], team["id"], "after the race")
    return d1, e1


def stock(org, device):
    """Unclaimed key packages of a device at the server (its database)."""
    con = sqlite3.connect("file:%s?mode=ro" % org.db, uri=True)
    try:
        return con.execute(
            "SELECT count(*) FROM key_packages WHERE device = ? AND"
            " last_resort = 0 AND claimed = 0", (device.device_id,)
        ).fetchone()[0]
    finally:
        con.close()


def key_package_top_up(org, a1, e1):
    full = stock(org, e1)
    listener = subprocess.Popen(e1.argv("listen"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    shown = Output(listener)
    for i in range(full - 9):
        a1.run("chat", "create", "--with", "erin", "--name", "kp-%d" % i)
    shown.until(lambda _: stock(org, e1) == 20, time.time() + 20)
    now = stock(org, e1)
    err = shown.finish(20)
    check(listener.returncode == 0 and now == 20,
          "claims bring erin's stock from %d below the low-water mark of 10; "
          "her listening device is told (KP_LOW) and tops it up to twice "
          "the mark: %d %s" % (full, now, err.strip()[-200:]))
    titles = [o["message"]["text"] for o in shown.objects
              if o["message"]["kind"] == "title"]
    check(sorted(titles) == sorted("kp-%d" % i for i in range(full - 9)),
          "and joins each conversation as it is created")


def hostile_input(org, a1, b1, c1, team):
    for d in (a1, c1):
        d.recv()
    epoch = a1.chat(team["id"], offline=True)["epoch"]
    before = org.dump()
    code, _ = a1.error("chat", "create", "--with", "mallory")
    check(code == UNKNOWN_USER,
          "a conversation with an unknown user is refused")
    code, _ = a1.error("chat", "add", "team", "mallory")
    check(code == UNKNOWN_USER, "adding an unknown user is refused")
    code, _ = a1.error("chat", "add", "team", "bob")
    check(code == ALREADY_MEMBER, "adding a member again is refused")
    code, _ = a1.error("chat", "remove", "team", "alice")
    check(code == REMOVE_SELF, "a device cannot remove its own user")
    code, _ = c1.error("send", "pair", "let me in")
    check(code == NO_CONVERSATION,
          "carol cannot send to a conversation she is not in")
    check(org.dump() == before, "the server stored nothing for them")
    check(a1.chat(team["id"])["epoch"] == epoch,
          "nothing changed the conversation")
    b1.send("team", "\x1b[2J\x1b]0;pwned\x07 red text")
    out = subprocess.run([BULWARK, "recv", "--home", a1.home,
                          "--passphrase-file", a1.passfile],
                         capture_output=True, timeout=60)
    check(out.returncode == 0 and b"\x1b" not in out.stdout and
          b"\x07" not in out.stdout and b"red text" in out.stdout,
          "control sequences in a message never reach the terminal")


# ---- no backdoor ----

def hpke_open(sk_raw, enc, info, aad, ct):
    """RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
    AES-128-GCM: the open of suite 1's Welcome secrets (RFC 9420 §12.4.3.1).
    Raises on failure."""
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.hazmat.primitives.serialization import (Encoding,
                                                              PublicFormat)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    def extract(salt, ikm):
        h = hmac.HMAC(salt or b"\0" * 32, hashes.SHA256())
        h.update(ikm)
        return h.finalize()

    def expand(prk, info_, n):
        out, t, i = b"", b"", 1
        while len(out) < n:
            h = hmac.HMAC(prk, hashes.SHA256())
            h.update(t + info_ + bytes([i]))
            t = h.finalize()
            out += t
            i += 1
        return out[:n]

    def labeled_extract(suite, salt, label, ikm):
        return extract(salt, b"HPKE-v1" + suite + label + ikm)

    def labeled_expand(suite, prk, label, info_, n):
        return expand(prk, n.to_bytes(2, "big") + b"HPKE-v1" + suite +
                      label + info_, n)

    kem = b"KEM" + (0x20).to_bytes(2, "big")
    sk = x25519.X25519PrivateKey.from_private_bytes(sk_raw)
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    dh = sk.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
    eae = labeled_extract(kem, b"", b"eae_prk", dh)
    shared = labeled_expand(kem, eae, b"shared_secret", enc + pk, 32)
    suite = b"HPKE" + bytes([0, 0x20, 0, 1, 0, 1])
    ctx = (bytes([0]) + labeled_extract(suite, b"", b"psk_id_hash", b"") +
           labeled_extract(suite, b"", b"info_hash", info))
    secret = labeled_extract(suite, shared, b"secret", b"")
    key = labeled_expand(suite, secret, b"key", ctx, 16)
    nonce = labeled_expand(suite, secret, b"base_nonce", ctx, 12)
    return AESGCM(key).decrypt(nonce, ct, aad)


def hpke_self_test():
    """The open above is right: it opens the RFC 9180 vectors of the
    suite, so its failing on the server's keys means something."""
    with open(os.path.join(VECTORS, "hpke", "test-vectors.json")) as f:
        vectors = json.load(f)
    n = 0
    for v in vectors:
        if (v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]) != \
                (0, 0x20, 1, 1):
            continue
        e = v["encryptions"][0]
        pt = hpke_open(bytes.fromhex(v["skRm"]), bytes.fromhex(v["enc"]),
                       bytes.fromhex(v["info"]), bytes.fromhex(e["aad"]),
                       bytes.fromhex(e["ct"]))
        check(pt == bytes.fromhex(e["pt"]), "hpke_open opens the RFC 9180 "
              "vector of DHKEM(X25519)/HKDF-SHA256/AES-128-GCM")
        n += 1
    check(n > 0, "the vectors hold the suite")


def read_vec(b, i):
    """opaque<V> at b[i:], RFC 9420 §2.1.2: (value, next index)."""
    first = b[i]
    size = 1 << (first >> 6)
    n = first & 0x3F
    for k in range(1, size):
        n = (n << 8) | b[i + k]
    return b[i + size:i + size + n], i + size + n


def welcome_secrets(blob):
    """The (kem_output, ciphertext, info) of each EncryptedGroupSecrets of
    an MLSMessage(Welcome) (RFC 9420 §12.4.3.1), or [] if it is not one."""
    if len(blob) < 8 or blob[:4] != b"\x00\x01\x00\x03":
        return []
    try:
        i = 6  # version, wire_format, cipher_suite
        secrets_vec, i = read_vec(blob, i)
        group_info, i = read_vec(blob, i)
        out, j = [], 0
        while j < len(secrets_vec):
            _, j = read_vec(secrets_vec, j)          # KeyPackageRef
            kem_output, j = read_vec(secrets_vec, j)
            ct, j = read_vec(secrets_vec, j)
            # EncryptContext of EncryptWithLabel(..., "Welcome", egi)
            info = opaque(b"MLS 1.0 Welcome") + opaque(group_info)
            out.append((kem_output, ct, info))
        return out if i == len(blob) else []
    except IndexError:
        return []


def server_keys(datadir):
    """Every private key in the data directory, as raw scalars, with its
    type: PEM keys (the CA key opened with its passphrase file) and every
    32-byte value in the database, tried as a raw key as well."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    keys = []
    passphrase = None
    pp = os.path.join(datadir, "ca", "passphrase")
    if os.path.exists(pp):
        with open(pp, "rb") as f:
            passphrase = f.read().split(b"\n")[0]
    for root, _, files in os.walk(datadir):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            if b"PRIVATE KEY-----" not in data:
                continue
            pw = passphrase if b"ENCRYPTED" in data else None
            k = serialization.load_pem_private_key(data, password=pw)
            if isinstance(k, ed25519.Ed25519PrivateKey):
                raw = k.private_bytes(serialization.Encoding.Raw,
                                      serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption())
            elif isinstance(k, ec.EllipticCurvePrivateKey):
                raw = k.private_numbers().private_value.to_bytes(32, "big")
            else:
                raw = None
            keys.append((os.path.relpath(path, datadir), type(k).__name__,
                         raw))
    return keys


def database_blobs(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    blobs = []
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            for row in con.execute('SELECT * FROM "%s"' % t):
                blobs += [v for v in row if isinstance(v, bytes)]
    finally:
        con.close()
    return blobs


def no_backdoor(org, a1, capture, pcap):
    # A Welcome waits, unacknowledged, in the inbox of a device that never
    # came back: frank's.
    org.ctl("user", "add", "frank")
    f1 = Device(org, "frank", "frank-1").activate()
    a1.run("chat", "add", "team", "frank")
    check(org.stop() == 0, "bulwarkd stops cleanly")
    time.sleep(0.5)
    capture.send_signal(signal.SIGINT)
    capture.wait(timeout=20)
    check(os.path.getsize(pcap) > 10000,
          "tcpdump captured the server's traffic (%d bytes)" %
          os.path.getsize(pcap))

    needle = CANARY.encode()
    leaks = []
    for root, _, files in os.walk(org.dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                if needle in f.read():
                    leaks.append(os.path.join(root, name))
    logs = [os.path.join(org.tmp, n) for n in os.listdir(org.tmp)
            if n.startswith("bulwarkd.log")]
    for path in logs + [pcap]:
        with open(path, "rb") as f:
            if needle in f.read():
                leaks.append(path)
    files = sum(len(f) for _, _, f in os.walk(org.dir))
    check(leaks == [], "the canary is in none of the server's %d files "
          "(database and WAL included), its %d logs, or the capture: %r" %
          (files, len(logs), leaks))
    with open(os.path.join(a1.home, "store.db"), "rb") as f:
        check(needle not in f.read(),
              "nor in the devices' stores: they are sealed at rest")

    keys = server_keys(org.dir)
    kinds = sorted(set(k[1] for k in keys))
    check(len(keys) >= 3 and all("X25519" not in k and "X448" not in k
                                 for k in kinds),
          "the server's keys are signature and TLS keys only: %s (%s)" %
          (", ".join(k[0] for k in keys), ", ".join(kinds)))
    hpke_self_test()
    blobs = database_blobs(org.db)
    welcomes = [s for b in blobs for s in welcome_secrets(b)]
    check(len(welcomes) > 0, "the database holds %d sealed Welcome "
          "secrets (frank's among them, unacknowledged)" % len(welcomes))
    candidates = [k[2] for k in keys if k[2] is not None]
    candidates += [b for b in blobs if len(b) == 32]
    opened = 0
    for kem_output, ct, info in welcomes:
        for sk in candidates:
            try:
                hpke_open(sk, kem_output, info, b"", ct)
                opened += 1
            except Exception:
                pass
    check(opened == 0, "none of the %d keys and 32-byte values the server "
          "holds opens any of them" % len(candidates))
    del f1


def main_test(args):
    if not BULWARK or not VECTORS:
        raise Failure("BULWARK_CLI and BULWARK_VECTORS_DIR must be set")
    started = time.time()
    with Org(args) as org:
        pcap = os.path.join(org.tmp, "traffic.pcap")
        capture = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", pcap, "tcp port",
             str(org.port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        capture.stderr.readline()  # "listening on lo ..."
        try:
            org.start()
            for user in ("alice", "bob", "carol"):
                org.ctl("user", "add", user)
            a1 = Device(org, "alice", "alice-1").activate()
            a2 = Device(org, "alice", "alice-2").activate()
            b1 = Device(org, "bob", "bob-1").activate()
            c1 = Device(org, "carol", "carol-1").activate()
            team = conversation_flows(org, a1, a2, b1, c1)
            offline_backlog(org, a1, b1, team)
            sigkill_mid_stream(org, a1, b1, team)
            a3 = third_device(org, a1, a2, b1, c1, team)
            removal_and_revocation(org, a1, a2, a3, b1, c1, team)
            _, e1 = concurrent_commits(org, a1, a2, a3, b1, team)
            key_package_top_up(org, a1, e1)
            hostile_input(org, a1, b1, c1, team)
            no_backdoor(org, a1, capture, pcap)
        finally:
            if capture.poll() is None:
                capture.kill()
                capture.wait()
    print("conversations: %.1f s" % (time.time() - started))


if __name__ == "__main__":
    if shutil.which("tcpdump") is None:
        raise SystemExit("tcpdump is needed (scripts/deps.sh)")
    run([main_test])
