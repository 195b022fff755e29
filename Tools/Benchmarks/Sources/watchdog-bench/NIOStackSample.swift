import BenchSupport
import LoopWatchdog
import NIOCore
import NIOPosix

/// A real stack of a blocked NIO event loop thread: a task run by the loop blocks, three
/// calls deep, in a sleep system call, and the watchdog's capturer takes the loop thread's
/// stack meanwhile. It runs through the task, NIOPosix's loop machinery and libc.
enum NIOStackSample {
    static func blockedLoop() throws -> [UInt] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let watchdog = Watchdog.quiet()
        let heartbeat = try loop.submit { watchdog.registerCurrentThread(name: "NIO loop") }.wait()
        let blocked = loop.submit { blockedOuter(milliseconds: 400) }
        let addresses = StackSample.captureWhileBlocked(heartbeat)
        _ = try blocked.wait()
        try loop.submit { heartbeat.unregister() }.wait()
        return addresses
    }
}
