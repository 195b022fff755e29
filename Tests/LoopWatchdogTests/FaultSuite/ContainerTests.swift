import Foundation
import Testing

extension FaultSuite {
    /// Under a seccomp profile that denies the system calls captures use (each alone and
    /// together): the watchdog keeps detecting, says once what is missing and what it does
    /// instead, and never signals a thread whose stack it cannot read without a signal.
    @Suite
    struct ContainerTests {
        @Test(arguments: [
            ["process_vm_readv"], ["pidfd_open"], ["pidfd_send_signal"],
            ["process_vm_readv", "pidfd_open", "pidfd_send_signal"],
        ])
        func deniedSystemCallsNeverStopDetectionNorCutSleepsShort(denied: [String]) async throws {
            let (result, child) = try await ChildProcess.runHelper(["seccomp"] + denied)
            #expect(int(result, "began") == 2 && int(result, "ended") == 2, "\(result)")
            // The sleep was never signalled: it lasted its full time.
            #expect(int(result, "slept_ms") >= 299, "\(result)")
            let captures = result["captures"] as? [String] ?? []
            let error = child.standardError
            let symbols = result["began_symbols"] as? [String] ?? []
            // The sleep is always taken without a signal; without process_vm_readv its stack
            // cannot be read, and only the program counter /proc gives is reported.
            #expect(captures.first == "syscall", "\(captures)")
            if denied.contains("process_vm_readv") {
                #expect(symbols.first.map { !$0.contains(" | ") } == true, "\(symbols)")
                #expect(error.components(separatedBy: "cannot use process_vm_readv").count == 2, "\(error.suffix(2_000))")
            } else {
                #expect(symbols.first?.contains("helperBlockedInSleep") == true, "\(symbols)")
            }
            // Running threads are still captured by signal, through tgkill when pidfds are denied.
            #expect(captures.last == "signal", "\(captures)")
            if denied.contains("pidfd_open") || denied.contains("pidfd_send_signal") {
                #expect(error.components(separatedBy: "cannot use thread pidfds").count == 2, "\(error.suffix(2_000))")
            }
        }

        /// /proc masked (an empty tmpfs over it, as some containers do): no thread's state
        /// can be read, so none is ever signalled; the stalls are still detected and
        /// reported (without a stack, with the reason), and the missing file is said once.
        @Test func maskedProcNeverStopsDetectionNorCutsSleepsShort() async throws {
            let (result, child) = try await ChildProcess.runHelper(["masked-proc"])
            #expect(int(result, "began") == 2 && int(result, "ended") == 2, "\(result)")
            #expect(int(result, "slept_ms") >= 299, "\(result)")
            let captures = result["captures"] as? [String] ?? []
            #expect(captures.count == 2 && captures.allSatisfy { $0.hasPrefix("syscall-state-unreadable") }, "\(captures)")
            let error = child.standardError
            #expect(error.components(separatedBy: "cannot read /proc/self/task/").count == 2, "\(error.suffix(2_000))")
        }

        /// A host that used every pthread key before the watchdog started: thread exits are
        /// seen through glibc's thread-exit destructors instead (said once), so a loop
        /// thread that exits mid-stall ends its stall, and pool jobs are still watched one
        /// by one. Before, the first registration ended the process on a precondition.
        @Test func noPthreadKeyLeftStillSeesThreadExitsAndPoolJobs() async throws {
            let (result, child) = try await ChildProcess.runHelper(["no-pthread-keys"])
            #expect(int(result, "keys_created") > 0, "\(result)")
            #expect(int(result, "loop_stalls_ended") == 1, "\(result)")
            #expect(result["watches_jobs"] as? Bool == true, "\(result)")
            #expect(int(result, "job_stalls") == 1, "\(result)")
            #expect(int(result, "began") == 2 && int(result, "ended") == 2 && int(result, "continuing") == 0, "\(result)")
            let error = child.standardError
            #expect(error.components(separatedBy: "no pthread key was left").count == 2, "\(error.suffix(2_000))")
        }
    }
}
