/// Why a thread was stuck, in words a user can act on: what the kernel counted for the
/// blocked thread over the stall (time on a CPU, waiting for one, off CPU; the system call
/// it was parked in at each sample; bytes read and written), its cgroup's CPU throttling
/// and the machine's CPU pressure, turned into a ``Verdict`` with a remedy.
///
/// The stall is cut into the spans between its samples; each span gets the verdict its
/// accounting and its sample show, and the verdicts are added up by time into ``phases``:
/// a stall that computed for 1 s then slept for 1 s has two phases of about half each.
public struct StallCause: Sendable, Hashable {
    /// The verdict that took the most time.
    public var verdict: Verdict
    /// For a verdict about a system call: the one the thread was parked in (`nanosleep`,
    /// `futex`, `read`...); nil otherwise.
    public var systemCall: String?
    /// Every verdict that took at least a twentieth of the time, the largest first.
    public var phases: [Phase]
    /// How the thread spent the time the accounting covers (from the first sample to the
    /// last reading); nil where the kernel keeps no schedstats.
    public var onCPU: Duration?
    /// Runnable but waiting for a CPU.
    public var waitingForCPU: Duration?
    /// Neither running nor runnable: sleeping or waiting in the kernel.
    public var offCPU: Duration?
    /// The time the accounting covers.
    public var measured: Duration
    /// How long the process's cgroup was throttled by its CPU quota in that time; nil
    /// without a readable cgroup cpu.stat.
    public var throttled: Duration?
    /// The share of that time (0...1) during which some task of the machine waited for a
    /// CPU (/proc/pressure/cpu); nil without PSI.
    public var cpuPressure: Double?
    /// Bytes the thread read through system calls in that time.
    public var readBytes: Int64?
    /// Bytes the thread wrote through system calls in that time.
    public var writtenBytes: Int64?

    /// What to do about it: one line fitted to Swift servers.
    public var remedy: String { verdict.remedy(systemCall: systemCall) }

    /// Creates a cause.
    public init(
        verdict: Verdict, systemCall: String? = nil, phases: [Phase], onCPU: Duration? = nil,
        waitingForCPU: Duration? = nil, offCPU: Duration? = nil, measured: Duration, throttled: Duration? = nil,
        cpuPressure: Double? = nil, readBytes: Int64? = nil, writtenBytes: Int64? = nil
    ) {
        self.verdict = verdict
        self.systemCall = systemCall
        self.phases = phases
        self.onCPU = onCPU
        self.waitingForCPU = waitingForCPU
        self.offCPU = offCPU
        self.measured = measured
        self.throttled = throttled
        self.cpuPressure = cpuPressure
        self.readBytes = readBytes
        self.writtenBytes = writtenBytes
    }

    /// One verdict and the share of the stall's time it took.
    public struct Phase: Sendable, Hashable {
        /// What the thread did in this part of the stall.
        public var verdict: Verdict
        /// The system call, for a verdict about one.
        public var systemCall: String?
        /// Its share of the stall's time, 0...1.
        public var share: Double

        /// Creates a phase.
        public init(verdict: Verdict, systemCall: String? = nil, share: Double) {
            self.verdict = verdict
            self.systemCall = systemCall
            self.share = share
        }
    }
}

extension StallCause {
    /// What a blocked thread was doing. Extensible: switch with a `default` case.
    public struct Verdict: Sendable, Hashable, CustomStringConvertible {
        /// The name used in JSON: `computing`, `sleeping`, `waiting_for_lock`, `file_io`,
        /// `network_io`, `starved_of_cpu`, `throttled`, `system_call`.
        public let name: String
        private init(_ name: String) { self.name = name }

        /// On a CPU most of the time: the code itself is slow.
        public static let computing = Verdict("computing")
        /// Parked in a sleep (nanosleep, clock_nanosleep, pause).
        public static let sleeping = Verdict("sleeping")
        /// Parked in a futex or semaphore wait: a lock or condition another thread holds.
        public static let waitingForLock = Verdict("waiting_for_lock")
        /// Reading, writing or syncing files (parked on a regular file, or moving many bytes).
        public static let fileIO = Verdict("file_io")
        /// Waiting on a socket, or in poll, select or epoll.
        public static let networkIO = Verdict("network_io")
        /// Runnable but given no CPU: other threads or processes had it (congestion, not
        /// this code).
        public static let starvedOfCPU = Verdict("starved_of_cpu")
        /// Runnable but held back by the cgroup's CPU quota.
        public static let throttled = Verdict("throttled")
        /// Parked in another system call (on a pipe, a terminal, waiting for a child...).
        public static let systemCall = Verdict("system_call")

        /// The words used in text: `computing`, `sleeping`, `waiting for a lock`,
        /// `file I/O`, `network I/O`, `starved of CPU`, `throttled`, `in a system call`.
        public var description: String {
            switch name {
            case "waiting_for_lock": "waiting for a lock"
            case "file_io": "file I/O"
            case "network_io": "network I/O"
            case "starved_of_cpu": "starved of CPU"
            case "throttled": "throttled by the CPU quota"
            case "system_call": "in a system call"
            default: name
            }
        }

        /// The remedy for this verdict, naming `systemCall` where it helps.
        public func remedy(systemCall: String?) -> String {
            let call = systemCall.map { " (\($0))" } ?? ""
            switch name {
            case "computing":
                return "the code kept the CPU busy: make it cheaper, split it into parts with `await Task.yield()` between them, or run it on another thread (NIOThreadPool.runIfActive, a DispatchQueue)"
            case "sleeping":
                return "a blocking sleep\(call) on a loop or pool thread: use `try await Task.sleep(for:)` or `eventLoop.scheduleTask(in:)` instead of sleep, usleep or Thread.sleep"
            case "waiting_for_lock":
                return "waited for a lock or condition another thread held\(call): shorten the critical section, never hold a lock across slow work, or use an actor or an async-aware lock instead of blocking"
            case "file_io":
                return "blocking file I/O\(call): use _NIOFileSystem (FileSystem.shared) or NonBlockingFileIO, or run it on NIOThreadPool"
            case "network_io":
                return "a blocking network call\(call): use an async client (AsyncHTTPClient, a NIO channel) instead of a synchronous socket or client library"
            case "starved_of_cpu":
                return "the thread was ready to run but got no CPU: the machine or container is overloaded (other threads or processes), not this code; lower the load, add CPUs, or run fewer busy threads"
            case "throttled":
                return "the cgroup's CPU quota ran out (cpu.max or cpu.cfs_quota_us): raise the container's CPU limit or lower the load; the code itself may be fine"
            case "system_call":
                return "waited in a blocking system call\(call): do not block inside an async function or on an event loop; run it on another thread (NIOThreadPool)"
            default:
                return "optimise it, split it, or run it on another thread"
            }
        }
    }
}
