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

/// The Swift runtime's demangler for backtraces: Swift names in the short form the runtime's
/// own crash backtraces print (no module prefixes or full signatures), C++ names too.
@_silgen_name("_swift_backtrace_demangle")
private func _swiftBacktraceDemangle(
    _ mangledName: UnsafePointer<CChar>?,
    _ mangledNameLength: Int,
    _ outputBuffer: UnsafeMutablePointer<CChar>?,
    _ outputBufferSize: UnsafeMutablePointer<Int>?
) -> UnsafeMutablePointer<CChar>?

/// Readable names for raw symbol names: Swift and C++ names through the Swift runtime's
/// backtrace demangler (the short form), then its full demangler, then the C++ runtime's;
/// anything else as it is.
enum SymbolNames {
    /// `name` demangled when it is a Swift or C++ symbol.
    static func demangle(_ name: UnsafePointer<CChar>) -> String {
        if let demangled = _swiftBacktraceDemangle(name, strlen(name), nil, nil) {
            defer { free(demangled) }
            return String(cString: demangled)
        }
        if let demangled = _swiftDemangle(name, strlen(name), nil, nil, 0) {
            defer { free(demangled) }
            return String(cString: demangled)
        }
        if name[0] == 0x5f, name[1] == 0x5a, let demangled = lwd_demangle_cxx(name) {  // "_Z"
            defer { free(demangled) }
            return String(cString: demangled)
        }
        return String(cString: name)
    }
}
