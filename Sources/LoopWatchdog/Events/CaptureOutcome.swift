/// How the blocked thread's stack was obtained, or why no stack could be taken.
public struct CaptureOutcome: Sendable, Hashable, CustomStringConvertible {
    private enum Backing: Sendable, Hashable {
        case signal
        case syscall
        case none
        case unavailable(String)
    }
    private let backing: Backing
    private init(_ backing: Backing) { self.backing = backing }

    /// The thread was interrupted with SIGPROF and unwound in the signal handler.
    public static let signal = CaptureOutcome(.signal)
    /// The thread was parked in a system call and unwound without a signal.
    public static let syscall = CaptureOutcome(.syscall)
    /// No capture was attempted for this event (used by `ended` events).
    public static let none = CaptureOutcome(.none)
    /// No stack could be taken; `reason` says why (for example `sigprof-blocked`).
    public static func unavailable(_ reason: String) -> CaptureOutcome {
        CaptureOutcome(.unavailable(reason))
    }

    /// True when frames were captured.
    public var hasStack: Bool {
        switch backing {
        case .signal, .syscall: true
        case .none, .unavailable: false
        }
    }

    /// `signal`, `syscall`, `none`, or the reason no stack could be taken.
    public var description: String {
        switch backing {
        case .signal: "signal"
        case .syscall: "syscall"
        case .none: "none"
        case .unavailable(let reason): reason
        }
    }
}
