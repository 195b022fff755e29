import Foundation
import Glibc
import Logging
import Testing

@testable import LoopWatchdog

/// The hang file's path template and content, without threads.
struct HangFileTests {
    @Test(arguments: [
        ("/tmp/hang-%p.txt", "/tmp/hang-4242.txt"),
        ("/tmp/hang.txt", "/tmp/hang.txt"),
        ("/tmp/100%%-%p", "/tmp/100%-4242"),
        ("/tmp/%x-%", "/tmp/%x-%"),
        ("%p%p", "42424242"),
    ])
    func pathTemplateExpandsThePid(template: String, expected: String) {
        #expect(HangFilePath.expand(template, pid: 4242) == expected)
    }

    @Test func reportShowsStallsInProgressThenTheLastOneThatEnded() {
        var report = HangReport()
        #expect(report.text(pid: 7, wallClockSeconds: 0).contains("No stall so far."))
        let frame = StackFrame(index: 0, address: 0x1234, symbol: "deadlocked()", image: "app")
        var began = StallEvent(
            kind: .began, stallID: 3, loopName: "main", threadID: 99, threshold: .milliseconds(100),
            blocked: .milliseconds(105), capture: .signal, frames: [frame])
        report.record(began)
        let first = report.text(pid: 7, wallClockSeconds: 86_400 + 3_661)
        #expect(first.hasPrefix("LoopWatchdog hang file of pid 7, written 1970-01-02T01:01:01Z.\n1 stall in progress:\n"))
        #expect(first.contains("stall 3, stall.began:\nloop 'main' (tid 99) blocked for 105 ms"))
        #expect(first.contains("deadlocked()"))

        began.kind = .continuing
        began.blocked = .seconds(3)
        began.frames = [StackFrame(index: 0, address: 0x5678, symbol: "stillDeadlocked()", image: "app")]
        report.record(began)
        let second = report.text(pid: 7, wallClockSeconds: 0)
        #expect(second.contains("still blocked after 3 s"))
        #expect(second.contains("stillDeadlocked()") && !second.contains("deadlocked() "))

        report.record(StallEvent(
            kind: .ended, stallID: 3, loopName: "main", threadID: 99, threshold: .milliseconds(100),
            blocked: .milliseconds(3_400), capture: .none))
        let last = report.text(pid: 7, wallClockSeconds: 0)
        #expect(last.contains("No stall in progress. The last one ended:"))
        #expect(last.contains("was blocked for 3.4 s"))
        #expect(last.contains("its last stack, from stall.continuing after 3 s:"))
        #expect(last.contains("stillDeadlocked()"))
        #expect(report.inProgress.isEmpty)
    }

    @Test func sinkReplacesTheFileAndLogsOnceWhenItCannot() throws {
        let directory = "\(NSTemporaryDirectory())lwd-hangdir-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (handler, logger) = inMemoryLogger()
        let sink = HangFileSink(path: "\(directory)/hang.txt", logger: logger)
        let event = StallEvent(
            kind: .began, stallID: 1, loopName: "main", threadID: 1, threshold: .milliseconds(100),
            blocked: .milliseconds(100), capture: .unavailable("sigprof-blocked"))
        sink.emit(event)
        let text = try String(contentsOfFile: "\(directory)/hang.txt", encoding: .utf8)
        #expect(text.contains("no stack: sigprof-blocked"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["hang.txt"])

        let broken = HangFileSink(path: "\(directory)/missing/hang.txt", logger: logger)
        broken.emit(event)
        broken.emit(event)
        #expect(handler.entries.filter { $0.level == .warning }.count == 1)
    }
}
