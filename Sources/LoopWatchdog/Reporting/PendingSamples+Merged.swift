extension PendingSamples {
    /// The samples as an event carries them: each distinct stack symbolicated with
    /// `symbolicate`, the most sampled first.
    ///
    /// Stacks that differ only in where inside the same functions they were taken (another
    /// instruction of a loop, another line) are one stack here: a sample says which calls
    /// the thread was in. The first such stack's frames are kept.
    func merged(symbolicate: ([UInt]) -> [StackFrame]) -> StallSamples {
        let last = records.last?.at ?? startedAt
        var merged: [(key: [String], stack: SampledStack, order: Int)] = []
        var indexByKey: [[String]: Int] = [:]
        for (order, stack) in stacks.enumerated() {
            let frames = symbolicate(stack.addresses)
            let key = frames.map(\.callSiteKey)
            if let index = indexByKey[key] {
                merged[index].stack.count += stack.count
            } else {
                indexByKey[key] = merged.count
                merged.append((key, SampledStack(count: stack.count, capture: stack.outcome, frames: frames), order))
            }
        }
        let kept = merged
            .sorted { $0.stack.count != $1.stack.count ? $0.stack.count > $1.stack.count : $0.order < $1.order }
            .map(\.stack)
        return StallSamples(
            count: records.count, stacks: kept, otherCount: otherCount, covered: .nanoseconds(max(last - startedAt, 0)),
            reachedLimit: reachedLimit)
    }
}

extension StackFrame {
    /// The function a frame was in, without where inside it: its symbol, or its image when
    /// it has none (its address then, when it has no image either).
    fileprivate var callSiteKey: String {
        if let symbol, !symbol.isEmpty { return symbol + "\u{1}" + (image ?? "") }
        if let image { return image }
        return String(address, radix: 16)
    }
}
