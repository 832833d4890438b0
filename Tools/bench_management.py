#!/usr/bin/env python3
"""Management API and Prometheus at scale: N queues (default 50,000), then the latency of the
listings operators use, the median of several requests each.

    Tools/bench_management.py                       # Warren, 50,000 queues
    Tools/bench_management.py --brokers warren,rabbitmq --queues 50000 --repeat 5

Queues are created through a definitions import (POST /api/definitions), which is also timed.
Each broker runs alone, in its own throwaway workdir, with its management and Prometheus
listeners on free loopback ports (Conformance/brokers.py).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Conformance"))

import brokers as B  # noqa: E402

AUTH = ("guest", "guest")


def timed(method: str, url: str, repeat: int, **kwargs) -> tuple[float, int, int]:
    """Median seconds over `repeat` requests, the last status and body size."""
    samples, status, size = [], 0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = requests.request(method, url, auth=AUTH, timeout=600, **kwargs)
        samples.append(time.perf_counter() - started)
        status, size = response.status_code, len(response.content)
    return statistics.median(samples), status, size


def run(name: str, queues: int, repeat: int) -> list[tuple[str, float, int, int]]:
    workdir = tempfile.mkdtemp(prefix=f"bench-mgmt-{name}-")
    config = ["collect_statistics_interval = 5000"]
    broker = (B.start_rabbitmq(workdir, management=True, config_lines=config) if name == "rabbitmq"
              else B.start_warren(workdir, management=True, config_lines=config))
    results = []
    try:
        api = f"http://127.0.0.1:{broker.management_port}"
        metrics = f"http://127.0.0.1:{broker.prometheus_port}"
        definitions = {"queues": [{"name": f"bench.q{i:06d}", "vhost": "/", "durable": True,
                                   "auto_delete": False, "arguments": {}} for i in range(queues)]}
        started = time.perf_counter()
        response = requests.post(f"{api}/api/definitions", json=definitions, auth=AUTH, timeout=3600)
        response.raise_for_status()
        results.append((f"import {queues} queues", time.perf_counter() - started, response.status_code, 0))
        # Let the statistics collectors see every queue once before measuring.
        time.sleep(6)
        checks = [
            ("GET /api/queues?page=1&page_size=100", f"{api}/api/queues?page=1&page_size=100"),
            ("GET /api/queues?page=250&page_size=100", f"{api}/api/queues?page=250&page_size=100"),
            ("GET /api/queues?page=1&page_size=500&name=q0499", f"{api}/api/queues?page=1&page_size=500&name=q0499"),
            ("GET /api/queues/%2F/bench.q000042", f"{api}/api/queues/%2F/bench.q000042"),
            ("GET /api/overview", f"{api}/api/overview"),
            ("GET /metrics", f"{metrics}/metrics"),
            ("GET /metrics/per-object", f"{metrics}/metrics/per-object"),
        ]
        for label, url in checks:
            seconds, status, size = timed("GET", url, repeat)
            results.append((label, seconds, status, size))
    finally:
        broker.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brokers", default="warren", help="warren,rabbitmq or either alone")
    parser.add_argument("--queues", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5, help="requests per measurement (median)")
    args = parser.parse_args()
    print(f"| Request | {' | '.join(args.brokers.split(','))} |")
    print("|---|" + "---|" * len(args.brokers.split(",")))
    table: dict[str, list[str]] = {}
    for name in args.brokers.split(","):
        for label, seconds, status, size in run(name, args.queues, args.repeat):
            cell = f"{seconds * 1000:.0f} ms" + (f" ({size / 1024:.1f} KiB)" if size else "")
            if status >= 300:
                cell += f" HTTP {status}"
            table.setdefault(label, []).append(cell)
    for label, cells in table.items():
        print(f"| {label} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
