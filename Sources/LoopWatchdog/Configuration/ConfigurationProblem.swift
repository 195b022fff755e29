/// A configuration value that could not be used as given, and what is used instead.
/// Resolving a configuration never fails; it reports these and carries on.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable (`LOOP_WATCHDOG_THRESHOLD`) or, for a value set in code,
    /// the property (`Configuration.threshold`).
    public let variable: String
    /// The value as given, unescaped and untruncated.
    public let value: String
    /// What is used instead, as a phrase: `using the default 100 ms`, `using 1 ms`, `ignored`.
    public let fallback: String
    /// Why the value was not used, as a phrase: `is below the minimum 1 ms`.
    public let reason: String

    init(variable: String, value: String, reason: String, fallback: String) {
        self.variable = variable
        self.value = value
        self.reason = reason
        self.fallback = fallback
    }

    /// One line, safe to log whatever the value holds:
    /// `LOOP_WATCHDOG_THRESHOLD="0.1us" is below the minimum 1 ms; using 1 ms`.
    /// The variable and value are escaped like Swift string literals and cut to 64
    /// characters (marked with `…` after the closing quote).
    public var description: String {
        let name = escaped(variable, limit: 64)
        let shown = escaped(value, limit: 64)
        return "\(name.text)\(name.truncated ? "…" : "")=\"\(shown.text)\"\(shown.truncated ? "…" : "") "
            + "\(reason); \(fallback)"
    }
}
