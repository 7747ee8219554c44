#!/usr/bin/env python3
"""Instructions per page: the 50-order page of `rastro-bench --only-page`,
counted by valgrind's callgrind instead of timed.

This machine is shared and its timings move by ±15 % between runs, more than
most changes to the server's CPU. An instruction count does not move with
the load beside it (the same build gives the same count within 0.1 %), so
two builds compare in one pair of runs:

    cargo build --release -p bench -p api
    python3 bench/instructions.py --database sqlite
    python3 bench/instructions.py --database postgres://postgres@127.0.0.1:5432/test \\
        --server old/rastro --server ./target/release/rastro

`rastro-bench --serve` seeds the orders (1,000 by default) as for its other
benchmarks and stops; then each `--server` binary serves that database under
callgrind: it logs the bench's staff user in, answers `--pages` pages to warm
up, and its counts are zeroed before it answers `--pages` more. What is
counted is every thread of the server process, so on SQLite it includes the
database's own work and on PostgreSQL it does not. The token's check is kept
for 10 s (`RASTRO_TOKEN_RECHECK_MS`, from the first page), as the default
second keeps it for a client's next requests at native speed, so counted
pages read no session; a run whose pages outlast it says so. Each server
migrates the seeded database at start: compare builds with the same
migrations (an older build refuses a database a newer one migrated).
"""

import argparse
import base64
import glob
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

def page_of_the_bench():
    """`rastro-bench`'s own 50-order page (`PAGE` in bench/src/main.rs), so the
    two never drift apart."""
    source = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "main.rs")).read()
    found = re.search(r'const PAGE: &str = "(.*?)";', source, re.S)
    if not found:
        sys.exit("PAGE is not in bench/src/main.rs any more")
    return found.group(1)


PAGE = page_of_the_bench()

# As seeded by `bench/src/seed.rs`.
STAFF = {"e": "staff@bench.example", "p": "Bench-password-2026", "c": "bench-co"}
# The longest a check may be kept (the server refuses more).
RECHECK_MS = 10_000
LOGIN = "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken } }"


def seed(bench, database, orders):
    """Seeds a fresh database with `rastro-bench --serve`; returns its URL."""
    process = subprocess.Popen(
        [bench, "--database", database, "--orders", str(orders), "--serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, RUST_LOG="warn"),
    )
    url = None
    for line in process.stdout:
        if line.startswith("DATABASE_URL="):
            url = line.strip().split("=", 1)[1]
        if line.strip() == "READY":
            break
    process.stdin.close()
    process.wait()
    if not url:
        sys.exit("rastro-bench stopped before it was ready")
    return url


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body, token=None, connection=None):
    c = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request("POST", "/graphql", body=body, headers=headers)
    answer = c.getresponse().read()
    if connection is None:
        c.close()
    return answer


def count(server, url, pages):
    """Instructions per page of `server` serving `url` under callgrind."""
    port = free_port()
    out = tempfile.mkdtemp(prefix="rastro-callgrind-")
    env = dict(
        os.environ,
        DATABASE_URL=url,
        RASTRO_BIND=f"127.0.0.1:{port}",
        RASTRO_JWT_SECRET=base64.b64encode(os.urandom(48)).decode(),
        RASTRO_SECRET_KEY=base64.b64encode(os.urandom(32)).decode(),
        RASTRO_NO_MAIL_WORKER="1",
        RASTRO_TOKEN_RECHECK_MS=str(RECHECK_MS),
        # rastro-bench's own server has no limits; many pages would hit them.
        RASTRO_RATE_REQUESTS_PER_MINUTE="1000000",
        RUST_LOG="warn",
    )
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/out", server, "serve"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(f"{out}/log", "w"),
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                post(port, json.dumps({"query": "{ __typename }"}))
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    sys.exit(f"{server} did not start: see {out}/log")
                time.sleep(1)
        login = json.loads(post(port, json.dumps({"query": LOGIN, "variables": STAFF})))
        token = login["data"]["login"]["accessToken"]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        body = json.dumps({"query": PAGE})

        def page():
            answer = post(port, body, token, connection)
            if b'"errors"' in answer:
                sys.exit(f"the page failed: {answer[:300]!r}")
            return len(answer)

        checked = time.monotonic()
        for _ in range(pages):
            page()
        subprocess.run(["callgrind_control", "-z", str(process.pid)], check=True, capture_output=True)
        for _ in range(pages):
            size = page()
        subprocess.run(["callgrind_control", "-d", str(process.pid)], check=True, capture_output=True)
        if time.monotonic() - checked > RECHECK_MS / 1000:
            print(f"note: {server}'s pages outlasted the token's check ({RECHECK_MS} ms): "
                  "one of them read the session again; fewer --pages avoid it", file=sys.stderr)
    finally:
        process.terminate()
        process.wait()
    dumps = sorted(glob.glob(f"{out}/out.*"))
    if not dumps:
        sys.exit(f"callgrind wrote no dump: see {out}/log")
    with open(dumps[0]) as dump:
        total = next(int(m.group(1)) for m in map(re.compile(r"(?:summary|totals): (\d+)").match, dump) if m)
    return total / pages, size


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL (as rastro-bench takes it)")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=20, help="pages to warm up, then pages counted")
    parser.add_argument("--bench", default="./target/release/rastro-bench")
    parser.add_argument("--server", action="append", help="a server binary (repeat to compare); default ./target/release/rastro")
    args = parser.parse_args()
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    servers = args.server or ["./target/release/rastro"]
    url = seed(args.bench, args.database, args.orders)
    first = None
    print(f"| server | database | orders | instructions per page | against the first | answer bytes |")
    print(f"|---|---|---|---|---|---|")
    for server in servers:
        per_page, size = count(server, url, args.pages)
        first = first or per_page
        name = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        print(f"| `{server}` | {name} | {args.orders:,} | {per_page / 1e6:.2f} M | {per_page / first:.3f} | {size:,} |", flush=True)


if __name__ == "__main__":
    main()
