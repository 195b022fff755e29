import Glibc

/// Writes all of `bytes` to `fd`, retrying EINTR and short writes. Returns 0, or the errno
/// of the write that failed. The one write loop of the package (the JSON-lines sink and the
/// hang file use it).
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += written
    }
    return 0
}
