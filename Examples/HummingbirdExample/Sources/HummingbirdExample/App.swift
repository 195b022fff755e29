import ExampleWork
import Foundation
import Hummingbird
import Logging
import LoopWatchdog
import LoopWatchdogServiceLifecycle
import NIOPosix
import Prometheus

/// A Hummingbird 2 server whose async route handlers block their Swift Concurrency worker:
/// `/fast` answers at once; `/sleep`, `/spin`, `/read` and `/lock` block for `?ms=` (default
/// 300) in a sleep, a CPU spin, a large synchronous file read and a contended lock.
/// `/metrics` serves the watchdog's metrics in the Prometheus text format.
/// Listens on 127.0.0.1:`PORT` (default 8080); SIGTERM or SIGINT shuts it down gracefully.
@main
struct HummingbirdExample {
    static func main() async throws {
        let logger = Logger(label: "HummingbirdExample")

        // Metrics for Prometheus; stall durations in buckets that start at the threshold.
        let registry = PrometheusCollectorRegistry()
        var prometheus = PrometheusMetricsFactory(registry: registry)
        let configuration = LoopWatchdog.Configuration()  // LOOP_WATCHDOG_* from the environment
        prometheus.durationHistogramBuckets[MetricsEventSink.durationLabel] =
            MetricsEventSink.durationBuckets(threshold: configuration.resolvedThreshold())

        // LoopWatchdog, as the README shows: one more service of the application, watching
        // the NIO loops and the Concurrency pool, whose workers run every route handler.
        let watchdog = WatchdogService(
            configuration: configuration, logger: logger, metricsFactory: prometheus,
            eventLoopGroups: [MultiThreadedEventLoopGroup.singleton])

        let file = BlockingWork.largeFile(megabytes: 16)
        let router = Router()
        router.get("/fast") { _, _ in "fast\n" }
        router.get("/sleep", use: sleepRoute)
        router.get("/spin", use: spinRoute)
        router.get("/read") { request, context in try await readRoute(request, context, file: file) }
        router.get("/lock", use: lockRoute)
        router.get("/metrics") { _, _ in registry.emitToString() }

        let port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
        // The watchdog comes first among the services: the group stops them in reverse
        // order, so a handler that blocks while the server drains is still reported.
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            services: [watchdog], logger: logger)
        // Unbuffered: the driver waits for this line through a pipe.
        FileHandle.standardOutput.write(Data("READY port=\(port)\n".utf8))
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// `?ms=` of a request, 300 by default.
func milliseconds(_ request: Request) -> Int {
    request.uri.queryParameters.get("ms", as: Int.self) ?? 300
}

@inline(never)
func sleepRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.sleep(milliseconds: milliseconds(request))
    return BlockingWork.report("sleep", blockedNanoseconds: blocked)
}

@inline(never)
func spinRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.spin(milliseconds: milliseconds(request))
    return BlockingWork.report("spin", blockedNanoseconds: blocked)
}

@inline(never)
func readRoute(_ request: Request, _ context: some RequestContext, file: URL) async throws -> String {
    let blocked = BlockingWork.readFile(file, milliseconds: milliseconds(request))
    return BlockingWork.report("read", blockedNanoseconds: blocked)
}

@inline(never)
func lockRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.waitForLock(milliseconds: milliseconds(request))
    return BlockingWork.report("lock", blockedNanoseconds: blocked)
}
