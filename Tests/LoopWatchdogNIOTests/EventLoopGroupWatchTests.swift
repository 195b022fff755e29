import CLoopWatchdog
import Dispatch
import Glibc
import Logging
import LoopWatchdog
import LoopWatchdogNIO
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// SwiftNIO event loops watched for real: a real HTTP server on loopback whose handler
/// blocks its loop, driven by a real client. Only the public API is used, as an application
/// would. Bounds are generous; nothing here asserts speed.
@Suite(.serialized)
struct EventLoopGroupWatchTests {
    @Test func blockingHandlerIsReportedOnceOnItsLoopWithTheHandlerInTheStack() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 3)
        defer { try? group.syncShutdownGracefully() }
        let server = try TestHTTPServer(group: group)
        let client = TestHTTPClient(port: server.port)
        for _ in 0..<20 { #expect(try client.get("/fast") == 200) }
        // Under load: another client sends fast requests all along, to every loop.
        let load = FastRequestLoad(port: server.port)
        usleep(100_000)
        #expect(try client.get("/block?ms=300&mode=sleep") == 200)
        usleep(200_000)
        #expect(try client.get("/block?ms=250&mode=spin") == 200)
        usleep(200_000)
        let answered = load.stop()
        try server.stop()
        watch.stop()
        watchdog.stop()

        let blocks = server.blocks.all
        try #require(blocks.count == 2)
        #expect(answered > 20, "\(answered) fast requests answered during the test")
        let loops = Dictionary(uniqueKeysWithValues: watch.loops.map { ($0.threadID, $0.name) })
        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 2, "\(events.all)")
        try #require(ended.count == 2, "\(events.all)")
        // Stalls are numbered in order and the client sent the blocking requests one by one
        // (two may land on the same loop).
        let stalls = began.sorted { $0.stallID < $1.stallID }
        for (stall, (block, function)) in zip(stalls, zip(blocks, ["sleepOnTheLoop", "spinTheLoop"])) {
            #expect(stall.threadID == block.threadID)
            #expect(stall.loopName == loops[block.threadID])
            #expect(stall.loopName.hasPrefix("NIO-ELT-"))
            let symbols = stall.frames.compactMap(\.symbol)
            #expect(symbols.contains { $0.contains(function) }, "\(symbols)")
            #expect(symbols.contains { $0.contains("BlockingHTTPHandler.channelRead") }, "\(symbols)")
            let end = try #require(ended.first { $0.stallID == stall.stallID })
            let reported = end.blocked.nanoseconds
            #expect(abs(reported - block.nanoseconds) <= block.nanoseconds / 10, "reported \(reported) ns, real \(block.nanoseconds) ns")
        }
        // Every event belongs to one of the two loops that blocked.
        #expect(Set(events.all.map(\.threadID)).isSubset(of: Set(blocks.map(\.threadID))))
    }

    @Test func idleLoopsAndFastRequestsAreNeverReported() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 3)
        defer { try? group.syncShutdownGracefully() }
        let server = try TestHTTPServer(group: group)
        let start = lwd_monotonic_ns()
        usleep(4_000_000)
        // A burst from four clients at once, then idle again: ten seconds in all.
        let answered = Atomic<Int>(0)
        let client = TestHTTPClient(port: server.port)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<100 where (try? client.get("/fast")) == 200 {
                answered.add(1, ordering: .relaxed)
            }
        }
        let remaining = 10_000_000_000 - (lwd_monotonic_ns() - start)
        if remaining > 0 { usleep(UInt32(remaining / 1_000)) }
        let watched = watch.loops.filter { !$0.isUnregistered }.count
        try server.stop()
        watch.stop()
        watchdog.stop()
        #expect(answered.load(ordering: .relaxed) == 400)
        #expect(watched == 3)
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func singletonGroupIsWatched() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let group = MultiThreadedEventLoopGroup.singleton
        let watch = watchdog.watch(eventLoopGroup: group)
        let loopCount = watch.loopCount
        try waitUntilRegistered(watch, count: loopCount)
        let server = try TestHTTPServer(group: group)
        #expect(try TestHTTPClient(port: server.port).get("/block?ms=200&mode=sleep") == 200)
        usleep(200_000)
        try server.stop()
        watch.stop()
        watchdog.stop()

        let block = try #require(server.blocks.all.first)
        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].threadID == block.threadID)
        #expect(began[0].loopName.hasPrefix("NIO-SGLTN-"), "\(began[0].loopName)")
        #expect(began[0].frames.contains { $0.symbol?.contains("sleepOnTheLoop") == true })
        let reported = ended[0].blocked.nanoseconds
        #expect(abs(reported - block.nanoseconds) <= block.nanoseconds / 10, "reported \(reported) ns, real \(block.nanoseconds) ns")
    }

    @Test func metricsDelegateDatesATaskStallFromNIOsTick() throws {
        let events = EventCollector()
        // Probes every 100 ms: without NIO's tick, the start would be known to 50 ms only.
        let watchdog = makeWatchdog(events: events, threshold: .milliseconds(200), interval: .milliseconds(100))
        let metrics = WatchdogMetricsDelegate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2, metricsDelegate: metrics)
        defer { try? group.syncShutdownGracefully() }
        let watch = watchdog.watch(eventLoopGroup: group, metricsDelegate: metrics)
        try waitUntilRegistered(watch, count: 2)
        usleep(150_000)
        let loop = group.next()
        let blocked = try loop.submit { sleepOnTheLoop(milliseconds: 600) }.wait()
        usleep(300_000)
        watch.stop()
        watchdog.stop()

        let ended = events.all.filter { $0.kind == .ended }
        try #require(ended.count == 1, "\(events.all)")
        let reported = ended[0].blocked.nanoseconds
        #expect(abs(reported - blocked) <= 10_000_000, "reported \(reported) ns, real \(blocked) ns")
    }

    @Test func stoppedWatchUnregistersEveryLoopAndReportsNothing() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 2)
        defer { try? group.syncShutdownGracefully() }
        let loops = watch.loops
        watch.stop()
        #expect(loops.allSatisfy { $0.isUnregistered })
        _ = try group.next().submit { sleepOnTheLoop(milliseconds: 300) }.wait()
        usleep(100_000)
        watchdog.stop()
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func groupShuttingDownWhileWatchedIsForgottenQuietly() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let watch = watchdog.watch(eventLoopGroup: group)
        try waitUntilRegistered(watch, count: 2)
        let loops = watch.loops
        let errors = try captureStandardError {
            try group.syncShutdownGracefully()
            usleep(200_000)
            watch.stop()
        }
        watchdog.stop()
        #expect(loops.allSatisfy { $0.isUnregistered })
        let complained = errors.contains("Cannot schedule")
        #expect(!complained, "\(errors)")
        #expect(events.all.isEmpty, "\(events.all)")
    }
}

/// What the watch costs the loops: nothing while they wait, nothing pending while they work.
@Suite(.serialized)
struct EventLoopGroupWatchCostTests {
    /// How many times the scheduler ran thread `tid` so far (schedstat's third field).
    static func timesScheduled(_ tid: Int32) -> Int? {
        let fd = open("/proc/self/task/\(tid)/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let fields = String(decoding: bytes[0..<count], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields.count >= 3 ? Int(fields[2]) : nil
    }

    @Test func anIdleWatchedLoopIsNeverWoken() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 1)
        defer { try? group.syncShutdownGracefully() }
        let tid = try #require(watch.loops.first?.threadID)
        usleep(200_000)
        let before = try #require(Self.timesScheduled(tid))
        usleep(1_000_000)
        let after = try #require(Self.timesScheduled(tid))
        watch.stop()
        watchdog.stop()
        // A loop probed on a timer every 10 ms would have run about 100 times.
        #expect(after - before <= 2, "the idle loop ran \(after - before) times in 1 s")
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func groupsShutDownWhileTheirLoopsAreBusyAreForgottenQuietly() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let errors = try captureStandardError {
            for _ in 0..<12 {
                let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
                let watch = watchdog.watch(eventLoopGroup: group)
                try waitUntilRegistered(watch, count: 2)
                // Both loops busy with chains of tasks when the shutdown comes, so that the
                // watchdog sends probes all along.
                for loop in group.makeIterator() { BusyChain.start(on: loop, for: 200_000_000) }
                usleep(30_000)
                try group.syncShutdownGracefully()
                watch.stop()
            }
        }
        watchdog.stop()
        #expect(!errors.contains("Cannot schedule"), "\(errors)")
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func aBlockAfterTheProcessRestedIsDatedWell() throws {
        let events = EventCollector()
        let watchdog = makeWatchdog(events: events)
        let (group, watch) = try watchedGroup(watchdog, loops: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        // Nothing runs for a while: the watchdog rests (50 ms between ticks).
        usleep(500_000)
        let spun = try loop.submit { spinTheLoop(milliseconds: 300) }.wait()
        usleep(500_000)
        let slept = try loop.submit { sleepOnTheLoop(milliseconds: 300) }.wait()
        usleep(200_000)
        watch.stop()
        watchdog.stop()
        let ended = events.all.filter { $0.kind == .ended }.sorted { $0.stallID < $1.stallID }
        try #require(ended.count == 2, "\(events.all)")
        // On a CPU, the loop's CPU clock dates the start; parked in a system call, the start
        // lies within the resting interval (a quarter of the threshold either way at most).
        let spinReported = ended[0].blocked.nanoseconds
        #expect(abs(spinReported - spun) <= 10_000_000, "reported \(spinReported) ns, real \(spun) ns")
        let sleepReported = ended[1].blocked.nanoseconds
        #expect(abs(sleepReported - slept) <= 35_000_000, "reported \(sleepReported) ns, real \(slept) ns")
    }
}

/// A chain of tiny tasks on one loop, each scheduling the next with `execute`, for a while.
enum BusyChain {
    static func start(on loop: any EventLoop, for nanoseconds: Int64) {
        let end = lwd_monotonic_ns() + nanoseconds
        @Sendable func step() {
            if lwd_monotonic_ns() < end { loop.execute(step) }
        }
        loop.execute(step)
    }
}

/// A client on its own dispatch worker that sends fast requests one after the other until
/// stopped.
final class FastRequestLoad: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let answered = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(port: Int) {
        DispatchQueue.global().async { [self] in
            let client = TestHTTPClient(port: port)
            while !stopping.load(ordering: .relaxed) {
                if (try? client.get("/fast")) == 200 { answered.add(1, ordering: .relaxed) }
            }
            done.signal()
        }
    }

    /// Stops the load and returns how many requests were answered.
    func stop() -> Int {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        return answered.load(ordering: .relaxed)
    }
}

/// A watchdog that collects its events and logs nothing.
func makeWatchdog(
    events: EventCollector, threshold: Duration = .milliseconds(100), interval: Duration? = nil
) -> Watchdog {
    let watchdog = Watchdog(
        configuration: Configuration(threshold: threshold, interval: interval),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        environment: [:], onEvent: { events.append($0) })
    watchdog.start()
    return watchdog
}

/// A new group of `loops` loops, watched by `watchdog`, once every loop registered its thread.
/// The caller shuts the group down.
func watchedGroup(_ watchdog: Watchdog, loops: Int) throws -> (MultiThreadedEventLoopGroup, EventLoopGroupWatch) {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
    let watch = watchdog.watch(eventLoopGroup: group)
    try waitUntilRegistered(watch, count: loops)
    return (group, watch)
}

/// Waits until every loop of the watch ran its first probe (registered its thread).
func waitUntilRegistered(_ watch: EventLoopGroupWatch, count: Int) throws {
    let deadline = lwd_monotonic_ns() + 5_000_000_000
    while watch.loops.count < count && lwd_monotonic_ns() < deadline { usleep(5_000) }
    try #require(watch.loops.count == count, "\(watch.loops.count) of \(count) loops registered")
}

/// Collects events from the reporter queue.
final class EventCollector: Sendable {
    private let events = Mutex<[StallEvent]>([])
    var all: [StallEvent] { events.withLock { $0 } }
    func append(_ event: StallEvent) { events.withLock { $0.append(event) } }
}

/// Runs `body` with file descriptor 2 sent to a temporary file and returns what was written
/// there (NIO reports misuse of a shut-down loop on standard error, nowhere else).
func captureStandardError(_ body: () throws -> Void) throws -> String {
    var template = Array("/tmp/lwd-stderr-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    try #require(fd >= 0)
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer {
        close(fd)
        unlink(path)
    }
    let saved = dup(2)
    dup2(fd, 2)
    defer {
        dup2(saved, 2)
        close(saved)
    }
    try body()
    lseek(fd, 0, SEEK_SET)
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4_096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        text += chunk[0..<n]
    }
    return String(decoding: text, as: UTF8.self)
}

extension Duration {
    /// Whole nanoseconds.
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
