import Testing

@testable import LoopWatchdog

@Suite struct CPUStarvationCheckTests {
    static let ms: Int64 = 1_000_000
    static let interval: Int64 = 10 * ms

    static func sample(at: Int64, onCPU: Int64, waiting: Int64, runnable: Bool) -> SchedulerSample {
        SchedulerSample(at: at, onCPU: onCPU, waiting: waiting, isRunnable: runnable)
    }

    @Test func runnableThreadWithoutCPUIsStarvedOnceThreeIntervalsPassed() {
        var check = CPUStarvationCheck()
        let result1 = check.observe([7: Self.sample(at: 0, onCPU: 0, waiting: 0, runnable: true)], now: 0, interval: Self.interval)
        #expect(!result1)
        #expect(check.isWatching)
        // Two intervals later: too early to judge.
        let result2 = check.observe([7: Self.sample(at: 20 * Self.ms, onCPU: 0, waiting: 0, runnable: true)], now: 20 * Self.ms, interval: Self.interval)
        #expect(!result2)
        let result3 = check.observe([7: Self.sample(at: 30 * Self.ms, onCPU: 1 * Self.ms, waiting: 0, runnable: true)], now: 30 * Self.ms, interval: Self.interval)
        #expect(result3)
    }

    @Test func spinningThreadIsNotStarved() {
        var check = CPUStarvationCheck()
        _ = check.observe([7: Self.sample(at: 0, onCPU: 0, waiting: 0, runnable: true)], now: 0, interval: Self.interval)
        let result4 = check.observe([7: Self.sample(at: 50 * Self.ms, onCPU: 48 * Self.ms, waiting: 0, runnable: true)], now: 50 * Self.ms, interval: Self.interval)
        #expect(!result4)
    }

    @Test func threadBlockedInASystemCallIsNotStarved() {
        var check = CPUStarvationCheck()
        _ = check.observe([7: Self.sample(at: 0, onCPU: 0, waiting: 0, runnable: false)], now: 0, interval: Self.interval)
        let result5 = check.observe([7: Self.sample(at: 50 * Self.ms, onCPU: 0, waiting: 0, runnable: false)], now: 50 * Self.ms, interval: Self.interval)
        #expect(!result5)
    }

    @Test func oneStarvedWorkerOfAPoolIsEnoughAndResetForgetsTheBaseline() {
        var check = CPUStarvationCheck()
        _ = check.observe([
            1: Self.sample(at: 0, onCPU: 0, waiting: 0, runnable: false),
            2: Self.sample(at: 0, onCPU: 0, waiting: 0, runnable: false),
        ], now: 0, interval: Self.interval)
        // Worker 2 waited 40 of 50 ms for a CPU.
        let result6 = check.observe([
            1: Self.sample(at: 50 * Self.ms, onCPU: 0, waiting: 0, runnable: false),
            2: Self.sample(at: 50 * Self.ms, onCPU: 1 * Self.ms, waiting: 40 * Self.ms, runnable: false),
        ], now: 50 * Self.ms, interval: Self.interval)
        #expect(result6)
        check.reset()
        #expect(!check.isWatching)
    }
}
