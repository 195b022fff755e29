import CLoopWatchdog

/// How a captured stack carries an async job's awaiting callers: among the thread's own
/// addresses, right after the frame of the async function they await (the one the job
/// runs), each tagged with `LWD_ASYNC_FRAME_TAG`; that function's own address is tagged
/// with `LWD_ASYNC_RUNNING_TAG`. No user-space address has either bit. The tags travel
/// with the addresses through samples and pending events; the reporter strips them and
/// marks the frames ``StackFrame/isAsync``.
enum AsyncFrameAddress {
    private static let callerTag = UInt(LWD_ASYNC_FRAME_TAG)
    private static let runningTag = UInt(LWD_ASYNC_RUNNING_TAG)

    /// True for a tagged awaiting caller's address.
    static func isAsync(_ address: UInt) -> Bool { address & callerTag != 0 }

    /// True for the address of the frame running the async function the callers await.
    static func isRunningAsync(_ address: UInt) -> Bool { address & runningTag != 0 }

    /// `address` without its tags.
    static func untagged(_ address: UInt) -> UInt { address & ~(callerTag | runningTag) }

    /// `address` tagged as an awaiting caller's.
    static func tagged(_ address: UInt) -> UInt { address | callerTag }

    /// The address whose instruction a captured address names: a program counter (frame 0)
    /// and an awaiting caller's resume address as they are, a return address one byte back
    /// (it points after its call, which may already be the next line or function).
    static func lookupAddress(_ address: UInt, index: Int) -> UInt {
        if isAsync(address) { return untagged(address) }
        return index == 0 ? untagged(address) : untagged(address) &- 1
    }
}
