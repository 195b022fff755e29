import Testing
@testable import LoopWatchdog

@Suite("String.escapedForLogLine")
struct LogLineEscapingTests {
    @Test func plainTextIsUnchanged() {
        #expect("main".escapedForLogLine == "main")
        #expect("worker-1 (io) ü ß 日本 🚀👩‍👩‍👧".escapedForLogLine == "worker-1 (io) ü ß 日本 🚀👩‍👩‍👧")
        #expect("".escapedForLogLine == "")
    }

    @Test func lineBreaksAndTabsBecomeBackslashEscapes() {
        #expect("a\nb".escapedForLogLine == #"a\nb"#)
        #expect("a\rb".escapedForLogLine == #"a\rb"#)
        #expect("a\tb".escapedForLogLine == #"a\tb"#)
        // "\r\n" is a single Character; both scalars must still be escaped.
        #expect("a\r\nb".escapedForLogLine == #"a\r\nb"#)
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(#"say "hi""#.escapedForLogLine == #"say \"hi\""#)
        #expect("it's".escapedForLogLine == #"it\'s"#)
        #expect(#"C:\path\n"#.escapedForLogLine == #"C:\\path\\n"#)
    }

    @Test func otherControlCharactersBecomeHexEscapes() {
        #expect("\u{1B}[31mred".escapedForLogLine == #"\u{1B}[31mred"#)
        #expect("nul\u{0}here".escapedForLogLine == #"nul\u{00}here"#)
        #expect("bell\u{7}".escapedForLogLine == #"bell\u{07}"#)
        #expect("del\u{7F}".escapedForLogLine == #"del\u{7F}"#)
        #expect("nel\u{85}csi\u{9B}".escapedForLogLine == #"nel\u{85}csi\u{9B}"#)
    }

    @Test func unicodeSeparatorsAndBidiOverridesAreEscaped() {
        #expect("a\u{2028}b\u{2029}c".escapedForLogLine == #"a\u{2028}b\u{2029}c"#)
        #expect("abc\u{202E}fed".escapedForLogLine == #"abc\u{202E}fed"#)
        #expect("x\u{2066}y\u{2069}".escapedForLogLine == #"x\u{2066}y\u{2069}"#)
    }

    @Test func everyControlCharacterLeavesOnlyPrintableASCII() {
        var escaped: [String] = []
        for value in Array(UInt32(0x00)...0x1F) + Array(UInt32(0x7F)...0x9F) {
            let text = String(Unicode.Scalar(value)!).escapedForLogLine
            escaped.append(text)
            #expect(
                text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) },
                "U+\(String(value, radix: 16)) escaped to \(text.debugDescription)"
            )
            #expect(text.hasPrefix("\\"), "U+\(String(value, radix: 16)) was not escaped")
        }
        #expect(escaped.count == 65)
    }

    @Test func textThatLooksEscapedIsEscapedAgain() {
        // A name that already looks like an escape must not read as one after escaping.
        #expect(#"\n"#.escapedForLogLine == #"\\n"#)
        #expect(#"\u{1B}"#.escapedForLogLine == #"\\u{1B}"#)
    }
}
