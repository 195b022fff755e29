/// A forward-only reader of one JSON text in a byte buffer, for the few shapes a stall log
/// line has. It decodes only what it is asked for and skips every other value without
/// allocating; any malformed input makes the current call fail (return nil or false), and the
/// caller drops the line. Not a general JSON parser: numbers are read as `Double` or `Int64`,
/// and nesting is limited (``maximumDepth``).
struct JSONLineScanner {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    /// Deeper nesting than this is taken as malformed (a log line is never that deep).
    static let maximumDepth = 32

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.position = 0
    }

    private var atEnd: Bool { position >= bytes.count }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after white space) if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    /// Whether the next value (after white space) is `null`; consumes it if so.
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        guard position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "n"), bytes[position + 1] == UInt8(ascii: "u"),
              bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    /// Reads the members of an object one key at a time: call with the scanner before `{`;
    /// `body` is called with each key (raw bytes, escapes not decoded: the log's keys have
    /// none) positioned at its value, and must consume that value (or return false).
    mutating func readObject(_ body: (inout JSONLineScanner, UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\""), let key = rawStringBytes() else { return false }
            guard consume(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard body(&self, key) else { return false }
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "}"))
        }
    }

    /// Reads an array: `element` is called positioned at each element and must consume it.
    mutating func readArray(_ element: (inout JSONLineScanner) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        while true {
            skipWhitespace()
            guard element(&self) else { return false }
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "]"))
        }
    }

    /// The bytes of a string without its quotes, escapes left as they are; the scanner
    /// moves past the closing quote.
    private mutating func rawStringBytes() -> UnsafeRawBufferPointer? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                position = index + 1
                return UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            }
            if byte == UInt8(ascii: "\\") { index += 2 } else { index += 1 }
        }
        return nil
    }

    /// A string value, escapes decoded; nil for `null` (consumed) or malformed input.
    mutating func readString() -> String? {
        skipWhitespace()
        guard let raw = rawStringBytes() else { return nil }
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        return Self.unescape(raw)
    }

    /// A string value or `null`: `.some(nil)` for null, nil when malformed.
    mutating func readOptionalString() -> String?? {
        if consumeNull() { return .some(nil) }
        guard let text = readString() else { return nil }
        return .some(text)
    }

    /// A number value as `Double`.
    mutating func readDouble() -> Double? {
        skipWhitespace()
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                 UInt8(ascii: "e"), UInt8(ascii: "E"):
                position += 1
            default:
                return Self.parseDouble(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            }
        }
        return Self.parseDouble(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
    }

    /// A number value that must be a whole number.
    mutating func readInteger() -> Int64? {
        skipWhitespace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { return nil }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            return nil
        }
        return negative ? -value : value
    }

    /// `true` or `false`.
    mutating func readBool() -> Bool? {
        skipWhitespace()
        if position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "t"), bytes[position + 1] == UInt8(ascii: "r"),
           bytes[position + 2] == UInt8(ascii: "u"), bytes[position + 3] == UInt8(ascii: "e")
        {
            position += 4
            return true
        }
        if position + 5 <= bytes.count, bytes[position] == UInt8(ascii: "f"), bytes[position + 1] == UInt8(ascii: "a"),
           bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "s"),
           bytes[position + 4] == UInt8(ascii: "e")
        {
            position += 5
            return false
        }
        return nil
    }

    /// Skips one value of any kind.
    mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < Self.maximumDepth else { return false }
        skipWhitespace()
        guard let byte = peek() else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            return rawStringBytes() != nil
        case UInt8(ascii: "{"):
            return readObject { scanner, _ in scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            return readArray { $0.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return readBool() != nil
        case UInt8(ascii: "n"):
            return consumeNull()
        default:
            return readDouble() != nil
        }
    }

    /// Whether only white space is left.
    mutating func isAtEndOfText() -> Bool {
        skipWhitespace()
        return atEnd
    }

    /// Whether the raw key `key` is `name` (an ASCII literal).
    static func key(_ key: UnsafeRawBufferPointer, is name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        let literal = name.utf8Start
        for index in 0..<key.count where key[index] != literal[index] { return false }
        return true
    }

    private static func parseDouble(_ text: UnsafeRawBufferPointer) -> Double? {
        guard !text.isEmpty, text.count < 64 else { return nil }
        // Fast path: digits with an optional sign and fraction, as the log writes them.
        var index = 0
        var negative = false
        if text[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var seenPoint = false
        var simple = true
        while index < text.count {
            let byte = text[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if digits < 18 {
                    mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                    digits += 1
                    if seenPoint { fractionDigits += 1 }
                } else if !seenPoint {
                    simple = false
                    break
                }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                simple = false
                break
            }
            index += 1
        }
        if simple && digits > 0 {
            let value = Double(mantissa) / powersOfTen[fractionDigits]
            return negative ? -value : value
        }
        return Double(String(decoding: text, as: UTF8.self))
    }

    private static let powersOfTen: [Double] = (0...18).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Decodes the escapes of a JSON string's bytes; nil when one is malformed.
    static func unescape(_ raw: UnsafeRawBufferPointer) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = raw[at + offset]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < raw.count else { return nil }
            let escaped = raw[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hex4(index) else { return nil }
                index += 4
                if code >= 0xD800 && code < 0xDC00 {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u"),
                          let low = hex4(index + 2), low >= 0xDC00, low < 0xE000
                    else { return nil }
                    index += 6
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if code >= 0xDC00 && code < 0xE000 {
                    return nil
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                return nil
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
