import CLoopWatchdog
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// Outputs that fail under the host: a reader that went away, a FIFO nobody reads, a
    /// full device, a reader that stopped reading, a file shared with standard output, log
    /// rotation, a pipe shared by several writers. The host lives on and goes on as it
    /// would without the watchdog; what is lost is counted and said.
    @Suite
    struct OutputFaultTests {
        static func scratch(_ name: String) -> String {
            "\(NSTemporaryDirectory())lwd-output-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
        }

        /// Standard error is a pipe whose reader is gone: with the watchdog's SIGPIPE blocked
        /// on its own threads, the writes fail with EPIPE and the host exits normally (it
        /// was killed by SIGPIPE, status 141, before), in both formats.
        @Test(arguments: ["json", "text"])
        func closedStandardErrorNeverKillsTheHost(format: String) async throws {
            let (result, _) = try await ChildProcess.runHelper(
                ["closed-stderr"],
                environment: ["LOOP_WATCHDOG_FORMAT": format, "LOOP_WATCHDOG_THRESHOLD": "100ms"])
            #expect(int(result, "stalls") == 2)
        }

        /// Under an address-space limit with 64 MB left (`ulimit -v`), symbolication fits
        /// (its indexes take a few megabytes): the stalls are reported with file:line and
        /// the host keeps running. One malloc arena: a thread's first allocation after the
        /// limit would otherwise reserve a 64 MB arena of address space, all of the room,
        /// whenever glibc decides to make one.
        @Test func memoryLimitLeavesRoomForSymbolication() async throws {
            let (result, child) = try await ChildProcess.runHelper(
                ["memory-limit", "64"], environment: ["LOOP_WATCHDOG_THRESHOLD": "100ms", "MALLOC_ARENA_MAX": "1"])
            #expect(int(result, "stalls") == 2)
            let error = child.standardError
            #expect(!error.contains("named by the dynamic linker only"), "\(error.suffix(3_000))")
            #expect(error.contains("helperBlockedInSleep(milliseconds:) at /"), "\(error.suffix(3_000))")
            #expect(error.components(separatedBy: "blocked for").count >= 3, "\(error.suffix(3_000))")
        }

        /// With less room left than symbolication may need, an allocation could fail and
        /// the Swift runtime would end the host: the stalls are reported with the dynamic
        /// linker's names only, with one warning.
        @Test func memoryLimitWithNoRoomNeverCrashesTheHost() async throws {
            let (result, child) = try await ChildProcess.runHelper(
                ["memory-limit", "24"], environment: ["LOOP_WATCHDOG_THRESHOLD": "100ms"])
            #expect(int(result, "stalls") == 2)
            let error = child.standardError
            #expect(error.components(separatedBy: "named by the dynamic linker only").count == 2, "\(error.suffix(3_000))")
            #expect(error.components(separatedBy: "blocked for").count >= 3, "\(error.suffix(3_000))")
        }

        /// The first reports of a fresh process (the executable's symbol indexes still being
        /// built) and reports that follow one another never wait behind symbolication: each
        /// stall.began reaches the sinks within a fraction of the threshold after its capture
        /// (with the toolchain's Runtime module the first waited 0.3 s to seconds, and the
        /// others behind it). The bound is generous for a shared machine.
        @Test func stallBeganNeverWaitsBehindSymbolication() async throws {
            let (result, _) = try await ChildProcess.runHelper(["first-reports"])
            #expect(int(result, "began") == 4)
            let lags = try #require(result["lags_ms"] as? [Double])
            #expect(lags.count == 4 && lags.allSatisfy { $0 < 300 }, "\(lags)")
            let grown = int(result, "resident_kb_after") - int(result, "resident_kb_before")
            #expect(grown < 24 << 10, "resident memory grew by \(grown) kB")
        }

        /// The host exits right after a stall without stopping the watchdog, while the
        /// reporter still writes: what was captured reaches the output before the process
        /// ends.
        @Test func reportsQueuedAtExitAreWritten() async throws {
            let (result, child) = try await ChildProcess.runHelper(
                ["exit-after-stall"], environment: ["LOOP_WATCHDOG_THRESHOLD": "100ms"])
            #expect(int(result, "exited") == 1)
            let lines = child.standardOutput.split(separator: "\n").filter { $0.hasPrefix("LOG ") }
            #expect(lines.count == 2, "\(child.standardOutput)")
            #expect(lines.last?.contains("took") == true || lines.last?.contains("blocked for") == true, "\(lines)")
        }

        /// LOOP_WATCHDOG_OUTPUT names a FIFO with no reader: opening it would wait for a
        /// reader forever. Start-up goes on at once, with one warning, and the stalls go to
        /// standard error.
        @Test func fifoWithNoReaderNeverHangsStartUp() async throws {
            let fifo = Self.scratch("fifo")
            try #require(mkfifo(fifo, 0o600) == 0)
            defer { unlink(fifo) }
            let (result, child) = try await ChildProcess.runHelper(
                ["stalls", "1", "300"],
                environment: [
                    "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": fifo, "LOOP_WATCHDOG_THRESHOLD": "100ms",
                ],
                timeout: .seconds(30))
            #expect(int(result, "stalls") == 1)
            let error = child.standardError
            #expect(error.contains("a FIFO with no reader"), "\(error.suffix(2_000))")
            #expect(error.contains("\"event\":\"stall.began\""), "\(error.suffix(2_000))")
        }

        /// LOOP_WATCHDOG_OUTPUT=/dev/stdout while standard output is a file: the lines share
        /// standard output's descriptor, so neither the program's own lines nor the JSON
        /// lines overwrite each other (two descriptors had two offsets).
        @Test func outputNamingStandardOutputSharesItsOffset() async throws {
            let (result, child) = try await ChildProcess.runHelper(
                ["stalls", "1", "300"],
                environment: [
                    "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": "/dev/stdout",
                    "LOOP_WATCHDOG_THRESHOLD": "100ms",
                ])
            #expect(int(result, "stalls") == 1)
            let lines = child.standardOutput.split(separator: "\n")
            #expect(lines.first == "READY", "\(lines)")
            let events = lines.filter { $0.contains("\"event\":\"stall.") }
            #expect(events.count == 2, "\(lines)")
            for line in events {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
            }
        }

        /// Writes to a full device fail: one warning with the errno, however many lines are
        /// lost, and nothing thrown or crashed.
        @Test func failedWritesAreSaidOnceWithTheirErrno() throws {
            let (handler, logger) = inMemoryLogger()
            let output = try #require(LineOutput(path: "/dev/full", logger: logger))
            for index in 0..<5 { output.write("{\"line\":\(index)}") }
            let warnings = handler.entries.filter { $0.level == .warning }.map(\.message.description)
            #expect(warnings.count == 1, "\(warnings)")
            #expect(warnings.first?.contains("errno \(ENOSPC)") == true, "\(warnings)")
        }

        /// A reader that stops reading: a line that does not fit is given up after the write
        /// timeout, the next ones are not waited for, and once the reader drains the pipe
        /// the torn line is ended before the next one, so that no two lines are glued; the
        /// lines lost are said.
        @Test func stuckReaderCostsOneTimeoutAndLeavesNoTornLine() throws {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            defer { close(ends[0]); close(ends[1]) }
            _ = fcntl(ends[1], 1031 /* F_SETPIPE_SZ */, 4096)
            let (handler, logger) = inMemoryLogger()
            let output = LineOutput(descriptor: ends[1], name: "test pipe", logger: logger)
            let big = "{\"big\":\"" + String(repeating: "x", count: 6_000) + "\"}"
            let start = lwd_monotonic_ns()
            output.write(big)
            let firstWrite = lwd_monotonic_ns() - start
            output.write("{\"second\":1}")
            let both = lwd_monotonic_ns() - start
            #expect(firstWrite >= LineOutput.writeTimeoutNanoseconds)
            #expect(both < firstWrite + 500_000_000, "the second line waited too")
            // The reader drains the pipe, then a line goes through.
            _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
            var drained: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(ends[0], &buffer, buffer.count)
                if count <= 0 { break }
                drained += buffer[0..<count]
            }
            output.write("{\"third\":1}")
            let count = read(ends[0], &buffer, buffer.count)
            try #require(count > 0)
            let after = String(decoding: buffer[0..<count], as: UTF8.self)
            #expect(after == "\n{\"third\":1}\n", "the fragment of the torn line is ended first: \(after.debugDescription)")
            #expect(!drained.isEmpty && drained.count < big.utf8.count)
            let messages = handler.entries.map(\.message.description)
            #expect(messages.contains { $0.contains("again") && $0.contains("2 stall events were lost") }, "\(messages)")
        }

        /// Log rotation: the file is renamed away; the next line goes to a new file at the
        /// path, the old lines stay in the renamed one.
        @Test func renamedOutputFileIsReopenedAtItsPath() throws {
            let path = Self.scratch("rotate.jsonl")
            defer { unlink(path); unlink(path + ".1") }
            let (_, logger) = inMemoryLogger()
            let output = try #require(LineOutput(path: path, logger: logger))
            output.write("{\"n\":1}")
            try #require(rename(path, path + ".1") == 0)
            output.write("{\"n\":2}")
            #expect(try String(contentsOfFile: path + ".1", encoding: .utf8) == "{\"n\":1}\n")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"n\":2}\n")
        }

        /// On a FIFO every JSON line fits in PIPE_BUF, however many frames the event has, so
        /// that the lines of several processes sharing it never interleave.
        @Test func jsonLinesOnAFIFOFitInOneAtomicWrite() throws {
            let fifo = Self.scratch("shared-fifo")
            try #require(mkfifo(fifo, 0o600) == 0)
            defer { unlink(fifo) }
            let reader = open(fifo, O_RDONLY | O_NONBLOCK)
            try #require(reader >= 0)
            defer { close(reader) }
            let (_, logger) = inMemoryLogger()
            let output = try #require(LineOutput(path: fifo, logger: logger))
            #expect(output.lineLimit == Int(PIPE_BUF))
            let frames = (0..<400).map { index in
                StackFrame(index: index, address: UInt(0x5555_0000 + index), symbol: "someRatherLongFunctionName\(index)(argument:)",
                           image: "app", file: "/src/Sources/App/Routes.swift", line: index)
            }
            JSONLinesEventSink(output: output).emit(Fixtures.event(.began, frames: frames))
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = read(reader, &buffer, buffer.count)
            try #require(count > 0)
            let line = buffer[0..<count]
            #expect(count <= Int(PIPE_BUF))
            #expect(line.last == UInt8(ascii: "\n"))
            let object = try JSONSerialization.jsonObject(with: Data(line.dropLast())) as? [String: Any]
            let kept = (object?["frames"] as? [Any])?.count ?? 0
            #expect(kept > 0 && kept < 400, "\(kept) frames kept")
        }

        /// An output that takes nothing (a sink stuck in a write) holds `stop()` for at most
        /// the flush timeout, and events beyond the queue's capacity are dropped and counted,
        /// never queued without bound.
        @Test func stuckOutputBoundsShutdownAndTheQueue() throws {
            let release = DispatchSemaphore(value: 0)
            let reporter = Reporter(sinks: [ClosureEventSink(handler: { _ in release.wait() })])
            for _ in 0..<(Reporter.capacity + 100) {
                reporter.report(PendingEvent(event: Fixtures.event(.began), addresses: []))
            }
            // At most one is running (stuck), `capacity` wait, the rest were dropped.
            let dropped = reporter.droppedTotal.load(ordering: .relaxed)
            #expect(dropped >= 99 && dropped <= 100, "\(dropped) dropped")
            let start = lwd_monotonic_ns()
            #expect(reporter.flush(timeout: .milliseconds(300)) == false)
            #expect(lwd_monotonic_ns() - start < 5_000_000_000)
            for _ in 0..<(Reporter.capacity + 100) { release.signal() }
            #expect(reporter.flush(timeout: .seconds(30)))
        }
    }
}
