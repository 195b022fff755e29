import ArgumentParser
import BenchSupport
import LoopWatchdog
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server on 127.0.0.1 for the load test: one event loop thread, every
/// request answered with a short body. `--watchdog on` watches its loop exactly as the
/// chain benchmark does. It exits by itself after `--max-seconds`, so a run that loses its
/// driver still ends.
struct HTTPServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-server",
        abstract: "Serve 'Hello' on 127.0.0.1:PORT for a load generator, with the watchdog off or on.")

    @Option(help: "TCP port on 127.0.0.1.")
    var port = 18080

    @Option(help: "on: start the watchdog and watch the server's loop; off: no watchdog.")
    var watchdog = "off"

    @Option(help: "Exit after this many seconds.")
    var maxSeconds = 300

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var watch: NIOWatch?
        var runningWatchdog: Watchdog?
        if watchdog == "on" {
            let started = Watchdog.quiet()
            started.start()
            watch = try NIOWatch.watch(group, with: started)
            runningWatchdog = started
        }
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(HelloHandler())
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port)
            .wait()
        ResultTable.note("http-server: listening on 127.0.0.1:\(port), watchdog \(watchdog)")
        channel.eventLoop.scheduleTask(in: .seconds(Int64(maxSeconds))) { channel.close(promise: nil) }
        try channel.closeFuture.wait()
        try watch?.stop()
        runningWatchdog?.stop()
        try group.syncShutdownGracefully()
    }
}

/// Answers every request with `Hello` (keep-alive as the request asks).
final class HelloHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let body = ByteBuffer(string: "Hello")

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "\(Self.body.readableBytes)")
        headers.add(name: "content-type", value: "text/plain")
        let head = HTTPResponseHead(version: request.version, status: .ok, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(Self.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if !request.isKeepAlive {
            context.close(promise: nil)
        }
    }
}
