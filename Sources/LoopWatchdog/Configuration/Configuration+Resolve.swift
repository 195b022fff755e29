import Logging

extension Configuration {
    /// Resolves code > environment > default. Never fails: every bad or out-of-range value
    /// becomes a `ConfigurationProblem` and the default (or clamped value) is used.
    ///
    /// A variable is not read when the property is set in code. The interval's default and
    /// upper bound follow the *resolved* threshold. Problems come in property order, then
    /// one per unknown `LOOP_WATCHDOG_*` variable.
    func resolve(environment: [String: String]) -> (settings: Settings, problems: [ConfigurationProblem]) {
        var resolver = Resolver(environment: environment)
        let defaults = Settings.default

        let enabled =
            enabled
            ?? resolver.read(
                .enabled, invalid: "is not a boolean (expected \(TextValueParsing.booleanNames))",
                default: defaults.enabled ? "on" : "off", TextValueParsing.boolean)?.value
            ?? defaults.enabled

        let threshold = resolver.duration(
            code: self.threshold, .threshold, name: "threshold",
            default: defaults.threshold, range: ThresholdRule.thresholdRange, upperBound: "the maximum"
        ) ?? defaults.threshold

        // Explicit only when code set it or the variable held a valid value: a rejected or
        // empty value leaves the interval at a tenth of the threshold, at run time too.
        let explicitInterval = resolver.duration(
            code: self.interval, .interval, name: "interval",
            default: ThresholdRule.defaultInterval(threshold: threshold),
            range: ThresholdRule.intervalRange(threshold: threshold),
            upperBound: "the threshold")

        let format =
            format
            ?? resolver.read(
                .format, invalid: "is not an output format (expected text or json)",
                default: defaults.format.description, TextValueParsing.format)?.value
            ?? defaults.format

        let output = resolver.destination(code: self.output)

        let endedLogLevel =
            endedLogLevel
            ?? resolver.read(
                .endedLogLevel, invalid: "is not a log level (expected \(TextValueParsing.levelNames))",
                default: defaults.endedLogLevel.rawValue, TextValueParsing.logLevel)?.value
            ?? defaults.endedLogLevel

        let maxFrames = resolver.count(
            code: self.maxFrames, .maxFrames, name: "maxFrames", default: defaults.maxFrames,
            range: Settings.maxFramesRange)
        let hangFile = resolver.hangFile(code: self.hangFile)

        let whenTraced =
            whenTraced
            ?? resolver.read(
                .whenTraced, invalid: "is not a traced-process policy (expected suppress or report)",
                default: defaults.whenTraced.description, TextValueParsing.tracedPolicy)?.value
            ?? defaults.whenTraced

        let repeats =
            repeats
            ?? resolver.read(
                .repeats, invalid: "is not a repeat policy (expected backoff or all)",
                default: defaults.repeats.description, TextValueParsing.repeatPolicy)?.value
            ?? defaults.repeats

        let summaryInterval = resolver.summaryInterval(code: self.summaryInterval)
        let sampleInterval = resolver.sampleInterval(code: self.sampleInterval)
        let maxSamples = resolver.count(
            code: self.maxSamples, .maxSamples, name: "maxSamples", default: defaults.maxSamples,
            range: Settings.maxSamplesRange)

        resolver.problems += EnvironmentVariable.unknownVariableProblems(in: environment)
        let settings = Settings(
            enabled: enabled, threshold: threshold, explicitInterval: explicitInterval, format: format, output: output,
            endedLogLevel: endedLogLevel, maxFrames: maxFrames, hangFile: hangFile, whenTraced: whenTraced,
            repeats: repeats, summaryInterval: summaryInterval, sampleInterval: sampleInterval,
            maxSamples: maxSamples)
        return (settings, resolver.problems)
    }
}

/// Why an environment value was rejected; `reason` completes "VARIABLE=value ...".
private struct InvalidValue: Error {
    let reason: String
}

/// Reads environment values and collects the problems found on the way.
private struct Resolver {
    let environment: [String: String]
    var problems: [ConfigurationProblem] = []

    /// Where a value came from: a property set in code or an environment variable.
    enum Source {
        case code(property: String, shown: String)
        case environment(EnvironmentVariable, raw: String)

        var variable: String {
            switch self {
            case .code(let property, _): "Configuration.\(property)"
            case .environment(let variable, _): variable.rawValue
            }
        }
        var value: String {
            switch self {
            case .code(_, let shown): shown
            case .environment(_, let raw): raw
            }
        }
    }

    mutating func report(_ source: Source, _ reason: String, _ fallback: String) {
        problems.append(ConfigurationProblem(
            variable: source.variable, value: source.value, reason: reason, fallback: fallback))
    }

    /// The parsed value of `variable`, with its raw text; `nil` when it is unset, or empty
    /// or invalid (reported, naming `defaultText` as what is used instead).
    mutating func read<Value>(
        _ variable: EnvironmentVariable, default defaultText: String,
        _ parse: (String) -> Result<Value, InvalidValue>
    ) -> (raw: String, value: Value)? {
        guard let raw = environment[variable.rawValue] else { return nil }
        let fallback = "using the default \(defaultText)"
        if raw.trimmingWhitespace().isEmpty {
            report(.environment(variable, raw: raw), "is empty", fallback)
            return nil
        }
        switch parse(raw) {
        case .success(let value):
            return (raw, value)
        case .failure(let error):
            report(.environment(variable, raw: raw), error.reason, fallback)
            return nil
        }
    }

    /// `read` for parsers that return `nil` for text they reject, with `invalid` as reason.
    mutating func read<Value>(
        _ variable: EnvironmentVariable, invalid reason: String, default defaultText: String,
        _ parse: (String) -> Value?
    ) -> (raw: String, value: Value)? {
        read(variable, default: defaultText) { text in
            parse(text).map { .success($0) } ?? .failure(InvalidValue(reason: reason))
        }
    }

    /// `value` limited to `range`, reporting a clamp.
    mutating func clamp<Value: Comparable>(
        _ value: Value, to range: ClosedRange<Value>, from source: Source,
        upperBound: String = "the maximum", text: (Value) -> String
    ) -> Value {
        if value < range.lowerBound {
            let bound = text(range.lowerBound)
            report(source, "is below the minimum \(bound)", "using \(bound)")
            return range.lowerBound
        }
        if value > range.upperBound {
            let bound = text(range.upperBound)
            report(source, "is above \(upperBound) \(bound)", "using \(bound)")
            return range.upperBound
        }
        return value
    }

    /// A duration from code, else the environment, within `range`; nil when neither gave
    /// one (unset, empty or invalid: `defaultValue` is named as what is used instead).
    mutating func duration(
        code: Duration?, _ variable: EnvironmentVariable, name: String,
        default defaultValue: Duration, range: ClosedRange<Duration>, upperBound: String
    ) -> Duration? {
        if let code {
            return clamp(
                code, to: range, from: .code(property: name, shown: code.configurationText),
                upperBound: upperBound, text: { $0.configurationText })
        }
        let parsed = read(variable, default: defaultValue.configurationText) { text in
            DurationParser.parse(text).mapError { InvalidValue(reason: $0.reason) }
        }
        guard let (raw, value) = parsed else { return nil }
        return clamp(
            value, to: range, from: .environment(variable, raw: raw),
            upperBound: upperBound, text: { $0.configurationText })
    }

    /// What a duration that can be switched off was set to.
    enum DurationOrOff {
        case unset
        case off
        case value(Duration)
    }

    /// A duration from code (`.zero`: off), else the environment (`off`, or a duration),
    /// within `range`; `.unset` when neither gave one (unset, empty or invalid:
    /// `defaultText` is named as what is used instead).
    mutating func durationOrOff(
        code: Duration?, _ variable: EnvironmentVariable, name: String, defaultText: String,
        range: ClosedRange<Duration>
    ) -> DurationOrOff {
        if let code {
            guard code != .zero else { return .off }
            return .value(clamp(
                code, to: range, from: .code(property: name, shown: code.configurationText),
                text: { $0.configurationText }))
        }
        guard let raw = environment[variable.rawValue] else { return .unset }
        if TextValueParsing.isOff(raw) { return .off }
        let parsed = read(variable, default: defaultText) { text in
            DurationParser.parse(text).mapError { InvalidValue(reason: $0.reason) }
        }
        guard let (raw, value) = parsed else { return .unset }
        return .value(clamp(value, to: range, from: .environment(variable, raw: raw), text: { $0.configurationText }))
    }

    /// The summary interval from code, else the environment, else the default; nil when off.
    mutating func summaryInterval(code: Duration?) -> Duration? {
        let defaultValue = Settings.default.summaryInterval
        switch durationOrOff(
            code: code, .summaryInterval, name: "summaryInterval",
            defaultText: defaultValue?.configurationText ?? "off", range: Settings.summaryIntervalRange)
        {
        case .unset: return defaultValue
        case .off: return nil
        case .value(let value): return value
        }
    }

    /// The sample interval from code, else the environment, else half the threshold.
    mutating func sampleInterval(code: Duration?) -> SampleInterval {
        switch durationOrOff(
            code: code, .sampleInterval, name: "sampleInterval", defaultText: "half the threshold",
            range: Settings.sampleIntervalRange)
        {
        case .unset: return .halfThreshold
        case .off: return .off
        case .value(let value): return .every(value)
        }
    }

    /// A whole number from code, else the environment, else `defaultValue`, within `range`.
    mutating func count(
        code: Int?, _ variable: EnvironmentVariable, name: String, default defaultValue: Int, range: ClosedRange<Int>
    ) -> Int {
        if let code {
            return clamp(code, to: range, from: .code(property: name, shown: "\(code)"), text: { "\($0)" })
        }
        guard
            let (raw, value) = read(
                variable, invalid: "is not a whole number", default: "\(defaultValue)", TextValueParsing.integer)
        else { return defaultValue }
        return clamp(value, to: range, from: .environment(variable, raw: raw), text: { "\($0)" })
    }

    /// The output destination from code, else the environment, else standard error.
    mutating func destination(code: String?) -> OutputDestination {
        let defaultValue = Settings.default.output
        let fallback = "using \(defaultValue)"
        let source: Source
        if let code {
            source = .code(property: "output", shown: code)
        } else if let raw = environment[EnvironmentVariable.output.rawValue] {
            source = .environment(.output, raw: raw)
        } else {
            return defaultValue
        }
        guard checkPath(source, fallback: fallback) else { return defaultValue }
        return TextValueParsing.destination(source.value)
    }

    /// The hang file from code, else the environment, else none.
    mutating func hangFile(code: String?) -> String? {
        let source: Source
        if let code {
            source = .code(property: "hangFile", shown: code)
        } else if let raw = environment[EnvironmentVariable.hangFile.rawValue] {
            source = .environment(.hangFile, raw: raw)
        } else {
            return nil
        }
        return checkPath(source, fallback: "using no hang file") ? source.value : nil
    }

    /// Whether the value of `source` can be a path; reports it when it cannot.
    mutating func checkPath(_ source: Source, fallback: String) -> Bool {
        if source.value.trimmingWhitespace().isEmpty {
            report(source, "is empty", fallback)
            return false
        }
        if source.value.utf8.count > TextValueParsing.maximumPathBytes {
            report(source, "is longer than \(TextValueParsing.maximumPathBytes) bytes", fallback)
            return false
        }
        return true
    }
}

extension Configuration {
    /// The threshold a watchdog made with this configuration starts with: the one set in
    /// code, else a valid `LOOP_WATCHDOG_THRESHOLD`, else 100 ms, clamped to 1 ms ... 1 h.
    /// For what must be sized before the watchdog exists, such as the histogram buckets of
    /// a metrics backend (``MetricsEventSink/durationBuckets(threshold:)``). Logs nothing:
    /// the watchdog says what was wrong with a bad value when it is created.
    /// - Parameter environment: the variables to read; nil reads the process environment.
    public func resolvedThreshold(environment: [String: String]? = nil) -> Duration {
        resolve(environment: environment ?? Self.processEnvironment()).settings.threshold
    }
}
