import Glibc
import InMemoryLogging
import Logging
import LoopWatchdogServiceLifecycle
import ServiceLifecycle
import Synchronization
import Testing

@testable import LoopWatchdog

/// `WatchdogService` in a real `ServiceGroup`: started with the group, watching the
/// Concurrency pool while the other services run and drain, stopped on graceful shutdown
/// (triggered in code, or by SIGTERM in a child process) and on cancellation.
@Suite(.serialized)
struct WatchdogServiceTests {
    /// A service that blocks its Concurrency worker once the watchdog has said it started,
    /// then waits for the graceful shutdown and blocks again while it "drains".
    struct BlockingService: Service {
        let log: InMemoryLogHandler
        let blocked = Flag()

        func run() async throws {
            while !log.said("LoopWatchdog started") {
                try await Task.sleep(for: .milliseconds(10))
            }
            // A sleep's wake-up was scheduled before the job watch began: the job it ran
            // could go straight to the runtime's queue. One yield enqueues this task anew.
            await Task.yield()
            serviceBlocksWhileServing()
            blocked.set()
            try? await gracefulShutdown()
            serviceBlocksWhileDraining()
        }
    }

    /// A service that only waits for the shutdown.
    struct IdleService: Service {
        func run() async throws {
            try? await gracefulShutdown()
        }
    }

    static func waitUntil(_ condition: () -> Bool, timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !condition() {
            try #require(clock.now < deadline, "condition not met within \(timeout)")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func gracefulShutdownStopsTheWatchdogAfterTheServicesThatComeAfterIt() async throws {
        let (log, logger) = inMemoryLogger()
        let events = EventCollector()
        let service = WatchdogService(
            configuration: Configuration(threshold: .milliseconds(100)), logger: logger,
            concurrencyPool: true, onEvent: { events.append($0) })
        let blocking = BlockingService(log: log)
        let group = ServiceGroup(services: [service, blocking], logger: logger)
        let running = Task { try await group.run() }

        try await Self.waitUntil { blocking.blocked.isSet }
        #expect(service.watchdog.isRunning)
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(!service.watchdog.isRunning)
        // Both blocks were reported, the one during the drain too: the watchdog, first in
        // the group, stopped after the blocking service had returned.
        let ended = events.all.filter { $0.kind == .ended }
        for function in ["serviceBlocksWhileServing", "serviceBlocksWhileDraining"] {
            let began = events.all.filter { $0.kind == .began && $0.frames.contains { $0.symbol?.contains(function) == true } }
            try #require(began.count == 1, "\(function): \(events.all)")
            #expect(began[0].loopName == "swift-concurrency-pool.medium")
            #expect(ended.contains { $0.stallID == began[0].stallID && $0.blocked >= .milliseconds(250) })
        }
        // Through the service's logger: the start line with what it watches, the reports,
        // and the stop line last.
        let messages = log.entries.map(\.message.description)
        let started = try #require(log.entries.first { $0.message.description == "LoopWatchdog started" })
        #expect(started.metadata["threshold"] == "100 ms")
        #expect(started.metadata["concurrency_pool"] == "jobs and starvation")
        let lastReport = try #require(log.entries.lastIndex { $0.metadata["event"] == "stall.ended" }, "\(messages)")
        let stopped = try #require(messages.firstIndex(of: "LoopWatchdog stopped"), "\(messages)")
        #expect(lastReport < stopped)
    }

    @Test func cancellingTheGroupStopsTheWatchdog() async throws {
        let (log, logger) = inMemoryLogger()
        let service = WatchdogService(
            configuration: Configuration(threshold: .milliseconds(100)), logger: logger, concurrencyPool: false)
        let group = ServiceGroup(services: [service, IdleService()], logger: logger)
        let running = Task { try await group.run() }
        try await Self.waitUntil { log.said("LoopWatchdog started") }
        #expect(service.watchdog.isRunning)
        running.cancel()
        _ = await running.result
        #expect(!service.watchdog.isRunning)
        #expect(log.said("LoopWatchdog stopped"))
    }

    @Test func aDisabledWatchdogKeepsItsServiceRunningUntilShutdown() async throws {
        let (log, logger) = inMemoryLogger()
        let service = WatchdogService(configuration: Configuration(enabled: false), logger: logger)
        let group = ServiceGroup(services: [service, IdleService()], logger: logger)
        let finished = Flag()
        let running = Task {
            defer { finished.set() }
            try await group.run()
        }
        // A service that returned now would end the group with serviceFinishedUnexpectedly.
        try await Task.sleep(for: .milliseconds(300))
        #expect(!finished.isSet)
        #expect(!service.watchdog.isRunning)
        #expect(log.said("LoopWatchdog is off (LOOP_WATCHDOG); nothing is watched"))
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func sigtermShutsTheApplicationDownWithTheDrainStillWatched() async throws {
        let helper = "\(ChildProcess.productsDirectory)/lwd-service-helper"
        let child = try ChildProcess(helper, [], environment: ["LOOP_WATCHDOG_THRESHOLD": "100ms"])
        try await child.waitForOutput(containing: "SERVING")
        child.send(SIGTERM)
        let status = try await child.waitForExit()
        #expect(status == 0, "stderr: \(child.standardError.suffix(2_000))")
        #expect(child.standardOutput.contains("DRAINED\nEXITED"))
        let log = child.standardError
        let drained = try #require(log.range(of: "blockWhileDraining()"), "\(log)")
        let stopped = try #require(log.range(of: "LoopWatchdog stopped"), "\(log)")
        #expect(log.contains("blockWhileServing()"))
        #expect(drained.lowerBound < stopped.lowerBound)
        #expect(log.components(separatedBy: "event=stall.ended").count == 3, "\(log)")
    }
}

@inline(never)
func serviceBlocksWhileServing() { usleep(300_000) }

@inline(never)
func serviceBlocksWhileDraining() { usleep(300_000) }

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

extension InMemoryLogHandler {
    /// Whether a record with exactly this message was logged.
    func said(_ message: String) -> Bool {
        entries.contains { $0.message.description == message }
    }
}
