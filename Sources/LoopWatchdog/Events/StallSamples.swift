/// The stacks taken while one stall lasted, merged: where the time went.
///
/// The first sample is the stack taken when the stall crossed its threshold; the watchdog
/// then takes one more every sample interval (``Configuration/sampleInterval``) until the
/// stall ends or ``Configuration/maxSamples`` were taken. Identical stacks are merged and
/// counted: "9 of 10 samples in syncWrite". Carried by `continuing` (the picture so far) and
/// `ended` events of a loop or a pool job; nil for a pool's starvation and for `began`.
public struct StallSamples: Sendable, Hashable {
    /// How many stacks were taken.
    public var count: Int
    /// The distinct stacks, the most sampled first (at most 16 are kept).
    public var stacks: [SampledStack]
    /// Samples whose stack was not kept: more distinct stacks than are kept, or no stack
    /// could be taken (``SampledStack`` of those is not listed).
    public var otherCount: Int
    /// From the start of the stall to the last sample.
    public var covered: Duration
    /// True when sampling stopped at the limit while the stall still went on.
    public var reachedLimit: Bool

    /// Creates a merged set of samples.
    public init(count: Int, stacks: [SampledStack], otherCount: Int, covered: Duration, reachedLimit: Bool) {
        self.count = count
        self.stacks = stacks
        self.otherCount = otherCount
        self.covered = covered
        self.reachedLimit = reachedLimit
    }
}

/// One distinct stack among a stall's samples, with how many samples found it.
public struct SampledStack: Sendable, Hashable {
    /// How many samples had exactly this stack.
    public var count: Int
    /// How the stack was taken (its first sample's way).
    public var capture: CaptureOutcome
    /// The symbolicated stack, innermost frame first.
    public var frames: [StackFrame]

    /// Creates a sampled stack.
    public init(count: Int, capture: CaptureOutcome, frames: [StackFrame]) {
        self.count = count
        self.capture = capture
        self.frames = frames
    }
}
