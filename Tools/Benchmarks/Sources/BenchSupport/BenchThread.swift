import Glibc

/// A named pthread running one closure, joined explicitly: benchmarks need plain threads
/// with known identities (a fresh thread means a cold symbolication cache; a loop thread
/// must not be a Dispatch worker).
public final class BenchThread: @unchecked Sendable {
    // Written once by `init` before any other thread sees the object.
    private var handle = pthread_t()

    private final class Box {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a thread called `name` (15 bytes at most are kept) running `body`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        let rc = pthread_create(&handle, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            nameCurrentThread(box.name)
            box.body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to finish. Call once.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Runs `body` on a new thread and returns its result once it finished.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) -> T {
        let result = ResultBox<T>()
        let thread = BenchThread(name: name) { result.value = body() }
        thread.join()
        return result.value!
    }

    /// Carries a result across `join`, which orders the write before the read.
    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}

/// Names the calling thread through /proc/thread-self/comm (what pthread_setname_np
/// does; Glibc's Swift module does not export that GNU function).
private func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var bytes = Array(name.utf8.prefix(15))
    _ = write(fd, &bytes, bytes.count)
}
