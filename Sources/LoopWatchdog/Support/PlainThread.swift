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
    /// With `blockingSIGPIPE` (the reporter thread, which writes the reports), the thread
    /// starts with SIGPIPE blocked: a write to a closed pipe fails with EPIPE instead of
    /// killing the host. Nothing else is blocked: a thread started from it (by a log handler
    /// or `onEvent`, or libdispatch starting a worker from a thread that enqueues) inherits
    /// its mask, and must get the host's signals as any thread of the host does.
    static func start(
        name: String, blockingSIGPIPE: Bool = false, _ body: @escaping @Sendable () -> Void
    ) -> PlainThread? {
        let thread = PlainThread()
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        var handle = pthread_t()
        // The new thread inherits the creating thread's mask: set ours for the call.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGPIPE)
        var previous = sigset_t()
        if blockingSIGPIPE { pthread_sigmask(SIG_BLOCK, &mask, &previous) }
        defer { if blockingSIGPIPE { pthread_sigmask(SIG_SETMASK, &previous, nil) } }
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

    /// Runs `body` with SIGPIPE blocked on the calling thread as well, then puts its mask
    /// back: for the watchdog thread's own writes (a warning to a closed standard error).
    static func withSIGPIPEBlocked<Result>(_ body: () -> Result) -> Result {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipe, &previous)
        defer {
            // A write in `body` that failed with EPIPE left a SIGPIPE pending on this thread:
            // taken before the mask is put back, or it would be delivered then.
            if sigismember(&previous, SIGPIPE) != 1 { discardPendingSIGPIPE() }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return body()
    }

    /// After a write of this thread failed with EPIPE: takes the SIGPIPE the kernel left
    /// pending on it (blocked), so that none accumulates.
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
