import CLoopWatchdogTestSupport
import Foundation
import Glibc
import Testing

/// A child process of a test: spawned with posix_spawn, its standard output and error
/// in temporary files, waited for by polling (never blocking a test thread).
final class ChildProcess: @unchecked Sendable {
    // Set once in init; the files are removed in deinit.
    let pid: pid_t
    let outputPath: String
    let errorPath: String
    private var exitStatus: Int32?

    /// The directory of the test binary, where SwiftPM also puts the package's executables.
    static var productsDirectory: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// The fault suite's helper executable.
    static var helper: String { "\(productsDirectory)/lwd-fault-helper" }

    /// The package's tool.
    static var tool: String { "\(productsDirectory)/loop-watchdog" }

    /// Starts `executable` with `arguments`; `environment` is added to this process's
    /// environment minus every LOOP_WATCHDOG_* variable.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let stamp = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        outputPath = "\(NSTemporaryDirectory())lwd-child-\(stamp).out"
        errorPath = "\(NSTemporaryDirectory())lwd-child-\(stamp).err"
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOOP_WATCHDOG") }
        merged.merge(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // A child as a shell would start it: no signal blocked, every one at its default.
        // (Test threads block most signals, and a spawned child inherits the mask.)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        try #require(rc == 0, "posix_spawn \(executable): \(rc)")
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(outputPath)
        unlink(errorPath)
    }

    /// Sends `signal` to the child; fails the test if it cannot be sent.
    func send(_ signal: Int32) {
        let rc = kill(pid, signal)
        #expect(rc == 0, "kill(\(pid), \(signal)): errno \(errno)")
    }

    /// Waits until the child exits; returns its exit status, or 128 + the signal that
    /// ended it. Fails the test after `timeout`, killing the child.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        if let exitStatus { return exitStatus }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        try await waitForExit(timeout: .seconds(10))
        Issue.record("child \(pid) did not exit within \(timeout); killed. stderr: \(standardError.suffix(2_000))")
        return -1
    }

    /// Waits until standard output contains `text`. Fails the test after `timeout`.
    func waitForOutput(containing text: String, timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if standardOutput.contains(text) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no \"\(text)\" on the child's output within \(timeout). stderr: \(standardError.suffix(2_000))")
    }

    /// Everything the child wrote to standard output so far.
    var standardOutput: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Everything the child wrote to standard error so far.
    var standardError: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// The last line of standard output parsed as a JSON object: a helper's result.
    func result() throws -> [String: Any] {
        let lines = standardOutput.split(separator: "\n")
        let last = try #require(lines.last { $0.hasPrefix("{") }, "no result line; stderr: \(standardError.suffix(2_000))")
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }

    /// Runs the helper's `scenario` to completion and returns its result.
    static func runHelper(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(90))
        async throws -> (result: [String: Any], child: ChildProcess)
    {
        let child = try ChildProcess(helper, arguments, environment: environment)
        let status = try await child.waitForExit(timeout: timeout)
        try #require(status == 0, "helper \(arguments) exited with \(status); stderr: \(child.standardError.suffix(2_000))")
        return (try child.result(), child)
    }
}

/// Reads an integer field of a helper result (JSON numbers arrive as NSNumber).
func int(_ result: [String: Any], _ key: String) -> Int {
    (result[key] as? NSNumber)?.intValue ?? Int.min
}

/// Prints `keys` of a helper result as one `FIGURE name key=value ...` line, which
/// scripts/reliability.sh collects.
func figure(_ name: String, _ result: [String: Any], _ keys: [String]) {
    let fields = keys.map { key in "\(key)=\(result[key].map { "\($0)" } ?? "?")" }.joined(separator: " ")
    print("FIGURE \(name) \(fields)")
}

/// Whether this test process runs under a sanitizer (`thread` or `address`).
enum Sanitizer {
    static var thread: Bool { lwd_test_sanitizer() == 1 }
    static var address: Bool { lwd_test_sanitizer() == 2 }
    /// Either. Sanitizers keep shadow memory and per-thread state that grow by design, so
    /// resident-memory bounds are not checked under them.
    static var any: Bool { lwd_test_sanitizer() != 0 }
}
