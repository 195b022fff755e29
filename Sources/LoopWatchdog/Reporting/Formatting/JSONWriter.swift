/// A minimal writer of compact JSON text: values are appended in order, commas and
/// colons are inserted as needed, and the output never contains a raw newline.
///
/// Strings are escaped per RFC 8259 (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other
/// U+0000–U+001F as `\u00XX`); DEL, the C1 controls and U+2028/U+2029 are also written as
/// `\u` escapes so the line is safe to view and to embed in JavaScript. Other non-ASCII
/// text is written as UTF-8. Non-finite numbers are written as `null`.
package struct JSONWriter {
    /// The JSON text written so far.
    package private(set) var output = ""
    /// One entry per open object or array: true until its first member is written.
    private var containerIsEmpty: [Bool] = []
    /// True between a key and its value.
    private var expectingValue = false

    /// Creates an empty writer.
    package init() {}

    /// Opens an object (`{`).
    package mutating func beginObject() {
        prepareForValue()
        output += "{"
        containerIsEmpty.append(true)
    }

    /// Closes the innermost object (`}`).
    package mutating func endObject() {
        containerIsEmpty.removeLast()
        output += "}"
    }

    /// Opens an array (`[`).
    package mutating func beginArray() {
        prepareForValue()
        output += "["
        containerIsEmpty.append(true)
    }

    /// Closes the innermost array (`]`).
    package mutating func endArray() {
        containerIsEmpty.removeLast()
        output += "]"
    }

    /// Writes an object member's key; the next value written is its value.
    package mutating func key(_ name: String) {
        prepareForValue()
        Self.appendQuoted(name, to: &output)
        output += ":"
        expectingValue = true
    }

    /// Writes a string value.
    package mutating func string(_ value: String) {
        prepareForValue()
        Self.appendQuoted(value, to: &output)
    }

    /// Writes a string value, or `null` when `value` is nil.
    package mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes an integer without a decimal point.
    package mutating func integer<T: BinaryInteger>(_ value: T) {
        prepareForValue()
        output += String(value)
    }

    /// Writes an integer, or `null` when `value` is nil.
    package mutating func integer<T: BinaryInteger>(_ value: T?) {
        if let value { integer(value) } else { null() }
    }

    /// Writes a number with at most `maxFractionDigits` decimals, trailing zeros dropped
    /// and no exponent (`100`, `100.5`, `351.123`); `null` when not finite.
    package mutating func number(_ value: Double, maxFractionDigits: Int = 3) {
        prepareForValue()
        output += DecimalText.trimmed(value, maxFractionDigits: maxFractionDigits) ?? "null"
    }

    /// Writes a number with exactly `fractionDigits` decimals and no exponent
    /// (`1764196201.123`); `null` when not finite.
    package mutating func fixedNumber(_ value: Double, fractionDigits: Int = 3) {
        prepareForValue()
        output += DecimalText.fixed(value, fractionDigits: fractionDigits) ?? "null"
    }

    /// Writes `true` or `false`.
    package mutating func bool(_ value: Bool) {
        prepareForValue()
        output += value ? "true" : "false"
    }

    /// Writes `null`.
    package mutating func null() {
        prepareForValue()
        output += "null"
    }

    /// Writes the comma that separates this value from the previous member, if any.
    private mutating func prepareForValue() {
        if expectingValue {
            expectingValue = false
            return
        }
        guard let last = containerIsEmpty.indices.last else { return }
        if !containerIsEmpty[last] { output += "," }
        containerIsEmpty[last] = false
    }

    /// Appends `value` as a quoted, escaped JSON string.
    package static func appendQuoted(_ value: String, to output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x22: output += "\\\""
            case 0x5C: output += "\\\\"
            case 0x0A: output += "\\n"
            case 0x0D: output += "\\r"
            case 0x09: output += "\\t"
            case 0x08: output += "\\b"
            case 0x0C: output += "\\f"
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16)
                output += "\\u"
                output += String(repeating: "0", count: 4 - hex.count)
                output += hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
