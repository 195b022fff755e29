/// The x86_64 Linux system calls a blocked thread is commonly found parked in: their names,
/// which take a file descriptor as first argument, and what waiting in them means.
enum SystemCalls {
    /// True for epoll_wait, epoll_pwait and epoll_pwait2 (x86_64 numbers 232, 281, 441):
    /// where an event loop waits for work.
    static func isEpollWait(_ number: Int64) -> Bool {
        number == 232 || number == 281 || number == 441
    }

    /// What waiting in a system call means for a stall.
    enum Kind: Sendable, Hashable {
        case sleep
        case lock
        /// Input or output on the descriptor of the first argument (file, socket, pipe...).
        case descriptorIO
        /// File system work with no descriptor to look at (open, stat, rename, sync...).
        case fileSystem
        case network
        /// Anything else: a child process, a signal wait...
        case other
    }

    private static let table: [Int64: (name: String, kind: Kind, takesDescriptor: Bool)] = [
        0: ("read", .descriptorIO, true), 1: ("write", .descriptorIO, true),
        2: ("open", .fileSystem, false), 3: ("close", .descriptorIO, true),
        4: ("stat", .fileSystem, false), 5: ("fstat", .descriptorIO, true), 6: ("lstat", .fileSystem, false),
        7: ("poll", .network, false), 17: ("pread64", .descriptorIO, true), 18: ("pwrite64", .descriptorIO, true),
        19: ("readv", .descriptorIO, true), 20: ("writev", .descriptorIO, true), 23: ("select", .network, false),
        34: ("pause", .sleep, false), 35: ("nanosleep", .sleep, false), 40: ("sendfile", .descriptorIO, true),
        42: ("connect", .network, false), 43: ("accept", .network, false), 44: ("sendto", .network, false),
        45: ("recvfrom", .network, false), 46: ("sendmsg", .network, false), 47: ("recvmsg", .network, false),
        61: ("wait4", .other, false), 65: ("semop", .lock, false), 72: ("fcntl", .descriptorIO, true),
        73: ("flock", .lock, false), 74: ("fsync", .descriptorIO, true), 75: ("fdatasync", .descriptorIO, true),
        76: ("truncate", .fileSystem, false), 77: ("ftruncate", .descriptorIO, true),
        82: ("rename", .fileSystem, false), 87: ("unlink", .fileSystem, false),
        128: ("rt_sigtimedwait", .other, false), 130: ("rt_sigsuspend", .other, false),
        162: ("sync", .fileSystem, false), 202: ("futex", .lock, false), 217: ("getdents64", .descriptorIO, true),
        219: ("restart_syscall", .sleep, false), 220: ("semtimedop", .lock, false),
        230: ("clock_nanosleep", .sleep, false), 232: ("epoll_wait", .network, false),
        247: ("waitid", .other, false), 257: ("openat", .fileSystem, false), 262: ("newfstatat", .fileSystem, false),
        263: ("unlinkat", .fileSystem, false), 270: ("pselect6", .network, false), 271: ("ppoll", .network, false),
        277: ("sync_file_range", .descriptorIO, true), 281: ("epoll_pwait", .network, false),
        285: ("fallocate", .descriptorIO, true), 288: ("accept4", .network, false),
        295: ("preadv", .descriptorIO, true), 296: ("pwritev", .descriptorIO, true),
        299: ("recvmmsg", .network, false), 306: ("syncfs", .descriptorIO, true), 307: ("sendmmsg", .network, false),
        316: ("renameat2", .fileSystem, false), 326: ("copy_file_range", .descriptorIO, true),
        327: ("preadv2", .descriptorIO, true), 328: ("pwritev2", .descriptorIO, true),
        332: ("statx", .fileSystem, false), 441: ("epoll_pwait2", .network, false),
        449: ("futex_waitv", .lock, false),
    ]

    /// The call's name, or `syscall N` for one not in the table.
    static func name(_ number: Int64) -> String {
        table[number]?.name ?? "syscall \(number)"
    }

    /// What waiting in call `number` means.
    static func kind(_ number: Int64) -> Kind {
        table[number]?.kind ?? .other
    }

    /// True for a call whose first argument is a file descriptor worth looking at.
    static func takesDescriptor(_ number: Int64) -> Bool {
        table[number]?.takesDescriptor ?? false
    }
}
