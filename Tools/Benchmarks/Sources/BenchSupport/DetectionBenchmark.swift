import BenchSupport
import Dispatch
import LoopWatchdog
import Synchronization

/// Detection latency: a loop blocks for a known time starting at a known instant, and the
/// `stall.began` event is timestamped when the watchdog's `onEvent` closure receives it,
/// which is after capture, symbolication and output, as a user would see it. Stalls
/// alternate between a CPU spin (signal capture) and a sleep (signal-free capture).
///
/// Latency after crossing = event time - (block start + threshold). The target bounds the
/// time from block start: threshold + interval + 5 ms.
enum DetectionBenchmark {
    static func run(stalls: Int, threshold: Duration) {
        let thresholdNs = Int64(threshold.components.seconds) * 1_000_000_000
            + threshold.components.attoseconds / 1_000_000_000
        let intervalNs = thresholdNs / 10  // the default interval
        let received = Mutex<[(time: Int64, capture: CaptureOutcome)]>([])
        let watchdog = Watchdog.quiet(threshold: threshold) { event in
            let now = monotonicNanoseconds()
            guard event.kind == .began else { return }
            received.withLock { $0.append((now, event.capture)) }
        }
        watchdog.start()
        let starts = BenchThread.run(name: "bench-stalls") { () -> [Int64] in
            let heartbeat = watchdog.registerCurrentThread(name: "stalling")
            var starts: [Int64] = []
            starts.reserveCapacity(stalls)
            for index in 0..<stalls {
                heartbeat.markIdle()
                sleepInKernel(nanoseconds: 15_000_000 + Int64(index % 7) * 1_000_000)
                heartbeat.markBusy()
                heartbeat.beat()
                let start = monotonicNanoseconds()
                starts.append(start)
                let length = thresholdNs + 3 * intervalNs
                if index % 2 == 0 { spin(nanoseconds: length) } else { sleepInKernel(nanoseconds: length) }
                heartbeat.beat()
            }
            heartbeat.markIdle()
            heartbeat.unregister()
            return starts
        }
        watchdog.stop()  // joins the watchdog thread and flushes the reporter
        let events = received.withLock { $0 }
        var signal: [Double] = []
        var syscall: [Double] = []
        var unmatched = 0
        for event in events {
            // The stall this event belongs to: the last one that started before it.
            guard let start = starts.last(where: { $0 <= event.time }) else {
                unmatched += 1
                continue
            }
            let afterCrossing = Double(event.time - (start + thresholdNs)) / 1e6
            if event.capture == .signal { signal.append(afterCrossing) } else { syscall.append(afterCrossing) }
        }
        let bound = Double(intervalNs) / 1e6 + 5
        let all = Statistics(signal + syscall)
        let label = "\(Double(thresholdNs) / 1e6) ms threshold, \(Double(intervalNs) / 1e6) ms interval"
        for (name, values) in [("CPU spin (signal capture)", signal), ("sleep (signal-free capture)", syscall)] {
            let stats = Statistics(values)
            ResultTable.row(
                "detection, \(name), \(label): stall.began delivered after the threshold was crossed (ms)",
                "p50 \(stats.median.formatted(1)), p99 \(stats.p99.formatted(1)), max \(stats.max.formatted(1)) (n=\(stats.count))",
                target: "p99 ≤ interval + 5 ms = \(bound.formatted(0)) ms",
                ResultTable.verdict(stats.p99 <= bound))
        }
        ResultTable.row(
            "detection: stalls injected / began events / unmatched",
            "\(stalls) / \(events.count) / \(unmatched); all: p50 \(all.median.formatted(1)), p99 \(all.p99.formatted(1)) ms",
            target: "one event per stall", ResultTable.verdict(events.count == stalls && unmatched == 0))
    }
}
