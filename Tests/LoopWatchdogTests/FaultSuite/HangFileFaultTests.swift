import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// Hang-file paths that must never be replaced or followed, and names the temporary file
    /// must not break: the sink runs as root in production as often as not.
    @Suite
    struct HangFileFaultTests {
        /// A fresh directory for one test, removed with everything in it.
        final class Directory {
            let path: String
            init() throws {
                var template = Array("\(NSTemporaryDirectory())lwd-hang-XXXXXX".utf8CString)
                let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
                try #require(made != nil)
                path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
            deinit { try? FileManager.default.removeItem(atPath: path) }
        }

        static func fileType(_ path: String) -> mode_t? {
            var status = stat()
            return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : nil
        }

        /// A device node like /dev/null (made here, so that a failure cannot replace the
        /// system's), a FIFO, a directory and a symbolic link: each is refused at start-up
        /// with one warning, and stays what it was after a stall.
        @Test(arguments: ["device", "fifo", "directory", "symlink"])
        func pathThatIsNotARegularFileIsNeverReplaced(kind: String) throws {
            let directory = try Directory()
            let path = "\(directory.path)/hang"
            let victim = "\(directory.path)/victim"
            try #require(FileManager.default.createFile(atPath: victim, contents: Data("keep me\n".utf8)))
            switch kind {
            case "device": try #require(mknod(path, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0, "mknod: errno \(errno)")
            case "fifo": try #require(mkfifo(path, 0o600) == 0)
            case "directory": try #require(mkdir(path, 0o700) == 0)
            default: try #require(symlink(victim, path) == 0)
            }
            let before = Self.fileType(path)
            let (handler, logger) = inMemoryLogger()
            let sink = HangFileSink(path: path, logger: logger)
            let warnings = handler.entries.filter { $0.level == .warning }.map(\.message.description)
            #expect(warnings.count == 1 && warnings.first?.contains("never replaced") == true, "\(warnings)")
            sink.emit(Fixtures.event(.began))
            sink.emit(Fixtures.event(.ended))
            #expect(Self.fileType(path) == before)
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".lwd-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }

        /// Symbolic links planted at every name the old temporary file could have had
        /// (`<path>.tmp-<pid>`) point at an unrelated file: it is never truncated, and the
        /// hang file is written.
        @Test func plantedTemporaryNameIsNeverFollowed() throws {
            let directory = try Directory()
            let path = "\(directory.path)/hang.txt"
            let victim = "\(directory.path)/victim"
            try #require(FileManager.default.createFile(atPath: victim, contents: Data("keep me\n".utf8)))
            try #require(symlink(victim, "\(path).tmp-\(getpid())") == 0)
            let (_, logger) = inMemoryLogger()
            HangFileSink(path: path, logger: logger).emit(Fixtures.event(.began))
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("1 stall in progress"))
        }

        /// A name of 250 bytes (NAME_MAX is 255) works: the temporary file's name is short.
        @Test func longFileNameWorks() throws {
            let directory = try Directory()
            let path = "\(directory.path)/" + String(repeating: "h", count: 250)
            let (handler, logger) = inMemoryLogger()
            HangFileSink(path: path, logger: logger).emit(Fixtures.event(.began))
            #expect(handler.entries.filter { $0.level == .warning }.isEmpty, "\(handler.entries.map(\.message))")
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("1 stall in progress"))
        }

        /// A directory that does not exist is said at start-up, not at the first stall.
        @Test func unwritableDirectoryIsSaidAtStartUp() throws {
            let directory = try Directory()
            let (handler, logger) = inMemoryLogger()
            _ = HangFileSink(path: "\(directory.path)/missing/hang.txt", logger: logger)
            let warnings = handler.entries.filter { $0.level == .warning }.map(\.message.description)
            #expect(warnings.count == 1 && warnings.first?.contains("not writable") == true, "\(warnings)")
        }
    }
}

extension FaultSuite.HangFileFaultTests {
    /// Records what it is given; wants frames early, as the hang file does.
    final class EarlySink: EventSink, @unchecked Sendable {
        private let lock = Mutex<[StallEvent]>([])
        var events: [StallEvent] { lock.withLock { $0 } }
        var wantsFramesEarly: Bool { true }
        func emit(_ event: StallEvent) { lock.withLock { $0.append(event) } }
    }

    /// The hang file gets a stall's stack before symbolication (a process killed during a
    /// cold symbolication, which can take seconds, still leaves it), then symbolicated;
    /// other sinks get it once, symbolicated.
    @Test func hangFileGetsTheStackBeforeSymbolication() throws {
        let early = EarlySink()
        let late = EventCollector()
        let reporter = Reporter(sinks: [early, ClosureEventSink(handler: { late.append($0) })])
        // libc's usleep: exported, so the dynamic linker names it.
        let address = UInt(bitPattern: dlsym(UnsafeMutableRawPointer(bitPattern: 0), "usleep"))
        try #require(address != 0)
        reporter.report(PendingEvent(event: Fixtures.event(.began, frames: []), addresses: [address + 1]))
        reporter.report(PendingEvent(event: Fixtures.event(.ended, frames: []), addresses: []))
        reporter.flush()
        #expect(early.events.map(\.kind) == [.began, .began, .ended])
        #expect(late.all.map(\.kind) == [.began, .ended])
        #expect(early.events[0].frames.first?.file == nil)
        #expect(early.events[0].frames.first?.symbol?.contains("usleep") == true, "\(early.events[0].frames)")
        #expect(early.events[1].frames == late.all[0].frames)
    }
}
