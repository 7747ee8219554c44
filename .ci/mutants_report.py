"""Adds one cargo-mutants run to TESTING.md: a row of counts in the score
table and the run's missed mutants, each waiting for its reason."""

import datetime
import json
import subprocess
import sys

outcomes_path, package, filters, testing = sys.argv[1:5]
with open(outcomes_path) as f:
    outcomes = json.load(f)
caught, missed = outcomes.get("caught", 0), outcomes.get("missed", 0)
timeout, unviable = outcomes.get("timeout", 0), outcomes.get("unviable", 0)
viable = caught + missed + timeout
score = f"{100 * (caught + timeout) / viable:.1f} %" if viable else "–"
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
today = datetime.date.today().isoformat()
row = f"| {today} | `{commit}` | {package} {filters or '(all)'} | {caught} | {missed} | {timeout} | {unviable} | {score} |"
missed_names = sorted(
    o["scenario"]["Mutant"]["name"]
    for o in outcomes["outcomes"]
    if o["summary"] == "MissedMutant" and isinstance(o["scenario"], dict)
)

with open(testing) as f:
    text = f.read()
marker = "<!-- score rows -->"
text = text.replace(marker, f"{marker}\n{row}", 1)
if missed_names:
    section = "<!-- missed -->"
    listing = "\n".join(f"- `{name}`: reason to be given" for name in missed_names)
    text = text.replace(section, f"{section}\n\n{today}, {package} {filters or '(all)'} at `{commit}`:\n{listing}", 1)
with open(testing, "w") as f:
    f.write(text)
print(row)
