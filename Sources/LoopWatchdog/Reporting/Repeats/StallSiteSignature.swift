/// Where a stall blocked, as a short text that names the place in the application's code:
/// the three innermost frames outside the system's and the Swift runtime's libraries
/// (libc's `nanosleep`, libdispatch's worker loop and the like say nothing about which
/// code blocked) and outside LoopWatchdog's own C functions, each by its function name, or image and offset when unnamed. Two stalls
/// with the same signature are two stalls of one site.
package enum StallSiteSignature {
    /// How many frames of the application make a signature.
    static let frameCount = 3

    /// The signature of a stall whose stack is `frames` (innermost first). Falls back to the
    /// innermost frames of any image when none is the application's; "unknown" without frames.
    package static func of(_ frames: [StackFrame]) -> String {
        let physical = frames.filter { !$0.inlined }
        let application = physical.filter { !isSystemImage($0.image) && !isWatchdogFrame($0.symbol) }
        let chosen = (application.isEmpty ? physical : application).prefix(frameCount)
        guard !chosen.isEmpty else { return "unknown" }
        return chosen.map(name).joined(separator: " <- ")
    }

    /// A frame's name in a signature.
    private static func name(_ frame: StackFrame) -> String {
        if let symbol = frame.symbol { return symbol }
        let image = frame.image ?? "?"
        if let offset = frame.imageOffset { return "\(image)+0x\(String(offset, radix: 16))" }
        return image
    }

    /// Libraries that are never the code a user would change: the C library and loader,
    /// the Swift runtime and its Concurrency, Dispatch and Foundation libraries, the C++
    /// runtime, libunwind and the vDSO.
    private static let systemPrefixes = [
        "libc.so", "libc-", "libm.so", "libpthread", "librt.so", "libdl.so", "ld-linux", "linux-vdso",
        "libswiftCore", "libswift_", "libswiftDispatch", "libswiftGlibc", "libswiftSynchronization",
        "libdispatch", "libBlocksRuntime", "libFoundation", "lib_FoundationICU", "libstdc++", "libgcc_s",
        "libunwind",
    ]

    /// LoopWatchdog's own frames, linked into the application's image: the job watch runs
    /// every Concurrency job under `run_watched_job`, which says nothing about the code.
    static func isWatchdogFrame(_ symbol: String?) -> Bool {
        guard let symbol else { return false }
        return symbol == "run_watched_job" || symbol.hasPrefix("lwd_")
    }

    static func isSystemImage(_ image: String?) -> Bool {
        guard let image else { return false }
        return systemPrefixes.contains { image.hasPrefix($0) }
    }
}
