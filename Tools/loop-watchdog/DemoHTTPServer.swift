import CLoopWatchdog
import NIOCore
import NIOHTTP1
import NIOPosix

/// The demo HTTP/1.1 server: `/fast` answers at once; `/block?ms=300&mode=sleep|spin` blocks
/// the event loop synchronously inside the channel handler, as a careless handler would,
/// then answers. Used by `loop-watchdog demo nio` and `loop-watchdog serve`.
enum DemoHTTPServer {
    /// Binds the server on `host:port` (0: any free port) on `group` and returns its channel.
    /// `onBlocked` is called on the loop after each blocking request.
    static func start(
        group: any EventLoopGroup, host: String, port: Int,
        onBlocked: @escaping @Sendable (BlockedRequest) -> Void
    ) throws -> any Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DemoHTTPHandler(onBlocked: onBlocked))
                }
            }
            .bind(host: host, port: port)
            .wait()
    }
}

/// What one blocking request did, as the handler measured it.
struct BlockedRequest: Sendable {
    /// The loop thread's name and id.
    var threadName: String
    var threadID: Int32
    /// `sleep` or `spin`.
    var mode: String
    /// How long the handler blocked the loop, measured around the blocking call.
    var blockedNanoseconds: Int64
}

/// A route of the demo server.
enum DemoRoute: Equatable {
    case fast
    case block(milliseconds: Int, spin: Bool)
    case notFound

    /// Parses a request target such as `/block?ms=300&mode=spin`.
    init(target: String) {
        let parts = target.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? "/"
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1)
                if keyValue.count == 2 { query[String(keyValue[0])] = String(keyValue[1]) }
            }
        }
        switch path {
        case "/", "/fast":
            self = .fast
        case "/block":
            let milliseconds = min(max(Int(query["ms"] ?? "") ?? 300, 1), 60_000)
            self = .block(milliseconds: milliseconds, spin: query["mode"] == "spin")
        default:
            self = .notFound
        }
    }
}

/// Answers one HTTP/1.1 request at a time on its channel (NIO's server pipeline queues
/// pipelined requests). Runs on the channel's event loop only.
final class DemoHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let onBlocked: @Sendable (BlockedRequest) -> Void
    private var target = "/"
    private var keepAlive = true

    init(onBlocked: @escaping @Sendable (BlockedRequest) -> Void) {
        self.onBlocked = onBlocked
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            target = head.uri
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        let text: String
        switch DemoRoute(target: target) {
        case .fast:
            (status, text) = (.ok, "fast\n")
        case .block(let milliseconds, let spin):
            let blocked = handleBlockingRequest(milliseconds: milliseconds, spin: spin)
            (status, text) = (.ok, "blocked the loop for \(blocked / 1_000_000) ms\n")
        case .notFound:
            (status, text) = (.notFound, "routes: /fast, /block?ms=300&mode=sleep|spin\n")
        }
        let buffer = context.channel.allocator.buffer(string: text)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: "\(buffer.readableBytes)")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// The careless part: blocks the event loop thread in a sleep or a CPU spin. Returns
    /// how long it blocked.
    @inline(never)
    private func handleBlockingRequest(milliseconds: Int, spin: Bool) -> Int64 {
        let start = lwd_monotonic_ns()
        if spin {
            blockInSpin(milliseconds: Int64(milliseconds))
        } else {
            blockInSleep(milliseconds: UInt32(milliseconds))
        }
        let blocked = lwd_monotonic_ns() - start
        onBlocked(BlockedRequest(
            threadName: currentThreadName(), threadID: lwd_gettid(), mode: spin ? "spin" : "sleep",
            blockedNanoseconds: blocked))
        return blocked
    }
}

/// The calling thread's name.
func currentThreadName() -> String {
    var buffer = [CChar](repeating: 0, count: 16)
    _ = lwd_current_thread_name(&buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
