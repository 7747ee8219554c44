"""Times the same page on Rastro and on PostGraphile 5, interleaved (A B B A),
over Rastro's own PostgreSQL database, and prints Markdown rows with ratios.

Run by `bench/peer.sh`, which installs both; see BENCHMARKS.md. The page is one
company's 20 newest orders with their items, destination (with its responsible
person) and shipments, and the company's order count. Each server's CPU comes
from /proc/PID/stat; the database's from the backends connected to the bench
database, so each side is charged for the SQL it sends.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

RASTRO_PAGE = """query Page { orders(first: 20) { totalCount edges { node {
  id code status total customerName createdAt
  destination { name responsible { name email } }
  items { productId name quantity unitPrice }
  shipments { carrier trackingNumber shippedAt } } } } }"""

PEER_PAGE = """query Page($company: Int!) {
  allOrders(condition: { companyId: $company }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], first: 20) {
    totalCount nodes {
      rowId code status totalCents customerName createdAt
      localityByDestinationLocalityId { name responsibleName responsibleEmail }
      orderItemsByOrderId(orderBy: ROW_ID_ASC) { nodes { productId name quantity unitPriceCents } }
      shipmentsByOrderId(orderBy: ROW_ID_ASC) { nodes { carrier trackingNumber shippedAt } } } } }"""

TICK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds(pid):
    """User plus system CPU of one process, in seconds (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def backends(database):
    """PIDs of the PostgreSQL backends connected to `database`."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            pids.append(int(pid))
    return pids


def database_cpu(database, seen):
    """CPU of the bench database's backends; `seen` keeps the last reading of
    each, so a backend that closes between two readings keeps its share."""
    for pid in backends(database):
        seen[pid] = max(seen.get(pid, 0.0), cpu_seconds(pid))
    return sum(seen.values())


def post(url, body, authorization):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{url} answered {error.code}: {error.read()[:2000]!r}")


class Server:
    def __init__(self, name, url, body, authorization, pid, count):
        self.name, self.url, self.body, self.authorization, self.pid = name, url, body, authorization, pid
        answer = json.loads(post(url, body, authorization))
        if answer.get("errors"):
            sys.exit(f"{name} answered with errors: {answer['errors']}")
        orders = count(answer["data"])
        if orders != 20:
            sys.exit(f"{name} answered {orders} orders, not 20")
        self.bytes = len(post(url, body, authorization))
        self.runs = {}

    def run(self, connections, seconds, database, body_file):
        with open(body_file, "wb") as f:
            f.write(self.body)
        seen = {}
        server0, db0 = cpu_seconds(self.pid), database_cpu(database, seen)
        env = dict(os.environ, BODY_FILE=body_file, AUTHORIZATION=self.authorization or "")
        out = subprocess.run(
            ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", os.path.join(HERE, "page.lua"), self.url],
            env=env, capture_output=True, text=True, check=True).stdout
        server1, db1 = cpu_seconds(self.pid), database_cpu(database, seen)
        line = next(l for l in out.splitlines() if l.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
        if result["non2xx"] or result["socket_errors"]:
            sys.exit(f"{self.name} at {connections} connections: {result}")
        requests = result["requests"]
        result["rps"] = requests / result["seconds"]
        result["server_ms"] = (server1 - server0) * 1000 / requests
        result["db_ms"] = (db1 - db0) * 1000 / requests
        self.runs.setdefault(connections, []).append(result)
        print(f"  {self.name:12} {connections:>2} connections: {result['rps']:7.0f} req/s, "
              f"p50 {result['p50_us'] / 1000:.2f} ms, server {result['server_ms']:.2f} ms + database "
              f"{result['db_ms']:.2f} ms per page", file=sys.stderr)


def spread(values, fmt):
    low, high = min(values), max(values)
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)}–{fmt(high)}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rastro-url", required=True)
    parser.add_argument("--rastro-token", required=True)
    parser.add_argument("--rastro-pid", type=int, required=True)
    parser.add_argument("--peer-url", required=True)
    parser.add_argument("--peer-pid", type=int, required=True)
    parser.add_argument("--company", type=int, required=True)
    parser.add_argument("--database", required=True, help="the database name the backends show")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", default="1,8,32")
    args = parser.parse_args()

    rastro = Server("Rastro", args.rastro_url, json.dumps({"query": RASTRO_PAGE}).encode(),
                    f"Bearer {args.rastro_token}", args.rastro_pid,
                    lambda d: len(d["orders"]["edges"]))
    peer = Server("PostGraphile", args.peer_url,
                  json.dumps({"query": PEER_PAGE, "variables": {"company": args.company}}).encode(),
                  None, args.peer_pid, lambda d: len(d["allOrders"]["nodes"]))
    connections = [int(c) for c in args.connections.split(",")]
    body_file = os.path.join(tempfile.mkdtemp(), "body.json")
    for server in (rastro, peer):  # warm both: JIT, caches, pools
        server.run(8, 3, args.database, body_file)
        server.runs.clear()
    for round_ in range(args.rounds):
        for c in connections:
            order = (peer, rastro, rastro, peer) if round_ % 2 == 0 else (rastro, peer, peer, rastro)
            for server in order:
                server.run(c, args.seconds, args.database, body_file)

    print(f"Page: {rastro.bytes:,} bytes from Rastro, {peer.bytes:,} from PostGraphile 5; "
          f"wrk, {args.seconds} s per run, {args.rounds} rounds, each A B B A.\n")
    print("| connections | PostGraphile 5 | Rastro | Rastro / PostGraphile 5 (req/s) | p50 ratio | CPU per page, PostGraphile 5 (server + database) | CPU per page, Rastro | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for c in connections:
        p, r = peer.runs[c], rastro.runs[c]
        # Ratios pair the runs of one round, so both sides saw the same machine.
        rps = [b["rps"] / a["rps"] for a, b in zip(p, r)]
        p50 = [b["p50_us"] / a["p50_us"] for a, b in zip(p, r)]
        cpu = [(b["server_ms"] + b["db_ms"]) / (a["server_ms"] + a["db_ms"]) for a, b in zip(p, r)]
        def side(runs):
            return (f"{spread([x['rps'] for x in runs], lambda v: f'{v:,.0f}')} req/s, "
                    f"p50 {spread([x['p50_us'] / 1000 for x in runs], lambda v: f'{v:.2f}')} ms, "
                    f"p99 {spread([x['p99_us'] / 1000 for x in runs], lambda v: f'{v:.2f}')} ms")
        def cost(runs):
            return (f"{spread([x['server_ms'] for x in runs], lambda v: f'{v:.2f}')} + "
                    f"{spread([x['db_ms'] for x in runs], lambda v: f'{v:.2f}')} ms")
        print(f"| {c} | {side(p)} | {side(r)} | **{spread(rps, lambda v: f'{v:.2f}')}** | "
              f"{spread(p50, lambda v: f'{v:.2f}')} | {cost(p)} | {cost(r)} | {spread(cpu, lambda v: f'{v:.2f}')} |")


if __name__ == "__main__":
    main()
