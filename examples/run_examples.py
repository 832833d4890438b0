#!/usr/bin/env python3
"""Run every example program against one or more brokers.

    run_examples.py --url amqp://guest:guest@localhost:5672/%2F
    run_examples.py --brokers rabbitmq,warren     # start throwaway brokers

With --brokers, each broker is started via Conformance/brokers.py in its own
temporary workdir and stopped afterwards; warren is skipped (with a note) when
no warren-server binary is built. Prints PASS/FAIL per example per broker and,
last, `examples: N passed, N failed`. Exits non-zero on any failure.
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Conformance"))

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


def example_programs():
    names = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.py"))):
        name = os.path.basename(path)[:-3]
        if name.startswith(("run_", "_")):
            continue
        names.append(name)
    return names


def run_one(name, url, timeout):
    """Run one example; returns (passed, one-line summary, full output)."""
    cmd = [sys.executable, os.path.join(HERE, name + ".py"), "--url", url]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return False, f"timed out after {timeout:.0f}s", out
    dt = time.monotonic() - t0
    out = (p.stdout or "") + (p.stderr or "")
    lines = [ln for ln in (p.stdout or "").splitlines() if ln.strip()]
    summary = lines[-1] if lines else f"(no output, exit {p.returncode})"
    if p.returncode == 0 and not summary.startswith("PASS"):
        return False, f"exit 0 but last line is not PASS: {summary}", out
    for prefix in (f"PASS {name}: ", f"FAIL {name}: "):
        if summary.startswith(prefix):
            summary = summary[len(prefix):]
    return p.returncode == 0, f"{summary} [{dt:.1f}s]", out


def run_all(label, url, names, timeout, results, alive=None):
    for name in names:
        ok, summary, out = run_one(name, url, timeout)
        if ok and alive is not None and not alive():
            ok, summary = False, f"broker died during the example ({summary})"
        results.append((label, name, ok))
        print(f"{'PASS' if ok else 'FAIL'}  {label:<9} {name:<19} {summary}", flush=True)
        if not ok:
            lines = [ln for ln in out.splitlines() if ln.strip()]
            tail = "\n".join(lines[-15:])
            if len(lines) > 1 or (lines and lines[-1] not in summary):
                print("      | " + tail.replace("\n", "\n      | "), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help=f"run against this broker (default {DEFAULT_URL} "
                                  "when --brokers is not given)")
    ap.add_argument("--brokers", help="comma-separated: rabbitmq,warren (started for the run)")
    ap.add_argument("--only", help="comma-separated example names to run")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per example (30)")
    args = ap.parse_args()
    # On SIGTERM unwind normally, so the brokers started here are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    names = example_programs()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            ap.error(f"unknown examples {unknown}; have {names}")
        names = wanted

    results = []
    if args.url or not args.brokers:
        run_all("url", args.url or DEFAULT_URL, names, args.timeout, results)
    if args.brokers:
        import brokers as B  # Conformance/brokers.py

        for kind in [b.strip() for b in args.brokers.split(",") if b.strip()]:
            if kind not in ("rabbitmq", "warren"):
                ap.error(f"unknown broker {kind!r} (rabbitmq|warren)")
            if kind == "warren" and B.warren_binary() is None:
                print("note: warren skipped: no warren-server binary "
                      "(build it with `swift build -c release` or set WARREN_SERVER)", flush=True)
                continue
            workdir = tempfile.mkdtemp(prefix=f"examples-{kind}-")
            broker = None
            try:
                t0 = time.monotonic()
                try:
                    broker = B.start_rabbitmq(workdir) if kind == "rabbitmq" else B.start_warren(workdir)
                except Exception as e:  # noqa: BLE001
                    print(f"FAIL  {kind:<9} could not start broker: {e}", flush=True)
                    results.extend((kind, n, False) for n in names)
                    continue
                print(f"----  {kind:<9} started on port {broker.port} "
                      f"in {time.monotonic() - t0:.1f}s", flush=True)
                run_all(kind, broker.url, names, args.timeout, results, alive=broker.alive)
                if not broker.alive():
                    print(f"      {kind} log tail:\n{broker.log_tail(20)}", flush=True)
            finally:
                if broker is not None:
                    broker.stop()
                shutil.rmtree(workdir, ignore_errors=True)

    passed = sum(1 for *_, ok in results if ok)
    failed = len(results) - passed
    print(f"examples: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
