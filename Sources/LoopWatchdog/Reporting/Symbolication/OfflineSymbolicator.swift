/// Resolves the frames of a written report against a binary, after the fact.
///
/// A report carries, for every frame, its image's file name, the offset in that image and
/// the image's build ID (``StackFrame/imageOffset``, ``StackFrame/buildID``). Reports written
/// with addresses only (a host shutting down with reports still queued, a memory limit that
/// left no room for symbolication) are resolved later with this type, on any machine that has
/// the same binary: `loop-watchdog symbolicate --binary PATH < events.jsonl` does it for JSON
/// lines. It reads the file's symbol table and DWARF line table as the reporter does.
///
/// Not thread-safe: one instance per thread.
public final class OfflineSymbolicator {
    private let image: ELFImage
    /// The binary's file name, without its directory: how frames name their image.
    public let fileName: String
    /// The binary's GNU build ID in lowercase hex, when it has one.
    public let buildID: String?

    /// Opens the ELF file at `path`; nil when it is not a readable 64-bit ELF file.
    public init?(binary path: String) {
        guard let image = ELFImage(path: path) else { return nil }
        self.image = image
        fileName = String(path.split(separator: "/").last ?? Substring(path))
        let bytes = image.buildID
        buildID = bytes.isEmpty ? nil : bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// True when `frame` lies in this binary: the same build ID when both have one, else
    /// the same file name.
    public func holds(_ frame: StackFrame) -> Bool {
        guard frame.imageOffset != nil else { return false }
        if let buildID, let frameBuildID = frame.buildID { return buildID == frameBuildID }
        return frame.image == fileName
    }

    /// Fills in `frame`'s symbol, file and line from this binary when the frame lies in it;
    /// returns true when anything was found. Frame 0 is taken for a program counter, an
    /// awaiting caller (``StackFrame/isAsync`` at the start of a function) for a resume
    /// address, every other frame for a return address (looked up one byte back), as the
    /// reporter does.
    @discardableResult
    public func resolve(_ frame: inout StackFrame) -> Bool {
        guard holds(frame), let offset = frame.imageOffset else { return false }
        var address = UInt64(frame.index == 0 ? offset : offset &- 1)
        // An awaiting caller's address is the start of its resume part; the async function
        // the job runs (also `isAsync`) has a return address like any frame.
        if frame.isAsync, frame.index != 0, image.function(at: UInt64(offset))?.start == UInt64(offset) {
            address = UInt64(offset)
        }
        var found = false
        if let name = image.functionName(at: address) {
            frame.symbol = Symbolicator.namingEmptyContext(name)
            found = true
        }
        if let location = image.sourceLocation(at: address) {
            frame.file = location.file
            frame.line = location.line
            found = true
        }
        return found
    }
}
