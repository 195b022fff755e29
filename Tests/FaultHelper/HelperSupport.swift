import CLoopWatchdog
import CLoopWatchdogTestSupport
import Foundation
import Glibc
import LoopWatchdog
import Synchronization

/// A joinable pthread running one closure (the helper uses only LoopWatchdog's public API,
/// so it has its own).
final class HelperThread: @unchecked Sendable {
    private var handle = pthread_t()

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts a thread running `body`; exits the helper if the system refuses.
    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body))
        let rc = pthread_create(&handle, nil, { argument in
            Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else { fail("pthread_create failed: \(rc)") }
    }

    /// Waits for the thread to finish. Call once.
    func join() {
        pthread_join(handle, nil)
    }
}

/// Collects events on the reporter queue.
final class EventLog: Sendable {
    private let events = Mutex<[StallEvent]>([])
    var all: [StallEvent] { events.withLock { $0 } }
    func append(_ event: StallEvent) { events.withLock { $0.append(event) } }

    /// Waits (at most `seconds`) until `count` stalls have ended: the reporter thread has
    /// then symbolicated and delivered them, and opens no file for them any more.
    func waitForEnded(_ count: Int, seconds: Int = 30) {
        for _ in 0..<(seconds * 100) {
            if events.withLock({ $0.lazy.filter { $0.kind == .ended }.count }) >= count { return }
            sleepMilliseconds(10)
        }
    }
}

/// What the process holds now: resident memory and open file descriptors.
struct ResourceFigures {
    var residentKilobytes: Int
    /// Open descriptors, less the image files the symbolicator keeps open.
    var descriptors: Int
    var pidfds: Int
    /// What each descriptor refers to (readlink of /proc/self/fd/N), to name a leak.
    var targets: [String] = []

    /// Reads VmRSS from /proc/self/status and counts /proc/self/fd.
    static func now() -> ResourceFigures {
        var rss = -1
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                rss = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
            }
        }
        var descriptors = 0
        var pidfds = 0
        var targets: [String] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for entry in entries {
            var buffer = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(entry)", &buffer, buffer.count - 1)
            guard length >= 0 else { continue }  // the directory's own fd, closed already
            descriptors += 1
            let target = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if target.contains("pidfd") { pidfds += 1 }
            targets.append(target)
        }
        // The symbolicator keeps the file of each image it read open (at most one per loaded
        // image): not counted, or a stack that first runs through a library during the
        // measured stretch would look like a leak.
        let mapped = mappedFiles()
        let imageFiles = targets.filter { mapped.contains($0) }
        targets.removeAll { mapped.contains($0) }
        return ResourceFigures(
            residentKilobytes: rss, descriptors: descriptors - imageFiles.count, pidfds: pidfds, targets: targets)
    }

    /// The files mapped into this process (/proc/self/maps): its executable and libraries.
    static func mappedFiles() -> Set<String> {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return [] }
        var files = Set<String>()
        for line in maps.split(separator: "\n") {
            if let slash = line.firstIndex(of: "/") { files.insert(String(line[slash...])) }
        }
        return files
    }

    /// `now()` after a first, discarded reading: the first reading itself allocates (file
    /// and directory APIs warm up after VmRSS was read), which must not count as growth.
    static func baseline() -> ResourceFigures {
        _ = now()
        return now()
    }

    /// The descriptors' targets that `later` holds and this does not (one entry per extra
    /// descriptor), for a failure message.
    func descriptorsAdded(in later: ResourceFigures) -> [String] {
        var remaining = targets
        var added: [String] = []
        for target in later.targets {
            if let index = remaining.firstIndex(of: target) { remaining.remove(at: index) } else { added.append(target) }
        }
        return added
    }

    /// The figures as JSON fields with `prefix`.
    func fields(_ prefix: String) -> [String: Any] {
        ["\(prefix)_rss_kb": residentKilobytes, "\(prefix)_fds": descriptors, "\(prefix)_pidfds": pidfds]
    }
}

/// Prints `fields` as one JSON object on a line of its own: the scenario's result.
func printResult(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    writeLine(String(decoding: data, as: UTF8.self), to: 1)
}

/// Says something on standard output at once (the test may wait for it).
func announce(_ line: String) {
    writeLine(line, to: 1)
}

/// Ends the helper with a message on standard error and exit status 2.
func fail(_ message: String) -> Never {
    writeLine("lwd-fault-helper: \(message)", to: 2)
    exit(2)
}

/// Writes `line` and a newline straight to descriptor `fd` (no stdio buffer to lose at
/// _exit, and none to share with a forked child).
func writeLine(_ line: String, to fd: Int32) {
    var bytes = Array(line.utf8)
    bytes.append(UInt8(ascii: "\n"))
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}

/// How much slower than normal this build runs: 4 under a sanitizer (ThreadSanitizer slows
/// code down several times, enough to make a 50 ms threshold see real stalls in work that
/// is meant to be short), 1 otherwise. Thresholds and intended stalls are scaled by it.
let timeScale = lwd_test_sanitizer() != 0 ? 4 : 1

/// Sleeps for `milliseconds`, all of them: a signal (the test profiler's process-wide
/// SIGPROF, which may land on any thread that does not block it) cuts usleep short, so the
/// sleep goes on until its deadline.
func sleepMilliseconds(_ milliseconds: Int) {
    let deadline = lwd_monotonic_ns() + Int64(milliseconds) * 1_000_000
    while true {
        let remaining = deadline - lwd_monotonic_ns()
        if remaining <= 0 { return }
        usleep(UInt32(min(remaining / 1_000, 1_000_000)))
    }
}

/// The events of each kind, and how many distinct stall ids each kind has.
func eventFields(_ events: [StallEvent]) -> [String: Any] {
    let began = events.filter { $0.kind == .began }
    let ended = events.filter { $0.kind == .ended }
    let continuing = events.filter { $0.kind == .continuing }
    return [
        "began": began.count, "ended": ended.count, "continuing": continuing.count,
        "began_ids": Set(began.map(\.stallID)).count, "ended_ids": Set(ended.map(\.stallID)).count,
        "captures": began.map(\.capture.description),
        "began_symbols": began.map { $0.frames.compactMap(\.symbol).joined(separator: " | ") },
    ]
}

// MARK: - Named places to block in, so that stacks can be checked

/// Blocks in a sleep system call (captured without a signal).
@inline(never)
@discardableResult
func helperBlockedInSleep(milliseconds: Int) -> Int64 {
    let start = lwd_monotonic_ns()
    // usleep directly: no wrapper frame between this function and libc's.
    usleep(UInt32(milliseconds * 1_000))
    return lwd_monotonic_ns() - start
}

/// Blocks with CPU-bound work until `milliseconds` of monotonic time have passed.
@inline(never)
@discardableResult
func helperBlockedInSpin(milliseconds: Int) -> UInt64 {
    let end = lwd_monotonic_ns() + Int64(milliseconds) * 1_000_000
    var spins: UInt64 = 0
    while lwd_monotonic_ns() < end { spins &+= 1 }
    return spins
}

/// Blocks in read(2) on a pipe until a byte arrives (restartable: captured by signal).
@inline(never)
@discardableResult
func helperBlockedInPipeRead(_ fd: Int32) -> Int {
    var byte: UInt8 = 0
    return read(fd, &byte, 1)
}
