import CLoopWatchdog

/// The threads of this process, as /proc/self/task lists them, and their names.
enum ProcessThreads {
    /// The calling thread's name, or nil when it has none.
    static func currentName() -> String? {
        var buffer = [CChar](repeating: 0, count: 16)
        guard lwd_current_thread_name(&buffer, buffer.count) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    /// The kernel thread ids of every thread of the process.
    static func list() -> [Int32] {
        var capacity: Int32 = 256
        while true {
            var tids = [Int32](repeating: 0, count: Int(capacity))
            let count = lwd_list_threads(&tids, capacity)
            if count < 0 { return [] }
            if count <= capacity { return Array(tids.prefix(Int(count))) }
            capacity = count + 64
        }
    }

    /// The name of thread `tid` (at most 15 bytes), or nil when it is gone.
    static func name(of tid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 16)
        guard lwd_read_thread_name(tid, &buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
