import CLoopWatchdog
import Glibc
import LoopWatchdog
import LoopWatchdogNIO
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Async code that runs on a NIO event loop (an actor whose executor is the loop) and
/// blocks it: the loop's report carries the awaiting callers of the blocked actor method.
@Suite(.serialized)
struct EventLoopAsyncCallersTests {
    @Test(arguments: [LoopBlocking.sleep, .spin])
    func anActorOnTheLoopIsReportedWithItsAwaitingCallers(_ blocking: LoopBlocking) async throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 1)
        let loop = group.next()
        let actor = LoopBoundActor(loop: loop)
        let blockedOn = await awaitLoopBoundActor(actor, blocking: blocking)
        try await Task.sleep(for: .milliseconds(200))
        watch.stop()
        watchdog.stop()
        try await group.shutdownGracefully()

        let began = try #require(events.all.first { $0.kind == .began && $0.threadID == blockedOn }, "\(events.all)")
        let symbols = began.frames.map { ($0.isAsync ? "await " : "") + ($0.symbol ?? "?") }
        let blocked = try #require(began.frames.firstIndex { $0.symbol?.contains("LoopBoundActor.block") == true }, "\(symbols)")
        #expect(began.frames[blocked].isAsync)
        #expect(began.frames[..<blocked].allSatisfy { !$0.isAsync }, "\(symbols)")
        // Right after the blocked method, its callers, innermost first.
        let callers = began.frames[(blocked + 1)...].prefix { $0.isAsync }.compactMap(\.symbol)
        #expect(callers.count >= 2, "\(symbols)")
        #expect(callers.first?.contains("awaitLoopBoundActor") == true, "\(symbols)")
        #expect(callers.dropFirst().first?.contains("anActorOnTheLoopIsReportedWithItsAwaitingCallers") == true, "\(symbols)")
        // The loop's own frames follow the callers: the job ran on the event loop.
        #expect(began.frames[(blocked + 1 + callers.count)...].contains { $0.symbol?.contains("SelectableEventLoop") == true }, "\(symbols)")
    }
}

/// How the actor blocks its loop.
enum LoopBlocking: Sendable, CustomStringConvertible {
    case sleep, spin
    var description: String { self == .sleep ? "sleep" : "spin" }
}

/// An actor whose executor is a NIO event loop: its methods run on the loop's thread.
actor LoopBoundActor {
    let loop: any EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(loop: any EventLoop) { self.loop = loop }

    /// Blocks the loop for 300 ms; returns the loop thread's id.
    @inline(never)
    func block(_ blocking: LoopBlocking) async -> Int32 {
        let end = lwd_monotonic_ns() + 300_000_000
        if blocking == .sleep {
            usleep(300_000)
        } else {
            var value: UInt64 = 1
            while lwd_monotonic_ns() < end { value = value &* 6_364_136_223_846_793_005 &+ 1 }
            if value == 42 { print("") }
        }
        await Task.yield()
        return lwd_gettid()
    }
}

/// The awaiting caller of the actor's method.
@inline(never)
func awaitLoopBoundActor(_ actor: LoopBoundActor, blocking: LoopBlocking) async -> Int32 {
    let thread = await actor.block(blocking)
    return thread
}
