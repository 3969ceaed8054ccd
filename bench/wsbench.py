#!/usr/bin/python3
"""wsbench — parley real-time benchmark (issue 5; not a test).

Starts a dedicated parley server (scripts/serve.sh on free ports, fresh data
directory), opens N WebSocket sockets (spread over --users users, all
members of one public channel), measures the ws-daemon's CPU and RSS while
idle, then posts at a fixed rate through the web server (REST, lighttpd ->
FastCGI) and prints post-to-delivery latency p50/p99/max, deliveries per
second, and the daemon's CPU and RSS under load. Bounded in time.

The sockets are held by bench/wsreader.c (epoll, built on first use into
build/bench/): it counts message.created frames on every socket and parses
the frames of a sample (--sample) to measure latency; a Python reader
could not take 100k frames/s here. The clock starts just before the POST
is sent (the time travels in the content) and stops when the frame is
read; a second figure starts at the message's created_at (the daemon's
share, ms precision). Posting runs in a separate process.

Usage (from the repository root, after `make`):
  bench/wsbench.py -n 100 --rate 100 --seconds 10
  bench/wsbench.py -n 1000 --rate 100 --seconds 10
  bench/wsbench.py -n 5000 --rate 0 --idle 10          # idle sockets only
  bench/wsbench.py -n 1000 --conf "ws_inotify = 0"     # data_version polling only
  bench/wsbench.py -n 100 --engine postgres            # on PostgreSQL (LISTEN wake-ups)
Sockets connect through lighttpd (its /ws proxy) unless --direct: then
straight to the daemon's port. lighttpd's connection limit is raised to N +
1024 (serve.sh's LIGHTTPD_MAX_CONNECTIONS).
"""

import argparse
import base64
import calendar
import json
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"
CLK = os.sysconf("SC_CLK_TCK")


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Server:
    def __init__(self, extra_conf, engine="sqlite", sockets=0, frontend="lighttpd"):
        self.port, self.ws_port = free_ports(2)
        self.var = tempfile.mkdtemp(prefix="parley-bench-")
        self.engine = engine
        # postgres: serve.sh starts a cluster in var/pg (scripts/pg.sh), run
        # by the postgres user when we are root: it must reach the directory
        os.chmod(self.var, 0o711)
        # ws_user_limit = 0: -n 5000 puts 100 sockets on each of 50 users
        conf = ("register_addr_limit = 1000000\nlogin_addr_limit = 1000000\n"
                "login_user_limit = 1000000\nws_user_limit = 0\n"
                + extra_conf.replace("\\n", "\n"))
        env = dict(os.environ, PORT=str(self.port), WS_PORT=str(self.ws_port),
                   PARLEY_VAR=self.var, PARLEY_EXTRA_CONF=conf, PARLEY_PROCS="2",
                   LIGHTTPD_MAX_CONNECTIONS=str(sockets + 1024), PARLEY_FRONTEND=frontend,
                   PARLEY_LOCAL_PG="1" if engine == "postgres" else "0")
        self.log = open(os.path.join(self.var, "serve.log"), "wb")
        self.proc = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "serve.sh")],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + (60 if engine == "postgres" else 20)
        while True:
            try:
                if requests.get(self.base + "/api/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                sys.exit("server did not start; see %s" % self.var)
            time.sleep(0.2)
        self.wsd_pid = self._find("parley-wsd")

    def _find(self, name):
        pgid = os.getpgid(self.proc.pid)
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.getpgid(int(d)) != pgid:
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if name.encode() in f.read():
                        return int(d)
            except OSError:
                continue
        sys.exit("no %s process found" % name)

    def cpu_s(self):
        with open("/proc/%d/stat" % self.wsd_pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK

    def rss_mb(self):
        with open("/proc/%d/status" % self.wsd_pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def stop(self):
        try:
            os.killpg(os.getpgid(self.proc.pid), signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        if self.engine == "postgres":   # serve.sh stops it; make sure
            subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.var],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log.close()
        for line in open(os.path.join(self.var, "log", "wsd.log"), errors="replace"):
            if "passes woken" in line:   # the daemon's wake-up counters, at exit
                print("daemon: " + line.split("stopping", 1)[-1].strip())
        if os.environ.get("WSBENCH_KEEP") == "1":
            print("wsbench: server data and logs kept in " + self.var)
        else:
            shutil.rmtree(self.var, ignore_errors=True)


def api(s, method, base, path, token=None, body=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    r = s.request(method, base + path, data=json.dumps(body) if body is not None else None,
                  headers=h, timeout=30)
    if r.status_code >= 400:
        sys.exit("%s %s: %d %s" % (method, path, r.status_code, r.text[:200]))
    return r.json() if r.content else None


READER_SRC = os.path.join(ROOT, "bench", "wsreader.c")
READER = os.path.join(ROOT, "build", "bench", "wsreader")


def build_reader():
    if (not os.path.exists(READER)
            or os.path.getmtime(READER) < os.path.getmtime(READER_SRC)):
        os.makedirs(os.path.dirname(READER), exist_ok=True)
        subprocess.check_call(["cc", "-O2", "-o", READER, READER_SRC])


def parse_result(line):
    out = {}
    for kv in line.split()[1:]:
        k, v = kv.split("=")
        out[k] = [float(x) for x in v.split(",")] if "," in v else float(v)
    return out


def poster(base, token, channel, rate, seconds, out):
    """Posts `rate` messages/s for `seconds` (4 threads, so one slow POST
    does not shift the schedule much). Runs in its own process (no GIL
    shared with the readers); the send time travels in the content. Puts
    {"errors", "post_ms"} on the queue `out`."""
    stats = {"errors": 0, "post_ms": []}
    total = int(rate * seconds)
    lock = threading.Lock()
    nxt = [0]
    t0 = time.monotonic() + 0.2

    def worker():
        s = requests.Session()
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= total:
                return
            due = t0 + k / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.time()
            content = "bench %d %.6f" % (k, t)
            r = s.post(base + "/api/messages", json={"channel_id": channel, "content": content},
                       headers={"Authorization": "Bearer " + token}, timeout=30)
            stats["post_ms"].append((time.time() - t) * 1000)
            if r.status_code != 201:
                stats["errors"] += 1

    ths = [threading.Thread(target=worker) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    out.put(stats)


def run_poster(args_tuple):
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=poster, args=args_tuple + (q,))
    p.start()
    stats = q.get()
    p.join()
    return stats


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def run(args, srv):
    s = requests.Session()
    users = []
    for k in range(args.users):
        name = "bench%d_%s" % (k, base64.b32encode(os.urandom(5)).decode().lower())
        api(s, "POST", srv.base, "/api/auth/register", body={"username": name, "password": PASSWORD})
        tok = api(s, "POST", srv.base, "/api/auth/login",
                  body={"username": name, "password": PASSWORD})["access_token"]
        users.append(tok)
    ch = api(s, "POST", srv.base, "/api/channels", users[0], {"name": "bench"})["id"]
    for tok in users[1:]:
        api(s, "POST", srv.base, "/api/channels/%d/join" % ch, tok)
    direct = args.direct
    port = srv.ws_port if direct else srv.port
    tokfile = os.path.join(srv.var, "tokens")
    with open(tokfile, "w") as f:
        f.write("\n".join(users) + "\n")
    t0 = time.monotonic()
    reader = subprocess.Popen([READER, "127.0.0.1", str(port), str(args.n), tokfile,
                               str(args.sample)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    if reader.stdout.readline().strip() != "READY":
        sys.exit("the reader could not connect its sockets")
    print("connected %d sockets (%s) in %.1f s" % (
        args.n, "direct to the daemon" if direct else "through " + args.frontend, time.monotonic() - t0))
    time.sleep(2)
    c0, w0 = srv.cpu_s(), time.monotonic()
    time.sleep(args.idle)
    idle_cpu = (srv.cpu_s() - c0) / (time.monotonic() - w0) * 100
    idle_rss = srv.rss_mb()
    print("idle: daemon CPU %.2f %% of a core, RSS %.1f MB (%d sockets, %.1f s)" % (
        idle_cpu, idle_rss, args.n, args.idle))
    result = {"n": args.n, "idle_cpu": idle_cpu, "idle_rss": idle_rss, "direct": direct,
              "frontend": args.frontend,
              "conf": args.conf}
    if args.rate > 0:
        reader.stdin.write("R\n")
        reader.stdin.flush()
        c0, w0 = srv.cpu_s(), time.monotonic()
        stats = run_poster((srv.base, users[0], ch, args.rate, args.seconds))
        post_wall = time.monotonic() - w0
        time.sleep(2)                       # stragglers
        load_cpu = (srv.cpu_s() - c0) / (time.monotonic() - w0) * 100
        load_rss = srv.rss_mb()
    reader.stdin.close()
    r = parse_result(reader.stdout.readline())
    reader.wait(timeout=10)
    if args.rate > 0:
        want = int(args.rate * args.seconds) * args.n
        lat, latc = r["lat"], r["latc"]
        result.update(load_cpu=load_cpu, load_rss=load_rss, p50=lat[1], p99=lat[2], max=lat[3],
                      commit_p50=latc[1], commit_p99=latc[2], samples=lat[0],
                      deliveries=r["count"] / post_wall, delivered=r["count"], expected=want,
                      errors=stats["errors"], post_p50=pct(stats["post_ms"], 50),
                      post_p99=pct(stats["post_ms"], 99))
        print("load: %d posts/s for %.0f s; delivered %d of %d (%.0f deliveries/s); "
              "POST errors %d" % (args.rate, args.seconds, r["count"], want,
                                  result["deliveries"], stats["errors"]))
        print("latency post->delivery (ms, %d samples): p50 %.2f  p99 %.2f  max %.2f" % (
            lat[0], lat[1], lat[2], lat[3]))
        print("created_at->delivery (ms, the daemon's share, +-1 ms): p50 %.2f  p99 %.2f" % (
            latc[1], latc[2]))
        print("POST round trip itself (ms): p50 %.2f  p99 %.2f" % (result["post_p50"],
                                                                 result["post_p99"]))
        print("load: daemon CPU %.1f %% of a core, RSS %.1f MB" % (load_cpu, load_rss))
    print("RESULT " + json.dumps(result))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100, help="sockets")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--rate", type=float, default=100, help="posts per second (0: idle only)")
    ap.add_argument("--seconds", type=float, default=10, help="posting time")
    ap.add_argument("--idle", type=float, default=10, help="idle measurement time")
    ap.add_argument("--sample", type=int, default=50, help="sockets whose latency is measured")
    ap.add_argument("--direct", action="store_true", help="connect to the daemon's port")
    ap.add_argument("--frontend", choices=("lighttpd", "nginx"), default="lighttpd",
                    help="the web server in front (serve.sh's PARLEY_FRONTEND)")
    ap.add_argument("--conf", default="", help="extra parley.conf lines (\\n separated)")
    ap.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite",
                    help="postgres: a local cluster in the server's data dir")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.n * 3 + 5000  # the reader's sockets, lighttpd's both sides
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))
    build_reader()
    srv = Server(args.conf, args.engine, args.n, args.frontend)
    signal.signal(signal.SIGALRM, lambda *a: sys.exit("wsbench: time limit (300 s) reached"))
    signal.alarm(300)
    try:
        run(args, srv)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
