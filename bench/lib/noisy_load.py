#!/usr/bin/env python3
"""Noisy-neighbour load for the `noisy` bench item (docs/benchmarks.md, item 7).

Two kinds of callers, each a thread with one keep-alive connection, kept in flight for `--hold`
seconds after the compartments they aim at are full:

  probes     anonymous GET /api/data/repository?url=http://127.0.0.1:<silent>/g/pN, where <silent>
             is a listener of this script that accepts connections and never answers, so every
             admitted check lasts its whole probe timeout;
  refreshes  GET /api/data/oauth2/connections/{id}/token of connections whose access token has
             expired, for a provider whose token endpoint answers late (the fake's
             --token-delay-ms), so every admitted read waits on a provider refresh. Each worker
             owns a slice of the pairs file and moves to its next connection after a 200 (that
             one is fresh again); after a refusal it retries the same connection.

A caller refused with Retry-After (429 from the probe compartment, 503 from the provider one)
waits that long before asking again, as a well-behaved client does; the others ask again at once.
Each request is classified by its answer: status code, or "hung" when none came within its
budget (the client's socket timeout). Prints one line "ready {json}" when the load is in place
(/readyz shows the probe compartment full and provider calls in flight), then, when every
caller has stopped and its last request is answered or past its budget, one JSON line with the
outcome counts and latencies. Standard library only.
"""
import argparse
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.latencies = []

    def add(self, outcome, took):
        with self.lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            self.latencies.append(took)

    def report(self):
        with self.lock:
            lat = sorted(self.latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else 0

        return {"requests": len(lat), "outcomes": dict(sorted(self.counts.items())),
                "p50_ms": pct(0.5), "max_ms": round(lat[-1] * 1000, 1) if lat else 0}


def silent_listener():
    """Accepts every connection and never reads or answers; keeps the sockets open."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(4096)
    held = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1]


def caller(target, stop, outcomes, budget, requests):
    """Sends requests() (an iterator of (path, headers) that also receives each status) until
    stop is set."""
    conn = None
    sequence = requests()
    try:
        path, headers = next(sequence)
    except StopIteration:
        return
    while not stop.is_set():
        if conn is None:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=budget)
        started = time.monotonic()
        retry_after = 0.0
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            retry_after = float(response.getheader("Retry-After") or 0)
            outcome = str(status)
        except socket.timeout:
            status, outcome = None, "hung"
            conn.close()
            conn = None
        except (OSError, http.client.HTTPException):
            status, outcome = None, "error"
            conn.close()
            conn = None
        outcomes.add(outcome, time.monotonic() - started)
        try:
            path, headers = sequence.send(status)
        except StopIteration:
            break
        if retry_after > 0:
            stop.wait(retry_after)
    if conn is not None:
        conn.close()


def readyz(target):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
    try:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        return json.loads(response.read() or b"{}")
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="keybridge base URL")
    parser.add_argument("--probes", type=int, default=200, help="concurrent repository checks")
    parser.add_argument("--probe-budget", type=float, default=15,
                        help="seconds without an answer after which a check counts as hung")
    parser.add_argument("--refresh-pairs", help="credential<TAB>connection id of expired ones")
    parser.add_argument("--refreshes", type=int, default=64, help="concurrent refreshing reads")
    parser.add_argument("--refresh-budget", type=float, default=25,
                        help="seconds without an answer after which a read counts as hung")
    parser.add_argument("--hold", type=float, required=True,
                        help="seconds to keep the load in flight after it is in place")
    args = parser.parse_args()
    target = urllib.parse.urlparse(args.url)
    stop = threading.Event()
    threads = []

    silent_port = silent_listener()
    probe_outcomes = Outcomes()

    def probe_requests(index):
        def sequence():
            path = "/api/data/repository?url=" + urllib.parse.quote(
                f"http://127.0.0.1:{silent_port}/g/p{index}", safe="")
            while True:
                yield path, {}
        return sequence

    for i in range(args.probes):
        threads.append(threading.Thread(
            target=caller, args=(target, stop, probe_outcomes, args.probe_budget,
                                 probe_requests(i)), daemon=True))

    refresh_outcomes = Outcomes()
    exhausted = [0]
    if args.refresh_pairs and args.refreshes > 0:
        with open(args.refresh_pairs) as f:
            pairs = [line.rstrip("\n").split("\t") for line in f if line.strip()]
        slices = [pairs[i::args.refreshes] for i in range(args.refreshes)]

        def refresh_requests(mine):
            def sequence():
                for credential, connection_id in mine:
                    request = (f"/api/data/oauth2/connections/{connection_id}/token",
                               {"Authorization": f"Bearer {credential}"})
                    while True:
                        status = yield request
                        if status == 200 or status is None:
                            break  # fresh now (or given up on): the next expired one
                with refresh_outcomes.lock:
                    exhausted[0] += 1
            return sequence

        for mine in slices:
            threads.append(threading.Thread(
                target=caller, args=(target, stop, refresh_outcomes, args.refresh_budget,
                                     refresh_requests(mine)), daemon=True))

    for t in threads:
        t.start()
    # In place when the probe compartment is full (running and queue) and, with refreshing
    # reads, provider calls are in flight; at most 10 s.
    deadline = time.monotonic() + 10
    state = {}
    while time.monotonic() < deadline:
        state = readyz(target).get("compartments", {})
        probe = state.get("probe", {})
        provider = state.get("provider", {})
        probes_full = args.probes == 0 or (
            probe.get("in_flight", 0) >= probe.get("threads", 1)
            and probe.get("queued", 0) >= probe.get("queue_capacity", 0))
        refreshing = (args.refreshes == 0 or not args.refresh_pairs
                      or provider.get("in_flight", 0) > 0)
        if probes_full and refreshing:
            break
        time.sleep(0.05)
    print("ready " + json.dumps(state), flush=True)
    stop.wait(args.hold)
    in_place_end = readyz(target).get("compartments", {})
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"probes": probe_outcomes.report(), "refreshes": refresh_outcomes.report(),
                      "refresh_workers_out_of_connections": exhausted[0],
                      "compartments_when_ready": state,
                      "compartments_at_end": in_place_end}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
