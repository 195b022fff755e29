import Logging
import Testing

@testable import LoopWatchdog

/// Text and JSON forms of a pool's events: one header, then each busy worker with its stack.
@Suite("Pool event formatting")
struct PoolEventFormattingTests {
    static let worker = ThreadStack(
        threadID: 4321, name: "oot.default-qos", capture: .syscall, frames: [Fixtures.demoFrame])
    static let unreachable = ThreadStack(
        threadID: 4322, name: "oot.default-qos", capture: .unavailable("thread-exited"))

    static func poolEvent(_ kind: StallEvent.Kind, threads: [ThreadStack]) -> StallEvent {
        StallEvent(
            kind: kind, stallID: 3, loopName: "swift-concurrency-pool.medium", threadID: 0,
            threshold: .milliseconds(100), blocked: .microseconds(104_500), capture: .none, threads: threads,
            isPool: true)
    }

    @Test func textListsEachBusyWorkerWithItsStack() {
        let message = TextEventFormatter().message(for: Self.poolEvent(.began, threads: [Self.worker, Self.unreachable]))
        #expect(message == """
            pool 'swift-concurrency-pool.medium' starved for 105 ms (threshold 100 ms); 2 busy threads:
              thread 'oot.default-qos' (tid 4321); stack captured by syscall:
                #0  0x00005555deadbeef  Demo.sleepBlocking(milliseconds:) at /src/Demo.swift:42 [loop-watchdog]
              thread 'oot.default-qos' (tid 4322); no stack: thread-exited
            """)
    }

    @Test func textHeadersOfContinuingAndEnded() {
        let formatter = TextEventFormatter()
        var continuing = Self.poolEvent(.continuing, threads: [])
        continuing.blocked = .milliseconds(1_100)
        #expect(formatter.message(for: continuing)
            == "pool 'swift-concurrency-pool.medium' still starved after 1.1 s (threshold 100 ms); no busy thread found")
        var ended = Self.poolEvent(.ended, threads: [])
        ended.blocked = .microseconds(300_370)
        #expect(formatter.message(for: ended)
            == "pool 'swift-concurrency-pool.medium' was starved for 300 ms (threshold 100 ms)")
    }

    @Test func metadataNamesTheBusyThreadsAndNoSingleTid() {
        let metadata = TextEventFormatter().metadata(for: Self.poolEvent(.began, threads: [Self.worker]))
        #expect(metadata["tid"] == nil)
        #expect(metadata["capture"] == nil)
        #expect(metadata["threads"] == .array([.stringConvertible(Int32(4321))]))
        #expect(metadata["loop"] == "swift-concurrency-pool.medium")
        #expect(metadata["event"] == "stall.began")
    }

    @Test func jsonHasThreadsInsteadOfTidCaptureAndFrames() throws {
        let line = JSONEventFormatter().line(
            for: Self.poolEvent(.began, threads: [Self.worker]), wallClockSeconds: 1_764_196_201.123)
        #expect(line == """
            {"time":1764196201.123,"event":"stall.began","stall_id":3,"loop":"swift-concurrency-pool.medium",\
            "threshold_ms":100,"blocked_ms":104.5,"threads":[{"tid":4321,"name":"oot.default-qos",\
            "capture":"syscall","frames":[{"index":0,"address":"0x00005555deadbeef",\
            "symbol":"Demo.sleepBlocking(milliseconds:)","image":"loop-watchdog","image_offset":null,\
            "build_id":null,"file":"/src/Demo.swift","line":42,"inlined":false,"async":false}]}]}
            """)
        let object = try parseJSONObject(line)
        let threads = try #require(object["threads"] as? [[String: Any]])
        #expect(threads.first?["tid"] as? Int == 4321)
    }

    @Test func jsonEndedOfAPoolHasNoThreads() throws {
        let line = JSONEventFormatter().line(for: Self.poolEvent(.ended, threads: []), wallClockSeconds: 1)
        let object = try parseJSONObject(line)
        #expect(Set(object.keys) == ["time", "event", "stall_id", "loop", "threshold_ms", "blocked_ms"])
    }

    @Test func loopEventIsNotAPool() {
        #expect(!Fixtures.event(.began).isPool)
        #expect(Self.poolEvent(.began, threads: []).isPool)
    }
}
