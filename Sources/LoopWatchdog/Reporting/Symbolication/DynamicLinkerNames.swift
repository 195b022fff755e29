import CLoopWatchdog
import Glibc

@_silgen_name("swift_demangle")
private func _swiftDemangle(
    _ mangledName: UnsafePointer<CChar>?,
    _ mangledNameLength: Int,
    _ outputBuffer: UnsafeMutablePointer<CChar>?,
    _ outputBufferSize: UnsafeMutablePointer<Int>?,
    _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

/// Names from the dynamic linker (`dladdr`), demangled: the fallback for addresses the
/// Runtime module cannot symbolicate. Sees only exported symbols.
enum DynamicLinkerNames {
    /// The exported symbol containing `address` and the path of its image, when known.
    static func lookup(_ address: UInt) -> (symbol: String?, image: String?) {
        var symbol: UnsafePointer<CChar>?
        var path: UnsafePointer<CChar>?
        guard lwd_dladdr(address, &symbol, &path) != 0 else { return (nil, nil) }
        let image = path.map { String(cString: $0) }
        guard let name = symbol else { return (nil, image) }
        return (demangle(name), image)
    }

    private static func demangle(_ name: UnsafePointer<CChar>) -> String {
        let raw = String(cString: name)
        guard let demangled = _swiftDemangle(name, strlen(name), nil, nil, 0) else { return raw }
        defer { free(demangled) }
        return String(cString: demangled)
    }
}
