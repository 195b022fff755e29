import Logging
import Testing

@testable import LoopWatchdog

/// Watchdogs with no logging and the given interval variable.
private func watchdog(interval: String?, configuration: Configuration = Configuration()) -> Watchdog {
    Watchdog(
        configuration: configuration,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        environment: interval.map { ["LOOP_WATCHDOG_INTERVAL": $0] } ?? [:])
}

@Suite struct ThresholdRuleTests {
    @Test func thresholdsAreClampedToOneMillisecondToOneHour() {
        #expect(ThresholdRule.clamp(threshold: .zero) == .milliseconds(1))
        #expect(ThresholdRule.clamp(threshold: .milliseconds(-3)) == .milliseconds(1))
        #expect(ThresholdRule.clamp(threshold: .milliseconds(250)) == .milliseconds(250))
        #expect(ThresholdRule.clamp(threshold: .seconds(7200)) == .seconds(3600))
    }

    @Test func defaultIntervalIsATenthOfTheSmallestThresholdAndAtLeastOneMillisecond() {
        let rule = ThresholdRule(explicitInterval: nil)
        #expect(rule.interval(thresholdNanoseconds: 100_000_000, smallestLoopThreshold: nil) == 10_000_000)
        #expect(rule.interval(thresholdNanoseconds: 100_000_000, smallestLoopThreshold: 20_000_000) == 2_000_000)
        #expect(rule.interval(thresholdNanoseconds: 5_000_000, smallestLoopThreshold: nil) == 1_000_000)
    }

    @Test func explicitIntervalNeverExceedsTheThresholdInForce() {
        let rule = ThresholdRule(explicitInterval: .milliseconds(30))
        #expect(rule.interval(thresholdNanoseconds: 100_000_000, smallestLoopThreshold: nil) == 30_000_000)
        #expect(rule.interval(thresholdNanoseconds: 20_000_000, smallestLoopThreshold: nil) == 20_000_000)
        // A loop with a smaller threshold still gets a tenth of it.
        #expect(rule.interval(thresholdNanoseconds: 100_000_000, smallestLoopThreshold: 50_000_000) == 5_000_000)
    }
}

/// Regression tests for the interval that a rejected `LOOP_WATCHDOG_INTERVAL` froze, and
/// for thresholds set at run time outside the documented range.
@Suite struct RunTimeThresholdTests {
    @Test(arguments: ["banana", "", "  "])
    func rejectedIntervalValueLeavesTheIntervalATenthOfTheThreshold(value: String) {
        let dog = watchdog(interval: value)
        let heartbeat = dog.registerCurrentThread(name: "rule")
        defer { heartbeat.unregister() }
        #expect(dog.settings.explicitInterval == nil)
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(10))
        dog.threshold = .seconds(1)
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(100))
        dog.threshold = .milliseconds(5)
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(1))
    }

    @Test func validIntervalValueStaysExplicitWithinTheThreshold() {
        let dog = watchdog(interval: "30ms")
        let heartbeat = dog.registerCurrentThread(name: "rule")
        defer { heartbeat.unregister() }
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(30))
        dog.threshold = .seconds(1)
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(30))
        dog.threshold = .milliseconds(20)
        #expect(dog.probeInterval(for: heartbeat) == .milliseconds(20))
    }

    @Test func watchdogThresholdSetterClampsToTheDocumentedRange() {
        let dog = watchdog(interval: nil)
        dog.threshold = .seconds(7200)
        #expect(dog.threshold == .seconds(3600))
        dog.threshold = .microseconds(10)
        #expect(dog.threshold == .milliseconds(1))
        dog.threshold = .milliseconds(250)
        #expect(dog.threshold == .milliseconds(250))
    }

    @Test func heartbeatThresholdSetterClampsToTheDocumentedRange() {
        let dog = watchdog(interval: nil)
        let heartbeat = dog.registerCurrentThread(name: "rule")
        defer { heartbeat.unregister() }
        heartbeat.threshold = .seconds(7200)
        #expect(heartbeat.threshold == .seconds(3600))
        heartbeat.threshold = .zero
        #expect(heartbeat.threshold == .milliseconds(1))
        heartbeat.threshold = nil
        #expect(heartbeat.threshold == nil)
    }

    @Test func quietAndRestingIntervalsAreQuarterAndHalfOfTheSmallestThreshold() {
        let ms: Int64 = 1_000_000
        #expect(ThresholdRule.quietInterval(10 * ms, smallestThreshold: 100 * ms) == 25 * ms)
        #expect(ThresholdRule.restingInterval(10 * ms, smallestThreshold: 100 * ms) == 50 * ms)
        // Never shorter than twice the interval in force (an explicit long interval).
        #expect(ThresholdRule.quietInterval(40 * ms, smallestThreshold: 100 * ms) == 80 * ms)
        #expect(ThresholdRule.restingInterval(40 * ms, smallestThreshold: 100 * ms) == 80 * ms)
        #expect(ThresholdRule.quietInterval(1 * ms, smallestThreshold: 2 * ms) == 2 * ms)
    }
}
