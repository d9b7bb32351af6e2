"""A small authoritative DNS server for tests, built on python3-dnslib (run by Debian's /usr/bin/python3).

Serves the zone data of a JSON file over UDP and TCP on one free loopback port and prints "READY <port>" on
stdout once both listen. Every question is logged on stdout as "QUERY <udp|tcp> <name> <type> DO=<0|1>".
Exits on SIGTERM/SIGINT, and when stdin reaches EOF (the test process is gone, however it died).

Zone JSON:
  records        zone-file lines, e.g. "example.test. 300 IN MX 10 mx1.example.test."
  authenticated  names whose replies carry the AD bit (as a validating resolver would set it)
  truncate       names whose UDP replies are empty with TC set, so the client must ask again over TCP
  truncateCut    names whose UDP replies are cut mid-record with TC set (the full answer comes over TCP)
  rcode          {name: "SERVFAIL" | "REFUSED" | ...}
  hang           names that get no reply at all
  malformed      {name: mode}: a hostile reply, see MALFORMED below
Names are matched case-insensitively, without the trailing dot.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading

from dnslib import DNSRecord, QTYPE, RCODE, RR, DNSLabel


def norm(name):
    return str(name).lower().rstrip(".")


class Zone:
    def __init__(self, spec):
        self.rrs = {}
        for line in spec.get("records", []):
            for rr in RR.fromZone(line):
                self.rrs.setdefault(norm(rr.rname), []).append(rr)
        self.authenticated = {norm(n) for n in spec.get("authenticated", [])}
        self.truncate = {norm(n) for n in spec.get("truncate", [])}
        self.truncate_cut = {norm(n) for n in spec.get("truncateCut", [])}
        self.hang = {norm(n) for n in spec.get("hang", [])}
        self.rcode = {norm(n): v for n, v in spec.get("rcode", {}).items()}
        self.malformed = {norm(n): v for n, v in spec.get("malformed", {}).items()}

    def answer(self, request):
        q = request.q
        name = norm(q.qname)
        reply = request.reply()  # QR, AA, RA; same ID and question
        if name in self.rcode:
            reply.header.rcode = getattr(RCODE, self.rcode[name])
            return reply
        current = name
        for _ in range(8):
            rrs = self.rrs.get(current)
            if rrs is None:
                if current == name:
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            wanted = [rr for rr in rrs if rr.rtype == q.qtype]
            if wanted:
                for rr in wanted:
                    reply.add_answer(rr)
                return reply
            cname = [rr for rr in rrs if rr.rtype == QTYPE.CNAME]
            if not cname:
                return reply
            reply.add_answer(cname[0])
            current = norm(cname[0].rdata.label)
        return reply


def header(request_bytes, flags=0x8400, qd=1, an=1, ns=0, ar=0):
    return request_bytes[:2] + struct.pack("!HHHHH", flags, qd, an, ns, ar)


def question_bytes(request_bytes):
    """The question section as the client sent it (header is 12 bytes; the name ends at the first 0 label)."""
    end = 12
    while request_bytes[end] != 0:
        end += 1 + request_bytes[end]
    return request_bytes[12 : end + 1 + 4]


def rr_fixed(rtype, rdlength, ttl=300):
    return struct.pack("!HHIH", rtype, 1, ttl, rdlength)


def malformed(mode, request_bytes, qtype):
    """Hostile replies: each one a message a careless parser would loop on, overrun or trust."""
    q = question_bytes(request_bytes)
    base = header(request_bytes) + q
    here = len(base)
    if mode == "pointer-loop":
        # The answer's owner name is a pointer to itself.
        return base + struct.pack("!H", 0xC000 | here) + rr_fixed(qtype, 0)
    if mode == "pointer-pair":
        # Two pointers that point at each other: the first backwards (legal on its own), the second forwards.
        name = b"\x01a" + struct.pack("!H", 0xC000 | (here + 4))
        return base + name + struct.pack("!H", 0xC000 | here) + rr_fixed(qtype, 0)
    if mode == "truncated-rdata":
        return base + b"\xc0\x0c" + rr_fixed(qtype, 200) + b"\x01\x02\x03\x04"
    if mode == "count-overflow":
        return header(request_bytes, an=0xFFFF) + q + b"\xc0\x0c" + rr_fixed(1, 4) + b"\x7f\x00\x00\x01"
    if mode == "txt-overrun":
        return base + b"\xc0\x0c" + rr_fixed(16, 5) + b"\x40abcd"
    if mode == "reserved-label":
        return base + b"\x40abc\x00" + rr_fixed(qtype, 0)
    if mode == "name-too-long":
        return base + b"\x3f" + b"a" * 63 + b"\x3f" + b"b" * 63 + b"\x3f" + b"c" * 63 + b"\x3f" + b"d" * 63 + b"\x00" + rr_fixed(qtype, 0)
    if mode == "short":
        return request_bytes[:2] + b"\x84"
    if mode == "no-question":
        # Right ID, but no question section: it answers nothing we asked, so the client must ignore it.
        return header(request_bytes, qd=0, an=0)
    if mode == "mx-target-overrun":
        # The MX exchange name runs past its RDLENGTH into the next bytes.
        return base + b"\xc0\x0c" + rr_fixed(15, 4) + b"\x00\x0a\x04mail\xc0\x0c"
    raise ValueError("unknown malformed mode %r" % mode)


class Server:
    def __init__(self, zone, log):
        self.zone = zone
        self.log = log

    def handle(self, data, proto):
        """Returns a list of byte strings to send (several for wrong-id-first), or [] for no reply."""
        try:
            request = DNSRecord.parse(data)
        except Exception:
            return []
        name = norm(request.q.qname)
        qtype = request.q.qtype
        do = 0
        for rr in request.ar:
            if rr.rtype == QTYPE.OPT:
                do = 1 if (rr.ttl & 0x8000) else 0
        self.log("QUERY %s %s %s DO=%d" % (proto, name, QTYPE.get(qtype), do))
        if name in self.zone.hang:
            return []
        mode = self.zone.malformed.get(name)
        if mode == "wrong-id-first":
            good = self.reply_bytes(request, proto)
            forged = bytes([good[0] ^ 0xFF, good[1]]) + good[2:]
            return [forged, good]
        if mode:
            return [malformed(mode, data, qtype)]
        return [self.reply_bytes(request, proto)]

    def reply_bytes(self, request, proto):
        name = norm(request.q.qname)
        reply = self.zone.answer(request)
        # dnslib's reply() copies the query's flag bits; AD must say what this server vouches for instead.
        reply.header.ad = 1 if name in self.zone.authenticated else 0
        if proto == "udp" and name in self.zone.truncate:
            reply.rr = []
            reply.header.tc = 1
        packed = reply.pack()
        if proto == "udp" and name in self.zone.truncate_cut and reply.rr:
            # Keep the counts, cut the last record in half, set TC.
            packed = bytearray(packed[: len(packed) - 3])
            packed[2] |= 0x02
            packed = bytes(packed)
        return packed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    with open(args.zone) as f:
        zone = Zone(json.load(f))
    lock = threading.Lock()

    def log(line):
        with lock:
            print(line, flush=True)

    server = Server(zone, log)

    class UdpHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            for out in server.handle(data, "udp"):
                sock.sendto(out, self.client_address)

    class TcpHandler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(10)
            buf = b""
            try:
                while True:
                    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                        chunk = self.request.recv(4096)
                        if not chunk:
                            return
                        buf += chunk
                    size = struct.unpack("!H", buf[:2])[0]
                    data, buf = buf[2 : 2 + size], buf[2 + size :]
                    for out in server.handle(data, "tcp"):
                        self.request.sendall(struct.pack("!H", len(out)) + out)
            except (socket.timeout, ConnectionError):
                return

    class Udp(socketserver.ThreadingUDPServer):
        daemon_threads = True

    class Tcp(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    udp = tcp = None
    for _ in range(50):
        udp = Udp((args.host, 0), UdpHandler)
        port = udp.server_address[1]
        try:
            tcp = Tcp((args.host, port), TcpHandler)
            break
        except OSError:
            udp.server_close()
            udp = None
    if tcp is None:
        print("no free port for UDP and TCP together", file=sys.stderr, flush=True)
        sys.exit(1)

    for srv in (udp, tcp):
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("READY %d" % port, flush=True)
    while not stop.wait(0.5):
        pass
    os._exit(0)  # the stdin watcher thread may still block in read()


if __name__ == "__main__":
    main()
