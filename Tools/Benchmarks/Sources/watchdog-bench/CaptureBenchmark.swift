@_spi(Benchmarking) import LoopWatchdog
import BenchSupport
import Glibc

/// Capture latency and the cost to the monitored thread, for both capture paths, timed
/// around the very call the watchdog thread makes on `stall.began` (the calling thread
/// plays the watchdog thread).
///
/// Signal path: the target spins in user code. Each capture window [call, return] is
/// followed by a control window of the same length in which nothing is sent; the target's
/// longest gap between clock reads inside each window is its external interruption. The
/// control windows show what the scheduler alone does to it on this machine.
///
/// Syscall path: the target waits in nanosleep and poll; a capture must find it parked,
/// unwind it without a signal and cut none of its waits short.
enum CaptureBenchmark {
    static func run(captures: Int) {
        let watchdog = Watchdog.quiet()
        let capturer = _WatchdogBenchmarkHooks.Capturer()
        runSignalPath(watchdog: watchdog, capturer: capturer, captures: captures)
        runSyscallPath(watchdog: watchdog, capturer: capturer, captures: captures)
    }

    private static func runSignalPath(watchdog: Watchdog, capturer: _WatchdogBenchmarkHooks.Capturer, captures: Int) {
        let target = SpinningTarget(watchdog: watchdog)
        for _ in 0..<50 { _ = capturer.capture(target.heartbeat) }  // warm-up, not counted
        var latency: [Double] = []
        var handler: [Double] = []
        var windows: [(Int64, Int64)] = []
        var controls: [(Int64, Int64)] = []
        var frames = 0
        var otherOutcomes: [String: Int] = [:]
        for _ in 0..<captures {
            let start = monotonicNanoseconds()
            let capture = capturer.capture(target.heartbeat)
            let end = monotonicNanoseconds()
            guard capture.outcome == .signal else {
                otherOutcomes[capture.outcome.description, default: 0] += 1
                sleepInKernel(nanoseconds: 300_000)
                continue
            }
            latency.append(Double(end - start) / 1e3)
            handler.append(Double(capture.handlerNanoseconds) / 1e3)
            windows.append((start, end))
            frames = capture.addresses.count
            sleepInKernel(nanoseconds: 300_000)
            let controlStart = monotonicNanoseconds()
            spin(nanoseconds: end - start)
            controls.append((controlStart, monotonicNanoseconds()))
            sleepInKernel(nanoseconds: 300_000)
        }
        let gaps = target.stop()
        let external = Statistics(windows.map { Double(gaps.longest(overlapping: $0.0, $0.1)) / 1e3 })
        let control = Statistics(controls.map { Double(gaps.longest(overlapping: $0.0, $0.1)) / 1e3 })
        let latencyStats = Statistics(latency)
        let handlerStats = Statistics(handler)
        ResultTable.row(
            "capture, signal path (thread spinning in user code): decision to PCs in hand (µs)",
            "\(percentiles(latencyStats)) (n=\(latencyStats.count), \(frames) frames\(describe(otherOutcomes)))",
            target: "p50 ≤ 20 µs, p99 ≤ 50 µs", ResultTable.verdict(latencyStats.median <= 20 && latencyStats.p99 <= 50))
        ResultTable.row(
            "capture, signal path: monitored thread in the handler, handler's own clock (µs)",
            percentiles(handlerStats),
            target: "p99 ≤ 50 µs", ResultTable.verdict(handlerStats.p99 <= 50))
        ResultTable.row(
            "capture, signal path: longest gap the spinning thread saw per capture window (µs)",
            "\(percentiles(external)); control windows without a signal: \(percentiles(control))",
            target: "p99 ≤ 50 µs", ResultTable.verdict(external.p99 <= 50))
    }

    private static func runSyscallPath(watchdog: Watchdog, capturer: _WatchdogBenchmarkHooks.Capturer, captures: Int) {
        var latency: [Double] = []
        var frames = 0
        var otherOutcomes: [String: Int] = [:]
        var waits = 0
        var interrupted = 0
        for wait in [ParkedTarget.Wait.poll, .nanosleep] {
            let target = ParkedTarget(watchdog: watchdog, wait: wait)
            sleepInKernel(nanoseconds: 5_000_000)
            for _ in 0..<25 { _ = capturer.capture(target.heartbeat) }  // warm-up, not counted
            for _ in 0..<captures / 2 {
                let start = monotonicNanoseconds()
                let capture = capturer.capture(target.heartbeat)
                let end = monotonicNanoseconds()
                sleepInKernel(nanoseconds: 300_000)
                guard capture.outcome == .syscall else {
                    otherOutcomes[capture.outcome.description, default: 0] += 1
                    continue
                }
                latency.append(Double(end - start) / 1e3)
                frames = capture.addresses.count
            }
            let counts = target.stop()
            waits += counts.waits
            interrupted += counts.interrupted
        }
        let stats = Statistics(latency)
        ResultTable.row(
            "capture, syscall path (thread in poll / nanosleep, no signal): decision to PCs in hand (µs)",
            "\(percentiles(stats)) (n=\(stats.count), \(frames) frames\(describe(otherOutcomes)))",
            target: "p99 ≤ 50 µs", ResultTable.verdict(stats.p99 <= 50))
        ResultTable.row(
            "capture, syscall path: waits of the monitored thread cut short (EINTR) over \(stats.count) captures",
            "\(interrupted) of \(waits)",
            target: "0", ResultTable.verdict(interrupted == 0))
    }

    /// ", other outcomes: syscall 3, ..." or nothing.
    private static func describe(_ outcomes: [String: Int]) -> String {
        guard !outcomes.isEmpty else { return "" }
        return ", other outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    private static func percentiles(_ stats: Statistics) -> String {
        "p50 \(stats.median.formatted(1)), p99 \(stats.p99.formatted(1)), max \(stats.max.formatted(1))"
    }
}
