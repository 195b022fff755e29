import Logging
import Testing
@testable import LoopWatchdog

@Suite("TextEventFormatter")
struct TextEventFormatterTests {
    let formatter = TextEventFormatter()

    static let demoLine =
        "  #0  0x00005555deadbeef  Demo.sleepBlocking(milliseconds:) at /src/Demo.swift:42 [loop-watchdog]"
    static let bareLine = "  #1  0x00007f1234567890  ???"

    // MARK: Headers

    @Test func beganHeaderWithStack() {
        let message = formatter.message(for: Fixtures.event(.began))
        #expect(message == """
            loop 'main' (tid 1234) blocked for 100 ms (threshold 100 ms); stack captured by signal:
            \(Self.demoLine)
            \(Self.bareLine)
            """)
    }

    @Test func beganHeaderWithoutStack() {
        let event = Fixtures.event(.began, capture: .unavailable("sigprof-blocked"), frames: [])
        #expect(formatter.message(for: event)
            == "loop 'main' (tid 1234) blocked for 100 ms (threshold 100 ms); no stack: sigprof-blocked")
    }

    @Test func continuingHeader() {
        let event = Fixtures.event(.continuing, blocked: .milliseconds(1_100), capture: .syscall, frames: [])
        // Duration.humanReadable trims trailing zeros: 1.1 s, not 1.10 s.
        #expect(formatter.message(for: event)
            == "loop 'main' (tid 1234) still blocked after 1.1 s (threshold 100 ms); stack captured by syscall:")
    }

    @Test func continuingHeaderWithoutStackAndWithFrames() {
        let event = Fixtures.event(
            .continuing, tid: 99, threshold: .milliseconds(250), blocked: .milliseconds(1_250),
            capture: .unavailable("thread-exited"), frames: [Fixtures.bareFrame]
        )
        #expect(formatter.message(for: event) == """
            loop 'main' (tid 99) still blocked after 1.25 s (threshold 250 ms); no stack: thread-exited
            \(Self.bareLine)
            """)
    }

    @Test func endedHeaderHasNoFrames() {
        let event = Fixtures.event(.ended, blocked: .microseconds(351_123), capture: .none)
        #expect(formatter.message(for: event)
            == "loop 'main' (tid 1234) was blocked for 351 ms (threshold 100 ms)")
    }

    // MARK: Frame lines

    @Test func fullFrameLine() {
        #expect(formatter.frameLines([Fixtures.demoFrame]) == [Self.demoLine])
    }

    @Test func missingPartsAreOmittedOrShownAsQuestionMarks() {
        let frames = [
            StackFrame(index: 0, address: 0x10, symbol: nil, image: "libc.so.6", file: nil, line: nil),
            StackFrame(index: 1, address: 0x20, symbol: "f()", image: nil, file: "/a.swift", line: nil),
            StackFrame(index: 2, address: 0x30, symbol: "g()", image: nil, file: nil, line: 9),
            StackFrame(index: 3, address: 0x40, symbol: "h()", image: "x", file: "/b.c", line: 1),
            StackFrame(index: 4, address: 0x50, symbol: nil, image: "libc.so.6", imageOffset: 0x29d90),
            StackFrame(index: 5, address: 0x60, symbol: "k()", image: "x", file: "/c.c", line: 2, imageOffset: 0x60),
        ]
        #expect(formatter.frameLines(frames) == [
            "  #0  0x0000000000000010  ??? [libc.so.6]",
            "  #1  0x0000000000000020  f() at /a.swift",
            "  #2  0x0000000000000030  g()",
            "  #3  0x0000000000000040  h() at /b.c:1 [x]",
            "  #4  0x0000000000000050  ??? [libc.so.6+0x29d90]",
            "  #5  0x0000000000000060  k() at /c.c:2 [x]",
        ])
    }

    /// The async function the job runs is a plain frame; its awaiting callers say `await`.
    @Test func awaitingCallersSayAwait() {
        let lines = formatter.frameLines([
            StackFrame(index: 0, address: 0x1000, symbol: "leaf()"),
            StackFrame(index: 1, address: 0x2000, symbol: "handler()", file: "/a.swift", line: 3, isAsync: true),
            StackFrame(index: 2, address: 0x3000, symbol: "route(_:)", file: "/a.swift", line: 7, isAsync: true),
            StackFrame(index: 3, address: 0x4000, symbol: "runJob"),
        ])
        #expect(lines == [
            "  #0  0x0000000000001000  leaf()",
            "  #1  0x0000000000002000  handler() at /a.swift:3",
            "  #2  0x0000000000003000  await route(_:) at /a.swift:7",
            "  #3  0x0000000000004000  runJob",
        ])
    }

    @Test func inlinedFramesAreMarkedAndAligned() {
        let frames = [
            StackFrame(index: 0, address: 0x1000, symbol: "inner()", inlined: true),
            StackFrame(index: 0, address: 0x1000, symbol: "outer()"),
            StackFrame(index: 1, address: 0x2000, symbol: "main"),
        ]
        #expect(formatter.frameLines(frames) == [
            "  #0 [inlined]  0x0000000000001000  inner()",
            "  #0            0x0000000000001000  outer()",
            "  #1            0x0000000000002000  main",
        ])
    }

    @Test func indexColumnIsPaddedForTwoDigitIndices() {
        let frames = (0...10).map { StackFrame(index: $0, address: UInt(0x100 + $0), symbol: "f\($0)") }
        let lines = formatter.frameLines(frames)
        #expect(lines.count == 11)
        #expect(lines[9] == "  #9   0x0000000000000109  f9")
        #expect(lines[10] == "  #10  0x000000000000010a  f10")
        let addressColumns = Set(lines.map { $0.firstRange(of: "0x")?.lowerBound.utf16Offset(in: $0) })
        #expect(addressColumns == [7])
    }

    // MARK: Escaping

    @Test func forgedLoopNameStaysOnOneHeaderLine() {
        let event = Fixtures.event(.ended, loop: "evil\nloop 'main' (tid 1) blocked", capture: .none)
        let message = formatter.message(for: event)
        #expect(message.split(separator: "\n", omittingEmptySubsequences: false).count == 1)
        #expect(message == #"loop 'evil\nloop \'main\' (tid 1) blocked' (tid 1234) was blocked for 100 ms (threshold 100 ms)"#)
    }

    @Test func forgedLoopNameKeepsFrameCountOfLines() {
        let event = Fixtures.event(.began, loop: "a\r\nb\u{2028}c\u{85}d")
        let message = formatter.message(for: event)
        #expect(message.split(whereSeparator: \.isNewline).count == 3)
        #expect(message.hasPrefix(#"loop 'a\r\nb\u{2028}c\u{85}d' (tid 1234) blocked for"#))
    }

    @Test func nastyLoopNamesAreEscapedInHeader() {
        let name = "q\"uote's\u{1B}[2J\u{0}nul\ttab 🚀\u{2028}x\\y"
        let event = Fixtures.event(.ended, loop: name, capture: .none)
        #expect(formatter.message(for: event)
            == #"loop 'q\"uote\'s\u{1B}[2J\u{00}nul\ttab 🚀\u{2028}x\\y' (tid 1234) was blocked for 100 ms (threshold 100 ms)"#)
    }

    @Test func everyControlCharacterInLoopNameKeepsOneLine() {
        let event = Fixtures.event(.began, loop: Fixtures.nastyName, frames: [])
        let message = formatter.message(for: event)
        #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(!message.unicodeScalars.contains { $0 == "\u{2028}" || $0 == "\u{2029}" })
        #expect(message.split(whereSeparator: \.isNewline).count == 1)
        #expect(message.contains("🚀👩‍👩‍👧"))
    }

    @Test func frameStringsAreEscaped() {
        let frame = StackFrame(
            index: 0, address: 0x10,
            symbol: "f()\n  #1  0x0000000000000000  forged",
            image: "lib\u{1B}]0;title\u{7}.so",
            file: "/src/\"x\"\r.swift", line: 3
        )
        let lines = formatter.frameLines([frame])
        #expect(lines == [
            #"  #0  0x0000000000000010  f()\n  #1  0x0000000000000000  forged at /src/\"x\"\r.swift:3 [lib\u{1B}]0;title\u{07}.so]"#,
        ])
        let message = formatter.message(for: Fixtures.event(.began, frames: [frame]))
        #expect(message.split(whereSeparator: \.isNewline).count == 2)
    }

    @Test func captureReasonIsEscaped() {
        let event = Fixtures.event(.began, capture: .unavailable("bad\nreason"), frames: [])
        #expect(formatter.message(for: event)
            == #"loop 'main' (tid 1234) blocked for 100 ms (threshold 100 ms); no stack: bad\nreason"#)
    }

    // MARK: Metadata

    @Test func metadataHasAllKeysAndValues() {
        let event = Fixtures.event(
            .continuing, stallID: 42, tid: 4321,
            threshold: .microseconds(100_500), blocked: .microseconds(351_123), capture: .syscall
        )
        let metadata = formatter.metadata(for: event)
        #expect(Set(metadata.keys) == ["stall_id", "loop", "tid", "threshold_ms", "blocked_ms", "capture", "event"])
        #expect(metadata["stall_id"]?.description == "42")
        #expect(metadata["loop"]?.description == "main")
        #expect(metadata["tid"]?.description == "4321")
        #expect(metadata["threshold_ms"]?.description == "100.5")
        #expect(metadata["blocked_ms"]?.description == "351.123")
        #expect(metadata["capture"]?.description == "syscall")
        #expect(metadata["event"]?.description == "stall.continuing")
    }

    @Test func metadataEscapesLoopNameAndReason() {
        let event = Fixtures.event(.ended, loop: "x\ny", capture: .unavailable("r\u{1B}"))
        let metadata = formatter.metadata(for: event)
        #expect(metadata["loop"]?.description == #"x\ny"#)
        #expect(metadata["capture"]?.description == #"r\u{1B}"#)
        #expect(metadata["event"]?.description == "stall.ended")
        #expect(metadata["threshold_ms"]?.description == "100")
    }
}
