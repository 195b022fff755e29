import ArgumentParser
import CLoopWatchdog
import Glibc
import LoopWatchdog

/// The asyncio debug-mode example, ported: one loop, one job that blocks in a sleep for
/// 350 ms, an idle wait of 500 ms, a CPU-bound spin of 150 ms, a wait of 100 ms, DONE.
/// With the default 100 ms threshold it reports exactly two stalls.
///
/// `demo nio` and `demo concurrency` show the executors the user did not write: a SwiftNIO
/// HTTP server whose handler blocks its event loop, and a starved Swift Concurrency pool.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Block a loop twice (a 350 ms sleep, a 150 ms spin) and watch the reports.",
        discussion: """
            `demo nio` runs a SwiftNIO HTTP server on 127.0.0.1 and blocks its event loop from a \
            handler; `demo concurrency` starves the Swift Concurrency pool with blocking calls; \
            `demo hang` deadlocks a loop for good (for hang files and supervisors).
            """,
        subcommands: [DemoNIOCommand.self, DemoConcurrencyCommand.self, DemoHangCommand.self]
    )

    func run() throws {
        let watchdog = Watchdog.start()
        let loop = DemoLoop(watchdog: watchdog, name: "main")
        let start = lwd_monotonic_ns()
        loop.schedule(after: .zero) {
            say("START")
            blockInSleep(milliseconds: 350)
        }
        loop.schedule(after: .milliseconds(850)) {
            blockInSpin(milliseconds: 150)
        }
        loop.schedule(after: .milliseconds(1100)) {
            let elapsed = Double(lwd_monotonic_ns() - start) / 1e6
            say("DONE after \(Int(elapsed.rounded())) ms")
            loop.stop()
        }
        loop.runOnNewThread()
        Watchdog.stopShared()
    }
}

/// `loop-watchdog demo nio`: a SwiftNIO HTTP server whose handler blocks its event loop.
struct DemoNIOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio",
        abstract: "Run a NIO HTTP server on 127.0.0.1, block its event loop from a handler, watch the reports."
    )

    @Option(help: "The port of the demo server (0: any free port).")
    var port: Int = 0

    func run() throws {
        try NIODemo.run(port: port)
    }
}

/// `loop-watchdog demo concurrency`: blocking calls that starve the Swift Concurrency pool.
struct DemoConcurrencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrency",
        abstract: "Starve the Swift Concurrency pool with blocking calls and watch the report."
    )

    func run() throws {
        ConcurrencyDemo.run()
    }
}

/// Blocks the calling thread in a sleep system call, as `time.sleep` does in asyncio code.
/// Returns the time slept: work after the call keeps the compiler from turning it into a
/// jump, which would drop this function from the stack in release builds.
@inline(never)
@discardableResult
func blockInSleep(milliseconds: UInt32) -> Int64 {
    let start = lwd_monotonic_ns()
    usleep(milliseconds * 1_000)
    return lwd_monotonic_ns() - start
}

/// Blocks the calling thread with CPU-bound work for `milliseconds`.
@inline(never)
@discardableResult
func blockInSpin(milliseconds: Int64) -> UInt64 {
    let end = lwd_monotonic_ns() + milliseconds * 1_000_000
    var spins: UInt64 = 0
    while lwd_monotonic_ns() < end {
        spins &+= 1
    }
    return spins
}

/// Prints a line and flushes it at once, so that it lands in order with the reports even
/// when standard output is a pipe.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
