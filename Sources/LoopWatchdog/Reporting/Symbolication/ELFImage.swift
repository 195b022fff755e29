import CLoopWatchdog
import Glibc

/// One ELF file opened for symbolication (`lwd_elf_image`): its function symbols and its
/// DWARF line table, each indexed into one sorted array on first use; read with pread
/// through a 64 KB buffer, never mapped or read whole, so that a 100 MB binary costs a few
/// megabytes of index, not its debug information.
///
/// Thread model: owned by one ``Symbolicator``; not thread-safe.
final class ELFImage {
    private let image: OpaquePointer
    /// The file's path, as opened.
    let path: String

    /// Opens `path`; nil when it is not a readable 64-bit ELF file.
    init?(path: String) {
        guard let image = lwd_elf_image_open(path) else { return nil }
        self.image = image
        self.path = path
    }

    deinit {
        lwd_elf_image_close(image)
    }

    /// Builds both indexes now, so that the first lookup does not.
    func prepare() {
        _ = lwd_elf_image_prepare(image)
    }

    /// Bytes held by the indexes and the read buffer.
    var memoryBytes: Int { lwd_elf_image_memory(image) }

    /// The file's GNU build ID; empty when it has none.
    var buildID: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(LWD_BUILD_ID_MAX))
        let count = lwd_elf_image_build_id(image, &bytes, bytes.count)
        return Array(bytes.prefix(count))
    }

    /// The name of the function containing the link-time `address`, demangled unless
    /// `raw`.
    func functionName(at address: UInt64, raw: Bool = false) -> String? {
        function(at: address).map { raw ? $0.name : SymbolNames.demangle($0.name) }
    }

    /// The function containing the link-time `address`: its raw (mangled) name, start and
    /// end (the start when its size is unknown).
    func function(at address: UInt64) -> (name: String, start: UInt64, end: UInt64)? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var start: UInt64 = 0
            var size: UInt64 = 0
            guard let base = buffer.baseAddress,
                lwd_elf_image_symbol(image, address, base, buffer.count, &start, &size) == 1
            else { return nil }
            return (String(cString: base), start, start &+ size)
        }
    }

    /// The source file and line of the link-time `address`; with `bodyEnd` (the end of the
    /// function that starts at `address`), the line where the function's body begins,
    /// after its prologue.
    func sourceLocation(at address: UInt64, bodyEnd: UInt64? = nil) -> (file: String, line: Int)? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var line: UInt32 = 0
            guard let base = buffer.baseAddress else { return nil }
            let found = if let bodyEnd {
                lwd_elf_image_body_line(image, address, bodyEnd, base, buffer.count, &line)
            } else {
                lwd_elf_image_line(image, address, base, buffer.count, &line)
            }
            guard found == 1 else { return nil }
            return (String(cString: base), Int(line))
        }
    }
}
