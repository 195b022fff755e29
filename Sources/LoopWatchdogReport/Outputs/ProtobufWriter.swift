/// The protocol-buffer wire format, as much as a pprof profile needs: varints and
/// length-delimited fields (strings, nested messages, packed repeated integers).
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func tag(_ field: Int, wireType: UInt64) {
        varint(UInt64(field) << 3 | wireType)
    }

    /// A varint field (int64, uint64, bool); zero is written too, which proto3 readers
    /// accept like an absent field.
    mutating func integer(_ field: Int, _ value: Int64) {
        tag(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A varint field from an unsigned value.
    mutating func unsigned(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        varint(value)
    }

    /// A length-delimited field holding `payload`.
    mutating func bytes(_ field: Int, _ payload: [UInt8]) {
        tag(field, wireType: 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    /// A string field (UTF-8).
    mutating func string(_ field: Int, _ text: String) {
        bytes(field, Array(text.utf8))
    }

    /// A nested message field built by `body`.
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        bytes(field, nested.bytes)
    }

    /// A packed repeated varint field.
    mutating func packed(_ field: Int, _ values: [UInt64]) {
        var nested = ProtobufWriter()
        for value in values { nested.varint(value) }
        bytes(field, nested.bytes)
    }
}
