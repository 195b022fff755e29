/// Where stall events are written.
enum OutputDestination: Sendable, Hashable, CustomStringConvertible {
    case standardError
    case standardOutput
    /// A file, appended to.
    case file(String)

    /// `standard error`, `standard output` or the file path, for messages.
    var description: String {
        switch self {
        case .standardError: "standard error"
        case .standardOutput: "standard output"
        case .file(let path): path
        }
    }
}
