@_spi(Benchmarking) import LoopWatchdog

/// The symbolicators compared by the symbolication benchmark, each run in a process of its
/// own so that its memory is measured alone.
public enum SymbolicationCandidate: String, CaseIterable, Sendable {
    /// LoopWatchdog's own ELF symbol-table and DWARF line-table reader (what reports use).
    case lean
    /// The toolchain's Runtime module, which LoopWatchdog used before its own reader.
    case runtime
    /// elfutils' libdwfl.
    case libdw

    /// A fresh instance, as a function from captured addresses to frames.
    public func make() -> ([UInt]) -> [StackFrame] {
        switch self {
        case .lean:
            let symbolicator = _WatchdogBenchmarkHooks.Symbolicator()
            return { symbolicator.symbolicate($0) }
        case .runtime:
            let symbolicator = RuntimeModuleSymbolicator()
            return { symbolicator.symbolicate($0, firstIsProgramCounter: true) }
        case .libdw:
            let symbolicator = LibdwSymbolicator()
            return { symbolicator.symbolicate($0) }
        }
    }
}

/// The candidate named `name`, or an error that lists the names.
public func symbolicationCandidate(_ name: String) throws -> SymbolicationCandidate {
    guard let candidate = SymbolicationCandidate(rawValue: name) else {
        throw UnknownCandidate(name: name)
    }
    return candidate
}

/// A `--candidate` value that names no candidate.
public struct UnknownCandidate: Error, CustomStringConvertible {
    public var name: String
    public var description: String {
        "unknown candidate '\(name)': one of \(SymbolicationCandidate.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}
