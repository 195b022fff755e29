/// One busy thread of a pool, with the stack captured when its stall was reported.
///
/// A loop runs on one thread, whose stack is the event's own ``StallEvent/frames``. A pool
/// (the Swift Concurrency pool) runs on several: its `began` and `continuing` events carry
/// one `ThreadStack` per busy worker in ``StallEvent/threads``.
public struct ThreadStack: Sendable, Hashable {
    /// The Linux thread id of the worker.
    public var threadID: Int32
    /// The worker's thread name, as /proc/self/task/TID/comm shows it.
    public var name: String
    /// How the stack was obtained, or why it could not be.
    public var capture: CaptureOutcome
    /// The symbolicated stack, innermost frame first.
    public var frames: [StackFrame]

    /// Creates a thread stack.
    public init(threadID: Int32, name: String, capture: CaptureOutcome, frames: [StackFrame] = []) {
        self.threadID = threadID
        self.name = name
        self.capture = capture
        self.frames = frames
    }
}
