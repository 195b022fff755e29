@_spi(Benchmarking) import LoopWatchdog
import BenchSupport
import Dispatch
import Glibc
import Synchronization

/// What reading an async job's awaiting callers adds to a capture: a task blocks at the
/// bottom of a chain of `depth` awaiting async functions, spinning (signal path) or sleeping
/// (signal-free path), and is captured alternately with and without the callers, through the
/// same call the watchdog thread makes on `stall.began`.
enum AsyncCallersBenchmark {
    static func run(captures: Int, depth: Int) {
        let watchdog = Watchdog.quiet()
        let capturer = _WatchdogBenchmarkHooks.Capturer()
        for spinning in [true, false] {
            let target = AsyncChainTarget(watchdog: watchdog, depth: depth, spinning: spinning)
            measure(capturer: capturer, target: target, captures: captures, path: spinning ? "signal" : "syscall")
            target.stop()
        }
    }

    private static func measure(
        capturer: _WatchdogBenchmarkHooks.Capturer, target: AsyncChainTarget, captures: Int, path: String
    ) {
        var with: [Double] = []
        var without: [Double] = []
        var callers = 0
        for round in 0..<(captures + 50) {
            for collecting in [round % 2 == 0, round % 2 != 0] {
                capturer.collectsAsyncCallers = collecting
                let start = monotonicNanoseconds()
                let capture = capturer.capture(target.heartbeat)
                let elapsed = Double(monotonicNanoseconds() - start) / 1e3
                sleepInKernel(nanoseconds: 200_000)
                guard round >= 50, capture.outcome.description == path else { continue }  // warm-up
                if collecting {
                    with.append(elapsed)
                    callers = capturer.lastAsyncCallers
                } else {
                    without.append(elapsed)
                }
            }
        }
        capturer.collectsAsyncCallers = true
        let on = Statistics(with)
        let off = Statistics(without)
        let added50 = on.median - off.median
        let added99 = on.p99 - off.p99
        ResultTable.row(
            "async callers, \(path) path: capture of a job \(callers) awaiting callers deep, with and without them (µs)",
            "with p50 \(on.median.formatted(1)) p99 \(on.p99.formatted(1)); without p50 \(off.median.formatted(1)) p99 \(off.p99.formatted(1)); added p50 \(added50.formatted(1)), p99 \(added99.formatted(1)) (n=\(on.count)+\(off.count))",
            target: "added ≤ 50 µs", ResultTable.verdict(callers > 0 && added99 <= 50 && added50 <= 50))
    }
}

/// A task of the Concurrency pool blocked `depth` awaiting calls deep, registered with the
/// watchdog from its worker thread.
final class AsyncChainTarget: @unchecked Sendable {
    let heartbeat: LoopHeartbeat
    private let stopping = StopFlag()
    private let done = DispatchSemaphore(value: 0)

    /// Raised by `stop()`, polled by the blocked task.
    final class StopFlag: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .relaxed) }
        func raise() { raised.store(true, ordering: .relaxed) }
    }

    init(watchdog: Watchdog, depth: Int, spinning: Bool) {
        let ready = DispatchSemaphore(value: 0)
        let registered = Mutex<LoopHeartbeat?>(nil)
        let stopping = self.stopping
        let done = self.done
        Task.detached {
            _ = await Self.nest(depth) {
                registered.withLock { $0 = watchdog.registerCurrentThread(name: "async-chain") }
                ready.signal()
                while !stopping.isRaised {
                    if spinning {
                        spin(nanoseconds: 1_000_000)
                    } else {
                        usleep(2_000)
                    }
                }
                registered.withLock { $0?.unregister() }
            }
            done.signal()
        }
        ready.wait()
        heartbeat = registered.withLock { $0! }
    }

    /// Awaits itself `depth` times, then runs `body`: a chain of `depth` awaiting callers.
    @inline(never)
    private static func nest(_ depth: Int, _ body: @Sendable () -> Void) async -> Int {
        if depth == 0 {
            body()
            return 0
        }
        let below = await nest(depth - 1, body)
        return below + 1
    }

    /// Ends the block and waits for the task to finish.
    func stop() {
        stopping.raise()
        done.wait()
    }
}
