#!/usr/bin/env python3
"""Dead-letter retry loop with a delay queue and a parking lot.

Topology (all names randomised):

  work exchange (direct) --"task"--> work queue    x-dead-letter-exchange = retry exchange
  retry exchange (fanout) ---------> delay queue   x-message-ttl = DELAY_MS,
                                                   x-dead-letter-exchange = work exchange
  parking-lot queue (plain; the worker publishes to it via the default exchange)

A worker consumes the work queue. A task that fails is rejected with
requeue=False: the broker dead-letters it to the retry exchange, so it waits
DELAY_MS in the delay queue, expires, and is dead-lettered back to the work
exchange with its original routing key, i.e. into the work queue again. Each
pass adds to the message's `x-death` header (one entry per queue and reason,
with a count), so the worker learns how often a task has been retried from the
count of the (work queue, "rejected") entry. A task that still fails after
MAX_RETRIES retries is not rejected again but republished, headers and all, to
the parking-lot queue (with publisher confirms) and then acked.

Each task says how many times it fails before it succeeds; the poison task
always fails.

Checks: each task succeeds exactly once, after exactly the expected number of
retries (the x-death counts for the work and delay queues both say so); the
poison task ends up in the parking lot with x-death counts of MAX_RETRIES;
nothing is lost or duplicated and the work and delay queues end up empty.
"""
import argparse
import json
import sys
import threading
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
DELAY_MS = 200          # how long a rejected task waits in the delay queue
MAX_RETRIES = 3         # retries before a task is parked
ROUTING_KEY = "task"
TASKS = {"ok": 0, "flaky-1": 1, "flaky-2": 2, "flaky-3": 3,  # name -> times it fails
         "poison": None}                                     # None: always fails
DEADLINE = 10.0


def death_count(props, queue, reason):
    """The count of the x-death entry for (queue, reason); 0 if there is none."""
    for entry in (props.headers or {}).get("x-death", []):
        if entry.get("queue") == queue and entry.get("reason") == reason:
            return entry.get("count", 0)
    return 0


def worker(url, names, ready, stop, outcomes, lock, errors):
    try:
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=10)
            ch.confirm_delivery()  # park a task only once the parking lot has it

            def on_task(ch, method, props, body):
                task = json.loads(body)
                retries = death_count(props, names["work_q"], "rejected")
                fails = task["fails"]
                with lock:
                    outcomes["attempts"].append((task["name"], retries))
                if fails is None or retries < fails:  # this attempt fails
                    if retries < MAX_RETRIES:
                        # Dead-letter it: off to the delay queue, back in DELAY_MS.
                        ch.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
                        return
                    # Out of retries: keep the message (x-death included) for a human.
                    ch.basic_publish(exchange="", routing_key=names["parking_q"], body=body,
                                     properties=props, mandatory=True)
                    ch.basic_ack(delivery_tag=method.delivery_tag)
                    with lock:
                        outcomes["parked"].append(task["name"])
                    return
                with lock:  # success: record the x-death counts it arrived with
                    outcomes["done"].append((task["name"], retries,
                                             death_count(props, names["delay_q"], "expired")))
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue=names["work_q"], on_message_callback=on_task)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - reported by main thread
        errors.append(f"worker: {type(e).__name__}: {e}")
        ready.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    args = ap.parse_args()

    prefix = f"warren.example.dlx.{uuid.uuid4().hex[:8]}"
    names = {key: f"{prefix}.{key}" for key in
             ("work_x", "retry_x", "work_q", "delay_q", "parking_q")}
    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    ch.exchange_declare(exchange=names["work_x"], exchange_type="direct")
    ch.exchange_declare(exchange=names["retry_x"], exchange_type="fanout")
    # Rejected (requeue=False) work goes to the retry exchange ...
    ch.queue_declare(queue=names["work_q"],
                     arguments={"x-dead-letter-exchange": names["retry_x"]})
    ch.queue_bind(queue=names["work_q"], exchange=names["work_x"], routing_key=ROUTING_KEY)
    # ... which feeds the delay queue; expired messages go back to the work
    # exchange, keeping their routing key, so they land in the work queue again.
    ch.queue_declare(queue=names["delay_q"],
                     arguments={"x-message-ttl": DELAY_MS,
                                "x-dead-letter-exchange": names["work_x"]})
    ch.queue_bind(queue=names["delay_q"], exchange=names["retry_x"])
    ch.queue_declare(queue=names["parking_q"])

    outcomes = {"attempts": [], "done": [], "parked": []}
    lock, errors = threading.Lock(), []
    stop, ready = threading.Event(), threading.Event()
    t = threading.Thread(target=worker, daemon=True,
                         args=(args.url, names, ready, stop, outcomes, lock, errors))
    ok = False
    try:
        t.start()
        ready.wait(5)
        if errors:
            raise RuntimeError("; ".join(errors))

        ch.confirm_delivery()
        started = time.monotonic()
        for name, fails in TASKS.items():
            ch.basic_publish(exchange=names["work_x"], routing_key=ROUTING_KEY,
                             body=json.dumps({"name": name, "fails": fails}).encode(),
                             properties=pika.BasicProperties(delivery_mode=2,
                                                             message_id=name),
                             mandatory=True)

        deadline = started + DEADLINE
        while time.monotonic() < deadline and not errors:
            with lock:
                if len(outcomes["done"]) + len(outcomes["parked"]) >= len(TASKS):
                    break
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        time.sleep(DELAY_MS / 1000 + 0.2)  # let any (wrong) extra retry show up
        stop.set()
        t.join(5)

        if errors:
            raise RuntimeError("; ".join(errors))
        with lock:
            done = sorted(outcomes["done"])
            parked = sorted(outcomes["parked"])
            attempts = sorted(outcomes["attempts"])
        # Each successful task: once, after exactly `fails` retries, and the
        # x-death counts agree (rejected from the work queue and expired from
        # the delay queue once per retry).
        want_done = sorted((n, f, f) for n, f in TASKS.items() if f is not None)
        want_parked = sorted(n for n, f in TASKS.items() if f is None)
        assert done == want_done, f"(task, x-death work/rejected, delay/expired): " \
                                  f"got {done}, expected {want_done}"
        assert parked == want_parked, f"parked {parked}, expected {want_parked}"
        # Every attempt seen, each exactly once: retries 0..fails for a task
        # that succeeds, 0..MAX_RETRIES for one that is parked.
        want_attempts = sorted((n, r) for n, f in TASKS.items()
                               for r in range((MAX_RETRIES if f is None else f) + 1))
        assert attempts == want_attempts, f"attempts {attempts}, expected {want_attempts}"

        # Nothing left behind in the loop; the poison task waits in the parking lot.
        for key in ("work_q", "delay_q"):
            left = ch.queue_declare(queue=names[key], passive=True).method.message_count
            assert left == 0, f"{left} messages left in the {key} queue"
        parked_msgs = []
        while True:
            method, props, body = ch.basic_get(queue=names["parking_q"], auto_ack=True)
            if method is None:
                break
            parked_msgs.append((props, json.loads(body)))
        assert [m["name"] for _, m in parked_msgs] == want_parked, \
            f"parking lot holds {[m['name'] for _, m in parked_msgs]}, expected {want_parked}"
        for props, msg in parked_msgs:
            assert props.message_id == msg["name"], f"properties lost: {props}"
            headers = props.headers or {}
            deaths = {(d.get("queue"), d.get("reason")): d for d in headers.get("x-death", [])}
            assert set(deaths) == {(names["work_q"], "rejected"), (names["delay_q"], "expired")}, \
                f"{msg['name']}: x-death entries {sorted(deaths)}"
            rejected = deaths[(names["work_q"], "rejected")]
            expired = deaths[(names["delay_q"], "expired")]
            assert rejected.get("count") == MAX_RETRIES and expired.get("count") == MAX_RETRIES, \
                f"{msg['name']}: x-death counts rejected={rejected.get('count')} " \
                f"expired={expired.get('count')}, expected {MAX_RETRIES}"
            # Where each dead-lettering happened from: the exchange and routing
            # keys the message had been published with when it entered that queue.
            assert rejected.get("exchange") == names["work_x"], f"x-death: {rejected}"
            assert expired.get("exchange") == names["retry_x"], f"x-death: {expired}"
            assert list(rejected.get("routing-keys", [])) == [ROUTING_KEY], f"x-death: {rejected}"
            assert headers.get("x-first-death-queue") == names["work_q"], headers
            assert headers.get("x-first-death-reason") == "rejected", headers
        # At least MAX_RETRIES delays must have elapsed (the TTL really delays).
        assert elapsed >= MAX_RETRIES * DELAY_MS / 1000, \
            f"{MAX_RETRIES} retries took only {elapsed * 1000:.0f} ms (TTL {DELAY_MS} ms)"
        ok = True
        return (f"{len(want_done)} tasks done after "
                f"{'/'.join(str(f) for f in TASKS.values() if f is not None)} retries "
                f"(x-death counts match), "
                f"{len(want_parked)} poison task parked after {MAX_RETRIES} retries, "
                f"nothing lost [{elapsed * 1000:.0f} ms]")
    finally:
        stop.set()
        t.join(5)
        try:
            for key in ("work_q", "delay_q", "parking_q"):
                ch.queue_delete(queue=names[key])
            for key in ("work_x", "retry_x"):
                ch.exchange_delete(exchange=names[key])
            conn.close()
        except Exception:
            if ok:  # a failing cleanup only matters if nothing else failed
                raise


if __name__ == "__main__":
    try:
        print(f"PASS dead_letter_retry: {main()}")
    except Exception as e:  # noqa: BLE001
        print(f"FAIL dead_letter_retry: {type(e).__name__}: {str(e) or repr(e)}")
        sys.exit(1)
