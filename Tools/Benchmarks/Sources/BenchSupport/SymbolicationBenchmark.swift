@_spi(Benchmarking) import LoopWatchdog

/// Times symbolication of one captured stack the way the reporter does it, cold and warm.
///
/// The toolchain's ELF and DWARF cache lives per thread, so "cold" means a fresh
/// Symbolicator on a fresh thread; the first of these in the process also pays for
/// reading the files from the page cache and the process-wide set-up. "Warm" repeats the
/// same stack on the same thread with the same Symbolicator, as a reporter thread that
/// stays alive does (the Symbolicator then answers from its own cache); "warm, unseen stack"
/// then symbolicates another stack of the same binary on that warm thread, the cost of a
/// report from a new stall site.
public enum SymbolicationBenchmark {
    /// Runs the measurement and prints its rows.
    /// - Parameters:
    ///   - binary: how the rows name the binary ("demo-sized", "NIO").
    ///   - addresses: the stack to symbolicate, innermost first.
    ///   - unseen: another stack of the same binary, symbolicated once per thread when warm.
    ///   - threads: fresh threads, each with one cold symbolication then `repeats` warm ones.
    ///   - warmTargetMilliseconds: the warm target, if this binary has one.
    public static func run(
        binary: String, addresses: [UInt], unseen: [UInt], threads: Int = 6, repeats: Int = 40,
        warmTargetMilliseconds: Double? = nil
    ) {
        var cold: [Double] = []
        var warm: [Double] = []
        var unseenTimes: [Double] = []
        var frames: [StackFrame] = []
        for index in 0..<threads {
            let result = BenchThread.run(name: "bench-symb-\(index)") { () -> Sample in
                let symbolicator = _WatchdogBenchmarkHooks.Symbolicator()
                let start = monotonicNanoseconds()
                let frames = symbolicator.symbolicate(addresses)
                let cold = Double(monotonicNanoseconds() - start) / 1e6
                var warm: [Double] = []
                for _ in 0..<repeats {
                    let start = monotonicNanoseconds()
                    _ = symbolicator.symbolicate(addresses)
                    warm.append(Double(monotonicNanoseconds() - start) / 1e6)
                }
                let unseenStart = monotonicNanoseconds()
                _ = symbolicator.symbolicate(unseen)
                let unseenTime = Double(monotonicNanoseconds() - unseenStart) / 1e6
                return Sample(cold: cold, warm: warm, unseen: unseenTime, frames: frames)
            }
            cold.append(result.cold)
            warm += result.warm
            unseenTimes.append(result.unseen)
            frames = result.frames
        }
        let located = frames.filter { $0.line != nil }.count
        let named = frames.filter { $0.symbol != nil }.count
        let laterCold = Statistics(Array(cold.dropFirst()))
        let warmStats = Statistics(warm)
        let shape = "\(addresses.count) addresses, \(frames.count) frames, \(named) named, \(located) with file:line"
        ResultTable.row(
            "symbolication, \(binary) binary, cold: first in process (ms)",
            "\(cold[0].formatted(1)) (\(shape))")
        ResultTable.row(
            "symbolication, \(binary) binary, cold: fresh thread (ms)",
            "p50 \(laterCold.median.formatted(1)), max \(laterCold.max.formatted(1)) (n=\(laterCold.count))")
        let warmResult = "p50 \(warmStats.median.formatted(3)), p99 \(warmStats.p99.formatted(3)) (n=\(warmStats.count))"
        let unseenStats = Statistics(unseenTimes)
        let unseenResult = "p50 \(unseenStats.median.formatted(1)), max \(unseenStats.max.formatted(1)) (n=\(unseenStats.count), \(unseen.count) addresses)"
        let warmName = "symbolication, \(binary) binary, warm, the same stack again (ms)"
        let unseenName = "symbolication, \(binary) binary, warm thread, a stack not seen before (ms)"
        if let target = warmTargetMilliseconds {
            ResultTable.row(
                warmName, warmResult, target: "p50 ≤ \(target.formatted(0)) ms", ResultTable.verdict(warmStats.median <= target))
            ResultTable.row(
                unseenName, unseenResult, target: "p50 ≤ \(target.formatted(0)) ms",
                ResultTable.verdict(unseenStats.median <= target))
        } else {
            ResultTable.row(warmName, warmResult)
            ResultTable.row(unseenName, unseenResult)
        }
    }

    private struct Sample: Sendable {
        var cold: Double
        var warm: [Double]
        var unseen: Double
        var frames: [StackFrame]
    }
}
