import CLoopWatchdog
import Foundation
import Glibc
import Testing

@testable import LoopWatchdog

/// Real async call chains that block under a real watchdog (`lwd-async-helper`, built in
/// debug and release by scripts/test.sh): the `began` event's JSON frames carry the
/// awaiting callers of the blocked function, right after it, marked `"async": true`, each
/// named and located at the line of its `await`.
@Suite(.serialized)
struct AsyncCallersTests {
    /// Where the helper was built in each configuration.
    static func helper(_ configuration: String) -> String {
        let products = URL(fileURLWithPath: ChildProcess.productsDirectory)
        return products.deletingLastPathComponent().appendingPathComponent(configuration)
            .appendingPathComponent("lwd-async-helper").path
    }

    /// The lines of the helper's sources marked `await-line`, by file name.
    static let awaitLines: [String: Set<Int>] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("AsyncHelper")
        var lines: [String: Set<Int>] = [:]
        for name in ["AsyncChains.swift", "main.swift"] {
            let text = (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
            lines[name] = Set(text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { $0.element.hasSuffix("// await-line") }.map { $0.offset + 1 })
        }
        return lines
    }()

    struct Case: Sendable, CustomTestStringConvertible {
        var configuration: String
        var scenario: String
        var blocking: String
        /// The function that blocks (a synchronous frame of the stack).
        var blocked: String
        /// Its awaiting callers, innermost first: a piece of each one's name.
        var callers: [String]
        var testDescription: String { "\(scenario) \(blocking) (\(configuration))" }
    }

    /// The chain through a closure, an actor hop, withTaskGroup and a generic function.
    /// A release build inlines the closures and withTaskGroup into their callers.
    static let cases: [Case] = ["sleep", "spin"].flatMap { blocking in
        [
            Case(
                configuration: "debug", scenario: "chain", blocking: blocking, blocked: "AsyncChains.chainLeaf",
                callers: [
                    "closure #1 in static AsyncChains.chainInTaskGroup", "withTaskGroup",
                    "AsyncChains.chainInTaskGroup", "ChainActor.hop", "closure #1 in static AsyncChains.chainEntry",
                    "AsyncChains.chainGeneric<A>", "AsyncChains.chainEntry", "closure #2 in top-level code",
                ]),
            Case(
                configuration: "release", scenario: "chain", blocking: blocking, blocked: "AsyncChains.chainLeaf",
                callers: [
                    "AsyncChains.chainInTaskGroup", "ChainActor.hop", "AsyncChains.chainGeneric<A>",
                    "AsyncChains.chainEntry", "closure #2 in top-level code",
                ]),
        ]
    } + ["debug", "release"].flatMap { configuration in
        [
            Case(
                configuration: configuration, scenario: "actor", blocking: "sleep", blocked: "ChainActor.blockHere",
                callers: ["awaitBlockingActor", "closure #2 in top-level code"]),
            Case(
                configuration: configuration, scenario: "main-actor", blocking: "spin", blocked: "blockOnMainActor",
                callers: ["awaitMainActor", "closure #2 in top-level code"]),
        ]
    }

    @Test(arguments: cases)
    func theBlockedFunctionIsFollowedByItsAwaitingCallers(_ test: Case) async throws {
        let path = Self.helper(test.configuration)
        try #require(
            FileManager.default.isExecutableFile(atPath: path),
            "\(path) is missing: scripts/test.sh builds it (swift build -c release --product lwd-async-helper)")
        let child = try ChildProcess(path, [test.scenario, test.blocking])
        let status = try await child.waitForExit(timeout: .seconds(60))
        try #require(status == 0, "exit \(status); stderr: \(child.standardError.suffix(2_000))")
        let events = try child.standardOutput.split(separator: "\n").map { try parseJSONObject(String($0)) }
        let began = try #require(events.first { $0["event"] as? String == "stall.began" }, "\(child.standardOutput.prefix(2_000))")
        let frames = try #require(began["frames"] as? [[String: Any]])
        let described = frames.map { "\($0["async"] as? Bool == true ? "await " : "")\($0["symbol"] as? String ?? "?")" }
        let blocked = try #require(
            frames.firstIndex { ($0["symbol"] as? String)?.contains(test.blocked) == true }, "\(described)")
        // The blocked function is the one the job runs: the first async frame.
        #expect(frames[blocked]["async"] as? Bool == true)
        #expect(frames[..<blocked].allSatisfy { $0["async"] as? Bool == false }, "\(described)")
        let callers = frames[(blocked + 1)...].prefix { $0["async"] as? Bool == true }
        try #require(callers.count == test.callers.count, "\(described)")
        for (frame, expected) in zip(callers, test.callers) {
            let symbol = frame["symbol"] as? String ?? ""
            #expect(symbol.contains(expected), "\(symbol) is not \(expected): \(described)")
            // Each caller of the helper's own code is located at one of its awaits.
            if frame["image"] as? String == "lwd-async-helper", let file = frame["file"] as? String {
                let name = String(file.split(separator: "/").last ?? "")
                let line = frame["line"] as? Int ?? 0
                #expect(Self.awaitLines[name]?.contains(line) == true, "\(symbol) at \(name):\(line)")
            }
        }
        // Each awaiting caller's address is where a Swift async function resumes, and the
        // frames after the callers are the thread's own again: the runtime's job runner.
        #expect(frames[blocked + 1 + callers.count]["async"] as? Bool == false)
        #expect((frames[blocked + 1 + callers.count]["symbol"] as? String)?.contains("runJobInEstablishedExecutorContext") == true, "\(described)")
        #expect(Self.awaitLines.values.allSatisfy { !$0.isEmpty })
    }
}

/// The walk up a chain of async contexts, over contexts laid out by hand: every read
/// goes through process_vm_readv, so bad links end the chain instead of faulting.
@Suite
struct AsyncContextChainTests {
    /// An address in loaded code, where a resume function could be.
    static let code = unsafeBitCast(lwd_monotonic_ns as @convention(c) () -> Int64, to: UInt.self)

    /// `count` contexts of 16 bytes, 16-aligned, each linked to the next; the last has no parent.
    final class Contexts {
        let base: UnsafeMutableRawPointer
        let count: Int
        init(_ count: Int) {
            self.count = count
            base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 16, alignment: 16)
            for index in 0..<count {
                let parent = index + 1 < count ? UInt(bitPattern: base + (index + 1) * 16) : 0
                base.storeBytes(of: parent, toByteOffset: index * 16, as: UInt.self)
                base.storeBytes(of: AsyncContextChainTests.code + UInt(index), toByteOffset: index * 16 + 8, as: UInt.self)
            }
        }
        subscript(index: Int) -> UInt { UInt(bitPattern: base + index * 16) }
        func setParent(of index: Int, to value: UInt) { base.storeBytes(of: value, toByteOffset: index * 16, as: UInt.self) }
        func setResume(of index: Int, to value: UInt) { base.storeBytes(of: value, toByteOffset: index * 16 + 8, as: UInt.self) }
        deinit { base.deallocate() }
    }

    static func read(_ context: UInt, max: Int32 = Int32(LWD_MAX_ASYNC_FRAMES)) -> (resume: [UInt], ended: Int32) {
        var resume = [UInt](repeating: 0, count: Int(LWD_MAX_ASYNC_FRAMES))
        var ended: Int32 = -1
        let count = resume.withUnsafeMutableBufferPointer { lwd_async_chain_read(context, $0.baseAddress, max, &ended) }
        return (Array(resume[0..<Int(count)]), ended)
    }

    @Test func aWholeChainEndsAtItsRootWithEveryResumeAddressTagged() {
        let contexts = Contexts(5)
        let chain = Self.read(contexts[0])
        #expect(chain.resume == (0..<5).map { AsyncFrameAddress.tagged(Self.code + UInt($0)) })
        #expect(chain.ended == Int32(LWD_ASYNC_ROOT.rawValue))
    }

    @Test func aLoopingChainStopsAtTheRepeat() {
        let contexts = Contexts(3)
        contexts.setParent(of: 2, to: contexts[1])
        let chain = Self.read(contexts[0])
        #expect(chain.resume.count == 3)
        #expect(chain.ended == Int32(LWD_ASYNC_INVALID.rawValue))
    }

    @Test func aMisalignedParentEndsTheChain() {
        let contexts = Contexts(3)
        contexts.setParent(of: 1, to: contexts[2] + 8)
        let chain = Self.read(contexts[0])
        #expect(chain.resume.count == 2)
        #expect(chain.ended == Int32(LWD_ASYNC_INVALID.rawValue))
    }

    @Test func aResumeAddressOutsideLoadedCodeEndsTheChain() {
        let contexts = Contexts(3)
        contexts.setResume(of: 1, to: contexts[2])  // heap memory, not code
        let chain = Self.read(contexts[0])
        #expect(chain.resume.count == 1)
        #expect(chain.ended == Int32(LWD_ASYNC_INVALID.rawValue))
    }

    @Test func aParentInUnmappedMemoryEndsTheChainWithoutAFault() throws {
        let page = try #require(mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(page != MAP_FAILED)
        munmap(page, 4096)
        let contexts = Contexts(2)
        contexts.setParent(of: 1, to: UInt(bitPattern: page))
        let chain = Self.read(contexts[0])
        #expect(chain.resume.count == 2)
        #expect(chain.ended == Int32(LWD_ASYNC_INVALID.rawValue))
        #expect(Self.read(0).resume.isEmpty)
    }

    @Test func aLongChainIsCutAtItsBound() {
        let contexts = Contexts(100)
        let chain = Self.read(contexts[0])
        #expect(chain.resume.count == Int(LWD_MAX_ASYNC_FRAMES))
        #expect(chain.ended == Int32(LWD_ASYNC_TOO_DEEP.rawValue))
        #expect(Self.read(contexts[0], max: 3).resume.count == 3)
    }
}

/// How awaiting callers' addresses are named.
struct AsyncCallerSymbolicationTests {
    @Test(arguments: [
        ("$s4main3fooyyYaFTQ0_", true),
        ("$s4main3fooyyYaFTY12_", true),
        ("$s4main3fooyyYaFTQ0_.cold.1", true),
        ("$s15HummingbirdCore7RequestVSSs5Error_pIegHnnozo_TRTA.14TQ0_", true),
        ("$s4main3fooyyYaF.llvm.12", false),
        ("$s4main3fooyyYaF", false),
        ("$s4main3fooyyYaFTQ_", true),  // index 0 is `_`
        ("$s4main3fooyyYaFTA", false),
        ("_ZN5swift34runJobInEstablishedExecutorContextEPNS_3JobE", false),
        ("TQ0_", false),
    ])
    func resumePartsAreToldByTheirMangledNames(_ name: String, _ resumes: Bool) {
        #expect(Symbolicator.isAsyncResumption(name) == resumes)
    }

    @Test(arguments: [
        ("partial apply for closure #1 in f()", true),
        ("specialized thunk for @escaping @callee_guaranteed () -> ()", true),
        ("reabstraction thunk helper", true),
        ("protocol witness for HTTPResponder.respond(to:context:) in conformance RouterResponder<A>", true),
        ("closure #1 in f()", false),
    ])
    func thunksAreTold(_ symbol: String, _ isThunk: Bool) {
        #expect(Symbolicator.isThunk(StackFrame(index: 0, address: 0, symbol: symbol, isAsync: true)) == isThunk)
    }

    /// A tagged address that is not where a Swift async function resumes (a link read while
    /// the task moved on) is left out, and so is every caller after it.
    @Test func callersThatAreNotResumePartsAreLeftOut() {
        let code = AsyncContextChainTests.code
        let frames = Symbolicator().symbolicate(
            [code + 4, AsyncFrameAddress.tagged(code), AsyncFrameAddress.tagged(code + 8)], firstIsProgramCounter: true)
        #expect(frames.count == 1)
        #expect(frames.first?.isAsync == false)
        #expect(frames.first?.symbol == "lwd_monotonic_ns")
    }

    /// An awaiting caller's address is the start of a function, resolved as it is, offline
    /// too: one byte back would be the function before it.
    @Test func anAwaitingCallerIsResolvedAtItsOwnAddressOffline() throws {
        let code = AsyncContextChainTests.code
        let described = LoadedImage.frame(index: 2, address: AsyncFrameAddress.tagged(code))
        #expect(described.isAsync)
        #expect(described.address == code)
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let symbolicator = try #require(OfflineSymbolicator(binary: binary))
        var awaiting = StackFrame(
            index: 2, address: 0, image: described.image, imageOffset: described.imageOffset, buildID: described.buildID,
            isAsync: true)
        #expect(symbolicator.resolve(&awaiting))
        #expect(awaiting.symbol == "lwd_monotonic_ns")
        var returning = awaiting
        returning.isAsync = false
        returning.symbol = nil
        symbolicator.resolve(&returning)
        #expect(returning.symbol != "lwd_monotonic_ns")
    }
}
