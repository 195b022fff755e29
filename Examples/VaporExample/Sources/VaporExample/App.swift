import ExampleWork
import Foundation
import LoopWatchdog
import LoopWatchdogNIO
import Vapor

/// A Vapor 4 server whose route handlers block: `/fast` answers at once; `/sleep`, `/spin`,
/// `/read` and `/lock` are async handlers (run on the Swift Concurrency pool) that block for
/// `?ms=` (default 300) in a sleep, a CPU spin, a large synchronous file read and a
/// contended lock; `/sync-sleep` is a synchronous handler, which Vapor runs on the event
/// loop. Listens on 127.0.0.1:`PORT` (default 8080).
@main
struct VaporExample {
    static func main() async throws {
        let app = try await Application.make(.development)
        // LoopWatchdog, as the README shows: Vapor's event loops and the Concurrency pool.
        let watchdog = Watchdog.start()
        let loops = watchdog.watch(eventLoopGroup: app.eventLoopGroup)
        let pool = watchdog.watchConcurrencyPool()

        let file = BlockingWork.largeFile(megabytes: 16)
        app.get("fast") { _ -> String in "fast\n" }
        app.get("sleep", use: sleepRoute)
        app.get("spin", use: spinRoute)
        app.get("read") { request async throws -> String in try await readRoute(request, file: file) }
        app.get("lock", use: lockRoute)
        app.get("sync-sleep", use: syncSleepRoute)

        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
        // Unbuffered: the driver waits for this line through a pipe.
        FileHandle.standardOutput.write(Data("READY port=\(app.http.server.configuration.port) jobs_watched=\(pool.watchesJobs)\n".utf8))
        do {
            try await app.execute()
        } catch {
            app.logger.report(error: error)
        }
        pool.stop()
        loops.stop()
        watchdog.stop()  // writes the reports still queued before the process exits
        try await app.asyncShutdown()
    }
}

/// `?ms=` of a request, 300 by default.
func milliseconds(_ request: Request) -> Int {
    (try? request.query.get(Int.self, at: "ms")) ?? 300
}

@Sendable @inline(never)
func sleepRoute(_ request: Request) async throws -> String {
    let blocked = BlockingWork.sleep(milliseconds: milliseconds(request))
    return BlockingWork.report("sleep", blockedNanoseconds: blocked)
}

@Sendable @inline(never)
func spinRoute(_ request: Request) async throws -> String {
    let blocked = BlockingWork.spin(milliseconds: milliseconds(request))
    return BlockingWork.report("spin", blockedNanoseconds: blocked)
}

@inline(never)
func readRoute(_ request: Request, file: URL) async throws -> String {
    let blocked = BlockingWork.readFile(file, milliseconds: milliseconds(request))
    return BlockingWork.report("read", blockedNanoseconds: blocked)
}

@Sendable @inline(never)
func lockRoute(_ request: Request) async throws -> String {
    let blocked = BlockingWork.waitForLock(milliseconds: milliseconds(request))
    return BlockingWork.report("lock", blockedNanoseconds: blocked)
}

/// Synchronous: Vapor runs it on the event loop, which it blocks.
@Sendable @inline(never)
func syncSleepRoute(_ request: Request) throws -> String {
    let blocked = BlockingWork.sleep(milliseconds: milliseconds(request))
    return BlockingWork.report("sync-sleep", blockedNanoseconds: blocked)
}
