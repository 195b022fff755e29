import CLoopWatchdog
import CLoopWatchdogTestSupport
import Foundation
import Glibc
import LoopWatchdog
import Synchronization

/// Stalls of known causes, one per process: a loop ("staller", threshold 100 ms) blocks
/// about a second in the way `kind` names, and the result holds what its `ended` event
/// said: the verdict, its system call, the phases, the samples and, for each distinct
/// stack, its count and the symbols of its frames.
///
/// - `spin`: computes for 1 s. `sleep`: usleep(1 s). `lock`: waits 1 s for a mutex that
///   another thread holds. `file`: reads a 64 MB file over and over for 1 s (from the page
///   cache: the kernel copies). `starved`: computes for 1 s on one CPU shared with four
///   spinning threads. `quota`: computes for 1 s in a cgroup with a 20 % CPU quota (the
///   result says `unsupported` where no cgroup can be made). `two-phase`: computes 1 s,
///   then sleeps 1 s.
enum CauseScenarios {
    static func run(kind: String) {
        var cleanup: () -> Void = {}
        if kind == "quota" {
            switch CPUQuotaGroup.enter(quotaPercent: 20) {
            case .success(let group): cleanup = { group.leave() }
            case .failure(let reason):
                printResult(["unsupported": reason.text])
                return
            }
        }
        defer { cleanup() }
        let ended = Mutex<StallEvent?>(nil)
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)), environment: [:],
            onEvent: { event in
                if event.kind == .ended, event.loopName == "staller" { ended.withLock { $0 = event } }
            })
        watchdog.start()
        let file = kind == "file" ? LargeFile(megabytes: 64) : nil
        let lock = HeldLock()
        var others: [HelperThread] = []
        let stop = Atomic<Bool>(false)
        if kind == "starved" {
            for _ in 0..<4 {
                others.append(HelperThread {
                    pinToFirstCPU()
                    while !stop.load(ordering: .relaxed) { _ = helperBlockedInSpin(milliseconds: 5) }
                })
            }
        }
        if kind == "lock" {
            others.append(HelperThread { lock.hold(milliseconds: 1_200) })
            lock.waitUntilHeld()
        }
        let staller = HelperThread {
            if kind == "starved" { pinToFirstCPU() }
            let heartbeat = watchdog.registerCurrentThread(name: "staller")
            sleepMilliseconds(50)
            heartbeat.markBusy()
            heartbeat.beat()
            switch kind {
            case "spin", "starved", "quota": _ = helperBlockedInSpin(milliseconds: 1_000)
            case "sleep": _ = helperBlockedInSleep(milliseconds: 1_000)
            case "lock": lock.waitForIt()
            case "file": _ = file?.readRepeatedly(milliseconds: 1_000)
            case "two-phase":
                _ = helperBlockedInSpin(milliseconds: 1_000)
                _ = helperBlockedInSleep(milliseconds: 1_000)
            default: fail("unknown cause scenario \(kind)")
            }
            heartbeat.markIdle()
            sleepMilliseconds(200)
            heartbeat.unregister()
        }
        staller.join()
        stop.store(true, ordering: .relaxed)
        for thread in others { thread.join() }
        watchdog.stop()
        file?.remove()
        guard let event = ended.withLock({ $0 }) else {
            printResult(["ended": 0])
            return
        }
        printResult(describe(event))
    }

    /// The fields of `event` the tests look at.
    static func describe(_ event: StallEvent) -> [String: Any] {
        var fields: [String: Any] = ["ended": 1, "blocked_ms": ms(event.blocked)]
        if let cause = event.cause {
            fields["verdict"] = cause.verdict.name
            fields["system_call"] = cause.systemCall ?? ""
            fields["remedy"] = cause.remedy
            fields["phases"] = cause.phases.map { ["verdict": $0.verdict.name, "share": $0.share] }
            fields["on_cpu_ms"] = cause.onCPU.map(ms) ?? -1
            fields["waiting_ms"] = cause.waitingForCPU.map(ms) ?? -1
            fields["throttled_ms"] = cause.throttled.map(ms) ?? -1
        }
        if let samples = event.samples {
            fields["samples"] = samples.count
            fields["stacks"] = samples.stacks.map { stack in
                ["count": stack.count, "symbols": stack.frames.map { $0.symbol ?? "" }] as [String: Any]
            }
        }
        return fields
    }

    private static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
    }

    /// Keeps the calling thread on the first CPU it may use.
    private static func pinToFirstCPU() {
        guard lwd_test_pin_to_first_cpu() == 0 else { fail("cannot pin a thread to one CPU") }
    }
}

/// A mutex held by one thread while another waits for it.
final class HeldLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let held = Atomic<Bool>(false)

    init() { pthread_mutex_init(mutex, nil) }

    /// Takes the mutex, holds it `milliseconds`, and lets it go.
    func hold(milliseconds: Int) {
        pthread_mutex_lock(mutex)
        held.store(true, ordering: .sequentiallyConsistent)
        sleepMilliseconds(milliseconds)
        pthread_mutex_unlock(mutex)
    }

    func waitUntilHeld() {
        while !held.load(ordering: .sequentiallyConsistent) { sleepMilliseconds(1) }
    }

    /// Blocks until the holder lets the mutex go.
    @inline(never)
    func waitForIt() {
        pthread_mutex_lock(mutex)
        pthread_mutex_unlock(mutex)
    }
}

/// A scratch file read again and again.
final class LargeFile: Sendable {
    let path: String
    private let size: Int

    init(megabytes: Int) {
        path = "\(NSTemporaryDirectory())lwd-cause-\(getpid()).data"
        size = megabytes << 20
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fail("cannot create \(path): \(errno)") }
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<megabytes { _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        close(fd)
    }

    /// Reads the file from start to end, 1 MB at a time, until `milliseconds` passed;
    /// returns the bytes read.
    @inline(never)
    func readRepeatedly(milliseconds: Int) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let end = lwd_monotonic_ns() + Int64(milliseconds) * 1_000_000
        var total = 0
        var offset = 0
        while lwd_monotonic_ns() < end {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard count > 0 else { offset = 0; continue }
            total += count
            offset = (offset + count) % size
        }
        return total
    }

    func remove() { unlink(path) }
}

/// A cgroup with a CPU quota that this process moves into (cgroup v1's cpu controller, or
/// v2 with the cpu controller enabled), and leaves.
struct CPUQuotaGroup {
    struct Unsupported: Error { var text: String }
    let directory: String
    let parent: String

    static func enter(quotaPercent: Int) -> Result<CPUQuotaGroup, Unsupported> {
        let name = "lwd-quota-\(getpid())"
        let quota = quotaPercent * 1_000
        let v1 = "/sys/fs/cgroup/cpu"
        if access("\(v1)/cpu.cfs_quota_us", W_OK) == 0 {
            let group = CPUQuotaGroup(directory: "\(v1)/\(name)", parent: v1)
            guard mkdir(group.directory, 0o755) == 0 else { return .failure(Unsupported(text: "mkdir errno \(errno)")) }
            guard writeText("100000", to: "\(group.directory)/cpu.cfs_period_us"),
                writeText("\(quota)", to: "\(group.directory)/cpu.cfs_quota_us"),
                writeText("\(getpid())", to: "\(group.directory)/cgroup.procs")
            else {
                rmdir(group.directory)
                return .failure(Unsupported(text: "cannot set the v1 quota"))
            }
            return .success(group)
        }
        let v2 = "/sys/fs/cgroup"
        if let controllers = try? String(contentsOfFile: "\(v2)/cgroup.subtree_control", encoding: .utf8),
            controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "cpu" })
        {
            let group = CPUQuotaGroup(directory: "\(v2)/\(name)", parent: v2)
            guard mkdir(group.directory, 0o755) == 0 else { return .failure(Unsupported(text: "mkdir errno \(errno)")) }
            guard writeText("\(quota) 100000", to: "\(group.directory)/cpu.max"),
                writeText("\(getpid())", to: "\(group.directory)/cgroup.procs")
            else {
                rmdir(group.directory)
                return .failure(Unsupported(text: "cannot set the v2 quota"))
            }
            return .success(group)
        }
        return .failure(Unsupported(text: "no writable cgroup with a cpu controller"))
    }

    /// Moves the process back to the parent and removes the group.
    func leave() {
        _ = Self.writeText("\(getpid())", to: "\(parent)/cgroup.procs")
        rmdir(directory)
    }

    private static func writeText(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
