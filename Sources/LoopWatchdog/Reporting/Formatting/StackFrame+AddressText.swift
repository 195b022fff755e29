extension StackFrame {
    /// The address as `0x` and zero-padded lowercase hex, e.g. `0x000055d5c3a1b2c3`.
    var addressText: String {
        let hex = String(address, radix: 16)
        let width = UInt.bitWidth / 4
        return "0x" + String(repeating: "0", count: max(0, width - hex.count)) + hex
    }
}
