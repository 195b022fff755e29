import ArgumentParser
import Dispatch
import Glibc
import LoopWatchdog
import LoopWatchdogNIO
import NIOCore
import NIOPosix

/// `loop-watchdog serve --port N`: the demo's NIO HTTP server, watched, until SIGINT or
/// SIGTERM, for clients outside the process (curl, wrk).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the demo HTTP server (watched) until interrupted: /fast, /block?ms=300&mode=sleep|spin."
    )

    @Option(help: "The TCP port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    func run() throws {
        let watchdog = Watchdog.start()
        let group = MultiThreadedEventLoopGroup.singleton
        let watch = watchdog.watch(eventLoopGroup: group)
        let server = try DemoHTTPServer.start(group: group, host: host, port: port) { request in
            say("handler blocked \(request.threadName) (tid \(request.threadID)) for \(milliseconds(request.blockedNanoseconds)) ms in a \(request.mode)")
        }
        let bound = server.localAddress?.port ?? port
        say("listening on http://\(host):\(bound), \(watch.loopCount) event loops watched; try curl 'http://\(host):\(bound)/block?ms=300'; Ctrl-C stops")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { server.close(promise: nil) }
            source.resume()
            sources.append(source)
        }
        try server.closeFuture.wait()
        sources.forEach { $0.cancel() }
        watch.stop()
        Watchdog.stopShared()
        say("stopped")
    }
}
