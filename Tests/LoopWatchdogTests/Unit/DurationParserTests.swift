import Testing

@testable import LoopWatchdog

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("100ms", Duration.milliseconds(100)),
        ("0.25s", .milliseconds(250)),
        ("250us", .microseconds(250)),
        ("250\u{B5}s", .microseconds(250)),  // micro sign
        ("250\u{3BC}s", .microseconds(250)),  // Greek mu
        ("5000ns", .nanoseconds(5000)),
        ("2m", .seconds(120)),
        ("2min", .seconds(120)),
        ("1h", .seconds(3600)),
        ("1.5", .microseconds(1500)),
        ("0", .zero),
        (".5s", .milliseconds(500)),
        ("1e3ms", .seconds(1)),
        ("2.5E-1s", .milliseconds(250)),
        ("  100 ms\n", .milliseconds(100)),
        ("100\tms", .milliseconds(100)),
        ("100MS", .milliseconds(100)),
        ("3S", .seconds(3)),
        ("0.1us", .nanoseconds(100)),
    ])
    func parsesValidDurations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == .success(expected))
    }

    @Test(arguments: [
        ("", DurationParseError.empty),
        (" \t ", .empty),
        ("-1", .negative),
        ("-5ms", .negative),
        ("-0.5s", .negative),
        ("nan", .notADuration),
        ("inf", .notADuration),
        ("infinity", .notADuration),
        ("0x10", .notADuration),
        ("0x1p3", .notADuration),
        ("1..5ms", .notADuration),
        ("1.5.5", .notADuration),
        ("5.", .notADuration),
        ("5.ms", .notADuration),
        ("ms", .notADuration),
        ("banana", .notADuration),
        ("+5ms", .notADuration),
        ("- 5ms", .notADuration),
        ("1 0ms", .notADuration),
        ("10 m s", .notADuration),
        ("\u{FF11}ms", .notADuration),  // fullwidth digit one
        ("\u{FC}", .notADuration),
        ("\u{1F436}", .notADuration),
        ("100 parsecs", .unknownUnit("parsecs")),
        ("10d", .unknownUnit("d")),
        ("5e", .unknownUnit("e")),
        ("-3 fortnights", .unknownUnit("fortnights")),
    ])
    func rejectsInvalidText(text: String, expected: DurationParseError) {
        #expect(DurationParser.parse(text) == .failure(expected))
    }

    @Test(arguments: ["1e30s", "99999999999999999999ms", "1e400", String(repeating: "9", count: 10_000) + "h"])
    func hugeValuesSaturate(text: String) {
        #expect(DurationParser.parse(text) == .success(DurationParser.saturation))
    }

    @Test func saturationIsFarAboveAnyClamp() {
        #expect(DurationParser.saturation > ThresholdRule.thresholdRange.upperBound * 1000)
    }

    @Test(arguments: [
        (Duration.milliseconds(1), "1 ms"),
        (.milliseconds(100), "100 ms"),
        (.seconds(3600), "3600 s"),
        (.microseconds(250), "250 us"),
        (.microseconds(1500), "1500 us"),
        (.nanoseconds(5), "5 ns"),
        (.zero, "0 s"),
    ])
    func configurationTextIsExactAndParsesBack(duration: Duration, text: String) {
        #expect(duration.configurationText == text)
        #expect(DurationParser.parse(text) == .success(duration))
    }

    @Test func reasonsNeverEchoTheInput() {
        #expect(DurationParseError.unknownUnit("parsecs").reason.contains("parsecs") == false)
        #expect(DurationParseError.unknownUnit("parsecs").reason.contains("ms"))
        #expect(DurationParseError.notADuration.reason
            == "is not a duration (expected e.g. 100ms, 0.25s, 250us; a bare number means milliseconds)")
    }
}
