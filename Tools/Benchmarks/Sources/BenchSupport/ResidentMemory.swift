import Glibc

/// This process's resident memory from /proc/self/status, in bytes.
public enum ResidentMemory {
    /// VmRSS: resident now.
    public static func current() -> Int { field("VmRSS:") }
    /// VmHWM: the most resident so far.
    public static func peak() -> Int { field("VmHWM:") }

    private static func field(_ name: String) -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix(name) else { continue }
            let kilobytes = text.dropFirst(name.count).split(separator: " ").first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
