import CLoopWatchdog

/// How a captured stack carries an async job's awaiting callers: among the thread's own
/// addresses, right after the frame of the function they await, each tagged with
/// `LWD_ASYNC_FRAME_TAG` (a bit no user-space address has). The tag travels with the
/// address through samples and pending events; the reporter strips it and marks the frame
/// ``StackFrame/isAsync``.
enum AsyncFrameAddress {
    private static let tag = UInt(LWD_ASYNC_FRAME_TAG)

    /// True for a tagged awaiting caller's address.
    static func isAsync(_ address: UInt) -> Bool { address & tag != 0 }

    /// `address` without the tag.
    static func untagged(_ address: UInt) -> UInt { address & ~tag }

    /// `address` tagged as an awaiting caller's.
    static func tagged(_ address: UInt) -> UInt { address | tag }

    /// The address whose instruction a captured address names: a program counter (frame 0)
    /// and an awaiting caller's resume address as they are, a return address one byte back
    /// (it points after its call, which may already be the next line or function).
    static func lookupAddress(_ address: UInt, index: Int) -> UInt {
        if isAsync(address) { return untagged(address) }
        return index == 0 ? address : address &- 1
    }
}
