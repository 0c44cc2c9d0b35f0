#!/usr/bin/env python3
"""bulwarkd's life: it starts from the configuration `bulwarkctl init`
wrote, answers bulwarkctl on a 0600 admin socket open to root and its own
user only, reopens its log on SIGHUP and stops cleanly on SIGTERM."""
import os
import shutil
import signal
import stat
import subprocess
import time

from harness import Org, check, run, ws_connect, expect_close


def test_help_and_bad_config(args):
    out = subprocess.run([args.bulwarkd, "--help"], capture_output=True,
                         text=True)
    check(out.returncode == 0 and "-c CONFIG" in out.stdout, "--help")
    out = subprocess.run([args.bulwarkd, "--version"], capture_output=True,
                         text=True)
    check(out.returncode == 0 and out.stdout.startswith("bulwarkd "),
          "--version")
    with Org(args, tuning="\nworkers = many\n") as org:
        out = subprocess.run([args.bulwarkd, "-c", org.conf],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 1 and "line" in out.stderr and
              "workers" in out.stderr,
              "a bad value is refused with its line number")


def test_start_status_stop(args):
    with Org(args) as org:
        log_file = os.path.join(org.tmp, "file.log")
        with open(org.conf, "a") as f:
            f.write("log_file = %s\n" % log_file)
        org.log_path = log_file
        org.start()
        mode = stat.S_IMODE(os.stat(org.admin_socket).st_mode)
        check(mode == 0o600, "admin socket mode is 0600 (%o)" % mode)
        st = org.ctl("status", json_out=True)["status"]
        check(st["server_name"] == "localhost" and st["users"] == 0 and
              st["mls_suite"] == 1, "status answers")
        text = org.ctl("status").stdout
        check("CA (SHA-256)" in text and "uptime" in text,
              "status as text")
        # SIGHUP reopens the log: after rotation, a new file appears.
        os.rename(log_file, log_file + ".1")
        org.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while not os.path.exists(log_file) and time.time() < deadline:
            time.sleep(0.05)
        check(os.path.exists(log_file) and "log reopened" in org.log(),
              "SIGHUP reopens the log file")
        # A device connection gets a WebSocket close at shutdown.
        sock = ws_connect(org.port)
        time.sleep(0.2)
        monitor = [int(l.split()[-1]) for l in open(log_file + ".1")
                   if "CA monitor running as process" in l][0]
        rc = org.stop()
        check(rc == 0, "SIGTERM: exit status 0 (%s)" % rc)
        check(expect_close(sock) == 1001,
              "open connections get close 1001 at shutdown")
        check(not os.path.exists(org.admin_socket),
              "admin socket removed at shutdown")
        check(not os.path.exists("/proc/%d" % monitor), "CA monitor stopped")
        check("stopped" in org.log(), "shutdown logged")


def test_users(args):
    with Org(args) as org:
        org.start()
        org.ctl("user", "add", "alice", "--display-name", "Alice A.")
        org.ctl("user", "add", "bob")
        out = org.ctl("user", "add", "alice", expect=1)
        check("already exists" in out.stderr, "a duplicate user is refused")
        err = org.ctl("user", "add", "Not/Valid", json_out=True, expect=1)
        check(err["error"]["message"] == "invalid name or value",
              "an invalid name is refused (JSON error)")
        org.ctl("user", "disable", "bob")
        org.ctl("user", "disable", "carol", expect=1)
        users = org.ctl("user", "list", json_out=True)["users"]
        check([(u["name"], u["disabled"]) for u in users] ==
              [("alice", False), ("bob", True)], "user list (JSON)")
        text = org.ctl("user", "list").stdout
        check("Alice A." in text and "disabled" in text, "user list (text)")
        check(org.ctl("device", "list", json_out=True)["devices"] == [],
              "no devices yet")
        audit = org.dump()
        check("user add" in audit and "user disable" in audit,
              "administration is audited")
        check(org.stop() == 0, "clean stop")


def test_admin_peer_credentials(args):
    """Another user is refused even if the socket's mode let them in."""
    with Org(args) as org:
        org.start()
        os.chmod(org.admin_socket, 0o666)
        shutil.copy(args.client, os.path.join(org.tmp, "client"))
        os.chmod(org.tmp, 0o755)
        os.chmod(org.dir, 0o755)
        out = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             os.path.join(org.tmp, "client"), "code", org.admin_socket,
             "localhost", "alice", "c1", "pw"],
            capture_output=True, text=True, timeout=30)
        check(out.returncode != 0, "uid 65534 gets no answer")
        check("refused a client with uid 65534" in org.log(),
              "the refusal is logged")
        check(org.stop() == 0, "clean stop")


if __name__ == "__main__":
    run([test_help_and_bad_config, test_start_status_stop, test_users,
         test_admin_peer_credentials])
