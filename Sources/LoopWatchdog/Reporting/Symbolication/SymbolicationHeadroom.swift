import Glibc

/// Whether the process has room for a full symbolication now.
///
/// Symbolication needs a few megabytes (the images' indexes, BENCHMARKS.md), and the Swift
/// runtime ends the process when an allocation fails: under a tight `ulimit -v` a host must
/// not be killed by its watchdog's symbolication. So before each
/// symbolication the reporter checks the address-space limit (RLIMIT_AS against the
/// process's VmSize) and the cgroup's memory limit (memory.max against memory.current);
/// with less than ``requiredBytes`` left under either, stacks go out with the dynamic
/// linker's names only (`dladdr`, which allocates nothing), and one warning says so.
///
/// Thread model: used on the reporter queue only.
struct SymbolicationHeadroom {
    /// The room a full symbolication may need: the indexes of a large binary (a few
    /// megabytes) with a wide margin.
    static let requiredBytes = 32 << 20

    /// The room left under the tightest limit, in bytes, or nil when nothing limits it.
    static func availableBytes() -> Int? {
        var room: Int?
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max,
           let size = virtualSizeBytes()
        {
            room = Int(clamping: limit.rlim_cur) - size
        }
        if let maximum = cgroupValue("memory.max"), let current = cgroupValue("memory.current") {
            room = min(room ?? .max, maximum - current)
        }
        return room
    }

    /// True when a full symbolication fits.
    static func allowsFullSymbolication() -> Bool {
        guard let room = availableBytes() else { return true }
        return room >= requiredBytes
    }

    /// The process's virtual size (the first field of /proc/self/statm, in pages).
    private static func virtualSizeBytes() -> Int? {
        guard let text = readSmallFile("/proc/self/statm"), let pages = Int(text.split(separator: " ").first ?? "") else {
            return nil
        }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// A number in a file of this process's cgroup (v2), or nil (no limit: "max", or no file).
    private static func cgroupValue(_ name: String) -> Int? {
        guard let membership = readSmallFile("/proc/self/cgroup"),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let path = line.dropFirst(3).trimmingCharacters(in: "\n")
        guard let text = readSmallFile("/sys/fs/cgroup\(path == "/" ? "" : path)/\(name)") else { return nil }
        return Int(text.trimmingCharacters(in: "\n"))
    }

    /// The contents of a small file, or nil.
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.filter { $0 != set })
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.filter { $0 != set })
    }
}
