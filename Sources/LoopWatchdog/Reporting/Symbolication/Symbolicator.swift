import CLoopWatchdog
import Glibc

#if !os(Linux) || !arch(x86_64)
#error("LoopWatchdog supports Linux on x86_64 only: its capture and symbolication assume that architecture")
#endif

/// Turns captured addresses into ``StackFrame``s: demangled names from each image's symbol
/// table, file:line from its DWARF line table (``ELFImage``), with `dladdr` names as a
/// fallback for addresses no symbol table names (the vDSO, a library whose file changed).
///
/// Memory is the images' indexes (about 40 bytes per function of the binary) and a bounded
/// cache of what each address gave; a new address costs a binary search in each index and
/// one run of one DWARF line sequence (microseconds). Code inlined at an address is named by
/// its file:line; the frame's function is the one the symbol table holds (the outer one).
///
/// Thread model: used only on the reporter queue, never on a loop or the watchdog thread.
/// Not thread-safe; one instance per reporter.
final class Symbolicator {
    /// What each address symbolicated to.
    private var known: [FrameKey: Resolved] = [:]
    /// Most addresses kept; the cache starts over beyond it.
    static let knownLimit = 4096
    /// The files of the loaded images seen so far; nil for one that cannot be read or whose
    /// build ID differs from the loaded copy's (replaced on disk since it was loaded).
    private var files: [LoadedImage: ELFImage?] = [:]
    /// Most image files kept open.
    static let fileLimit = 64

    /// An address and how it was captured: a return address is looked up one byte back, a
    /// program counter and an awaiting caller's resume address (tagged) as they are.
    private struct FrameKey: Hashable {
        var address: UInt
        var isProgramCounter: Bool

        var lookupAddress: UInt { AsyncFrameAddress.lookupAddress(address, index: isProgramCounter ? 0 : 1) }
    }

    /// A symbolicated frame, and whether its function is the resume part of a Swift async
    /// function (`…TQ0_`, `…TY1_`: its symbol says so), as an awaiting caller's must be.
    private struct Resolved {
        var frame: StackFrame
        var resumesAsyncFunction: Bool
    }

    /// How far back from a run of awaiting callers the function they await is looked for.
    private static let awaitedLookBack = 4

    /// Symbolicates `addresses`; the first is a program counter when
    /// `firstIsProgramCounter`, every other one is a return address or, tagged, an awaiting
    /// caller's resume address (``AsyncFrameAddress``).
    ///
    /// Null addresses (the end marker of some unwinds) are dropped. An address seen before
    /// gives the same frame as the first time without reading any file. Of a run of
    /// awaiting callers, the compiler's thunks (`partial apply for …`, `thunk for …`) are
    /// left out, and so are, from the first one on, callers whose address is not where a
    /// Swift async function resumes: the runtime code that ends the task (the chain's
    /// root), or a link read while the task moved on. The callers follow the async function
    /// they await, the one the job runs (also marked ``StackFrame/isAsync``): a frame between
    /// the two, which a stack scan took from a stale word of that function's frame (the
    /// runtime calls it directly), is left out.
    func symbolicate(_ addresses: [UInt], firstIsProgramCounter: Bool) -> [StackFrame] {
        let keys = addresses.enumerated().compactMap { offset, address in
            address == 0 ? nil : FrameKey(address: address, isProgramCounter: offset == 0 && firstIsProgramCounter)
        }
        if known.count + keys.count > Self.knownLimit { known.removeAll(keepingCapacity: true) }
        var frames: [StackFrame] = []
        frames.reserveCapacity(keys.count)
        var resumes: [Bool] = []
        var callersEnded = false
        for key in keys {
            let resolved = known[key] ?? resolve(key)
            known[key] = resolved
            if AsyncFrameAddress.isAsync(key.address) {
                if !resolved.resumesAsyncFunction { callersEnded = true }
                if callersEnded || Self.isThunk(resolved.frame) { continue }
                if let last = frames.indices.last, !resumes[last],
                    let awaited = frames.indices.suffix(Self.awaitedLookBack + 1).dropLast().last(where: { resumes[$0] })
                {
                    // The function the callers await is called by the runtime directly:
                    // whatever a stack scan put between the two is a stale word.
                    frames.removeSubrange((awaited + 1)...)
                    resumes.removeSubrange((awaited + 1)...)
                    frames[awaited].isAsync = true
                }
            } else {
                callersEnded = false
            }
            var frame = resolved.frame
            frame.index = frames.count
            frames.append(frame)
            resumes.append(resolved.resumesAsyncFunction)
        }
        return frames
    }

    /// Builds the indexes of the image holding `address` now (the executable, at start), so
    /// that the first report does not wait for them.
    func prepare(imageContaining address: UInt) {
        guard case .image(let image) = LoadedImage.containing(address) else { return }
        file(for: image)?.prepare()
    }

    /// Bytes held by the open images' indexes.
    var memoryBytes: Int { files.values.reduce(0) { $0 + ($1?.memoryBytes ?? 0) } }

    private func resolve(_ key: FrameKey) -> Resolved {
        let address = key.lookupAddress
        let isAsync = AsyncFrameAddress.isAsync(key.address)
        var frame = StackFrame(
            index: 0, address: AsyncFrameAddress.untagged(key.address),
            isAsync: isAsync || AsyncFrameAddress.isRunningAsync(key.address))
        var rawName: String?
        var functionStart: UInt64?
        var imageBias: UInt = 0
        if case .image(let image) = LoadedImage.containing(address) {
            image.describe(&frame)
            imageBias = image.bias
            if let file = file(for: image) {
                let linkAddress = UInt64(address &- image.bias)
                let function = file.function(at: linkAddress)
                rawName = function?.name
                functionStart = function?.start
                frame.symbol = rawName.map { name in name.withCString { SymbolNames.demangle($0) } }
                // An awaiting caller's address starts its resume part: named by the line
                // after that part's prologue, the `await`'s.
                let bodyEnd = isAsync ? function.flatMap { $0.start == linkAddress ? $0.end : nil } : nil
                if let location = file.sourceLocation(at: linkAddress, bodyEnd: bodyEnd) {
                    frame.file = location.file
                    frame.line = location.line
                }
            }
        }
        if frame.symbol == nil {
            let names = DynamicLinkerNames.lookup(address)
            frame.symbol = names.symbol
            rawName = names.rawSymbol
            frame.image = frame.image ?? names.image.map { String($0.split(separator: "/").last ?? "") }
        }
        frame.symbol = frame.symbol.map(Self.namingEmptyContext)
        // A resume address is where its resume part starts; anything else inside a
        // function is a link that no longer holds a context.
        let startsFunction = !isAsync || functionStart.map { $0 == UInt64(address &- imageBias) } ?? true
        return Resolved(
            frame: frame, resumesAsyncFunction: startsFunction && rawName.map(Self.isAsyncResumption) == true)
    }

    /// True for the mangled name of a Swift async function's resume part: `TQ` (after an
    /// await) or `TY` (after a suspension), an index, `_`, at the end of the name or before
    /// LLVM's suffixes (`.cold.1`, `.llvm.123`); `…TA.14TQ0_` is a resume part too.
    static func isAsyncResumption(_ mangled: String) -> Bool {
        guard mangled.hasPrefix("$s") || mangled.hasPrefix("_$s") else { return false }
        var name = Substring(mangled)
        while !name.hasSuffix("_"), let dot = name.lastIndex(of: ".") { name = name[..<dot] }
        guard name.hasSuffix("_") else { return false }
        name = name.dropLast()
        while let last = name.last, last.isASCII, last.isNumber { name = name.dropLast() }
        return name.hasSuffix("TQ") || name.hasSuffix("TY")
    }

    /// True for a compiler-made forwarding function, which says nothing its neighbours do
    /// not: a partial application's forwarder, a reabstraction thunk, a protocol witness.
    static func isThunk(_ frame: StackFrame) -> Bool {
        guard var symbol = frame.symbol?[...] else { return false }
        if symbol.hasPrefix("specialized ") { symbol = symbol.dropFirst("specialized ".count) }
        return symbol.hasPrefix("partial apply for ") || symbol.hasPrefix("thunk for ")
            || symbol.hasPrefix("reabstraction thunk") || symbol.hasPrefix("protocol witness for ")
    }

    /// The opened file of `image`, opened on first use.
    func file(for image: LoadedImage) -> ELFImage? {
        if let opened = files[image] { return opened }
        if files.count >= Self.fileLimit { files.removeAll() }
        var file = ELFImage(path: image.path)
        if let opened = file, !image.buildID.isEmpty {
            let onDisk = opened.buildID
            if !onDisk.isEmpty && onDisk != image.buildID { file = nil }
        }
        files[image] = file
        return file
    }

    /// `name` with an empty context named: the demangler prints a closure written in
    /// top-level code (a `main.swift` route closure) as `closure #3 in ` with nothing after
    /// `in`; it becomes `closure #3 in top-level code`.
    static func namingEmptyContext(_ name: String) -> String {
        name.hasSuffix(" in ") ? name + "top-level code" : name
    }
}
