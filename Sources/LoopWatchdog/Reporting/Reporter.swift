import CoreMetrics
import Glibc
import Logging

/// A stall event as the watchdog thread produced it: its frames still raw addresses.
struct PendingEvent: Sendable {
    var event: StallEvent
    /// Captured addresses, innermost first; `addresses[0]` is a program counter.
    var addresses: [UInt]
    /// For a pool: each worker thread captured, its frames still raw addresses.
    var threads: [PendingThread] = []
}

/// One worker of a pool as the watchdog thread captured it.
struct PendingThread: Sendable {
    var threadID: Int32
    var name: String
    var capture: CaptureOutcome
    /// Captured addresses, innermost first; `addresses[0]` is a program counter.
    var addresses: [UInt]
}

/// Symbolicates and delivers events, in order, on its own thread ("LoopWatchdog-rep"):
/// never on a loop thread and never on the watchdog thread.
final class Reporter: Sendable {
    private let queue = SerialThreadQueue(name: "LoopWatchdog-rep")
    private let sinks: [any EventSink]
    private let symbolicator: SymbolicatorBox

    /// Owns the Symbolicator; touched only on `queue`.
    private final class SymbolicatorBox: @unchecked Sendable {
        let symbolicator = Symbolicator()
    }

    init(sinks: [any EventSink]) {
        self.sinks = sinks
        self.symbolicator = SymbolicatorBox()
    }

    /// A reporter with the sinks `settings` ask for, in delivery order: the hang file first
    /// (so that the evidence is on disk before anything else is done with it), then the log
    /// or JSON lines, the metrics, and `onEvent`.
    convenience init(
        settings: Settings, logger: Logger, metricsFactory: any MetricsFactory,
        onEvent: (@Sendable (StallEvent) -> Void)?
    ) {
        var sinks: [any EventSink] = []
        if let hangFile = settings.hangFile {
            sinks.append(HangFileSink(path: HangFilePath.expand(hangFile, pid: getpid()), logger: logger))
        }
        switch settings.format {
        case .json:
            sinks.append(Self.jsonSink(for: settings.output, logger: logger))
        default:
            sinks.append(LoggerEventSink(logger: logger, endedLevel: settings.endedLogLevel))
        }
        sinks.append(MetricsEventSink(factory: metricsFactory))
        if let onEvent { sinks.append(ClosureEventSink(handler: onEvent)) }
        self.init(sinks: sinks)
    }

    /// JSON lines to `output`; to standard error, with a warning, when the file cannot be
    /// opened.
    private static func jsonSink(for output: OutputDestination, logger: Logger) -> any EventSink {
        switch output {
        case .standardError:
            return JSONLinesEventSink(descriptor: 2)
        case .standardOutput:
            return JSONLinesEventSink(descriptor: 1)
        case .file(let path):
            if let sink = JSONLinesEventSink(path: path) { return sink }
            logger.warning(
                "LOOP_WATCHDOG_OUTPUT=\(path.escapedForLogLine) cannot be opened (errno \(errno)); writing JSON lines to standard error"
            )
            return JSONLinesEventSink(descriptor: 2)
        }
    }

    /// Queues `pending` for symbolication and delivery; returns at once.
    func report(_ pending: PendingEvent) {
        queue.async { [sinks, symbolicator] in
            var event = pending.event
            if !pending.addresses.isEmpty {
                event.frames = symbolicator.symbolicator.symbolicate(pending.addresses, firstIsProgramCounter: true)
            }
            if !pending.threads.isEmpty {
                let stacks = pending.threads.map { thread in
                    ThreadStack(
                        threadID: thread.threadID, name: thread.name, capture: thread.capture,
                        frames: thread.addresses.isEmpty
                            ? [] : symbolicator.symbolicator.symbolicate(thread.addresses, firstIsProgramCounter: true))
                }
                event.threads = stacks.filter { !IdleWorker.isParked($0) }
            }
            for sink in sinks {
                sink.emit(event)
            }
        }
    }

    deinit {
        queue.shutdown()
    }

    /// Waits until every event queued so far was delivered.
    func flush() {
        queue.flush()
    }
}
