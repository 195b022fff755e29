#!/usr/bin/env python3
"""The NIO chain benchmark's peer on asyncio: a chain of tiny callbacks, each scheduling
the next with call_soon, timed with asyncio plain, in debug mode (asyncio.run(debug=True)
does the same as loop.set_debug(True)), and with aiodebug's log_slow_callbacks at asyncio's
100 ms threshold.

Every timed chain runs in a fresh interpreter, because aiodebug patches asyncio for the
whole process. Each round runs plain and the tool in turn (the order alternates between
rounds) and gives one ratio; the median ratios are printed as rows of the same Markdown
table the Swift benchmarks print (throughput ratio = time plain / time with the tool).
Debug mode is an order of magnitude slower, so it gets fewer rounds than aiodebug.

Usage: python3 Tools/peers/asyncio_chain.py [--callbacks 200000] [--rounds 9] [--debug-rounds 3]
"""
import argparse
import asyncio
import statistics
import subprocess
import sys
import time

MODES = ("plain", "debug", "aiodebug")


def run_chain(loop, callbacks):
    """Runs `callbacks` callbacks on `loop`, each scheduling the next; returns seconds."""
    done = loop.create_future()
    remaining = callbacks

    def step():
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set_result(None)
        else:
            loop.call_soon(step)

    start = time.perf_counter()
    loop.call_soon(step)
    loop.run_until_complete(done)
    return time.perf_counter() - start


def time_one(mode, callbacks):
    """Child process: one warm-up chain and one timed chain in `mode`; prints ms."""
    if mode == "aiodebug":
        import aiodebug.log_slow_callbacks

        aiodebug.log_slow_callbacks.enable(0.1)
    loop = asyncio.new_event_loop()
    try:
        loop.set_debug(mode == "debug")
        run_chain(loop, callbacks // 10)
        print(f"{run_chain(loop, callbacks) * 1e3:.3f}")
    finally:
        loop.close()


def spawn(mode, callbacks):
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--callbacks", str(callbacks)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return float(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=9, help="rounds of plain / aiodebug")
    parser.add_argument("--debug-rounds", type=int, default=3, help="rounds of plain / debug mode")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        time_one(args.child, args.callbacks)
        return

    plain_times = []
    results = {}
    for mode, rounds in (("aiodebug", args.rounds), ("debug", args.debug_rounds)):
        times, ratios = [], []
        for round_index in range(rounds):
            order = ("plain", mode) if round_index % 2 == 0 else (mode, "plain")
            measured = {name: spawn(name, args.callbacks) for name in order}
            plain_times.append(measured["plain"])
            times.append(measured[mode])
            ratios.append(measured["plain"] / measured[mode])
        results[mode] = (statistics.median(ratios), statistics.median(times), rounds)

    version = sys.version.split()[0]
    plain = statistics.median(plain_times)
    print(f"| asyncio (CPython {version}) chain of {args.callbacks} call_soon callbacks, plain (ms) "
          f"| median {plain:.1f} ({args.callbacks / plain / 1e3:.2f} M callbacks/s) | - | - |")
    names = {"debug": "debug mode (loop.set_debug(True))", "aiodebug": "aiodebug log_slow_callbacks.enable(0.1)"}
    for mode in ("debug", "aiodebug"):
        ratio, median_time, rounds = results[mode]
        print(f"| asyncio chain, {names[mode]}: throughput ratio vs plain, median of {rounds} rounds "
              f"| {ratio:.3f} (time {1 / ratio:.2f}x plain; median {median_time:.1f} ms) | - | - |")


if __name__ == "__main__":
    main()
