#!/usr/bin/env python3
"""False-positive scan across placements: the same benign value must get the same verdict
wherever a client puts it. Each value is sent in twelve places (query argument, path
segment, a path segment's matrix parameter, custom header, User-Agent, cookie, JSON field,
XML element, form field, multipart part, GraphQL variable, text/plain body) through
build/bin/shieldx-inspect, and the blocked requests are counted per placement and by the
first finding's rule.

Two value sets:
  dataset   benign argument values of the development sets in ../shared/datasets/requests
            (HttpParamsDataset, CSIC normal, blazehttp-white-dev); skipped when absent.
  random    seeded random tokens: base64, base64url, hex, URL-safe, decimal, JWT-like pairs
            and generated passwords of printable ASCII.

Headers, User-Agent and path segments are judged more strictly by design (markup in a
header, encoded NUL bytes, dot segments); a difference between the body placements is a
bug to look at.

  scripts/fp-placement-scan.py [--set dataset|random|both] [--count 6000] [--seed 11]
                               [--show 3] [--inspect PATH]
"""
import argparse
import base64
import collections
import gzip
import json
import os
import random
import string
import subprocess
import sys
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(REPO), "shared", "datasets", "requests")
BENIGN_FILES = ("http-params-dataset", "csic2010-subset", "blazehttp-white-dev")
PLACEMENTS = ("query", "path", "matrix", "header", "ua", "cookie", "json", "xml", "form", "multipart",
              "graphql", "text")


def dataset_values():
    seen, out = set(), []
    for name in BENIGN_FILES:
        path = os.path.join(DATA, name + ".ndjson.gz")
        if not os.path.exists(path):
            continue
        for line in gzip.open(path, "rt"):
            req = json.loads(line)
            if req.get("label") != "benign":
                continue
            sources = [req["uri"].split("?", 1)[1] if "?" in req["uri"] else ""]
            ctype = [v for k, v in req["headers"] if k.lower() == "content-type"]
            if req.get("body") and ctype and "urlencoded" in ctype[0]:
                sources.append(req["body"])
            for src in sources:
                for _, value in urllib.parse.parse_qsl(src):
                    if value and value not in seen and "\n" not in value and len(value) < 2000:
                        seen.add(value)
                        out.append(value)
    return out


def random_values(count, rng):
    printable = string.ascii_letters + string.digits + string.punctuation
    out = []
    for _ in range(count):
        kind = rng.randrange(7)
        n = rng.choice([8, 16, 24, 32, 44, 64, 88, 128])
        raw = bytes(rng.randrange(256) for _ in range(n))
        if kind == 0:
            out.append(base64.b64encode(raw).decode())
        elif kind == 1:
            out.append(base64.urlsafe_b64encode(raw).decode().rstrip("="))
        elif kind == 2:
            out.append(raw.hex())
        elif kind == 3:
            out.append("".join(rng.choice(string.ascii_letters + string.digits + "-_.~")
                               for _ in range(n)))
        elif kind == 4:
            out.append("".join(rng.choice(string.digits) for _ in range(n % 30 + 3)))
        elif kind == 5:
            out.append(base64.urlsafe_b64encode(raw[: n // 2]).decode().rstrip("=") + "." +
                       base64.urlsafe_b64encode(raw).decode().rstrip("="))
        else:
            out.append("".join(rng.choice(printable) for _ in range(rng.choice([12, 16, 20, 32]))))
    return out


def requests_for(value):
    enc = urllib.parse.quote(value, safe="")
    base = [["Host", "shop.example"], ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"],
            ["Accept", "*/*"]]

    def post(uri, ctype, body):
        headers = base + [["Content-Type", ctype], ["Content-Length", str(len(body.encode()))]]
        return ("POST", uri, headers, body)

    xml = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    part = ("--BB\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n" + value +
            "\r\n--BB--\r\n")
    return {
        "query": ("GET", "/search?q=" + enc, base, ""),
        "path": ("GET", "/api/items/" + enc + "/view", base, ""),
        "matrix": ("GET", "/api/items;comment=" + enc + "/view", base, ""),
        "header": ("GET", "/", base + [["X-Custom-Data", value]], ""),
        "ua": ("GET", "/", [["Host", "shop.example"], ["User-Agent", value], ["Accept", "*/*"]], ""),
        "cookie": ("GET", "/", base + [["Cookie", "session=abc123; pref=" + enc]], ""),
        "json": post("/api/c", "application/json", json.dumps({"name": "x", "comment": value})),
        "xml": post("/api/c", "application/xml",
                    "<?xml version=\"1.0\"?><r><comment>" + xml + "</comment></r>"),
        "form": post("/c", "application/x-www-form-urlencoded", "name=x&comment=" + enc),
        "multipart": post("/c", "multipart/form-data; boundary=BB", part),
        "graphql": post("/graphql", "application/json", json.dumps(
            {"query": "query($c:String){search(c:$c){id}}", "variables": {"c": value}})),
        "text": post("/c", "text/plain", value),
    }


def scan(name, values, inspect, show):
    lines, meta = [], []
    for i, value in enumerate(values):
        for place, (method, uri, headers, body) in requests_for(value).items():
            lines.append(json.dumps({"id": f"{i}:{place}", "method": method, "uri": uri,
                                     "headers": headers, "body": body}))
            meta.append((i, place))
    out = subprocess.run([inspect, "--threads", "2"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    if len(out) != len(meta):
        sys.exit(f"shieldx-inspect answered {len(out)} of {len(meta)} requests")
    blocked = collections.Counter()
    rules = collections.Counter()
    examples = collections.defaultdict(list)
    for (i, place), line in zip(meta, out):
        verdict = json.loads(line)
        if verdict["action"] == "allow":
            continue
        blocked[place] += 1
        rule = verdict["findings"][0]["rule"] if verdict["findings"] else "(none)"
        rules[(place, rule)] += 1
        if len(examples[(place, rule)]) < show:
            examples[(place, rule)].append(values[i][:100])
    print(f"{name}: {len(values)} values")
    for place in PLACEMENTS:
        print(f"  {place:10s} {blocked[place]:6d} blocked ({100.0 * blocked[place] / max(1, len(values)):.2f} %)")
    for (place, rule), count in rules.most_common(15):
        print(f"  {count:6d}  {place:10s} {rule}")
        for example in examples[(place, rule)]:
            print(f"            {example!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=("dataset", "random", "both"), default="both")
    ap.add_argument("--count", type=int, default=6000, help="random tokens")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--inspect", default=os.path.join(REPO, "build", "bin", "shieldx-inspect"))
    args = ap.parse_args()
    if args.set in ("dataset", "both"):
        values = dataset_values()
        if values:
            scan("dataset", values, args.inspect, args.show)
        else:
            print(f"dataset: skipped ({DATA} not found)")
    if args.set in ("random", "both"):
        scan("random", random_values(args.count, random.Random(args.seed)), args.inspect, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
