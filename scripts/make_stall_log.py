#!/usr/bin/env python3
"""Writes a large stall log in LoopWatchdog's JSON-lines format, for the report benchmark.

Usage: make_stall_log.py PATH --megabytes N [--seed S]

Stalls of 60 sites on 6 loops, each a stall.began line with a 14-frame stack and a
stall.ended line with its cause and sampled stacks, as the library writes them; one line in
twenty is a stall.repeats line, one in twenty another program's log line, and one in a
thousand a torn line. Prints the number of stalls and their blocked time on standard output.
"""
import argparse
import json
import random


def frame(index, symbol, image, offset, file=None, line=None):
    return {"index": index, "address": f"0x{0x55d6af000000 + offset:016x}", "symbol": symbol, "image": image,
            "image_offset": f"0x{offset:x}", "build_id": "5a0c9e1f27d4b8a36e0f1c2d9b7a4e6f18c3d205",
            "file": file, "line": line, "inlined": False}


def stack(site):
    libc = [("clock_nanosleep", 0xcf545), ("nanosleep", 0xd3e53), ("usleep", 0xff295)]
    frames = [frame(i, name, "libc.so.6", offset) for i, (name, offset) in enumerate(libc)]
    for depth in range(8):
        frames.append(frame(len(frames), f"Route{site}.handler{depth}(_:context:) async",
                            "Server", 0x1000 * (site + 1) + depth * 0x40, f"/src/Sources/App/Route{site}.swift", 20 + depth))
    runtime = [("swift::runJobInEstablishedExecutorContext(swift::Job*)", "libswift_Concurrency.so", 0x71e60),
               ("swift_job_run", "libswift_Concurrency.so", 0x72b15),
               ("_dispatch_worker_thread", "libdispatch.so", 0x35195)]
    for name, image, offset in runtime:
        frames.append(frame(len(frames), name, image, offset))
    return frames


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--megabytes", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    loops = ["swift-concurrency-pool.medium", "swift-concurrency-pool.high", "NIO-ELT-0-#0", "NIO-ELT-0-#1",
             "main-queue", "worker"]
    causes = ["sleeping", "computing", "file_io", "waiting_for_lock", "network_io"]
    # Per site: the began line's text around its variable fields, and the ended line's.
    templates = []
    for site in range(60):
        frames = json.dumps(stack(site), separators=(",", ":"))
        loop = loops[site % len(loops)]
        cause = causes[site % len(causes)]
        began = ('{"time":%.3f,"event":"stall.began","stall_id":%d,"loop":"' + loop + '","tid":%d,"threshold_ms":100,'
                 '"blocked_ms":%.3f,"capture":"syscall","frames":' + frames.replace("%", "%%") + '}\n')
        samples = ('"samples":{"count":4,"covered_ms":300.5,"other":0,"limit_reached":false,"stacks":[{"count":4,'
                   '"share":1,"capture":"syscall","frames":' + frames.replace("%", "%%") + '}]}')
        ended = ('{"time":%.3f,"event":"stall.ended","stall_id":%d,"loop":"' + loop + '","tid":%d,"threshold_ms":100,'
                 '"blocked_ms":%.3f,"capture":"none","cause":{"verdict":"' + cause + '","system_call":null,'
                 '"remedy":"a blocking call on a loop or pool thread","phases":[{"verdict":"' + cause + '","share":1}],'
                 '"on_cpu_ms":0.087,"waiting_for_cpu_ms":0,"off_cpu_ms":253.52,"measured_ms":253.607,"throttled_ms":0,'
                 '"cpu_pressure":0.003,"read_bytes":0,"written_bytes":0},' + samples + '}\n')
        site_name = f"Route{site}.handler0(_:context:) async <- Route{site}.handler1(_:context:) async <- Route{site}.handler2(_:context:) async"
        templates.append((loop, began, ended, site_name))
    limit = args.megabytes << 20
    written = 0
    stalls = 0
    blocked = 0.0
    time = 1_765_000_000.0
    stall_id = 0
    with open(args.path, "w") as out:
        chunk = []
        while written < limit:
            site = int(rng.paretovariate(1.2)) % 60
            loop, began, ended, site_name = templates[site]
            kind = rng.random()
            if kind < 0.05:
                count = rng.randint(2, 40)
                total = sum(rng.uniform(100, 400) for _ in range(count))
                line = json.dumps({"time": round(time, 3), "event": "stall.repeats", "site": site_name, "loop": loop,
                                   "stalls": count, "blocked_ms": round(total, 3), "longest_ms": 400,
                                   "since_ms": 2000}, separators=(",", ":")) + "\n"
                stalls += count
                blocked += round(total, 3)
            elif kind < 0.10:
                line = f"2026-12-06T22:40:10+0000 info Server: request {stall_id} served in 2 ms\n"
            else:
                stall_id += 1
                duration = round(rng.lognormvariate(5.5, 0.6) + 100, 3)
                tid = 1000 + site
                line = began % (time, stall_id, tid, 100.5) + ended % (time + duration / 1000, stall_id, tid, duration)
                stalls += 1
                blocked += duration
                if rng.random() < 0.001:
                    line = line[: len(line) // 3] + "\n"  # a torn line: its stall is lost
                    stalls -= 1
                    blocked -= duration
            time += 0.05
            chunk.append(line)
            written += len(line)
            if len(chunk) >= 1000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    print(f"{stalls} stalls, {blocked:.1f} ms blocked, {written >> 20} MB")


if __name__ == "__main__":
    main()
