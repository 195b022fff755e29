import Glibc
import LoopWatchdog

/// What one line of a stall log says, as `parse(_:)` reads it.
public enum StallLogLine: Sendable, Equatable {
    /// A `stall.began`, `stall.continuing` or `stall.ended` event, with the Unix time of
    /// the line and the name of its cause's verdict (`sleeping`, `computing`, ...) where the
    /// line has one. Frames and threads are read; an ended event's samples are not.
    case event(StallEvent, time: Double, cause: String?)
    /// A `stall.repeats` line: stalls of a site that the log counted instead of showing.
    case repeats(StallSiteRepeatsLine)
    /// A JSON object that is no stall event (`stall.summary`, another program's JSON log).
    case otherJSON
    /// Not a JSON object: another log line.
    case foreign
    /// A line that starts like a stall event but cannot be read: torn, truncated or corrupt.
    case malformed

    /// Reads one line (without its newline).
    public static func parse(_ line: UnsafeRawBufferPointer) -> StallLogLine {
        StallLogLineParser.parse(line)
    }

    /// Reads one line (without its newline).
    public static func parse(_ line: String) -> StallLogLine {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }
}

/// A `stall.repeats` line: `stalls` more stalls of `site` on `loop`, `blocked` in all.
public struct StallSiteRepeatsLine: Sendable, Hashable {
    /// The stall site (innermost application frames, `a <- b <- c`).
    public var site: String
    /// The loop of the site.
    public var loop: String
    /// How many stalls the line counts.
    public var stalls: Int
    /// Their blocked time in all.
    public var blocked: Duration
    /// The longest of them.
    public var longest: Duration
    /// The Unix time of the line.
    public var time: Double

    /// Creates a repeats line.
    public init(site: String, loop: String, stalls: Int, blocked: Duration, longest: Duration, time: Double) {
        self.site = site
        self.loop = loop
        self.stalls = stalls
        self.blocked = blocked
        self.longest = longest
        self.time = time
    }
}

/// The byte-level reader behind `StallLogLine.parse(_:)`.
enum StallLogLineParser {
    /// `"event":"stall.` : a line without it is no stall event, whatever else it is.
    private static let eventMarker: [UInt8] = Array(#""event":"stall."#.utf8)

    static func parse(_ line: UnsafeRawBufferPointer) -> StallLogLine {
        var start = 0
        while start < line.count, line[start] == 0x20 || line[start] == 0x09 || line[start] == 0x0D { start += 1 }
        guard start < line.count, line[start] == UInt8(ascii: "{") else { return .foreign }
        let text = UnsafeRawBufferPointer(rebasing: line[start...])
        guard contains(text, eventMarker) else { return .otherJSON }
        return parseObject(text) ?? .malformed
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let base = haystack.baseAddress, let first = needle.first else { return false }
        // memchr for the first byte, memcmp for the rest (glibc's memmem is not exported to Swift).
        return needle.withUnsafeBytes { needleBytes in
            var start = 0
            let last = haystack.count - needle.count
            while start <= last {
                guard let found = memchr(base + start, Int32(first), last - start + 1) else { return false }
                let offset = UnsafeRawPointer(found) - base
                if memcmp(base + offset, needleBytes.baseAddress!, needle.count) == 0 { return true }
                start = offset + 1
            }
            return false
        }
    }

    /// The fields of any stall line; which of them count depends on `event`.
    private struct Fields {
        var time: Double?
        var event: String?
        var stallID: UInt64?
        var loop: String?
        var threadID: Int32?
        var thresholdMilliseconds: Double?
        var blockedMilliseconds: Double?
        var capture: String?
        var frames: [StackFrame] = []
        var threads: [ThreadStack] = []
        var hasThreads = false
        var verdict: String?
        var site: String?
        var stalls: Int?
        var longestMilliseconds: Double?
    }

    private static func parseObject(_ text: UnsafeRawBufferPointer) -> StallLogLine? {
        var scanner = JSONLineScanner(text)
        var fields = Fields()
        let read = scanner.readObject { scanner, key in
            if JSONLineScanner.key(key, is: "time") {
                fields.time = scanner.readDouble()
                return fields.time != nil
            } else if JSONLineScanner.key(key, is: "event") {
                fields.event = scanner.readString()
                return fields.event != nil
            } else if JSONLineScanner.key(key, is: "stall_id") {
                guard let value = scanner.readInteger(), value >= 0 else { return false }
                fields.stallID = UInt64(value)
            } else if JSONLineScanner.key(key, is: "loop") {
                fields.loop = scanner.readString()
                return fields.loop != nil
            } else if JSONLineScanner.key(key, is: "tid") {
                guard let value = scanner.readInteger(), let tid = Int32(exactly: value) else { return false }
                fields.threadID = tid
            } else if JSONLineScanner.key(key, is: "threshold_ms") {
                fields.thresholdMilliseconds = scanner.readDouble()
                return fields.thresholdMilliseconds != nil
            } else if JSONLineScanner.key(key, is: "blocked_ms") {
                fields.blockedMilliseconds = scanner.readDouble()
                return fields.blockedMilliseconds != nil
            } else if JSONLineScanner.key(key, is: "capture") {
                fields.capture = scanner.readString()
                return fields.capture != nil
            } else if JSONLineScanner.key(key, is: "frames") {
                guard let frames = readFrames(&scanner) else { return false }
                fields.frames = frames
            } else if JSONLineScanner.key(key, is: "threads") {
                fields.hasThreads = true
                return scanner.readArray { scanner in
                    guard let thread = readThread(&scanner) else { return false }
                    fields.threads.append(thread)
                    return true
                }
            } else if JSONLineScanner.key(key, is: "cause") {
                return scanner.readObject { scanner, key in
                    guard JSONLineScanner.key(key, is: "verdict") else { return scanner.skipValue() }
                    fields.verdict = scanner.readString()
                    return fields.verdict != nil
                }
            } else if JSONLineScanner.key(key, is: "site") {
                fields.site = scanner.readString()
                return fields.site != nil
            } else if JSONLineScanner.key(key, is: "stalls") {
                guard let value = scanner.readInteger(), let stalls = Int(exactly: value), stalls >= 0 else { return false }
                fields.stalls = stalls
            } else if JSONLineScanner.key(key, is: "longest_ms") {
                fields.longestMilliseconds = scanner.readDouble()
                return fields.longestMilliseconds != nil
            } else {
                return scanner.skipValue()
            }
            return true
        }
        guard read, scanner.isAtEndOfText(), let event = fields.event else { return nil }
        let known = ["stall.repeats", "stall.began", "stall.continuing", "stall.ended"]
        guard known.contains(event) else { return .otherJSON }  // stall.summary, or a kind this reader does not know
        guard let time = fields.time, let loop = fields.loop else { return nil }
        switch event {
        case "stall.repeats":
            guard let site = fields.site, let stalls = fields.stalls, let blocked = fields.blockedMilliseconds else { return nil }
            return .repeats(
                StallSiteRepeatsLine(
                    site: site, loop: loop, stalls: stalls, blocked: .milliseconds(blocked),
                    longest: .milliseconds(fields.longestMilliseconds ?? 0), time: time))
        case "stall.began", "stall.continuing", "stall.ended":
            guard let stallID = fields.stallID, let blocked = fields.blockedMilliseconds else { return nil }
            let kind: StallEvent.Kind = event == "stall.began" ? .began : event == "stall.ended" ? .ended : .continuing
            let stall = StallEvent(
                kind: kind, stallID: stallID, loopName: loop, threadID: fields.threadID ?? 0,
                threshold: .milliseconds(fields.thresholdMilliseconds ?? 0), blocked: .milliseconds(blocked),
                capture: .none, frames: fields.frames, threads: fields.threads, isPool: fields.hasThreads || fields.threadID == nil)
            return .event(stall, time: time, cause: fields.verdict)
        default:
            return .otherJSON
        }
    }

    private static func readFrames(_ scanner: inout JSONLineScanner) -> [StackFrame]? {
        var frames: [StackFrame] = []
        let read = scanner.readArray { scanner in
            guard let frame = readFrame(&scanner) else { return false }
            frames.append(frame)
            return true
        }
        return read ? frames : nil
    }

    private static func readThread(_ scanner: inout JSONLineScanner) -> ThreadStack? {
        var threadID: Int32 = 0
        var name = ""
        var frames: [StackFrame] = []
        let read = scanner.readObject { scanner, key in
            if JSONLineScanner.key(key, is: "tid") {
                guard let value = scanner.readInteger(), let tid = Int32(exactly: value) else { return false }
                threadID = tid
                return true
            } else if JSONLineScanner.key(key, is: "name") {
                guard let text = scanner.readOptionalString() else { return false }
                name = text ?? ""
                return true
            } else if JSONLineScanner.key(key, is: "frames") {
                guard let read = readFrames(&scanner) else { return false }
                frames = read
                return true
            }
            return scanner.skipValue()
        }
        guard read else { return nil }
        return ThreadStack(threadID: threadID, name: name, capture: .none, frames: frames)
    }

    private static func readFrame(_ scanner: inout JSONLineScanner) -> StackFrame? {
        var index = 0
        var address: UInt = 0
        var symbol: String?
        var image: String?
        var imageOffset: UInt?
        var file: String?
        var line: Int?
        var inlined = false
        var isAsync = false
        let read = scanner.readObject { scanner, key in
            if JSONLineScanner.key(key, is: "index") {
                guard let value = scanner.readInteger(), let whole = Int(exactly: value) else { return false }
                index = whole
            } else if JSONLineScanner.key(key, is: "address") {
                guard let text = scanner.readOptionalString() else { return false }
                address = text.flatMap(hexadecimal) ?? 0
            } else if JSONLineScanner.key(key, is: "symbol") {
                guard let text = scanner.readOptionalString() else { return false }
                symbol = text
            } else if JSONLineScanner.key(key, is: "image") {
                guard let text = scanner.readOptionalString() else { return false }
                image = text
            } else if JSONLineScanner.key(key, is: "image_offset") {
                guard let text = scanner.readOptionalString() else { return false }
                imageOffset = text.flatMap(hexadecimal)
            } else if JSONLineScanner.key(key, is: "file") {
                guard let text = scanner.readOptionalString() else { return false }
                file = text
            } else if JSONLineScanner.key(key, is: "line") {
                if scanner.consumeNull() { return true }
                guard let value = scanner.readInteger(), let whole = Int(exactly: value) else { return false }
                line = whole
            } else if JSONLineScanner.key(key, is: "inlined") {
                guard let value = scanner.readBool() else { return false }
                inlined = value
            } else if JSONLineScanner.key(key, is: "async") {
                guard let value = scanner.readBool() else { return false }
                isAsync = value
            } else {
                return scanner.skipValue()
            }
            return true
        }
        guard read else { return nil }
        return StackFrame(
            index: index, address: address, symbol: symbol, image: image, file: file, line: line, inlined: inlined,
            imageOffset: imageOffset, isAsync: isAsync)
    }

    /// `0x…` as a number.
    private static func hexadecimal(_ text: String) -> UInt? {
        guard text.hasPrefix("0x") else { return nil }
        return UInt(text.dropFirst(2), radix: 16)
    }
}
