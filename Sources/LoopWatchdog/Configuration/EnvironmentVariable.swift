/// The environment variables the watchdog reads.
enum EnvironmentVariable: String, CaseIterable, Sendable {
    case enabled = "LOOP_WATCHDOG"
    case threshold = "LOOP_WATCHDOG_THRESHOLD"
    case interval = "LOOP_WATCHDOG_INTERVAL"
    case format = "LOOP_WATCHDOG_FORMAT"
    case output = "LOOP_WATCHDOG_OUTPUT"
    case endedLogLevel = "LOOP_WATCHDOG_ENDED_LEVEL"
    case maxFrames = "LOOP_WATCHDOG_MAX_FRAMES"
    case hangFile = "LOOP_WATCHDOG_HANG_FILE"
    case whenTraced = "LOOP_WATCHDOG_WHEN_TRACED"
    case repeats = "LOOP_WATCHDOG_REPEATS"
    case summaryInterval = "LOOP_WATCHDOG_SUMMARY_INTERVAL"
    case sampleInterval = "LOOP_WATCHDOG_SAMPLE_INTERVAL"
    case maxSamples = "LOOP_WATCHDOG_MAX_SAMPLES"

    /// The prefix of every variable the watchdog reads.
    static let prefix = "LOOP_WATCHDOG"
    /// Variables with this prefix that are not known are reported as probable typos.
    static let reservedPrefix = "LOOP_WATCHDOG_"

    /// One problem per variable in `environment` that starts with `LOOP_WATCHDOG_` but is
    /// not known, sorted by name, suggesting the nearest known name when it is close.
    static func unknownVariableProblems(in environment: [String: String]) -> [ConfigurationProblem] {
        environment
            .filter { $0.key.hasPrefix(reservedPrefix) && EnvironmentVariable(rawValue: $0.key) == nil }
            .sorted { $0.key < $1.key }
            .map { key, value in
                let hint = nearest(to: key).map { " (did you mean \($0.rawValue)?)" } ?? ""
                return ConfigurationProblem(
                    variable: key, value: value, reason: "is not a known variable\(hint)",
                    fallback: "ignored")
            }
    }

    /// The known variable within a small edit distance of `name`, ignoring case.
    static func nearest(to name: String) -> EnvironmentVariable? {
        let maximumDistance = 3
        let typed = Array(name.uppercased().unicodeScalars)
        var best: (variable: EnvironmentVariable, distance: Int)?
        for variable in allCases {
            let known = Array(variable.rawValue.unicodeScalars)
            guard abs(known.count - typed.count) <= maximumDistance else { continue }
            let distance = editDistance(typed, known)
            if distance <= maximumDistance, distance < best?.distance ?? .max {
                best = (variable, distance)
            }
        }
        return best?.variable
    }
}

/// The Levenshtein distance: insertions, deletions and substitutions.
func editDistance<Element: Equatable>(_ a: [Element], _ b: [Element]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
