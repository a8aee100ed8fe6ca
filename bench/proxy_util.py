#!/usr/bin/env python3
"""bench/proxy_util.py: the small helpers bench/proxy needs that sh lacks.

  proxy_util.py ports N                  N free loopback TCP ports, one a line
  proxy_util.py wait ADDR PORT PID SECONDS  until ADDR:PORT accepts; exit 1
                                         if PID exits first or time runs out
  proxy_util.py idle PROXY_PORT ORIGIN_PORT NAME CAFILE COUNT PID
                                         RSS per idle intercepted connection:
                                         prints "BEFORE_KIB AFTER_KIB OPENED"
  proxy_util.py report RESULTS           the table and the ratios

RSS is the sum of VmRSS over PID and its descendants (squid's certificate
helpers are its children), read from /proc.
"""
import os
import socket
import ssl
import statistics
import sys
import time


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    for s in socks:
        print(s.getsockname()[1])
        s.close()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited but is not reaped yet.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_port(addr, port, pid, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return 1
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return 0
        except OSError:
            time.sleep(0.05)
    return 1


def tree(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("connection closed in the response head")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def open_one(proxy_port, origin_port, name, ctx):
    """A CONNECT tunnel, a verified TLS handshake through it and one
    keep-alive request whose response is read whole; returns the socket."""
    raw = socket.create_connection(("127.0.0.1", proxy_port), timeout=30)
    raw.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (name, origin_port, name, origin_port)).encode())
    head, rest = read_head(raw)
    if head.split(" ", 2)[1] != "200" or rest:
        raise OSError("CONNECT refused: " + head.splitlines()[0])
    tls = ctx.wrap_socket(raw, server_hostname=name)
    tls.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: keep-alive\r\n\r\n" % (name, origin_port)).encode())
    head, body = read_head(tls)
    length = None
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    if head.split(" ", 2)[1] != "200" or length is None:
        raise OSError("unexpected response: " + head.splitlines()[0])
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise OSError("connection closed in the body")
        body += chunk
    return tls


def idle(proxy_port, origin_port, name, cafile, count, pid):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    # Warm up: whatever the proxy initialises or mints on first use is paid
    # before the baseline is read.
    for _ in range(10):
        open_one(proxy_port, origin_port, name, ctx).close()
    time.sleep(1)
    before = rss_kib(pid)
    conns = []
    try:
        for _ in range(count):
            conns.append(open_one(proxy_port, origin_port, name, ctx))
    except OSError as e:
        print("proxy_util idle: connection %d: %s" % (len(conns) + 1, e), file=sys.stderr)
    time.sleep(2)
    after = rss_kib(pid)
    print(before, after, len(conns))
    for c in conns:
        c.close()
    return 0 if len(conns) == count else 1


def report(path):
    """RESULTS has one "COLUMN METRIC VALUE" a line; several values of one
    metric are rounds (or repetitions), summarised by their median. Ratios
    and differences between columns are taken round by round, between
    figures measured a few seconds apart, and their median is reported:
    the machine's drift then touches both sides of each pair alike."""
    vals = {}
    with open(path) as f:
        for line in f:
            col, metric, value = line.split()
            vals.setdefault((col, metric), []).append(float(value))
    cols = [c for c in ("direct", "omnibox", "squid", "mitmproxy") if any(k[0] == c for k in vals)]

    def med(col, metric):
        v = vals.get((col, metric))
        return statistics.median(v) if v else None

    def fmt(v, spec, unit=""):
        return "-" if v is None else (spec % v) + unit

    print()
    def paired(a, b, op):
        x, y = vals.get((a[0], a[1]), []), vals.get((b[0], b[1]), [])
        if not x or len(x) != len(y):
            return None
        return statistics.median(op(p, q) for p, q in zip(x, y))

    def ratio(a, b):
        return paired((a, "rps"), (b, "rps"), lambda p, q: p / q)

    def added(c):
        return paired((c, "p50_ms"), ("direct", "p50_ms"), lambda p, q: p - q)

    print("%-10s %10s %15s %10s %11s %11s %11s %10s %10s" % (
        "column", "req/s", "(min-max)", "p50 1 cl", "added p50", "hs new", "hs cached", "KiB/idle", "RSS base"))
    for c in cols:
        rps = vals.get((c, "rps"), [])
        spread = "%.0f-%.0f" % (min(rps), max(rps)) if rps else "-"
        base = med(c, "rss_base_kib")
        print("%-10s %10s %15s %10s %11s %11s %11s %10s %10s" % (
            c, fmt(med(c, "rps"), "%.0f"), spread,
            fmt(med(c, "p50_ms"), "%.3f", " ms"), fmt(None if c == "direct" else added(c), "%+.3f", " ms"),
            fmt(med(c, "hs_new_ms"), "%.2f", " ms"), fmt(med(c, "hs_cached_ms"), "%.2f", " ms"),
            fmt(med(c, "idle_kib"), "%.1f"), fmt(None if base is None else base / 1024, "%.1f", " MiB")))
    print("(req/s and p50: medians over %d rounds; added p50 and the ratios below: medians of the rounds' own)"
          % max((len(v) for k, v in vals.items() if k[1] == "rps"), default=0))
    print()
    for anchor in ("squid", "mitmproxy"):
        r = ratio(anchor, "direct")
        hs = paired((anchor, "hs_new_ms"), (anchor, "hs_cached_ms"), lambda p, q: p - q)
        if r is not None:
            print("%s/direct req/s: %.2f" % (anchor, r))
        if hs is not None:
            print("%s handshake new - cached name (ms): %.2f" % (anchor, hs))
    if ("omnibox", "rps") not in vals:
        print("omnibox: no figures (the proxy did not run); targets below are unchecked")
        return 0
    lines = [
        ("omnibox/squid req/s", ratio("omnibox", "squid"), "%.2f", ">= 2.0", lambda v: v >= 2.0),
        ("omnibox/direct req/s", ratio("omnibox", "direct"), "%.2f", ">= 0.5", lambda v: v >= 0.5),
        ("omnibox added p50, one client (ms)", added("omnibox"), "%.3f", "<= 0.15", lambda v: v <= 0.15),
        ("omnibox handshake new - cached name (ms)",
         paired(("omnibox", "hs_new_ms"), ("omnibox", "hs_cached_ms"), lambda p, q: p - q), "%.2f", None, None),
        ("omnibox KiB per idle intercepted connection", med("omnibox", "idle_kib"), "%.1f", "<= 48",
         lambda v: v <= 48),
    ]
    for label, v, spec, target, ok in lines:
        if v is None:
            print("%s: -" % label)
        elif target is None:
            print("%s: %s" % (label, spec % v))
        else:
            print("%s: %s (target %s: %s)" % (label, spec % v, target, "met" if ok(v) else "NOT met"))
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "ports" and len(argv) == 3:
        free_ports(int(argv[2]))
        return 0
    if cmd == "wait" and len(argv) == 6:
        return wait_port(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    if cmd == "idle" and len(argv) == 8:
        return idle(int(argv[2]), int(argv[3]), argv[4], argv[5], int(argv[6]), int(argv[7]))
    if cmd == "report" and len(argv) == 3:
        return report(argv[2])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
