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
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> PlainThread? {
        let thread = PlainThread()
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        var handle = pthread_t()
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

    /// Waits for the thread to finish. Call at most once.
    func join() {
        guard let handle else { return }
        self.handle = nil
        pthread_join(handle, nil)
    }
}
