import Testing

@testable import LoopWatchdog

/// The samples of a stall as the watchdog thread keeps them, on made-up stacks and times.
@Suite
struct StallSamplingTests {
    private let process = ProcessAccounting(throttled: nil, cpuPressure: nil)

    private func add(_ sampling: inout StallSampling, _ addresses: [UInt], at: Int64, state: SampleState = .running) {
        addresses.withUnsafeBufferPointer { buffer in
            sampling.add(outcome: .signal, addresses: buffer, state: state, thread: nil, process: process, at: at)
        }
    }

    @Test func identicalStacksAreCountedOnce() {
        var sampling = StallSampling(startedAt: 0, interval: 10, limit: 100, now: 0)
        for at in 0..<5 { add(&sampling, [0x1000, 0x2000, 0x3000], at: Int64(at) * 10) }
        add(&sampling, [0x9000, 0x2000, 0x3000], at: 50)
        #expect(sampling.stacks.map(\.count) == [5, 1])
        #expect(sampling.records.map(\.stack) == [0, 0, 0, 0, 0, 1])
        #expect(sampling.otherCount == 0)
    }

    @Test func anotherInstructionOfTheSameInnermostFunctionCountsForItsStack() {
        var sampling = StallSampling(startedAt: 0, interval: 10, limit: 100, now: 0)
        add(&sampling, [0x1000, 0x2000, 0x3000], at: 0)
        add(&sampling, [0x1040, 0x2000, 0x3000], at: 10)  // near: same function, same callers
        add(&sampling, [0x1040, 0x2008, 0x3000], at: 20)  // another call site
        add(&sampling, [0x1000, 0x2000], at: 30)  // another depth
        #expect(sampling.stacks.map(\.count) == [2, 1, 1])
        #expect(sampling.stacks[0].addresses == [0x1000, 0x2000, 0x3000], "the first sample's addresses are kept")
    }

    @Test func stacksBeyondTheKeptOnesAndEmptyOnesAreOther() {
        var sampling = StallSampling(startedAt: 0, interval: 1, limit: 100, now: 0)
        for index in 0..<(StallSampling.maximumStacks + 3) {
            add(&sampling, [UInt(index) * 0x10_000, 0x2000], at: Int64(index))
        }
        add(&sampling, [], at: 50)
        #expect(sampling.stacks.count == StallSampling.maximumStacks)
        #expect(sampling.otherCount == 4)
        #expect(sampling.records.count == StallSampling.maximumStacks + 4)
        #expect(sampling.records.suffix(4).allSatisfy { $0.stack == -1 })
    }

    @Test func samplingStopsAtTheLimit() {
        var sampling = StallSampling(startedAt: 0, interval: 10, limit: 3, now: 0)
        #expect(!sampling.isDue(now: 9))
        #expect(sampling.isDue(now: 10))
        for at in [10, 20, 30, 40] as [Int64] { add(&sampling, [0x1000], at: at) }
        #expect(sampling.records.count == 3)
        #expect(sampling.isFull)
        #expect(!sampling.isDue(now: 1_000))
        let pending = sampling.pending(endedAt: 50, end: nil, endProcess: process)
        #expect(pending.reachedLimit)
    }

    @Test func aLateSampleDoesNotBringABurst() {
        var sampling = StallSampling(startedAt: 0, interval: 10, limit: 100, now: 0)
        // The watchdog was held up: the sample due at 10 is taken at 95.
        add(&sampling, [0x1000], at: 95)
        #expect(!sampling.isDue(now: 99), "the next one is not due at once")
        #expect(sampling.isDue(now: 100))
    }

    @Test func mergedStacksOfTheSameFunctionsAreOneAndTheMostSampledComesFirst() {
        var sampling = StallSampling(startedAt: 0, interval: 10, limit: 100, now: 0)
        add(&sampling, [0x50_000, 0x2000], at: 10)
        for at in [20, 30] as [Int64] { add(&sampling, [0x1000, 0x2000], at: at) }
        add(&sampling, [0x1000, 0x2100], at: 40)  // another line of the same caller
        let pending = sampling.pending(endedAt: 45, end: nil, endProcess: process)
        let merged = pending.merged { addresses in
            addresses.enumerated().map { index, address in
                StackFrame(
                    index: index, address: address,
                    symbol: address >= 0x50_000 ? "spin" : address >= 0x2000 ? "caller" : "work", image: "app")
            }
        }
        #expect(merged.count == 4)
        #expect(merged.stacks.map(\.count) == [3, 1])
        #expect(merged.stacks.map { $0.frames.first?.symbol } == ["work", "spin"])
        #expect(merged.covered == .nanoseconds(40))
        #expect(!merged.reachedLimit)
    }
}
