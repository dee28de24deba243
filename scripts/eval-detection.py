#!/usr/bin/env python3
"""Runs shieldx-inspect over the labeled development requests and prints detection and
false-positive rates per dataset, per source and per category, with 95 % Wilson intervals.

Usage: scripts/eval-detection.py [--inspect BIN] [--data DIR] [--threads N] [--config FILE]
                                 [--misses FILE] [--markdown] [--check]

--check also tests the figures against the issue's targets (>= 99 % detection on the attack
parts of gotestwaf, HttpParamsDataset and the libinjection sets; <= 0.1 % false positives on
blazehttp-white-dev, HttpParamsDataset benign values and CSIC normal requests) and a floor for
the CRS paranoia-1 tests (>= 95 % of the attack tests together, and of the attack and
protocol tests together), prints
"detect-figures: N passed, M failed" and exits 1 when one is missed. A dataset that is
absent is not checked. scripts/tests/detect-figures.sh runs it in `make test`.

The data directory defaults to ../shared/datasets/requests relative to the repository root.
When it is absent the script says so and exits 0 (the data is not part of the repository).
Labels are read here only for scoring: shieldx-inspect never sees them (it reads the request
fields of each line and ignores label/category/source/placeholder by construction).
"""
import argparse
import collections
import gzip
import json
import math
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DETECTED = {"block", "challenge", "tarpit", "divert"}


def wilson(k, n, z=1.959964):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    m = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Clamped: at k = 0 or k = n rounding can put a bound a hair outside [0, 1] ("-0.00").
    return (max(0.0, (c - m) / d), min(1.0, (c + m) / d))


def fmt(k, n):
    if n == 0:
        return "-"
    lo, hi = wilson(k, n)
    return f"{100.0 * k / n:6.2f} % [{100 * lo:.2f}, {100 * hi:.2f}] ({k}/{n})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inspect", default=None)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "datasets", "requests"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--config", default=None)
    ap.add_argument("--misses", default=None, help="write missed attacks / flagged benign ids here")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables")
    ap.add_argument("--check", action="store_true", help="test the figures against the targets")
    args = ap.parse_args()

    data = os.path.abspath(args.data)
    if not os.path.isdir(data):
        print(f"eval-detection: dataset directory {data} not found; skipping (nothing to evaluate)")
        if args.check:
            print("detect-figures: 0 passed, 0 failed")
        return 0
    files = sorted(f for f in os.listdir(data) if f.endswith(".ndjson") or f.endswith(".ndjson.gz"))
    if not files:
        print(f"eval-detection: no *.ndjson(.gz) files in {data}; skipping")
        return 0
    inspect = args.inspect
    if inspect is None:
        for cand in ("build/bin/shieldx-inspect", "build-detect/bin/shieldx-inspect"):
            if os.path.exists(os.path.join(REPO, cand)):
                inspect = os.path.join(REPO, cand)
                break
    if inspect is None or not os.path.exists(inspect):
        print("eval-detection: shieldx-inspect not found (build it first: make build)", file=sys.stderr)
        return 1

    cmd = [inspect, "--threads", str(args.threads)]
    if args.config:
        cmd += ["--config", args.config]
    rows = []  # (dataset, source, category, label, action, id)
    total_time = 0.0
    total_requests = 0
    for f in files:
        path = os.path.join(data, f)
        opener = gzip.open if f.endswith(".gz") else open
        with opener(path, "rb") as fh:
            raw = fh.read()
        labels = {}
        for line in raw.splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            labels[r["id"]] = (r["source"], r["category"], r["label"])
        t0 = time.time()
        proc = subprocess.run(cmd, input=raw, stdout=subprocess.PIPE, check=True)
        total_time += time.time() - t0
        total_requests += len(labels)
        dataset = f.split(".")[0]
        seen = set()
        for line in proc.stdout.splitlines():
            v = json.loads(line)
            rid = v.get("id", "")
            if rid not in labels:
                continue
            seen.add(rid)
            src, cat, lab = labels[rid]
            rows.append((dataset, src, cat, lab, v.get("action", "error"), rid, v))
        for rid, (src, cat, lab) in labels.items():
            if rid not in seen:  # missing line: scored pessimistically
                rows.append((dataset, src, cat, lab, "error", rid, {}))

    def rate(sel, label):
        n = sum(1 for r in sel if r[3] == label)
        if label == "attack":
            k = sum(1 for r in sel if r[3] == label and r[4] in DETECTED)
        else:
            k = sum(1 for r in sel if r[3] == label and (r[4] in DETECTED or r[4] == "error"))
        return k, n

    out = []
    hdr = "| dataset / source | category | detection (attacks) | false positives (benign) |"
    out.append(hdr)
    out.append("|---|---|---|---|")
    by_ds = collections.defaultdict(list)
    for r in rows:
        by_ds[r[0]].append(r)
    for ds in sorted(by_ds):
        sel = by_ds[ds]
        out.append(f"| **{ds}** | all | {fmt(*rate(sel, 'attack'))} | {fmt(*rate(sel, 'benign'))} |")
        by_src = collections.defaultdict(list)
        for r in sel:
            by_src[r[1]].append(r)
        for src in sorted(by_src):
            s = by_src[src]
            out.append(f"| {src} | all | {fmt(*rate(s, 'attack'))} | {fmt(*rate(s, 'benign'))} |")
            by_cat = collections.defaultdict(list)
            for r in s:
                by_cat[r[2]].append(r)
            if len(by_cat) > 1:
                for cat in sorted(by_cat):
                    if cat == "benign":
                        continue
                    out.append(f"|  | {cat} | {fmt(*rate(by_cat[cat], 'attack'))} | |")
    out.append("")
    out.append("| category (all datasets) | detection |")
    out.append("|---|---|")
    by_cat = collections.defaultdict(list)
    for r in rows:
        by_cat[r[2]].append(r)
    for cat in sorted(by_cat):
        if cat == "benign":
            out.append(f"| benign (false positives) | {fmt(*rate(by_cat[cat], 'benign'))} |")
        else:
            out.append(f"| {cat} | {fmt(*rate(by_cat[cat], 'attack'))} |")
    # CRS regression attack tests per rule family (the rule id's first three digits).
    crs = [r for r in rows if r[0] == "crs-regression" and r[3] == "attack"]
    if crs:
        out.append("")
        out.append("| CRS rule family | PL1 detection | PL2-4 detection |")
        out.append("|---|---|---|")
        fam = collections.defaultdict(lambda: [[], []])
        for r in crs:
            parts = r[5].split(":")
            family = parts[1][:3] if len(parts) > 1 else "?"
            pl1 = r[1].endswith("-pl1")
            fam[family][0 if pl1 else 1].append(r)
        for family in sorted(fam):
            a, b = fam[family]
            out.append(f"| {family} | {fmt(*rate(a, 'attack'))} | {fmt(*rate(b, 'attack'))} |")
    text = "\n".join(out)
    if not args.markdown:
        text = text.replace("| ", "").replace(" |", "").replace("|", "")
    print(text)
    print(f"\n{total_requests} requests in {total_time:.1f} s "
          f"({total_requests / max(total_time, 1e-9):.0f} req/s, {args.threads} threads, incl. JSON I/O)")
    status = 0
    if args.check:
        status = check_targets(rows, rate)
    if args.misses:
        with open(args.misses, "w") as fh:
            for r in rows:
                missed = r[3] == "attack" and r[4] not in DETECTED
                flagged = r[3] == "benign" and (r[4] in DETECTED or r[4] == "error")
                if missed or flagged:
                    fh.write(json.dumps({"kind": "miss" if missed else "fp", "id": r[5], "source": r[1],
                                         "category": r[2], "verdict": r[6]}) + "\n")
    return status


def check_targets(rows, rate):
    """The issue's detection and false-positive targets, and the CRS PL1 floor; 1 if one fails."""
    def sel(dataset, source_prefix=None):
        return [r for r in rows
                if r[0] == dataset and (source_prefix is None or r[1].startswith(source_prefix))]
    checks = [  # (name, rows, label, bound, at least?)
        ("gotestwaf attacks detected", sel("gotestwaf"), "attack", 0.99, True),
        ("HttpParamsDataset attacks detected", sel("http-params-dataset"), "attack", 0.99, True),
        ("libinjection SQLi detected", sel("libinjection-data", "libinjection-data/sqli"), "attack",
         0.99, True),
        ("libinjection XSS detected", sel("libinjection-data", "libinjection-data/xss"), "attack",
         0.99, True),
        ("CRS paranoia-1 attack tests detected", sel("crs-regression", "crs-regression/attack-pl1"),
         "attack", 0.95, True),
        ("CRS paranoia-1 tests detected (attack and protocol)",
         sel("crs-regression", "crs-regression/attack-pl1")
         + sel("crs-regression", "crs-regression/protocol-pl1"), "attack", 0.95, True),
        ("blazehttp-white-dev false positives", sel("blazehttp-white-dev"), "benign", 0.001, False),
        ("HttpParamsDataset false positives", sel("http-params-dataset"), "benign", 0.001, False),
        ("CSIC 2010 normal false positives", sel("csic2010-subset"), "benign", 0.001, False),
    ]
    passed = failed = 0
    for name, subset, label, bound, at_least in checks:
        k, n = rate(subset, label)
        if n == 0:
            continue  # dataset absent
        value = k / n
        ok = value >= bound if at_least else value <= bound
        passed += ok
        failed += not ok
        print(f"check: {name}: {100 * value:.2f} % ({k}/{n}), "
              f"{'at least' if at_least else 'at most'} {100 * bound:g} %: {'ok' if ok else 'FAILED'}")
    print(f"detect-figures: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
