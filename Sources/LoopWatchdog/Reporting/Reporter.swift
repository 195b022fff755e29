import CLoopWatchdog
import CoreMetrics
import Glibc
import Logging
import Synchronization

/// A stall event as the watchdog thread produced it: its frames still raw addresses.
struct PendingEvent: Sendable {
    var event: StallEvent
    /// Captured addresses, innermost first; `addresses[0]` is a program counter.
    var addresses: [UInt]
    /// For a pool: each worker thread captured, its frames still raw addresses.
    var threads: [PendingThread] = []
    /// For a loop's `continuing` and `ended`: the stall's samples, still raw addresses.
    var samples: PendingSamples? = nil
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
///
/// At most ``capacity`` events wait for delivery: past that, events are dropped and counted,
/// and the next event delivered is preceded by one warning that says how many were lost
/// (a destination that cannot keep up, or a flood of stalls, never makes memory grow).
final class Reporter: Sendable {
    /// How many events may wait for delivery.
    static let capacity = 256
    /// How long `stop()` waits for queued events to be symbolicated and written; then
    /// ``hurryTimeout`` more for what is left, delivered with addresses only.
    static let flushTimeout: Duration = .seconds(7)
    static let hurryTimeout: Duration = .seconds(3)

    private let queue = SerialThreadQueue(name: "LoopWatchdog-rep", capacity: Reporter.capacity)
    private let sinks: [any EventSink]
    private let symbolicator: SymbolicatorBox
    private let logger: Logger?
    /// Events dropped since the last warning about it.
    private let dropped = Atomic<Int>(0)
    /// Events dropped since the reporter was made.
    let droppedTotal = Atomic<Int>(0)
    /// Set while the host is shutting down and waited long enough: events still queued go
    /// out with their addresses only (an output that takes no writes must not hold it).
    private let addressesOnly = Atomic<Bool>(false)
    /// Whether ``prepareSymbols()`` was queued.
    private let preparedSymbols = Atomic<Bool>(false)
    /// When the next line about repeated stalls may be due (monotonic ns; 0: none pending),
    /// for the watchdog thread's cheap check; and whether a job to say them is queued.
    private let repeatsDueAt = Atomic<Int64>(0)
    private let repeatsQueued = Atomic<Bool>(false)

    /// Owns the Symbolicator and the ids of stalls found to be no stall; touched only on
    /// `queue`.
    private final class SymbolicatorBox: @unchecked Sendable {
        let symbolicator = Symbolicator()
        /// Pool stalls whose every captured worker was parked waiting for work: the pool
        /// was late to answer (the machine had no CPU for it), not blocked. Never reported.
        var notStalls: Set<UInt64> = []
        /// Whether the warning about too little memory for symbolication was given.
        var saidLowMemory = false
        /// Which stalls the log reports in full (nil: every one, ``RepeatPolicy/all``).
        var sites: StallSites?
        /// The last answer of ``SymbolicationHeadroom`` and when it was asked (it reads
        /// /proc and cgroup files: asked at most every ``headroomRecheck``).
        var headroomAllows = true
        var headroomCheckedAt: Int64?

        static let headroomRecheck: Int64 = 1_000_000_000

        /// Whether a full symbolication fits now, asked again at most once a second.
        func allowsFullSymbolication(now: Int64) -> Bool {
            if let checkedAt = headroomCheckedAt, now - checkedAt < Self.headroomRecheck { return headroomAllows }
            headroomAllows = SymbolicationHeadroom.allowsFullSymbolication()
            headroomCheckedAt = now
            return headroomAllows
        }
    }

    /// Frames named by the dynamic linker only (exported symbols, no file:line), with each
    /// frame's image, offset and build ID: no debug information is read, nothing large
    /// allocated.
    private static func dynamicLinkerFrames(_ addresses: [UInt]) -> [StackFrame] {
        addresses.enumerated().map { index, address in
            var frame = LoadedImage.frame(index: index, address: address)
            let names = DynamicLinkerNames.lookup(AsyncFrameAddress.lookupAddress(address, index: index))
            frame.symbol = names.symbol
            frame.image = frame.image ?? names.image.map { String($0.split(separator: "/").last ?? "") }
            return frame
        }
    }

    /// Frames with addresses, images, offsets and build IDs only, for a host that is
    /// shutting down: what `loop-watchdog symbolicate` resolves later.
    private static func addressFrames(_ addresses: [UInt]) -> [StackFrame] {
        addresses.enumerated().map { LoadedImage.frame(index: $0.offset, address: $0.element) }
    }

    /// A reporter delivering to `sinks`; the log sinks among them get every stall in full
    /// under ``RepeatPolicy/all``, the first of each site under ``RepeatPolicy/backoff``.
    init(
        sinks: [any EventSink], logger: Logger? = nil, repeats: RepeatPolicy = .all,
        summaryInterval: Duration? = nil
    ) {
        self.sinks = sinks
        self.symbolicator = SymbolicatorBox()
        self.logger = logger
        if repeats == .backoff {
            symbolicator.sites = StallSites(summaryInterval: summaryInterval.map(\.clampedNanoseconds))
        }
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
        self.init(sinks: sinks, logger: logger, repeats: settings.repeats, summaryInterval: settings.summaryInterval)
    }

    /// JSON lines to `output`; to standard error, with a warning, when the file cannot be
    /// opened without waiting.
    private static func jsonSink(for output: OutputDestination, logger: Logger) -> any EventSink {
        switch output {
        case .standardError:
            return JSONLinesEventSink(output: LineOutput(descriptor: 2, name: "standard error", logger: logger))
        case .standardOutput:
            return JSONLinesEventSink(output: LineOutput(descriptor: 1, name: "standard output", logger: logger))
        case .file(let path):
            if let output = LineOutput(path: path, logger: logger) { return JSONLinesEventSink(output: output) }
            let error = errno
            let reason = error == ENXIO ? "a FIFO with no reader" : String(cString: strerror(error))
            logger.warning(
                "LOOP_WATCHDOG_OUTPUT=\(path.escapedForLogLine) cannot be opened (errno \(error): \(reason)); writing JSON lines to standard error"
            )
            return JSONLinesEventSink(output: LineOutput(descriptor: 2, name: "standard error", logger: logger))
        }
    }

    /// Builds the symbol and line indexes of the executable and of the image holding this
    /// library, on the reporter thread (tens of milliseconds for a large binary, a few
    /// megabytes), so that the first report finds them built. Queued once per reporter.
    func prepareSymbols() {
        guard !preparedSymbols.exchange(true, ordering: .relaxed) else { return }
        _ = queue.async { [symbolicator] in
            let entry = lwd_executable_entry()
            if entry != 0 { symbolicator.symbolicator.prepare(imageContaining: entry) }
            symbolicator.symbolicator.prepare(imageContaining: Self.addressInThisLibrary)
        }
    }

    /// An address in the image that holds this library's code.
    private static var addressInThisLibrary: UInt {
        unsafeBitCast(lwd_gettid as @convention(c) () -> pid_t, to: UInt.self)
    }

    /// Queues `pending` for symbolication and delivery; returns at once. Dropped (and
    /// counted) when ``capacity`` events are already waiting.
    func report(_ pending: PendingEvent) {
        let queued = queue.async { [self, sinks, symbolicator, logger] in
            let lost = self.dropped.exchange(0, ordering: .relaxed)
            if lost > 0 {
                logger?.warning(
                    "LoopWatchdog dropped \(lost) stall events: more were waiting than the output took (at most \(Reporter.capacity) wait)"
                )
            }
            var event = pending.event
            // A loop's stall (not a pool's, which may turn out to be no stall below) goes to
            // the sinks that want it at once, before symbolication.
            if event.kind != .ended && !pending.addresses.isEmpty && sinks.contains(where: \.wantsFramesEarly) {
                var early = event
                early.frames = Self.dynamicLinkerFrames(pending.addresses)
                for sink in sinks where sink.wantsFramesEarly { sink.emit(early) }
            }
            let symbolicate: ([UInt]) -> [StackFrame]
            if self.addressesOnly.load(ordering: .relaxed) {
                symbolicate = Self.addressFrames
            } else if !symbolicator.allowsFullSymbolication(now: lwd_monotonic_ns()) {
                if !symbolicator.saidLowMemory {
                    symbolicator.saidLowMemory = true
                    logger?.warning(
                        "LoopWatchdog has \((SymbolicationHeadroom.availableBytes() ?? 0) >> 20) MB of memory left under the process's limit (ulimit -v or the cgroup's memory.max); stacks are named by the dynamic linker only, without file:line, while it is under \(SymbolicationHeadroom.requiredBytes >> 20) MB"
                    )
                }
                symbolicate = Self.dynamicLinkerFrames
            } else {
                symbolicate = { symbolicator.symbolicator.symbolicate($0, firstIsProgramCounter: true) }
            }
            if !pending.addresses.isEmpty {
                event.frames = symbolicate(pending.addresses)
            }
            if !pending.threads.isEmpty {
                let stacks = pending.threads.map { thread in
                    ThreadStack(
                        threadID: thread.threadID, name: thread.name, capture: thread.capture,
                        frames: thread.addresses.isEmpty
                            ? [] : symbolicate(thread.addresses))
                }
                event.threads = stacks.filter { !IdleWorker.isParked($0) }
                if event.kind == .began && event.isPool && event.threads.isEmpty {
                    symbolicator.notStalls.insert(event.stallID)
                }
            }
            if symbolicator.notStalls.contains(event.stallID) {
                if event.kind == .ended { symbolicator.notStalls.remove(event.stallID) }
                return
            }
            if let samples = pending.samples { event.cause = StallCauseAnalysis.cause(of: samples) }
            let now = lwd_monotonic_ns()
            let verdict = symbolicator.sites?.decide(event, now: now) ?? .report
            let receivers = sinks.filter { verdict == .report || !$0.isLog }
            // Samples are symbolicated only for a sink that shows them (not for a repeat
            // that the log only counts).
            if let samples = pending.samples, receivers.contains(where: \.wantsSamples) {
                event.samples = samples.merged(symbolicate: symbolicate)
            }
            for sink in receivers {
                sink.emit(event)
            }
            // A counted repeat moves no due time: the lines wait for theirs.
            if verdict == .report || now >= self.repeatsDueAt.load(ordering: .relaxed) {
                self.sayRepeats(now: now, all: false)
            }
        }
        if !queued {
            dropped.add(1, ordering: .relaxed)
            droppedTotal.add(1, ordering: .relaxed)
        }
    }

    deinit {
        queue.shutdown()
    }

    /// Watchdog thread, at each tick: queues the lines about repeated stalls once they are
    /// due. One load while none is pending; the clock is read only when one is.
    func deliverRepeatsIfDue() {
        let due = repeatsDueAt.load(ordering: .relaxed)
        guard due != 0, lwd_monotonic_ns() >= due, !repeatsQueued.exchange(true, ordering: .relaxed) else { return }
        let queued = queue.async { [self] in
            repeatsQueued.store(false, ordering: .relaxed)
            sayRepeats(now: lwd_monotonic_ns(), all: false)
        }
        if !queued { repeatsQueued.store(false, ordering: .relaxed) }
    }

    /// Reporter queue: gives the log sinks the repeats lines (and summary) due at `now`, or
    /// every pending one when `all`, and publishes when the next may be due.
    private func sayRepeats(now: Int64, all: Bool) {
        guard symbolicator.sites != nil else { return }
        let (repeats, summary) = all
            ? symbolicator.sites!.everything(now: now) : symbolicator.sites!.due(now: now)
        for sink in sinks where sink.isLog {
            for line in repeats { sink.emit(line) }
            if let summary { sink.emit(summary) }
        }
        repeatsDueAt.store(symbolicator.sites!.nextDue.map { max($0, 1) } ?? 0, ordering: .relaxed)
    }

    /// For a host that stops: waits for every queued event for ``flushTimeout``, then
    /// delivers what is left with addresses only, for ``hurryTimeout`` more. Returns false
    /// when events were still undelivered then (an output that takes no writes).
    @discardableResult
    func flushForShutdown() -> Bool {
        // The counts of repeated stalls not said yet go out before the process ends.
        _ = queue.async { [self] in sayRepeats(now: lwd_monotonic_ns(), all: true) }
        if flush(timeout: Self.flushTimeout) { return true }
        addressesOnly.store(true, ordering: .relaxed)
        defer { addressesOnly.store(false, ordering: .relaxed) }
        return flush(timeout: Self.hurryTimeout)
    }

    /// Waits until every event queued so far was delivered, or `timeout` passed; returns
    /// false on the timeout (a destination that does not take writes).
    @discardableResult
    func flush(timeout: Duration? = nil) -> Bool {
        queue.flush(timeout: timeout)
    }
}
