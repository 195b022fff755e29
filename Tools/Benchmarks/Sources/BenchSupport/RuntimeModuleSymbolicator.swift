@_spi(Internal) import Runtime
import Glibc
import LoopWatchdog

/// The symbolicator LoopWatchdog used up to its own ELF and DWARF reader, kept as a
/// benchmark candidate: the toolchain's Runtime module (`Backtrace.symbolicated`) with
/// inlined frames and source locations, and a cache of what each address gave.
final class RuntimeModuleSymbolicator {
    /// The architecture the captured addresses belong to, for the Runtime module.
    private static let architecture = "x86_64"

    private var images: ImageMap?
    /// What each address symbolicated to (its inlined frames first, then its function),
    /// kept until the loaded images change. The toolchain's Runtime module runs the DWARF
    /// line programs of an image again for every lookup (10-20 ms for a small binary, about
    /// 80 ms for a NIO binary, each time); a stall site seen before costs a lookup here.
    private var known: [FrameKey: [StackFrame]] = [:]
    /// Most addresses kept; the cache starts over beyond it.
    static let knownLimit = 4096

    /// An address and how it was captured: a return address is looked up one byte back.
    private struct FrameKey: Hashable {
        var address: UInt
        var isProgramCounter: Bool
    }

    /// Symbolicates `addresses`; the first is a program counter when
    /// `firstIsProgramCounter`, every other one is a return address.
    ///
    /// Null addresses (the end marker of some unwinds) are dropped. An address seen before
    /// gives the same frames as the first time without asking the Runtime module again.
    /// The Runtime's symbol cache (`.useSymbolCache`) is not asked for: in Swift 6.3 it names
    /// symbols of a library carrying MiniDebugInfo (Debian's libc) only on first use. The
    /// Runtime's ELF image cache is per thread whatever the options, which is why the
    /// reporter symbolicates on one dedicated thread (``SerialThreadQueue``).
    func symbolicate(_ addresses: [UInt], firstIsProgramCounter: Bool) -> [StackFrame] {
        let keys = addresses.enumerated().compactMap { offset, address in
            address == 0 ? nil : FrameKey(address: address, isProgramCounter: offset == 0 && firstIsProgramCounter)
        }
        guard !keys.isEmpty else { return [] }
        if keys.contains(where: { known[$0] == nil }) {
            // Both steps below may forget known addresses: what is missing is listed only
            // after them, so that no frame of this stack is left unresolved.
            refreshImages(covering: keys.filter { known[$0] == nil }.map(\.address))
            if known.count + keys.count > Self.knownLimit { known.removeAll(keepingCapacity: true) }
            resolve(uniqueKeys(keys).filter { known[$0] == nil })
        }
        var frames: [StackFrame] = []
        var index = 0
        for key in keys {
            for var frame in known[key] ?? [] {
                frame.index = index
                frames.append(frame)
                if !frame.inlined { index += 1 }
            }
        }
        return frames
    }

    /// `keys` without repeats, in order.
    private func uniqueKeys(_ keys: [FrameKey]) -> [FrameKey] {
        var seen = Set<FrameKey>()
        return keys.filter { seen.insert($0).inserted }
    }

    /// Symbolicates `keys` through the Runtime module and stores the frames of each.
    private func resolve(_ keys: [FrameKey]) {
        // One backtrace per batch of distinct addresses, so every symbolicated frame maps
        // back to its key (an address captured both ways, which is rare, takes two batches).
        var remaining = keys
        while !remaining.isEmpty {
            var batch: [FrameKey] = []
            var addresses = Set<UInt>()
            remaining.removeAll { key in
                guard addresses.insert(key.address).inserted else { return false }
                batch.append(key)
                return true
            }
            resolveBatch(batch)
        }
    }

    private func resolveBatch(_ batch: [FrameKey]) {
        let images = self.images ?? ImageMap.capture()
        let rich: [RichFrame<UInt64>] = batch.map { key in
            key.isProgramCounter ? .programCounter(UInt64(key.address)) : .returnAddress(UInt64(key.address))
        }
        let backtrace = Backtrace(architecture: Self.architecture, frames: rich, images: images)
        var byAddress: [UInt: [StackFrame]] = [:]
        if let symbolicated = backtrace.symbolicated(
            with: images, options: [.showInlineFrames, .showSourceLocations])
        {
            for frame in symbolicated.frames {
                let address = UInt(UInt64(frame.captured.originalProgramCounter) ?? 0)
                guard address != 0 else { continue }
                var result = StackFrame(index: 0, address: address, inlined: frame.inlined)
                if let symbol = frame.symbol {
                    result.symbol = Self.namingEmptyContext(symbol.name)
                    result.image = symbol.imageName
                    if let location = symbol.sourceLocation, !location.path.isEmpty, location.line > 0 {
                        result.file = location.path
                        result.line = location.line
                    }
                }
                byAddress[address, default: []].append(result)
            }
        }
        for key in batch {
            known[key] = byAddress[key.address] ?? [fallbackFrame(key.address)]
        }
    }

    /// `name` with an empty context named: the demangler prints a closure written in
    /// top-level code (a `main.swift` route closure) as `closure #3 in ` with nothing after
    /// `in`; it becomes `closure #3 in top-level code`.
    static func namingEmptyContext(_ name: String) -> String {
        name.hasSuffix(" in ") ? name + "top-level code" : name
    }

    /// Refreshes the cached image map when an address to resolve falls outside every known
    /// image (a library may have been loaded since; the vDSO and generated code are outside
    /// every image for good, and are then resolved once, by `dladdr`). Known addresses are
    /// forgotten only when the images really changed.
    private func refreshImages(covering addresses: [UInt]) {
        if let images, addresses.allSatisfy({ Self.contains(images, $0) }) {
            return
        }
        let fresh = ImageMap.capture()
        if let images, images == fresh { return }
        images = fresh
        known.removeAll(keepingCapacity: true)
    }

    private static func contains(_ images: ImageMap, _ address: UInt) -> Bool {
        let target = UInt64(address)
        return images.contains { image in
            guard let base = UInt64(image.baseAddress), let end = UInt64(image.endOfText) else {
                return false
            }
            return target >= base && target < end
        }
    }

    private func fallbackFrame(_ address: UInt) -> StackFrame {
        StackFrame(index: 0, address: address)
    }
}
