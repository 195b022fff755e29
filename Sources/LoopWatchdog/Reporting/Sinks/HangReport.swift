import Glibc

/// The content of the hang file: every stall in progress with its latest stack, or, when
/// none is, the last stall that ended with the last stack seen for it.
///
/// Pure state and text: fed with events in order, it renders the whole file each time.
/// Touched only on the reporter queue.
struct HangReport {
    /// The latest `began` or `continuing` event of each stall in progress, by stall id.
    private(set) var inProgress: [UInt64: StallEvent] = [:]
    /// The last stall that ended, and its last `began` or `continuing` event.
    private(set) var lastEnded: (ended: StallEvent, lastStack: StallEvent?)?
    private let formatter = TextEventFormatter()

    /// Takes one event into account.
    mutating func record(_ event: StallEvent) {
        if event.kind == .ended {
            lastEnded = (event, inProgress.removeValue(forKey: event.stallID))
        } else {
            inProgress[event.stallID] = event
        }
    }

    /// The file's text, for process `pid`, written at `wallClockSeconds` (UTC).
    func text(pid: Int32, wallClockSeconds: Int) -> String {
        var lines = ["LoopWatchdog hang file of pid \(pid), written \(Self.utcText(wallClockSeconds))."]
        let stalls = inProgress.values.sorted { $0.stallID < $1.stallID }
        if !stalls.isEmpty {
            lines.append(stalls.count == 1 ? "1 stall in progress:" : "\(stalls.count) stalls in progress:")
            for event in stalls {
                lines.append("")
                lines.append("stall \(event.stallID), \(event.kind):")
                lines.append(formatter.message(for: event))
            }
        } else if let (ended, lastStack) = lastEnded {
            lines.append("No stall in progress. The last one ended:")
            lines.append("")
            lines.append("stall \(ended.stallID), \(ended.kind):")
            lines.append(formatter.message(for: ended))
            if let lastStack {
                lines.append("")
                lines.append("its last stack, from \(lastStack.kind) after \(lastStack.blocked.humanReadable):")
                lines.append(formatter.message(for: lastStack))
            }
        } else {
            lines.append("No stall so far.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `2026-01-31T23:59:59Z`.
    static func utcText(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "\(seconds)" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
