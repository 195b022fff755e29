import CLoopWatchdog
import Foundation
import Glibc
import InMemoryLogging
import Logging
import MetricsTestKit
import Synchronization
import Testing

@testable import LoopWatchdog

/// The whole watchdog with real threads and real time. Bounds are generous: these tests
/// check what is reported, never how fast.
@Suite(.serialized)
struct WatchdogTests {
    @Test func blockedLoopIsReportedOnceWithStackAndDuration() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
        watchdog.start()
        defer { watchdog.stop() }
        let loop = try ScriptedLoop(watchdog: watchdog, name: "worker")
        loop.run([.idle(milliseconds: 50), .block { sleepInUsleep(milliseconds: 300) }, .idle(milliseconds: 200)])
        watchdog.stop()

        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].loopName == "worker")
        #expect(began[0].threadID == loop.threadID)
        #expect(began[0].capture == .syscall)
        #expect(began[0].frames.contains { $0.symbol?.contains("sleepInUsleep") == true })
        #expect(ended[0].stallID == began[0].stallID)
        #expect(ended[0].blocked >= .milliseconds(270) && ended[0].blocked <= .milliseconds(400), "\(ended[0].blocked)")
    }

    @Test func idleLoopIsNeverReported() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(20), events: events)
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "idle")
        loop.run([.idle(milliseconds: 600), .block { usleep(5_000) }, .idle(milliseconds: 300)])
        watchdog.stop()
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func loopThatBlocksAfterALongIdleWakesTheParkedWatchdog() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "sleepy")
        // Idle long enough for the watchdog to park (every loop idle), then a CPU block.
        usleep(300_000)
        loop.run([.block { spinFor(milliseconds: 250) }, .idle(milliseconds: 100)])
        watchdog.stop()
        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].capture == .signal)
        #expect(ended[0].blocked >= .milliseconds(200) && ended[0].blocked <= .milliseconds(400), "\(ended[0].blocked)")
    }

    @Test func threadThatExitsWithoutUnregisteringIsForgotten() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(20), events: events)
        watchdog.start()
        let heartbeatHolder = Mutex<LoopHeartbeat?>(nil)
        let thread = try #require(
            PlainThread.start(name: "short-lived") {
                // Busy, registered, and gone: never marks itself idle or unregisters.
                heartbeatHolder.withLock { $0 = watchdog.registerCurrentThread(name: "short-lived") }
            })
        thread.join()
        usleep(200_000)
        let records = watchdog.registry.liveRecords()
        watchdog.stop()
        #expect(!records.contains { $0.name == "short-lived" })
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func disabledWatchdogStartsNoThreadAndReportsNothing() throws {
        let events = EventCollector()
        let watchdog = Watchdog(
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: ["LOOP_WATCHDOG": "off"], onEvent: { events.append($0) })
        watchdog.start()
        #expect(!watchdog.isRunning)
        let loop = try ScriptedLoop(watchdog: watchdog, name: "off")
        loop.run([.block { sleepInUsleep(milliseconds: 250) }])
        watchdog.stop()
        #expect(events.all.isEmpty)
    }

    @Test func startingTwiceIsHarmlessAndStopJoins() {
        let watchdog = Watchdog(
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), environment: [:])
        watchdog.start()
        watchdog.start()
        #expect(watchdog.isRunning)
        watchdog.stop()
        #expect(!watchdog.isRunning)
        watchdog.stop()
        watchdog.start()
        #expect(watchdog.isRunning)
        watchdog.stop()
    }

    @Test func thresholdCanBeRaisedWhileRunning() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
        watchdog.start()
        watchdog.threshold = .seconds(2)
        let loop = try ScriptedLoop(watchdog: watchdog, name: "raised")
        loop.run([.block { sleepInUsleep(milliseconds: 300) }, .idle(milliseconds: 100)])
        #expect(events.all.isEmpty, "\(events.all)")
        watchdog.threshold = .milliseconds(50)
        loop.run([.block { sleepInUsleep(milliseconds: 300) }, .idle(milliseconds: 100)])
        watchdog.stop()
        #expect(events.all.filter { $0.kind == .began }.count == 1, "\(events.all)")
    }

    @Test func perLoopThresholdOverridesTheWatchdogs() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "lenient")
        loop.heartbeat.threshold = .seconds(5)
        loop.run([.block { sleepInUsleep(milliseconds: 300) }, .idle(milliseconds: 100)])
        watchdog.stop()
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func badEnvironmentValueLogsOneWarningAndUsesTheDefault() {
        let (handler, logger) = inMemoryLogger()
        let watchdog = Watchdog(logger: logger, environment: ["LOOP_WATCHDOG_THRESHOLD": "banana"])
        #expect(watchdog.threshold == .milliseconds(100))
        let warnings = handler.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.description.contains("LOOP_WATCHDOG_THRESHOLD") == true)
        #expect(warnings.first?.message.description.contains("banana") == true)
        #expect(warnings.first?.message.description.contains("100 ms") == true)
    }

    @Test func textReportsGoThroughTheLoggerAtTheConfiguredLevels() throws {
        let (handler, logger) = inMemoryLogger()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50), endedLogLevel: .notice),
            logger: logger, environment: [:])
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "logged")
        loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
        watchdog.stop()
        let entries = handler.entries
        let began = try #require(entries.first { $0.metadata["event"] == "stall.began" })
        let ended = try #require(entries.first { $0.metadata["event"] == "stall.ended" })
        #expect(began.level == .warning)
        #expect(ended.level == .notice)
        #expect(began.message.description.hasPrefix("loop 'logged' (tid \(loop.threadID)) blocked for "))
        #expect(began.message.description.contains("sleepInUsleep"))
    }

    @Test func jsonLinesGoToTheOutputFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lwd-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl").path
        defer { unlink(path) }
        let watchdog = Watchdog(
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: ["LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": path, "LOOP_WATCHDOG_THRESHOLD": "50ms"])
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "json")
        loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
        watchdog.stop()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        try #require(lines.count == 2, "\(lines)")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects[0]["event"] as? String == "stall.began")
        #expect(objects[1]["event"] as? String == "stall.ended")
        #expect(objects[0]["loop"] as? String == "json")
        let frames = try #require(objects[0]["frames"] as? [[String: Any]])
        #expect(frames.contains { ($0["symbol"] as? String)?.contains("sleepInUsleep") == true })
        let blocked = try #require(objects[1]["blocked_ms"] as? Double)
        #expect(blocked > 170 && blocked < 300)
    }
}

/// Lifetime: dropping the last reference to a started watchdog must not crash it.
@Suite(.serialized)
struct WatchdogLifetimeTests {
    @Test func droppedRunningWatchdogKeepsWorkingUntilStopped() throws {
        let events = EventCollector()
        weak var weakWatchdog: Watchdog?
        do {
            let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
            watchdog.start()
            weakWatchdog = watchdog
        }
        let watchdog = try #require(weakWatchdog)
        let loop = try ScriptedLoop(watchdog: watchdog, name: "orphan")
        loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
        watchdog.stop()
        #expect(events.all.map(\.kind) == [.began, .ended])
    }
}

/// Stall counts and durations reach a real swift-metrics factory (MetricsTestKit).
@Suite(.serialized)
struct WatchdogMetricsTests {
    @Test func stallIsCountedAndItsDurationRecorded() throws {
        let metrics = TestMetrics()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50)),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: [:], metricsFactory: metrics)
        watchdog.start()
        let loop = try ScriptedLoop(watchdog: watchdog, name: "metered")
        loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
        watchdog.stop()
        let stalls = try metrics.expectCounter(MetricsEventSink.stallsLabel, [("loop", "metered")])
        #expect(stalls.totalValue == 1)
        let timer = try metrics.expectTimer(MetricsEventSink.durationLabel, [("loop", "metered")])
        let recorded = try #require(timer.lastValue)
        #expect(recorded > 170_000_000 && recorded < 300_000_000, "\(recorded)")
        #expect(metrics.counters(label: MetricsEventSink.captureFailuresLabel).isEmpty)
        // The thread slept in usleep the whole stall: its cause is counted as sleeping.
        let causes = try metrics.expectCounter(
            MetricsEventSink.causesLabel, [("loop", "metered"), ("cause", StallCause.Verdict.sleeping.name)])
        #expect(causes.totalValue == 1)
        #expect(metrics.counters(label: MetricsEventSink.causesLabel).count == 1)
        // No pool job was involved: no gauge of blocked workers.
        #expect(metrics.recorders(label: MetricsEventSink.blockedWorkersLabel).isEmpty)
    }

    @Test func blockedWorkersGaugeFollowsThePoolJobsThatBeginAndEndBlocking() throws {
        let metrics = TestMetrics()
        let sink = MetricsEventSink(factory: metrics)
        func event(_ kind: StallEvent.Kind, blockedWorkers: Int) -> StallEvent {
            StallEvent(
                kind: kind, stallID: 1, loopName: "swift-concurrency-pool.low", threadID: 7,
                threshold: .milliseconds(100), blocked: .milliseconds(150), capture: .none, isPool: true,
                job: PoolJob(priority: TaskPriority.low.rawValue, blockedWorkers: blockedWorkers, workers: 2))
        }
        let dimensions = [("pool", "swift-concurrency-pool.low")]
        sink.emit(event(.began, blockedWorkers: 1))
        #expect(try metrics.expectGauge(MetricsEventSink.blockedWorkersLabel, dimensions).lastValue == 1)
        sink.emit(event(.began, blockedWorkers: 2))
        #expect(try metrics.expectGauge(MetricsEventSink.blockedWorkersLabel, dimensions).lastValue == 2)
        // A continuing event changes nothing; each ended one gives the count left blocked.
        sink.emit(event(.continuing, blockedWorkers: 2))
        sink.emit(event(.ended, blockedWorkers: 1))
        #expect(try metrics.expectGauge(MetricsEventSink.blockedWorkersLabel, dimensions).lastValue == 1)
        sink.emit(event(.ended, blockedWorkers: 0))
        let gauge = try metrics.expectGauge(MetricsEventSink.blockedWorkersLabel, dimensions)
        #expect(gauge.values == [1, 2, 1, 0])
        // Ended events without a cause are counted as unknown.
        let unknown = try metrics.expectCounter(
            MetricsEventSink.causesLabel, [("loop", "swift-concurrency-pool.low"), ("cause", "unknown")])
        #expect(unknown.totalValue == 2)
    }

    @Test func durationBucketsStartAtTheThreshold() {
        let buckets = MetricsEventSink.durationBuckets(threshold: .milliseconds(100))
        #expect(buckets.first == .milliseconds(100))
        #expect(buckets.last == .seconds(100))
        #expect(buckets == buckets.sorted())
        #expect(buckets.count == 10)
    }
}
