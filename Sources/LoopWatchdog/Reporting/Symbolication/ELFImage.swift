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
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var start: UInt64 = 0
            guard let base = buffer.baseAddress,
                lwd_elf_image_symbol(image, address, base, buffer.count, &start) == 1
            else { return nil }
            return raw ? String(cString: base) : SymbolNames.demangle(base)
        }
    }

    /// The source file and line of the link-time `address`.
    func sourceLocation(at address: UInt64) -> (file: String, line: Int)? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var line: UInt32 = 0
            guard let base = buffer.baseAddress,
                lwd_elf_image_line(image, address, base, buffer.count, &line) == 1
            else { return nil }
            return (String(cString: base), Int(line))
        }
    }
}
