import CLoopWatchdog
import Glibc

/// A named pthread running one closure: the watchdog is a plain thread, not a Task, so it
/// keeps running when the cooperative pool or the loops it watches are blocked.
final class PlainThread: @unchecked Sendable {
    // Written once by `start` before the thread exists, read by `join`.
    private var handle: pthread_t?

    private final class Box {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a thread called `name` (at most 15 bytes are kept) that runs `body`.
    /// Returns nil if the system refused to create it.
    ///
    /// With `blockingSignals` (the library's own threads: the watchdog and the reporter), the
    /// thread starts with every asynchronous signal blocked (``libraryThreadMask``), so that
    /// the host's signals (SIGTERM, SIGINT, SIGHUP, SIGPIPE, a profiler's SIGPROF) are never
    /// delivered to a thread of the library: a write to a closed pipe fails with EPIPE
    /// instead of killing the host, and the host's handlers run on the host's threads.
    /// Without it, the thread inherits the caller's mask.
    static func start(
        name: String, blockingSignals: Bool = false, _ body: @escaping @Sendable () -> Void
    ) -> PlainThread? {
        let thread = PlainThread()
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        var handle = pthread_t()
        // The new thread inherits the creating thread's mask: set ours for the call.
        var mask = libraryThreadMask
        var previous = sigset_t()
        if blockingSignals { pthread_sigmask(SIG_SETMASK, &mask, &previous) }
        defer { if blockingSignals { pthread_sigmask(SIG_SETMASK, &previous, nil) } }
        let rc = pthread_create(&handle, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            lwd_set_current_thread_name(box.name)
            box.body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return nil
        }
        thread.handle = handle
        return thread
    }

    /// Waits for the thread to finish. Call at most once (or `detach`).
    func join() {
        guard let handle else { return }
        self.handle = nil
        pthread_join(handle, nil)
    }

    /// Lets the thread finish on its own, never joined. Call at most once (or `join`).
    func detach() {
        guard let handle else { return }
        self.handle = nil
        pthread_detach(handle)
    }

    /// Every signal except those the kernel raises synchronously for a fault of the thread
    /// itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) and SIGABRT.
    static var libraryThreadMask: sigset_t {
        var mask = sigset_t()
        sigfillset(&mask)
        for signal in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT] {
            sigdelset(&mask, signal)
        }
        return mask
    }

    /// After a write of this thread failed with EPIPE: takes the SIGPIPE the kernel left
    /// pending on it (blocked, by ``libraryThreadMask``), so that none accumulates.
    static func discardPendingSIGPIPE() {
        var pending = sigset_t()
        sigpending(&pending)
        guard sigismember(&pending, SIGPIPE) == 1 else { return }
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        var none = timespec()
        _ = sigtimedwait(&pipe, nil, &none)
    }
}
