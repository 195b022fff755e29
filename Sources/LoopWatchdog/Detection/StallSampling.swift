import CLoopWatchdog

/// What the blocked thread was doing at one sample, as /proc said just before its stack
/// was taken.
enum SampleState: Sendable, Hashable {
    /// On a CPU or runnable.
    case running
    /// Parked in system call `number`; `descriptor` is the kind of its first argument's
    /// file (LWD_FD_*) for a call that takes a descriptor there.
    case parked(number: Int64, descriptor: Int32?)
    /// Not known (the state could not be read).
    case unknown

    /// The state in `raw`, with the descriptor's kind looked up for calls on a descriptor.
    init(_ raw: lwd_syscall_state) {
        switch raw.running {
        case 1: self = .running
        case 0:
            let argument = raw.arguments.0
            var descriptor: Int32?
            if SystemCalls.takesDescriptor(raw.number), argument <= UInt64(Int32.max) {
                let kind = lwd_describe_fd(Int32(argument))
                descriptor = kind >= 0 ? kind : nil
            }
            self = .parked(number: raw.number, descriptor: descriptor)
        default: self = .unknown
        }
    }
}

/// One sample of a stall: when, which of the stall's distinct stacks (-1: none), what the
/// thread was doing, and the accounting read with it.
struct StallSampleRecord: Sendable, Hashable {
    var at: Int64
    var stack: Int
    var state: SampleState
    var thread: ThreadAccounting?
    var process: ProcessAccounting
}

/// The samples of one stall in progress, kept by the watchdog thread. Room for the records
/// and the distinct stacks is reserved when the stall begins; a sample whose stack was seen
/// before only counts it (no allocation), a new stack is copied once.
struct StallSampling: Sendable {
    /// One distinct stack and how many samples had it.
    struct Stack: Sendable, Hashable {
        var hash: Int
        var addresses: [UInt]
        var count: Int
        var outcome: CaptureOutcome
    }

    /// Most distinct stacks kept per stall; further ones are only counted.
    static let maximumStacks = 16
    /// How far apart two innermost addresses under the same callers may be to count as one
    /// function.
    static let leafSpan: UInt = 4_096

    private static func isNear(_ a: UInt, _ b: UInt) -> Bool {
        (a > b ? a - b : b - a) < leafSpan
    }

    let startedAt: Int64
    let interval: Int64
    let limit: Int
    private(set) var nextAt: Int64
    private(set) var stacks: [Stack] = []
    private(set) var records: [StallSampleRecord] = []
    /// Samples with no stack kept.
    private(set) var otherCount = 0

    /// Sampling for a stall that began at `startedAt`: a sample every `interval` ns, at most
    /// `limit` (the first included).
    init(startedAt: Int64, interval: Int64, limit: Int, now: Int64) {
        self.startedAt = startedAt
        self.interval = max(interval, 1)
        self.limit = max(limit, 1)
        self.nextAt = now + self.interval
        stacks.reserveCapacity(Self.maximumStacks)
        records.reserveCapacity(min(self.limit, 1_024))
    }

    /// True once `limit` samples were taken.
    var isFull: Bool { records.count >= limit }

    /// Whether a sample is due at `now`.
    func isDue(now: Int64) -> Bool { !isFull && now >= nextAt }

    /// Adds the sample taken at `at`.
    mutating func add(
        outcome: CaptureOutcome, addresses: UnsafeBufferPointer<UInt>, state: SampleState,
        thread: ThreadAccounting?, process: ProcessAccounting, at: Int64
    ) {
        guard !isFull else { return }
        var index = -1
        if let leaf = addresses.first {
            // Keyed by the callers: a sample taken at another instruction of the same
            // innermost function (its address within `leafSpan` of the kept one, under the
            // same return addresses) counts for the stack kept, so that a loop's samples do
            // not spread over as many stacks as it has instructions.
            var hasher = Hasher()
            for address in addresses.dropFirst() { hasher.combine(address) }
            let hash = hasher.finalize()
            if let found = stacks.firstIndex(where: {
                $0.hash == hash && $0.addresses.count == addresses.count
                    && Self.isNear($0.addresses[0], leaf) && $0.addresses.dropFirst().elementsEqual(addresses.dropFirst())
            }) {
                stacks[found].count += 1
                index = found
            } else if stacks.count < Self.maximumStacks {
                stacks.append(Stack(hash: hash, addresses: Array(addresses), count: 1, outcome: outcome))
                index = stacks.count - 1
            }
        }
        if index < 0 { otherCount += 1 }
        records.append(StallSampleRecord(at: at, stack: index, state: state, thread: thread, process: process))
        nextAt = max(nextAt + interval, at + interval / 2)
    }

    /// The samples so far, with the accounting read at `now` (the stall's end, or the time
    /// of a `continuing` report) to close the last span.
    func pending(endedAt: Int64, end: ThreadAccounting?, endProcess: ProcessAccounting) -> PendingSamples {
        PendingSamples(
            startedAt: startedAt, endedAt: endedAt, stacks: stacks, otherCount: otherCount, records: records,
            end: end, endProcess: endProcess, reachedLimit: isFull)
    }
}

/// A stall's samples on their way to the reporter, still raw addresses.
struct PendingSamples: Sendable {
    var startedAt: Int64
    /// When the stall ended (or the report was made, for `continuing`).
    var endedAt: Int64
    var stacks: [StallSampling.Stack]
    var otherCount: Int
    var records: [StallSampleRecord]
    /// The accounting read when the stall was seen to end (or at the report).
    var end: ThreadAccounting?
    var endProcess: ProcessAccounting
    var reachedLimit: Bool
}
