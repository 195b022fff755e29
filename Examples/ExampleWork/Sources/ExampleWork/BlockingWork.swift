import Foundation
import Glibc

/// The four ways a request handler commonly blocks its thread, each measured: every function
/// returns how long it blocked, in nanoseconds, so that a client can compare the watchdog's
/// report with the truth.
public enum BlockingWork {
    /// Monotonic nanoseconds.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Sleeps in `usleep`, as code ported from a threaded server does.
    @inline(never)
    public static func sleep(milliseconds: Int) -> Int64 {
        let start = now()
        usleep(UInt32(milliseconds) * 1_000)
        return now() - start
    }

    /// Computes on the CPU without ever suspending.
    @inline(never)
    public static func spin(milliseconds: Int) -> Int64 {
        let start = now()
        let end = start + Int64(milliseconds) * 1_000_000
        var value: UInt64 = 1
        while now() < end {
            for _ in 0..<1_000 { value = value &* 6_364_136_223_846_793_005 &+ 1 }
        }
        blackHole(value)
        return now() - start
    }

    /// Reads `file` whole with `Data(contentsOf:)`, again and again, for about `milliseconds`.
    /// The examples read a 16 MB file: a signal sent to a thread inside one read(2) waits
    /// until that read returns, so one read much longer than the capture's 50 ms signal
    /// timeout is reported without a stack (`signal-timed-out`), as a 64 MB read was once
    /// on a loaded machine.
    @inline(never)
    public static func readFile(_ file: URL, milliseconds: Int) -> Int64 {
        let start = now()
        let end = start + Int64(milliseconds) * 1_000_000
        var bytes = 0
        repeat {
            bytes &+= (try? Data(contentsOf: file))?.count ?? 0
        } while now() < end
        blackHole(UInt64(bytes))
        return now() - start
    }

    /// Waits for a lock that another thread holds for `milliseconds`.
    @inline(never)
    public static func waitForLock(milliseconds: Int) -> Int64 {
        let lock = NSLock()
        let held = DispatchSemaphore(value: 0)
        let holder = Thread {
            lock.lock()
            held.signal()
            usleep(UInt32(milliseconds) * 1_000)
            lock.unlock()
        }
        holder.start()
        held.wait()
        let start = now()
        lock.lock()
        let waited = now() - start
        lock.unlock()
        return waited
    }

    /// A file of `megabytes` in the temporary directory, made once.
    public static func largeFile(megabytes: Int) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loop-watchdog-example-\(megabytes)mb.bin")
        if (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) != megabytes << 20 {
            let chunk = Data(repeating: 0x5A, count: 1 << 20)
            FileManager.default.createFile(atPath: url.path, contents: nil)
            if let handle = try? FileHandle(forWritingTo: url) {
                for _ in 0..<megabytes { handle.write(chunk) }
                try? handle.close()
            }
        }
        return url
    }

    /// The response body of a blocking route: what blocked, on which thread, for how long.
    public static func report(_ kind: String, blockedNanoseconds: Int64) -> String {
        "\(kind) tid=\(threadID()) blocked_ns=\(blockedNanoseconds)\n"
    }

    /// The calling thread's kernel id, from the /proc/thread-self link ("PID/task/TID"):
    /// Swift's Glibc exports neither gettid() nor the variadic syscall().
    public static func threadID() -> Int32 {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard length > 0 else { return 0 }
        let link = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int32(link.split(separator: "/").last ?? "") ?? 0
    }

    @inline(never)
    private static func blackHole(_ value: UInt64) {
        if value == 42 { print("", terminator: "") }
    }
}
