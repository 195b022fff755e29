import CLoopWatchdog

/// Turns a stall's samples and the kernel accounting read with them into a ``StallCause``.
/// Pure: every input is a parameter, so tests feed it made-up readings.
///
/// The stall is cut into spans: from its start to the first sample, between consecutive
/// samples, and from the last sample to its end. A span whose two ends have readings gets
/// its verdict from them: on a CPU at least half of it is `file I/O` when the thread moved
/// 64 MB/s or more through read and write calls, else `computing`; waiting for a CPU at
/// least 40 % of it, or runnable at its end without having run (the kernel adds a wait to
/// schedstat only when the wait is over, so a span spent waiting may show none yet), is
/// being held off the CPU; otherwise the thread was off CPU and the system call it was
/// parked in at the span's end (or at the last sample that saw it parked) names the verdict.
/// Held off the CPU is `throttled` when the cgroup was throttled for a tenth of the stall,
/// else `starved of CPU`; a runnable span with no wait counts so only when the stall as a
/// whole waited a fifth of its time. The first span has no reading at its start: the
/// sample at its end decides (running: computing).
enum StallCauseAnalysis {
    /// The smallest share of the time a phase needs to be listed.
    static let phaseShare = 0.05
    /// The least bytes per second, through read and write calls, that make a thread on CPU
    /// be doing file I/O rather than computing.
    static let copyingBytesPerSecond = 64.0 * 1_048_576

    /// The cause of the stall sampled in `samples`; nil without any sample.
    static func cause(of samples: PendingSamples) -> StallCause? {
        let records = samples.records
        guard let last = records.last else { return nil }
        var cause = StallCause(verdict: .computing, phases: [], measured: .zero)
        addTotals(to: &cause, from: records.first(where: { $0.thread != nil }), samples: samples)
        let measured = Double(cause.measured.clampedNanoseconds)
        let stall = Stall(
            throttled: measured > 0 && Double(cause.throttled?.clampedNanoseconds ?? 0) >= 0.1 * measured,
            waited: measured > 0 && Double(cause.waitingForCPU?.clampedNanoseconds ?? 0) >= 0.2 * measured)
        var weights: [Key: Int64] = [:]
        var order: [Key] = []
        var lastParked: SampleState?
        func add(_ key: Key?, _ weight: Int64) {
            guard let key, weight > 0 else { return }
            if weights[key] == nil { order.append(key) }
            weights[key, default: 0] += weight
        }
        for (index, record) in records.enumerated() {
            let previous = index > 0 ? records[index - 1] : nil
            let key = verdict(
                state: record.state, from: previous?.thread, to: record.thread, stall: stall, lastParked: lastParked)
            add(key, record.at - (previous?.at ?? samples.startedAt))
            if case .parked = record.state { lastParked = record.state }
        }
        if samples.endedAt > last.at {
            let key = verdict(state: last.state, from: last.thread, to: samples.end, stall: stall, lastParked: lastParked)
            add(key, samples.endedAt - last.at)
        }
        let total = weights.values.reduce(0, +)
        guard total > 0, let top = order.max(by: { weights[$0]! < weights[$1]! }) else { return nil }
        cause.verdict = top.verdict
        cause.systemCall = top.systemCall
        cause.phases = order
            .map { StallCause.Phase(verdict: $0.verdict, systemCall: $0.systemCall, share: Double(weights[$0]!) / Double(total)) }
            .filter { $0.share >= phaseShare }
            .sorted { $0.share > $1.share }
        return cause
    }

    /// What the whole stall's accounting says about time held off the CPU.
    private struct Stall {
        /// The cgroup was throttled for a tenth of the stall or more.
        var throttled: Bool
        /// The thread waited for a CPU a fifth of the stall or more.
        var waited: Bool

        var heldOff: StallCause.Verdict { throttled ? .throttled : .starvedOfCPU }
    }

    /// A verdict with its system call: what a span is added up under.
    private struct Key: Hashable {
        var verdict: StallCause.Verdict
        var systemCall: String?
    }

    /// The verdict of the span that ends at a sample in `state`, with readings `from` its
    /// start and `to` its end.
    private static func verdict(
        state: SampleState, from: ThreadAccounting?, to: ThreadAccounting?, stall: Stall, lastParked: SampleState?
    ) -> Key? {
        guard let from, let to, let cpuFrom = from.onCPU, let cpuTo = to.onCPU, let waitFrom = from.waiting,
            let waitTo = to.waiting, to.at > from.at
        else {
            switch state {
            case .running: return Key(verdict: .computing)
            case .parked: return parked(state)
            case .unknown: return nil
            }
        }
        let elapsed = Double(to.at - from.at)
        let onCPU = Double(cpuTo - cpuFrom) / elapsed
        let waiting = Double(waitTo - waitFrom) / elapsed
        if onCPU >= 0.5 && waiting < onCPU {
            let moved = (difference(from.readBytes, to.readBytes) ?? 0) + (difference(from.writtenBytes, to.writtenBytes) ?? 0)
            if Double(moved) / elapsed * 1e9 >= copyingBytesPerSecond {
                if case .parked(_, let descriptor) = state, descriptor == Int32(LWD_FD_SOCKET) {
                    return Key(verdict: .networkIO)
                }
                return Key(verdict: .fileIO)
            }
            return Key(verdict: .computing)
        }
        if waiting >= 0.4 { return Key(verdict: stall.heldOff) }
        if state == .running && (stall.waited || stall.throttled) { return Key(verdict: stall.heldOff) }
        if case .parked = state { return parked(state) }
        if let lastParked { return parked(lastParked) }
        return Key(verdict: .systemCall)
    }

    /// The verdict for a thread off CPU, parked as `state` says.
    private static func parked(_ state: SampleState) -> Key? {
        guard case .parked(let number, let descriptor) = state else { return nil }
        let name = SystemCalls.name(number)
        switch SystemCalls.kind(number) {
        case .sleep: return Key(verdict: .sleeping, systemCall: name)
        case .lock: return Key(verdict: .waitingForLock, systemCall: name)
        case .network: return Key(verdict: .networkIO, systemCall: name)
        case .fileSystem: return Key(verdict: .fileIO, systemCall: name)
        case .descriptorIO:
            switch descriptor {
            case Int32(LWD_FD_FILE): return Key(verdict: .fileIO, systemCall: name)
            case Int32(LWD_FD_SOCKET): return Key(verdict: .networkIO, systemCall: name)
            case Int32(LWD_FD_PIPE): return Key(verdict: .systemCall, systemCall: "\(name) on a pipe")
            case Int32(LWD_FD_DEVICE): return Key(verdict: .systemCall, systemCall: "\(name) on a terminal or device")
            default: return Key(verdict: .systemCall, systemCall: name)
            }
        case .other: return Key(verdict: .systemCall, systemCall: name)
        }
    }

    /// Time on CPU, waiting and off CPU, throttling, pressure and bytes from the first
    /// reading to the last.
    private static func addTotals(to cause: inout StallCause, from first: StallSampleRecord?, samples: PendingSamples) {
        guard let first, let start = first.thread else { return }
        let lastReading = samples.end ?? samples.records.last(where: { $0.thread != nil })?.thread
        guard let end = lastReading, end.at > start.at else { return }
        let measured = end.at - start.at
        cause.measured = .nanoseconds(measured)
        let onCPU = difference(start.onCPU, end.onCPU)
        let waiting = difference(start.waiting, end.waiting)
        cause.onCPU = onCPU.map { .nanoseconds(min($0, measured)) }
        cause.waitingForCPU = waiting.map { .nanoseconds(min($0, measured)) }
        if let onCPU, let waiting { cause.offCPU = .nanoseconds(max(measured - onCPU - waiting, 0)) }
        let endProcess = samples.end != nil ? samples.endProcess : samples.records.last!.process
        if let throttled = difference(first.process.throttled, endProcess.throttled) {
            cause.throttled = .nanoseconds(throttled)
        }
        if let pressure = difference(first.process.cpuPressure, endProcess.cpuPressure) {
            cause.cpuPressure = min(max(Double(pressure) / Double(measured), 0), 1)
        }
        cause.readBytes = difference(start.readBytes, end.readBytes)
        cause.writtenBytes = difference(start.writtenBytes, end.writtenBytes)
    }

    private static func difference(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a, let b else { return nil }
        return max(b - a, 0)
    }
}
