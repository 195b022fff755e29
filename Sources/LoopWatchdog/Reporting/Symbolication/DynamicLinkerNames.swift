import CLoopWatchdog
import Glibc

/// Names from the dynamic linker (`dladdr`), demangled: the fallback for addresses no
/// symbol table names. Sees only exported symbols.
enum DynamicLinkerNames {
    /// The exported symbol containing `address` (demangled, and as the image names it) and
    /// the path of its image, when known.
    static func lookup(_ address: UInt) -> (symbol: String?, rawSymbol: String?, image: String?) {
        var symbol: UnsafePointer<CChar>?
        var path: UnsafePointer<CChar>?
        guard lwd_dladdr(address, &symbol, &path) != 0 else { return (nil, nil, nil) }
        let image = path.map { String(cString: $0) }
        guard let name = symbol else { return (nil, nil, image) }
        return (SymbolNames.demangle(name), String(cString: name), image)
    }
}
