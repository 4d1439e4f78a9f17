#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ from the repository's
golden bytes and fixtures (and, for link_message, from this host's own
rtnetlink dump replies). Run from anywhere: python3 fuzz/seeds.py"""

import glob
import os
import re
import shutil
import socket
import struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
OUT = os.path.join(FUZZ, "seeds")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rust_byte_arrays(path):
    """`const NAME: &[u8] = &[...]` and `const NAME: [u8; N] = [...]`."""
    text = open(path).read()
    pat = re.compile(r"const ([A-Z0-9_]+): &?\[u8(?:; *\d+)?\] = &?\[(.*?)\];", re.S)
    for name, body in pat.findall(text):
        body = re.sub(r"//[^\n]*", "", body)
        out = []
        for tok in body.replace("\n", " ").split(","):
            tok = tok.strip()
            if not tok:
                continue
            if tok.startswith("b'"):
                ch = tok[2:-1]
                out.append(ord("\\" if ch == "\\\\" else ch))
            else:
                out.append(int(tok, 0))
        yield name, bytes(out)


def netlink_messages(data):
    at = 0
    while at + 16 <= len(data):
        length, kind, flags = struct.unpack_from("=IHH", data, at)
        if length < 16 or at + length > len(data):
            return
        yield kind, flags, data[at + 16 : at + length]
        at += (length + 3) & ~3


def hexfile(path):
    return bytes(int(b, 16) for b in open(path).read().split())


NLMSG_ERROR, NLMSG_DONE = 2, 3


def ack_seed(name, flags, kind, payload):
    put("netlink_ack", name, struct.pack("=HB", flags, 1 if kind == NLMSG_ERROR else 0) + payload)


def main():
    shutil.rmtree(OUT, ignore_errors=True)

    # IPVS: genl header + payload, as the golden tests hold them.
    golden = os.path.join(ROOT, "crates/kipvs-ipvs/src/wire/tests/golden.rs")
    for name, data in rust_byte_arrays(golden):
        put("ipvs_message", name.lower(), data)

    # /proc/net/ip_vs_conn text from the connection tests.
    conn = open(os.path.join(ROOT, "crates/kipvs-ipvs/src/connection.rs")).read()
    for i, table in enumerate(re.findall(r'"\\\n(Pro FromIP.*?)"', conn, re.S)):
        put("ipvs_connections", f"table{i}", table)

    # /proc/net/ip_vs text from the brief-table tests.
    proc_table = open(os.path.join(ROOT, "crates/kipvs-ipvs/src/proc_table.rs")).read()
    for i, table in enumerate(re.findall(r'"\\\n(IP Virtual Server.*?)"', proc_table, re.S)):
        put("ipvs_proc_table", f"table{i}", table)

    # ipset: requests and replies captured from ipset 7.17.
    fixtures = os.path.join(ROOT, "crates/kipvs-ipset/tests/fixtures")
    for path in sorted(glob.glob(os.path.join(fixtures, "*.hex"))):
        base = os.path.basename(path)[: -len(".hex")]
        for i, (kind, flags, payload) in enumerate(netlink_messages(hexfile(path))):
            if kind in (NLMSG_ERROR, NLMSG_DONE):
                ack_seed(f"{base}.{i}", flags, kind, payload)
            elif kind >> 8 == 6:  # NFNL_SUBSYS_IPSET
                put("ipset_message", f"{base}.{i}", bytes([kind & 0xFF]) + payload)

    # ipset element text, per set type (index into SetType::ALL) and family
    # (0 inet, 1 inet6).
    types = ["bitmap:ip", "bitmap:ip,mac", "bitmap:port", "hash:ip", "hash:mac",
             "hash:ip,mac", "hash:net", "hash:net,net", "hash:ip,port",
             "hash:net,port", "hash:ip,port,ip", "hash:ip,port,net", "hash:ip,mark",
             "hash:net,port,net", "hash:net,iface", "list:set"]
    elements = {
        "bitmap:ip": ["192.168.0.1", "192.168.0.0/30", "192.168.0.1-192.168.0.9 timeout 5"],
        "bitmap:ip,mac": ["192.168.0.1,12:34:56:78:9a:bc", "192.168.0.2"],
        "bitmap:port": ["80", "1000-2000", "http"],
        "hash:ip": ["10.0.0.1 timeout 30 comment \"a b\" packets 1 bytes 2",
                    "10.0.0.0/24", "10.0.0.1-10.0.0.5 skbmark 0x1/0xff skbprio 1:2 skbqueue 3"],
        "hash:mac": ["01:02:03:04:05:06"],
        "hash:ip,mac": ["10.0.0.1,01:02:03:04:05:06"],
        "hash:net": ["10.0.0.0/8 nomatch", "2001:db8::/32"],
        "hash:net,net": ["10.0.0.0/8,192.168.0.0/16"],
        "hash:ip,port": ["10.0.0.1,tcp:80", "10.0.0.1,udp:53-54", "10.0.0.1,icmp:echo-request",
                         "2001:db8::1,sctp:9", "10.0.0.1,80"],
        "hash:net,port": ["10.0.0.0/24,tcp:8080-8090"],
        "hash:ip,port,ip": ["10.0.0.1,tcp:80,10.0.0.2"],
        "hash:ip,port,net": ["10.0.0.1,udp:53,10.1.0.0/16 nomatch"],
        "hash:ip,mark": ["10.0.0.1,0x10"],
        "hash:net,port,net": ["10.0.0.0/8,tcp:1,10.0.0.0/24"],
        "hash:net,iface": ["10.0.0.0/8,eth0", "10.0.0.0/8,physdev:veth1"],
        "list:set": ["foo before bar", "foo after bar", "foo"],
    }
    for t, elems in elements.items():
        for i, e in enumerate(elems):
            fam = 1 if ":" in e.split(",")[0].split(" ")[0] and "." not in e.split(",")[0] else 0
            put("ipset_entry", f"{t.replace(':', '_').replace(',', '_')}.{i}",
                bytes([types.index(t), fam]) + e.encode())

    creates = {
        "hash:ip": ["family inet hashsize 1024 maxelem 65536 timeout 5 counters comment",
                    "family inet6 netmask 64 bucketsize 12 skbinfo forceadd"],
        "bitmap:ip": ["range 192.168.0.0/16 netmask 24", "range 10.0.0.1-10.0.0.200"],
        "bitmap:port": ["range 0-1024 timeout 3"],
        "hash:ip,mark": ["markmask 0xffff0000"],
        "list:set": ["size 8"],
    }
    for t, lines in creates.items():
        for i, line in enumerate(lines):
            put("ipset_create", f"{t.replace(':', '_').replace(',', '_')}.{i}",
                bytes([types.index(t)]) + line.encode())
    for i, word in enumerate(["KUBE-CLUSTER-IP", "hash:ip,port", "inet6", "-4", "iphash"]):
        put("ipset_create", f"word.{i}", bytes([3]) + word.encode())

    # Transport: the ack and error payloads of the transport's unit tests.
    p = struct.pack("=i", -22) + bytes([20, 0, 0, 0, 16, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    p += bytes([12, 0, 1, 0]) + b"bad\0\0\0\0\0" + bytes([8, 0, 2, 0, 20, 0, 0, 0])
    ack_seed("capped_ext_ack", 0x100 | 0x200, NLMSG_ERROR, p)
    p = struct.pack("=i", -17) + bytes([24, 0, 0, 0, 16, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                        1, 2, 3, 4, 5, 6, 7, 8])
    ack_seed("uncapped", 0, NLMSG_ERROR, p)
    ack_seed("done_empty", 0x2, NLMSG_DONE, b"")
    ack_seed("done_zero", 0x2, NLMSG_DONE, struct.pack("=i", 0))

    # rtnetlink: the golden requests, and this host's own dump replies.
    for f in ("link.rs", "address.rs"):
        for name, data in rust_byte_arrays(os.path.join(ROOT, "crates/kipvs-link/src/wire", f)):
            put("link_message", name.lower(), data)
    for i, msg in enumerate(rtnl_dump(18) + rtnl_dump(22)):  # RTM_GETLINK, RTM_GETADDR
        put("link_message", f"host_dump.{i}", msg)
    for i, text in enumerate(["10.96.0.1", "10.0.0.0/24", "fd00::1/128", "::ffff:1.2.3.4/96",
                              "0.0.0.0", "224.0.0.1", "fe80::1/64"]):
        put("link_text", f"address.{i}", text)
    for i, text in enumerate(["kube-ipvs0", "eth0", "a" * 15, "veth@1"]):
        put("link_text", f"name.{i}", text)

    # iptables-save dumps of kube-proxy nodes.
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/cleanup/*"))):
        base = os.path.basename(path)
        if base.endswith((".v4", ".v6")) or ".after-" in base:
            put("iptables_save", base, open(path, "rb").read())

    # ipvsadm restore files: what `ipvsadm -S` prints, and the options.
    put("ipvsadm_restore", "save", "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 1\n"
        "-A -u [2001:db8::1]:53 -s sh -b sh-fallback,sh-port -p 300 -M 64\n"
        "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -i --tun-type gue --tun-port 6080 --tun-nocsum -x 10 -y 5\n"
        "-A -f 42 -s wlc --pe sip\n-a -f 42 -r 10.0.0.3:0 -g -w 0\n")
    put("ipvsadm_restore", "edit", "-E -t 10.0.0.1:80 -s wrr -p\n-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5\n"
        "-d -t 10.0.0.1:80 -r 192.168.1.10:8080\n-D -t 10.0.0.1:80\n-C\n-Z -t 10.0.0.1:80\n")
    put("ipvsadm_restore", "misc", "--set 900 120 300\n--start-daemon master --mcast-interface eth0 --syncid 5 "
        "--sync-maxlen 1400 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 2\n"
        "--stop-daemon backup\n-L -n --stats --exact\n-l -c --rate --thresholds --persistent-conn --sort\n"
        "-L --timeout\n-L --daemon\n-h\n-v\n-R\n-S -n\n")

    # ipset restore files: what `ipset save` prints, with comments, and
    # quoting at the edges (empty, unterminated, a quote inside a word).
    put("ipset_restore", "save", "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n"
        "add KUBE-CLUSTER-IP 10.96.0.1,tcp:443\nadd KUBE-CLUSTER-IP 10.96.0.10,udp:53\n"
        "create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 comment\n"
        "add KUBE-LOOP-BACK 10.244.1.5,tcp:8080,10.244.1.5 comment \"kube-system/dns: loop\"\n"
        "create v6 hash:net family inet6 timeout 300 counters\nadd v6 fd00::/64 timeout 0 packets 1 bytes 2\n")
    put("ipset_restore", "commands", "# a comment\n\n  -exist create s bitmap:port range 0-1024\n"
        "add -exist s 80\ndel s 80\ntest s 81\nflush s\nrename s t\nswap t u\ndestroy t\nCOMMIT\n")
    put("ipset_restore", "quotes", "add s 1.2.3.4 comment \"\"\nadd s 1.2.3.4 comment \"open\n"
        "add s a\"b c\"d\nadd s \"x y\"\"z\"\tcomment\t\"tab\there\"\r\n")


def rtnl_dump(kind):
    """One RTM_GET* dump of this host's namespace, as whole messages."""
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError:
        return []
    body = bytes(16) if kind == 18 else bytes(8)
    hdr = struct.pack("=IHHII", 16 + len(body), kind, 0x301, 1, 0)  # REQUEST | DUMP
    s.send(hdr + body)
    out = []
    while True:
        data = s.recv(65536)
        for k, flags, payload in netlink_messages(data):
            if k in (NLMSG_DONE, NLMSG_ERROR):
                s.close()
                return out
        at = 0
        while at + 16 <= len(data):
            length = struct.unpack_from("=I", data, at)[0]
            out.append(data[at : at + length])
            at += (length + 3) & ~3


if __name__ == "__main__":
    main()
