/// How stall events are written. Extensible: switch with a `default` case.
public struct OutputFormat: Sendable, Hashable, CustomStringConvertible {
    private enum Backing: Sendable, Hashable {
        case text, json
    }
    private let backing: Backing
    private init(_ backing: Backing) { self.backing = backing }

    /// Human-readable log lines through swift-log.
    public static let text = OutputFormat(.text)
    /// One JSON object per line.
    public static let json = OutputFormat(.json)

    /// `text` or `json`, the spelling used by `LOOP_WATCHDOG_FORMAT`.
    public var description: String {
        switch backing {
        case .text: "text"
        case .json: "json"
        }
    }
}
