import Foundation
import Testing

extension FaultSuite {
    /// A route that blocks on every request (2 ms stalls at a 1 ms threshold, 3 s, a few
    /// hundred stalls a second): the log says each site once in full, then counts.
    @Suite
    struct FloodTests {
        private func flood(_ environment: [String: String]) async throws -> (result: [String: Any], lines: [Substring]) {
            let (result, child) = try await ChildProcess.runHelper(
                ["flood", "3"], environment: ["LOOP_WATCHDOG_THRESHOLD": "1ms"].merging(environment) { $1 })
            return (result, child.standardError.split(separator: "\n"))
        }

        @Test func repeatsOfOneSiteAreCountedNotLogged() async throws {
            let (result, lines) = try await flood([:])
            figure("flood", result, ["iterations", "reporter_cpu_percent", "resident_kb_first", "resident_kb_end"])
            let began = lines.filter { $0.contains("event=stall.began") }
            let repeats = lines.filter { $0.contains("event=stall.repeats") }
            // Each site once (the stack may be taken in the sleep, the loop's code or the
            // rest between two stalls: a few sites), the rest counted.
            #expect((1...8).contains(began.count), "\(began.count) stalls logged in full")
            #expect(lines.count < 200, "\(lines.count) lines")
            let counted = repeats.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("stalls=") }.flatMap { Int($0.dropFirst(7)) }
            }.reduce(0, +)
            #expect(counted >= 100, "\(counted) stalls counted in \(repeats.count) lines")
            #expect(repeats.allSatisfy { $0.contains("more stalls") && $0.contains("blocked in all") })
        }

        @Test func repeatsAllLogsEveryStall() async throws {
            let (_, lines) = try await flood(["LOOP_WATCHDOG_REPEATS": "all"])
            #expect(lines.filter { $0.contains("event=stall.began") }.count >= 100)
            #expect(!lines.contains { $0.contains("event=stall.repeats") })
        }

        @Test func jsonLinesCountRepeatsToo() async throws {
            let (_, lines) = try await flood(["LOOP_WATCHDOG_FORMAT": "json"])
            // Standard error also holds the watchdog's own text lines ("woke late", ...).
            let json = lines.filter { $0.hasPrefix("{") }
            let objects = json.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == json.count, "every event line is JSON")
            let began = objects.filter { $0["event"] as? String == "stall.began" }
            let repeats = objects.filter { $0["event"] as? String == "stall.repeats" }
            #expect((1...8).contains(began.count))
            #expect(repeats.compactMap { $0["stalls"] as? Int }.reduce(0, +) >= 100, "\(repeats)")
        }
    }
}
