#!/usr/bin/env python3
"""Side-by-side benchmark driver: warren-perf against Warren and RabbitMQ.

    Tools/bench.py                                  # all scenarios, 3 runs, 10 s each
    Tools/bench.py --scenarios a,d --runs 5 --time 20
    Tools/bench.py --quick                          # smoke test: 3 s, 1 run, 100k backlog
    Tools/bench.py --markdown BENCHMARKS.md --json bench-results/run.json

Every run gets a fresh broker (Conformance/brokers.py, its own throwaway
workdir, a free loopback port), and only one broker runs at a time. Runs
alternate between brokers (W R, R W, W R, ...) so slow drift on the machine
does not favour either. For each scenario the median over runs is reported
for each broker, with the ratio Warren/RabbitMQ and the target. While each run
is in progress the broker's process tree (RabbitMQ: rabbitmq-server ->
beam.smp -> ...) is sampled from /proc every ~100 ms for RSS, CPU time and, for
the idle-connection scenario, the number of established client connections.

warren-perf: --perf PATH, else $WARREN_PERF, else .build/release/warren-perf.
warren-server: --warren PATH, else whatever brokers.warren_binary() finds
($WARREN_SERVER, .build/release, .build/debug).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Conformance"))

import brokers as B  # noqa: E402  (Conformance/brokers.py)

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
URL_PLACEHOLDER = "$URL"


# --------------------------------------------------------------------------- scenarios

@dataclass
class Metric:
    key: str            # name in the per-run result dict
    label: str
    unit: str
    higher_is_better: bool
    fmt: str = "{:,.0f}"


@dataclass
class Target:
    metric: str
    kind: str           # "ratio": warren/rabbitmq OP value; "abs": warren OP value
    op: str             # ">=", "<=", "<"
    value: float
    text: str

    def check(self, warren: Optional[float], rabbit: Optional[float]) -> Optional[bool]:
        if warren is None:
            return None
        if self.kind == "ratio":
            if rabbit in (None, 0):
                return None
            v = warren / rabbit
        else:
            v = warren
        return {">=": v >= self.value, "<=": v <= self.value, "<": v < self.value}[self.op]


@dataclass
class Scenario:
    key: str
    title: str
    phases: list        # list of warren-perf argument lists (without --uri)
    metrics: list
    targets: list
    timeout: float      # per phase, seconds
    extract: Callable   # (phase results, samples) -> dict of metric values
    sample_connections: bool = False
    notes: str = ""
    between: Optional[Callable] = None   # (broker, phase results, values) after each non-last phase
    tls: bool = False   # both brokers get a TLS listener (test certificates); warren-perf uses amqps


def extract_rate(results, mon):
    r = results[0]
    return {"received_rate": r.get("received_rate"), "sent_rate": r.get("sent_rate"),
            "broker_peak_rss_mb": mon.peak_rss / 2**20 if mon.peak_rss else None,
            "broker_cpu_s": mon.cpu_seconds()}


def extract_latency(results, mon):
    d = extract_rate(results, mon)
    r = results[0]
    d.update({"latency_p50_us": r.get("latency_p50_us"), "latency_p99_us": r.get("latency_p99_us"),
              "latency_p999_us": r.get("latency_p999_us")})
    return d


def check_backlog(broker, results, values):
    """After the publish phase: the queue must hold every published message, or the drain
    phase (which stops only after --cmessages) would wait forever."""
    want = results[0].get("sent")
    depth = queue_depth(broker.url, "bench-backlog", want)
    values["queue_depth_after_publish"] = depth
    if depth is not None and want is not None and depth < want:
        raise RuntimeError(f"after the publish phase the queue holds {depth:,} messages but "
                           f"warren-perf reported sent={want:,}; not draining")


def queue_depth(url: str, queue: str, expect: Optional[int], wait: float = 10.0) -> Optional[int]:
    """Message count of `queue` (passive queue.declare via pika, if installed), polled for up
    to `wait` seconds until it reaches `expect`. None when pika is not available."""
    try:
        import pika
    except ImportError:
        return None
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        deadline = time.monotonic() + wait
        while True:
            depth = ch.queue_declare(queue=queue, passive=True).method.message_count
            if expect is None or depth >= expect or time.monotonic() > deadline:
                return depth
            time.sleep(0.2)
    finally:
        conn.close()


def extract_backlog(results, mon):
    pub, drain = results
    return {"publish_rate": pub.get("sent_rate"), "drain_rate": drain.get("received_rate"),
            "broker_peak_rss_mb": mon.peak_rss / 2**20 if mon.peak_rss else None,
            "published": pub.get("sent"), "drained": drain.get("received"),
            "broker_cpu_s": mon.cpu_seconds()}


def extract_idle(results, mon):
    conns, rss = mon.peak_connections()
    per = (rss - mon.baseline_rss) / conns if conns else None
    return {"bytes_per_connection": per, "connections_seen": conns,
            "baseline_rss_mb": mon.baseline_rss / 2**20,
            "rss_with_connections_mb": rss / 2**20 if conns else None}


RATE = Metric("received_rate", "received", "msg/s", True)


def scenarios(T: float, backlog: int, idle: int, idle_time: float) -> dict:
    t = f"{T:g}"
    s = [
        Scenario("a", "1 producer -> 1 consumer, 16 B, autoack",
                 [["--producers", "1", "--consumers", "1", "--size", "16", "--autoack", "--time", t]],
                 [RATE], [Target("received_rate", "ratio", ">=", 2.0, "Warren >= 2x")],
                 T + 60, extract_rate),
        Scenario("a-tls", "scenario (a) over TLS: 1 producer -> 1 consumer, 16 B, autoack",
                 [["--producers", "1", "--consumers", "1", "--size", "16", "--autoack", "--time", t]],
                 [RATE], [Target("received_rate", "ratio", ">=", 1.0, "Warren >= RabbitMQ (both TLS)")],
                 T + 60, extract_rate, tls=True,
                 notes="Issue 5 also asks Warren's TLS rate >= 0.8x its plain (a) rate: compare with (a)."),
        Scenario("b", "1 -> 1, 1 KiB, confirms (256 in flight), manual ack, qos 256",
                 [["--producers", "1", "--consumers", "1", "--size", "1024", "--qos", "256",
                   "--confirm", "256", "--time", t]],
                 [RATE], [Target("received_rate", "ratio", ">=", 1.5, "Warren >= 1.5x")],
                 T + 60, extract_rate),
        Scenario("c", "fanout to 4 queues / 4 consumers, 256 B, autoack",
                 [["--producers", "1", "--exchange-type", "fanout", "--queues", "4",
                   "--consumers", "4", "--size", "256", "--autoack", "--time", t]],
                 [Metric("received_rate", "deliveries", "msg/s", True)],
                 [Target("received_rate", "ratio", ">=", 3.0, "Warren >= 3x")],
                 T + 60, extract_rate,
                 notes="received_rate counts deliveries (4 per published message)."),
        Scenario("d", "latency at a fixed 2000 msg/s, 16 B, autoack",
                 [["--producers", "1", "--consumers", "1", "--rate", "2000", "--size", "16",
                   "--autoack", "--time", t]],
                 [Metric("latency_p50_us", "latency p50", "us", False, "{:,.0f}"),
                  Metric("latency_p99_us", "latency p99", "us", False, "{:,.0f}"),
                  Metric("latency_p999_us", "latency p99.9", "us", False, "{:,.0f}"),
                  RATE],
                 [Target("latency_p99_us", "ratio", "<=", 0.5, "Warren p99 <= 0.5x")],
                 T + 60, extract_latency),
        Scenario("e", f"backlog: publish {backlog:,} x 100 B to a queue, then drain it",
                 [["--queue", "bench-backlog", "--producers", "1", "--consumers", "0",
                   "--pmessages", str(backlog), "--size", "100", "--time", "3600"],
                  ["--queue", "bench-backlog", "--producers", "0", "--consumers", "1",
                   "--cmessages", str(backlog), "--autoack", "--time", "3600"]],
                 [Metric("publish_rate", "publish", "msg/s", True),
                  Metric("drain_rate", "drain", "msg/s", True),
                  Metric("broker_peak_rss_mb", "broker peak RSS", "MB", False, "{:,.1f}")],
                 [Target("broker_peak_rss_mb", "abs", "<", 500, "Warren < 500 MB"),
                  Target("drain_rate", "ratio", ">=", 3.0, "Warren >= 3x")],
                 60 + backlog / 5000, extract_backlog, between=check_backlog,
                 notes="Each phase stops after its message count (--time 3600 is only a cap); "
                       "peak RSS is over both phases."),
        Scenario("f", f"{idle:,} idle connections (1 channel each)",
                 [["--idle-connections", str(idle), "--time", f"{idle_time:g}"]],
                 [Metric("bytes_per_connection", "memory per connection", "bytes", False)],
                 [Target("bytes_per_connection", "abs", "<=", 30 * 1024, "Warren <= 30 KB")],
                 idle_time + 180, extract_idle, sample_connections=True,
                 notes="(broker RSS while all connections are open - RSS before) / connections "
                       "established, counted from /proc/net/tcp."),
    ]
    return {x.key: x for x in s}


# --------------------------------------------------------------------------- /proc sampling

def _children_map() -> dict:
    kids: dict = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                st = f.read()
            ppid = int(st[st.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def process_tree(pid: int) -> list:
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def tree_usage(pids: list) -> tuple:
    """(sum of RSS bytes, sum of utime+stime seconds) over pids still alive."""
    rss, cpu = 0, 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * PAGE
            with open(f"/proc/{p}/stat", "rb") as f:
                st = f.read()
            fields = st[st.rindex(b")") + 2:].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, ValueError, IndexError):
            continue
    return rss, cpu


def established_connections(port: int) -> int:
    """Established TCP sockets whose local port is `port` (the broker's side)."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except (OSError, StopIteration):
            continue
    return n


class Monitor:
    """Samples a broker's process tree every `interval` seconds in a thread."""

    def __init__(self, pid: int, port: int, connections: bool = False, interval: float = 0.1):
        self.pid, self.port, self.connections, self.interval = pid, port, connections, interval
        self.samples: list = []   # (t, rss, cpu, conns)
        self.baseline_rss = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pids: list = []
        self._pids_at = 0.0

    def sample(self) -> tuple:
        now = time.monotonic()
        if now - self._pids_at > 1.0 or not self._pids:   # the tree rarely changes
            self._pids, self._pids_at = process_tree(self.pid), now
        rss, cpu = tree_usage(self._pids)
        conns = established_connections(self.port) if self.connections else 0
        s = (now, rss, cpu, conns)
        self.samples.append(s)
        return s

    def measure_baseline(self, seconds: float = 1.0) -> None:
        vals = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            vals.append(self.sample()[1])
            time.sleep(self.interval)
        self.baseline_rss = int(statistics.median(vals))
        self.samples.clear()

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()

    @property
    def peak_rss(self) -> int:
        return max((s[1] for s in self.samples), default=0)

    def cpu_seconds(self) -> Optional[float]:
        if len(self.samples) < 2:
            return None
        return self.samples[-1][2] - self.samples[0][2]

    def peak_connections(self) -> tuple:
        """(max established connections seen, median RSS over samples with that many)."""
        top = max((s[3] for s in self.samples), default=0)
        if top == 0:
            return 0, 0
        # Samples within 1% of the peak count: all connections are open.
        rs = [s[1] for s in self.samples if s[3] >= top * 0.99]
        return top, int(statistics.median(rs))


# --------------------------------------------------------------------------- running

def perf_command(perf: str) -> list:
    if perf.endswith(".py"):     # e.g. a Python stand-in
        return [sys.executable, perf]
    return [perf]


def run_perf(cmd: list, timeout: float) -> dict:
    """Run warren-perf; return its final JSON line as a dict (raises on failure)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = "\n".join(((e.stdout or "") + (e.stderr or "")).splitlines()[-5:]) \
            if isinstance(e.stdout or "", str) else ""
        raise RuntimeError(f"warren-perf timed out after {timeout:.0f}s"
                           + (f"; its last output:\n{out}" if out.strip() else "")) from None
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    result = None
    if lines:
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            result = None
    if p.returncode != 0 or not isinstance(result, dict):
        tail = "\n".join((p.stdout + p.stderr).splitlines()[-10:])
        raise RuntimeError(f"warren-perf exited {p.returncode} without a JSON result:\n{tail}")
    return result


@dataclass
class RunRecord:
    scenario: str
    broker: str
    run: int
    ok: bool
    values: dict = field(default_factory=dict)
    raw: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    error: str = ""
    broker_version: str = ""


def tls_config(workdir: str) -> tuple[list, int, str]:
    """Test certificates (Tools/make-certs.sh) and the TLS listener lines both brokers read."""
    certs = os.path.join(workdir, "certs")
    subprocess.run(["bash", os.path.join(REPO, "Tools", "make-certs.sh"), certs], check=True,
                   stdout=subprocess.DEVNULL)
    port = B.free_port()
    lines = [f"listeners.ssl.default = {port}",
             f"ssl_options.cacertfile = {certs}/ca_certificate.pem",
             f"ssl_options.certfile = {certs}/server_certificate.pem",
             f"ssl_options.keyfile = {certs}/server_key.pem",
             "ssl_options.verify = verify_none"]
    return lines, port, f"{certs}/ca_certificate.pem"


def start_broker(kind: str, workdir: str, warren_bin: Optional[str], config_lines=()):
    if kind == "rabbitmq":
        return B.start_rabbitmq(workdir, config_lines=config_lines)
    return B.start_warren(workdir, binary=warren_bin, config_lines=config_lines)


def one_run(sc: Scenario, kind: str, run: int, args, warren_bin) -> RunRecord:
    rec = RunRecord(sc.key, kind, run, False)
    workdir = tempfile.mkdtemp(prefix=f"bench-{kind}-{sc.key}-")
    broker = None
    try:
        uri_args: list = []
        if sc.tls:
            lines, tls_port, ca = tls_config(workdir)
            broker = start_broker(kind, workdir, warren_bin, lines)
            uri_args = ["--uri", f"amqps://guest:guest@127.0.0.1:{tls_port}/%2F", "--cacert", ca]
        else:
            broker = start_broker(kind, workdir, warren_bin)
            uri_args = ["--uri", broker.url]
        time.sleep(args.settle)  # let the fresh broker finish booting in the background
        mon = Monitor(broker.pid, broker.port, connections=sc.sample_connections)
        mon.measure_baseline(1.0)
        mon.start()
        between_values: dict = {}
        try:
            for i, phase in enumerate(sc.phases):
                cmd = perf_command(args.perf) + uri_args + phase
                rec.commands.append(cmd)
                rec.raw.append(run_perf(cmd, sc.timeout))
                if not broker.alive():
                    raise RuntimeError(f"{kind} died during the run; log tail:\n{broker.log_tail(15)}")
                if sc.between is not None and i < len(sc.phases) - 1:
                    sc.between(broker, rec.raw, between_values)
        finally:
            mon.stop()
        rec.values = sc.extract(rec.raw, mon)
        rec.values.update(between_values)
        rec.values["broker_baseline_rss_mb"] = mon.baseline_rss / 2**20
        problems = sanity_problems(sc, rec)
        if problems:
            raise RuntimeError("; ".join(problems))
        rec.ok = True
    except Exception as e:  # noqa: BLE001 - recorded and reported
        rec.error = f"{type(e).__name__}: {e}"
    finally:
        if broker is not None:
            broker.stop()
        if not args.keep_workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
    return rec


def sanity_problems(sc: Scenario, rec: RunRecord) -> list:
    v, out = rec.values, []
    if sc.key == "e":
        want = int(sc.phases[0][sc.phases[0].index("--pmessages") + 1])
        if v.get("published") != want:
            out.append(f"published {v.get('published')} of {want}")
        if v.get("drained") != want:
            out.append(f"drained {v.get('drained')} of {want}")
    elif sc.key == "f":
        want = int(sc.phases[0][1])
        if v.get("connections_seen", 0) < want:
            out.append(f"only {v.get('connections_seen')} of {want} connections seen established")
    else:
        if not rec.raw[0].get("received"):
            out.append("nothing received")
    for m in sc.metrics:
        if v.get(m.key) is None:
            out.append(f"no value for {m.key}")
    return out


def fmt(metric: Metric, v: Optional[float]) -> str:
    return "n/a" if v is None else metric.fmt.format(v)


def median(xs: list) -> Optional[float]:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# --------------------------------------------------------------------------- report

def versions(kinds: list, warren_bin: Optional[str], perf: str) -> dict:
    v = {}

    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    if "rabbitmq" in kinds:
        pkg = cmd(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"])
        erl = cmd(["dpkg-query", "-W", "-f=${Version}", "erlang-base"])
        v["rabbitmq"] = f"RabbitMQ {pkg or '?'} (Debian package), Erlang {erl or '?'}"
    if "warren" in kinds:
        commit = cmd(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]) or "?"
        dirty = cmd(["git", "-C", REPO, "status", "--porcelain", "--", "Sources", "Package.swift"])
        shown = os.path.relpath(warren_bin, REPO) if str(warren_bin).startswith(str(REPO)) else warren_bin
        v["warren"] = f"warren-server {shown} at commit {commit}{' (+ local changes)' if dirty else ''}"
    v["perf"] = perf
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    v["machine"] = f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}"
    try:
        with open("/proc/meminfo") as f:
            v["machine"] += f", {int(f.readline().split()[1]) / 2**20:.0f} GiB RAM"
    except (OSError, ValueError):
        pass
    return v


def summarize(scs: list, records: list, kinds: list) -> list:
    """Rows: (scenario, metric, {broker: median}, ratio, target, met, spread)."""
    rows = []
    for sc in scs:
        for m in sc.metrics:
            med, spread = {}, {}
            for k in kinds:
                vals = [r.values.get(m.key) for r in records
                        if r.scenario == sc.key and r.broker == k and r.ok]
                vals = [x for x in vals if x is not None]
                med[k] = median(vals)
                spread[k] = (min(vals), max(vals), len(vals)) if vals else None
            w, r = med.get("warren"), med.get("rabbitmq")
            ratio = w / r if w is not None and r not in (None, 0) else None
            targets = [t for t in sc.targets if t.metric == m.key]
            met = [t.check(w, r) for t in targets]
            rows.append((sc, m, med, ratio, targets, met, spread))
    return rows


def print_console(rows: list, kinds: list) -> None:
    print("\n== Summary (medians) ==")
    for sc, m, med, ratio, targets, met, spread in rows:
        parts = []
        for k in kinds:
            sp = spread[k]
            rng = f" [{fmt(m, sp[0])}..{fmt(m, sp[1])}, n={sp[2]}]" if sp and sp[2] > 1 else ""
            parts.append(f"{k} {fmt(m, med[k])}{rng}")
        line = f"({sc.key}) {m.label} {m.unit}: " + ", ".join(parts)
        if ratio is not None:
            line += f", warren/rabbitmq {ratio:.2f}x"
        for t, ok in zip(targets, met):
            line += f"  target {t.text}: {'MET' if ok else 'n/a' if ok is None else 'MISSED'}"
        print(line)


def markdown(rows: list, records: list, scs: list, kinds: list, args, ver: dict,
             started: datetime.datetime) -> str:
    L = []
    L.append(f"### Warren vs RabbitMQ — {started:%Y-%m-%d %H:%M} UTC")
    L.append("")
    L.append(f"- machine: {ver['machine']}")
    for k in kinds:
        L.append(f"- {k}: {ver.get(k, '?')}")
    L.append(f"- load generator: `{ver['perf']}` (same binary against both brokers)")
    L.append(f"- method: {args.runs} run(s) per scenario per broker, medians shown; a fresh "
             "broker (own temporary workdir, loopback port) per run, one broker running at a "
             "time, runs alternating between brokers; broker RSS/CPU sampled from /proc every "
             "100 ms over the broker's whole process tree (for RabbitMQ that includes beam.smp).")
    L.append(f"- driver: `{' '.join(shlex.quote(a) for a in args.argv)}`")
    L.append("")
    header = ["scenario", "metric"] + [k.capitalize() if k != "rabbitmq" else "RabbitMQ"
                                       for k in kinds]
    both = "warren" in kinds and "rabbitmq" in kinds
    if both:
        header += ["Warren / RabbitMQ"]
    header += ["target", "met"]
    L.append("| " + " | ".join(header) + " |")
    L.append("|" + "---|" * len(header))
    last = None
    for sc, m, med, ratio, targets, met, spread in rows:
        cells = ["" if sc is last else f"({sc.key}) {sc.title}", f"{m.label} ({m.unit})"]
        last = sc
        cells += [fmt(m, med[k]) for k in kinds]
        if both:
            cells.append("n/a" if ratio is None else f"{ratio:.2f}x")
        cells.append("; ".join(t.text for t in targets) or "")
        cells.append("; ".join("yes" if ok else "n/a" if ok is None else "**no**" for ok in met))
        L.append("| " + " | ".join(cells) + " |")
    failed = [r for r in records if not r.ok]
    if failed:
        L.append("")
        L.append(f"Failed runs ({len(failed)}), excluded from the medians:")
        for r in failed:
            L.append(f"- ({r.scenario}) {r.broker} run {r.run + 1}: "
                     f"{r.error.splitlines()[0] if r.error else '?'}")
    notes = [sc for sc in scs if sc.notes]
    if notes:
        L.append("")
        for sc in notes:
            L.append(f"- ({sc.key}) {sc.notes}")
    L.append("")
    L.append("Commands (`$URL` is the broker's `amqp://guest:guest@127.0.0.1:PORT/%2F`, or for TLS "
             "scenarios `amqps://guest:guest@127.0.0.1:TLSPORT/%2F --cacert CA` with Tools/make-certs.sh's "
             "test CA; a fresh broker per run):")
    L.append("")
    L.append("```")
    for sc in scs:
        for i, ph in enumerate(sc.phases):
            cmd = ["warren-perf", "--uri", URL_PLACEHOLDER] + ph
            tag = f"({sc.key})" if len(sc.phases) == 1 else f"({sc.key}{i + 1})"
            L.append(f"{tag} " + " ".join(shlex.quote(a) if a != URL_PLACEHOLDER else a
                                          for a in cmd))
    L.append("```")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------- main

def raise_fd_limit(need: int) -> None:
    """Raise the soft open-file limit to the hard one; brokers and warren-perf inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = (1 << 20) if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < need:
        print(f"warning: open-file limit is {soft}, below the {need} needed for the "
              "idle-connection scenario (raise `ulimit -Hn`)", file=sys.stderr)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--scenarios", default="a,b,c,d,e,f", help="comma-separated subset of a, a-tls, b-f")
    ap.add_argument("--time", type=float, help="seconds per timed run (default 10; --quick 3)")
    ap.add_argument("--runs", type=int, help="runs per scenario per broker (default 3; --quick 1)")
    ap.add_argument("--brokers", default="warren,rabbitmq", help="warren,rabbitmq or either alone")
    ap.add_argument("--backlog", type=int, help="messages in scenario e (default 1000000; --quick 100000)")
    ap.add_argument("--idle-connections", type=int, default=1000, help="connections in scenario f (1000)")
    ap.add_argument("--idle-time", type=float, default=5.0, help="--time for scenario f (5)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 3 s runs, 1 run, 100k backlog")
    ap.add_argument("--perf", default=os.environ.get("WARREN_PERF") or
                    os.path.join(REPO, ".build", "release", "warren-perf"),
                    help="warren-perf binary (env WARREN_PERF; default .build/release/warren-perf)")
    ap.add_argument("--warren", help="warren-server binary (default: brokers.warren_binary())")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to let a fresh broker settle (1)")
    ap.add_argument("--markdown", help="also write the markdown table to this file")
    ap.add_argument("--json", help="write every run's raw results and exact commands to this file")
    ap.add_argument("--keep-workdirs", action="store_true", help="keep broker workdirs (debugging)")
    args = ap.parse_args(argv)
    # On SIGTERM unwind normally, so the brokers started here are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.argv = ["Tools/bench.py"] + argv
    T = args.time if args.time is not None else (3.0 if args.quick else 10.0)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    args.runs = runs
    backlog = args.backlog if args.backlog is not None else (100_000 if args.quick else 1_000_000)

    all_sc = scenarios(T, backlog, args.idle_connections, args.idle_time)
    keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    bad = [k for k in keys if k not in all_sc]
    if bad:
        ap.error(f"unknown scenarios {bad}; choose from {','.join(all_sc)}")
    scs = [all_sc[k] for k in keys]
    kinds = [k.strip() for k in args.brokers.split(",") if k.strip()]
    if not kinds or any(k not in ("warren", "rabbitmq") for k in kinds):
        ap.error("--brokers takes warren, rabbitmq or both")

    if not (os.path.isfile(args.perf) and os.access(args.perf, os.X_OK)
            or args.perf.endswith(".py") and os.path.isfile(args.perf)):
        print(f"error: warren-perf not found at {args.perf} (build it with "
              "`swift build -c release --product warren-perf`, or pass --perf / set WARREN_PERF)",
              file=sys.stderr)
        return 2
    args.perf = os.path.abspath(args.perf)
    warren_bin = None
    if "warren" in kinds:
        warren_bin = args.warren or B.warren_binary()
        if not warren_bin:
            print("error: warren-server not found (build it, pass --warren or set WARREN_SERVER; "
                  "or use --brokers rabbitmq)", file=sys.stderr)
            return 2
        warren_bin = os.path.abspath(warren_bin)
    if "f" in keys:
        raise_fd_limit(args.idle_connections * 2 + 256)

    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"bench: scenarios {','.join(keys)}; brokers {','.join(kinds)}; {runs} run(s); "
          f"{T:g} s per timed run; backlog {backlog:,}; perf {args.perf}", flush=True)
    records = []
    for sc in scs:
        print(f"\n({sc.key}) {sc.title}", flush=True)
        for run in range(runs):
            order = kinds if run % 2 == 0 else list(reversed(kinds))
            for kind in order:
                t0 = time.monotonic()
                rec = one_run(sc, kind, run, args, warren_bin)
                records.append(rec)
                dt = time.monotonic() - t0
                if rec.ok:
                    vals = ", ".join(f"{m.label} {fmt(m, rec.values.get(m.key))} {m.unit}"
                                     for m in sc.metrics)
                    extra = ""
                    if rec.values.get("broker_peak_rss_mb") is not None and sc.key != "e":
                        extra = f"; broker peak RSS {rec.values['broker_peak_rss_mb']:,.0f} MB"
                    if rec.values.get("broker_cpu_s") is not None:
                        extra += f"; broker CPU {rec.values['broker_cpu_s']:.1f} s"
                    print(f"  run {run + 1} {kind:<8} {vals}{extra}  [{dt:.0f}s]", flush=True)
                else:
                    print(f"  run {run + 1} {kind:<8} FAILED: {rec.error}  [{dt:.0f}s]", flush=True)

    kinds = [k for k in ("warren", "rabbitmq") if k in kinds]   # report columns in this order
    rows = summarize(scs, records, kinds)
    print_console(rows, kinds)
    ver = versions(kinds, warren_bin, os.path.relpath(args.perf, REPO)
                   if args.perf.startswith(REPO + os.sep) else args.perf)
    md = markdown(rows, records, scs, kinds, args, ver, started)
    print("\n" + md, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
        print(f"(markdown written to {args.markdown})")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"started": started.isoformat(), "versions": ver, "argv": args.argv,
                       "runs": [rec.__dict__ for rec in records]}, f, indent=1, default=str)
        print(f"(raw results written to {args.json})")
    failed = [r for r in records if not r.ok]
    if failed:
        print(f"bench: {len(failed)} of {len(records)} runs failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
