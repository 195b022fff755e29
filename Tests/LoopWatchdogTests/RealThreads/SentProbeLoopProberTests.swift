import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Synchronization
import Testing

@testable import LoopWatchdog

/// The prober that the watchdog thread runs for an event loop, driven by hand on a real
/// thread that waits in epoll_wait as an event loop does, then spins as a blocked one does.
@Suite(.serialized)
struct SentProbeLoopProberTests {
    /// What the prober sent: the probes, kept to be run later as the loop would run them.
    final class Sends: Sendable {
        let probes = Mutex<[@Sendable () -> Void]>([])
        let accepting = Atomic<Bool>(true)
        var count: Int { probes.withLock { $0.count } }
        func send(_ probe: @escaping @Sendable () -> Void) -> Bool {
            guard accepting.load(ordering: .relaxed) else { return false }
            probes.withLock { $0.append(probe) }
            return true
        }
    }

    /// A loop thread: waits in epoll_wait on a pipe; once woken, spins on the CPU for
    /// `spinMilliseconds` (noting when it began), then waits in epoll_wait again.
    final class EpollLoop: @unchecked Sendable {
        let record: LoopRecord
        private let pipes: [Int32]
        private let thread: PlainThread
        /// When the spin began and ended (0 until then).
        final class SpinTimes: Sendable {
            let began = Atomic<Int64>(0)
            let ended = Atomic<Int64>(0)
        }
        let spin = SpinTimes()

        init(prober: SentProbeLoopProber, spinMilliseconds: Int64) throws {
            var first: [Int32] = [0, 0]
            var second: [Int32] = [0, 0]
            try #require(pipe(&first) == 0 && pipe(&second) == 0)
            pipes = first + second
            let holder = Mutex<LoopRecord?>(nil)
            let (wake, rest) = (first[0], second[0])
            let times = spin
            thread = try #require(
                PlainThread.start(name: "epoll-loop") {
                    holder.withLock { $0 = LoopRecord(name: "epoll-loop", prober: prober) }
                    _ = lwd_test_wait_in_epoll(wake)
                    let start = lwd_monotonic_ns()
                    times.began.store(start, ordering: .relaxed)
                    while lwd_monotonic_ns() - start < spinMilliseconds * 1_000_000 {}
                    times.ended.store(lwd_monotonic_ns(), ordering: .relaxed)
                    _ = lwd_test_wait_in_epoll(rest)
                })
            var record: LoopRecord?
            while record == nil {
                usleep(1_000)
                record = holder.withLock { $0 }
            }
            self.record = record!
            usleep(20_000)  // in epoll_wait by now
        }

        /// Ends the wait in the first epoll_wait: the loop spins.
        func wake() { _ = write(pipes[1], "x", 1) }

        /// Ends the second wait and joins the thread.
        func finish() {
            _ = write(pipes[3], "x", 1)
            thread.join()
            for descriptor in pipes { close(descriptor) }
        }
    }

    @Test func aWaitingLoopIsQuietThenRestingAndNeverProbed() throws {
        let sends = Sends()
        let prober = SentProbeLoopProber(send: sends.send)
        let loop = try EpollLoop(prober: prober, spinMilliseconds: 1)
        defer { loop.wake(); loop.finish() }
        #expect(prober.probe(loop.record, now: lwd_monotonic_ns()) == .quiet)
        for _ in 0..<5 {
            usleep(5_000)
            #expect(prober.probe(loop.record, now: lwd_monotonic_ns()) == .resting)
        }
        #expect(sends.count == 0)
        #expect(loop.record.probeState == .answered)
    }

    @Test func aLoopFoundSpinningIsProbedAndDatedFromItsCPUTime() throws {
        let sends = Sends()
        let prober = SentProbeLoopProber(send: sends.send)
        let loop = try EpollLoop(prober: prober, spinMilliseconds: 300)
        let idleTick = lwd_monotonic_ns()
        #expect(prober.probe(loop.record, now: idleTick) == .quiet)
        loop.wake()
        usleep(100_000)
        let busyTick = lwd_monotonic_ns()
        #expect(prober.probe(loop.record, now: busyTick) == .busy)
        #expect(sends.count == 1)
        // Dated from the spin's start (its CPU time since the quiet tick), not the middle of
        // the 100 ms window; generous for a loaded machine, where a spinning thread may wait.
        #expect(loop.record.probeState.dueAt == busyTick)
        let measured = loop.record.busySince.load(ordering: .relaxed)
        let began = loop.spin.began.load(ordering: .relaxed)
        #expect(measured >= idleTick && measured <= busyTick)
        #expect(abs(measured - began) < 20_000_000, "dated \(measured - began) ns from the spin's start")
        // Outstanding: no second probe while the first waits.
        #expect(prober.probe(loop.record, now: lwd_monotonic_ns()) == .busy)
        #expect(sends.count == 1)
        // The loop runs it once it is back in epoll_wait: answered, and quiet again.
        while loop.spin.ended.load(ordering: .relaxed) == 0 { usleep(5_000) }
        usleep(20_000)
        for probe in sends.probes.withLock({ $0 }) { probe() }
        #expect(loop.record.probeState == .answered)
        #expect(prober.probe(loop.record, now: lwd_monotonic_ns()) == .quiet)
        loop.finish()
    }

    @Test func aLoopThatTakesNoMoreWorkIsNotLeftLate() throws {
        let sends = Sends()
        sends.accepting.store(false, ordering: .relaxed)
        let prober = SentProbeLoopProber(send: sends.send)
        let loop = try EpollLoop(prober: prober, spinMilliseconds: 100)
        loop.wake()
        usleep(30_000)
        #expect(prober.probe(loop.record, now: lwd_monotonic_ns()) == .busy)
        #expect(loop.record.probeState == .answered)
        loop.finish()
    }
}
