import CLoopWatchdog
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP/1.1 server for the tests: `/fast` answers at once;
/// `/block?ms=N&mode=sleep|spin` blocks the event loop inside the handler for N ms, and
/// logs which loop thread it blocked and for how long.
final class TestHTTPServer: Sendable {
    let channel: any Channel
    let blocks = BlockLog()

    var port: Int { channel.localAddress?.port ?? 0 }

    init(group: any EventLoopGroup) throws {
        let blocks = self.blocks
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BlockingHTTPHandler(blocks: blocks))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .wait()
    }

    func stop() throws {
        try channel.close().wait()
    }
}

/// One blocking request as the handler saw it.
struct BlockRecord: Sendable {
    /// The loop thread's Linux thread id.
    var threadID: Int32
    /// How long the handler blocked, measured around the blocking call.
    var nanoseconds: Int64
}

/// The blocking requests served so far.
final class BlockLog: Sendable {
    private let records = Mutex<[BlockRecord]>([])
    var all: [BlockRecord] { records.withLock { $0 } }
    func append(_ record: BlockRecord) { records.withLock { $0.append(record) } }
}

/// The handler under test: answers `/fast` at once and blocks the loop for `/block`.
final class BlockingHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let blocks: BlockLog
    private var target = "/"

    init(blocks: BlockLog) {
        self.blocks = blocks
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            target = head.uri
        case .body:
            break
        case .end:
            if target.hasPrefix("/block") {
                serveBlockingRequest()
            }
            let body = context.channel.allocator.buffer(string: "ok\n")
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "\(body.readableBytes)")
            headers.add(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Blocks the loop as `/block?ms=N&mode=sleep|spin` asks, and logs it.
    @inline(never)
    private func serveBlockingRequest() {
        var milliseconds = 300
        var spin = false
        for pair in target.split(separator: "?").dropFirst().first?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=")
            if parts.count == 2, parts[0] == "ms", let value = Int(parts[1]) { milliseconds = value }
            if parts.count == 2, parts[0] == "mode" { spin = parts[1] == "spin" }
        }
        let blocked = spin ? spinTheLoop(milliseconds: milliseconds) : sleepOnTheLoop(milliseconds: milliseconds)
        blocks.append(BlockRecord(threadID: lwd_gettid(), nanoseconds: blocked))
    }
}

/// Blocks the calling loop thread in a sleep; returns how long, so the call is not in tail
/// position.
@inline(never)
func sleepOnTheLoop(milliseconds: Int) -> Int64 {
    let start = lwd_monotonic_ns()
    usleep(UInt32(milliseconds) * 1_000)
    return lwd_monotonic_ns() - start
}

/// Blocks the calling loop thread with CPU work; returns how long.
@inline(never)
func spinTheLoop(milliseconds: Int) -> Int64 {
    let start = lwd_monotonic_ns()
    var spins: UInt64 = 0
    while lwd_monotonic_ns() - start < Int64(milliseconds) * 1_000_000 {
        spins &+= 1
    }
    withExtendedLifetime(spins) {}
    return lwd_monotonic_ns() - start
}
