import Dispatch
import Foundation
import Glibc
import LoopWatchdog
import Synchronization

/// lwd-async-helper SCENARIO sleep|spin: blocks a real async call chain under a running
/// watchdog (threshold 100 ms, JSON lines on standard output, the Concurrency pool and the
/// main queue watched) for 400 ms, then exits once the stall's `ended` event is written.
/// Scenarios: `chain` (AsyncChains: generic function, closure, actor hop, withTaskGroup,
/// blocking on the pool), `actor` (blocking inside an actor method), `main-actor` (blocking
/// in a main-actor function). Built in debug and release by scripts/test.sh; the tests read
/// its output (AsyncCallersTests).
/// Says how to call the helper on standard error, and exits 2.
func usage() -> Never {
    let text = "usage: lwd-async-helper chain|actor|main-actor sleep|spin\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2, let blocking = ["sleep": BlockGate.Blocking.sleep, "spin": .spin][arguments[1]] else {
    usage()
}
let scenario = arguments[0]
let gate = BlockGate(blocking, milliseconds: 400)
let ended = Atomic<Int>(0)
let watchdog = Watchdog(
    configuration: Configuration(threshold: .milliseconds(100), format: .json, output: "stdout"),
    onEvent: { event in if event.kind == .ended { ended.add(1, ordering: .releasing) } })
watchdog.start()
watchdog.watchConcurrencyPool()
watchdog.watchMainQueue()

/// Runs the scenario's task, waits for its stall to be reported as ended, then exits.
Task.detached {
    let actor = ChainActor()
    switch scenario {
    case "chain": _ = await AsyncChains.chainEntry(gate, actor: actor)  // await-line
    case "actor": _ = await awaitBlockingActor(gate, actor: actor)  // await-line
    case "main-actor": _ = await awaitMainActor(gate)  // await-line
    default:
        usage()
    }
    // Waits on a thread of its own: a wait on the pool would be a stall of its own.
    Thread.detachNewThread {
        for _ in 0..<500 where ended.load(ordering: .acquiring) == 0 { usleep(10_000) }
        watchdog.stop()
        exit(ended.load(ordering: .acquiring) > 0 ? 0 : 3)
    }
}
dispatchMain()
