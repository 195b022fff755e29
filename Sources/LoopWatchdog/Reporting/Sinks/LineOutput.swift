import CLoopWatchdog
import Glibc
import Logging

/// Where JSON lines are written: a descriptor that never hangs, kills or disturbs the host.
///
/// - Opening never blocks: a FIFO with no reader fails at once (ENXIO) instead of waiting
///   for one, and the sink falls back to standard error with a warning.
/// - Writes never block for long: pipes, FIFOs and terminals are written through a
///   descriptor of our own in non-blocking mode (reopened through /proc/self/fd for an
///   inherited one, so that the host's own descriptor keeps its mode), sockets with
///   `MSG_DONTWAIT`; a write that makes no progress for ``writeTimeout`` is given up, and
///   later ones are not waited for until one goes through again.
/// - A reader that went away (EPIPE) is said once and nothing more is written; the SIGPIPE
///   the kernel raises stays on the reporter thread, which blocks it (``PlainThread``).
/// - A failed write (ENOSPC, EIO, ...) is said once with its errno, the lost lines are
///   counted and said when writing works again, and a line torn by a partial write is
///   ended before the next one, so that no two lines are ever glued together.
/// - A path that names the file standard output or error already writes to (for example
///   `/dev/stdout` redirected to a file) writes through that descriptor, sharing its offset.
/// - A file that was renamed or removed (log rotation) is reopened at its path before the
///   next line (one stat(2) per line).
/// - On a pipe or FIFO, ``lineLimit`` is PIPE_BUF: lines up to that size are never
///   interleaved with another writer's.
///
/// Thread model: used only on the reporter queue.
final class LineOutput: @unchecked Sendable {
    /// How long one line may wait for a destination that does not take it.
    static let writeTimeoutNanoseconds: Int64 = 1_000_000_000

    /// The destination, for messages.
    let name: String
    /// The largest line that the destination takes in one piece (pipes), or nil.
    let lineLimit: Int?
    private var fd: Int32
    private var ownsDescriptor: Bool
    private let isSocket: Bool
    /// For a regular file opened by path: the path and the file's identity, to notice a
    /// rotation.
    private let rotatingPath: String?
    private var identity: (dev: UInt, ino: UInt)
    private let logger: Logger
    private var torn = false
    private var stalled = false
    private var readerGone = false
    private var failing: Int32 = 0
    private var lost = 0

    /// Writes to the host's descriptor `descriptor` (1 or 2), which it never closes.
    init(descriptor: Int32, name: String, logger: Logger) {
        self.name = name
        self.logger = logger
        self.rotatingPath = nil
        var status = stat()
        let known = fstat(descriptor, &status) == 0
        let mode = status.st_mode & S_IFMT
        identity = (UInt(status.st_dev), UInt(status.st_ino))
        isSocket = known && mode == S_IFSOCK
        lineLimit = known && mode == S_IFIFO ? Int(PIPE_BUF) : nil
        fd = descriptor
        ownsDescriptor = false
        if known && (mode == S_IFIFO || mode == S_IFCHR) {
            // Our own open file description, non-blocking; the host's keeps its mode.
            let reopened = open("/proc/self/fd/\(descriptor)", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            if reopened >= 0 {
                fd = reopened
                ownsDescriptor = true
            }
        }
    }

    /// Appends to `path`, creating it; nil with `errno` set when it cannot be opened without
    /// waiting (a FIFO with no reader: ENXIO).
    init?(path: String, logger: Logger) {
        self.name = path
        self.logger = logger
        var status = stat()
        if stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG {
            // The file standard output or error already writes to: share that descriptor.
            for descriptor: Int32 in [1, 2] {
                var standard = stat()
                if fstat(descriptor, &standard) == 0 && standard.st_dev == status.st_dev && standard.st_ino == status.st_ino {
                    fd = descriptor
                    ownsDescriptor = false
                    isSocket = false
                    lineLimit = nil
                    rotatingPath = nil
                    identity = (UInt(status.st_dev), UInt(status.st_ino))
                    return
                }
            }
        }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0o644)
        guard opened >= 0 else { return nil }
        guard fstat(opened, &status) == 0 else {
            let error = errno
            close(opened)
            errno = error
            return nil
        }
        fd = opened
        ownsDescriptor = true
        let mode = status.st_mode & S_IFMT
        isSocket = false
        lineLimit = mode == S_IFIFO ? Int(PIPE_BUF) : nil
        rotatingPath = mode == S_IFREG ? path : nil
        identity = (UInt(status.st_dev), UInt(status.st_ino))
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Writes `line` and a newline, or counts it lost.
    func write(_ line: String) {
        guard !readerGone else { return }
        reopenIfRotated()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(line.utf8.count + 2)
        if torn { bytes.append(UInt8(ascii: "\n")) }
        bytes.append(contentsOf: line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let (written, error) = writeWithTimeout(bytes)
        if error == 0 {
            torn = false
            stalled = false
            if failing != 0 || lost > 0 {
                logger.info("LoopWatchdog writes to \(name.escapedForLogLine) again; \(lost) stall events were lost")
            }
            failing = 0
            lost = 0
            return
        }
        if written > 0 { torn = true }
        lost += 1
        if error == EPIPE {
            readerGone = true
            PlainThread.discardPendingSIGPIPE()
            logger.warning("LoopWatchdog's output \(name.escapedForLogLine) was closed by its reader; stall events are no longer written there")
            return
        }
        if error == EAGAIN {
            stalled = true
        }
        if failing != error {
            failing = error
            // A stuck standard error is not said on standard error.
            if !(error == EAGAIN && rotatingPath == nil && (fd == 2 || name == "standard error")) {
                logger.warning(
                    "LoopWatchdog cannot write to \(name.escapedForLogLine) (errno \(error): \(String(cString: strerror(error)))); stall events are lost until it works again"
                )
            }
        }
    }

    /// Writes all of `bytes`, waiting at most ``writeTimeoutNanoseconds`` in all for a
    /// destination that takes nothing (not at all while `stalled`). Returns how many bytes
    /// went out and 0, or the errno of the failure (EAGAIN for the timeout).
    private func writeWithTimeout(_ bytes: [UInt8]) -> (Int, Int32) {
        let deadline = lwd_monotonic_ns() + (stalled ? 0 : Self.writeTimeoutNanoseconds)
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                isSocket
                    ? send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                    : Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if result >= 0 {
                offset += result
                continue
            }
            let error = errno
            if error == EINTR { continue }
            guard error == EAGAIN || error == EWOULDBLOCK else { return (offset, error) }
            let remaining = deadline - lwd_monotonic_ns()
            guard remaining > 0 else { return (offset, EAGAIN) }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, Int32(min(remaining / 1_000_000 + 1, 1_000)))
        }
        return (offset, 0)
    }

    /// For a file opened by path: reopens it when the path names another file now, or none.
    private func reopenIfRotated() {
        guard let path = rotatingPath else { return }
        var status = stat()
        if stat(path, &status) == 0 && UInt(status.st_dev) == identity.dev && UInt(status.st_ino) == identity.ino {
            return
        }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0o644)
        guard opened >= 0, fstat(opened, &status) == 0 else {
            if opened >= 0 { close(opened) }
            return  // keep writing to the old file
        }
        if ownsDescriptor { close(fd) }
        fd = opened
        ownsDescriptor = true
        identity = (UInt(status.st_dev), UInt(status.st_ino))
        torn = false
    }
}
