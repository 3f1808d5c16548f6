#!/usr/bin/env python3
"""TURN REST-credential checks against a UDP TURN server (coturn or Nexus's embedded relay).

    scripts/turn-auth-check.py --server 127.0.0.1:3478 --secret S --realm nexus \
        [--user bench] [--expect-peer-refused 10.0.0.1:9] [--expect-peer-allowed 127.0.0.1:9]

Credentials follow the TURN REST scheme: username = "<expiry unix time>:<user>",
password = base64(HMAC-SHA1(secret, username)); requests carry RFC 5389 long-term
MESSAGE-INTEGRITY, key = MD5(username:realm:password). Checks, each on its own socket:
  1. Allocate without credentials        -> 401 with REALM (must equal --realm) and NONCE
  2. Allocate, forged password           -> 4xx error (coturn: 401; the `turn` crate: 400)
  3. Allocate, expired username          -> 4xx error
  4. Allocate, valid credentials         -> success with XOR-RELAYED-ADDRESS and a
                                            MESSAGE-INTEGRITY that verifies with our key
  5. (option) CreatePermission to each --expect-peer-refused  -> 403
     (option) CreatePermission to each --expect-peer-allowed  -> success
  and a Refresh(lifetime 0) to free the allocation.
A CreatePermission only installs state on the server: no packet goes to the peer.
Only the standard library; exits 0 when every check passes, 1 otherwise.
"""
import argparse
import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import struct
import sys
import time
import zlib

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION = 0x003, 0x004, 0x008
CLASS_SUCCESS, CLASS_ERROR = 0x100, 0x110
A_USERNAME, A_MI, A_ERROR, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
A_XOR_PEER, A_REALM, A_NONCE, A_XOR_RELAYED = 0x0012, 0x0014, 0x0015, 0x0016
A_REQ_TRANSPORT, A_XOR_MAPPED, A_FINGERPRINT = 0x0019, 0x0020, 0x8028


def rest_credentials(secret, user, expiry):
    username = f"{int(expiry)}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def attr(typ, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", typ, len(value)) + value + b"\0" * pad


def xor_addr(typ, host, port, txid):
    ip = ipaddress.ip_address(host)
    xport = port ^ (MAGIC >> 16)
    if ip.version == 4:
        xip = struct.pack("!I", int(ip) ^ MAGIC)
        return attr(typ, struct.pack("!BBH", 0, 1, xport) + xip)
    key = struct.pack("!I", MAGIC) + txid
    xip = bytes(a ^ b for a, b in zip(ip.packed, key))
    return attr(typ, struct.pack("!BBH", 0, 2, xport) + xip)


def parse_xor_addr(value, txid):
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC >> 16)
    if family == 1:
        return str(ipaddress.IPv4Address(struct.unpack("!I", value[4:8])[0] ^ MAGIC)), port
    key = struct.pack("!I", MAGIC) + txid
    return str(ipaddress.IPv6Address(bytes(a ^ b for a, b in zip(value[4:20], key)))), port


def build(method, txid, attrs, key=None):
    """STUN request; with `key` adds MESSAGE-INTEGRITY then FINGERPRINT."""
    body = b"".join(attrs)
    mtype = method  # request class = 0
    if key is not None:
        header = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + txid
        body += attr(A_MI, hmac.new(key, header + body, hashlib.sha1).digest())
    header = struct.pack("!HHI", mtype, len(body) + 8, MAGIC) + txid
    crc = (zlib.crc32(header + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(A_FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), MAGIC) + txid + body


def parse(data):
    """-> (type, txid, [(attr type, value, offset of the attribute)])"""
    if len(data) < 20:
        raise ValueError("short STUN message")
    mtype, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or length + 20 > len(data):
        raise ValueError("not a STUN message")
    txid, attrs, off = data[8:20], [], 20
    while off + 4 <= 20 + length:
        typ, alen = struct.unpack("!HH", data[off:off + 4])
        attrs.append((typ, data[off + 4:off + 4 + alen], off))
        off += 4 + alen + (4 - alen % 4) % 4
    return mtype, txid, attrs


def get(attrs, typ):
    return next((v for t, v, _ in attrs if t == typ), None)


def error_code(attrs):
    v = get(attrs, A_ERROR)
    if v is None or len(v) < 4:
        return None, ""
    return (v[2] & 0x7) * 100 + v[3], v[4:].decode(errors="replace")


def verify_integrity(data, attrs, key):
    for t, v, off in attrs:
        if t == A_MI:
            hdr = data[:2] + struct.pack("!H", off + 24 - 20) + data[4:20]
            return hmac.compare_digest(hmac.new(key, hdr + data[20:off], hashlib.sha1).digest(), v)
    return False


class Client:
    def __init__(self, server, timeout):
        self.server = server
        self.sock = socket.socket(socket.AF_INET6 if ":" in server[0] else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.realm = self.nonce = None

    def request(self, method, attrs, key=None, username=None):
        """Sends with retransmissions (RFC 5389: 3 tries here); one retry on 438 Stale Nonce."""
        for _ in range(2):
            txid = os.urandom(12)
            extra = []
            if key is not None:
                extra = [attr(A_USERNAME, username.encode()), attr(A_REALM, self.realm.encode()),
                         attr(A_NONCE, self.nonce.encode())]
            base = attrs(txid) if callable(attrs) else attrs  # XOR-PEER-ADDRESS (IPv6) needs the txid
            msg = build(method, txid, base + extra, key)
            resp = None
            for _try in range(3):
                self.sock.sendto(msg, self.server)
                try:
                    while True:
                        data, _ = self.sock.recvfrom(65536)
                        mtype, rtx, rattrs = parse(data)
                        if rtx == txid:
                            resp = (mtype, rattrs, data)
                            break
                except socket.timeout:
                    continue
                break
            if resp is None:
                return None
            mtype, rattrs, data = resp
            code, _ = error_code(rattrs)
            if get(rattrs, A_NONCE) is not None:
                self.nonce = get(rattrs, A_NONCE).decode()
            if get(rattrs, A_REALM) is not None and key is None:
                self.realm = get(rattrs, A_REALM).decode()
            if code == 438 and key is not None:
                continue
            return resp
        return resp

    def challenge(self):
        return self.request(ALLOCATE, [attr(A_REQ_TRANSPORT, b"\x11\0\0\0")])


def describe(resp):
    if resp is None:
        return "no answer (timeout)"
    mtype, attrs, _ = resp
    cls = mtype & 0x110
    if cls == CLASS_SUCCESS:
        return "success"
    if cls == CLASS_ERROR:
        code, reason = error_code(attrs)
        return f"error {code if code is not None else '(no ERROR-CODE)'} {reason}".rstrip()
    return f"unexpected type 0x{mtype:04x}"


def is_error_4xx(resp):
    if resp is None or resp[0] & 0x110 != CLASS_ERROR:
        return False
    code, _ = error_code(resp[1])
    return code is not None and 400 <= code < 500


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="HOST:PORT of the TURN UDP listener")
    ap.add_argument("--secret", required=True, help="TURN REST shared secret")
    ap.add_argument("--realm", required=True, help="expected realm")
    ap.add_argument("--user", default="turn-auth-check", help="user id part of the username")
    ap.add_argument("--expect-peer-refused", action="append", default=[], metavar="IP:PORT")
    ap.add_argument("--expect-peer-allowed", action="append", default=[], metavar="IP:PORT")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per try (3 tries)")
    args = ap.parse_args()
    host, port = args.server.rsplit(":", 1)
    server = (host.strip("[]"), int(port))
    failures = []

    def check(name, ok, detail):
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    now = int(time.time())
    alloc_attrs = [attr(A_REQ_TRANSPORT, b"\x11\0\0\0"), attr(A_LIFETIME, struct.pack("!I", 60))]
    print(f"turn-auth-check {args.server} realm={args.realm}")

    # 1. challenge
    c = Client(server, args.timeout)
    r = c.challenge()
    code = error_code(r[1])[0] if r else None
    check("unauthenticated Allocate -> 401 + REALM + NONCE",
          code == 401 and c.realm == args.realm and bool(c.nonce),
          f"{describe(r)}, realm={c.realm!r}, nonce={'yes' if c.nonce else 'no'}")
    if c.realm is None or c.nonce is None:
        print("no realm/nonce: cannot go on")
        return 1
    realm = c.realm

    def attempt(username, password):
        cl = Client(server, args.timeout)
        if cl.challenge() is None or cl.nonce is None:
            return cl, None, None
        key = hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()
        return cl, key, cl.request(ALLOCATE, alloc_attrs, key, username)

    # 2. forged password (wrong secret)
    u, _ = rest_credentials(args.secret, args.user, now + 3600)
    _, forged = rest_credentials(args.secret + "-wrong", args.user, now + 3600)
    _, _, r = attempt(u, forged)
    check("forged password -> 4xx", is_error_4xx(r), describe(r))

    # 3. expired (correctly signed, expiry one hour ago)
    u, p = rest_credentials(args.secret, args.user, now - 3600)
    _, _, r = attempt(u, p)
    check(f"expired username {u!r} -> 4xx", is_error_4xx(r), describe(r))

    # 4. valid
    u, p = rest_credentials(args.secret, args.user, now + 3600)
    cl, key, r = attempt(u, p)
    relayed = None
    if r is not None and r[0] & 0x110 == CLASS_SUCCESS:
        v = get(r[1], A_XOR_RELAYED)
        relayed = parse_xor_addr(v, r[2][8:20]) if v else None
        mi_ok = verify_integrity(r[2], r[1], key)
        check("valid credentials -> Allocate success + XOR-RELAYED-ADDRESS + valid MESSAGE-INTEGRITY",
              relayed is not None and mi_ok,
              (f"relayed={relayed[0]}:{relayed[1]}" if relayed else "no XOR-RELAYED-ADDRESS")
              + ("" if mi_ok else ", response MESSAGE-INTEGRITY does not verify"))
    else:
        check("valid credentials -> Allocate success", False, describe(r))

    # 5. peer policy (needs the allocation)
    if relayed is not None:
        for peer, want_ok in [(p_, False) for p_ in args.expect_peer_refused] + \
                             [(p_, True) for p_ in args.expect_peer_allowed]:
            ph, pp = peer.rsplit(":", 1)
            r = cl.request(CREATE_PERMISSION,
                           lambda txid, h=ph.strip("[]"), p_=int(pp): [xor_addr(A_XOR_PEER, h, p_, txid)],
                           key, u)
            if want_ok:
                check(f"CreatePermission {peer} -> success",
                      r is not None and r[0] & 0x110 == CLASS_SUCCESS, describe(r))
            else:
                code = error_code(r[1])[0] if r is not None and r[0] & 0x110 == CLASS_ERROR else None
                check(f"CreatePermission {peer} -> 403", code == 403, describe(r))
        r = cl.request(REFRESH, [attr(A_LIFETIME, struct.pack("!I", 0))], key, u)
        print(f"  (Refresh lifetime=0: {describe(r)})")

    print("turn-auth-check: " + ("all passed" if not failures else f"{len(failures)} failed"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
