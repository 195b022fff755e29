import CLoopWatchdogZlib
import Glibc

/// Reads a file descriptor line by line in constant memory, inflating gzip input (told by
/// its magic bytes) on the way, and hands each line, without its newline, to a closure.
///
/// Lines longer than ``maximumLineLength`` are skipped (counted in ``overlongLines``). A
/// last line without a newline is handed over too (a log cut mid-line ends that way).
public struct LineReader {
    /// Longer lines are not handed over.
    public static let maximumLineLength = 16 << 20
    private static let chunkSize = 1 << 20

    /// Bytes read from the descriptor so far (compressed bytes for gzip input).
    public private(set) var bytesRead: Int64 = 0
    /// Lines skipped for their length.
    public private(set) var overlongLines = 0
    /// Whether the input was gzip-compressed.
    public private(set) var isCompressed = false
    /// Whether gzip input ended in the middle of a member (a file cut short).
    public private(set) var isTruncatedGzip = false

    private let descriptor: Int32

    /// A reader of `descriptor`, which it does not close.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// An error reading the input.
    public struct ReadError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    /// Reads to the end, calling `line` for every line, and `progress` after every chunk.
    public mutating func forEachLine(
        progress: (LineReader) -> Void = { _ in }, _ line: (UnsafeRawBufferPointer) -> Void
    ) throws {
        var pending: [UInt8] = []  // the start of a line that continues in the next chunk
        var skippingOverlong = false
        var raw = [UInt8](repeating: 0, count: Self.chunkSize)
        var inflated = [UInt8](repeating: 0, count: 4 * Self.chunkSize)
        var inflater: OpaquePointer?
        defer { if let inflater { lwd_gunzip_destroy(inflater) } }
        var first = true

        func consume(_ data: UnsafeRawBufferPointer) {
            var start = 0
            while start < data.count {
                guard let newline = memchr(data.baseAddress! + start, 0x0A, data.count - start) else {
                    // No newline: keep the rest for the next chunk.
                    if !skippingOverlong {
                        pending.append(contentsOf: data[start...])
                        if pending.count > Self.maximumLineLength {
                            pending.removeAll(keepingCapacity: false)
                            skippingOverlong = true
                            overlongLines += 1
                        }
                    }
                    return
                }
                let end = UnsafeRawPointer(newline) - data.baseAddress!
                if skippingOverlong {
                    skippingOverlong = false
                } else if pending.isEmpty {
                    line(UnsafeRawBufferPointer(rebasing: data[start..<end]))
                } else {
                    pending.append(contentsOf: data[start..<end])
                    if pending.count <= Self.maximumLineLength {
                        pending.withUnsafeBytes { line($0) }
                    } else {
                        overlongLines += 1
                    }
                    pending.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
        }

        while true {
            let count = raw.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytesRead += Int64(count)
            if first {
                first = false
                if count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B {
                    isCompressed = true
                    inflater = lwd_gunzip_create()
                    guard inflater != nil else { throw ReadError(description: "out of memory for gzip") }
                }
            }
            if let inflater {
                var offset = 0
                while offset < count {
                    var used = 0
                    let produced = raw.withUnsafeBytes { input in
                        inflated.withUnsafeMutableBytes { output in
                            lwd_gunzip_inflate(
                                inflater, input.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, count - offset,
                                &used, output.baseAddress!.assumingMemoryBound(to: UInt8.self), output.count)
                        }
                    }
                    if produced < 0 { throw ReadError(description: "corrupt gzip data after \(bytesRead) bytes") }
                    offset += used
                    inflated.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                    if used == 0 && produced == 0 { break }
                }
            } else {
                raw.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            progress(self)
        }
        if let inflater {
            // Drain what zlib still holds.
            while true {
                var used = 0
                let produced = inflated.withUnsafeMutableBytes { output in
                    lwd_gunzip_inflate(inflater, nil, 0, &used, output.baseAddress!.assumingMemoryBound(to: UInt8.self), output.count)
                }
                guard produced > 0 else { break }
                inflated.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            isTruncatedGzip = lwd_gunzip_at_member_end(inflater) == 0
        }
        if !pending.isEmpty && !skippingOverlong {
            pending.withUnsafeBytes { line($0) }
        }
    }
}
