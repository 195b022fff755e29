import CoreMetrics
import LoopWatchdog
import LoopWatchdogNIO
import Logging
import NIOCore
import ServiceLifecycle

/// LoopWatchdog as a swift-service-lifecycle `Service`: add it to the application's
/// `ServiceGroup` and the watchdog runs as long as the group does.
///
/// ```swift
/// let watchdog = WatchdogService(
///     logger: logger, eventLoopGroups: [MultiThreadedEventLoopGroup.singleton])
/// let group = ServiceGroup(
///     services: [watchdog, app],            // first: it stops last
///     gracefulShutdownSignals: [.sigterm, .sigint],
///     logger: logger)
/// try await group.run()
/// ```
///
/// `run()` starts the watchdog, watches the event loop groups and the Swift Concurrency pool
/// it was given, and keeps them watched until the group shuts down gracefully (a signal in
/// `gracefulShutdownSignals`, `triggerGracefulShutdown()`, another service ending) or is
/// cancelled. Then it ends the watches and stops the watchdog, which writes the reports still
/// queued, and returns normally. A `ServiceGroup` shuts its services down in the reverse
/// order of its list: put this service first, so that code blocking while the other
/// services drain is still reported.
///
/// When the watchdog is disabled (`LOOP_WATCHDOG=off`), `run()` watches nothing and still
/// waits for the shutdown: a service that returned early would end the whole group.
///
/// Thread model: `run()` runs in the service group's task; the watchdog's own thread and
/// reporter do the watching. Stopping, which joins the watchdog thread and waits for its
/// reports to be written, happens on a thread of its own, never on a Concurrency worker.
public struct WatchdogService: Service {
    /// The watchdog this service runs. Register your own loops with it, change its
    /// threshold, or watch more executors, at any time.
    public let watchdog: Watchdog
    private let logger: Logger
    private let eventLoopGroups: [any EventLoopGroup]
    private let watchesConcurrencyPool: Bool

    /// A service that runs a new watchdog.
    /// - Parameters:
    ///   - configuration: settings made in code; they win over the `LOOP_WATCHDOG_*`
    ///     environment variables, which win over the defaults.
    ///   - logger: where the watchdog's reports and notices go, and this service's own
    ///     start and stop lines: pass the application's or the service group's logger.
    ///   - metricsFactory: where the stall metrics go (see `MetricsEventSink`); by default
    ///     the application's `MetricsSystem.factory` as it is now: bootstrap the metrics
    ///     system before creating the service.
    ///   - eventLoopGroups: the SwiftNIO groups whose loops to watch, for example
    ///     `[MultiThreadedEventLoopGroup.singleton]` for Hummingbird or
    ///     `[app.eventLoopGroup]` for Vapor.
    ///   - concurrencyPool: whether to watch the Swift Concurrency pool, its starvation and
    ///     every blocked job (`Watchdog.watchConcurrencyPool(priorities:jobs:)`),
    ///     where async route handlers run; by default true.
    ///   - onEvent: called with every finished event, on the reporter thread.
    public init(
        configuration: Configuration = Configuration(),
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil,
        eventLoopGroups: [any EventLoopGroup] = [],
        concurrencyPool: Bool = true,
        onEvent: (@Sendable (StallEvent) -> Void)? = nil
    ) {
        self.init(
            watchdog: Watchdog(
                configuration: configuration, logger: logger, metricsFactory: metricsFactory, onEvent: onEvent),
            logger: logger, eventLoopGroups: eventLoopGroups, concurrencyPool: concurrencyPool)
    }

    /// A service that runs `watchdog`, which should not be started elsewhere: the service
    /// stops it when the group shuts down.
    /// - Parameters:
    ///   - watchdog: the watchdog to run.
    ///   - logger: where this service's start and stop lines go.
    ///   - eventLoopGroups: the SwiftNIO groups whose loops to watch.
    ///   - concurrencyPool: whether to watch the Swift Concurrency pool; by default true.
    public init(
        watchdog: Watchdog,
        logger: Logger,
        eventLoopGroups: [any EventLoopGroup] = [],
        concurrencyPool: Bool = true
    ) {
        self.watchdog = watchdog
        self.logger = logger
        self.eventLoopGroups = eventLoopGroups
        self.watchesConcurrencyPool = concurrencyPool
    }

    /// Runs the watchdog until the service group shuts down gracefully or is cancelled,
    /// then stops it and returns. Never throws.
    public func run() async throws {
        guard watchdog.isEnabled else {
            logger.info("LoopWatchdog is off (LOOP_WATCHDOG); nothing is watched")
            try? await gracefulShutdown()
            return
        }
        watchdog.start()
        let loops = eventLoopGroups.map { watchdog.watch(eventLoopGroup: $0) }
        let pool = watchesConcurrencyPool ? watchdog.watchConcurrencyPool() : nil
        logger.info(
            "LoopWatchdog started",
            metadata: [
                "threshold": "\(watchdog.threshold.configurationText)",
                "event_loops": "\(loops.map(\.loopCount).reduce(0, +))",
                "concurrency_pool": "\(pool == nil ? "off" : pool!.watchesJobs ? "jobs and starvation" : "starvation")",
            ])
        // Returns on graceful shutdown, throws CancellationError on cancellation: either
        // way the watchdog stops now.
        try? await gracefulShutdown()
        pool?.stop()
        for watch in loops { watch.stop() }
        await watchdog.stopOffThread()
        logger.info("LoopWatchdog stopped")
    }
}
