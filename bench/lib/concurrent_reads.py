#!/usr/bin/env python3
"""Refresh-storm client: GET /api/data/oauth2/connections/{id}/token for every line of a pairs file
("credential<TAB>connection id"), `--concurrency` requests in flight, each connection read
`--repeat` times. Prints one JSON line: wall seconds, status counts, latency percentiles.
Standard library only (threads + http.client, one keep-alive connection per thread)."""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="keybridge base URL")
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1, help="reads per connection")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    work = []
    with open(args.pairs) as f:
        for line in f:
            credential, connection_id = line.rstrip("\n").split("\t")
            work.extend([(credential, connection_id)] * args.repeat)
    target = urllib.parse.urlparse(args.url)
    lock = threading.Lock()
    statuses = {}
    latencies = []
    spans = []  # (start, end) of every request: wall = last end - first start
    index = [0]
    # All threads connect first, then start together (a barrier), so the first requests really
    # arrive at once.
    barrier = threading.Barrier(args.concurrency + 1)

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=args.timeout)
        conn.connect()
        barrier.wait()
        while True:
            with lock:
                if index[0] >= len(work):
                    break
                credential, connection_id = work[index[0]]
                index[0] += 1
            started = time.monotonic()
            try:
                conn.request("GET", f"/api/data/oauth2/connections/{connection_id}/token",
                             headers={"Authorization": f"Bearer {credential}"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = "error"
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port,
                                                  timeout=args.timeout)
            took = time.monotonic() - started
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                latencies.append(took)
                spans.append((started, started + took))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join()
    # Measured from the requests themselves: with a thousand threads the main thread may not run
    # again until they are done.
    wall = (max(e for _, e in spans) - min(s for s, _ in spans)) if spans else 0
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0

    print(json.dumps({"requests": len(work), "wall_s": round(wall, 3), "statuses": statuses,
                      "p50_ms": round(pct(0.5) * 1000, 2), "p99_ms": round(pct(0.99) * 1000, 2),
                      "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0}))


if __name__ == "__main__":
    main()
