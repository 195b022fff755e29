import Glibc

/// Retires a thread's loops when the thread exits without unregistering them, through a
/// pthread key destructor. Runs on the exiting thread.
enum ThreadExitHook {
    /// The loops registered by one thread. Touched only by that thread.
    private final class ThreadLoops {
        var records: [LoopRecord] = []
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            let loops = Unmanaged<ThreadLoops>.fromOpaque(pointer).takeRetainedValue()
            for record in loops.records {
                record.retire()
            }
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// Arranges for `record` to be retired when the calling thread exits.
    static func retireOnExit(_ record: LoopRecord) {
        if let existing = pthread_getspecific(key) {
            let loops = Unmanaged<ThreadLoops>.fromOpaque(existing).takeUnretainedValue()
            loops.records.removeAll { $0.retired.load(ordering: .relaxed) }
            loops.records.append(record)
            return
        }
        let loops = ThreadLoops()
        loops.records.append(record)
        pthread_setspecific(key, Unmanaged.passRetained(loops).toOpaque())
    }
}
