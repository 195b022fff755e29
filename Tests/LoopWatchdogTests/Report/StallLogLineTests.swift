import Testing

@testable import LoopWatchdog
@testable import LoopWatchdogReport

/// Lines written by the library's own JSON formatter are read back exactly; anything else
/// is classified, never fatal.
@Suite struct StallLogLineTests {
    static let appFrames = [
        StackFrame(index: 0, address: 0x7f00_0000_1000, symbol: "clock_nanosleep", image: "libc.so.6", imageOffset: 0xcf545),
        StackFrame(index: 1, address: 0x7f00_0000_2000, symbol: "usleep", image: "libc.so.6", imageOffset: 0xff295),
        StackFrame(
            index: 2, address: 0x5555_0000_3000, symbol: "sleepRoute<A>(_:_:)", image: "App",
            file: "/src/App.swift", line: 48, imageOffset: 0x3000, buildID: "abcd"),
        StackFrame(index: 3, address: 0x5555_0000_4000, symbol: nil, image: "App", imageOffset: 0x4000),
    ]

    /// `appFrames` with an awaiting caller of the route.
    static let framesWithACaller = appFrames + [
        StackFrame(
            index: 4, address: 0x5555_0000_5000, symbol: "router()", image: "App", file: "/src/App.swift", line: 20,
            imageOffset: 0x5000, isAsync: true)
    ]

    static func line(_ event: StallEvent, time: Double = 1_765_000_000.25) -> String {
        JSONEventFormatter().line(for: event, wallClockSeconds: time)
    }

    @Test func aBeganLineIsReadBackWithEveryFrame() throws {
        let event = Fixtures.event(
            .began, stallID: 12, loop: "NIO-ELT-0-#1", tid: 4242, blocked: .milliseconds(105.5), frames: Self.framesWithACaller)
        guard case .event(let parsed, let time, let cause) = StallLogLine.parse(Self.line(event)) else {
            Issue.record("not an event: \(StallLogLine.parse(Self.line(event)))")
            return
        }
        #expect(time == 1_765_000_000.25)
        #expect(cause == nil)
        #expect(parsed.kind == .began)
        #expect(parsed.stallID == 12)
        #expect(parsed.loopName == "NIO-ELT-0-#1")
        #expect(parsed.threadID == 4242)
        #expect(parsed.blocked == .milliseconds(105.5))
        #expect(parsed.threshold == .milliseconds(100))
        #expect(!parsed.isPool)
        #expect(parsed.frames.count == 5)
        #expect(parsed.frames.map(\.isAsync) == [false, false, false, false, true])
        for (read, written) in zip(parsed.frames, Self.framesWithACaller) {
            #expect(read.isAsync == written.isAsync)
            #expect(read.symbol == written.symbol)
            #expect(read.image == written.image)
            #expect(read.file == written.file)
            #expect(read.line == written.line)
            #expect(read.address == written.address)
            #expect(read.imageOffset == written.imageOffset)
        }
    }

    @Test func anEndedLineCarriesItsCauseAndSkipsTheSamples() throws {
        var event = Fixtures.event(.ended, blocked: .milliseconds(350.244), frames: [])
        event.cause = StallCause(
            verdict: .sleeping, systemCall: "clock_nanosleep", phases: [.init(verdict: .sleeping, share: 1)],
            measured: .milliseconds(250))
        event.samples = StallSamples(
            count: 3, stacks: [SampledStack(count: 3, capture: .syscall, frames: Self.appFrames)], otherCount: 0,
            covered: .milliseconds(250), reachedLimit: false)
        guard case .event(let parsed, _, let cause) = StallLogLine.parse(Self.line(event)) else {
            Issue.record("not an event")
            return
        }
        #expect(parsed.kind == .ended)
        #expect(parsed.blocked == .milliseconds(350.244))
        #expect(cause == "sleeping")
        #expect(parsed.frames.isEmpty)
    }

    @Test(arguments: [
        LabeledString("nasty", Fixtures.nastyName), LabeledString("plain", "swift-concurrency-pool.medium"),
        LabeledString("emoji", "🚀 loop \"one\""),
    ])
    func escapedNamesSurviveTheRoundTrip(name: LabeledString) throws {
        let frames = [StackFrame(index: 0, address: 1, symbol: name.value, image: name.value, file: name.value, line: 1)]
        let event = Fixtures.event(.began, loop: name.value, frames: frames)
        guard case .event(let parsed, _, _) = StallLogLine.parse(Self.line(event)) else {
            Issue.record("not an event")
            return
        }
        #expect(parsed.loopName == name.value)
        #expect(parsed.frames.first?.symbol == name.value)
        #expect(parsed.frames.first?.file == name.value)
    }

    @Test func aRepeatsLineIsRead() {
        let line = #"{"time":1765000100.5,"event":"stall.repeats","site":"sleepRoute<A>(_:_:) <- closure #1","loop":"swift-concurrency-pool.medium","stalls":5,"blocked_ms":1507.9,"longest_ms":303.2,"since_ms":2000}"#
        #expect(
            StallLogLine.parse(line)
                == .repeats(
                    StallSiteRepeatsLine(
                        site: "sleepRoute<A>(_:_:) <- closure #1", loop: "swift-concurrency-pool.medium", stalls: 5,
                        blocked: .milliseconds(1507.9), longest: .milliseconds(303.2), time: 1_765_000_100.5)))
    }

    @Test func otherLinesAreClassifiedNotRead() {
        #expect(StallLogLine.parse("2026-12-06T22:40:10+0000 info App: Server started") == .foreign)
        #expect(StallLogLine.parse("") == .foreign)
        #expect(StallLogLine.parse(#"{"level":"info","msg":"request"}"#) == .otherJSON)
        #expect(StallLogLine.parse(#"{"time":1,"event":"stall.summary","interval_ms":60000,"sites":[],"other_sites":0}"#) == .otherJSON)
        #expect(StallLogLine.parse(#"{"time":1,"event":"stall.began","stall_id":1,"loop":"x","blocked_ms":"#) == .malformed)
        #expect(StallLogLine.parse(#"{"time":1,"event":"stall.began","stall_id":-1,"loop":"x","blocked_ms":1}"#) == .malformed)
        #expect(StallLogLine.parse(#"{"time":1,"event":"stall.began","stall_id":1,"loop":"x","blocked_ms":1} trailing"#) == .malformed)
    }

    /// Every prefix of a real line (a log torn at any byte) is malformed or not a stall
    /// line, never a wrong event and never a crash.
    @Test func everyTornPrefixIsRejected() {
        let event = Fixtures.event(.began, loop: "é loop", frames: Self.appFrames)
        let full = Array(Self.line(event).utf8)
        for length in 0..<full.count {
            let result = full[0..<length].withUnsafeBytes { StallLogLine.parse($0) }
            switch result {
            case .malformed, .foreign, .otherJSON: continue
            default: Issue.record("prefix of \(length) bytes read as \(result)")
            }
        }
        #expect(full.withUnsafeBytes { StallLogLine.parse($0) } != .malformed)
    }

    @Test func deepNestingIsRejectedNotRecursedInto() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(StallLogLine.parse(#"{"event":"stall.began","x":"# + deep + "}") == .malformed)
    }
}
