#!/usr/bin/env python3
"""Checks `loop-watchdog report` on real stall logs, against the events and in real tools.

Usage: report_check.py TOOL EVENTS_FILE...

Computes every site's stalls and blocked time from the JSON events itself (stall.began gives
the stack and site, stall.ended the duration, stall.repeats adds counted stalls), runs
`TOOL report` with every output, and checks:
- the table: each site's stall count;
- the folded stacks: their weights add up to the blocked time (whole ms per line);
- the flame graph: well-formed SVG whose root box holds all the blocked time and whose box
  widths are proportional to it, rendered to PNG by librsvg (rsvg-convert);
- the timeline: Chrome trace-event JSON with one slice per ended stall;
- the pprof profile: `go tool pprof -top` reads it and totals the stalls and the blocked time.
rsvg-convert (librsvg2-bin) and go (golang-go) are installed with apt-get when missing.
Exits non-zero on any failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

SYSTEM_PREFIXES = ("libc.so", "libc-", "libm.so", "libpthread", "librt.so", "libdl.so", "ld-linux", "linux-vdso",
                   "libswiftCore", "libswift_", "libswiftDispatch", "libswiftGlibc", "libswiftSynchronization",
                   "libdispatch", "libBlocksRuntime", "libFoundation", "lib_FoundationICU", "libstdc++", "libgcc_s",
                   "libunwind")


def frame_name(frame):
    if frame.get("symbol"):
        return frame["symbol"]
    image = frame.get("image") or "?"
    return f"{image}+{frame['image_offset']}" if frame.get("image_offset") else image


def site_of(frames):
    """The library's stall site: the three innermost frames outside system images."""
    physical = [f for f in frames if not f.get("inlined")]
    application = [f for f in physical if not (f.get("image") or "").startswith(SYSTEM_PREFIXES)
                   and not (f.get("symbol") == "run_watched_job" or (f.get("symbol") or "").startswith("lwd_"))]
    chosen = (application or physical)[:3]
    return " <- ".join(frame_name(f) for f in chosen) if chosen else "unknown"


def expected(paths):
    sites = {}  # site -> [stalls, blocked ms]
    ended = 0
    for path in paths:
        opened = {}
        with open(path, errors="replace") as file:
            for line in file:
                if not line.startswith("{") or '"event":"stall.' not in line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                kind = event.get("event")
                if kind == "stall.began":
                    frames = event.get("frames")
                    if frames is None:
                        threads = [t for t in event.get("threads", []) if t.get("frames")]
                        frames = threads[0]["frames"] if threads else []
                        site = "pool starved: " + site_of(frames)
                    else:
                        site = site_of(frames)
                    opened[(event["stall_id"], event["loop"])] = site
                elif kind == "stall.ended":
                    site = opened.pop((event["stall_id"], event["loop"]), "unknown (no stall.began)")
                    entry = sites.setdefault(site, [0, 0.0])
                    entry[0] += 1
                    entry[1] += event["blocked_ms"]
                    ended += 1
                elif kind == "stall.repeats":
                    entry = sites.setdefault(event["site"], [0, 0.0])
                    entry[0] += event["stalls"]
                    entry[1] += event["blocked_ms"]
    return sites, ended


def ensure(command, package):
    if shutil.which(command):
        return
    print(f"report check: installing {package}", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def main():
    tool, paths = sys.argv[1], sys.argv[2:]
    sites, ended = expected(paths)
    total_ms = sum(blocked for _, blocked in sites.values())
    total_stalls = sum(stalls for stalls, _ in sites.values())
    failures = []
    out = tempfile.mkdtemp(prefix="lwd-report-check-")
    run = subprocess.run(
        [tool, "report", "--top", "1000", "--folded", f"{out}/stalls.folded", "--flamegraph", f"{out}/stalls.svg",
         "--trace", f"{out}/trace.json", "--pprof", f"{out}/stalls.pb.gz", *paths],
        capture_output=True, text=True)
    if run.returncode != 0:
        print(f"report check: FAIL loop-watchdog report exited {run.returncode}: {run.stderr}")
        sys.exit(1)

    # The table: one row per site with its stall count (third column).
    rows = {}
    for line in run.stdout.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 9 and parts[0].isdigit():
            # Columns are separated by two spaces or more; the site is the last one.
            columns = re.split(r"\s{2,}", line.strip())
            rows[columns[-1]] = int(columns[2])
    for site, (stalls, _) in sites.items():
        if rows.get(site) != stalls:
            failures.append(f"table: site {site!r} has {rows.get(site)} stalls, {stalls} in the events")
    if len(rows) != len(sites):
        failures.append(f"table: {len(rows)} sites, {len(sites)} in the events")

    # Folded stacks.
    weights = [int(line.rsplit(" ", 1)[1]) for line in open(f"{out}/stalls.folded") if line.strip()]
    if abs(sum(weights) - total_ms) > len(weights) * 0.5 + 1:
        failures.append(f"folded: weights add up to {sum(weights)} ms, {total_ms:.1f} ms in the events")

    # The flame graph.
    tree = ElementTree.parse(f"{out}/stalls.svg")
    boxes = [rect for rect in tree.iter("{http://www.w3.org/2000/svg}rect") if rect.get("data-ms")]
    root_ms = float(boxes[0].get("data-ms"))
    scale = float(boxes[0].get("width")) / root_ms if root_ms else 0
    if abs(root_ms - total_ms) > 0.01 * len(paths) + 0.01:
        failures.append(f"flame graph: the root holds {root_ms} ms, {total_ms:.3f} ms in the events")
    off = [b for b in boxes if abs(float(b.get("width")) - float(b.get("data-ms")) * scale) > 0.02]
    if off:
        failures.append(f"flame graph: {len(off)} boxes not proportional to their blocked time")
    ensure("rsvg-convert", "librsvg2-bin")
    render = subprocess.run(["rsvg-convert", "-o", f"{out}/stalls.png", f"{out}/stalls.svg"], capture_output=True, text=True)
    if render.returncode != 0 or os.path.getsize(f"{out}/stalls.png") < 1000:
        failures.append(f"flame graph: rsvg-convert could not render it: {render.stderr}")

    # The timeline.
    trace = json.load(open(f"{out}/trace.json"))
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    finished = [e for e in slices if e["args"]["ended"]]
    if len(finished) != ended:
        failures.append(f"timeline: {len(finished)} ended stalls, {ended} in the events")
    if any(e["dur"] <= 0 or e["ts"] <= 0 for e in slices):
        failures.append("timeline: a slice without a start or a duration")

    # The profile, read by go tool pprof.
    ensure("go", "golang-go")
    pprof_totals = {}
    for index in ("stalls", "blocked"):
        top = subprocess.run(["go", "tool", "pprof", "-top", f"-sample_index={index}", "-unit=ms" if index == "blocked" else "-unit=count",
                              f"{out}/stalls.pb.gz"], capture_output=True, text=True, env=dict(os.environ, HOME=out))
        match = re.search(r"of ([0-9.]+)(ms|s)? total", top.stdout)
        if top.returncode != 0 or not match:
            failures.append(f"pprof: go tool pprof -top -sample_index={index} failed: {top.stderr.strip()[:300]} {top.stdout[:300]}")
            continue
        value = float(match.group(1)) * (1000 if match.group(2) == "s" else 1)
        pprof_totals[index] = value
    if "stalls" in pprof_totals and int(pprof_totals["stalls"]) != total_stalls:
        failures.append(f"pprof: {pprof_totals['stalls']} stalls, {total_stalls} in the events")
    if "blocked" in pprof_totals and abs(pprof_totals["blocked"] - total_ms) > max(1.0, total_ms * 0.001):
        failures.append(f"pprof: {pprof_totals['blocked']} ms blocked, {total_ms:.1f} ms in the events")

    name = ", ".join(os.path.basename(p) for p in paths)
    if failures:
        for failure in failures:
            print(f"report check ({name}): FAIL {failure}")
        print(run.stdout)
        sys.exit(1)
    print(f"report check ({name}): {len(sites)} sites, {total_stalls} stalls, {total_ms:.1f} ms blocked: the table, "
          f"folded stacks, flame graph (rendered by rsvg-convert), timeline ({len(slices)} slices) and pprof profile "
          f"(go tool pprof: {pprof_totals.get('stalls', 0):.0f} stalls, {pprof_totals.get('blocked', 0):.1f} ms) agree")


if __name__ == "__main__":
    main()
