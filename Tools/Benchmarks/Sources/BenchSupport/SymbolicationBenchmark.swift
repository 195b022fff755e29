@_spi(Benchmarking) import LoopWatchdog

/// Times symbolication of one captured stack the way the reporter does it, cold and warm,
/// with one of the ``SymbolicationCandidate``s, and the resident memory it adds.
///
/// "Cold" means a fresh symbolicator on a fresh thread (the Runtime module's ELF cache lives
/// per thread); the first of these in the process also pays for reading the files from the
/// page cache and the process-wide set-up. "Warm" repeats the
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
        warmTargetMilliseconds: Double? = nil, candidate: SymbolicationCandidate = .lean
    ) {
        let residentBefore = ResidentMemory.current()
        var residentAfterFirst = 0
        var cold: [Double] = []
        var warm: [Double] = []
        var unseenTimes: [Double] = []
        var frames: [StackFrame] = []
        for index in 0..<threads {
            let result = BenchThread.run(name: "bench-symb-\(index)") { () -> Sample in
                let start = monotonicNanoseconds()
                let symbolicate = candidate.make()
                let frames = symbolicate(addresses)
                let cold = Double(monotonicNanoseconds() - start) / 1e6
                let resident = ResidentMemory.current()
                var warm: [Double] = []
                for _ in 0..<repeats {
                    let start = monotonicNanoseconds()
                    _ = symbolicate(addresses)
                    warm.append(Double(monotonicNanoseconds() - start) / 1e6)
                }
                let unseenStart = monotonicNanoseconds()
                _ = symbolicate(unseen)
                let unseenTime = Double(monotonicNanoseconds() - unseenStart) / 1e6
                return Sample(cold: cold, warm: warm, unseen: unseenTime, frames: frames, resident: resident)
            }
            if index == 0 { residentAfterFirst = result.resident }
            cold.append(result.cold)
            warm += result.warm
            unseenTimes.append(result.unseen)
            frames = result.frames
        }
        let located = frames.filter { $0.line != nil }.count
        let named = frames.filter { $0.symbol != nil }.count
        if candidate == .lean { prepared(binary: binary, addresses: addresses) }
        let laterCold = Statistics(Array(cold.dropFirst()))
        let warmStats = Statistics(warm)
        let shape = "\(addresses.count) addresses, \(frames.count) frames, \(named) named, \(located) with file:line"
        let residentAfter = ResidentMemory.current()
        let grown = Double(residentAfterFirst - residentBefore) / 1_048_576
        let before = (Double(residentBefore) / 1_048_576).formatted(1)
        let after = (Double(residentAfter) / 1_048_576).formatted(1)
        let peak = (Double(ResidentMemory.peak()) / 1_048_576).formatted(1)
        let memoryName = "symbolication (\(candidate.rawValue)), \(binary) binary: resident memory added by the first symbolication (MB)"
        let memoryResult = "\(grown.formatted(1)) (\(before) before, \(after) after \(threads) cold and \(threads * repeats) warm runs; peak \(peak))"
        if binary == "demo-sized" {
            ResultTable.row(memoryName, memoryResult)
        } else {
            ResultTable.row(memoryName, memoryResult, target: "≤ +10 MB", ResultTable.verdict(grown <= 10))
        }
        ResultTable.row(
            "symbolication (\(candidate.rawValue)), \(binary) binary, cold: first in process (ms)",
            "\(cold[0].formatted(1)) (\(shape))")
        ResultTable.row(
            "symbolication (\(candidate.rawValue)), \(binary) binary, cold: fresh thread (ms)",
            "p50 \(laterCold.median.formatted(1)), max \(laterCold.max.formatted(1)) (n=\(laterCold.count))")
        let warmResult = "p50 \(warmStats.median.formatted(3)), p99 \(warmStats.p99.formatted(3)) (n=\(warmStats.count))"
        let unseenStats = Statistics(unseenTimes)
        let unseenResult = "p50 \(unseenStats.median.formatted(1)), max \(unseenStats.max.formatted(1)) (n=\(unseenStats.count), \(unseen.count) addresses)"
        let warmName = "symbolication (\(candidate.rawValue)), \(binary) binary, warm, the same stack again (ms)"
        let unseenName = "symbolication (\(candidate.rawValue)), \(binary) binary, warm thread, a stack not seen before (ms)"
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

    /// The lean reader as a watchdog uses it: indexes of the executable built at start, then
    /// the first report's symbolication.
    private static func prepared(binary: String, addresses: [UInt]) {
        let result = BenchThread.run(name: "bench-symb-prepared") { () -> (Double, Double, Int) in
            let symbolicator = _WatchdogBenchmarkHooks.Symbolicator()
            let start = monotonicNanoseconds()
            symbolicator.prepare(imageContaining: addresses[addresses.count / 2])
            let prepared = monotonicNanoseconds()
            _ = symbolicator.symbolicate(addresses)
            let done = monotonicNanoseconds()
            return (Double(prepared - start) / 1e6, Double(done - prepared) / 1e6, symbolicator.memoryBytes)
        }
        ResultTable.row(
            "symbolication (lean), \(binary) binary: index build at start, off the loops (ms; index bytes)",
            "\(result.0.formatted(1)); \((Double(result.2) / 1_048_576).formatted(2)) MB")
        ResultTable.row(
            "symbolication (lean), \(binary) binary: the first report after the start-up index build (ms)",
            "\(result.1.formatted(2))", target: "≤ 50 ms", ResultTable.verdict(result.1 <= 50))
    }

    private struct Sample: Sendable {
        var cold: Double
        var warm: [Double]
        var unseen: Double
        var frames: [StackFrame]
        var resident: Int
    }
}
