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
    private var known: [FrameKey: StackFrame] = [:]
    /// Most addresses kept; the cache starts over beyond it.
    static let knownLimit = 4096
    /// The files of the loaded images seen so far; nil for one that cannot be read or whose
    /// build ID differs from the loaded copy's (replaced on disk since it was loaded).
    private var files: [LoadedImage: ELFImage?] = [:]
    /// Most image files kept open.
    static let fileLimit = 64

    /// An address and how it was captured: a return address is looked up one byte back.
    private struct FrameKey: Hashable {
        var address: UInt
        var isProgramCounter: Bool

        /// The address whose instruction is being reported: a return address points after
        /// its call, which may already be the next line or function.
        var lookupAddress: UInt { isProgramCounter ? address : address &- 1 }
    }

    /// Symbolicates `addresses`; the first is a program counter when
    /// `firstIsProgramCounter`, every other one is a return address.
    ///
    /// Null addresses (the end marker of some unwinds) are dropped. An address seen before
    /// gives the same frame as the first time without reading any file.
    func symbolicate(_ addresses: [UInt], firstIsProgramCounter: Bool) -> [StackFrame] {
        let keys = addresses.enumerated().compactMap { offset, address in
            address == 0 ? nil : FrameKey(address: address, isProgramCounter: offset == 0 && firstIsProgramCounter)
        }
        if known.count + keys.count > Self.knownLimit { known.removeAll(keepingCapacity: true) }
        return keys.enumerated().map { index, key in
            var frame = known[key] ?? resolve(key)
            known[key] = frame
            frame.index = index
            return frame
        }
    }

    /// Builds the indexes of the image holding `address` now (the executable, at start), so
    /// that the first report does not wait for them.
    func prepare(imageContaining address: UInt) {
        guard case .image(let image) = LoadedImage.containing(address) else { return }
        file(for: image)?.prepare()
    }

    /// Bytes held by the open images' indexes.
    var memoryBytes: Int { files.values.reduce(0) { $0 + ($1?.memoryBytes ?? 0) } }

    private func resolve(_ key: FrameKey) -> StackFrame {
        let address = key.lookupAddress
        var frame = StackFrame(index: 0, address: key.address)
        if case .image(let image) = LoadedImage.containing(address) {
            image.describe(&frame)
            if let file = file(for: image) {
                let linkAddress = UInt64(address &- image.bias)
                frame.symbol = file.functionName(at: linkAddress)
                if let location = file.sourceLocation(at: linkAddress) {
                    frame.file = location.file
                    frame.line = location.line
                }
            }
        }
        if frame.symbol == nil {
            let names = DynamicLinkerNames.lookup(address)
            frame.symbol = names.symbol
            frame.image = frame.image ?? names.image.map { String($0.split(separator: "/").last ?? "") }
        }
        frame.symbol = frame.symbol.map(Self.namingEmptyContext)
        return frame
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
