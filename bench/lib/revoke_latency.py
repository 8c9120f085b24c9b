#!/usr/bin/env python3
"""Revocation latency across two replicas, for the `revoke` bench item (docs/benchmarks.md,
item 8).

Per trial: mint a session token on replica A (POST /api/data/sessions/tokens, scoped to one
connection, with a user JWT), read that connection's token through replica B with it until B
answers 200 (B has seen it), revoke it on A (DELETE /api/data/sessions/tokens/{id}), and from
the moment A answered 204 read through B back to back (no sleeps) until B answers 401. The
latency is that interval: how long B still honours a token A has already revoked. Reads B
answered 200 after the 204 are counted as stale. Prints one JSON line. Standard library only,
one keep-alive connection per replica.
"""
import argparse
import http.client
import json
import sys
import time
import urllib.parse


class Replica:
    def __init__(self, url):
        self.target = urllib.parse.urlparse(url)
        self.conn = None

    def call(self, method, path, credential, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.target.hostname, self.target.port,
                                                   timeout=30)
        headers = {"Authorization": f"Bearer {credential}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True, help="replica A's base URL (mints and revokes)")
    parser.add_argument("--b", required=True, help="replica B's base URL (reads)")
    parser.add_argument("--jwt", required=True, help="the user's JWT")
    parser.add_argument("--connection", required=True, help="a connection id of that user")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--give-up-s", type=float, default=10,
                        help="a trial whose token B still accepts after this long fails")
    args = parser.parse_args()
    a, b = Replica(args.a), Replica(args.b)
    read_path = f"/api/data/oauth2/connections/{args.connection}/token"
    latencies, stale, warm_reads, failures = [], 0, 0, []

    for trial in range(args.trials):
        status, body = a.call("POST", "/api/data/sessions/tokens", args.jwt,
                              {"session_name": f"revoke-{trial}",
                               "connection_ids": [args.connection], "ttl_seconds": 3600})
        if status != 201:
            failures.append(f"trial {trial}: mint answered {status}")
            continue
        created = json.loads(body)
        token, token_id = created["token"], created["id"]
        deadline = time.monotonic() + args.give_up_s
        while True:
            status, _ = b.call("GET", read_path, token)
            warm_reads += 1
            if status == 200 or time.monotonic() > deadline:
                break
        if status != 200:
            failures.append(f"trial {trial}: B never accepted the new token ({status})")
            continue
        status, _ = a.call("DELETE", f"/api/data/sessions/tokens/{token_id}", args.jwt)
        revoked_at = time.monotonic()
        if status != 204:
            failures.append(f"trial {trial}: revoke answered {status}")
            continue
        while True:
            status, _ = b.call("GET", read_path, token)
            now = time.monotonic()
            if status == 401:
                latencies.append(now - revoked_at)
                break
            if status == 200:
                stale += 1
            if now - revoked_at > args.give_up_s:
                failures.append(f"trial {trial}: B still answered {status} after "
                                f"{args.give_up_s} s")
                break

    latencies.sort()

    def pct(p):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    print(json.dumps({"trials": args.trials, "measured": len(latencies),
                      "p50_ms": pct(0.5), "p95_ms": pct(0.95),
                      "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
                      "stale_reads": stale, "warm_reads": warm_reads,
                      "failures": failures[:5], "failed": len(failures)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
