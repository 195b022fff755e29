import Foundation
import Glibc
import Testing

@testable import LoopWatchdog

/// `loop-watchdog report` on stall logs as the library writes them, with the damage real
/// logs have: other programs' lines, a torn line, gzip, standard input.
@Suite(.serialized)
struct ReportCommandTests {
    static let directory = NSTemporaryDirectory() + "lwd-report-\(getpid())"

    /// A log of 40 stalls on two loops (30 sleeps of 300 ms at one site, 10 spins of 1 s at
    /// another), 6 repeats of the sleep site, and four lines that are not stall events.
    static func log() -> String {
        let formatter = JSONEventFormatter()
        let sleep = StallLogLineTests.appFrames
        let spin = [StackFrame(index: 0, address: 9, symbol: "spinRoute()", image: "App", file: "/src/App.swift", line: 60)]
        var lines = ["2026-12-06T22:00:00+0000 info App: started", #"{"level":"info","msg":"not ours"}"#]
        var time = 1_765_000_000.0
        for index in 0..<40 {
            let spinning = index % 4 == 3
            let id = UInt64(index + 1)
            let loop = spinning ? "NIO-ELT-0-#1" : "swift-concurrency-pool.medium"
            var began = Fixtures.event(.began, stallID: id, loop: loop, tid: 100, frames: spinning ? spin : sleep)
            began.blocked = .milliseconds(101)
            lines.append(formatter.line(for: began, wallClockSeconds: time + 0.1))
            var ended = Fixtures.event(.ended, stallID: id, loop: loop, tid: 100, blocked: .milliseconds(spinning ? 1000 : 300), frames: [])
            ended.cause = StallCause(verdict: spinning ? .computing : .sleeping, phases: [], measured: .milliseconds(200))
            lines.append(formatter.line(for: ended, wallClockSeconds: time + (spinning ? 1 : 0.3)))
            time += 2
        }
        lines.append(
            #"{"time":1765000100,"event":"stall.repeats","site":"sleepRoute<A>(_:_:) <- App+0x4000","loop":"swift-concurrency-pool.medium","stalls":6,"blocked_ms":1800,"longest_ms":310,"since_ms":2000}"#)
        let torn = formatter.line(for: Fixtures.event(.began, stallID: 99, frames: sleep), wallClockSeconds: time)
        lines.append(String(torn.prefix(torn.count / 2)))
        lines.append("Segmentation fault (core dumped)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func write(_ text: String, name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func report(_ arguments: [String]) async throws -> ChildProcess {
        let child = try ChildProcess(ChildProcess.tool, ["report"] + arguments)
        _ = try await child.waitForExit(timeout: .seconds(60))
        return child
    }

    @Test func theTableTheCountsAndEveryOutput() async throws {
        let log = try Self.write(Self.log(), name: "stalls.jsonl")
        let out = Self.directory
        let child = try await Self.report([
            log, "--folded", "\(out)/a.folded", "--flamegraph", "\(out)/a.svg", "--trace", "\(out)/a.json",
            "--pprof", "\(out)/a.pb.gz",
        ])
        let status = try await child.waitForExit()
        #expect(status == 0, "\(child.standardError)")
        let table = child.standardOutput.split(separator: "\n").map(String.init)
        #expect(table[0].hasPrefix("2 sites, 46 stalls, 20.8 s blocked"), "\(table)")
        #expect(table[2].contains("10.8 s") && table[2].contains(" 36 ") && table[2].contains("sleeping")
            && table[2].contains("sleepRoute<A>(_:_:) <- App+0x4000"), "\(table)")
        #expect(table[3].contains("10 s") && table[3].contains("spinRoute()") && table[3].contains("computing")
            && table[3].contains("NIO-ELT-0-#1"), "\(table)")
        #expect(child.standardError.contains("80 stall events, 1 repeats lines, 3 other lines skipped, 1 torn or malformed lines skipped"),
                "\(child.standardError)")
        let folded = try String(contentsOfFile: "\(out)/a.folded", encoding: .utf8)
        #expect(folded == "App+0x4000;sleepRoute<A>(_:_:);usleep;clock_nanosleep 10800\nspinRoute() 10000\n")
        let svg = try String(contentsOfFile: "\(out)/a.svg", encoding: .utf8)
        #expect(svg.contains("data-ms=\"20800\""))
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/a.json"))) as? [String: Any]
        #expect((trace?["traceEvents"] as? [[String: Any]])?.filter { $0["ph"] as? String == "X" }.count == 40)
        let gzipped = try Data(contentsOf: URL(fileURLWithPath: "\(out)/a.pb.gz"))
        #expect(gzipped.prefix(2) == Data([0x1F, 0x8B]))
    }

    @Test func gzipAndStandardInputGiveTheSameTable() async throws {
        let log = try Self.write(Self.log(), name: "same.jsonl")
        let plain = try await Self.report([log])
        let gzip = try ChildProcess("/bin/gzip", ["-k", "-f", log])
        #expect(try await gzip.waitForExit() == 0)
        let compressed = try await Self.report([log + ".gz"])
        #expect(compressed.standardOutput == plain.standardOutput)
        let piped = try ChildProcess("/bin/sh", ["-c", "\(ChildProcess.tool) report < \(log)"])
        #expect(try await piped.waitForExit() == 0)
        #expect(piped.standardOutput == plain.standardOutput)
        #expect(plain.standardOutput.contains("46 stalls"))
    }

    @Test func filtersNarrowTheStalls() async throws {
        let log = try Self.write(Self.log(), name: "filters.jsonl")
        let loop = try await Self.report([log, "--loop", "NIO-"])
        #expect(loop.standardOutput.hasPrefix("1 site, 10 stalls, 10 s blocked"), "\(loop.standardOutput)")
        let long = try await Self.report([log, "--min-duration", "500ms"])
        #expect(long.standardOutput.hasPrefix("1 site, 10 stalls"), "\(long.standardOutput)")
        let early = try await Self.report([log, "--until", "1765000020"])
        #expect(early.standardOutput.contains(" stalls, "), "\(early.standardOutput)")
        #expect(!early.standardOutput.hasPrefix("2 sites, 46"), "\(early.standardOutput)")
        let bad = try await Self.report([log, "--min-duration", "banana"])
        #expect(try await bad.waitForExit() == 64)
        #expect(bad.standardError.contains("--min-duration 'banana'"), "\(bad.standardError)")
    }

    @Test func aMissingFileOrALogWithoutStallsFailsWithAMessage() async throws {
        let missing = try await Self.report(["\(Self.directory)/does-not-exist.jsonl"])
        #expect(try await missing.waitForExit() == 1)
        #expect(!missing.standardError.contains("Usage:"), "\(missing.standardError)")
        #expect(missing.standardError.contains("cannot read"), "\(missing.standardError)")
        let empty = try Self.write("just a log line\n{\"msg\":1}\n", name: "nothing.jsonl")
        let none = try await Self.report([empty])
        #expect(try await none.waitForExit() == 1)
        #expect(none.standardError.contains("no stall events"), "\(none.standardError)")
    }

    /// A progress line on a terminal (a pseudo-terminal made by script(1)), none in a file.
    @Test func progressIsShownOnATerminalOnly() async throws {
        let log = try Self.write(String(repeating: Self.log(), count: 200), name: "progress.jsonl")
        let terminal = try ChildProcess("/usr/bin/script", ["-qc", "\(ChildProcess.tool) report --top 1 \(log)", "/dev/null"])
        #expect(try await terminal.waitForExit() == 0, "\(terminal.standardError)")
        #expect(terminal.standardOutput.contains("reading \(log): "), "\(terminal.standardOutput)")
        let file = try await Self.report(["--top", "1", log])
        #expect(!file.standardError.contains("reading"), "\(file.standardError)")
        let quiet = try ChildProcess("/usr/bin/script", ["-qc", "\(ChildProcess.tool) report --quiet --top 1 \(log)", "/dev/null"])
        #expect(try await quiet.waitForExit() == 0)
        #expect(!quiet.standardOutput.contains("reading"), "\(quiet.standardOutput)")
    }

    @Test func aTruncatedGzipFileIsReadAsFarAsItGoes() async throws {
        let log = try Self.write(Self.log(), name: "cut.jsonl")
        let gzip = try ChildProcess("/bin/gzip", ["-k", "-f", log])
        #expect(try await gzip.waitForExit() == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: log + ".gz"))
        try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: "\(Self.directory)/cut.jsonl.gz"))
        let child = try await Self.report(["\(Self.directory)/cut.jsonl.gz"])
        #expect(try await child.waitForExit() == 0, "\(child.standardError)")
        #expect(child.standardError.contains("truncated gzip file"), "\(child.standardError)")
    }
}
