@_spi(Internal) import Runtime
import Glibc

/// Turns captured addresses into ``StackFrame``s: demangled Swift names, file:line and
/// inlined frames through the toolchain's Runtime module, with `dladdr` names as a
/// fallback for addresses the Runtime cannot name.
///
/// Thread model: used only on the reporter queue, never on a loop or the watchdog thread
/// (the first symbolication of a large binary takes hundreds of milliseconds). Not
/// thread-safe; one instance per reporter.
final class Symbolicator {
    private var images: ImageMap?
    /// Stacks symbolicated before, by their addresses: a hang reports the same stack on
    /// every `continuing`, and a stall that recurs in the same place repeats it too.
    private var cache: [CacheKey: [StackFrame]] = [:]
    /// Most stacks kept; the cache is emptied when it is full.
    static let cacheCapacity = 256

    private struct CacheKey: Hashable {
        var addresses: [UInt]
        var firstIsProgramCounter: Bool
    }

    /// Symbolicates `addresses`; the first is a program counter when
    /// `firstIsProgramCounter`, every other one is a return address.
    ///
    /// Null addresses (the end marker of some unwinds) are dropped. Known limitation of the
    /// toolchain's Runtime module 6.3: its per-thread ELF cache names symbols of a library
    /// carrying MiniDebugInfo (Debian's libc) only on first use; later reports fall back to
    /// the exported names `dladdr` sees.
    func symbolicate(_ addresses: [UInt], firstIsProgramCounter: Bool) -> [StackFrame] {
        let key = CacheKey(addresses: addresses, firstIsProgramCounter: firstIsProgramCounter)
        if let frames = cache[key] { return frames }
        let frames = symbolicateUncached(addresses, firstIsProgramCounter: firstIsProgramCounter)
        if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
        cache[key] = frames
        return frames
    }

    private func symbolicateUncached(_ addresses: [UInt], firstIsProgramCounter: Bool) -> [StackFrame] {
        let addresses = addresses.enumerated().filter { $0.element != 0 }
        guard !addresses.isEmpty else { return [] }
        let keepsProgramCounter = firstIsProgramCounter && addresses[0].offset == 0
        let images = imageMap(covering: addresses.map(\.element))
        let rich: [RichFrame<UInt64>] = addresses.enumerated().map { position, entry in
            position == 0 && keepsProgramCounter
                ? .programCounter(UInt64(entry.element)) : .returnAddress(UInt64(entry.element))
        }
        let backtrace = Backtrace(architecture: "x86_64", frames: rich, images: images)
        guard
            let symbolicated = backtrace.symbolicated(
                with: images,
                options: [.showInlineFrames, .showSourceLocations]
            )
        else {
            return fallbackFrames(addresses.map(\.element))
        }
        var frames: [StackFrame] = []
        var index = 0
        for frame in symbolicated.frames {
            let address = UInt(UInt64(frame.captured.originalProgramCounter) ?? 0)
            guard address != 0 else { continue }
            var result = StackFrame(index: index, address: address, inlined: frame.inlined)
            if let symbol = frame.symbol {
                result.symbol = symbol.name
                result.image = symbol.imageName
                if let location = symbol.sourceLocation, !location.path.isEmpty, location.line > 0 {
                    result.file = location.path
                    result.line = location.line
                }
            }
            if result.symbol == nil || result.symbol == "<unknown>" {
                let fallback = DynamicLinkerNames.lookup(address)
                result.symbol = fallback.symbol
                result.image = result.image ?? fallback.image
            }
            frames.append(result)
            if !frame.inlined { index += 1 }
        }
        return frames
    }

    /// The cached image map, refreshed when an address falls outside every known image
    /// (a library was loaded since).
    private func imageMap(covering addresses: [UInt]) -> ImageMap {
        if let images, addresses.allSatisfy({ Self.contains(images, $0) }) {
            return images
        }
        let fresh = ImageMap.capture()
        images = fresh
        return fresh
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

    private func fallbackFrames(_ addresses: [UInt]) -> [StackFrame] {
        addresses.enumerated().map { index, address in
            let names = DynamicLinkerNames.lookup(address)
            return StackFrame(index: index, address: address, symbol: names.symbol, image: names.image)
        }
    }
}
