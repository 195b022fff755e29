/// One step in the life of a stall: it began, it is still going on, or it ended.
///
/// Events are produced by the watchdog thread and delivered, in order, on the reporter
/// queue. `began` and `continuing` carry the blocked thread's symbolicated stack, captured
/// while the thread was still blocked; `ended` carries the final blocked duration.
///
/// A pool, an executor that runs on several threads (the Swift Concurrency pool), has no
/// one thread: its events are marked ``isPool``, have `threadID` 0 and `capture` `.none`,
/// and their `began` and `continuing` events list the stack of every busy worker in
/// `threads`.
public struct StallEvent: Sendable, Hashable {
    /// Which step of the stall's lifecycle this event reports.
    public var kind: Kind
    /// Identifies one stall; the `began`, `continuing` and `ended` events of a stall share it.
    public var stallID: UInt64
    /// The name the loop was registered with.
    public var loopName: String
    /// The Linux thread id of the blocked thread; 0 for a pool (``isPool``).
    public var threadID: Int32
    /// The threshold in force for this loop when the stall began.
    public var threshold: Duration
    /// How long the loop had been blocked when the event was produced; for `ended`, the
    /// whole blocked duration.
    public var blocked: Duration
    /// How the stack was obtained, or why it could not be.
    public var capture: CaptureOutcome
    /// The symbolicated stack, innermost frame first. Empty for `ended` and for a pool.
    public var frames: [StackFrame]
    /// For a pool: each busy worker thread with its stack, on `began` and `continuing`.
    /// Empty for a loop and for `ended`.
    public var threads: [ThreadStack]

    /// True for the events of a pool (an executor that runs on several threads), which
    /// report their busy workers in ``threads`` instead of one thread's ``frames``.
    public var isPool: Bool
    /// For a job that blocked one worker of the Swift Concurrency pool: its priority and how
    /// many workers of that priority were blocked. Nil for every other stall.
    public var job: PoolJob?
    /// For a loop's or a job's `continuing` and `ended` events: the stacks sampled while the
    /// stall lasted, merged (``StallSamples``). Nil for `began` and for a pool.
    public var samples: StallSamples?
    /// For a loop's or a job's `continuing` and `ended` events: why the thread was stuck,
    /// from the kernel's accounting over the stall (``StallCause``). Nil for `began`, for a
    /// pool, and where nothing could be read.
    public var cause: StallCause?

    /// Creates an event.
    public init(
        kind: Kind,
        stallID: UInt64,
        loopName: String,
        threadID: Int32,
        threshold: Duration,
        blocked: Duration,
        capture: CaptureOutcome,
        frames: [StackFrame] = [],
        threads: [ThreadStack] = [],
        isPool: Bool = false,
        job: PoolJob? = nil,
        samples: StallSamples? = nil,
        cause: StallCause? = nil
    ) {
        self.kind = kind
        self.stallID = stallID
        self.loopName = loopName
        self.threadID = threadID
        self.threshold = threshold
        self.blocked = blocked
        self.capture = capture
        self.frames = frames
        self.threads = threads
        self.isPool = isPool
        self.job = job
        self.samples = samples
        self.cause = cause
    }
}

extension StallEvent {
    /// The lifecycle step of a stall. Extensible: switch with a `default` case.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: Sendable, Hashable {
            case began, continuing, ended
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The loop crossed its threshold; the stack was captured while it was blocked.
        public static let began = Kind(.began)
        /// The loop is still blocked; a fresh stack, reported on a backoff.
        public static let continuing = Kind(.continuing)
        /// The loop made progress again; `blocked` is the whole duration.
        public static let ended = Kind(.ended)

        /// The event name used in JSON output: `stall.began`, `stall.continuing`, `stall.ended`.
        public var description: String {
            switch backing {
            case .began: "stall.began"
            case .continuing: "stall.continuing"
            case .ended: "stall.ended"
            }
        }
    }
}
