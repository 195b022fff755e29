/// What a stall event knows of a job that blocked a worker of the Swift Concurrency pool
/// (``Watchdog/watchConcurrencyPool(priorities:jobs:)`` with `jobs: true`): the job's
/// priority and how many workers of that priority were blocked when the event was made.
public struct PoolJob: Sendable, Hashable {
    /// The job's priority, as a `TaskPriority` raw value (25 high, 21 medium, 17 low, 9
    /// background).
    public var priority: UInt8
    /// Workers of this priority blocked in one job past the threshold when the event was
    /// made, this one included.
    public var blockedWorkers: Int
    /// How many workers the pool runs at once for one priority (the number of CPUs on Linux).
    public var workers: Int

    /// Creates the job details of an event.
    public init(priority: UInt8, blockedWorkers: Int, workers: Int) {
        self.priority = priority
        self.blockedWorkers = blockedWorkers
        self.workers = workers
    }

    /// `high`, `medium`, `low`, `background`, or `priority-N` for another raw value.
    public var priorityName: String {
        ConcurrencyPoolProber.label(for: TaskPriority(rawValue: priority))
    }
}
