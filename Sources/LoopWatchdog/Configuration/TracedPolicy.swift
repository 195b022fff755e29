/// What to do with stalls while a debugger or tracer is attached to the process (a process
/// stopped at a breakpoint looks like a blocked loop). Extensible: switch with a `default` case.
public struct TracedPolicy: Sendable, Hashable, CustomStringConvertible {
    private enum Backing: Sendable, Hashable {
        case suppress, report
    }
    private let backing: Backing
    private init(_ backing: Backing) { self.backing = backing }

    /// Report no stalls while the process is traced.
    public static let suppress = TracedPolicy(.suppress)
    /// Report stalls even while the process is traced.
    public static let report = TracedPolicy(.report)

    /// `suppress` or `report`, the spelling used by `LOOP_WATCHDOG_WHEN_TRACED`.
    public var description: String {
        switch backing {
        case .suppress: "suppress"
        case .report: "report"
        }
    }
}
