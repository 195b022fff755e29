import Dispatch
import LoopWatchdog
import Synchronization

/// Detection latency as a user sees it: a loop blocks for a known time from a known
/// instant, and the `stall.began` event is timestamped when the watchdog's `onEvent`
/// closure receives it: after detection, capture, symbolication and output.
///
/// Each stall runs on a loop of its own (a new registered thread named `stall-N`), so every
/// event names its stall even when reports queue up behind a slow symbolication. Before
/// blocking, the loop idles 15-21 ms (marked idle, so the watchdog may park) and goes busy.
/// Stalls alternate between a CPU spin (signal capture; the interrupted instruction differs
/// from stall to stall) and a sleep (signal-free capture; the same stack every time, so its
/// symbolication is cached after the first).
///
/// Latency after crossing = event time - (block start + threshold). The target bounds the
/// time from block start: threshold + interval + 5 ms, so the latency after crossing must
/// stay within interval + 5 ms.
public enum DetectionBenchmark {
    /// Injects `stalls` stalls and prints the rows; `binary` names the binary in them.
    public static func run(binary: String, stalls: Int, threshold: Duration) {
        let thresholdNs = Int64(threshold.components.seconds) * 1_000_000_000
            + threshold.components.attoseconds / 1_000_000_000
        let intervalNs = thresholdNs / 10  // the default interval
        let received = Mutex<[String: Int64]>([:])
        let watchdog = Watchdog.quiet(threshold: threshold) { event in
            let now = monotonicNanoseconds()
            guard event.kind == .began else { return }
            received.withLock { $0[event.loopName] = $0[event.loopName] ?? now }
        }
        watchdog.start()
        var starts: [Int64] = []
        for index in 0..<stalls {
            starts.append(BenchThread.run(name: "bench-stall") { () -> Int64 in
                let heartbeat = watchdog.registerCurrentThread(name: "stall-\(index)")
                heartbeat.markIdle()
                sleepInKernel(nanoseconds: 15_000_000 + Int64(index % 7) * 1_000_000)
                heartbeat.markBusy()
                heartbeat.beat()
                let start = monotonicNanoseconds()
                let length = thresholdNs + 3 * intervalNs
                if index % 2 == 0 { spin(nanoseconds: length) } else { sleepInKernel(nanoseconds: length) }
                heartbeat.beat()
                heartbeat.markIdle()
                heartbeat.unregister()
                return start
            })
        }
        watchdog.stop()  // joins the watchdog thread and waits for every queued report
        let events = received.withLock { $0 }
        var spins: [Double] = []
        var sleeps: [Double] = []
        var warmSpins: [Double] = []
        var warmSleeps: [Double] = []
        // The first report pays the cold symbolication (100-700 ms) and delays the reports
        // queued behind it; "warm" leaves out every stall that began before it was delivered.
        let firstDelivery = events.values.min() ?? 0
        for (index, start) in starts.enumerated() {
            guard let time = events["stall-\(index)"] else { continue }
            let afterCrossing = Double(time - (start + thresholdNs)) / 1e6
            let warm = start > firstDelivery
            if index % 2 == 0 {
                spins.append(afterCrossing)
                if warm { warmSpins.append(afterCrossing) }
            } else {
                sleeps.append(afterCrossing)
                if warm { warmSleeps.append(afterCrossing) }
            }
        }
        let bound = Double(intervalNs) / 1e6 + 5
        let label = "\(binary) binary, \((Double(thresholdNs) / 1e6).formatted(0)) ms threshold, \((Double(intervalNs) / 1e6).formatted(0)) ms interval"
        let kinds = [
            ("CPU spin, signal capture", spins, warmSpins), ("sleep, signal-free capture", sleeps, warmSleeps),
        ]
        for (name, values, warmValues) in kinds {
            let stats = Statistics(values)
            let warm = Statistics(warmValues)
            ResultTable.row(
                "detection, \(name), \(label): stall.began delivered after the threshold was crossed (ms)",
                "all: p50 \(stats.median.formatted(1)), p99 \(stats.p99.formatted(1)), max \(stats.max.formatted(1)) (n=\(stats.count)); after the first report: p50 \(warm.median.formatted(1)), p99 \(warm.p99.formatted(1)) (n=\(warm.count))",
                target: "p99 ≤ interval + 5 ms = \(bound.formatted(0)) ms",
                ResultTable.verdict(stats.p99 <= bound))
        }
        ResultTable.row(
            "detection, \(binary) binary: stalls injected / reported",
            "\(stalls) / \(events.count)",
            target: "every stall", ResultTable.verdict(events.count == stalls))
    }
}
