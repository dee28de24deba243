#!/usr/bin/env python3
"""False-positive scan on prose: paragraphs of the package documentation installed on this
machine (/usr/share/doc: READMEs, changelogs, NEWS), each posted as one form value through
build/bin/shieldx-inspect. Prints how many were blocked, by the first finding's rule, and
with --show N that many examples per rule.

The corpus depends on the installed packages, so figures compare builds on one machine,
not machines. It is technical text (release notes, manuals) with code and markup in it;
a blocked paragraph is a candidate false positive to read, not a verdict.

  scripts/fp-prose-scan.py [--limit 30000] [--seed 7] [--show 3] [--inspect PATH]
"""
import argparse
import collections
import gzip
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def paragraphs(root):
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            try:
                if name.endswith(".gz"):
                    text = gzip.open(path, "rt", errors="replace").read(200000)
                elif (name.startswith(("README", "NEWS")) or name == "copyright"
                      or name.endswith(".txt")):
                    with open(path, errors="replace") as f:
                        text = f.read(200000)
                else:
                    continue
            except (OSError, EOFError):
                continue
            for para in re.split(r"\n\s*\n", text):
                para = " ".join(line.strip() for line in para.splitlines())
                letters = sum(c.isalpha() for c in para)
                if 40 <= len(para) <= 600 and letters > 0.6 * len(para):
                    yield para


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/usr/share/doc")
    ap.add_argument("--limit", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--inspect", default=os.path.join(REPO, "build", "bin", "shieldx-inspect"))
    args = ap.parse_args()
    if not os.path.isdir(args.root):
        print(f"skipped: {args.root} not found")
        return 0
    paras = sorted(set(paragraphs(args.root)))
    random.Random(args.seed).shuffle(paras)
    paras = paras[: args.limit]
    lines = []
    for i, p in enumerate(paras):
        body = "text=" + urllib.parse.quote_plus(p)
        lines.append(json.dumps({
            "id": f"prose:{i}", "method": "POST", "uri": "/comment",
            "headers": [["Host", "example.com"], ["User-Agent", "Mozilla/5.0"],
                        ["Content-Type", "application/x-www-form-urlencoded"],
                        ["Content-Length", str(len(body))]],
            "body": body}))
    out = subprocess.run([args.inspect, "--threads", "2"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout
    rules = collections.Counter()
    examples = collections.defaultdict(list)
    blocked = 0
    for line in out.splitlines():
        v = json.loads(line)
        if v["action"] == "allow":
            continue
        blocked += 1
        rule = v["findings"][0]["rule"] if v["findings"] else "?"
        rules[rule] += 1
        if len(examples[rule]) < args.show:
            examples[rule].append(paras[int(v["id"].split(":")[1])][:200])
    n = len(paras)
    print(f"{blocked}/{n} paragraphs blocked ({100.0 * blocked / max(n, 1):.2f} %)")
    for rule, count in rules.most_common():
        print(f"  {count:5d}  {rule}")
        for e in examples[rule]:
            print(f"         {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
