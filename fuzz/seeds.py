#!/usr/bin/env python3
"""Write a fuzz target's seed corpus from the official MLS test vectors.

The vectors live beside the project (../shared/vectors) and are never copied
into it, so seeds are extracted at run time:

    fuzz/seeds.py TARGET OUTDIR [VECTORS_DIR]

TARGET is the fuzz target's name (fuzz_commit or commit). Targets without
vector seeds get none; that is not an error. Each seed is one file named by
the SHA-1 of its contents, so repeated values are written once.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VECTORS = os.path.join(HERE, "..", "..", "shared", "vectors")

# MLSMessage header: uint16 version, uint16 wire_format.
MLS_MESSAGE_HEADER = 4

# Proposal bodies in messages.json, with their uint16 proposal_type.
PROPOSAL_BODIES = {
    "add_proposal": 1,
    "update_proposal": 2,
    "remove_proposal": 3,
    "pre_shared_key_proposal": 4,
    "re_init_proposal": 5,
    "external_init_proposal": 6,
    "group_context_extensions_proposal": 7,
}

MESSAGE_FIELDS = ("mls_welcome", "mls_group_info", "mls_key_package",
                  "public_message_application", "public_message_proposal",
                  "public_message_commit", "private_message")


def load(vectors, name):
    with open(os.path.join(vectors, "mls", name)) as f:
        return json.load(f)


def field(entries, key, strip=0):
    """The decoded hex value of key in every entry that has it."""
    for e in entries:
        if isinstance(e.get(key), str):
            yield bytes.fromhex(e[key])[strip:]


def opaque(data):
    """An opaque<V> with the minimal variable-length header (RFC 9420 §2.1.2)."""
    n = len(data)
    if n < 1 << 6:
        head = n.to_bytes(1, "big")
    elif n < 1 << 14:
        head = (0x4000 | n).to_bytes(2, "big")
    else:
        head = (0x80000000 | n).to_bytes(4, "big")
    return head + data


def mls_message(v):
    msgs = load(v, "messages.json")
    for key in MESSAGE_FIELDS:
        yield from field(msgs, key)
    prot = load(v, "message-protection.json")
    for kind in ("proposal", "commit", "application"):
        for suffix in ("_pub", "_priv"):
            yield from field(prot, kind + suffix)
    welcome = load(v, "welcome.json")
    yield from field(welcome, "key_package")
    yield from field(welcome, "welcome")


def key_package(v):
    yield from field(load(v, "messages.json"), "mls_key_package",
                     MLS_MESSAGE_HEADER)
    yield from field(load(v, "welcome.json"), "key_package",
                     MLS_MESSAGE_HEADER)


def welcome(v):
    yield from field(load(v, "messages.json"), "mls_welcome",
                     MLS_MESSAGE_HEADER)
    yield from field(load(v, "welcome.json"), "welcome", MLS_MESSAGE_HEADER)


def group_info(v):
    yield from field(load(v, "messages.json"), "mls_group_info",
                     MLS_MESSAGE_HEADER)


def proposal(v):
    msgs = load(v, "messages.json")
    for key, ptype in PROPOSAL_BODIES.items():
        for body in field(msgs, key):
            yield ptype.to_bytes(2, "big") + body
    yield from field(load(v, "message-protection.json"), "proposal")


def commit(v):
    yield from field(load(v, "messages.json"), "commit")
    yield from field(load(v, "message-protection.json"), "commit")


def ratchet_tree(v):
    yield from field(load(v, "messages.json"), "ratchet_tree")
    yield from field(load(v, "treekem.json"), "ratchet_tree")


def group_secrets(v):
    yield from field(load(v, "messages.json"), "group_secrets")


def private_content(v):
    """Content type byte, then PrivateMessageContent: the raw content, a
    signature and, for a commit, a confirmation tag; some with padding."""
    prot = load(v, "message-protection.json")
    sig, tag = opaque(bytes(64)), opaque(bytes(32))
    for app in field(prot, "application"):
        yield b"\x01" + opaque(app) + sig
        yield b"\x01" + opaque(app) + sig + bytes(16)
    for prop in field(prot, "proposal"):
        yield b"\x02" + prop + sig
    for com in field(prot, "commit"):
        yield b"\x03" + com + sig + tag


TARGETS = {f.__name__: f for f in (mls_message, key_package, welcome,
                                   group_info, proposal, commit,
                                   ratchet_tree, group_secrets,
                                   private_content)}


def tree_import(v):
    """A suite byte (suite - 1), then a ratchet_tree of that suite."""
    for name, key in (("tree-validation.json", "tree"),
                      ("treekem.json", "ratchet_tree"),
                      ("tree-operations.json", "tree_before"),
                      ("tree-operations.json", "tree_after")):
        for e in load(v, name):
            if e.get("cipher_suite") in (1, 2, 3):
                yield bytes([e["cipher_suite"] - 1]) + bytes.fromhex(e[key])


TARGETS["tree_import"] = tree_import


def welcome_join(v):
    """A mode byte (see fuzz_welcome_join.c): 0 and a Welcome, 3 and a
    GroupInfo; 1 and 2 alone use the target's own real Welcome and
    GroupInfo unchanged."""
    for name in ("welcome.json", "passive-client-welcome.json"):
        for w in field(load(v, name), "welcome"):
            yield b"\x00" + w
    for gi in field(load(v, "messages.json"), "mls_group_info",
                    MLS_MESSAGE_HEADER):
        yield b"\x03" + gi
    yield b"\x01"
    yield b"\x02"


def commit_process(v):
    """A mode byte (see fuzz_commit_process.c): 0 and an MLSMessage, 1 and
    the index of one of the target's real messages, 2 and a Commit."""
    for m in mls_message(v):
        yield b"\x00" + m
    for i in range(6):
        yield bytes([1, i])
    for c in commit(v):
        yield b"\x02" + c


TARGETS["welcome_join"] = welcome_join
TARGETS["commit_process"] = commit_process
TARGETS["ds_checks"] = mls_message


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__.strip())
    target = argv[1][len("fuzz_"):] if argv[1].startswith("fuzz_") else argv[1]
    outdir = argv[2]
    vectors = argv[3] if len(argv) == 4 else DEFAULT_VECTORS
    gen = TARGETS.get(target)
    if gen is None:
        return 0
    os.makedirs(outdir, exist_ok=True)
    count = 0
    for seed in gen(vectors):
        name = hashlib.sha1(seed).hexdigest()
        path = os.path.join(outdir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(seed)
            count += 1
    print(f"{argv[1]}: {count} seeds from the vectors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
