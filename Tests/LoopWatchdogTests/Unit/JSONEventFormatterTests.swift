import Foundation
import Testing
@testable import LoopWatchdog

@Suite("JSONEventFormatter")
struct JSONEventFormatterTests {
    let formatter = JSONEventFormatter()
    static let time = 1_764_196_201.123
    static let topLevelKeys = [
        "time", "event", "stall_id", "loop", "tid", "threshold_ms", "blocked_ms", "capture", "frames",
    ]

    @Test func beganLineIsExact() {
        let line = formatter.line(for: Fixtures.event(.began), wallClockSeconds: Self.time)
        #expect(line == """
            {"time":1764196201.123,"event":"stall.began","stall_id":7,"loop":"main","tid":1234,\
            "threshold_ms":100,"blocked_ms":100,"capture":"signal","frames":[\
            {"index":0,"address":"0x00005555deadbeef","symbol":"Demo.sleepBlocking(milliseconds:)",\
            "image":"loop-watchdog","image_offset":null,"build_id":null,"file":"/src/Demo.swift","line":42,\
            "inlined":false,"async":false},{"index":1,"address":"0x00007f1234567890","symbol":null,"image":null,\
            "image_offset":null,"build_id":null,"file":null,"line":null,"inlined":false,"async":false}]}
            """)
    }

    @Test func beganFieldsParseWithTheirTypes() throws {
        let event = Fixtures.event(
            .began, stallID: 9, loop: "io", tid: 77,
            threshold: .microseconds(100_500), blocked: .microseconds(351_123), capture: .signal
        )
        let line = formatter.line(for: event, wallClockSeconds: Self.time)
        let object = try parseJSONObject(line)

        #expect(Set(object.keys) == Set(Self.topLevelKeys))
        #expect(topLevelKeyOrder(of: line, keys: Self.topLevelKeys) == Self.topLevelKeys)

        #expect(jsonKind(object["time"]) == .double)
        #expect((object["time"] as? Double).map { abs($0 - Self.time) < 0.000_5 } == true)
        #expect(jsonKind(object["event"]) == .string)
        #expect(object["event"] as? String == "stall.began")
        #expect(jsonKind(object["stall_id"]) == .integer)
        #expect(object["stall_id"] as? Int == 9)
        #expect(jsonKind(object["loop"]) == .string)
        #expect(object["loop"] as? String == "io")
        #expect(jsonKind(object["tid"]) == .integer)
        #expect(object["tid"] as? Int == 77)
        #expect(jsonKind(object["threshold_ms"]) == .double)
        #expect(object["threshold_ms"] as? Double == 100.5)
        #expect(jsonKind(object["blocked_ms"]) == .double)
        #expect(object["blocked_ms"] as? Double == 351.123)
        #expect(jsonKind(object["capture"]) == .string)
        #expect(object["capture"] as? String == "signal")

        let frames = try #require(object["frames"] as? [[String: Any]])
        #expect(frames.count == 2)
        let full = frames[0]
        #expect(Set(full.keys) == ["index", "address", "symbol", "image", "image_offset", "build_id", "file", "line", "inlined", "async"])
        #expect(jsonKind(full["index"]) == .integer)
        #expect(full["index"] as? Int == 0)
        #expect(jsonKind(full["address"]) == .string)
        #expect(full["address"] as? String == "0x00005555deadbeef")
        #expect(full["symbol"] as? String == "Demo.sleepBlocking(milliseconds:)")
        #expect(full["image"] as? String == "loop-watchdog")
        #expect(full["file"] as? String == "/src/Demo.swift")
        #expect(jsonKind(full["line"]) == .integer)
        #expect(full["line"] as? Int == 42)
        #expect(jsonKind(full["inlined"]) == .bool)
        #expect(full["inlined"] as? Bool == false)

        let bare = frames[1]
        #expect(bare["index"] as? Int == 1)
        #expect(bare["address"] as? String == "0x00007f1234567890")
        for key in ["symbol", "image", "image_offset", "build_id", "file", "line"] {
            #expect(jsonKind(bare[key]) == .null, "\(key) should be null")
        }
        #expect(jsonKind(bare["inlined"]) == .bool)
    }

    @Test func frameWithItsImageOffsetAndBuildID() throws {
        var event = Fixtures.event(.began)
        event.frames = [
            StackFrame(index: 0, address: 0x7f00_0002_9d90, image: "libc.so.6", imageOffset: 0x29d90, buildID: "0badc0de")
        ]
        let object = try parseJSONObject(formatter.line(for: event, wallClockSeconds: Self.time))
        let frame = try #require((object["frames"] as? [[String: Any]])?.first)
        #expect(frame["image_offset"] as? String == "0x29d90")
        #expect(frame["build_id"] as? String == "0badc0de")
        #expect(jsonKind(frame["symbol"]) == .null)
    }

    @Test func continuingLineWithInlinedFrameAndNoStack() throws {
        let inlined = StackFrame(index: 0, address: 0x1000, symbol: "inner()", file: "/a.swift", line: 3, inlined: true)
        let event = Fixtures.event(
            .continuing, blocked: .milliseconds(1_100), capture: .syscall,
            frames: [inlined, StackFrame(index: 0, address: 0x1000, symbol: "outer()")]
        )
        let object = try parseJSONObject(formatter.line(for: event, wallClockSeconds: 0))
        #expect(object["event"] as? String == "stall.continuing")
        #expect(object["capture"] as? String == "syscall")
        #expect(object["blocked_ms"] as? Int == 1_100)
        #expect(jsonKind(object["blocked_ms"]) == .integer)
        #expect(object["time"] as? Double == 0)
        let frames = try #require(object["frames"] as? [[String: Any]])
        #expect(frames.map { $0["inlined"] as? Bool } == [true, false])
        #expect(frames.map { $0["address"] as? String } == ["0x0000000000001000", "0x0000000000001000"])
        #expect(frames.map { $0["index"] as? Int } == [0, 0])

        let noStack = Fixtures.event(.continuing, capture: .unavailable("sigprof-blocked"), frames: [])
        let noStackLine = formatter.line(for: noStack, wallClockSeconds: 0)
        #expect(noStackLine.hasSuffix(#","capture":"sigprof-blocked","frames":[]}"#))
        let parsed = try parseJSONObject(noStackLine)
        #expect((parsed["frames"] as? [Any])?.isEmpty == true)
    }

    /// An awaiting caller of an async function is a frame with `"async":true`.
    @Test func awaitingCallersAreMarkedAsync() throws {
        let event = Fixtures.event(
            .began,
            frames: [
                StackFrame(index: 0, address: 0x1000, symbol: "leaf()", file: "/a.swift", line: 3),
                StackFrame(index: 1, address: 0x2000, symbol: "caller()", file: "/a.swift", line: 9, isAsync: true),
            ])
        let object = try parseJSONObject(formatter.line(for: event, wallClockSeconds: Self.time))
        let frames = try #require(object["frames"] as? [[String: Any]])
        #expect(frames.map { jsonKind($0["async"]) } == [.bool, .bool])
        #expect(frames.map { $0["async"] as? Bool } == [false, true])
    }

    @Test func endedHasNoFramesKey() throws {
        // Frames given to an ended event are still not written.
        let event = Fixtures.event(.ended, blocked: .microseconds(351_123), capture: .none)
        let line = formatter.line(for: event, wallClockSeconds: Self.time)
        #expect(line == """
            {"time":1764196201.123,"event":"stall.ended","stall_id":7,"loop":"main","tid":1234,\
            "threshold_ms":100,"blocked_ms":351.123,"capture":"none"}
            """)
        let object = try parseJSONObject(line)
        #expect(object["frames"] == nil)
        #expect(object.keys.count == 8)
        #expect(object["event"] as? String == "stall.ended")
    }

    @Test(arguments: [
        LabeledString("every control character, quotes, emoji, U+2028", Fixtures.nastyName),
        LabeledString("forged header line", "evil\nloop 'main' (tid 1) blocked"),
        LabeledString("forged JSON", #"{"loop":"x"}\"#),
        LabeledString("NUL", "\u{0}"),
        LabeledString("backslash", "\\"),
        LabeledString("double quote", "\""),
        LabeledString("tab, CRLF, separators, emoji", "tab\there\r\n\u{2028}\u{2029}🚀"),
        LabeledString("empty", ""),
    ])
    func nastyStringsRoundTripExactly(_ labeled: LabeledString) throws {
        let name = labeled.value
        let frame = StackFrame(index: 0, address: 1, symbol: name, image: name, file: name, line: 1)
        let event = Fixtures.event(.began, loop: name, capture: .unavailable(name), frames: [frame])
        let line = formatter.line(for: event, wallClockSeconds: Self.time)

        #expect(!line.contains("\n"))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{2029}" })

        let object = try parseJSONObject(line)
        #expect(object["loop"] as? String == name)
        #expect(object["capture"] as? String == name)
        let frames = try #require(object["frames"] as? [[String: Any]])
        #expect(frames.first?["symbol"] as? String == name)
        #expect(frames.first?["image"] as? String == name)
        #expect(frames.first?["file"] as? String == name)
        #expect(object["tid"] as? Int == 1234)
    }

    @Test func noRawNewlineInAnyLine() {
        let events = [StallEvent.Kind.began, .continuing, .ended].flatMap { kind in
            [
                Fixtures.event(kind, loop: "a\nb"),
                Fixtures.event(kind, loop: Fixtures.nastyName, capture: .unavailable("x\ny")),
            ]
        }
        let lines = events.map { formatter.line(for: $0, wallClockSeconds: 1) }
        #expect(lines.count == 6)
        for line in lines {
            #expect(!line.contains("\n") && !line.contains("\r"))
            #expect(line.hasPrefix("{") && line.hasSuffix("}"))
        }
    }

    @Test(arguments: [
        (Duration.milliseconds(100), "100"),
        (Duration.microseconds(100_500), "100.5"),
        (Duration.microseconds(351_123), "351.123"),
        (Duration.nanoseconds(351_123_456), "351.123"),
        (Duration.nanoseconds(999), "0.001"),
        (Duration.zero, "0"),
        (Duration.seconds(86_400), "86400000"),
    ])
    func durationNumbers(duration: Duration, expected: String) throws {
        let event = Fixtures.event(.ended, threshold: duration, blocked: duration, capture: .none)
        let line = formatter.line(for: event, wallClockSeconds: 0)
        #expect(line.contains(#""threshold_ms":\#(expected),"blocked_ms":\#(expected),"#))
        let object = try parseJSONObject(line)
        #expect((object["blocked_ms"] as? NSNumber)?.stringValue == expected)
    }

    @Test func timeHasThreeDecimalsAndNoExponent() throws {
        #expect(formatter.line(for: Fixtures.event(.ended), wallClockSeconds: 1_764_196_201)
            .hasPrefix(#"{"time":1764196201.000,"#))
        #expect(formatter.line(for: Fixtures.event(.ended), wallClockSeconds: 0.0005)
            .hasPrefix(#"{"time":0.001,"#))
        #expect(formatter.line(for: Fixtures.event(.ended), wallClockSeconds: .nan)
            .hasPrefix(#"{"time":null,"#))
    }

    @Test func largeIdentifiersAreWholeNumbers() {
        let event = Fixtures.event(.ended, stallID: .max, tid: .max)
        let line = formatter.line(for: event, wallClockSeconds: 0)
        #expect(line.contains(#""stall_id":18446744073709551615,"#))
        #expect(line.contains(#""tid":2147483647,"#))
    }
}
