import CLoopWatchdog
import Glibc
import LoopWatchdog
import Synchronization

/// Load and soak: many loops with random stalls, loops that come and go, an idle loop.
/// Each prints resource figures taken after a warm-up (first symbolication, thread
/// stacks, allocator arenas) and at the end.
enum SoakScenarios {
    /// One intended stall, as the loop that made it saw it.
    struct Intended: Sendable {
        var threadID: Int32
        var milliseconds: Int
    }

    /// `loops` loops on their own threads. Each idles 20-120 ms, runs a few short jobs,
    /// then blocks 300-450 ms (in a sleep, or a spin for every 32nd loop), one round
    /// for warm-up and `stallsPerLoop` rounds measured. Threshold 50 ms. (Under a
    /// sanitizer: threshold times `timeScale`, stalls 300 ms longer.)
    static func soak(loops: Int, stallsPerLoop: Int) {
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50 * timeScale)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        let intended = Mutex<[Intended]>([])
        let warmedUp = HelperCounter()
        let measured = HelperCounter()
        let proceed = HelperCounter()
        var threads: [HelperThread] = []
        for index in 0..<loops {
            threads.append(HelperThread {
                let heartbeat = watchdog.registerCurrentThread(name: "soak-\(index)")
                var generator = SystemRandomNumberGenerator()
                func round() {
                    heartbeat.markIdle()
                    sleepMilliseconds(Int.random(in: 20...120, using: &generator))
                    heartbeat.markBusy()
                    for _ in 0..<Int.random(in: 1...5, using: &generator) { heartbeat.beat() }
                    // Under a sanitizer longer, but still under the 1 s of a `continuing`.
                    let milliseconds = Int.random(in: 300...450, using: &generator) + (timeScale - 1) * 100
                    heartbeat.beat()
                    if index % 32 == 0 {
                        helperBlockedInSpin(milliseconds: milliseconds)
                    } else {
                        helperBlockedInSleep(milliseconds: milliseconds)
                    }
                    heartbeat.markIdle()
                    intended.withLock { $0.append(Intended(threadID: heartbeat.threadID, milliseconds: milliseconds)) }
                }
                round()
                warmedUp.add()
                while proceed.value == 0 { sleepMilliseconds(5) }
                for _ in 0..<stallsPerLoop { round() }
                measured.add()
                heartbeat.markIdle()
                while proceed.value < 2 { sleepMilliseconds(5) }
                heartbeat.unregister()
            })
        }
        while warmedUp.value < loops { sleepMilliseconds(10) }
        // The figures are read once the reporter has delivered every stall so far: while it
        // works it may hold a file open for a moment (a memory-limit check, an image).
        events.waitForEnded(loops)
        sleepMilliseconds(200)
        let before = ResourceFigures.baseline()
        proceed.add()
        while measured.value < loops { sleepMilliseconds(10) }
        events.waitForEnded(loops * (1 + stallsPerLoop))
        sleepMilliseconds(200)
        let after = ResourceFigures.now()
        proceed.add()
        for thread in threads { thread.join() }
        watchdog.stop()

        let all = events.all
        var fields = eventFields(all)
        fields.removeValue(forKey: "captures")
        fields.removeValue(forKey: "began_symbols")
        let stalls = intended.withLock { $0 }
        fields["loops"] = loops
        fields["intended"] = stalls.count
        fields.merge(before.fields("before")) { $1 }
        fields.merge(after.fields("after")) { $1 }
        fields["fds_added"] = before.descriptorsAdded(in: after)
        fields.merge(matchStalls(stalls, all)) { $1 }
        printResult(fields)
    }

    /// Per loop, in order: the n-th intended stall against the n-th `ended` event.
    static func matchStalls(_ intended: [Intended], _ events: [StallEvent]) -> [String: Any] {
        var unmatched = 0
        var durationsOff = 0
        var withStack = 0
        var stallIDsWithBeganAndEnded = Set<UInt64>()
        let began = Dictionary(grouping: events.filter { $0.kind == .began }, by: \.stallID)
        let ended = Dictionary(grouping: events.filter { $0.kind == .ended }, by: \.stallID)
        for (id, list) in began where list.count == 1 && ended[id]?.count == 1 {
            stallIDsWithBeganAndEnded.insert(id)
            if list[0].capture.hasStack { withStack += 1 }
        }
        let endedByThread = Dictionary(grouping: events.filter { $0.kind == .ended }, by: \.threadID)
        for (thread, stalls) in Dictionary(grouping: intended, by: \.threadID) {
            let reported = (endedByThread[thread] ?? []).sorted { $0.stallID < $1.stallID }
            if reported.count != stalls.count { unmatched += abs(reported.count - stalls.count) }
            for (stall, event) in zip(stalls, reported) {
                let blocked = event.blocked
                if blocked < .milliseconds(stall.milliseconds - 40 * timeScale)
                    || blocked > .milliseconds(stall.milliseconds + 150 * timeScale)
                {
                    durationsOff += 1
                }
            }
        }
        return [
            "unmatched": unmatched, "durations_off": durationsOff,
            "complete_stalls": stallIDsWithBeganAndEnded.count, "began_with_stack": withStack,
        ]
    }

    /// `count` loops on threads that come and go, 8 at a time: each registers, beats,
    /// goes idle, and then unregisters (even ones) or just exits (odd ones); every 100th
    /// blocks 150 ms first, a stall that must be reported once and ended once. Threshold
    /// 50 ms. (Both times `timeScale`.)
    static func cycles(count: Int) {
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50 * timeScale)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        func batch(_ range: Range<Int>, stallAt stalls: @escaping @Sendable (Int) -> Bool) {
            var threads: [HelperThread] = []
            for index in range {
                threads.append(HelperThread {
                    let heartbeat = watchdog.registerCurrentThread(name: "cycle-\(index)")
                    for _ in 0..<10 { heartbeat.beat() }
                    if stalls(index) { helperBlockedInSleep(milliseconds: 150 * timeScale) }
                    heartbeat.markIdle()
                    sleepMilliseconds(2)
                    if index % 2 == 0 { heartbeat.unregister() }
                })
            }
            for thread in threads { thread.join() }
        }
        // Warm-up, not counted: one stall, so that the first symbolication (which maps
        // images and reads their symbol tables once) happens before the baseline.
        batch(0..<8, stallAt: { $0 == 0 })
        events.waitForEnded(1)
        sleepMilliseconds(200)
        let before = ResourceFigures.baseline()
        var done = 0
        while done < count {
            let size = min(8, count - done)
            batch((8 + done)..<(8 + done + size), stallAt: { $0 % 100 == 99 })
            done += size
        }
        events.waitForEnded(1 + (8..<(8 + count)).filter { $0 % 100 == 99 }.count)
        sleepMilliseconds(300)  // a few ticks: retired loops are dropped
        let after = ResourceFigures.now()
        watchdog.stop()
        // Only the measured loops' events (the warm-up's may be delivered late).
        let warmUpNames = Set((0..<8).map { "cycle-\($0)" })
        var fields = eventFields(events.all.filter { !warmUpNames.contains($0.loopName) })
        fields.removeValue(forKey: "captures")
        fields.removeValue(forKey: "began_symbols")
        fields["cycles"] = count
        fields["intended_stalls"] = (8..<(8 + count)).filter { $0 % 100 == 99 }.count
        fields.merge(before.fields("before")) { $1 }
        fields.merge(after.fields("after")) { $1 }
        printResult(fields)
    }

    /// One loop marked idle for `seconds` while the watchdog ticks every 10 ms.
    static func idle(seconds: Int) {
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        let ready = HelperCounter()
        let loop = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "idle")
            heartbeat.markIdle()
            ready.add()
            sleepMilliseconds(seconds * 1_000)
            heartbeat.markBusy()
            heartbeat.beat()
            heartbeat.unregister()
        }
        while ready.value == 0 { sleepMilliseconds(1) }
        sleepMilliseconds(1_000)
        let before = ResourceFigures.baseline()
        loop.join()
        sleepMilliseconds(100)
        let after = ResourceFigures.now()
        watchdog.stop()
        var fields = eventFields(events.all)
        fields["seconds"] = seconds
        fields.merge(before.fields("before")) { $1 }
        fields.merge(after.fields("after")) { $1 }
        printResult(fields)
    }
}
