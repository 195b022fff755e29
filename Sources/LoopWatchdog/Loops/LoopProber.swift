/// Probes a loop that cannot probe itself on a timer: the watchdog thread calls it for that
/// loop at every tick, after observing the loop.
///
/// A prober may also record, from the watchdog thread, that the loop answers without a
/// probe (it is waiting for work, or nothing in it ran since it last answered): it may
/// write the record's probe fields only while its probe state is `.answered`, when no probe
/// of its own is outstanding.
///
/// Thread model: called only on the watchdog thread; it must return at once (enqueue a
/// probe, never wait for it).
protocol LoopProber: Sendable {
    /// Sends the loop a new probe if the previous one has run and the loop may be busy.
    /// `now` is the tick's time.
    func probe(_ record: LoopRecord, now: Int64) -> ProbeVerdict
}

/// What a prober found at one tick; the watchdog thread ticks less often while every loop
/// is quiet (``ThresholdRule/quietInterval(_:smallestThreshold:)``), and less still while
/// every loop rests (``ThresholdRule/restingInterval(_:smallestThreshold:)``).
enum ProbeVerdict: Sendable, Hashable {
    /// A probe is outstanding or was just sent.
    case busy
    /// No probe outstanding, none sent: the loop waits for work, but ran since the last tick.
    case quiet
    /// Nothing in the loop ran since the last tick, when it was already waiting for work.
    case resting
}
