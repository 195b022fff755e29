/// Probes a loop that cannot probe itself on a timer: the watchdog thread calls it for that
/// loop at every tick, after observing the loop.
///
/// Thread model: called only on the watchdog thread; it must return at once (enqueue a
/// probe, never wait for it).
protocol LoopProber: Sendable {
    /// Sends the loop a new probe if the previous one has run. `now` is the tick's time.
    func probe(_ record: LoopRecord, now: Int64)
}
