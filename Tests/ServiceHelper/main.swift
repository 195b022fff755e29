// A small ServiceLifecycle application for WatchdogServiceTests: the watchdog as the first
// service of a ServiceGroup, and a service that blocks its Concurrency worker once while it
// serves and once while it drains. SIGTERM shuts the group down gracefully, as in a
// deployed server. Prints SERVING when the first block is done; exits 0 after the group ends.
import Glibc
import Logging
import LoopWatchdog
import LoopWatchdogServiceLifecycle
import ServiceLifecycle
import Synchronization

/// Writes `line` to standard output at once (the test reads it while the process runs).
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

/// Passes every record to standard error and notes when the watchdog service said it started.
struct StartNoticingHandler: LogHandler {
    static let started = Atomic<Bool>(false)
    var inner = StreamLogHandler.standardError(label: "service-helper")
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) {
        if event.message.description == "LoopWatchdog started" { Self.started.store(true, ordering: .relaxed) }
        inner.log(event: event)
    }
}

@inline(never)
func blockWhileServing() { usleep(300_000) }

@inline(never)
func blockWhileDraining() { usleep(300_000) }

/// Blocks its worker in `blockWhileServing` once the watchdog watches, then waits for the
/// graceful shutdown and blocks in `blockWhileDraining` before it returns.
struct BlockingService: Service {
    func run() async throws {
        while !StartNoticingHandler.started.load(ordering: .relaxed) {
            try await Task.sleep(for: .milliseconds(10))
        }
        // A sleep's wake-up was scheduled before the job watch began: the job it ran could go
        // straight to the runtime's queue. One yield enqueues this task anew.
        await Task.yield()
        blockWhileServing()
        say("SERVING")
        try? await gracefulShutdown()
        blockWhileDraining()
        say("DRAINED")
    }
}

let logger = Logger(label: "service-helper", factory: { _ in StartNoticingHandler() })
let group = ServiceGroup(
    services: [WatchdogService(logger: logger), BlockingService()],
    gracefulShutdownSignals: [.sigterm],
    logger: logger)
try await group.run()
say("EXITED")
