/// Whether a loop is watched by probes, and if so when the next one is due.
enum ProbeState: Sendable, Hashable {
    /// Watched by beats and idle marks.
    case notProbed
    /// Probed, with no probe outstanding (a pool between two probes): never late.
    case answered
    /// Probed; the next probe should run by this monotonic time (ns).
    case due(at: Int64)

    /// The due time, when a probe is due.
    var dueAt: Int64? {
        if case .due(let at) = self { return at }
        return nil
    }

    /// The single word ``LoopRecord`` stores: 0, `Int64.max`, or the due time.
    var stored: Int64 {
        switch self {
        case .notProbed: 0
        case .answered: .max
        case .due(let at): max(min(at, .max - 1), 1)
        }
    }

    init(stored: Int64) {
        switch stored {
        case 0: self = .notProbed
        case .max: self = .answered
        default: self = .due(at: stored)
        }
    }
}
