#!/usr/bin/env python3
"""The delivery service against a real bulwarkd, with the test client's
MLS devices (tc_device.c): SERVER_INFO and the DS key files; key packages
uploaded, claimed (last resort, low water); a group created, members
added by Welcome, messages in every direction in order and once; a
device's backlog after being offline; a device's own messages not sent
back to it (its other device gets them); an idempotent retry; two commits
racing in one epoch; a revoked device proposed for removal by the server
and removed by a member's commit; a user's new device joining by external
commit; hostile requests that store nothing (database compared before
and after); and bulwarkd killed with SIGKILL while a device streams
messages, after which every acknowledged message is delivered exactly
once."""
import hashlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

from harness import TEST_TUNING, Failure, Org, check, run

TUNING = TEST_TUNING + """
max_key_packages = 40
key_package_low_water = 3
purge_interval = 1h
max_message_size = 4M
"""


def gid8(name):
    """What tc_device prints for a group: its id's first 8 hex digits."""
    h = hashlib.sha256(("bulwark test group " + name).encode()).hexdigest()
    return h[:8]


def query(org, sql, params=()):
    """Rows of a read-only query on the server's database."""
    con = sqlite3.connect("file:%s?mode=ro" % org.db, uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


class Devices:
    def __init__(self, org):
        self.org = org
        self.dirs = {}
        self.users = set()
        self.n = 0

    def add(self, user, label):
        self.n += 1
        code = "c%d" % self.n
        if user not in self.users:
            self.org.ctl("user", "add", user)
            self.users.add(user)
        out = self.org.code(user, code, "pw-%s-%d" % (user, self.n))
        check(out.returncode == 0, "activation code for %s" % label)
        out, d = self.org.activate(user, code, "pw-%s-%d" % (user, self.n))
        check(out.returncode == 0, "%s activates" % label)
        self.dirs[label] = d
        return d

    def id(self, label):
        return open(self.dirs[label] + "/device_id").read().strip()


def tc(org, *argv, expect=0, timeout=120):
    out = org.client(*argv, timeout=timeout)
    if expect is not None and out.returncode != expect:
        raise Failure("bw_testclient %s -> %d, expected %d\n%s%s" % (
            " ".join(argv[:1] + argv[2:3]), out.returncode, expect,
            out.stdout, out.stderr))
    return out.stdout


def recv_lines(text, name):
    return [l.split(" ", 3)[2:] for l in text.splitlines()
            if l.startswith("recv %s " % gid8(name))]


def first_start(org):
    """A data directory from before the delivery service: bulwarkd makes
    its key and has the CA monitor certify it."""
    key = os.path.join(org.dir, "ds", "ds.key")
    cert = os.path.join(org.dir, "ds", "ds.crt")
    os.remove(key)
    os.remove(cert)
    org.start()
    check(oct(os.stat(key).st_mode & 0o777) == "0o600" and
          os.path.exists(cert) and
          "delivery service key created" in org.log() and
          "delivery service certificate issued" in org.log(),
          "at first start bulwarkd creates the DS key (0600) and has the "
          "CA monitor issue its certificate")


def server_info(org, dev):
    out = tc(org, "ds-info", org.address, dev["alice-1"])
    check(out.startswith("suite 1 ds-key 32 bytes credential 1"),
          "SERVER_INFO: the suite, an Ed25519 DS key, its credential")


def key_packages(org, dev, ids):
    for label in ("alice-1", "bob-1", "carol-1", "eve-1"):
        out = tc(org, "ds-kp", org.address, dev[label], "6", "last-resort")
        check(out.strip() == "available 6", "%s uploads 6 key packages "
              "and a last-resort one" % label)
    out = tc(org, "ds-kp", org.address, dev["dave-1"], "0", "last-resort")
    check(out.strip() == "available 0", "dave-1 uploads only a last-resort "
          "package")
    out = tc(org, "ds-claim", org.address, dev["alice-1"], "bob", "dave")
    check(out.splitlines() == ["claim bob " + ids["bob-1"],
                               "claim dave " + ids["dave-1"]],
          "a claim gives one package for every device of each user")
    for _ in range(2):
        tc(org, "ds-claim", org.address, dev["alice-1"], "bob", "dave")
    out = tc(org, "ds-count", org.address, dev["bob-1"])
    check(out.strip() == "available 3 low-water 3",
          "each claim consumed one of bob's packages")
    out = tc(org, "ds-claim", org.address, dev["alice-1"], "bob")
    out = tc(org, "ds-recv", org.address, dev["bob-1"])
    check("kp_low=1" in out, "bob, below low water, is told before SYNCED")
    out = tc(org, "ds-count", org.address, dev["dave-1"])
    check(out.strip() == "available 0 low-water 3",
          "dave's last-resort package was handed out, not consumed")


def group_flow(org, dev):
    tc(org, "ds-create", org.address, dev["alice-1"], "team")
    out = tc(org, "ds-add", org.address, dev["alice-1"], "team", "bob",
             "carol")
    check("added to team" in out, "alice adds bob and carol in one commit")
    for label in ("bob-1", "carol-1"):
        out = tc(org, "ds-recv", org.address, dev[label])
        check("joined %s epoch 1" % gid8("team") in out and
              "welcomes=1" in out,
              "%s joins from the Welcome routed to its inbox" % label)
    sent_a = tc(org, "ds-send", org.address, dev["alice-1"], "team",
                "from-alice", "3")
    sent_b = tc(org, "ds-send", org.address, dev["bob-1"], "team",
                "from-bob", "2")
    seqs = [int(l.split()[1]) for l in (sent_a + sent_b).splitlines()
            if l.startswith("sent ")]
    check(seqs == sorted(seqs) and len(set(seqs)) == 5,
          "the server numbers the group's messages in order: %s" % seqs)
    expected = {"alice-1": ["from-bob 0", "from-bob 1"],
                "bob-1": ["from-alice %d" % i for i in range(3)],
                "carol-1": ["from-alice %d" % i for i in range(3)] +
                ["from-bob 0", "from-bob 1"]}
    earlier = {"alice-1": sent_a, "bob-1": sent_b, "carol-1": ""}
    for label, want in expected.items():
        out = earlier[label] + tc(org, "ds-recv", org.address, dev[label])
        got = [t for _, t in recv_lines(out, "team")]
        check(got == want, "%s receives each message of the others once, "
              "in order" % label)
    for label in expected:
        out = tc(org, "ds-recv", org.address, dev[label])
        check("received=0 duplicates=0" in out,
              "%s: nothing again once acknowledged" % label)


def backlog(org, dev):
    tc(org, "ds-send", org.address, dev["alice-1"], "team", "offline", "60")
    out = tc(org, "ds-recv", org.address, dev["carol-1"])
    got = [t for _, t in recv_lines(out, "team")]
    check(got == ["offline %d" % i for i in range(60)],
          "carol, back after 60 messages, gets them in order once, in "
          "pages, before SYNCED")
    tc(org, "ds-recv", org.address, dev["bob-1"])


def large_message(org, dev):
    size = 2 * 1024 * 1024
    out = tc(org, "ds-send-big", org.address, dev["alice-1"], "team",
             str(size))
    check("big %d" % size in out, "alice sends a 2 MiB message (the "
          "server's max_message_size is 4 MiB)")
    for label in ("bob-1", "carol-1"):
        out = tc(org, "ds-recv", org.address, dev[label])
        got = [t for _, t in recv_lines(out, "team")]
        check(len(got) == 1 and got[0] == "b" * size,
              "%s reads it: a device follows the server's limit, above "
              "the protocol's 1 MiB default" % label)
    tc(org, "ds-recv", org.address, dev["alice-1"])


def idempotency(org, dev):
    out = tc(org, "ds-idem", org.address, dev["bob-1"], "team")
    check("retry 0" in out and "other content 16" in out,
          "a retried send gets the original seq; the key with other "
          "content is refused (16)")
    out = tc(org, "ds-recv", org.address, dev["alice-1"])
    check([t for _, t in recv_lines(out, "team")].count("idem first") == 1,
          "the retried message is delivered once")
    tc(org, "ds-recv", org.address, dev["carol-1"])


def race(org, dev):
    out = tc(org, "ds-race", org.address, dev["alice-1"], dev["bob-1"],
             "team")
    check("first commit: status 0" in out and
          "second commit: status 8" in out and "agree on epoch" in out,
          "two commits in one epoch: the first wins, the second gets "
          "status 8, catches up and succeeds on retry; no fork")
    tc(org, "ds-recv", org.address, dev["carol-1"])


def revocation(org, dev, ids):
    tc(org, "ds-add", org.address, dev["alice-1"], "team", "dave")
    out = tc(org, "ds-recv", org.address, dev["dave-1"])
    check("joined %s" % gid8("team") in out, "dave joins the team")
    tc(org, "ds-recv", org.address, dev["bob-1"])
    tc(org, "ds-recv", org.address, dev["carol-1"])
    org.ctl("device", "revoke", ids["dave-1"])
    out = tc(org, "ds-commit", org.address, dev["alice-1"], "team")
    check("server-proposal %s" % gid8("team") in out and
          "pending server proposal: yes" in out,
          "revoking dave's device puts the server's Remove proposal in "
          "the group")
    check("committed" in out, "alice commits it")
    out = tc(org, "ds-recv", org.address, dev["bob-1"])
    check("server-proposal" in out and "epoch %s" % gid8("team") in out,
          "bob sees the proposal and the commit that removed dave")
    rows = query(org, "SELECT left_seq FROM members WHERE device = ?",
                 (ids["dave-1"],))
    check(rows and all(r[0] > 0 for r in rows),
          "the server's membership of dave's device ended with that commit")
    tc(org, "ds-recv", org.address, dev["carol-1"])


def external_join(org, devs):
    d = devs.add("alice", "alice-2")
    tc(org, "ds-kp", org.address, d, "3")
    out = tc(org, "ds-join", org.address, d)
    check(out.strip() == "joined-external 1",
          "alice's new device joins her conversation by external commit")
    tc(org, "ds-send", org.address, devs.dirs["alice-1"], "team",
           "after-join", "1")
    out = tc(org, "ds-recv", org.address, d)
    check([t for _, t in recv_lines(out, "team")] == ["after-join 0"],
          "and reads new messages")
    for label in ("alice-1", "bob-1", "carol-1"):
        tc(org, "ds-recv", org.address, devs.dirs[label])
    out = tc(org, "ds-join", org.address, devs.dirs["eve-1"])
    check(out.strip() == "joined-external 0",
          "another user's device is offered none of alice's groups")


def own_messages(org, dev):
    """An application message goes to every device of the group but the
    one that sent it; the server moves that device's cursor past it."""
    out = tc(org, "ds-send", org.address, dev["alice-1"], "team", "mine",
             "3", "1000")
    check("listened received=0 own=0" in out,
          "alice-1, listening after its sends, is not pushed its own three "
          "messages")
    out = tc(org, "ds-recv", org.address, dev["alice-2"])
    check([t for _, t in recv_lines(out, "team")] ==
          ["mine %d" % i for i in range(3)],
          "alice's other device receives them")
    out = tc(org, "ds-recv", org.address, dev["alice-1"])
    check("received=0 duplicates=0" in out and "own=0" in out,
          "alice-1, caught up when it sent them, logs in again to no "
          "backlog of its own messages")
    for label in ("bob-1", "carol-1"):
        out = tc(org, "ds-recv", org.address, dev[label])
        check([t for _, t in recv_lines(out, "team")] ==
              ["mine %d" % i for i in range(3)],
              "%s receives them" % label)


def hostile(org, dev):
    out_dir = tempfile.mkdtemp(dir=org.tmp)
    args = (org.address, dev["alice-1"], dev["bob-1"], dev["eve-1"], "eve",
            "team", out_dir)
    tc(org, "ds-prep", *args)
    before = org.dump()
    out = tc(org, "ds-hostile", *args, expect=None)
    print(out, end="")
    check(out.rstrip().endswith("all refused"),
          "every hostile request gets its clear error status")
    check(org.dump() == before, "and nothing stored changed")
    for label in ("alice-1", "bob-1", "carol-1"):
        tc(org, "ds-recv", org.address, dev[label])


def sigkill(org, dev):
    acked_file = os.path.join(org.tmp, "acked")
    stream = subprocess.Popen(
        [org.args.client, "ds-stream", org.address, dev["bob-1"], "team",
         "400", acked_file], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    for kill in range(2):
        deadline = time.time() + 60
        while time.time() < deadline:
            n = len(open(acked_file).readlines()) if os.path.exists(
                acked_file) else 0
            if n >= 60 * (kill + 1):
                break
            time.sleep(0.02)
        org.proc.send_signal(signal.SIGKILL)
        org.proc.wait()
        org.proc = None
        time.sleep(0.2)
        os.replace(org.log_path, org.log_path + ".%d" % kill)
        org.start()
    out, err = stream.communicate(timeout=180)
    acked = [l.split(" ", 1) for l in open(acked_file).read().splitlines()]
    seqs = [int(s) for s, _ in acked]
    check(stream.returncode == 0 and len(acked) == 400,
          "the sender rides out two SIGKILLs: 400 messages acknowledged "
          "%s" % err.strip()[-300:])
    check(seqs == sorted(seqs) and len(set(seqs)) == 400,
          "each acknowledged once, with its own seq, in order")
    out = tc(org, "ds-recv", org.address, dev["carol-1"])
    got = recv_lines(out, "team")
    streamed = [(int(s), t) for s, t in got if t.startswith("stream ")]
    check(streamed == [(int(s), t) for s, t in acked],
          "after restarts every acknowledged message reaches carol "
          "exactly once, in order (%d of 400)" % len(streamed))
    rows = query(org, "SELECT count(*), count(DISTINCT idem_key) FROM "
                 "messages WHERE sender = ? AND kind = 1",
                 (open(dev["bob-1"] + "/device_id").read().strip(),))
    check(rows[0][0] == rows[0][1],
          "no retry stored a message twice (%d rows)" % rows[0][0])
    tc(org, "ds-recv", org.address, dev["alice-1"])
    out = tc(org, "ds-commit", org.address, dev["alice-1"], "team")
    check("committed" in out, "the group's view resumed after the "
          "restarts: a commit goes through")


def main_test(args):
    with Org(args, TUNING) as org:
        first_start(org)
        devs = Devices(org)
        for user in ("alice", "bob", "carol", "dave", "eve"):
            devs.add(user, user + "-1")
        dev = devs.dirs
        ids = {label: devs.id(label) for label in dev}
        server_info(org, dev)
        key_packages(org, dev, ids)
        group_flow(org, dev)
        backlog(org, dev)
        large_message(org, dev)
        idempotency(org, dev)
        race(org, dev)
        revocation(org, dev, ids)
        external_join(org, devs)
        own_messages(org, dev)
        hostile(org, dev)
        sigkill(org, dev)
        check(org.stop() == 0, "bulwarkd stops cleanly")


if __name__ == "__main__":
    run([main_test])
