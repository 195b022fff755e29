import CLoopWatchdog
import Testing

@testable import LoopWatchdog

/// Symbolication of real addresses of this process.
struct SymbolicatorTests {
    @Test func namesTheSameLibcFramesOnEveryCall() throws {
        let capture = try captureWhileBlocked { _ in sleepInUsleep(milliseconds: 300) }
        #expect(capture.symbols.contains("usleep"), "\(capture.symbols)")
        let symbolicator = Symbolicator()
        let addresses = capture.frames.filter { !$0.inlined }.map(\.address)
        let first = symbolicator.symbolicate(addresses, firstIsProgramCounter: true)
        let second = symbolicator.symbolicate(addresses, firstIsProgramCounter: true)
        #expect(first.map(\.symbol) == second.map(\.symbol))
        #expect(second.contains { $0.symbol == "usleep" }, "\(second.map(\.symbol))")
    }

    @Test func dropsNullAddresses() {
        let frames = Symbolicator().symbolicate([0x1234, 0], firstIsProgramCounter: true)
        #expect(frames.allSatisfy { $0.address != 0 })
    }
}

/// Addresses symbolicated before are answered from the Symbolicator's cache.
struct SymbolicatorCacheTests {
    @Test func aStackPartlyKnownGivesTheSameFramesAsAFreshSymbolicator() throws {
        let capture = try captureWhileBlocked { _ in sleepInUsleep(milliseconds: 300) }
        let addresses = capture.frames.filter { !$0.inlined }.map(\.address)
        try #require(addresses.count > 3)
        let warm = Symbolicator()
        _ = warm.symbolicate(Array(addresses.dropFirst(2)), firstIsProgramCounter: false)
        let mixed = warm.symbolicate(addresses, firstIsProgramCounter: true)
        let fresh = Symbolicator().symbolicate(addresses, firstIsProgramCounter: true)
        #expect(mixed == fresh)
        #expect(mixed.contains { $0.symbol?.contains("sleepInUsleep") == true })
    }
}

/// A stack symbolicated after the cache was emptied keeps every frame.
struct SymbolicatorCacheResetTests {
    @Test func stackSeenPartlyBeforeAFullCacheKeepsEveryFrame() throws {
        let capture = try captureWhileBlocked { _ in sleepInUsleep(milliseconds: 300) }
        let addresses = capture.frames.filter { !$0.inlined }.map(\.address)
        try #require(addresses.count > 3)
        let symbolicator = Symbolicator()
        _ = symbolicator.symbolicate(Array(addresses.dropFirst(2)), firstIsProgramCounter: false)
        // Fill the cache to its limit with addresses that name nothing, so that the next
        // stack empties it in the middle of being resolved.
        let filler = (1...UInt(Symbolicator.knownLimit)).map { $0 * 16 }
        _ = symbolicator.symbolicate(filler, firstIsProgramCounter: false)
        let frames = symbolicator.symbolicate(addresses, firstIsProgramCounter: true)
        #expect(frames.filter { !$0.inlined }.count == addresses.count, "\(frames)")
        #expect(frames.contains { $0.symbol?.contains("sleepInUsleep") == true })
    }
}

@Suite struct SymbolNameTests {
    @Test func closureOfTopLevelCodeGetsItsContextNamed() {
        #expect(Symbolicator.namingEmptyContext("closure #3 in ") == "closure #3 in top-level code")
        #expect(Symbolicator.namingEmptyContext("closure #1 in Router.get(_:)") == "closure #1 in Router.get(_:)")
        #expect(Symbolicator.namingEmptyContext("main") == "main")
    }
}
