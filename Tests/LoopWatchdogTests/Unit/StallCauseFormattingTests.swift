import Foundation
import Testing

@testable import LoopWatchdog

/// The cause and samples of an `ended` event, as text and as JSON.
@Suite
struct StallCauseFormattingTests {
    static let twoPhase = StallCause(
        verdict: .computing,
        phases: [
            .init(verdict: .computing, share: 0.51), .init(verdict: .sleeping, systemCall: "clock_nanosleep", share: 0.49),
        ],
        onCPU: .milliseconds(1_020), waitingForCPU: .milliseconds(3), offCPU: .milliseconds(977),
        measured: .seconds(2), throttled: .zero, cpuPressure: 0.02, readBytes: 0, writtenBytes: 0)

    static let spinFrame = StackFrame(index: 0, address: 0x1000, symbol: "spin()", image: "app", file: "/src/A.swift", line: 3)
    static let sleepFrame = StackFrame(index: 0, address: 0x2000, symbol: "usleep", image: "libc.so.6")

    static let samples = StallSamples(
        count: 40,
        stacks: [
            SampledStack(count: 20, capture: .signal, frames: [spinFrame]),
            SampledStack(count: 19, capture: .syscall, frames: [sleepFrame]),
        ],
        otherCount: 1, covered: .milliseconds(1_950), reachedLimit: false)

    static func ended() -> StallEvent {
        var event = Fixtures.event(.ended, blocked: .seconds(2), capture: .none, frames: [])
        event.cause = twoPhase
        event.samples = samples
        return event
    }

    @Test func textSaysThePhasesTheRemedyAndTheMostSampledStacks() {
        let message = TextEventFormatter().message(for: Self.ended())
        #expect(message == """
            loop 'main' (tid 1234) was blocked for 2 s (threshold 100 ms)
              cause: computing (51 %), then sleeping in clock_nanosleep (49 %); on CPU 1.02 s, waiting for a CPU 3 ms, off CPU 977 ms of 2 s
              remedy: \(StallCause.Verdict.computing.remedy(systemCall: nil))
              samples: 40 over 1.95 s, 2 distinct stacks, 1 without a stack kept
              20 of 40 samples (50 %), by signal:
                #0  0x0000000000001000  spin() at /src/A.swift:3 [app]
              19 of 40 samples (48 %), by syscall:
                #0  0x0000000000002000  usleep [libc.so.6]
            """)
    }

    @Test func textOfAThrottledStallSaysHowLongTheCgroupWasThrottled() {
        let cause = StallCause(
            verdict: .throttled, phases: [.init(verdict: .throttled, share: 1)], onCPU: .milliseconds(200),
            waitingForCPU: .milliseconds(800), offCPU: .zero, measured: .seconds(1), throttled: .milliseconds(790),
            cpuPressure: 0.5)
        let line = StallCauseFormatting.causeLine(cause)
        #expect(line.hasPrefix("cause: throttled by the CPU quota (100 %); on CPU 200 ms"))
        #expect(line.contains("; the cgroup was throttled for 790 ms"))
        #expect(line.contains("; the machine's CPUs were contended 50 % of the time"))
    }

    @Test func textOfFileIOSaysTheBytesMoved() {
        let cause = StallCause(
            verdict: .fileIO, phases: [], measured: .seconds(1), readBytes: 3 << 30, writtenBytes: 5 << 19)
        #expect(StallCauseFormatting.causeLine(cause) == "cause: file I/O (100 %); 3072 MB read, 2.5 MB written")
        // From 10 GB on, in GB.
        let large = StallCause(
            verdict: .fileIO, phases: [], measured: .seconds(1), readBytes: 11 << 30, writtenBytes: 0)
        #expect(StallCauseFormatting.causeLine(large) == "cause: file I/O (100 %); 11 GB read, 0 MB written")
    }

    @Test func aContinuingEventHasNoSampledStacksInText() {
        var event = Self.ended()
        event = StallEvent(
            kind: .continuing, stallID: 7, loopName: "main", threadID: 1234, threshold: .milliseconds(100),
            blocked: .seconds(2), capture: .signal, frames: [Self.spinFrame])
        event.samples = Self.samples
        let message = TextEventFormatter().message(for: event)
        #expect(message.contains("  samples: 40 over 1.95 s, 2 distinct stacks"))
        #expect(!message.contains("of 40 samples"))
    }

    @Test func metadataNamesTheCauseAndTheSampleCount() {
        let metadata = TextEventFormatter().metadata(for: Self.ended())
        #expect(metadata["cause"] == .string("computing"))
        #expect(metadata["samples"]?.description == "40")
    }

    @Test func jsonHasTheCauseAndTheSamplesAsFields() throws {
        let line = JSONEventFormatter().line(for: Self.ended(), wallClockSeconds: 1_764_196_201.123)
        let object = try parseJSONObject(line)
        let cause = try #require(object["cause"] as? [String: Any])
        #expect(cause["verdict"] as? String == "computing")
        #expect(cause["system_call"] is NSNull)
        #expect(cause["remedy"] as? String == StallCause.Verdict.computing.remedy(systemCall: nil))
        let phases = try #require(cause["phases"] as? [[String: Any]])
        #expect(phases.map { $0["verdict"] as? String } == ["computing", "sleeping"])
        #expect(phases.map { $0["system_call"] as? String } == [nil, "clock_nanosleep"])
        #expect(phases.map { ($0["share"] as? NSNumber)?.doubleValue } == [0.51, 0.49])
        #expect((cause["on_cpu_ms"] as? NSNumber)?.doubleValue == 1_020)
        #expect((cause["waiting_for_cpu_ms"] as? NSNumber)?.doubleValue == 3)
        #expect((cause["off_cpu_ms"] as? NSNumber)?.doubleValue == 977)
        #expect((cause["measured_ms"] as? NSNumber)?.doubleValue == 2_000)
        #expect((cause["cpu_pressure"] as? NSNumber)?.doubleValue == 0.02)
        let samples = try #require(object["samples"] as? [String: Any])
        #expect(samples["count"] as? Int == 40)
        #expect(samples["other"] as? Int == 1)
        #expect(samples["limit_reached"] as? Bool == false)
        #expect((samples["covered_ms"] as? NSNumber)?.doubleValue == 1_950)
        let stacks = try #require(samples["stacks"] as? [[String: Any]])
        #expect(stacks.map { $0["count"] as? Int } == [20, 19])
        #expect(stacks.map { ($0["share"] as? NSNumber)?.doubleValue } == [0.5, 0.475])
        #expect(stacks.map { $0["capture"] as? String } == ["signal", "syscall"])
        let frames = try #require(stacks.first?["frames"] as? [[String: Any]])
        #expect(frames.first?["symbol"] as? String == "spin()")
        #expect(frames.first?["line"] as? Int == 3)
    }

    @Test func jsonOfAnEventWithoutCauseHasNeitherKey() throws {
        let object = try parseJSONObject(JSONEventFormatter().line(for: Fixtures.event(.ended), wallClockSeconds: 1))
        #expect(object["cause"] == nil)
        #expect(object["samples"] == nil)
    }

    @Test(arguments: [
        (StallCause.Verdict.sleeping, "nanosleep", "Task.sleep"),
        (.waitingForLock, "futex", "critical section"),
        (.fileIO, "pread64", "NonBlockingFileIO"),
        (.networkIO, "recvfrom", "AsyncHTTPClient"),
        (.starvedOfCPU, nil, "overloaded"),
        (.throttled, nil, "CPU limit"),
        (.systemCall, "wait4", "NIOThreadPool"),
    ] as [(StallCause.Verdict, String?, String)])
    func everyVerdictHasARemedyForASwiftServer(verdict: StallCause.Verdict, call: String?, words: String) {
        let remedy = verdict.remedy(systemCall: call)
        #expect(remedy.contains(words), "\(remedy)")
        if let call, verdict != .starvedOfCPU { #expect(remedy.contains("(\(call))"), "\(remedy)") }
    }
}
