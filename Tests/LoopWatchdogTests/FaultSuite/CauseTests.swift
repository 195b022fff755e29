import Foundation
import Testing

extension FaultSuite {
    /// Stalls of known causes, each in its own process (`lwd-fault-helper cause KIND`, a 1 s
    /// stall at a 100 ms threshold): the `ended` event must name the cause, with samples
    /// whose stacks show where the time went. One at a time: a spin next to the starvation
    /// scenario's spinners would be starved too.
    @Suite(.serialized)
    struct CauseTests {
        private struct Outcome {
            var verdict: String
            var systemCall: String
            var phases: [(verdict: String, share: Double)]
            var samples: Int
            var stacks: [(count: Int, symbols: [String])]
            var fields: [String: Any]

            func share(of verdict: String) -> Double {
                phases.first { $0.verdict == verdict }?.share ?? 0
            }

            /// Samples whose stack has a frame whose symbol contains `function`.
            func samples(in function: String) -> Int {
                stacks.filter { $0.symbols.contains { $0.contains(function) } }.map(\.count).reduce(0, +)
            }
        }

        private func run(_ kind: String) async throws -> Outcome? {
            let (result, _) = try await ChildProcess.runHelper(["cause", kind])
            if let reason = result["unsupported"] as? String {
                print("FIGURE cause-\(kind) unsupported=\"\(reason)\"")
                return nil
            }
            try #require(int(result, "ended") == 1, "no ended event: \(result)")
            let phases = (result["phases"] as? [[String: Any]] ?? []).map {
                (verdict: $0["verdict"] as? String ?? "", share: ($0["share"] as? NSNumber)?.doubleValue ?? 0)
            }
            let stacks = (result["stacks"] as? [[String: Any]] ?? []).map {
                (count: ($0["count"] as? NSNumber)?.intValue ?? 0, symbols: $0["symbols"] as? [String] ?? [])
            }
            let outcome = Outcome(
                verdict: result["verdict"] as? String ?? "", systemCall: result["system_call"] as? String ?? "",
                phases: phases, samples: int(result, "samples"), stacks: stacks, fields: result)
            figure(
                "cause-\(kind)", result,
                ["verdict", "system_call", "samples", "blocked_ms", "on_cpu_ms", "waiting_ms", "throttled_ms"])
            print("FIGURE cause-\(kind) phases=\(phases.map { "\($0.verdict):\(String(format: "%.2f", $0.share))" })")
            // About one sample per 50 ms (half the threshold) over the second past the threshold.
            #expect((10...60).contains(outcome.samples), "\(outcome.samples) samples")
            #expect(outcome.stacks.map(\.count).reduce(0, +) <= outcome.samples)
            return outcome
        }

        @Test func spinIsComputing() async throws {
            let outcome = try #require(try await run("spin"))
            #expect(outcome.verdict == "computing", "\(outcome.fields)")
            #expect(outcome.share(of: "computing") >= 0.8)
            #expect(outcome.samples(in: "helperBlockedInSpin") == outcome.samples)
        }

        @Test func sleepIsSleepingInNanosleep() async throws {
            let outcome = try #require(try await run("sleep"))
            #expect(outcome.verdict == "sleeping", "\(outcome.fields)")
            #expect(outcome.systemCall == "clock_nanosleep")
            #expect(outcome.share(of: "sleeping") >= 0.9)
            #expect(outcome.samples(in: "helperBlockedInSleep") == outcome.samples)
        }

        @Test func heldLockIsWaitingForALock() async throws {
            let outcome = try #require(try await run("lock"))
            #expect(outcome.verdict == "waiting_for_lock", "\(outcome.fields)")
            #expect(outcome.systemCall == "futex")
            #expect(outcome.samples(in: "waitForIt") == outcome.samples)
        }

        @Test func largeFileReadIsFileIO() async throws {
            let outcome = try #require(try await run("file"))
            #expect(outcome.verdict == "file_io", "\(outcome.fields)")
            #expect(outcome.share(of: "file_io") >= 0.5)
            #expect(outcome.samples(in: "readRepeatedly") == outcome.samples)
        }

        @Test func threadSharingItsCPUWithSpinnersIsStarved() async throws {
            let outcome = try #require(try await run("starved"))
            #expect(outcome.verdict == "starved_of_cpu", "\(outcome.fields)")
            // One CPU shared by five busy threads: it runs about a fifth of the time.
            #expect(outcome.share(of: "starved_of_cpu") >= 0.5)
        }

        @Test func cgroupQuotaIsThrottled() async throws {
            // Only where this machine lets the test make a cgroup with a CPU quota.
            guard let outcome = try await run("quota") else { return }
            #expect(outcome.verdict == "throttled", "\(outcome.fields)")
            #expect(outcome.share(of: "throttled") >= 0.5)
        }

        @Test func spinThenSleepShowsBothPhases() async throws {
            let outcome = try #require(try await run("two-phase"))
            let computing = outcome.share(of: "computing")
            let sleeping = outcome.share(of: "sleeping")
            #expect((0.3...0.7).contains(computing), "\(outcome.phases)")
            #expect((0.3...0.7).contains(sleeping), "\(outcome.phases)")
            #expect(computing + sleeping >= 0.9)
            // A 2 s stall sampled every 50 ms: both halves have their stacks.
            let spin = outcome.samples(in: "helperBlockedInSpin")
            let sleep = outcome.samples(in: "helperBlockedInSleep")
            #expect(spin + sleep == outcome.samples)
            #expect(Double(spin) >= 0.3 * Double(outcome.samples), "\(spin) of \(outcome.samples) in the spin")
            #expect(Double(sleep) >= 0.3 * Double(outcome.samples), "\(sleep) of \(outcome.samples) in the sleep")
        }
    }
}
