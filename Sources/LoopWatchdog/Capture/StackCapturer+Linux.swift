import CLoopWatchdog
import Glibc

/// Takes the native stack of a blocked loop thread, right now, without ptrace.
///
/// Decision per capture (DESIGN.md, "Never change what the monitored program does"):
/// 1. read /proc/self/task/TID/syscall (through an fd kept open since registration); when
///    it cannot be read, no signal is sent (no stack, with the reason): a thread whose parked
///    state is unknown might be sleeping, and a signal would end its sleep early;
/// 2. parked in a call that a signal would cut short with EINTR (sleeps, poll, epoll, ...),
///    or SIGPROF blocked while parked anywhere: unwind without a signal;
/// 3. SIGPROF blocked while running: no stack, with the reason;
/// 4. our SIGPROF handler replaced by someone else's: unwind without a signal when parked
///    in any system call, otherwise no stack (`sigprof-handler-replaced`);
/// 5. otherwise: SIGPROF through the thread's pidfd (or tgkill) and unwind in the handler.
///
/// Thread ids are recycled: /proc/self/task/TID may already describe a newer thread when
/// the loop's thread has exited. Where the kernel has thread pidfds, a signal-free capture
/// is kept only if the pidfd says the loop's own thread was still alive after every read
/// (then the tid could not have changed hands in between), and signals go through the
/// pidfd, which fails with ESRCH instead of reaching a newer thread.
///
/// Thread model: called only on the watchdog thread. Owns one preallocated frame buffer.
final class StackCapturer {
    /// The addresses and how they were obtained.
    struct Capture: Sendable {
        var outcome: CaptureOutcome
        /// Innermost first; `addresses[0]` is a program counter. The awaiting callers of an
        /// async job follow the frame of the function they called, tagged with
        /// `LWD_ASYNC_FRAME_TAG` (``AsyncFrameAddress``).
        var addresses: [UInt]
        /// How long the thread spent in our signal handler (signal captures only).
        var interruptedNanoseconds: Int64
        /// For a stack taken without a signal: the system call the thread was parked in.
        var parkedSyscall: Int64? = nil
        /// What /proc said the thread was doing just before the capture.
        var state: SampleState = .unknown

        /// True when the thread was parked in epoll_wait (or epoll_pwait, epoll_pwait2): an
        /// event loop waiting for work, not blocked.
        var isWaitingInEpoll: Bool {
            guard let number = parkedSyscall else { return false }
            return SystemCalls.isEpollWait(number)
        }
    }

    /// How long to wait for the handler to run before cancelling the request.
    static let signalTimeoutNanoseconds: Int64 = 50_000_000
    private static let sigprofBit: UInt64 = 1 << UInt64(SIGPROF - 1)

    private let maxFrames: Int
    /// The frames of the last capture, with room for the async callers inserted among them.
    private var buffer: [UInt]
    /// Each captured frame's frame pointer and R14, where an async function's context is.
    private var registers: [lwd_frame_registers]
    /// Whether captures insert the awaiting callers of an async job (`lwd_async_callers_insert`);
    /// off only to measure what they cost.
    var collectsAsyncCallers = true
    /// What the last capture's walk up the async callers found.
    private(set) var lastAsyncChain = lwd_async_chain(anchor: -1, count: 0, ended: 0)
    /// Whether the SIGPROF handler could be installed (nil until the first attempt).
    private(set) var handlerInstallError: Int32?

    init(maxFrames: Int) {
        self.maxFrames = max(1, min(maxFrames, Int(LWD_MAX_FRAMES)))
        self.buffer = Array(repeating: 0, count: Int(LWD_MAX_FRAMES) + Int(LWD_MAX_ASYNC_FRAMES))
        self.registers = Array(repeating: lwd_frame_registers(), count: Int(LWD_MAX_FRAMES))
        let rc = lwd_signal_capture_install()
        handlerInstallError = rc == 0 ? nil : -rc
    }

    /// What this process may not do that captures rely on (a container's seccomp profile
    /// or a masked /proc), each with what the watchdog does instead, and whether it is a
    /// warning (denied) or only worth saying (an older kernel). Checked on the calling
    /// thread.
    static func capabilityProblems() -> [(warning: Bool, text: String)] {
        var problems: [(Bool, String)] = []
        let tid = lwd_gettid()
        var state = lwd_syscall_state()
        let procResult = lwd_read_syscall_state(tid, &state)
        if procResult != 0 {
            problems.append((true, "LoopWatchdog cannot read /proc/self/task/\(tid)/syscall (errno \(-procResult)): a blocked thread's stack is never taken (no signal is sent to a thread that may be sleeping); stalls are still detected and reported"))
        }
        let readResult = lwd_process_vm_readv_works()
        if readResult != 0 {
            problems.append((true, "LoopWatchdog cannot use process_vm_readv (errno \(-readResult), a seccomp profile?): a thread blocked in a system call is reported with only the instruction it is parked at (from /proc), and never signalled; running threads are still captured by signal"))
        }
        let pidfdResult = lwd_pidfd_signals_work()
        if pidfdResult != 0 {
            problems.append((pidfdResult == -EPERM, "LoopWatchdog cannot use thread pidfds (pidfd_open or pidfd_send_signal: errno \(-pidfdResult)): signals go by thread id (tgkill)"))
        }
        return problems
    }

    /// Captures the stack of a loop's thread, through the files it keeps open.
    func capture(_ thread: LoopThread) -> Capture {
        capture(threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles)
    }

    /// Captures the stack of thread `threadID`; `procFiles` are its /proc files kept open
    /// (``ThreadProcFiles/none`` reads them by path).
    func capture(threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles = .none) -> Capture {
        let raw = captureIntoBuffer(
            threadID: threadID, pidfd: pidfd, stackHigh: stackHigh, procFiles: procFiles, signalFreeWhenParked: false)
        return Capture(
            outcome: raw.outcome, addresses: Array(buffer[0..<raw.count]), interruptedNanoseconds: raw.interrupted,
            parkedSyscall: raw.outcome == .syscall ? raw.state.number : nil, state: SampleState(raw.state))
    }

    /// One more sample of a stall in progress: like `capture`, but a thread parked in any
    /// system call is unwound without a signal (not only in calls a signal would cut short),
    /// and the addresses are lent to `body` from the preallocated buffer instead of being
    /// copied. `body` also gets what /proc said the thread was doing (`running` 1 when it
    /// was on a CPU or runnable; 0 parked in `number`; -1 unknown).
    func sample<Result>(
        threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles,
        _ body: (CaptureOutcome, UnsafeBufferPointer<UInt>, lwd_syscall_state) -> Result
    ) -> Result {
        let raw = captureIntoBuffer(
            threadID: threadID, pidfd: pidfd, stackHigh: stackHigh, procFiles: procFiles, signalFreeWhenParked: true)
        return buffer.withUnsafeBufferPointer { frames in
            body(raw.outcome, UnsafeBufferPointer(rebasing: frames[0..<raw.count]), raw.state)
        }
    }

    /// What a capture left: its outcome, how many addresses it wrote into `buffer`, and the
    /// thread's system call state as read before it.
    private struct RawCapture {
        var outcome: CaptureOutcome
        var count: Int = 0
        var interrupted: Int64 = 0
        var state = lwd_syscall_state(running: -1, number: 0, arguments: (0, 0, 0, 0, 0, 0), stack_pointer: 0, program_counter: 0)
    }

    private func captureIntoBuffer(
        threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles, signalFreeWhenParked: Bool
    ) -> RawCapture {
        lastAsyncChain = lwd_async_chain(anchor: -1, count: 0, ended: 0)
        var raw = unwindIntoBuffer(
            threadID: threadID, pidfd: pidfd, stackHigh: stackHigh, procFiles: procFiles,
            signalFreeWhenParked: signalFreeWhenParked)
        if raw.count > 1 && collectsAsyncCallers { raw.count = insertAsyncCallers(count: raw.count) }
        return raw
    }

    /// Inserts the awaiting callers of the async function the captured thread runs as a
    /// job, read now, while it still blocks. Returns the new frame count.
    private func insertAsyncCallers(count: Int) -> Int {
        var chain = lwd_async_chain()
        let total = buffer.withUnsafeMutableBufferPointer { frames in
            registers.withUnsafeBufferPointer { registers in
                lwd_async_callers_insert(
                    frames.baseAddress, registers.baseAddress, Int32(count), Int32(frames.count), &chain)
            }
        }
        lastAsyncChain = chain
        return Int(total)
    }

    private func unwindIntoBuffer(
        threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles, signalFreeWhenParked: Bool
    ) -> RawCapture {
        var state = lwd_syscall_state()
        let stateResult = procFiles.syscall >= 0
            ? lwd_read_syscall_state_fd(procFiles.syscall, &state) : lwd_read_syscall_state(threadID, &state)
        if stateResult == -ESRCH {
            // No /proc entry: the thread exited, or /proc is masked (the thread still answers
            // a null signal through its pidfd or tid).
            let alive = pidfd >= 0 ? lwd_thread_pidfd_alive(pidfd) != 0 : lwd_thread_alive(threadID) != 0
            if !alive || access("/proc/self/task", F_OK) == 0 { return failure("thread-exited") }
        }
        // Without the thread's system call state (no descriptor left, /proc masked or
        // unreadable) a signal might cut a sleep short: none is sent.
        guard stateResult == 0 else { return failure("syscall-state-unreadable-errno-\(-stateResult)") }
        let parked = state.running == 0
        if parked && (signalFreeWhenParked || lwd_syscall_interrupted_by_signal(&state) != 0) {
            return sameThread(pidfd, unwindParked(state, stackHigh: stackHigh))
        }
        var blocked: UInt64 = 0
        let maskResult = procFiles.stat >= 0
            ? lwd_read_blocked_signals_fd(procFiles.stat, &blocked) : lwd_read_blocked_signals(threadID, &blocked)
        if maskResult == -ESRCH { return failure("thread-exited") }
        if maskResult == 0 && blocked & Self.sigprofBit != 0 {
            if parked { return sameThread(pidfd, unwindParked(state, stackHigh: stackHigh)) }
            return sameThread(pidfd, failure("sigprof-blocked", state: state))
        }
        if parked && handlerInstallError == nil && lwd_signal_capture_is_installed() == 0 {
            // Another SIGPROF handler replaced ours: no signal, but a parked thread can
            // still be unwound without one.
            return sameThread(pidfd, unwindParked(state, stackHigh: stackHigh))
        }
        var capture = interrupt(threadID: threadID, pidfd: pidfd)
        capture.state = state
        return capture
    }

    /// `capture`, unless the pidfd says the loop's thread has exited: then what /proc said
    /// may have been about a newer thread that got the same tid.
    private func sameThread(_ pidfd: Int32, _ capture: RawCapture) -> RawCapture {
        guard pidfd >= 0, lwd_thread_pidfd_alive(pidfd) == 0 else { return capture }
        return failure("thread-exited")
    }

    private func unwindParked(_ state: lwd_syscall_state, stackHigh: UInt) -> RawCapture {
        let count = buffer.withUnsafeMutableBufferPointer { frames in
            registers.withUnsafeMutableBufferPointer { registers in
                lwd_unwind_parked_thread(
                    state.program_counter, state.stack_pointer, stackHigh, frames.baseAddress,
                    registers.baseAddress, Int32(maxFrames))
            }
        }
        guard count > 0 else { return failure("syscall-unwind-failed", state: state) }
        return RawCapture(outcome: .syscall, count: Int(count), state: state)
    }

    private func interrupt(threadID: Int32, pidfd: Int32) -> RawCapture {
        var count: Int32 = 0
        var interrupted: Int64 = 0
        var error: Int32 = 0
        let status = buffer.withUnsafeMutableBufferPointer { frames in
            registers.withUnsafeMutableBufferPointer { registers in
                lwd_capture_by_signal(
                    threadID, pidfd, Self.signalTimeoutNanoseconds, frames.baseAddress, registers.baseAddress,
                    Int32(maxFrames), &count, &interrupted, &error)
            }
        }
        switch status {
        case LWD_CAPTURE_OK:
            return RawCapture(outcome: .signal, count: Int(count), interrupted: interrupted)
        case LWD_CAPTURE_THREAD_GONE: return failure("thread-exited")
        case LWD_CAPTURE_TIMED_OUT: return failure("signal-timed-out")
        case LWD_CAPTURE_NOT_INSTALLED:
            return failure(handlerInstallError == nil ? "sigprof-handler-replaced" : "sigprof-handler-not-installed")
        case LWD_CAPTURE_BUSY: return failure("capture-busy")
        case LWD_CAPTURE_UNWIND_FAILED: return failure("unwind-failed")
        default: return failure("signal-send-failed-errno-\(error)")
        }
    }

    private func failure(_ reason: String) -> RawCapture {
        RawCapture(outcome: .unavailable(reason))
    }

    private func failure(_ reason: String, state: lwd_syscall_state) -> RawCapture {
        RawCapture(outcome: .unavailable(reason), state: state)
    }
}
