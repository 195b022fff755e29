/// How the log (text or JSON lines) reports stalls of a site it has reported before: a site
/// is the place in the application's code where a stall blocked (its three innermost frames outside
/// libc, the Swift runtime, Dispatch and Foundation).
/// Metrics, the hang file and `onEvent` always get every stall. Extensible: switch with a
/// `default` case.
public struct RepeatPolicy: Sendable, Hashable, CustomStringConvertible {
    private enum Backing: Sendable, Hashable {
        case backoff, all
    }
    private let backing: Backing
    private init(_ backing: Backing) { self.backing = backing }

    /// The first stall of a site is logged in full; later ones are counted and logged as one
    /// line per site with their number and blocked time, after 2 s, then 4 s, 8 s, ... at
    /// most every 60 s while they go on. A stall that goes on for long enough to be
    /// `continuing` is logged in full whatever its site.
    public static let backoff = RepeatPolicy(.backoff)
    /// Every stall is logged in full.
    public static let all = RepeatPolicy(.all)

    /// `backoff` or `all`, the spelling used by `LOOP_WATCHDOG_REPEATS`.
    public var description: String {
        switch backing {
        case .backoff: "backoff"
        case .all: "all"
        }
    }
}
