import Glibc
import Synchronization

/// Where a chain blocks, and how: the helper waits on `started` before it expects a report,
/// and `blocking` says whether the blocking frame sleeps (captured without a signal) or
/// computes (captured by signal).
final class BlockGate: Sendable {
    enum Blocking: Sendable { case sleep, spin }
    let blocking: Blocking
    let milliseconds: Int
    private let startedFlag = Atomic<Bool>(false)

    init(_ blocking: Blocking, milliseconds: Int) {
        self.blocking = blocking
        self.milliseconds = milliseconds
    }

    var started: Bool { startedFlag.load(ordering: .acquiring) }

    /// Blocks the calling thread for `milliseconds`, the innermost frame of every chain.
    @inline(never)
    func block() {
        startedFlag.store(true, ordering: .releasing)
        switch blocking {
        case .sleep:
            usleep(UInt32(milliseconds) * 1_000)
        case .spin:
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let end = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) + Int64(milliseconds) * 1_000_000
            var value: UInt64 = 1
            repeat {
                for _ in 0..<1_000 { value = value &* 6_364_136_223_846_793_005 &+ 1 }
                clock_gettime(CLOCK_MONOTONIC, &now)
            } while Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) < end
            if value == 42 { print("") }
        }
    }
}

/// The chain of the `chain` scenario, outermost first: a task's closure awaits
/// `chainEntry`, which awaits the generic `chainGeneric`, which awaits a closure it was
/// given, which awaits `ChainActor.hop` (an actor hop), which awaits `chainInTaskGroup`,
/// whose `withTaskGroup` body awaits `chainLeaf`, which blocks. Every function is kept out
/// of line, so that each is an awaiting caller of its own. Every line where a caller of a
/// blocking function awaits is marked `await-line`: the lines a report may name.
enum AsyncChains {
    @inline(never)
    static func chainEntry(_ gate: BlockGate, actor: ChainActor) async -> Int {
        let value = await chainGeneric(gate, tag: "generic") { await actor.hop(gate) }  // await-line
        return value + 1
    }

    @inline(never)
    static func chainGeneric<Tag: Sendable & CustomStringConvertible>(
        _ gate: BlockGate, tag: Tag, _ body: @Sendable () async -> Int
    ) async -> Int {
        let value = await body()  // await-line
        return value + tag.description.count
    }

    @inline(never)
    static func chainInTaskGroup(_ gate: BlockGate) async -> Int {
        await withTaskGroup(of: Int.self, returning: Int.self) { group in  // await-line
            let value = await chainLeaf(gate)  // await-line
            group.addTask { 1 }
            var total = value
            for await child in group { total += child }
            return total
        }
    }

    @inline(never)
    static func chainLeaf(_ gate: BlockGate) async -> Int {
        gate.block()
        await Task.yield()
        return 1
    }
}

/// The actor of the chain's hop.
actor ChainActor {
    private var hops = 0

    @inline(never)
    func hop(_ gate: BlockGate) async -> Int {
        hops += 1
        let value = await AsyncChains.chainInTaskGroup(gate)  // await-line
        return value + hops
    }

    /// Blocks on the actor's own executor, inside an actor method awaited by `chainEntry`'s
    /// kind of caller: the `actor` scenario.
    @inline(never)
    func blockHere(_ gate: BlockGate) async -> Int {
        hops += 1
        gate.block()
        await Task.yield()
        return hops
    }
}

/// The `actor` scenario's caller of `ChainActor.blockHere`.
@inline(never)
func awaitBlockingActor(_ gate: BlockGate, actor: ChainActor) async -> Int {
    let value = await actor.blockHere(gate)  // await-line
    return value + 1
}

/// The `main-actor` scenario: a main-actor function awaited from a task.
@MainActor @inline(never)
func blockOnMainActor(_ gate: BlockGate) async -> Int {
    gate.block()
    await Task.yield()
    return 1
}

@inline(never)
func awaitMainActor(_ gate: BlockGate) async -> Int {
    let value = await blockOnMainActor(gate)  // await-line
    return value + 1
}
