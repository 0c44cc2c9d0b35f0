"""Crash torture in short (bench/README.md, scenario E): 20 devices load a
real bulwarkd through bench/load's generator while the test SIGKILLs the
server at random moments and restarts it. At the end every message the
server acknowledged must have been delivered exactly once and in order per
conversation (after the (group, seq) dedup devices do); redeliveries before
the dedup are allowed and reported.

The devices come from `bulwarkctl device enroll` (checked here too: the
certificates, the key files' mode, the audit log), their conversations
from the generator's setup. The generator is $BULWARK_LOAD.
"""
import json
import os
import random
import signal
import stat
import subprocess
import time

from harness import TEST_TUNING, Failure, Org, check, run

DEVICES = 20
KILLS = 4
LOAD_SECONDS = 14
LAYOUT = ["--a-clients", str(DEVICES), "--senders", "0", "--d-members",
          "0"]
# Backlog pages of 4 messages: every reconnection's backlog spans many
# pages while the other devices go on sending to it.
TUNING = TEST_TUNING + "backlog_page = 4\n"


def load_tool():
    path = os.environ.get("BULWARK_LOAD", "")
    if not path or not os.access(path, os.X_OK):
        raise Failure("BULWARK_LOAD does not name bulwark-load")
    return path


def enroll(org, out):
    users = os.path.join(org.tmp, "users.txt")
    with open(users, "w") as f:
        f.write("".join("u%d\n" % i for i in range(DEVICES)))
    res = org.ctl("device", "enroll", "--users-file", users, "--add-users",
                  "--out", out, "--name", "torture", json_out=True)
    check(res["enrolled"]["count"] == DEVICES,
          "device enroll: %d devices in one command" % DEVICES)
    first = res["enrolled"]["devices"][0]["file"]
    check(stat.S_IMODE(os.stat(first).st_mode) == 0o600,
          "device enroll: each key file is 0600")
    listed = org.ctl("device", "list", json_out=True)["devices"]
    check(len(listed) == DEVICES, "device enroll: the server lists them")
    audit = [l for l in org.dump().splitlines() if "device enroll" in l]
    check(len(audit) == DEVICES, "device enroll: one audit line each")
    refused = org.ctl("device", "enroll", "nobody", "--out", out,
                      json_out=True, expect=1)
    check("no such user" in refused["error"]["message"],
          "device enroll: an unknown user is refused")


def generator(org, devices, cache, *args, out=None):
    argv = [load_tool(), "--devices", devices, "--cache", cache, "--port",
            str(org.port)] + LAYOUT + list(args)
    if out is not None:
        argv += ["--out", out]
    return argv


def restart(org):
    """SIGKILL the server, then start it again on the same data."""
    org.proc.send_signal(signal.SIGKILL)
    org.proc.wait()
    org.proc = None
    org.start()


def test_crash_torture(args):
    with Org(args, tuning=TUNING) as org:
        devices = os.path.join(org.tmp, "devices")
        cache = os.path.join(org.tmp, "cache")
        result = os.path.join(org.tmp, "e.json")
        org.start()
        enroll(org, devices)
        setup = subprocess.run(generator(org, devices, cache, "--scenario",
                                         "setup"),
                               capture_output=True, text=True, timeout=120)
        if setup.returncode != 0:
            raise Failure("the generator's setup failed:\n" +
                          setup.stderr[-2000:])
        check(True, "the generator's devices made their conversations")
        load = subprocess.Popen(
            generator(org, devices, cache, "--scenario", "E", "--duration",
                      str(LOAD_SECONDS), "--drain", "30", out=result),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.5)
            for _ in range(KILLS):
                time.sleep(random.uniform(0.4, 2.0))
                restart(org)
            _, err = load.communicate(timeout=120)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        with open(result) as f:
            r = json.load(f)
        lines = err.strip().splitlines()
        print("\n".join([l for l in lines if "lost:" in l or
                         "]   device " in l][:10] + lines[-1:]))
        check(r["outages"] >= 1, "the generator saw the server go away")
        check(r["settled"], "every device came back and every message was "
              "answered and delivered")
        check(r["acked"] > 0 and r["acked"] == r["messages"],
              "%d messages, all acknowledged in the end" % r["messages"])
        check(r["acked_lost"] == 0, "no acknowledged message lost")
        check(r["acked_duplicated"] == 0 and r["duplicates"] == 0,
              "none delivered twice after the (group, seq) dedup "
              "(%d raw redeliveries)" % r["redelivered"])
        check(r["misordered"] == 0 and r["send_misordered"] == 0 and
              r["seq_mismatch"] == 0,
              "every conversation in order (as delivered and as accepted)")
        check(r["ok"] and load.returncode == 0, "the generator's verdict")


if __name__ == "__main__":
    run([test_crash_torture])
