import CLoopWatchdog
import Testing

@testable import LoopWatchdog

/// The cause of a stall from made-up samples and kernel readings: each step below is
/// 100 ms, with the thread's CPU and wait time, its state at the sample, and the bytes it
/// moved.
@Suite
struct StallCauseAnalysisTests {
    private static let step: Int64 = 100_000_000

    /// How the thread spent one step, and where it was at the sample that ends it.
    private struct Step {
        var state: SampleState
        var onCPU: Double = 0
        var waiting: Double = 0
        var bytes: Int64 = 0
        var throttled: Double = 0
    }

    private static let nanosleep = SampleState.parked(number: 230, descriptor: nil)
    private static let futex = SampleState.parked(number: 202, descriptor: nil)
    private static func pread(_ kind: Int32) -> SampleState { .parked(number: 17, descriptor: kind) }

    /// A stall of `steps`, its first sample one step after it began, its end one step
    /// after the last sample (spent like the last step); readings of every sample unless
    /// `readings` is false.
    private func analyse(_ steps: [Step], readings: Bool = true) -> StallCause? {
        var at: Int64 = 0
        var cpu: Int64 = 0
        var wait: Int64 = 0
        var bytes: Int64 = 0
        var throttled: Int64 = 0
        var records: [StallSampleRecord] = []
        func reading() -> ThreadAccounting? {
            readings ? ThreadAccounting(at: at, onCPU: cpu, waiting: wait, readBytes: bytes, writtenBytes: 0) : nil
        }
        func advance(_ step: Step) {
            at += Self.step
            cpu += Int64(step.onCPU * Double(Self.step))
            wait += Int64(step.waiting * Double(Self.step))
            throttled += Int64(step.throttled * Double(Self.step))
            bytes += step.bytes
        }
        for step in steps {
            advance(step)
            records.append(
                StallSampleRecord(
                    at: at, stack: 0, state: step.state, thread: reading(),
                    process: ProcessAccounting(throttled: throttled, cpuPressure: nil)))
        }
        if let last = steps.last { advance(last) }
        let samples = PendingSamples(
            startedAt: 0, endedAt: at, stacks: [], otherCount: 0, records: records, end: reading(),
            endProcess: ProcessAccounting(throttled: throttled, cpuPressure: nil), reachedLimit: false)
        return StallCauseAnalysis.cause(of: samples)
    }

    private func share(_ cause: StallCause?, _ verdict: StallCause.Verdict) -> Double {
        cause?.phases.first { $0.verdict == verdict }?.share ?? 0
    }

    @Test func onCPUAllAlongIsComputing() throws {
        let cause = try #require(analyse(Array(repeating: Step(state: .running, onCPU: 1), count: 10)))
        #expect(cause.verdict == .computing)
        #expect(cause.phases.count == 1)
        #expect(cause.onCPU == .nanoseconds(10 * Self.step))
        #expect(cause.measured == .nanoseconds(10 * Self.step))
        #expect(cause.remedy.contains("Task.yield()"))
    }

    @Test func parkedInNanosleepIsSleeping() throws {
        let cause = try #require(analyse(Array(repeating: Step(state: Self.nanosleep), count: 10)))
        #expect(cause.verdict == .sleeping)
        #expect(cause.systemCall == "clock_nanosleep")
        #expect(cause.remedy.contains("Task.sleep"))
        #expect(cause.offCPU == .nanoseconds(10 * Self.step))
    }

    @Test func parkedInFutexIsWaitingForALock() throws {
        let cause = try #require(analyse(Array(repeating: Step(state: Self.futex), count: 5)))
        #expect(cause.verdict == .waitingForLock)
        #expect(cause.systemCall == "futex")
    }

    @Test func aComputePhaseThenASleepPhaseAreBothListed() throws {
        let steps = Array(repeating: Step(state: .running, onCPU: 1), count: 10)
            + Array(repeating: Step(state: Self.nanosleep), count: 10)
        let cause = try #require(analyse(steps))
        #expect(abs(share(cause, .computing) - 0.5) < 0.06, "\(cause.phases)")
        #expect(abs(share(cause, .sleeping) - 0.5) < 0.06, "\(cause.phases)")
        #expect(cause.phases.map(\.share).reduce(0, +) > 0.99)
    }

    @Test func waitingForACPUIsStarvation() throws {
        let cause = try #require(analyse(Array(repeating: Step(state: .running, onCPU: 0.2, waiting: 0.8), count: 10)))
        #expect(cause.verdict == .starvedOfCPU)
        #expect(cause.waitingForCPU == .nanoseconds(8 * Self.step))
    }

    @Test func waitingWhileTheCgroupIsThrottledIsThrottling() throws {
        let steps = Array(repeating: Step(state: .running, onCPU: 0.2, waiting: 0.8, throttled: 0.8), count: 10)
        let cause = try #require(analyse(steps))
        #expect(cause.verdict == .throttled)
        #expect(cause.throttled == .nanoseconds(8 * Self.step))
        #expect(cause.remedy.contains("quota"))
    }

    @Test func runnableStepsWithNoWaitYetCountAsHeldOffWhenTheStallWaited() throws {
        // schedstat adds a wait when it ends: steps in the middle of one long wait show
        // none, and the step at its end shows it all.
        let steps = [Step(state: .running, onCPU: 0.2)] + Array(repeating: Step(state: .running), count: 4)
            + [Step(state: .running, waiting: 5)] + Array(repeating: Step(state: .running, onCPU: 0.1), count: 4)
        let cause = try #require(analyse(steps))
        #expect(cause.verdict == .starvedOfCPU, "\(cause.phases)")
    }

    @Test func busyCopyingFromAFileIsFileIO() throws {
        let copying = Step(state: .running, onCPU: 1, bytes: 200 << 20)
        let cause = try #require(analyse(Array(repeating: copying, count: 10)))
        #expect(cause.verdict == .fileIO)
        let copied: Int64 = 10 * 200 * 1_048_576
        #expect(cause.readBytes == copied, "from the first reading to the end")
    }

    @Test func parkedInPreadNamesTheKindOfItsDescriptor() throws {
        let file = try #require(analyse(Array(repeating: Step(state: Self.pread(Int32(LWD_FD_FILE))), count: 4)))
        #expect(file.verdict == .fileIO)
        #expect(file.systemCall == "pread64")
        let socket = try #require(analyse(Array(repeating: Step(state: Self.pread(Int32(LWD_FD_SOCKET))), count: 4)))
        #expect(socket.verdict == .networkIO)
        let pipe = try #require(analyse(Array(repeating: Step(state: Self.pread(Int32(LWD_FD_PIPE))), count: 4)))
        #expect(pipe.verdict == .systemCall)
        #expect(pipe.systemCall == "pread64 on a pipe")
    }

    @Test func withoutReadingsTheStateAtEachSampleDecides() throws {
        let steps = Array(repeating: Step(state: .running), count: 3) + Array(repeating: Step(state: Self.futex), count: 7)
        let cause = try #require(analyse(steps, readings: false))
        #expect(cause.verdict == .waitingForLock)
        #expect(abs(share(cause, .computing) - 3.0 / 11) < 0.01, "\(cause.phases)")
        #expect(cause.onCPU == nil)
        #expect(cause.measured == .zero)
    }

    @Test func aPhaseUnderFivePercentIsNotListed() throws {
        let steps = [Step(state: Self.nanosleep)] + Array(repeating: Step(state: .running, onCPU: 1), count: 30)
        let cause = try #require(analyse(steps))
        #expect(cause.phases.map(\.verdict) == [.computing])
    }

    @Test func noSampleNoCause() {
        #expect(analyse([]) == nil)
    }
}
