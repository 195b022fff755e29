import CLoopWatchdog

/// A loaded object (the executable or a shared library) as the dynamic linker has it.
struct LoadedImage: Hashable {
    /// The path of its file (the executable's through /proc/self/exe).
    var path: String
    /// Runtime address minus link-time address.
    var bias: UInt
    /// The build ID of the loaded copy, read from memory; empty when it has none.
    var buildID: [UInt8]
    /// The range its segments span.
    var range: Range<UInt>

    /// What holds `address`: `.image`, nothing (generated code), or the vDSO, which has no
    /// file to read.
    enum Lookup {
        case image(LoadedImage)
        case none
        case virtualDynamicObject
    }

    /// The loaded object whose segments hold `address`.
    static func containing(_ address: UInt) -> Lookup {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { path in
            var bias: UInt = 0
            var start: UInt = 0
            var end: UInt = 0
            var buildID = [UInt8](repeating: 0, count: Int(LWD_BUILD_ID_MAX))
            var buildIDLength = 0
            let found = lwd_loaded_image(
                address, path.baseAddress, path.count, &bias, &buildID, &buildIDLength, &start, &end)
            switch found {
            case 1:
                return .image(
                    LoadedImage(
                        path: String(cString: path.baseAddress!), bias: bias,
                        buildID: Array(buildID.prefix(buildIDLength)), range: start..<max(start, end)))
            case -1:
                return .virtualDynamicObject
            default:
                return .none
            }
        }
    }

    /// The image's file name, without its directory.
    var fileName: String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// The build ID in lowercase hex; nil when the image has none.
    var buildIDText: String? {
        buildID.isEmpty ? nil : buildID.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// A frame for `address` with what the loaded images say of it: the image's file name,
    /// the offset in it and its build ID (the vDSO and generated code get none).
    static func frame(index: Int, address: UInt) -> StackFrame {
        let untagged = AsyncFrameAddress.untagged(address)
        var frame = StackFrame(
            index: index, address: untagged,
            isAsync: AsyncFrameAddress.isAsync(address) || AsyncFrameAddress.isRunningAsync(address))
        if case .image(let image) = containing(untagged) { image.describe(&frame) }
        return frame
    }

    /// Sets `frame`'s image name, offset and build ID from this image.
    func describe(_ frame: inout StackFrame) {
        frame.image = fileName
        frame.imageOffset = frame.address &- bias
        frame.buildID = buildIDText
    }
}
