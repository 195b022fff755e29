import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// A probed loop whose probe is late while its thread is parked waiting for work (an
    /// event loop in epoll_wait whose probe timer fired late, or that got no CPU) was not
    /// blocked: no report. The same lateness with the thread parked elsewhere is a stall.
    @Suite
    struct WaitingForWorkTests {
        /// A real thread, registered as a probed loop, that ran one probe and then parks in
        /// `epoll_wait` (when `epoll`) or in `poll` until the test ends.
        static func lateProbedLoop(_ watchdog: Watchdog, epoll: Bool) throws -> (PlainThread, Int32) {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            let readEnd = fds[0]
            let thread = try #require(PlainThread.start(name: epoll ? "epoll-loop" : "poll-loop") {
                let heartbeat = watchdog.registerCurrentThread()
                heartbeat.probeRan(nextDueIn: .milliseconds(10))
                if epoll {
                    _ = lwd_test_wait_in_epoll(readEnd)
                } else {
                    var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                    while poll(&entry, 1, -1) < 0 && errno == EINTR {}
                }
                heartbeat.unregister()
            })
            return (thread, fds[1])
        }

        @Test(arguments: [true, false])
        func lateProbeOfALoopWaitingInEpollIsNoStall(epoll: Bool) throws {
            let events = EventCollector()
            let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
            watchdog.start()
            let (thread, wake) = try Self.lateProbedLoop(watchdog, epoll: epoll)
            usleep(600_000)
            var byte: UInt8 = 1
            _ = write(wake, &byte, 1)
            thread.join()
            close(wake)
            watchdog.stop()
            let began = events.all.filter { $0.kind == .began }
            if epoll {
                #expect(began.isEmpty, "\(events.all)")
            } else {
                // The control: a loop that is late in poll(2) is reported.
                #expect(began.count == 1, "\(events.all)")
            }
        }
    }
}
