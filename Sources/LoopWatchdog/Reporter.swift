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
