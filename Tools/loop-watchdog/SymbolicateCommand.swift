import ArgumentParser
import Foundation
import Glibc
import LoopWatchdog
import LoopWatchdogReport

/// `loop-watchdog symbolicate`: resolves the frames of JSON-lines reports against binaries.
struct SymbolicateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbolicate",
        abstract: "Fill in function names and file:line of JSON-lines stall reports from the binaries they came from.",
        discussion: """
            Reads JSON lines as LoopWatchdog writes them (LOOP_WATCHDOG_FORMAT=json, plain or gzip) from the \
            files given, or standard input, and writes them to standard output with every frame \
            that lies in one of the binaries (same build ID, or the same file name when either \
            has none) resolved from that binary's symbol table and DWARF line table. Lines that \
            are not stall events are copied unchanged. Frames resolved are counted on standard \
            error.
            """
    )

    @Option(name: .customLong("binary"), help: "An executable or shared library the reports came from (repeatable).")
    var binaries: [String] = []

    @Argument(help: "JSON-lines files (standard input when none).")
    var files: [String] = []

    func run() throws {
        let symbolicators = try binaries.map { path in
            guard let symbolicator = OfflineSymbolicator(binary: path) else {
                throw ValidationError("\(path) is not a readable 64-bit ELF file")
            }
            return symbolicator
        }
        guard !symbolicators.isEmpty else { throw ValidationError("name at least one --binary") }
        var resolved = 0
        for path in files.isEmpty ? ["-"] : files {
            let descriptor = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ValidationError("cannot open \(path)") }
            defer { if descriptor != 0 { close(descriptor) } }
            var reader = LineReader(descriptor: descriptor)
            try reader.forEachLine { bytes in
                print(ReportLine.resolving(String(decoding: bytes, as: UTF8.self), with: symbolicators, resolved: &resolved))
            }
        }
        FileHandle.standardError.write(Data("loop-watchdog symbolicate: \(resolved) frames resolved\n".utf8))
    }
}

/// One line of a JSON-lines report, its frames resolved.
enum ReportLine {
    /// `line` with the frames that lie in one of `symbolicators` resolved (and counted in
    /// `resolved`); any other line unchanged.
    static func resolving(_ line: String, with symbolicators: [OfflineSymbolicator], resolved: inout Int) -> String {
        guard line.hasPrefix("{"), var object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
            object["event"] is String
        else { return line }
        var changed = 0
        if let frames = object["frames"] as? [[String: Any]] {
            object["frames"] = frames.map { resolve($0, symbolicators, &changed) }
        }
        if let threads = object["threads"] as? [[String: Any]] {
            object["threads"] = threads.map { thread in
                var thread = thread
                if let frames = thread["frames"] as? [[String: Any]] {
                    thread["frames"] = frames.map { resolve($0, symbolicators, &changed) }
                }
                return thread
            }
        }
        guard changed > 0,
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return line }
        resolved += changed
        return String(decoding: data, as: UTF8.self)
    }

    private static func resolve(_ frame: [String: Any], _ symbolicators: [OfflineSymbolicator], _ changed: inout Int) -> [String: Any] {
        guard frame["file"] is NSNull || frame["symbol"] is NSNull || frame["file"] == nil,
            let offsetText = frame["image_offset"] as? String, offsetText.hasPrefix("0x"),
            let offset = UInt(offsetText.dropFirst(2), radix: 16)
        else { return frame }
        var stackFrame = StackFrame(
            index: frame["index"] as? Int ?? 0, address: 0, image: frame["image"] as? String,
            imageOffset: offset, buildID: frame["build_id"] as? String)
        guard let symbolicator = symbolicators.first(where: { $0.holds(stackFrame) }),
            symbolicator.resolve(&stackFrame)
        else { return frame }
        var result = frame
        if let symbol = stackFrame.symbol { result["symbol"] = symbol }
        if let file = stackFrame.file, let line = stackFrame.line {
            result["file"] = file
            result["line"] = line
        }
        changed += 1
        return result
    }
}
