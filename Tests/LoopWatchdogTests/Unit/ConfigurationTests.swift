import Foundation
import Logging
import Testing

@testable import LoopWatchdog

/// Resolves `configuration` against `environment`.
private func resolve(
    _ configuration: Configuration = Configuration(), _ environment: [String: String] = [:]
) -> (settings: Settings, problems: [ConfigurationProblem]) {
    configuration.resolve(environment: environment)
}

/// True when `text` holds no line break, control or other invisible formatting character.
private func isSingleSafeLine(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy { scalar in
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            false
        default:
            true
        }
    }
}

@Suite struct DefaultsTests {
    @Test func emptyEnvironmentGivesTheDocumentedDefaults() {
        let (settings, problems) = resolve()
        #expect(problems.isEmpty)
        #expect(settings == Settings.default)
        #expect(settings.enabled == true)
        #expect(settings.threshold == .milliseconds(100))
        #expect(settings.interval == .milliseconds(10))
        #expect(settings.format == .text)
        #expect(settings.output == .standardError)
        #expect(settings.endedLogLevel == .warning)
        #expect(settings.maxFrames == 64)
        #expect(settings.hangFile == nil)
        #expect(settings.whenTraced == .suppress)
    }

    @Test func resolvedThresholdFollowsCodeThenEnvironmentThenDefault() {
        #expect(Configuration().resolvedThreshold(environment: [:]) == .milliseconds(100))
        #expect(Configuration().resolvedThreshold(environment: ["LOOP_WATCHDOG_THRESHOLD": "250ms"]) == .milliseconds(250))
        #expect(Configuration().resolvedThreshold(environment: ["LOOP_WATCHDOG_THRESHOLD": "banana"]) == .milliseconds(100))
        #expect(Configuration().resolvedThreshold(environment: ["LOOP_WATCHDOG_THRESHOLD": "5h"]) == .seconds(3600))
        #expect(
            Configuration(threshold: .seconds(2)).resolvedThreshold(environment: ["LOOP_WATCHDOG_THRESHOLD": "250ms"])
                == .seconds(2))
    }

    @Test func unrelatedVariablesAreIgnored() {
        let (settings, problems) = resolve(Configuration(), ["PATH": "/bin", "LOOP_WATCHDOGS": "x", "HOME": "\n"])
        #expect(problems.isEmpty)
        #expect(settings == Settings.default)
    }

    @Test func publicTypesDescribeThemselves() {
        #expect(OutputFormat.text.description == "text")
        #expect(OutputFormat.json.description == "json")
        #expect(TracedPolicy.suppress.description == "suppress")
        #expect(TracedPolicy.report.description == "report")
        #expect(OutputFormat.text != OutputFormat.json)
        #expect(TracedPolicy.suppress != TracedPolicy.report)
    }
}

@Suite struct EnvironmentValueTests {
    /// One valid environment value and the settings it must produce.
    struct Case: Sendable, CustomTestStringConvertible {
        var variable: EnvironmentVariable
        var value: String
        var change: @Sendable (inout Settings) -> Void
        var testDescription: String { "\(variable.rawValue)=\(value.debugDescription)" }
    }

    static let cases: [Case] = [
        Case(variable: .enabled, value: "off") { $0.enabled = false },
        Case(variable: .enabled, value: "0") { $0.enabled = false },
        Case(variable: .enabled, value: " NO ") { $0.enabled = false },
        Case(variable: .enabled, value: "False") { $0.enabled = false },
        Case(variable: .enabled, value: "on") { $0.enabled = true },
        Case(variable: .enabled, value: "1") { $0.enabled = true },
        Case(variable: .enabled, value: "Yes") { $0.enabled = true },
        Case(variable: .enabled, value: "TRUE") { $0.enabled = true },
        Case(variable: .threshold, value: "250ms") {
            $0.threshold = .milliseconds(250)
        },
        Case(variable: .threshold, value: "2") {
            $0.threshold = .milliseconds(2)
        },
        Case(variable: .threshold, value: "1h") {
            $0.threshold = .seconds(3600)
        },
        Case(variable: .interval, value: "5ms") { $0.interval = .milliseconds(5) },
        Case(variable: .interval, value: "100ms") { $0.interval = .milliseconds(100) },
        Case(variable: .interval, value: "1000us") { $0.interval = .milliseconds(1) },
        Case(variable: .format, value: "json") { $0.format = .json },
        Case(variable: .format, value: " JSON ") { $0.format = .json },
        Case(variable: .format, value: "Text") { $0.format = .text },
        Case(variable: .output, value: "/tmp/stalls.jsonl") { $0.output = .file("/tmp/stalls.jsonl") },
        Case(variable: .output, value: "stdout") { $0.output = .standardOutput },
        Case(variable: .output, value: "STDOUT") { $0.output = .standardOutput },
        Case(variable: .output, value: "stderr") { $0.output = .standardError },
        Case(variable: .output, value: "-") { $0.output = .standardError },
        Case(variable: .output, value: " relative name.log") { $0.output = .file(" relative name.log") },
        Case(variable: .endedLogLevel, value: "trace") { $0.endedLogLevel = .trace },
        Case(variable: .endedLogLevel, value: "DEBUG") { $0.endedLogLevel = .debug },
        Case(variable: .endedLogLevel, value: "info") { $0.endedLogLevel = .info },
        Case(variable: .endedLogLevel, value: "notice") { $0.endedLogLevel = .notice },
        Case(variable: .endedLogLevel, value: "warn") { $0.endedLogLevel = .warning },
        Case(variable: .endedLogLevel, value: "Error") { $0.endedLogLevel = .error },
        Case(variable: .endedLogLevel, value: " critical") { $0.endedLogLevel = .critical },
        Case(variable: .maxFrames, value: "1") { $0.maxFrames = 1 },
        Case(variable: .maxFrames, value: " 128 ") { $0.maxFrames = 128 },
        Case(variable: .maxFrames, value: "256") { $0.maxFrames = 256 },
        Case(variable: .hangFile, value: "/var/tmp/hangs.txt") { $0.hangFile = "/var/tmp/hangs.txt" },
        Case(variable: .whenTraced, value: "report") { $0.whenTraced = .report },
        Case(variable: .whenTraced, value: "SUPPRESS") { $0.whenTraced = .suppress },
        Case(variable: .repeats, value: "all") { $0.repeats = .all },
        Case(variable: .repeats, value: " Backoff ") { $0.repeats = .backoff },
        Case(variable: .summaryInterval, value: "5m") { $0.summaryInterval = .seconds(300) },
        Case(variable: .summaryInterval, value: "off") { $0.summaryInterval = nil },
        Case(variable: .summaryInterval, value: "0") { $0.summaryInterval = nil },
        Case(variable: .sampleInterval, value: "20ms") { $0.sampleInterval = .every(.milliseconds(20)) },
        Case(variable: .sampleInterval, value: "off") { $0.sampleInterval = .off },
        Case(variable: .maxSamples, value: "12") { $0.maxSamples = 12 },
    ]

    @Test(arguments: cases)
    func validValueIsUsedWithoutProblems(_ test: Case) {
        var expected = Settings.default
        test.change(&expected)
        let (settings, problems) = resolve(Configuration(), [test.variable.rawValue: test.value])
        #expect(problems.isEmpty)
        #expect(settings == expected)
    }

    @Test func everyVariableIsCoveredByAValidCase() {
        #expect(Set(Self.cases.map(\.variable)) == Set(EnvironmentVariable.allCases))
    }

    @Test func allVariablesTogether() {
        let (settings, problems) = resolve(Configuration(), [
            "LOOP_WATCHDOG": "yes", "LOOP_WATCHDOG_THRESHOLD": "2s", "LOOP_WATCHDOG_INTERVAL": "50ms",
            "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": "/tmp/x", "LOOP_WATCHDOG_ENDED_LEVEL": "info",
            "LOOP_WATCHDOG_MAX_FRAMES": "32", "LOOP_WATCHDOG_HANG_FILE": "/tmp/h",
            "LOOP_WATCHDOG_WHEN_TRACED": "report", "LOOP_WATCHDOG_REPEATS": "all",
            "LOOP_WATCHDOG_SUMMARY_INTERVAL": "10s", "LOOP_WATCHDOG_SAMPLE_INTERVAL": "250ms",
            "LOOP_WATCHDOG_MAX_SAMPLES": "7",
        ])
        #expect(problems.isEmpty)
        #expect(settings == Settings(
            enabled: true, threshold: .seconds(2), explicitInterval: .milliseconds(50), format: .json, output: .file("/tmp/x"),
            endedLogLevel: .info, maxFrames: 32, hangFile: "/tmp/h", whenTraced: .report, repeats: .all,
            summaryInterval: .seconds(10), sampleInterval: .every(.milliseconds(250)), maxSamples: 7))
    }
}

@Suite struct PrecedenceTests {
    /// A property set in code, a different valid environment value, and the three outcomes.
    struct Case: Sendable, CustomTestStringConvertible {
        var variable: EnvironmentVariable
        var code: Configuration
        var environmentValue: String
        var read: @Sendable (Settings) -> String
        var fromCode: String
        var fromEnvironment: String
        var byDefault: String
        var testDescription: String { variable.rawValue }
    }

    static let cases: [Case] = [
        Case(variable: .enabled, code: Configuration(enabled: false), environmentValue: "on",
             read: { "\($0.enabled)" }, fromCode: "false", fromEnvironment: "true", byDefault: "true"),
        Case(variable: .enabled, code: Configuration(enabled: true), environmentValue: "off",
             read: { "\($0.enabled)" }, fromCode: "true", fromEnvironment: "false", byDefault: "true"),
        Case(variable: .threshold, code: Configuration(threshold: .milliseconds(300)), environmentValue: "2s",
             read: { $0.threshold.configurationText }, fromCode: "300 ms", fromEnvironment: "2 s", byDefault: "100 ms"),
        Case(variable: .interval, code: Configuration(interval: .milliseconds(7)), environmentValue: "20ms",
             read: { $0.interval.configurationText }, fromCode: "7 ms", fromEnvironment: "20 ms", byDefault: "10 ms"),
        Case(variable: .format, code: Configuration(format: .json), environmentValue: "text",
             read: { "\($0.format)" }, fromCode: "json", fromEnvironment: "text", byDefault: "text"),
        Case(variable: .format, code: Configuration(format: .text), environmentValue: "json",
             read: { "\($0.format)" }, fromCode: "text", fromEnvironment: "json", byDefault: "text"),
        Case(variable: .output, code: Configuration(output: "stdout"), environmentValue: "/tmp/env.jsonl",
             read: { "\($0.output)" }, fromCode: "standard output", fromEnvironment: "/tmp/env.jsonl",
             byDefault: "standard error"),
        Case(variable: .endedLogLevel, code: Configuration(endedLogLevel: .debug), environmentValue: "error",
             read: { $0.endedLogLevel.rawValue }, fromCode: "debug", fromEnvironment: "error", byDefault: "warning"),
        Case(variable: .maxFrames, code: Configuration(maxFrames: 10), environmentValue: "200",
             read: { "\($0.maxFrames)" }, fromCode: "10", fromEnvironment: "200", byDefault: "64"),
        Case(variable: .hangFile, code: Configuration(hangFile: "/code/hang"), environmentValue: "/env/hang",
             read: { $0.hangFile ?? "none" }, fromCode: "/code/hang", fromEnvironment: "/env/hang", byDefault: "none"),
        Case(variable: .whenTraced, code: Configuration(whenTraced: .report), environmentValue: "suppress",
             read: { "\($0.whenTraced)" }, fromCode: "report", fromEnvironment: "suppress", byDefault: "suppress"),
        Case(variable: .whenTraced, code: Configuration(whenTraced: .suppress), environmentValue: "report",
             read: { "\($0.whenTraced)" }, fromCode: "suppress", fromEnvironment: "report", byDefault: "suppress"),
        Case(variable: .repeats, code: Configuration(repeats: .all), environmentValue: "backoff",
             read: { "\($0.repeats)" }, fromCode: "all", fromEnvironment: "backoff", byDefault: "backoff"),
        Case(variable: .summaryInterval, code: Configuration(summaryInterval: .seconds(5)), environmentValue: "2m",
             read: { $0.summaryInterval?.configurationText ?? "off" }, fromCode: "5 s", fromEnvironment: "120 s",
             byDefault: "60 s"),
        Case(variable: .sampleInterval, code: Configuration(sampleInterval: .milliseconds(40)), environmentValue: "off",
             read: { "\($0.sampleInterval)" }, fromCode: "every(0.04 seconds)", fromEnvironment: "off", byDefault: "halfThreshold"),
        Case(variable: .maxSamples, code: Configuration(maxSamples: 5), environmentValue: "50",
             read: { "\($0.maxSamples)" }, fromCode: "5", fromEnvironment: "50", byDefault: "100"),
    ]

    @Test(arguments: cases)
    func codeBeatsEnvironmentBeatsDefault(_ test: Case) {
        let environment = [test.variable.rawValue: test.environmentValue]
        let both = resolve(test.code, environment)
        #expect(test.read(both.settings) == test.fromCode)
        #expect(both.problems.isEmpty)

        let codeOnly = resolve(test.code, [:])
        #expect(test.read(codeOnly.settings) == test.fromCode)

        let environmentOnly = resolve(Configuration(), environment)
        #expect(test.read(environmentOnly.settings) == test.fromEnvironment)
        #expect(environmentOnly.problems.isEmpty)

        #expect(test.read(resolve().settings) == test.byDefault)
    }

    @Test func everyVariableHasAPrecedenceCase() {
        #expect(Set(Self.cases.map(\.variable)) == Set(EnvironmentVariable.allCases))
    }

    @Test func environmentIsNotReadWhenCodeSetsTheProperty() {
        let environment = Dictionary(uniqueKeysWithValues: EnvironmentVariable.allCases.map { ($0.rawValue, "banana") })
        let code = Configuration(
            enabled: true, threshold: .milliseconds(200), interval: .milliseconds(20), format: .json, output: "-",
            endedLogLevel: .notice, maxFrames: 16, hangFile: "/h", whenTraced: .report, repeats: .all,
            summaryInterval: .zero, sampleInterval: .milliseconds(30), maxSamples: 9)
        let (settings, problems) = resolve(code, environment)
        #expect(problems.isEmpty)
        #expect(settings == Settings(
            enabled: true, threshold: .milliseconds(200), explicitInterval: .milliseconds(20), format: .json,
            output: .standardError, endedLogLevel: .notice, maxFrames: 16, hangFile: "/h", whenTraced: .report,
            repeats: .all, summaryInterval: nil, sampleInterval: .every(.milliseconds(30)), maxSamples: 9))
    }
}

@Suite struct IntervalTests {
    @Test(arguments: [
        (Duration.seconds(1), Duration.milliseconds(100)),
        (.milliseconds(50), .milliseconds(5)),
        (.milliseconds(15), .microseconds(1500)),
        (.milliseconds(5), .milliseconds(1)),  // a tenth would be 0.5 ms, below the minimum
        (.milliseconds(1), .milliseconds(1)),
    ])
    func defaultIntervalFollowsTheThresholdSetInCode(threshold: Duration, interval: Duration) {
        let (settings, problems) = resolve(Configuration(threshold: threshold), [:])
        #expect(problems.isEmpty)
        #expect(settings.threshold == threshold)
        #expect(settings.interval == interval)
    }

    @Test func defaultIntervalFollowsTheThresholdFromTheEnvironment() {
        let (settings, _) = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "400ms"])
        #expect(settings.interval == .milliseconds(40))
    }

    @Test func defaultIntervalFollowsTheClampedThreshold() {
        let low = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "0.1us"])
        #expect(low.settings.threshold == .milliseconds(1))
        #expect(low.settings.interval == .milliseconds(1))
        let high = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "5h"])
        #expect(high.settings.threshold == .seconds(3600))
        #expect(high.settings.interval == .seconds(360))
    }

    @Test func environmentIntervalAboveTheThresholdIsClamped() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_INTERVAL": "5s"])
        #expect(settings.interval == .milliseconds(100))
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_INTERVAL="5s" is above the threshold 100 ms; using 100 ms"#
        ])
    }

    @Test func environmentIntervalIsClampedToTheThresholdSetInCode() {
        let (settings, problems) = resolve(
            Configuration(threshold: .milliseconds(20)), ["LOOP_WATCHDOG_INTERVAL": "30ms"])
        #expect(settings.interval == .milliseconds(20))
        #expect(problems.count == 1)
        #expect(problems.first?.reason == "is above the threshold 20 ms")
    }

    @Test func codeIntervalAboveTheThresholdIsClamped() {
        let (settings, problems) = resolve(Configuration(threshold: .milliseconds(100), interval: .seconds(1)), [:])
        #expect(settings.interval == .milliseconds(100))
        #expect(problems.map(\.description) == [
            #"Configuration.interval="1 s" is above the threshold 100 ms; using 100 ms"#
        ])
    }

    @Test func intervalEqualToTheThresholdIsAccepted() {
        let (settings, problems) = resolve(
            Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "30ms", "LOOP_WATCHDOG_INTERVAL": "30ms"])
        #expect(problems.isEmpty)
        #expect(settings.interval == .milliseconds(30))
    }
}

@Suite struct ClampTests {
    @Test func thresholdBelowTheMinimum() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "0.1us"])
        #expect(settings.threshold == .milliseconds(1))
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_THRESHOLD="0.1us" is below the minimum 1 ms; using 1 ms"#
        ])
    }

    @Test func thresholdAboveTheMaximum() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "2h"])
        #expect(settings.threshold == .seconds(3600))
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_THRESHOLD="2h" is above the maximum 3600 s; using 3600 s"#
        ])
    }

    @Test func codeValuesAreClampedToo() {
        let (settings, problems) = resolve(Configuration(threshold: .zero, maxFrames: 1000), [:])
        #expect(settings.threshold == .milliseconds(1))
        #expect(settings.maxFrames == 256)
        #expect(problems.map(\.description) == [
            #"Configuration.threshold="0 s" is below the minimum 1 ms; using 1 ms"#,
            #"Configuration.maxFrames="1000" is above the maximum 256; using 256"#,
        ])
    }

    @Test func negativeCodeDurationIsClampedToTheMinimum() {
        let (settings, problems) = resolve(
            Configuration(threshold: .milliseconds(-5), interval: .milliseconds(-1)), [:])
        #expect(settings.threshold == .milliseconds(1))
        #expect(settings.interval == .milliseconds(1))
        #expect(problems.map(\.variable) == ["Configuration.threshold", "Configuration.interval"])
    }

    @Test(arguments: [("0", 1), ("-3", 1), ("257", 256), ("99999999999999999999", 256), ("-99999999999999999999", 1)])
    func maxFramesOutOfRange(value: String, expected: Int) {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_MAX_FRAMES": value])
        #expect(settings.maxFrames == expected)
        #expect(problems.count == 1)
        #expect(problems.first?.fallback == "using \(expected)")
    }

    @Test func emptyPathsSetInCodeAreRejected() {
        let (settings, problems) = resolve(Configuration(output: "", hangFile: "  "), [:])
        #expect(settings.output == .standardError)
        #expect(settings.hangFile == nil)
        #expect(problems.map(\.description) == [
            #"Configuration.output="" is empty; using standard error"#,
            #"Configuration.hangFile="  " is empty; using no hang file"#,
        ])
    }
}

@Suite struct ProblemTextTests {
    @Test func notADuration() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_THRESHOLD": "banana"])
        #expect(settings.threshold == .milliseconds(100))
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_THRESHOLD="banana" is not a duration (expected e.g. 100ms, 0.25s, 250us; "#
                + #"a bare number means milliseconds); using the default 100 ms"#
        ])
        #expect(problems.first?.variable == "LOOP_WATCHDOG_THRESHOLD")
        #expect(problems.first?.value == "banana")
        #expect(problems.first?.fallback == "using the default 100 ms")
    }

    @Test func emptyValue() {
        let (_, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_FORMAT": ""])
        #expect(problems.map(\.description) == [#"LOOP_WATCHDOG_FORMAT="" is empty; using the default text"#])
    }

    @Test func badBoolean() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG": "maybe"])
        #expect(settings.enabled == true)
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG="maybe" is not a boolean (expected on/off, 1/0, yes/no, true/false); using the default on"#
        ])
    }

    @Test(arguments: [
        ("\u{1B}[31mred", #""\u{1B}[31mred""#),
        ("a\nb", #""a\nb""#),
        ("\"quoted\"", #""\"quoted\"""#),
        (#"back\slash"#, #""back\\slash""#),
        ("tab\there\r\0", #""tab\there\r\u{00}""#),
        ("\u{202E}evil", #""\u{202E}evil""#),  // right-to-left override
        ("zero\u{200B}width", #""zero\u{200B}width""#),
        ("line\u{2028}sep", #""line\u{2028}sep""#),
        ("nbsp\u{A0}", #""nbsp\u{A0}""#),
        ("\u{7F}\u{85}", #""\u{7F}\u{85}""#),
        ("caf\u{E9} \u{1F436}", "\"caf\u{E9} \u{1F436}\""),
    ])
    func valuesAreEscapedLikeSwiftLiterals(value: String, shown: String) {
        let (_, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_FORMAT": value])
        #expect(problems.count == 1)
        #expect(problems.first?.value == value)
        #expect(problems.first?.description.hasPrefix("LOOP_WATCHDOG_FORMAT=\(shown) is not") == true)
        #expect(problems.first.map { isSingleSafeLine($0.description) } == true)
    }

    @Test func longValuesAreCutTo64Characters() {
        let problem = ConfigurationProblem(
            variable: "LOOP_WATCHDOG_FORMAT", value: String(repeating: "x", count: 10_000), reason: "is bad",
            fallback: "using text")
        let shown = String(repeating: "x", count: 64)
        #expect(problem.description == "LOOP_WATCHDOG_FORMAT=\"\(shown)\"… is bad; using text")
    }

    @Test func cuttingNeverSplitsAnEscape() {
        let value = String(repeating: "ab", count: 31) + "\n" + "tail"  // 62 characters, then a 2-character escape
        #expect(escaped(value, limit: 64) == (String(repeating: "ab", count: 31) + "\\n", true))
        #expect(escaped(value, limit: 63) == (String(repeating: "ab", count: 31), true))
        #expect(escaped("short", limit: 64) == ("short", false))
        #expect(escaped(String(repeating: "x", count: 64), limit: 64) == (String(repeating: "x", count: 64), false))
    }
}

@Suite struct FuzzTests {
    static let longText = String(repeating: "a\u{1B}", count: 5_000)
    static let longNumber = String(repeating: "9", count: 10_000)
    static let values = [
        "", " ", "-1", "-5ms", "0", "1e30s", "99999999999999999999ms", "100 parsecs", "nan", "inf", "0x10",
        "1..5ms", "ms", "\u{FC}", "\u{1F436}", "\u{1B}[31mred", "a\nb", "\"quoted\"", longText, longNumber,
        // Signs, digits that are not ASCII, whitespace only, a unit with a tail, a valid
        // duration with a space before its unit.
        "+5ms", "\u{FF11}\u{FF10}\u{FF10}ms", "\u{0663}", "\t\n ", "100msx", "5 ms",
    ]

    /// The settings `variable=value` must produce, and whether it must be reported.
    static func expectation(_ variable: EnvironmentVariable, _ value: String) -> (settings: Settings, reported: Bool) {
        var settings = Settings.default
        let tooLong = value.utf8.count > 4095
        let blank = value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        switch variable {
        case .enabled:
            if value == "0" { settings.enabled = false; return (settings, false) }
        case .threshold:
            switch value {
            // The interval follows the threshold (a tenth, at least 1 ms): no explicit choice.
            case "5 ms": settings.threshold = .milliseconds(5); return (settings, false)
            case "0": settings.threshold = .milliseconds(1)
            case "1e30s", "99999999999999999999ms", longNumber:
                settings.threshold = .seconds(3600)
            default: break
            }
        case .interval:
            switch value {
            case "5 ms": settings.interval = .milliseconds(5); return (settings, false)
            case "0": settings.interval = .milliseconds(1)
            case "1e30s", "99999999999999999999ms", longNumber: settings.interval = .milliseconds(100)
            default: break
            }
        case .maxFrames:
            switch value {
            case "0", "-1": settings.maxFrames = 1
            case longNumber: settings.maxFrames = 256
            default: break
            }
        case .output:
            if !blank && !tooLong { settings.output = .file(value); return (settings, false) }
        case .hangFile:
            if !blank && !tooLong { settings.hangFile = value; return (settings, false) }
        case .summaryInterval:
            switch value {
            case "0": settings.summaryInterval = nil; return (settings, false)
            case "5 ms": settings.summaryInterval = .seconds(1)
            case "1e30s", "99999999999999999999ms", longNumber: settings.summaryInterval = .seconds(86_400)
            default: break
            }
        case .sampleInterval:
            switch value {
            case "0": settings.sampleInterval = .off; return (settings, false)
            case "5 ms": settings.sampleInterval = .every(.milliseconds(5)); return (settings, false)
            case "1e30s", "99999999999999999999ms", longNumber: settings.sampleInterval = .every(.seconds(60))
            default: break
            }
        case .maxSamples:
            switch value {
            case "0", "-1": settings.maxSamples = 1
            case longNumber: settings.maxSamples = 1_000
            default: break
            }
        case .format, .endedLogLevel, .whenTraced, .repeats:
            break
        }
        return (settings, true)
    }

    /// The text a problem's fallback must end with for the value actually used.
    static func shown(_ variable: EnvironmentVariable, _ settings: Settings) -> String {
        switch variable {
        case .enabled: settings.enabled ? "on" : "off"
        case .threshold: settings.threshold.configurationText
        case .interval: settings.interval.configurationText
        case .format: settings.format.description
        case .output: settings.output.description
        case .endedLogLevel: settings.endedLogLevel.rawValue
        case .maxFrames: "\(settings.maxFrames)"
        case .hangFile: settings.hangFile ?? "no hang file"
        case .whenTraced: settings.whenTraced.description
        case .repeats: settings.repeats.description
        case .summaryInterval: settings.summaryInterval?.configurationText ?? "off"
        case .sampleInterval:
            switch settings.sampleInterval {
            case .halfThreshold: "half the threshold"
            case .every(let interval): interval.configurationText
            case .off: "off"
            }
        case .maxSamples: "\(settings.maxSamples)"
        }
    }

    @Test(arguments: EnvironmentVariable.allCases, values)
    func hostileValuesAreSurvivedAndReportedOnce(variable: EnvironmentVariable, value: String) {
        let (settings, problems) = resolve(Configuration(), [variable.rawValue: value])
        let expected = Self.expectation(variable, value)
        #expect(settings == expected.settings)

        // Sane whatever the expectation says.
        #expect(ThresholdRule.thresholdRange.contains(settings.threshold))
        #expect((ThresholdRule.minimumInterval...settings.threshold).contains(settings.interval))
        #expect(Settings.maxFramesRange.contains(settings.maxFrames))

        guard expected.reported else {
            #expect(problems.isEmpty)
            return
        }
        #expect(problems.count == 1)
        guard let problem = problems.first else { return }
        #expect(problem.variable == variable.rawValue)
        #expect(problem.value == value)
        #expect(problem.description.hasPrefix(variable.rawValue + "=\""))
        #expect(isSingleSafeLine(problem.description))
        #expect(problem.description.count < 400)
        #expect(problem.fallback.hasPrefix("using "))
        #expect(problem.fallback.hasSuffix(Self.shown(variable, settings)))
        #expect(problem.description.hasSuffix("; " + problem.fallback))
    }
}

@Suite struct UnknownVariableTests {
    @Test func typoGetsASuggestion() {
        let (settings, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_TRESHOLD": "200ms"])
        #expect(settings == Settings.default)
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_TRESHOLD="200ms" is not a known variable (did you mean LOOP_WATCHDOG_THRESHOLD?); ignored"#
        ])
    }

    @Test(arguments: [
        ("LOOP_WATCHDOG_threshold", "LOOP_WATCHDOG_THRESHOLD"),
        ("LOOP_WATCHDOG_INTERVALL", "LOOP_WATCHDOG_INTERVAL"),
        ("LOOP_WATCHDOG_MAXFRAMES", "LOOP_WATCHDOG_MAX_FRAMES"),
        ("LOOP_WATCHDOG_HANGFILE", "LOOP_WATCHDOG_HANG_FILE"),
        ("LOOP_WATCHDOG_FORMATS", "LOOP_WATCHDOG_FORMAT"),
        ("LOOP_WATCHDOG_", "LOOP_WATCHDOG"),
    ])
    func nearestKnownNameIsSuggested(typed: String, suggestion: String) {
        #expect(EnvironmentVariable.nearest(to: typed)?.rawValue == suggestion)
        let (_, problems) = resolve(Configuration(), [typed: "x"])
        #expect(problems.count == 1)
        #expect(problems.first?.reason == "is not a known variable (did you mean \(suggestion)?)")
    }

    @Test func distantNamesGetNoSuggestion() {
        let (_, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_COMPLETELY_DIFFERENT": "1"])
        #expect(problems.map(\.description) == [
            #"LOOP_WATCHDOG_COMPLETELY_DIFFERENT="1" is not a known variable; ignored"#
        ])
    }

    @Test func unknownNamesAreEscapedAndSorted() {
        let hostile = "LOOP_WATCHDOG_X\nINFO fake log line"
        let (_, problems) = resolve(Configuration(), [hostile: "1", "LOOP_WATCHDOG_A": "2"])
        #expect(problems.map(\.variable) == ["LOOP_WATCHDOG_A", hostile])
        #expect(problems.last?.description
            == #"LOOP_WATCHDOG_X\nINFO fake log line="1" is not a known variable; ignored"#)
        #expect(problems.allSatisfy { isSingleSafeLine($0.description) })
    }

    @Test func unknownVariablesComeAfterValueProblems() {
        let (_, problems) = resolve(Configuration(), ["LOOP_WATCHDOG_TRESHOLD": "1", "LOOP_WATCHDOG": "maybe"])
        #expect(problems.map(\.variable) == ["LOOP_WATCHDOG", "LOOP_WATCHDOG_TRESHOLD"])
    }

    @Test func editDistance() {
        #expect(LoopWatchdog.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(LoopWatchdog.editDistance(Array(""), Array("abc")) == 3)
        #expect(LoopWatchdog.editDistance(Array("abc"), Array("")) == 3)
        #expect(LoopWatchdog.editDistance(Array("same"), Array("same")) == 0)
    }
}

@Suite(.serialized) struct ProcessEnvironmentTests {
    @Test func readsOnlyPrefixedVariables() {
        let name = "LOOP_WATCHDOG_TEST_\(getpid())"
        setenv(name, "a=b\u{1B}", 1)
        setenv("NOT_LOOP_WATCHDOG_\(getpid())", "x", 1)
        defer {
            unsetenv(name)
            unsetenv("NOT_LOOP_WATCHDOG_\(getpid())")
        }
        let environment = Configuration.processEnvironment()
        #expect(environment[name] == "a=b\u{1B}")
        #expect(environment.keys.allSatisfy { $0.hasPrefix("LOOP_WATCHDOG") })
        let problems = Configuration().resolve(environment: environment).problems
        #expect(problems.contains { $0.variable == name })
    }
}
