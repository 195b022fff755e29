/// One symbolicated frame of a captured stack.
public struct StackFrame: Sendable, Hashable {
    /// Position in the stack, 0 for the innermost frame. Inlined frames share the index of
    /// the physical frame they were inlined into.
    public var index: Int
    /// The program counter (frame 0) or return address of the frame.
    public var address: UInt
    /// The demangled function name, when known.
    public var symbol: String?
    /// The name of the binary or shared library holding the address, when known.
    public var image: String?
    /// The source file, when line tables are available.
    public var file: String?
    /// The source line, when line tables are available.
    public var line: Int?
    /// True for a frame that was inlined into the frame that follows it.
    public var inlined: Bool
    /// ``address`` minus its image's load bias: the address in the image's file, the same in
    /// every process. With ``buildID``, what resolves the frame offline
    /// (`loop-watchdog symbolicate`, `addr2line -e IMAGE`).
    public var imageOffset: UInt?
    /// The GNU build ID of the loaded image, in lowercase hex, when it has one.
    public var buildID: String?
    /// True for the frames of an async call chain: the async function that a job runs (a
    /// frame of the thread's stack, the first of the run) and, after it, its awaiting
    /// callers. A caller is not on the thread's stack: it is a function of the same task
    /// waiting, at an `await`, for the frame before it to return; its ``address`` is the
    /// start of the code that runs when it does (looked up as it is, not one byte back), its
    /// ``file`` and ``line`` the `await`'s.
    public var isAsync: Bool

    /// Creates a frame.
    public init(
        index: Int,
        address: UInt,
        symbol: String? = nil,
        image: String? = nil,
        file: String? = nil,
        line: Int? = nil,
        inlined: Bool = false,
        imageOffset: UInt? = nil,
        buildID: String? = nil,
        isAsync: Bool = false
    ) {
        self.index = index
        self.address = address
        self.symbol = symbol
        self.image = image
        self.file = file
        self.line = line
        self.inlined = inlined
        self.imageOffset = imageOffset
        self.buildID = buildID
        self.isAsync = isAsync
    }
}
