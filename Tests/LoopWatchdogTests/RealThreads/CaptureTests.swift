import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Synchronization
import Testing

@testable import LoopWatchdog

/// Real captures of a real blocked thread: each case blocks a thread in a named function,
/// captures its stack from another thread, symbolicates it and looks for that function.
@Suite(.serialized)
struct CaptureTests {
    @Test func capturesCPUSpinBySignal() throws {
        let result = try captureWhileBlocked { stop in spinUntilStopped(stop) }
        #expect(result.outcome == .signal)
        #expect(result.symbols.contains { $0.contains("spinUntilStopped") }, "\(result.symbols)")
    }

    @Test func capturesUsleepWithoutSignal() throws {
        let result = try captureWhileBlocked { _ in sleepInUsleep(milliseconds: 400) }
        #expect(result.outcome == .syscall)
        #expect(result.symbols.contains { $0.contains("sleepInUsleep") }, "\(result.symbols)")
        let frame = result.frames.first { $0.symbol?.contains("sleepInUsleep") == true }
        #expect(frame?.file?.hasSuffix("CaptureTests.swift") == true)
        #expect((frame?.line ?? 0) > 0)
    }

    @Test func capturesPipeReadBySignal() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let readEnd = fds[0]
        let writeEnd = fds[1]
        let result = try captureWhileBlocked(
            block: { _ in readOneByteFromPipe(readEnd) },
            release: { var byte: UInt8 = 1; _ = write(writeEnd, &byte, 1) }
        )
        #expect(result.outcome == .signal)
        #expect(result.symbols.contains { $0.contains("readOneByteFromPipe") }, "\(result.symbols)")
    }

    @Test func capturesContendedMutexBySignal() throws {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        defer {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }
        pthread_mutex_lock(mutex)
        let shared = UnsafeSendable(mutex)
        let result = try captureWhileBlocked(
            block: { _ in lockContendedMutex(shared.value) },
            release: { pthread_mutex_unlock(mutex) }
        )
        #expect(result.outcome == .signal)
        #expect(result.symbols.contains { $0.contains("lockContendedMutex") }, "\(result.symbols)")
    }

    @Test func usleepIsNotShortenedByCaptures() throws {
        let elapsed = Mutex<Int64>(0)
        let done = Atomic<Bool>(false)
        let ready = Atomic<UInt>(0)
        let holder = Mutex<LoopRecord?>(nil)
        let thread = try #require(
            PlainThread.start(name: "usleep-test") {
                holder.withLock { $0 = LoopRecord(name: "usleep-test") }
                ready.store(1, ordering: .releasing)
                let start = lwd_monotonic_ns()
                sleepInUsleep(milliseconds: 300)
                elapsed.withLock { $0 = lwd_monotonic_ns() - start }
                done.store(true, ordering: .releasing)
            })
        while ready.load(ordering: .acquiring) == 0 { usleep(100) }
        let record = try #require(holder.withLock { $0 })
        let capturer = StackCapturer(maxFrames: 64)
        var captures = 0
        while !done.load(ordering: .acquiring) {
            _ = capturer.capture(threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh)
            captures += 1
            usleep(5_000)
        }
        thread.join()
        #expect(captures > 10)
        #expect(elapsed.withLock { $0 } >= 295_000_000)
    }

    @Test func procFilesKeptOpenReadTheThreadAndAnswerExitedOnceItIsGone() throws {
        let holder = Mutex<LoopRecord?>(nil)
        let thread = try #require(
            PlainThread.start(name: "proc-files") {
                holder.withLock { $0 = LoopRecord(name: "proc-files") }
                sleepInUsleep(milliseconds: 200)
            })
        usleep(100_000)
        let record = try #require(holder.withLock { $0 })
        try #require(record.thread!.procFiles.syscall >= 0 && record.thread!.procFiles.stat >= 0)
        let capturer = StackCapturer(maxFrames: 64)
        let parked = capturer.capture(
            threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh, procFiles: record.thread!.procFiles)
        #expect(parked.outcome == .syscall)
        thread.join()
        let gone = capturer.capture(
            threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh, procFiles: record.thread!.procFiles)
        #expect(gone.outcome == .unavailable("thread-exited"))
    }

    @Test func blockedSignalsAreReadFromStatWhateverTheThreadIsNamed() throws {
        // A name with spaces and parentheses, which /proc's stat shows as is inside its own
        // parentheses.
        let phase = Atomic<Int>(0)
        let thread = try #require(
            PlainThread.start(name: "a) b (c") {
                _ = lwd_test_block_sigprof(1)
                phase.store(1, ordering: .sequentiallyConsistent)
                while phase.load(ordering: .sequentiallyConsistent) == 1 { usleep(1_000) }
                _ = lwd_test_block_sigprof(0)
                phase.store(3, ordering: .sequentiallyConsistent)
                while phase.load(ordering: .sequentiallyConsistent) == 3 { usleep(1_000) }
            })
        let sigprof = UInt64(1) << UInt64(SIGPROF - 1)
        while phase.load(ordering: .sequentiallyConsistent) != 1 { usleep(1_000) }
        let tid = try #require(ThreadNames.threadID(named: "a) b (c"))
        let files = ThreadProcFiles(threadID: tid)
        defer { files.close() }
        var blocked: UInt64 = 0
        #expect(lwd_read_blocked_signals_fd(files.stat, &blocked) == 0)
        #expect(blocked & sigprof != 0)
        #expect(lwd_read_blocked_signals(tid, &blocked) == 0)
        #expect(blocked & sigprof != 0)
        phase.store(2, ordering: .sequentiallyConsistent)
        while phase.load(ordering: .sequentiallyConsistent) != 3 { usleep(1_000) }
        #expect(lwd_read_blocked_signals_fd(files.stat, &blocked) == 0)
        #expect(blocked & sigprof == 0)
        phase.store(4, ordering: .sequentiallyConsistent)
        thread.join()
    }
}

/// Finds a thread of this process by its name.
enum ThreadNames {
    static func threadID(named name: String) -> Int32? {
        for tid in ProcessThreads.list() where ProcessThreads.name(of: tid) == name { return tid }
        return nil
    }
}

/// What one test capture found.
struct CaptureResult {
    var outcome: CaptureOutcome
    var frames: [StackFrame]
    var symbols: [String] { frames.compactMap(\.symbol) }
}

/// Carries a non-Sendable value into a test thread whose lifetime the test bounds.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `block` on a new thread, waits until it is blocked, captures its stack, releases it.
func captureWhileBlocked(
    block: @escaping @Sendable (borrowing Atomic<Bool>) -> Void,
    release: () -> Void = {}
) throws -> CaptureResult {
    let stop = UnsafeSendable(UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1))
    stop.value.initialize(to: Atomic(false))
    defer { stop.value.deallocate() }
    let holder = Mutex<LoopRecord?>(nil)
    let thread = try #require(
        PlainThread.start(name: "blocked-test") {
            holder.withLock { $0 = LoopRecord(name: "blocked-test") }
            block(stop.value.pointee)
        })
    var record: LoopRecord?
    while record == nil {
        usleep(1_000)
        record = holder.withLock { $0 }
    }
    usleep(100_000)
    let capturer = StackCapturer(maxFrames: 64)
    let capture = capturer.capture(threadID: record!.thread!.threadID, pidfd: record!.thread!.pidfd, stackHigh: record!.thread!.stackHigh)
    stop.value.pointee.store(true, ordering: .releasing)
    release()
    thread.join()
    let frames = Symbolicator().symbolicate(capture.addresses, firstIsProgramCounter: true)
    return CaptureResult(outcome: capture.outcome, frames: frames)
}

@inline(never)
func spinUntilStopped(_ stop: borrowing Atomic<Bool>) {
    var x: UInt64 = 0
    while !stop.load(ordering: .relaxed) {
        x &+= 1
    }
    blackHole(x)
}

@inline(never)
func sleepInUsleep(milliseconds: UInt32) {
    usleep(milliseconds * 1_000)
    blackHole(milliseconds)
}

@inline(never)
func readOneByteFromPipe(_ fd: Int32) {
    var byte: UInt8 = 0
    let n = read(fd, &byte, 1)
    blackHole(n)
}

@inline(never)
func lockContendedMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    pthread_mutex_lock(mutex)
    pthread_mutex_unlock(mutex)
    blackHole(mutex)
}

@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
