import Testing
@testable import LoopWatchdog

/// Events and frames shared by the formatter tests.
enum Fixtures {
    /// A fully symbolicated frame.
    static let demoFrame = StackFrame(
        index: 0,
        address: 0x0000_5555_dead_beef,
        symbol: "Demo.sleepBlocking(milliseconds:)",
        image: "loop-watchdog",
        file: "/src/Demo.swift",
        line: 42
    )

    /// A frame with nothing known but its address.
    static let bareFrame = StackFrame(index: 1, address: 0x7f12_3456_7890)

    /// An event with the given fields and sensible defaults for the rest.
    static func event(
        _ kind: StallEvent.Kind,
        stallID: UInt64 = 7,
        loop: String = "main",
        tid: Int32 = 1234,
        threshold: Duration = .milliseconds(100),
        blocked: Duration = .milliseconds(100),
        capture: CaptureOutcome = .signal,
        frames: [StackFrame] = [demoFrame, bareFrame]
    ) -> StallEvent {
        StallEvent(
            kind: kind,
            stallID: stallID,
            loopName: loop,
            threadID: tid,
            threshold: threshold,
            blocked: blocked,
            capture: capture,
            frames: frames
        )
    }

    /// Every C0 control character, then DEL, C1 controls, quotes, backslashes, emoji and
    /// the Unicode line and paragraph separators.
    static let nastyName: String = {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0x00)...0x1F { scalars.append(Unicode.Scalar(value)!) }
        var name = String(scalars)
        name += "\u{7F}\u{80}\u{85}\u{9B}\u{9F}"
        name += "\"quoted\" 'single' back\\slash \\\\ \\n \\u0000"
        name += "🚀👩‍👩‍👧 é e\u{301}"
        name += "\u{2028}\u{2029}\u{202E}end"
        return name
    }()
}

/// A test argument whose console description is a plain label, so that strings full of
/// control characters do not garble the test runner's output.
struct LabeledString: Sendable, CustomTestStringConvertible {
    /// What the test output shows.
    let label: String
    /// The string under test.
    let value: String

    init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }

    var testDescription: String { label }
}
