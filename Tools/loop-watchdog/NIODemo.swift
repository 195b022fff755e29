import CLoopWatchdog
import Glibc
import LoopWatchdog
import LoopWatchdogNIO
import NIOCore
import NIOPosix

/// `loop-watchdog demo nio`: a real NIO HTTP/1.1 server on loopback, watched with one call,
/// and a client in the same process that sends it fast requests and two requests whose
/// handler blocks the event loop (a 300 ms sleep, a 250 ms spin). With the default 100 ms
/// threshold the watchdog reports exactly those two stalls, on the loop that served them.
enum NIODemo {
    static func run(port requestedPort: Int) throws {
        let reports = DemoEventWaiter()
        let watchdog = Watchdog(onEvent: reports.handle)
        watchdog.start()
        let group = MultiThreadedEventLoopGroup.singleton
        let watch = watchdog.watch(eventLoopGroup: group)
        let server = try DemoHTTPServer.start(group: group, host: "127.0.0.1", port: requestedPort) { request in
            say("  handler blocked \(request.threadName) (tid \(request.threadID)) for \(milliseconds(request.blockedNanoseconds)) ms in a \(request.mode)")
        }
        defer {
            watch.stop()
            try? server.close().wait()
            watchdog.stop()
        }
        let port = server.localAddress?.port ?? requestedPort
        say("SERVER http://127.0.0.1:\(port), \(watch.loopCount) event loops watched")
        let client = LoopbackHTTPClient(port: port)
        usleep(300_000)
        let fastStart = lwd_monotonic_ns()
        for _ in 0..<200 {
            _ = try client.get("/fast")
        }
        say("200 fast requests in \(milliseconds(lwd_monotonic_ns() - fastStart)) ms")
        for target in ["/block?ms=300&mode=sleep", "/block?ms=250&mode=spin"] {
            say("GET \(target)")
            let start = lwd_monotonic_ns()
            let response = try client.get(target)
            say("  answered \(response.status) after \(milliseconds(lwd_monotonic_ns() - start)) ms")
            reports.waitForEnded()
            usleep(200_000)
        }
        say("idle for 500 ms")
        usleep(500_000)
        say("DONE")
    }
}

/// Nanoseconds as whole milliseconds with one decimal, for the demo's lines.
func milliseconds(_ nanoseconds: Int64) -> String {
    let tenths = (nanoseconds + 50_000) / 100_000
    return "\(tenths / 10).\(tenths % 10)"
}
