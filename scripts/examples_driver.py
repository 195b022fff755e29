#!/usr/bin/env python3
"""Drives one example server over loopback and checks the watchdog's JSON events.

Usage: examples_driver.py NAME PORT EVENTS_FILE [--metrics] ROUTE:LOOP_PREFIX:FUNCTION:CAUSE... -- SERVER_COMMAND...

Every blocking route is requested one at a time, then five /sleep requests are made while wrk
loads /fast. The server runs with the default LOOP_WATCHDOG_REPEATS=backoff: the first stall of
each route must be reported in full (one stall.began and one stall.ended on the handler's
thread, with the route's own function and its file:line in the stack and blocked_ms within
10 % of what the handler measured; an async handler's function marked async and followed by
its awaiting callers, the framework's, with file:line); the repeats of a site (the /sleep requests under load)
must be counted in the stall.repeats lines of that site, their number exact and their blocked
time within 10 % of what the handlers measured. Nothing else may be reported (the fast route,
idle periods, the load). With --metrics, the server's /metrics page is scraped once every
stall is accounted for and parsed with prometheus_client's parser: the stall counter, the
duration histogram (its first bucket at the threshold, its count and sum), the causes and the
blocked-workers gauge must agree with the requests. Prints one line per request and a
verdict; exits non-zero on any failure.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request


def get(port, path, timeout=30):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.read().decode()


def parse_report(body):
    fields = dict(part.split("=", 1) for part in body.split()[1:])
    return int(fields["tid"]), int(fields["blocked_ns"])


THRESHOLD_SECONDS = 0.1  # the driver runs every server with LOOP_WATCHDOG_THRESHOLD=100ms


def check_metrics(name, port, requests):
    """Scrapes /metrics and checks the watchdog's series against the requests; returns failures."""
    from prometheus_client.parser import text_string_to_metric_families

    text = get(port, "/metrics")
    samples = [sample for family in text_string_to_metric_families(text) for sample in family.samples]

    def values(sample_name, **labels):
        return [s.value for s in samples
                if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())]

    failures = []
    pool_requests = [r for r in requests if r[2].startswith("swift-concurrency-pool")]
    stalls = values("loop_watchdog_stalls") or values("loop_watchdog_stalls_total")
    if sum(stalls) != len(requests):
        failures.append(f"metrics: loop_watchdog_stalls adds up to {sum(stalls)}, {len(requests)} stalls expected")
    count = sum(values("loop_watchdog_stall_duration_count"))
    total = sum(values("loop_watchdog_stall_duration_sum"))
    truth = sum(r[6] for r in requests) / 1e9
    if count != len(requests):
        failures.append(f"metrics: loop_watchdog_stall_duration_count {count}, {len(requests)} expected")
    if abs(total - truth) > truth / 10:
        failures.append(f"metrics: loop_watchdog_stall_duration_sum {total:.3f} s against {truth:.3f} s measured")
    bounds = sorted({float(s.labels["le"]) for s in samples
                     if s.name == "loop_watchdog_stall_duration_bucket" and s.labels.get("le") != "+Inf"})
    if not bounds or abs(bounds[0] - THRESHOLD_SECONDS) > 1e-9:
        failures.append(f"metrics: the duration buckets start at {bounds[:1]}, not at the threshold {THRESHOLD_SECONDS}")
    expected_causes = {}
    for r in requests:
        expected_causes[r[4]] = expected_causes.get(r[4], 0) + 1
    for cause, expected in sorted(expected_causes.items()):
        got = sum(values("loop_watchdog_stall_causes", cause=cause) or values("loop_watchdog_stall_causes_total", cause=cause))
        if got != expected:
            failures.append(f"metrics: loop_watchdog_stall_causes{{cause=\"{cause}\"}} {got}, {expected} expected")
    pools = {r[2] for r in pool_requests}
    for pool in sorted(pools):
        gauge = values("loop_watchdog_blocked_workers", pool=pool)
        if gauge != [0.0]:
            failures.append(f"metrics: loop_watchdog_blocked_workers{{pool=\"{pool}\"}} {gauge}, [0.0] expected")
    if not failures:
        causes = ", ".join(f"{cause} {n}" for cause, n in sorted(expected_causes.items()))
        print(f"{name}: /metrics: loop_watchdog_stalls {int(sum(stalls))}, duration histogram count {int(count)} "
              f"sum {total:.3f} s vs {truth:.3f} s measured, first bucket le={bounds[0]}, causes {causes}, "
              f"blocked workers 0")
    return failures


def count_accounted(events_path):
    """Stalls whose end is in the log so far: ended in full, or counted in a repeats line."""
    total = 0
    try:
        with open(events_path) as file:
            for line in file:
                if '"stall.ended"' in line:
                    total += 1
                elif '"stall.repeats"' in line:
                    try:
                        total += json.loads(line)["stalls"]
                    except (ValueError, KeyError):
                        pass
    except OSError:
        pass
    return total


def main():
    separator = sys.argv.index("--")
    name, port, events_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # route, loop prefix, function, cause
    specs = sys.argv[4:separator]
    metrics = "--metrics" in specs
    routes = [spec.split(":", 3) for spec in specs if spec != "--metrics"]
    command = sys.argv[separator + 1:]
    if os.path.exists(events_path):
        os.remove(events_path)
    env = dict(os.environ, PORT=str(port), LOOP_WATCHDOG_FORMAT="json", LOOP_WATCHDOG_OUTPUT=events_path,
               LOOP_WATCHDOG_THRESHOLD=f"{int(THRESHOLD_SECONDS * 1000)}ms")
    server_log = open(events_path + ".server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=server_log, text=True)
    failures = []
    requests = []  # (label, route, loop prefix, function, cause, tid, truth ns)
    try:
        ready = server.stdout.readline().strip()
        print(f"{name}: {ready}")
        if not ready.startswith("READY"):
            raise SystemExit(f"{name}: server did not start")
        for _ in range(100):  # the port may open a moment after READY
            try:
                get(port, "/fast", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(50):
            get(port, "/fast")
        time.sleep(1.0)
        # One at a time.
        for route, loop, function, cause in routes:
            tid, truth = parse_report(get(port, f"/{route}?ms=300"))
            requests.append((route, route, loop, function, cause, tid, truth))
            time.sleep(0.4)
        # Idle.
        time.sleep(2.0)
        # Under load on the fast route.
        wrk = shutil.which("wrk")
        if wrk is None:
            failures.append("wrk is not installed")
        else:
            load = subprocess.Popen([wrk, "-t2", "-c32", "-d6s", f"http://127.0.0.1:{port}/fast"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(0.5)
            for index in range(5):
                tid, truth = parse_report(get(port, "/sleep?ms=300"))
                requests.append((f"sleep under load #{index + 1}", "sleep", routes[0][1], routes[0][2], routes[0][3],
                                 tid, truth))
                time.sleep(0.3)
            output = load.communicate(timeout=60)[0]
            summary = [line.strip() for line in output.splitlines() if "Requests/sec" in line]
            print(f"{name}: wrk on /fast: {summary[0] if summary else output.strip()}")
        # The first reports of a process can wait seconds behind a cold symbolication of a
        # large binary, and repeats are said on a 2 s backoff: give them time to be written
        # before stopping the server.
        deadline = time.time() + 60
        while time.time() < deadline and count_accounted(events_path) < len(requests):
            time.sleep(0.5)
        if metrics:
            time.sleep(0.5)  # the metrics are recorded just after the JSON line is written
            failures.extend(check_metrics(name, port, requests))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            failures.append("server did not stop within 60 s of SIGINT")

    events = []
    with open(events_path) as file:
        for line in file:
            line = line.strip()
            if line.startswith("{"):
                events.append(json.loads(line))
    began = [event for event in events if event["event"] == "stall.began"]
    ended = {event["stall_id"]: event for event in events if event["event"] == "stall.ended"}
    repeats = [event for event in events if event["event"] == "stall.repeats"]
    used = set()
    counted = {}  # function -> [(label, loop, truth ns)] of requests counted as repeats
    for label, route, loop, function, cause, tid, truth in requests:
        matches = [event for event in began
                   if event.get("tid") == tid and event["loop"].startswith(loop) and event["stall_id"] not in used]
        if not matches:
            counted.setdefault(function, []).append((label, loop, truth))
            continue
        event = matches[0]
        used.add(event["stall_id"])
        frames = event.get("frames", [])
        frame = next((f for f in frames if function in (f.get("symbol") or "")), None)
        if frame is None or not frame.get("file") or not frame.get("line"):
            failures.append(f"{label}: no frame of {function} with file:line in {[f.get('symbol') for f in frames]}")
        callers = []
        if frame is not None and loop.startswith("swift-concurrency-pool"):
            # An async handler: the route's function runs as a job, and the framework code
            # that awaits it follows, marked async, down to the connection's task.
            position = frames.index(frame)
            callers = [f for f in frames[position + 1:] if f.get("async")]
            awaiting = frames[position + 1:position + 1 + len(callers)]
            if not frame.get("async") or not callers or awaiting != callers:
                failures.append(f"{label}: no async callers after {function}: "
                                f"{[(f.get('symbol'), f.get('async')) for f in frames]}")
            elif not all(f.get("file") and f.get("line") for f in callers[:3]):
                failures.append(f"{label}: async callers without file:line: {callers[:3]}")
        end = ended.get(event["stall_id"])
        reported = end["blocked_ms"] if end else None
        truth_ms = truth / 1e6
        if reported is None:
            failures.append(f"{label}: no stall.ended")
        elif abs(reported - truth_ms) > truth_ms / 10:
            failures.append(f"{label}: blocked_ms {reported} against {truth_ms:.1f} ms measured")
        verdict = ((end or {}).get("cause") or {}).get("verdict")
        if end is not None and verdict != cause:
            failures.append(f"{label}: cause {verdict} where {cause} was expected ({(end or {}).get('cause')})")
        where = f"{frame['symbol']} at {os.path.basename(frame['file'])}:{frame['line']}" if frame and frame.get("file") else "?"
        awaited_by = f", awaited by {len(callers)} async callers from {callers[0].get('symbol')}" if callers else ""
        print(f"{name}: {label}: reported on {event['loop']} (tid {tid}), {where}{awaited_by}, "
              f"blocked_ms {reported} vs {truth_ms:.1f} measured, cause {verdict}")
    # Requests without a full report must be repeats of a site reported in full before.
    used_repeats = set()
    for function, items in counted.items():
        sites = [index for index, event in enumerate(repeats)
                 if function in event.get("site", "") and event["loop"].startswith(items[0][1])]
        used_repeats.update(sites)
        stalls = sum(repeats[index]["stalls"] for index in sites)
        blocked = sum(repeats[index]["blocked_ms"] for index in sites)
        truth_ms = sum(truth for _, _, truth in items) / 1e6
        labels = ", ".join(label for label, _, _ in items)
        if stalls != len(items):
            failures.append(f"{labels}: {stalls} stalls counted as repeats of {function}, {len(items)} expected")
            print(f"{name}: {labels}: NOT REPORTED in full, {stalls} counted as repeats")
        elif abs(blocked - truth_ms) > truth_ms / 10:
            failures.append(f"{labels}: repeats blocked_ms {blocked} against {truth_ms:.1f} ms measured")
        else:
            print(f"{name}: {labels}: counted as {stalls} repeats of {function}, "
                  f"blocked_ms {blocked:.1f} vs {truth_ms:.1f} measured")
    for index, event in enumerate(repeats):
        if index not in used_repeats:
            failures.append(f"unexpected repeats on {event['loop']}: {event.get('site')} ({event['stalls']} stalls)")
    extra = [event for event in began if event["stall_id"] not in used]
    for event in extra:
        top = [f.get("symbol") for f in event.get("frames", [])[:4]]
        failures.append(f"unexpected report on {event['loop']} (tid {event.get('tid')}): {top}")
    print(f"{name}: {len(requests)} blocking requests, {len(began)} stall.began, "
          f"{sum(event['stalls'] for event in repeats)} counted in {len(repeats)} stall.repeats, {len(extra)} unexpected")
    for failure in failures:
        print(f"{name}: FAIL {failure}")
    if failures:
        with open(events_path + ".server.log") as log:
            tail = log.read()[-3000:]
        print(f"{name}: the server's standard error ended with:\n{tail}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
