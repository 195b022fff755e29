import Glibc

/// Retires a thread's loops when the thread exits without unregistering them, through a
/// pthread key destructor. Runs on the exiting thread.
enum ThreadExitHook {
    /// The loops registered by one thread. Touched only by that thread.
    private final class ThreadLoops {
        var records: [LoopRecord] = []
    }

    private static let slot = ThreadExitSlot { pointer in
        guard let pointer else { return }
        let loops = Unmanaged<ThreadLoops>.fromOpaque(pointer).takeRetainedValue()
        for record in loops.records {
            record.retire()
        }
    }

    /// Why a thread's exit may not be seen at once, when it may not (see ``ThreadExitSlot``).
    static var problem: String? { slot.problem }

    /// False when thread exits cannot be seen at all.
    static var seesExits: Bool { slot.isAvailable }

    /// Arranges for `record` to be retired when the calling thread exits.
    /// Without a slot (see ``problem``) nothing is arranged: the loop stays registered
    /// until it unregisters.
    static func retireOnExit(_ record: LoopRecord) {
        guard slot.isAvailable else { return }
        if let existing = slot.value {
            let loops = Unmanaged<ThreadLoops>.fromOpaque(existing).takeUnretainedValue()
            loops.records.removeAll { $0.retired.load(ordering: .relaxed) }
            loops.records.append(record)
            return
        }
        let loops = ThreadLoops()
        loops.records.append(record)
        let retained = Unmanaged.passRetained(loops)
        if !slot.set(retained.toOpaque()) { retained.release() }
    }
}
