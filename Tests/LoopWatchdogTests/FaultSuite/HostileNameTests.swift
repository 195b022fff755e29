import Foundation
import Glibc
import Logging
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// A loop name with newlines, quotes and control characters, through a real watchdog to
    /// both outputs: the text report stays one header line per event plus frame lines, and
    /// the JSON line parses back to the exact name.
    @Suite(.serialized)
    struct HostileNameTests {
        static let name = "evil\nWARNING fake line \"quoted\" 'single' \\ tab\t bell\u{07} esc\u{1B}[31m nul\u{0} rtl\u{202E} ls\u{2028} 🐶"

        @Test func textReportEscapesTheName() throws {
            let (handler, logger) = inMemoryLogger()
            let watchdog = Watchdog(configuration: Configuration(threshold: .milliseconds(50)), logger: logger, environment: [:])
            watchdog.start()
            let loop = try ScriptedLoop(watchdog: watchdog, name: Self.name)
            loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
            watchdog.stop()
            let reports = handler.entries.filter { $0.metadata["event"] != nil }
            try #require(reports.count == 2, "\(handler.entries)")
            for report in reports {
                let message = report.message.description
                let header = String(message.split(separator: "\n", omittingEmptySubsequences: false)[0])
                #expect(header.hasPrefix("loop 'evil\\nWARNING fake line \\\"quoted\\\" \\'single\\' \\\\ tab\\t bell\\u{07} esc\\u{1B}[31m nul\\u{00} rtl\\u{202E} ls\\u{2028} 🐶' (tid "), "\(header)")
                // Every line after the header is indented: a frame, or the ended event's
                // cause, remedy and samples.
                for line in message.split(separator: "\n").dropFirst() {
                    #expect(line.hasPrefix("  #") || line.hasPrefix("    #") || line.hasPrefix("  cause: ")
                        || line.hasPrefix("  remedy: ") || line.hasPrefix("  samples: ") || line.contains(" samples ("),
                        "\(line)")
                }
                #expect(!message.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
                #expect(report.metadata["loop"]?.description.contains("\n") == false)
            }
        }

        @Test func jsonLineRoundTripsTheName() throws {
            let path = "\(NSTemporaryDirectory())lwd-name-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
            defer { unlink(path) }
            let watchdog = Watchdog(
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                environment: ["LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": path, "LOOP_WATCHDOG_THRESHOLD": "50ms"])
            watchdog.start()
            let loop = try ScriptedLoop(watchdog: watchdog, name: Self.name)
            loop.run([.block { sleepInUsleep(milliseconds: 200) }, .idle(milliseconds: 100)])
            watchdog.stop()
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = text.split(separator: "\n")
            try #require(lines.count == 2, "\(text)")
            for line in lines {
                #expect(!line.unicodeScalars.contains { $0.value < 0x20 }, "\(line)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(object["loop"] as? String == Self.name)
            }
        }
    }
}
