#!/usr/bin/env python3
"""Fault injection for annals on Postgres + NATS JetStream (run it through bench/chaos.sh).

Starts its own nats-server (JetStream, free port, temporary store) and a fresh Postgres database,
runs `annals serve` + `annals relay` + two `annals worker` under a small supervisor (a process
that dies is started again), drives a steady load of several users' commands with read-backs,
injects faults (kill -9 of each process kind, NATS SIGTERM and SIGKILL restarts, a NATS outage),
then checks: acknowledged commands missing from the log, read models different from a rebuild,
stream messages missing/duplicated against the log, read-your-writes violations, stale reads,
and the time to catch up after each fault. Writes a Markdown report; exits 1 if a count that
must be zero is not. Python 3 standard library only.
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PG = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": os.environ.get("PGPORT", "5432"),
      "user": os.environ.get("PGUSER", "postgres")}
PASSWORD = "chaos-monkey-Password-7411"
JWT_SECRET = "chaos-secret-0123456789abcdef0123456789abcdef"
SERVE_RESTART = 2.0


def now():
    return time.monotonic()


def log(msg):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def lock_key(role):
    """A role's advisory lock key (src/adapters/postgres/leadership.rs)."""
    h = 0xCBF29CE484222325
    for b in b"annals:" + role.encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(db, sql, check=True):
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PG["host"], "-p", PG["port"],
         "-U", PG["user"], "-d", db, "-c", sql],
        capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"psql {db}: {out.stderr.strip()}")
    return out.stdout


def pg_url(db, app):
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}?application_name={app}"


# ---------------------------------------------------------------------------------------------
# Processes


class Supervisor:
    """Keeps the annals processes running: one that exits is started again after 200 ms."""

    def __init__(self, binary, tmp, env):
        self.binary, self.tmp, self.env = binary, tmp, env
        self.procs, self.starts, self.exits = {}, {}, []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self, role):
        kind = role.rstrip("0123456789")
        env = dict(self.env)
        env["DATABASE_URL"] = pg_url(env["CHAOS_DB"], f"chaos-{role}")
        out = open(os.path.join(self.tmp, f"{role}.log"), "ab")
        out.write(f"\n===== start {datetime.datetime.now().isoformat()} =====\n".encode())
        out.flush()
        p = subprocess.Popen([self.binary, kind], env=env, stdout=out, stderr=subprocess.STDOUT)
        with self.lock:
            self.procs[role] = p
            self.starts[role] = self.starts.get(role, 0) + 1
        return p

    def _loop(self):
        while not self.stopping:
            time.sleep(0.1)
            with self.lock:
                dead = [(r, p) for r, p in self.procs.items() if p.poll() is not None]
            for role, p in dead:
                if self.stopping:
                    return
                self.exits.append((time.time(), role, p.returncode))
                # The API process comes back later than the standbys poll for leadership (1 s),
                # so that the relay and a worker take over and later faults hit leaders.
                time.sleep(SERVE_RESTART if role == "serve" else 0.2)
                if not self.stopping:
                    self.start(role)

    def kill9(self, role):
        with self.lock:
            p = self.procs[role]
        os.kill(p.pid, signal.SIGKILL)
        return p.pid

    def pid_of(self, role):
        with self.lock:
            return self.procs[role].pid

    def stop_all(self):
        self.stopping = True
        self.thread.join(timeout=2)
        with self.lock:
            procs = list(self.procs.values())
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Nats:
    def __init__(self, tmp):
        self.port = free_port()
        self.store = os.path.join(tmp, "nats")
        self.logfile = os.path.join(tmp, "nats.log")
        self.proc = None
        self.binary = os.environ.get("NATS_SERVER", "/usr/sbin/nats-server")

    def start(self):
        out = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", self.store],
            stdout=out, stderr=subprocess.STDOUT)
        deadline = now() + 20
        while now() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"


# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=10):
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    payload = json.loads(raw) if raw else None
                except ValueError:
                    payload = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                # A kept-alive connection may have been closed by a restart: retry once only
                # if nothing can have been sent (connection refused) is not knowable here, so
                # only GETs are retried.
                if method != "GET" or attempt == 1:
                    raise
        raise OSError("unreachable")


def wait_ready(port, timeout=60):
    c = Client(port)
    deadline = now() + timeout
    while now() < deadline:
        try:
            st, _, body = c.request("GET", "/readyz", timeout=5)
            if st == 200:
                return body
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise RuntimeError("annals serve not ready")


class User:
    def __init__(self, port, email):
        self.client = Client(port)
        self.email = email
        self.token = None

    def login(self):
        while True:
            try:
                st, _, body = self.client.request("POST", "/core/login",
                                                  {"email": self.email, "password": PASSWORD})
                if st == 200:
                    self.token = body["access"]
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)

    def register(self):
        while True:
            try:
                st, _, _ = self.client.request("POST", "/core/register", {
                    "email": self.email, "firstName": "Chaos", "lastName": "Load",
                    "password": PASSWORD})
                if st in (201, 409):
                    break
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        self.login()

    def auth(self, extra=None):
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(extra or {})
        return h

    def patch(self, value):
        """(status, position) or raises on transport errors."""
        st, h, _ = self.client.request("PATCH", "/core/me", {"firstName": value}, self.auth())
        if st == 401:
            self.login()
        return st, h.get("x-annals-position")

    def get(self, position=None):
        extra = {"X-Annals-Position": position} if position else {}
        st, h, body = self.client.request("GET", "/core/me", None, self.auth(extra))
        if st == 401:
            self.login()
        return st, h.get("x-annals-consistency") == "stale", body


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.acks = []  # (value, position)
        self.errors = 0
        self.non2xx = {}
        self.reads = 0
        self.stale = []  # times
        self.violations = []  # (time, expected, got)
        self.read_errors = 0

    def add(self, field, item):
        with self.lock:
            getattr(self, field).append(item)


def load_thread(user, idx, rec, stop, pace):
    k = 0
    while not stop.is_set():
        k += 1
        value = f"L{idx}-{k}-{random.randrange(1 << 30):x}"
        try:
            st, pos = user.patch(value)
        except (OSError, http.client.HTTPException):
            with rec.lock:
                rec.errors += 1
            time.sleep(0.1)
            continue
        if not (200 <= st < 300 and pos):
            with rec.lock:
                rec.non2xx[st] = rec.non2xx.get(st, 0) + 1
            time.sleep(0.1)
            continue
        rec.add("acks", (value, pos))
        if k % 10 == 0:
            # A second projection: API keys created (and every other one revoked).
            try:
                kst, kh, kbody = user.client.request("POST", "/api/api_keys", {"name": f"K{value}"}, user.auth())
                if 200 <= kst < 300 and kh.get("x-annals-position"):
                    rec.add("acks", (f"K{value}", kh["x-annals-position"]))
                    if k % 20 == 0:
                        user.client.request("DELETE", f"/api/api_keys/{kbody['api_key']['id']}", None, user.auth())
            except (OSError, http.client.HTTPException, KeyError, TypeError):
                pass
        # Read back: half with the position header, half relying on the server's own rule.
        try:
            rst, stale, body = user.get(pos if k % 2 else None)
        except (OSError, http.client.HTTPException):
            with rec.lock:
                rec.read_errors += 1
            time.sleep(0.1)
            continue
        with rec.lock:
            rec.reads += 1
        if rst == 200:
            if stale:
                rec.add("stale", time.time())
            elif (body or {}).get("firstName") != value:
                rec.add("violations", (time.time(), value, (body or {}).get("firstName")))
        else:
            with rec.lock:
                rec.read_errors += 1
        time.sleep(pace)


def probe_catch_up(user, t0, limit=120):
    """From `t0`: (seconds until a write issued after the fault was acknowledged, seconds until
    it was read back fresh). A write is retried until acknowledged, its read until fresh."""
    value = f"P-{random.randrange(1 << 40):x}"
    acked = None
    deadline = t0 + limit
    pos = None
    while now() < deadline:
        try:
            st, pos = user.patch(value)
            if 200 <= st < 300 and pos:
                acked = now() - t0
                break
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    if acked is None:
        return None, None
    while now() < deadline:
        try:
            st, stale, body = user.get(pos)
            if st == 200 and not stale and (body or {}).get("firstName") == value:
                return acked, now() - t0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return acked, None


# ---------------------------------------------------------------------------------------------
# Reading the whole stream (NATS protocol over a socket; an ephemeral push consumer with flow
# control, acks none).


def read_stream(port, stream, timeout=300):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = sock.makefile("rb")
    f.readline()  # INFO
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,'
                 b'"lang":"python","version":"chaos"}\r\nPING\r\n')
    inbox, deliver = "_INBOX.chaos.reply", "_INBOX.chaos.deliver"

    def pub(subject, payload, reply=""):
        b = json.dumps(payload).encode() if payload is not None else b""
        sock.sendall(f"PUB {subject} {reply} {len(b)}\r\n".replace("  ", " ").encode() + b + b"\r\n")

    def frame():
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("NATS closed the connection")
            parts = line.decode().split()
            op = parts[0].upper()
            if op == "PING":
                sock.sendall(b"PONG\r\n")
            elif op in ("PONG", "+OK", "INFO"):
                continue
            elif op == "-ERR":
                raise RuntimeError(line.decode())
            elif op == "MSG":
                subj, reply, n = parts[1], (parts[3] if len(parts) == 5 else ""), int(parts[-1])
                data = f.read(n + 2)[:-2]
                return subj, reply, {}, "", data
            elif op == "HMSG":
                subj = parts[1]
                reply = parts[3] if len(parts) == 6 else ""
                hn, tn = int(parts[-2]), int(parts[-1])
                blob = f.read(tn + 2)[:-2]
                head, data = blob[:hn].decode(), blob[hn:]
                lines = head.split("\r\n")
                status = lines[0][len("NATS/1.0"):].strip()
                hdrs = {}
                for ln in lines[1:]:
                    if ":" in ln:
                        key, val = ln.split(":", 1)
                        hdrs[key.strip().lower()] = val.strip()
                return subj, reply, hdrs, status, data

    sock.sendall(f"SUB {inbox} 1\r\nSUB {deliver} 2\r\n".encode())
    pub(f"$JS.API.STREAM.INFO.{stream}", None, inbox)
    info = json.loads(frame()[4])
    total = info["state"]["messages"]
    msgs = []
    if total:
        pub(f"$JS.API.CONSUMER.CREATE.{stream}", {"stream_name": stream, "config": {
            "deliver_subject": deliver, "deliver_policy": "all", "ack_policy": "none",
            "replay_policy": "instant", "flow_control": True, "idle_heartbeat": 5_000_000_000,
            "mem_storage": True}}, inbox)
        created = None
        deadline = now() + timeout
        while len(msgs) < total and now() < deadline:
            subj, reply, hdrs, status, data = frame()
            if subj == inbox:
                created = json.loads(data)
                if "error" in created:
                    raise RuntimeError(f"consumer: {created['error']}")
                continue
            if status.startswith("100"):
                if reply:  # flow control
                    sock.sendall(f"PUB {reply} 0\r\n\r\n".encode())
                continue
            # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
            sseq = int(reply.split(".")[-4]) if reply else None
            msgs.append((sseq, hdrs.get("nats-msg-id"), data))
    sock.close()
    return info, msgs


# ---------------------------------------------------------------------------------------------
# The run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--short", action="store_true", help="one fault of each kind, a 10 s outage")
    ap.add_argument("--out", default="bench/results/chaos.md")
    ap.add_argument("--users", type=int, default=6)
    ap.add_argument("--pace", type=float, default=0.02, help="pause between a user's commands, s")
    ap.add_argument("--rounds", type=int, default=4, help="rounds of the five kill/restart faults")
    ap.add_argument("--outage", type=float, default=60.0, help="NATS outage, s")
    ap.add_argument("--keep", action="store_true", help="keep database, stream store and logs")
    args = ap.parse_args()
    if args.short:
        args.rounds, args.outage = 1, 10.0
    settle = 2.0 if args.short else 4.0

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    stamp = started_wall.strftime("%Y%m%d%H%M%S") + f"{random.randrange(1000):03d}"
    db = f"annals_chaos_{stamp}"
    tmp = tempfile.mkdtemp(prefix="annals-chaos-")
    log(f"database {db}, scratch {tmp}")
    psql("postgres", f"CREATE DATABASE {db}")
    nats = Nats(tmp)
    nats.start()
    log(f"nats-server on {nats.port} (store {nats.store})")
    http_port = free_port()
    stream = f"CHAOS_{stamp}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANNALS_", "DATABASE_URL", "NATS_URL"))}
    env.update({
        "CHAOS_DB": db, "NATS_URL": nats.url, "ANNALS_NATS_STREAM": stream,
        "ANNALS_NATS_SUBJECT_PREFIX": f"chaos.{stamp}", "ANNALS_BIND": f"127.0.0.1:{http_port}",
        "ANNALS_JWT_SECRET": JWT_SECRET, "ANNALS_DATA_DIR": os.path.join(tmp, "data"),
        "ANNALS_LOGIN_RATE_PER_MINUTE": "6000", "RUST_LOG": env.get("RUST_LOG", "info,sqlx=warn"),
    })
    sup = Supervisor(args.binary, tmp, env)
    failures = []
    try:
        sup.start("serve")
        wait_ready(http_port)
        for role in ("relay", "worker1", "worker2"):
            sup.start(role)
        sup.thread.start()

        users = [User(http_port, f"chaos-{stamp}-{i}@example.com") for i in range(args.users)]
        for u in users:
            u.register()
        probe = User(http_port, f"chaos-{stamp}-probe@example.com")
        probe.register()
        log(f"{len(users)} users registered; load starts")

        rec = Recorder()
        stop = threading.Event()
        threads = [threading.Thread(target=load_thread, args=(u, i, rec, stop, args.pace), daemon=True)
                   for i, u in enumerate(users)]
        for t in threads:
            t.start()
        time.sleep(3 if args.short else 8)

        def leaders():
            rows = psql(db, "SELECT a.application_name, (l.classid::bigint << 32) | l.objid::bigint "
                            "FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())")
            out = {}
            keys = {lock_key("relay"): "relay", lock_key("projections"): "projections",
                    lock_key("workspace_invitations"): "invitations"}
            for line in rows.splitlines():
                if "|" not in line:
                    continue
                app, key = line.split("|")
                key = int(key)
                key = key - (1 << 64) if key >= 1 << 63 else key
                out[keys.get(key, hex(key))] = app.replace("chaos-", "")
            return out

        kinds = ["serve", "relay", "worker", "nats-term", "nats-kill"]
        plan = []
        for r in range(args.rounds):
            plan += kinds
            if r == args.rounds // 2 - 1 or args.rounds == 1:
                plan.append("nats-outage")
        faults = []
        for n, kind in enumerate(plan, 1):
            before = leaders()
            stale0, viol0, err0 = len(rec.stale), len(rec.violations), rec.errors
            detail = ""
            t0 = now()
            if kind == "serve":
                detail = f"pid {sup.kill9('serve')}"
            elif kind == "relay":
                detail = f"pid {sup.kill9('relay')}"
            elif kind == "worker":
                # The leading worker if a worker leads the projections, else alternate.
                lead = before.get("projections", "")
                role = lead if lead.startswith("worker") else ("worker1" if n % 2 else "worker2")
                detail = f"{role} pid {sup.kill9(role)}"
            elif kind in ("nats-term", "nats-kill"):
                nats.stop(signal.SIGTERM if kind == "nats-term" else signal.SIGKILL)
                nats.start()
            elif kind == "nats-outage":
                nats.stop(signal.SIGTERM)
            acked, fresh = probe_catch_up(probe, t0)
            back = None
            if kind == "nats-outage":
                # A process that starts while NATS is down: serve killed in the outage.
                t2 = now()
                pid = sup.kill9("serve")
                acked2, fresh2 = probe_catch_up(probe, t2)
                extra = ({"n": f"{n}a", "kind": "serve (NATS down)", "detail": f"pid {pid}",
                               "led": "", "acked": acked2, "fresh": fresh2, "back": None,
                               "stale": None, "violations": None, "errors": None})
                log(f"serve killed during the outage: write acked after {acked2}, fresh after {fresh2}")
                remaining = args.outage - (now() - t0)
                if remaining > 0:
                    time.sleep(remaining)
                detail = f"{args.outage:.0f} s down"
                stale_down = len(rec.stale) - stale0
                t1 = now()
                nats.start()
                _, back = probe_catch_up(probe, t1)
            time.sleep(settle)
            f = {"n": n, "kind": kind, "detail": detail, "led": ", ".join(
                     r for r, who in before.items()
                     if (kind == "serve" and who == "serve") or (kind == "relay" and who == "relay")
                     or (kind == "worker" and detail.startswith(who))) or "-",
                 "acked": acked, "fresh": fresh, "back": back,
                 "stale": len(rec.stale) - stale0, "violations": len(rec.violations) - viol0,
                 "errors": rec.errors - err0}
            if kind == "nats-outage":
                f["stale_down"] = stale_down
            faults.append(f)
            if kind == "nats-outage":
                faults.append(extra)
            log(f"fault {n}/{len(plan)} {kind} {detail}: write acked after {acked}, "
                f"fresh after {fresh}, stale {f['stale']}, led {f['led']}")
        stop.set()
        for t in threads:
            t.join(timeout=15)
        log(f"load stopped: {len(rec.acks)} acknowledged commands")

        # Drain: the relay and every follower at the log's head.
        drained = None
        t0 = now()
        while now() - t0 < 180:
            try:
                body = wait_ready(http_port, 30)
                pend = [body.get("relay", {}).get("pending_events", 1)] + [
                    p["pending_events"] for p in body.get("projections", []) + body.get("reactors", [])]
                if all(p == 0 for p in pend):
                    drained = now() - t0
                    break
            except RuntimeError:
                pass
            time.sleep(0.5)
        if drained is None:
            failures.append("did not drain within 180 s")
        time.sleep(1)

        # The stream against the log.
        events = [ln.split("|") for ln in psql(db, "SELECT aggregate_type || '/' || aggregate_id || '/' || sequence, "
                                                   "tx_id::text || '.' || global_id, payload::text FROM events "
                                                   "ORDER BY tx_id, global_id").splitlines() if ln]
        log_ids = [e[0] for e in events]
        info, msgs = read_stream(nats.port, stream)
        counts = {}
        positions = []
        for _, mid, data in msgs:
            counts[mid] = counts.get(mid, 0) + 1
            try:
                positions.append(json.loads(data).get("position"))
            except ValueError:
                positions.append(None)
        log_set = set(log_ids)
        stream_missing = sum(1 for i in log_ids if i not in counts)
        stream_dups = sum(c - 1 for c in counts.values() if c > 1)
        stream_foreign = sum(1 for i in counts if i not in log_set)
        order = {p: i for i, p in enumerate(e[1] for e in events)}
        idx = [order.get(p, -1) for p in positions]
        out_of_order = sum(1 for a, b in zip(idx, idx[1:]) if b <= a)

        # Acknowledged commands against the log, read through `annals replay`: personal fields
        # (the names this load writes) are stored sealed, and replay opens them.
        replay_env = {**env, "DATABASE_URL": pg_url(db, "chaos-replay")}
        replayed = subprocess.run([args.binary, "replay"], env=replay_env, capture_output=True, text=True)
        by_pos = {}
        for line in replayed.stdout.splitlines():
            if line.strip():
                envelope = json.loads(line)
                by_pos[envelope["position"]] = json.dumps(envelope["data"])
        if replayed.returncode != 0:
            failures.append(f"annals replay failed: {replayed.stderr.strip()[-300:]}")
        acks_missing = sum(1 for value, pos in rec.acks if value not in by_pos.get(pos, ""))

        # Stop everything; the read models against a rebuild of a copy.
        sup.stop_all()
        checkpoints = psql(db, "SELECT projection || '=' || tx_id::text || '.' || global_id FROM projection_checkpoints ORDER BY 1").split()
        head = psql(db, "SELECT tx_id::text || '.' || global_id FROM events ORDER BY tx_id DESC, global_id DESC LIMIT 1").strip()
        copy = f"{db}_rebuilt"
        psql("postgres", f"CREATE DATABASE {copy} TEMPLATE {db}")
        renv = {k: v for k, v in env.items() if k not in ("NATS_URL",)}
        renv["DATABASE_URL"] = pg_url(copy, "chaos-rebuild")
        t_rb = now()
        rb = subprocess.run([args.binary, "rebuild"], env=renv, capture_output=True, text=True)
        rebuild_s = now() - t_rb
        if rb.returncode != 0:
            failures.append(f"rebuild failed: {rb.stderr.strip()[-500:]}")
        q = "SELECT collection || ' ' || id, md5(doc::text || coalesce(owner, '')) FROM views"
        live = dict(ln.split("|") for ln in psql(db, q).splitlines() if ln)
        rebuilt = dict(ln.split("|") for ln in psql(copy, q).splitlines() if ln)
        only_live = [k for k in live if k not in rebuilt]
        only_rebuilt = [k for k in rebuilt if k not in live]
        differ = [k for k in live if k in rebuilt and live[k] != rebuilt[k]]
        views_diff = len(only_live) + len(only_rebuilt) + len(differ)
        if views_diff:
            log(f"views differ: live only {only_live[:5]}, rebuilt only {only_rebuilt[:5]}, differ {differ[:5]}")
        psql("postgres", f"DROP DATABASE IF EXISTS {copy}", check=False)

        outage = next((f for f in faults if f["kind"] == "nats-outage"), None)
        stale_outage = outage["stale_down"] if outage else 0
        verdict = [
            ("acknowledged commands missing from the log", acks_missing, True),
            ("read-model rows different from a rebuild", views_diff, True),
            ("log events missing from the stream", stream_missing, True),
            ("duplicate messages on the stream", stream_dups, True),
            ("stream messages not in the log", stream_foreign, True),
            ("stream messages out of log order", out_of_order, True),
            ("read-your-writes violations (fresh answer without the acknowledged write)", len(rec.violations), True),
            (f"stale reads during the NATS outage ({args.outage:.0f} s)", stale_outage, True),
            ("stale reads in the whole run (`X-Annals-Consistency: stale`)", len(rec.stale), False),
        ]
        bad = [name for name, v, zero in verdict if zero and v] + failures
        write_report(args, started_wall, db, stream, nats, rec, faults, verdict, bad, {
            "events": len(events), "stream_messages": len(msgs), "stream_state": info["state"],
            "drained": drained, "rebuild_s": rebuild_s, "checkpoints": checkpoints, "head": head,
            "restarts": sup.exits, "starts": sup.starts, "views": len(live),
            "elapsed": (datetime.datetime.now(datetime.timezone.utc) - started_wall).total_seconds(),
        })
        if bad:
            log("FAILED: " + "; ".join(bad) + f" (logs kept in {tmp})")
            args.keep = True
        return 1 if bad else 0
    finally:
        sup.stop_all()
        nats.stop(signal.SIGTERM)
        if not args.keep:
            psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", check=False)
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept database {db} and {tmp}")


def fmt(s):
    return "—" if s is None else f"{s:.2f}"


def write_report(args, started, db, stream, nats, rec, faults, verdict, bad, x):
    nv = subprocess.run([nats.binary, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"# annals chaos run ({'short' if args.short else 'full'})", "",
        f"{started:%Y-%m-%d %H:%M} UTC, commit {commit}, {x['elapsed']:.0f} s in all. "
        f"`bash bench/chaos.sh{' --short' if args.short else ''}`: Postgres database + own `{nv}` with "
        f"JetStream (fresh store), release `annals serve` + `annals relay` + 2 × `annals worker`, "
        f"restarted after they die (serve after {SERVE_RESTART:.0f} s, so that standbys take over its roles; the others after 200 ms). Load: {args.users} users each sending `PATCH /core/me` then "
        f"`GET /core/me` (every other one with `X-Annals-Position`), {args.pace * 1000:.0f} ms apart, and every "
        f"tenth time `POST /api/api_keys` (every other key revoked); "
        f"`ANNALS_READ_WAIT_MS` default (2000).", "",
        f"**Verdict: {'FAIL: ' + '; '.join(bad) if bad else 'PASS'}**", "",
        "| check | count | must be 0 |", "|---|---:|:---:|",
    ]
    for name, v, zero in verdict:
        lines.append(f"| {name} | {v} | {'yes' if zero else 'no'} |")
    errs = ", ".join(f"{k}: {v}" for k, v in sorted(rec.non2xx.items())) or "none"
    lines += [
        "", "| totals | |", "|---|---|",
        f"| acknowledged commands (2xx + `X-Annals-Position`) | {len(rec.acks)} |",
        f"| commands refused or failed: transport errors / non-2xx | {rec.errors} / {errs} |",
        f"| read-backs answered / failed | {rec.reads} / {rec.read_errors} |",
        f"| events in the log / messages on the stream | {x['events']} / {x['stream_messages']} (stream last seq {x['stream_state'].get('last_seq')}) |",
        f"| views rows | {x['views']} |",
        f"| drained after the load stopped (relay + projections + reactor at head) | {fmt(x['drained'])} s |",
        f"| `annals rebuild` of a copy | {x['rebuild_s']:.1f} s |",
        f"| log head / checkpoints after stopping | {x['head']} / {', '.join(x['checkpoints'])} |",
        f"| process starts (incl. first) | {', '.join(f'{k} {v}' for k, v in sorted(x['starts'].items()))} |",
        "",
        "## Faults", "",
        "Catch-up: from the fault to a write issued right after it being acknowledged, and read back "
        "fresh (`GET /core/me` with its position, no stale header, the new name). "
        "\"led\": the roles the killed process held (advisory locks) at the time.", "",
        "| # | fault | detail | led | write acked (s) | read fresh (s) | stale reads | RYW violations | failed requests |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for f in faults:
        fresh = fmt(f["fresh"])
        if f["kind"] == "nats-outage":
            fresh += f" (after NATS back: {fmt(f['back'])})"
        dash = lambda v: "(in the outage)" if v is None else v  # noqa: E731
        lines.append(f"| {f['n']} | {f['kind']} | {f['detail']} | {f['led'] or '-'} | {fmt(f['acked'])} | {fresh} | "
                     f"{dash(f['stale'])} | {dash(f['violations'])} | {dash(f['errors'])} |")
    by_kind = {}
    for f in faults:
        if f["fresh"] is not None:
            by_kind.setdefault(f["kind"], []).append(f["fresh"])
    lines += ["", "| fault kind | n | catch-up (read fresh) median | max |", "|---|---:|---:|---:|"]
    for k, v in by_kind.items():
        v = sorted(v)
        lines.append(f"| {k} | {len(v)} | {v[len(v) // 2]:.2f} s | {v[-1]:.2f} s |")
    if rec.violations:
        lines += ["", "Read-your-writes violations (first 10): " + "; ".join(
            f"{datetime.datetime.fromtimestamp(t):%H:%M:%S.%f} expected {e!r} got {g!r}" for t, e, g in rec.violations[:10])]
    lines.append("")
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
