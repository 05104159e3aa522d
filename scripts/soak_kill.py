#!/usr/bin/env python3
"""Kill soak test of `dvae study run`: SIGKILL a small study at random moments, rerun, compare.

What it does, in a work folder (a fresh temporary one unless --work is given):
  1. writes a synthetic IDX data set (10 classes, a bright square per class on noise) and a tiny study
     (MLP, 2 models x 2 VAE seeds, a probe and the supervised baseline, a claim with a forest plot);
  2. runs the study once uninterrupted (the reference), timing its four stages from the progress lines
     (VAE training and supervised cells, the probe grid, figures, the report);
  3. runs it again into a second folder and SIGKILLs it at --kills random moments spread over the stages
     (each stage gets at least one kill when there are four or more, the rest in proportion to its
     duration; a moment is an offset from the line that starts its stage), rerunning after each kill;
  4. lets the last rerun finish and checks:
       - every killed attempt died of our SIGKILL (no attempt failed on its own),
       - the results rows (report/results.csv), summary, paired statistics and error analysis equal the
         reference's number for number (timings left out), and so do the VAEs' training logs,
       - results.sqlite passes PRAGMA integrity_check and holds the same units as the reference,
       - every record's artefact exists, its SHA-256 matches where the record holds one, and a
         classifier unit's results file parses and holds the rows its record counts,
       - no temporary file of an interrupted write is left, and every file the report links exists.
Exit status 0 when every check passes, 1 otherwise (each failure printed), 2 for bad arguments.

  scripts/soak_kill.py                       the long version: 10 kills (about 5 minutes on 2 cores)
  scripts/soak_kill.py --kills 3 --short     what CI runs (ctest -L soak)
"""
import argparse
import csv
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

STAGES = ["train", "probe", "figures", "report"]
# The progress line that starts each stage (src/experiments/study.cpp), and the one that ends the run.
STAGE_START = {
    "train": re.compile(r"\] plan: "),
    "probe": re.compile(r"\] probing: "),
    "figures": re.compile(r": drawing figures$"),
    "report": re.compile(r"\] writing the report$"),
}
RUN_END = re.compile(r"\] report written: ")


def fail_usage(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(2)


# --- Data and study ------------------------------------------------------------------------------


def idx_bytes(dims, payload):
    header = struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    return header + bytes(payload)


def synthetic(n, side, seed):
    """n images side x side: noise below 40 and a bright block at a class-specific position."""
    rng = random.Random(seed)
    block = max(2, side // 5)
    per_row = side // block
    pixels = bytearray(n * side * side)
    labels = bytearray(n)
    for i in range(n):
        label = i % 10
        labels[i] = label
        base = i * side * side
        pixels[base:base + side * side] = bytes(rng.randrange(40) for _ in range(side * side))
        cell = label % (per_row * per_row)
        r0, c0 = (cell // per_row) * block, (cell % per_row) * block
        for r in range(r0, r0 + block):
            for c in range(c0, c0 + block):
                pixels[base + r * side + c] = 200 + rng.randrange(56)
    return pixels, labels


def write_data(folder, n_train, n_test, seed):
    os.makedirs(folder, exist_ok=True)
    for name, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        pixels, labels = synthetic(n, 28, s)
        with open(os.path.join(folder, name + "-images-idx3-ubyte"), "wb") as f:
            f.write(idx_bytes([n, 28, 28], pixels))
        with open(os.path.join(folder, name + "-labels-idx1-ubyte"), "wb") as f:
            f.write(idx_bytes([n], labels))


def study_text(data, epochs, sizes, trials, probe_epochs, supervised_epochs, seed):
    return "\n".join([
        'title = "kill soak"',
        'datasets = ["%s"]' % data,
        'archs = ["mlp"]',
        "seed = %d" % seed,
        "vae_seeds = 2",
        "sizes = [%s]" % ", ".join(str(s) for s in sizes),
        "trials_small = %d" % trials,
        "validation_per_class = 2",
        'models = [{name = "standard", beta = 1, epochs = %d}, {name = "disentangled", beta = 4, epochs = %d}]'
        % (epochs, epochs),
        'classifiers = [{name = "probe", kind = "probe", epochs = %d},' % probe_epochs,
        '               {name = "supervised", kind = "supervised", epochs = %d}]' % supervised_epochs,
        "[[claims]]",
        'kind = "beats"',
        'a = "standard"',
        'b = "supervised"',
        "",
    ])


# --- Running dvae --------------------------------------------------------------------------------


class Attempt:
    """One `dvae study run` in the background; its stderr lines with the time each arrived."""

    def __init__(self, command, env):
        self.start = time.monotonic()
        self.lines = []  # (seconds since start, line)
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                     text=True, errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append((time.monotonic() - self.start, line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout):
        """Seconds (since start) of the first line matching pattern, or None if the run ended first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines:
                    if pattern.search(line):
                        return t
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.05))

    def finish(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode

    def stage(self):
        """The stage whose start line came last ("start" before the first)."""
        current = "start"
        with self.cond:
            for _, line in self.lines:
                for stage in STAGES:
                    if STAGE_START[stage].search(line):
                        current = stage
        return current

    def stderr_tail(self, n=5):
        return " | ".join(line for _, line in self.lines[-n:])


def stage_times(attempt):
    """Start of each stage and the run's end, from a finished run's lines."""
    times = {}
    for stage in STAGES:
        for t, line in attempt.lines:
            if STAGE_START[stage].search(line):
                times[stage] = t
                break
    end = next((t for t, line in attempt.lines if RUN_END.search(line)), None)
    missing = [s for s in STAGES if s not in times] + ([] if end is not None else ["end"])
    if missing:
        raise RuntimeError("the reference run printed no line for stage(s) %s; last lines: %s"
                           % (", ".join(missing), attempt.stderr_tail()))
    durations = {}
    bounds = [times[s] for s in STAGES] + [end]
    for i, s in enumerate(STAGES):
        durations[s] = max(0.05, bounds[i + 1] - bounds[i])
    return durations


def plan_kills(kills, durations, rng):
    """[(stage, seconds after the stage's start line)], in stage order."""
    if kills >= len(STAGES):
        counts = {s: 1 for s in STAGES}
        rest = kills - len(STAGES)
        total = sum(durations.values())
        shares = {s: rest * durations[s] / total for s in STAGES}
        for s in STAGES:
            counts[s] += int(shares[s])
        left = kills - sum(counts.values())
        for s in sorted(STAGES, key=lambda s: shares[s] - int(shares[s]), reverse=True)[:left]:
            counts[s] += 1
    else:
        chosen = ["train", "probe", rng.choice(["figures", "report"])][:kills]
        counts = {s: (1 if s in chosen else 0) for s in STAGES}
    plan = []
    for s in STAGES:
        # Moments as fractions of the stage; a rerun resumes where the kill left it, so each later
        # kill in the same stage waits only for the difference.
        fractions = sorted(rng.uniform(0.05, 0.95) for _ in range(counts[s]))
        previous = 0.0
        for f in fractions:
            plan.append((s, max(0.02, (f - previous) * durations[s])))
            previous = f
    return plan


# --- Checks --------------------------------------------------------------------------------------


def numbers_equal(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return x == y or (math.isnan(x) and math.isnan(y))


def compare_csv(ref_path, got_path, failures, what):
    def rows(path):
        with open(path, newline="") as f:
            table = list(csv.reader(f))
        header, body = table[0], table[1:]
        keep = [i for i, h in enumerate(header) if not h.startswith("seconds")]
        return [header[i] for i in keep], [[r[i] for i in keep] for r in body]

    if not os.path.exists(got_path):
        failures.append("%s: %s is missing" % (what, got_path))
        return 0
    ref_header, ref_rows = rows(ref_path)
    got_header, got_rows = rows(got_path)
    if ref_header != got_header or len(ref_rows) != len(got_rows):
        failures.append("%s: %d rows with columns %s, the reference has %d with %s"
                        % (what, len(got_rows), got_header, len(ref_rows), ref_header))
        return 0
    for i, (r, g) in enumerate(zip(ref_rows, got_rows)):
        for h, x, y in zip(ref_header, r, g):
            if not numbers_equal(x, y):
                failures.append("%s: row %d, %s is %s, the reference has %s" % (what, i + 1, h, y, x))
                return len(ref_rows)
    return len(ref_rows)


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in ("seconds", "images_per_sec")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def vae_logs(out):
    logs = {}
    vae_dir = os.path.join(out, "vae")
    for name in sorted(os.listdir(vae_dir)):
        with open(os.path.join(vae_dir, name, "log.jsonl")) as f:
            logs[name] = [without_timings(json.loads(line)) for line in f if line.strip()]
    return logs


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def store_records(out, failures):
    """{key: (kind, artefact, sha256, payload)} after checking the store and every record's artefact."""
    path = os.path.join(out, "results.sqlite")
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        check = db.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            failures.append("%s: PRAGMA integrity_check says %s" % (path, check))
        rows = db.execute("SELECT key, kind, artefact, sha256, payload FROM units").fetchall()
    finally:
        db.close()
    records = {}
    for key, kind, artefact, sha, payload in rows:
        records[key] = (kind, artefact, sha, json.loads(payload))
        if not artefact:
            continue
        file = os.path.join(out, artefact)
        if not os.path.isfile(file):
            failures.append("store record %s (%s) points to %s, which is missing" % (key[:10], kind, artefact))
            continue
        if sha and sha256_file(file) != sha:
            failures.append("store record %s (%s): %s does not have the recorded SHA-256 (partial or rewritten)"
                            % (key[:10], kind, artefact))
        if kind in ("probe", "supervised"):
            with open(file) as f:
                text = f.read()
            lines = [l for l in text.split("\n") if l.strip()]
            try:
                for line in lines:
                    json.loads(line)
            except ValueError:
                failures.append("store record %s: %s holds a line that is not JSON" % (key[:10], artefact))
            if not text.endswith("\n") or len(lines) != json.loads(payload).get("rows", -1):
                failures.append("store record %s: %s holds %d rows (torn: %s), the record counts %s"
                                % (key[:10], artefact, len(lines), not text.endswith("\n"),
                                   json.loads(payload).get("rows")))
    return records


def leftover_temporaries(out):
    found = []
    for folder, _, files in os.walk(out):
        for name in files:
            if ".tmp." in name or name.endswith(".tmp"):
                found.append(os.path.relpath(os.path.join(folder, name), out))
    return found


def missing_report_links(out):
    report = os.path.join(out, "report")
    with open(os.path.join(report, "index.html")) as f:
        html = f.read()
    links = re.findall(r'(?:src|href)="([^"#:]+)"', html)
    return [l for l in links if not os.path.exists(os.path.join(report, l))], len(links)


def check(reference, soaked, failures):
    counts = {}
    for name in ("results.csv", "summary.csv", "paired.csv"):
        counts[name] = compare_csv(os.path.join(reference, "report", name), os.path.join(soaked, "report", name),
                                   failures, name)
    for name in sorted(os.listdir(os.path.join(reference, "report"))):
        if name.startswith("errors-") and name.endswith(".json"):
            with open(os.path.join(reference, "report", name)) as a, open(os.path.join(soaked, "report", name)) as b:
                if json.load(a) != json.load(b):
                    failures.append("report/%s differs from the reference's" % name)
    ref_logs, got_logs = vae_logs(reference), vae_logs(soaked)
    if ref_logs != got_logs:
        for name in sorted(set(ref_logs) | set(got_logs)):
            a, b = ref_logs.get(name), got_logs.get(name)
            if a != b:
                failures.append("vae/%s/log.jsonl: %s epochs logged, the reference logs %s (or their numbers differ)"
                                % (name, len(b) if b is not None else "no", len(a) if a is not None else "no"))
    ref_records = store_records(reference, failures)
    got_records = store_records(soaked, failures)
    # Units by key; figures by path (a figure's key holds its checkpoint's SHA-256, and a
    # checkpoint holds its last epoch's timings, so the two runs' figure keys differ).
    def units(records):
        return {(v[0], v[1]) if v[0] == "figure" else k: (v[0], v[1]) for k, v in records.items()}

    ref_units, got_units = units(ref_records), units(got_records)
    if ref_units != got_units:
        failures.append("the store holds %d units, the reference %d (kinds or artefacts differ: %s)"
                        % (len(got_units), len(ref_units),
                           sorted(set(ref_units.items()) ^ set(got_units.items()))[:4]))
    for key, (kind, _, _, payload) in ref_records.items():
        if kind == "vae" and key in got_records and without_timings(payload) != without_timings(got_records[key][3]):
            failures.append("store record %s (vae): final statistics differ from the reference's" % key[:10])
    temps = leftover_temporaries(soaked)
    if temps:
        failures.append("temporary files of interrupted writes left behind: %s" % ", ".join(temps[:6]))
    missing, links = missing_report_links(soaked)
    if missing:
        failures.append("report/index.html links to missing files: %s" % ", ".join(missing[:6]))
    counts["records"] = len(got_records)
    counts["report links"] = links
    return counts


# --- Main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--dvae", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                                                       "dvae"), help="the dvae binary (default build/dvae)")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs to deliver (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments and of the study (default 1)")
    parser.add_argument("--short", action="store_true", help="a smaller study (what CI runs)")
    parser.add_argument("--threads", type=int, default=1, help="dvae --threads (default 1)")
    parser.add_argument("--work", help="work folder (default: a temporary folder, removed unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--timeout", type=float, default=900, help="seconds any one run may take (default 900)")
    args = parser.parse_args()
    if args.kills < 0 or args.kills > 1000:
        fail_usage("--kills: %d, expected an integer in [0, 1000]" % args.kills)
    if args.threads < 1 or args.threads > 1024:
        fail_usage("--threads: %d, expected an integer in [1, 1024]" % args.threads)
    if not (os.path.isfile(args.dvae) and os.access(args.dvae, os.X_OK)):
        fail_usage("--dvae: %s is not an executable file, expected the dvae binary (build it first)" % args.dvae)
    if args.work and os.path.exists(args.work) and os.listdir(args.work):
        fail_usage("--work: %s is not empty, expected a new or empty folder" % args.work)

    work = args.work or tempfile.mkdtemp(prefix="dvae-soak-")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(args.seed)
    if args.short:
        n_train, n_test, epochs, sizes, trials, probe_epochs, sup_epochs = 1000, 200, 3, [1, 5], 2, 20, 5
    else:
        n_train, n_test, epochs, sizes, trials, probe_epochs, sup_epochs = 6000, 500, 8, [1, 5, 10], 3, 50, 10
    data = os.path.join(work, "data")
    write_data(data, n_train, n_test, args.seed)
    spec = os.path.join(work, "soak.toml")
    with open(spec, "w") as f:
        f.write(study_text(data, epochs, sizes, trials, probe_epochs, sup_epochs, args.seed))
    env = dict(os.environ, DVAE_BLAS_KERNEL="keep")

    def command(out):
        return [args.dvae, "--threads", str(args.threads), "study", "run", spec, "--out", out]

    reference, soaked = os.path.join(work, "reference"), os.path.join(work, "soaked")
    failures = []
    t0 = time.monotonic()
    ref = Attempt(command(reference), env)
    rc = ref.finish(args.timeout)
    if rc != 0:
        print("error: the reference run failed (exit %s): %s" % (rc, ref.stderr_tail()), file=sys.stderr)
        return 1
    durations = stage_times(ref)
    ref_seconds = time.monotonic() - t0
    print("soak: reference run %.1f s; stages: %s" % (ref_seconds, ", ".join(
        "%s %.1f s" % (s, durations[s]) for s in STAGES)), flush=True)

    plan = plan_kills(args.kills, durations, rng)
    log = []
    killed = 0
    for i, (stage, delay) in enumerate(plan):
        attempt = Attempt(command(soaked), env)
        started = attempt.wait_for(STAGE_START[stage], args.timeout)
        outcome = None
        if started is not None:
            time.sleep(delay)
            if attempt.proc.poll() is None:
                attempt.proc.send_signal(signal.SIGKILL)
                outcome = "killed"
        rc = attempt.finish(args.timeout)
        if outcome == "killed" and rc == -signal.SIGKILL:
            killed += 1
            at = time.monotonic() - attempt.start
            last = attempt.lines[-1][1] if attempt.lines else ""
            # A rerun passes quickly over what is done, so a kill can land in a later stage than planned.
            landed = attempt.stage()
            log.append({"kill": i + 1, "stage": landed, "planned": stage, "after_stage_start_s": round(delay, 2),
                        "at_s": round(at, 2), "last_line": last})
            print("soak: kill %d/%d in %s (planned: %s, %.2f s after its start; %.1f s into the run): %s"
                  % (i + 1, len(plan), landed, stage, delay, at, last[:100]), flush=True)
        elif rc == 0:
            log.append({"kill": i + 1, "stage": stage, "missed": "the run finished first"})
            print("soak: kill %d/%d in %s: the run finished first" % (i + 1, len(plan), stage), flush=True)
        else:
            failures.append("attempt %d (before kill %d in %s) failed on its own with exit %s: %s"
                            % (i + 1, i + 1, stage, rc, attempt.stderr_tail()))
            log.append({"kill": i + 1, "stage": stage, "failed": rc, "stderr": attempt.stderr_tail()})
    final = Attempt(command(soaked), env)
    rc = final.finish(args.timeout)
    if rc != 0:
        failures.append("the final rerun failed (exit %s): %s" % (rc, final.stderr_tail()))
        counts = {}
    else:
        counts = check(reference, soaked, failures)
    total = time.monotonic() - t0
    summary = {"kills_planned": len(plan), "kills_delivered": killed, "reference_s": round(ref_seconds, 1),
               "stage_s": {s: round(durations[s], 1) for s in STAGES}, "total_s": round(total, 1),
               "compared": counts, "kills": log, "failures": failures}
    with open(os.path.join(work, "soak.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("soak: %d of %d kills delivered (%s), %.0f s in all; compared %s"
          % (killed, len(plan), ", ".join("%s %d" % (s, sum(1 for k in log if k["stage"] == s and "at_s" in k))
                                         for s in ["start"] + STAGES), total,
             ", ".join("%s %s" % kv for kv in counts.items())))
    if killed == 0 and args.kills > 0:
        failures.append("no kill was delivered: every run finished first")
    for f in failures:
        print("error: " + f, file=sys.stderr)
    if not failures:
        print("soak: PASS: results equal the uninterrupted run's, the store is intact, no record points to a "
              "missing or partial file")
    if args.keep or args.work:
        print("soak: work folder %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
