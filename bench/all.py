#!/usr/bin/env python3
"""Runs every benchmark in bench/ and writes their figures into BENCHMARKS.md.

    python3 bench/all.py [--quick] [--print] [--pg URL]

Each table goes under the command that produced it, and a first table holds
each goal of the performance issue beside its figure. The figures replace
what lies between the two marker lines of BENCHMARKS.md (`<!-- bench/all.py:
begin -->` and `<!-- bench/all.py: end -->`); the rest of the file, which
explains them, is left as it is.

What runs, on SQLite and on PostgreSQL (PG_URL or --pg; a `rastro_bench`
database is made on that server):
- the 50-order page, one client, at 1,000, 100,000 and 1,000,000 orders, with
  the hand-written-SQL floor for the same rows (`--only-page`);
- the 20-order page under each filter and sort, at 1,000 and 1,000,000 orders,
  interleaved (`--only-variants`);
- everything else `rastro-bench` measures at 100,000 orders: the page at 4
  clients, the CSV export, mail delivery, `rastro import`, TOTVS R2, VTEX and
  the storefront feeds;
- mail delivery on its own (`--only-mail`, 5,000 mails);
- the subscription fan-out (`--only-fanout`);
- and, on PostgreSQL, Rastro against PostGraphile 5 (`bench/peer.sh`).

The machine is shared and noisy: ratios are taken within one run, with the
absolute times beside them. A full run takes about 40 minutes on 2 cores.
`--quick` runs the same with small tables and short runs (a check that
everything runs: its figures are not to be quoted) and, like `--print`,
prints the section instead of writing it.
"""

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = "./target/release/rastro-bench"
BEGIN = "<!-- bench/all.py: begin -->"
END = "<!-- bench/all.py: end -->"
HEADER = "| database | what | throughput | p50 | p99 |\n|---|---|---|---|---|"


class Settings:
    def __init__(self, quick):
        self.sizes = [1_000, 10_000, 100_000] if quick else [1_000, 100_000, 1_000_000]
        self.everything_orders = 10_000 if quick else 100_000
        self.page_seconds = 2 if quick else 8
        self.variant_seconds = 1 if quick else 4
        self.subscribers = 1_000 if quick else 10_000
        self.fanout_companies = 10 if quick else 100
        self.fanout_seconds = 5 if quick else 60
        self.mails = 1_000 if quick else 5_000
        self.peer = ["--orders", "1000", "--seconds", "2", "--rounds", "1"] if quick else ["--orders", "1000"]


def run(command):
    """Runs `command` from the repository's root; its standard output, or exits."""
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {shlex.join(command)}")
    return done.stdout


def rows(output):
    """The Markdown table rows of an output (header and rule lines included)."""
    return [line for line in output.splitlines() if line.startswith("|")]


def cells(row):
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def number(text):
    """The first number in `text` (commas and a sign allowed), or None."""
    found = re.search(r"-?\d[\d,]*(?:\.\d+)?", text)
    return float(found.group(0).replace(",", "")) if found else None


def p99(text):
    """The p99 of a fan-out row's cell (`p99 9.8 ms (p50 …)`)."""
    return number(text.split("p99", 1)[1])


def numbers(text):
    """Every number of a range such as `0.73–0.86`."""
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def shown(values, digits=2):
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{low:.{digits}f}–{high:.{digits}f}"


class Report:
    def __init__(self):
        self.sections = []  # (title, command, table text)
        self.goals = []  # (goal, figure, met, where)

    def section(self, title, command, table):
        self.sections.append((title, shlex.join(command), table))

    def goal(self, goal, figure, met, where):
        self.goals.append((goal, figure, "yes" if met else "**no**", where))

    def markdown(self, invocation, quick, commit):
        memory = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "?")
        lines = [
            BEGIN,
            "",
            f"### Every benchmark, one run ({datetime.date.today().isoformat()})",
            "",
            f"`{invocation}` at `{commit}`, on {os.cpu_count()} cores and {int(memory) // 1024 // 1024} GiB, release build;"
            " the load, the server and the database share the machine.",
        ]
        if quick:
            lines.append("**A quick run: small tables and short runs, to check that everything runs; not figures to quote.**")
        lines += ["", "| goal (issue 16) | measured | met | table |", "|---|---|---|---|"]
        lines += [f"| {g} | {f} | {m} | {w} |" for g, f, m, w in self.goals]
        for title, command, table in self.sections:
            lines += ["", f"#### {title}", "", f"`{command}`", "", table]
        lines += ["", END]
        return "\n".join(lines)


def page_sizes(report, s, databases):
    """The 50-order page at each size, one client, with its floor."""
    for name, url in databases:
        table = ["| database | orders | GraphQL p50 | GraphQL p99 | floor p50 | GraphQL / floor (p50) |", "|---|---|---|---|---|---|"]
        p50s = {}
        for orders in s.sizes:
            command = [BENCH, "--database", url, "--orders", str(orders), "--only-page", "--seconds", str(s.page_seconds), "--concurrency", "1"]
            page, floor = rows(run(command))[:2]
            page, floor = cells(page), cells(floor)
            p50s[orders] = (number(page[3]), number(floor[3]))
            table.append(f"| {name} | {orders:,} | {page[3]} | {page[4]} | {floor[3]} | {p50s[orders][0] / p50s[orders][1]:.2f} |")
        small, large = s.sizes[0], s.sizes[-1]
        ratio = p50s[large][0] / p50s[small][0]
        command[command.index("--orders") + 1] = "N"
        report.section(f"The 50-order page at {', '.join(f'{n:,}' for n in s.sizes)} orders, {name}", command, "\n".join(table))
        report.goal(f"the page costs ≤ 1.2× at {large:,} orders than at {small:,} ({name})", f"{ratio:.2f}×", ratio <= 1.2, f"page, {name}")
        floor_ratio = p50s[small][0] / p50s[small][1]
        report.goal(f"GraphQL within 1.5× of the hand-written floor ({name}, {small:,} orders, one client's p50)", f"{floor_ratio:.2f}×", floor_ratio <= 1.5, f"page, {name}")


def variants(report, s, databases):
    for name, url in databases:
        command = [BENCH, "--database", url, "--orders", str(s.sizes[-1]), "--small-orders", str(s.sizes[0]), "--only-variants", "--seconds", str(s.variant_seconds)]
        table = rows(run(command))
        measured = [(cells(r)[1], number(cells(r)[4])) for r in table[2:]]
        over = [(n, r) for n, r in measured if r > 1.2]
        worst = max(measured, key=lambda m: m[1])
        report.section(f"Each filter and sort, {name}", command, "\n".join(table))
        report.goal(
            f"each filter and sort ≤ 1.2× at {s.sizes[-1]:,} orders ({name})",
            f"{len(measured) - len(over)} of {len(measured)} within; worst {worst[1]:.2f}× ({worst[0]})",
            not over,
            f"filters, {name}",
        )


def everything(report, s, databases):
    for name, url in databases:
        command = [BENCH, "--database", url, "--orders", str(s.everything_orders), "--seconds", str(s.page_seconds)]
        table = rows(run(command))
        # Its mail row also delivers the mails the feeds' changes queued and
        # held until the company had a sender: the goal's figure is `mail`'s.
        report.section(f"Page, export, mail and ingestion at {s.everything_orders:,} orders, {name}", command, HEADER + "\n" + "\n".join(table))


def mail(report, s, databases):
    for name, url in databases:
        command = [BENCH, "--database", url, "--orders", "1000", "--only-mail", "--mails", str(s.mails)]
        table = rows(run(command))
        report.section(f"Mail delivery, {name}", command, HEADER + "\n" + "\n".join(table))
        rate = number(cells(table[0])[2])
        report.goal(f"mail at 1,000 mails/s to a local SMTP sink ({name})", f"{rate:,.0f} mails/s", rate >= 1_000, f"mail, {name}")


def fanout(report, s, databases):
    for name, url in databases:
        command = [BENCH, "--database", url, "--orders", "1000", "--only-fanout", "--subscribers", str(s.subscribers),
                   "--fanout-companies", str(s.fanout_companies), "--fanout-seconds", str(s.fanout_seconds)]
        table = rows(run(command))
        report.section(f"Subscription fan-out, {name}", command, HEADER + "\n" + "\n".join(table))
        where = f"fan-out, {name}"
        for row in map(cells, table):
            what = row[1]
            if "over" in what and "changes/s" in what:
                late = p99(row[2])
                report.goal(f"{what}: p99 ≤ 100 ms", f"{late} ms", late <= 100, where)
            elif "over" in what:
                late, cpu = p99(row[2]), number(row[3])
                report.goal(f"{what}: p99 ≤ 30 ms, server CPU ≤ 5 ms", f"{late} ms, {cpu} ms", late <= 30 and cpu <= 5, where)
            elif "of one company" in what:
                late = p99(row[2])
                report.goal(f"{what}: p99 ≤ 150 ms", f"{late} ms", late <= 150, where)
            elif "memory" in what:
                kib = number(row[2])
                # A reading below zero is noise (the allocator gave pages back): no figure.
                report.goal(f"{name}: server memory ≤ 16 KiB per subscriber", f"{kib} KiB", 0 < kib <= 16, where)


def peer(report, s, pg):
    command = ["bash", "bench/peer.sh", *s.peer]
    # Without TLS, as PostGraphile's driver connects (see peer.sh).
    url = pg if "?" in pg else f"{pg}?sslmode=disable"
    output = run(["env", f"PG_URL={url}", *command])
    table = rows(output)
    intro = next((line for line in output.splitlines() if line.startswith("Page:")), "")
    report.section("Against PostGraphile 5 (PostgreSQL)", command, intro + "\n\n" + "\n".join(table))
    for row in map(cells, table[2:]):
        connections, rps, p50, cpu = row[0], numbers(row[3]), numbers(row[4]), numbers(row[7])
        if connections in ("8", "32"):
            report.goal(f"≥ 1.5× PostGraphile 5's req/s at {connections} connections", f"{shown(rps)}×", min(rps) >= 1.5, "PostGraphile 5")
        if connections == "1":
            report.goal("p50 at 1 connection ≤ PostGraphile 5's", f"{shown(p50)}×", max(p50) <= 1, "PostGraphile 5")
        if connections == "8":
            report.goal("server + database CPU per page ≤ PostGraphile 5's (8 connections)", f"{shown(cpu)}×", max(cpu) <= 1, "PostGraphile 5")


def splice(text):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    current = open(path, encoding="utf-8").read()
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        updated = head + text + tail
    else:
        # First run: after the file's title and opening paragraph.
        title, _, rest = current.partition("\n\n")
        updated = f"{title}\n\n{text}\n\n{rest}"
    with open(path, "w", encoding="utf-8") as out:
        out.write(updated)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small tables and short runs; prints, does not write")
    parser.add_argument("--print", action="store_true", help="print the section instead of writing BENCHMARKS.md")
    parser.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/test"), help="PostgreSQL server URL")
    args = parser.parse_args()
    s = Settings(args.quick)
    # The code measured is the code built now, whatever is edited during the run.
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, stdout=subprocess.PIPE, text=True).stdout.strip()
    run(["cargo", "build", "--release", "-p", "bench"])
    databases = [("SQLite", "sqlite"), ("PostgreSQL", args.pg)]
    report = Report()
    page_sizes(report, s, databases)
    variants(report, s, databases)
    everything(report, s, databases)
    mail(report, s, databases)
    fanout(report, s, databases)
    peer(report, s, args.pg)
    invocation = shlex.join(["python3", "bench/all.py", *sys.argv[1:]])
    text = report.markdown(invocation, args.quick, commit)
    if args.quick or args.print:
        print(text)
    else:
        splice(text)
        print("BENCHMARKS.md updated", file=sys.stderr)


if __name__ == "__main__":
    main()
