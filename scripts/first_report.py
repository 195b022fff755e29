#!/usr/bin/env python3
"""Measures an example server from the outside: the first report of a process, and idle cost.

Usage: first_report.py [--runs N] [--idle-seconds S] -- SERVER_COMMAND...

For each run a fresh server is started on a free loopback port with the watchdog on (JSON
lines to a file) and, in turn, a fresh one with LOOP_WATCHDOG=off. Each server idles for
`--idle-seconds` (its CPU over that time is its idle cost), then gets one request to
/sleep?ms=400 that blocks its handler. Printed per server: resident memory before the request
and after the report was written, and for the watchdog on, the delay from the threshold
crossing (request sent + threshold) to the stall.began line appearing in the file, which bounds
the first report's latency from above (the request's own parsing is in it too).

The server must print a line starting with READY on standard output when it listens, read its
port from PORT, and serve /sleep?ms=N. Prints Markdown table rows: measurement | result.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

THRESHOLD_MS = 100


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def thread_cpu_ns(pid):
    """CPU time of each live thread of `pid` in nanoseconds (the first field of its
    schedstat: exact, where /proc's stat counts 10 ms ticks)."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as file:
                times[tid] = int(file.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return times


def cpu_seconds_between(before, after):
    """CPU seconds used between two `thread_cpu_ns` readings by the threads in both, plus
    all of the threads that started in between."""
    used = sum(after[tid] - before[tid] for tid in after if tid in before)
    used += sum(after[tid] for tid in after if tid not in before)
    return used / 1e9


def run_server(command, watchdog_on, idle_seconds):
    port = free_port()
    events = tempfile.NamedTemporaryFile(prefix="lwd-first-report-", suffix=".jsonl", delete=False)
    events.close()
    environment = dict(os.environ, PORT=str(port), LOOP_WATCHDOG_THRESHOLD=f"{THRESHOLD_MS}ms")
    if watchdog_on:
        environment.update(LOOP_WATCHDOG_FORMAT="json", LOOP_WATCHDOG_OUTPUT=events.name)
    else:
        environment["LOOP_WATCHDOG"] = "off"
    server = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line or line.startswith("READY"):
                break
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        time.sleep(1.0)
        cpu_before = thread_cpu_ns(server.pid)
        idle_start = time.monotonic()
        time.sleep(idle_seconds)
        idle_cpu = cpu_seconds_between(cpu_before, thread_cpu_ns(server.pid)) / (time.monotonic() - idle_start)
        rss_before = status_kb(server.pid, "VmRSS")
        sent = time.monotonic()
        request = threading.Thread(
            target=lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/sleep?ms=400", timeout=30).read())
        request.start()
        seen = None
        while watchdog_on and time.monotonic() - sent < 20:
            with open(events.name) as file:
                if '"stall.began"' in file.read():
                    seen = time.monotonic()
                    break
            time.sleep(0.0005)
        request.join()
        time.sleep(0.5)
        rss_after = status_kb(server.pid, "VmRSS")
        latency = None if seen is None else (seen - sent) * 1000 - THRESHOLD_MS
        return dict(rss_before=rss_before / 1024, rss_after=rss_after / 1024, latency=latency, idle_cpu=idle_cpu * 100)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        os.unlink(events.name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--name", default="server")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    on, off = [], []
    for _ in range(arguments.runs):
        on.append(run_server(command, True, arguments.idle_seconds))
        off.append(run_server(command, False, arguments.idle_seconds))
    latencies = sorted(run["latency"] for run in on if run["latency"] is not None)
    missing = sum(1 for run in on if run["latency"] is None)

    def spread(values, digits=1):
        values = sorted(values)
        return f"median {values[len(values) // 2]:.{digits}f}, max {values[-1]:.{digits}f}"

    name = arguments.name
    growth_on = [run["rss_after"] - run["rss_before"] for run in on]
    growth_off = [run["rss_after"] - run["rss_before"] for run in off]
    def verdict(passed):
        return "pass" if passed else "**miss**"

    worst = latencies[-1] if latencies else float("inf")
    print(f"| {name}: first report, threshold crossed to stall.began written (ms, {arguments.runs} fresh processes) | "
          + (spread(latencies) if latencies else "none") + (f"; {missing} never reported" if missing else "")
          + f" | ≤ 50 ms (max) | {verdict(worst <= 50 and not missing)} |")
    print(f"| {name}: resident memory before the first stall (MB), watchdog on / off | "
          f"{spread([run['rss_before'] for run in on])} / {spread([run['rss_before'] for run in off])} | - | - |")
    added = sorted(growth_on)[len(growth_on) // 2]
    print(f"| {name}: resident memory added by the first stall and its report (MB), watchdog on / off | "
          f"{spread(growth_on)} / {spread(growth_off)} | ≤ +10 MB | {verdict(added <= 10)} |")
    idle_on = sorted(run["idle_cpu"] for run in on)
    idle_off = sorted(run["idle_cpu"] for run in off)
    cost = idle_on[len(idle_on) // 2] - idle_off[len(idle_off) // 2]
    print(f"| {name}: idle CPU of the whole process over {arguments.idle_seconds:.0f} s (% of a core, every thread's "
          f"schedstat), watchdog on / off, and the difference of the medians | "
          f"{spread(idle_on, 3)} / {spread(idle_off, 3)}; watchdog {cost:.3f} | ≤ 0.2 % | {verdict(cost <= 0.2)} |")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
