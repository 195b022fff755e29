import ExampleWork
import Foundation
import Hummingbird
import LoopWatchdog
import LoopWatchdogNIO
import NIOPosix

/// A Hummingbird 2 server whose async route handlers block their Swift Concurrency worker:
/// `/fast` answers at once; `/sleep`, `/spin`, `/read` and `/lock` block for `?ms=` (default
/// 300) in a sleep, a CPU spin, a large synchronous file read and a contended lock.
/// Listens on 127.0.0.1:`PORT` (default 8080).
@main
struct HummingbirdExample {
    static func main() async throws {
        // LoopWatchdog, as the README shows: the NIO loops and the Concurrency pool, whose
        // workers run every Hummingbird route handler.
        let watchdog = Watchdog.start()
        let loops = watchdog.watch(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let pool = watchdog.watchConcurrencyPool()
        defer {
            pool.stop()
            loops.stop()
            watchdog.stop()  // writes the reports still queued before the process exits
        }

        let file = BlockingWork.largeFile(megabytes: 16)
        let router = Router()
        router.get("/fast") { _, _ in "fast\n" }
        router.get("/sleep", use: sleepRoute)
        router.get("/spin", use: spinRoute)
        router.get("/read") { request, context in try await readRoute(request, context, file: file) }
        router.get("/lock", use: lockRoute)

        let port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        // Unbuffered: the driver waits for this line through a pipe.
        FileHandle.standardOutput.write(Data("READY port=\(port) jobs_watched=\(pool.watchesJobs)\n".utf8))
        try await app.runService()
    }
}

/// `?ms=` of a request, 300 by default.
func milliseconds(_ request: Request) -> Int {
    request.uri.queryParameters.get("ms", as: Int.self) ?? 300
}

@inline(never)
func sleepRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.sleep(milliseconds: milliseconds(request))
    return BlockingWork.report("sleep", blockedNanoseconds: blocked)
}

@inline(never)
func spinRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.spin(milliseconds: milliseconds(request))
    return BlockingWork.report("spin", blockedNanoseconds: blocked)
}

@inline(never)
func readRoute(_ request: Request, _ context: some RequestContext, file: URL) async throws -> String {
    let blocked = BlockingWork.readFile(file, milliseconds: milliseconds(request))
    return BlockingWork.report("read", blockedNanoseconds: blocked)
}

@inline(never)
func lockRoute(_ request: Request, _ context: some RequestContext) async throws -> String {
    let blocked = BlockingWork.waitForLock(milliseconds: milliseconds(request))
    return BlockingWork.report("lock", blockedNanoseconds: blocked)
}
