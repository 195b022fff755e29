import CLibdwCandidate
import Glibc
import LoopWatchdog

@_silgen_name("_swift_backtrace_demangle")
private func _swiftBacktraceDemangle(
    _ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int,
    _ outputBuffer: UnsafeMutablePointer<CChar>?, _ outputBufferSize: UnsafeMutablePointer<Int>?
) -> UnsafeMutablePointer<CChar>?

/// elfutils' libdwfl as a symbolication candidate (Debian's libdw-dev): one session over
/// this process's modules, names from their symbol tables demangled by the Swift runtime,
/// file:line from libdw's line tables. No inlined frames (libdw has them through scopes;
/// the lookup that costs memory is the line table, measured here).
final class LibdwSymbolicator {
    private let session: OpaquePointer?

    init() {
        session = lwd_bench_dwfl_open()
    }

    deinit {
        lwd_bench_dwfl_close(session)
    }

    func symbolicate(_ addresses: [UInt]) -> [StackFrame] {
        guard let session else { return [] }
        return addresses.enumerated().compactMap { index, address in
            guard address != 0 else { return nil }
            let lookup = index == 0 ? address : address - 1
            var symbol: UnsafePointer<CChar>?
            var file: UnsafePointer<CChar>?
            var module: UnsafePointer<CChar>?
            var line: Int32 = 0
            lwd_bench_dwfl_lookup(session, lookup, &symbol, &file, &line, &module)
            var frame = StackFrame(index: index, address: address)
            if let symbol {
                if let demangled = _swiftBacktraceDemangle(symbol, strlen(symbol), nil, nil) {
                    frame.symbol = String(cString: demangled)
                    free(demangled)
                } else {
                    frame.symbol = String(cString: symbol)
                }
            }
            if let file, line > 0 {
                frame.file = String(cString: file)
                frame.line = Int(line)
            }
            frame.image = module.map { String(cString: $0) }
            return frame
        }
    }
}
