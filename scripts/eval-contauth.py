#!/usr/bin/env python3
"""Keystroke-dynamics evaluation of contauth on MEU-Mobile KSD (Python 3 stdlib only).

Converts the data set's CSV (timing features per repetition) to keystroke NDJSON
(shared/formats/keystroke-ndjson.md), runs build/bin/shieldx-contauth-eval on it and computes
per-user equal-error rate (EER) and zero-miss false-alarm rate (ZMFAR) under the
Killourhy-Maxion one-class protocol: per subject, enroll reps 1..25, probe reps 26..51 as
genuine and reps 1..5 of every other subject in the tenant as impostors.

Event synthesis (the CSV holds timings, not events): for the 14 keys in typing order,
  down_0 = 0, down_{i+1} = down_i + DD_i, up_i = down_i + Hold_i,
so the tool recomputes exactly the CSV's Hold and DD; UD = DD - Hold (the data set satisfies
this identity; the converter counts violations). Pressure and finger-area columns are not
used: the NDJSON format carries timings only.

Splits (subjects u01..u56):
  tune      odd-numbered subjects (28): the only split looked at while choosing settings
  heldout   even-numbered subjects (28): never used for tuning
  all       all 56 subjects (the data set's README protocol)
  unseen    heldout subjects enrolled; impostor probes come from the 28 tune subjects, who are
            NOT enrolled in the tenant (the background cannot recognise the impostor)
  fresh     heldout subjects, but each impostor probe is one of the impostor's reps 47..51
            (never enrolled) instead of reps 1..5 (which are also among that impostor's own
            enrollment vectors in the standard protocol): isolates how much of a background
            gain comes from having seen the very probe vectors
Each split is one tenant (per-split tenant ids); by default all enroll lines come first, then
the probes (--order=interleaved puts each subject's probes right after its enrollment).

Exits 0 with a message when the data set is absent.
"""
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATASET = os.path.join(os.path.dirname(REPO), "shared", "datasets", "keystroke-dev")
CSV_NAME = "MEU-Mobile-KSD.csv"
# Column-name key -> KeyboardEvent.key name. "Shift.1" is the second Shift press; "Caps" is
# the caps-lock key of the soft keyboard.
KEYS = [".", "t", "i", "e", "Shift", "5", "Shift.1", "Caps", "r", "o", "a", "n", "l", "Enter"]
KEY_NAMES = {"Shift.1": "Shift", "Caps": "CapsLock"}
ENROLL_REPS = range(1, 26)
GENUINE_REPS = range(26, 52)
IMPOSTOR_REPS = range(1, 6)


def load_rows(path):
    """subject -> {rep: (holds[14], dd[13], ud[13])}; counts UD != DD - Hold violations."""
    data, violations = {}, 0
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            holds = [float(row["Hold " + k]) for k in KEYS]
            pairs = [KEYS[i] + "." + KEYS[i + 1] for i in range(len(KEYS) - 1)]
            # Column names of digraphs use the bare key names ("Shift.Caps", "5.Shift").
            def col(prefix, i):
                a = KEYS[i].replace(".1", "")
                b = KEYS[i + 1].replace(".1", "")
                return row["%s %s.%s" % (prefix, a, b)]
            dd = [float(col("DD", i)) for i in range(len(pairs))]
            ud = [float(col("UD", i)) for i in range(len(pairs))]
            for i in range(len(dd)):
                if abs(dd[i] - holds[i] - ud[i]) > 1e-6:
                    violations += 1
            data.setdefault(row["subject"], {})[int(row["rep"])] = (holds, dd, ud)
    return data, violations


def events(holds, dd):
    out, down = [], 0.0
    for i, k in enumerate(KEYS):
        out.append({"key": KEY_NAMES.get(k, k), "down_ms": down, "up_ms": down + holds[i]})
        if i < len(dd):
            down += dd[i]
    return out


def line(tenant, claimed, sample_id, phase, label, timing):
    obj = {"tenant": tenant, "user": claimed, "sample_id": sample_id, "phase": phase,
           "events": events(timing[0], timing[1])}
    if label:
        obj["label"] = label
    return json.dumps(obj, separators=(",", ":"))


FRESH_IMPOSTOR_REPS = range(47, 52)


def build_split(data, tenant, enrolled, impostor_pool, interleaved=False, impostor_reps=IMPOSTOR_REPS):
    """NDJSON lines: every enrolled subject's enrollment first, then all probes (grouped), or
    per subject its enrollment followed by its probes (interleaved: early subjects are
    probed before the others enroll, so their background is smaller)."""
    lines, truth = [], {}
    for s in enrolled:
        if not interleaved:
            for r in ENROLL_REPS:
                lines.append(line(tenant, s, "%s-r%02d" % (s, r), "enroll", None, data[s][r]))
    for s in enrolled:
        if interleaved:
            for r in ENROLL_REPS:
                lines.append(line(tenant, s, "%s-r%02d" % (s, r), "enroll", None, data[s][r]))
        for r in GENUINE_REPS:
            sid = "%s-r%02d" % (s, r)
            lines.append(line(tenant, s, sid, "probe", "genuine", data[s][r]))
            truth[sid] = (s, "genuine")
        for o in impostor_pool:
            if o == s:
                continue
            for r in impostor_reps:
                sid = "%s-r%02d-as-%s" % (o, r, s)
                lines.append(line(tenant, s, sid, "probe", "impostor", data[o][r]))
                truth[sid] = (s, "impostor")
    return lines, truth


def eer(genuine, impostor):
    """README procedure: one ROC point per distinct score, linear interpolation at the sign
    change of (miss rate - false-alarm rate). Flagged as impostor when score >= threshold."""
    thresholds = sorted(set(genuine) | set(impostor))
    points = [(0.0, 1.0)]  # (miss, fa) at threshold below every score: all flagged
    ng, ni = len(genuine), len(impostor)
    for t in thresholds:
        miss = sum(1 for x in impostor if x < t) / ni
        fa = sum(1 for x in genuine if x >= t) / ng
        points.append((miss, fa))
    points.append((1.0, 0.0))
    for (m0, f0), (m1, f1) in zip(points, points[1:]):
        d0, d1 = m0 - f0, m1 - f1
        if d0 == 0:
            return m0
        if d0 < 0 < d1 or d0 > 0 > d1:
            a = d0 / (d0 - d1)
            return m0 + a * (m1 - m0)
    return points[-1][0]


def zmfar(genuine, impostor):
    lowest = min(impostor)
    return sum(1 for x in genuine if x >= lowest) / len(genuine)


def run_tool(tool, tool_args, lines):
    with tempfile.TemporaryFile("w+") as inp:
        inp.write("\n".join(lines) + "\n")
        inp.seek(0)
        proc = subprocess.run([tool] + tool_args, stdin=inp, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit("eval-contauth: %s exited %d" % (tool, proc.returncode))
    return [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]


def fit_calibration(points):
    """Balanced 1-D logistic regression of the label (impostor = 1) on the tool's distance,
    by Newton's method: returns (center, slope) with score = 1 / (1 + exp(-slope * (d - center)))."""
    n1 = sum(1 for _, y in points if y) or 1
    n0 = sum(1 for _, y in points if not y) or 1
    a, b = 0.0, 0.0  # logit = a * d + b (Newton from 0 is stable here)
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for d, y in points:
            w = 0.5 / (n1 if y else n0)
            z = max(-50.0, min(50.0, a * d + b))
            p = 1.0 / (1.0 + math.exp(-z))
            r, c = w * (p - y), w * p * (1 - p)
            ga += r * d
            gb += r
            haa += c * d * d
            hab += c * d
            hbb += c
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return -b / a, a


def evaluate(tool, tool_args, data, tenant, enrolled, pool, interleaved, impostor_reps):
    lines, truth = build_split(data, tenant, enrolled, pool, interleaved, impostor_reps)
    scores = run_tool(tool, tool_args, lines)
    if len(scores) != len(truth):
        raise SystemExit("eval-contauth: %d scores for %d probes" % (len(scores), len(truth)))
    per_user, points = {}, []
    for s in scores:
        user, label = truth[s["sample_id"]]
        assert s["user"] == user
        if not 0.0 <= s["score"] <= 1.0:
            raise SystemExit("eval-contauth: score out of [0,1]: %r" % s)
        per_user.setdefault(user, {"genuine": [], "impostor": []})[label].append(s["score"])
        points.append((s["distance"], label == "impostor"))
    eers = [eer(v["genuine"], v["impostor"]) for v in per_user.values()]
    zms = [zmfar(v["genuine"], v["impostor"]) for v in per_user.values()]
    return {
        "users": len(per_user),
        "probes": len(scores),
        "mean_eer": statistics.mean(eers),
        "sd_eer": statistics.stdev(eers) if len(eers) > 1 else 0.0,
        "mean_zmfar": statistics.mean(zms),
        "sd_zmfar": statistics.stdev(zms) if len(zms) > 1 else 0.0,
        "calibration": fit_calibration(points),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default=os.environ.get("SHIELDX_KEYSTROKE_DEV", DEFAULT_DATASET))
    ap.add_argument("--tool", default=os.environ.get("SHIELDX_CONTAUTH_EVAL"),
                    help="the tool binary (default: BUILD_DIR/bin/shieldx-contauth-eval)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                    help="build directory holding bin/shieldx-contauth-eval (default: build)")
    ap.add_argument("--splits", default="tune,heldout,all,unseen,fresh")
    ap.add_argument("--tool-arg", action="append", default=[],
                    help="extra option for the tool, e.g. --tool-arg=--background=none")
    ap.add_argument("--write-ndjson", metavar="FILE",
                    help="also write the 'all' split as NDJSON (with labels) to FILE")
    ap.add_argument("--order", choices=["grouped", "interleaved"], default="grouped",
                    help="grouped: all enrollments, then all probes; interleaved: per subject")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    ap.add_argument("--show-calibration", action="store_true",
                    help="also print the balanced logistic fit (center, slope) of each split's "
                         "distances: fit it on the tune split only")
    args = ap.parse_args()

    if args.tool is None:
        args.tool = os.path.join(os.path.abspath(args.build_dir), "bin", "shieldx-contauth-eval")
    path = os.path.join(args.dataset, CSV_NAME)
    if not os.path.exists(path):
        print("eval-contauth: data set not found at %s; skipping" % path)
        return 0
    if not os.access(args.tool, os.X_OK):
        raise SystemExit("eval-contauth: tool %s not built (ninja shieldx-contauth-eval)" % args.tool)
    data, violations = load_rows(path)
    subjects = sorted(data)
    tune = [s for s in subjects if int(s[1:]) % 2 == 1]
    heldout = [s for s in subjects if int(s[1:]) % 2 == 0]
    if args.write_ndjson:
        lines, _ = build_split(data, "meu", subjects, subjects)
        with open(args.write_ndjson, "w") as f:
            f.write("\n".join(lines) + "\n")
    splits = {
        "tune": (tune, tune, IMPOSTOR_REPS),
        "heldout": (heldout, heldout, IMPOSTOR_REPS),
        "all": (subjects, subjects, IMPOSTOR_REPS),
        "unseen": (heldout, tune, IMPOSTOR_REPS),
        "fresh": (heldout, heldout, FRESH_IMPOSTOR_REPS),
    }
    results = {"ud_identity_violations": violations, "tool_args": args.tool_arg}
    for name in args.splits.split(","):
        enrolled, pool, impostor_reps = splits[name]
        results[name] = evaluate(args.tool, args.tool_arg, data, "meu-" + name, enrolled, pool,
                                 args.order == "interleaved", impostor_reps)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("tool options: %s; order: %s" % (" ".join(args.tool_arg) or "(defaults)", args.order))
        for name in args.splits.split(","):
            r = results[name]
            print("%-8s users=%2d probes=%5d  EER %.4f (sd %.4f)  ZMFAR %.4f (sd %.4f)" % (
                name, r["users"], r["probes"], r["mean_eer"], r["sd_eer"], r["mean_zmfar"],
                r["sd_zmfar"]))
            if args.show_calibration:
                print("         calibration fit: center %.3f slope %.3f" % r["calibration"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
