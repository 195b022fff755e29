import CLoopWatchdog

/// A per-thread pointer whose destructor runs when its thread exits: a pthread key, or,
/// when the process has used all PTHREAD_KEYS_MAX of them, a thread-local slot whose
/// destructor glibc runs at thread exit (`lwd_exit_slot_create`). Never crashes the host:
/// when neither can be had, ``isAvailable`` is false and the slot holds nothing.
final class ThreadExitSlot: Sendable {
    private let slot: lwd_exit_slot
    /// How the slot was made, or why it could not be (`lwd_exit_slot_create`'s result).
    let creation: Int32

    /// Creates the slot; `destructor` gets a thread's value when that thread exits.
    init(destructor: @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        var slot = lwd_exit_slot()
        creation = lwd_exit_slot_create(&slot, destructor)
        self.slot = slot
    }

    /// False when no slot could be made: values are dropped, no destructor runs.
    var isAvailable: Bool { creation > 0 }

    /// Says what the slot costs the host when it is not a pthread key, for a log line.
    var problem: String? {
        switch creation {
        case LWD_EXIT_SLOT_KEY: nil
        case LWD_EXIT_SLOT_THREAD_ATEXIT:
            "no pthread key was left (the process uses all PTHREAD_KEYS_MAX); thread exits are seen through __cxa_thread_atexit_impl instead"
        default:
            "no pthread key was left (the process uses all PTHREAD_KEYS_MAX) and no other way to see thread exits exists here (errno \(-creation))"
        }
    }

    /// The calling thread's value.
    var value: UnsafeMutableRawPointer? {
        guard isAvailable else { return nil }
        return withUnsafePointer(to: slot) { lwd_exit_slot_get($0) }
    }

    /// Sets the calling thread's value; false when it could not be stored.
    @discardableResult
    func set(_ value: UnsafeMutableRawPointer?) -> Bool {
        guard isAvailable else { return false }
        return withUnsafePointer(to: slot) { lwd_exit_slot_set($0, value) } == 0
    }
}
