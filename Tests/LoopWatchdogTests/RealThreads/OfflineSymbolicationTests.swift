import Foundation
import Glibc
import Testing

@testable import LoopWatchdog

/// Reports resolved after the fact from their frames' image offsets and build IDs.
struct OfflineSymbolicationTests {
    /// Frames symbolicated in process, stripped to what an addresses-only report keeps, then
    /// resolved against the binary file: the same names and file:line.
    @Test func offsetsAndBuildIDsResolveToTheSameFramesAsInProcess() throws {
        let capture = try captureWhileBlocked { _ in sleepInUsleep(milliseconds: 300) }
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let symbolicator = try #require(OfflineSymbolicator(binary: binary))
        let ours = capture.frames.filter { $0.image == symbolicator.fileName }
        try #require(ours.count >= 2, "\(capture.frames)")
        #expect(ours.allSatisfy { $0.buildID == symbolicator.buildID && $0.imageOffset != nil })
        for frame in ours {
            var stripped = StackFrame(
                index: frame.index, address: 0, image: frame.image, imageOffset: frame.imageOffset, buildID: frame.buildID)
            #expect(symbolicator.resolve(&stripped))
            #expect(stripped.symbol == frame.symbol && stripped.file == frame.file && stripped.line == frame.line, "\(stripped) vs \(frame)")
        }
        #expect(ours.contains { $0.symbol?.contains("sleepInUsleep") == true })
    }

    /// A frame of another build of the binary (another build ID) is left alone, even with
    /// the same file name.
    @Test func aFrameOfAnotherBuildIsNotResolved() throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let symbolicator = try #require(OfflineSymbolicator(binary: binary))
        var frame = StackFrame(index: 1, address: 0, image: symbolicator.fileName, imageOffset: 0x1000, buildID: "00ff")
        #expect(!symbolicator.holds(frame))
        #expect(!symbolicator.resolve(&frame))
        #expect(frame.symbol == nil)
    }

    /// `loop-watchdog symbolicate` on a real JSON-lines report whose frames lost their names
    /// and file:line: the helper's frames get them back, other lines pass unchanged.
    @Test func symbolicateCommandRestoresAReport() async throws {
        let (_, child) = try await ChildProcess.runHelper(
            ["stalls"], environment: ["LOOP_WATCHDOG_THRESHOLD": "100ms", "LOOP_WATCHDOG_FORMAT": "json"])
        let lines = child.standardError.split(separator: "\n").map(String.init)
        let began = try #require(lines.first { $0.contains("\"stall.began\"") && $0.contains("\"frames\"") })
        var object = try #require(try JSONSerialization.jsonObject(with: Data(began.utf8)) as? [String: Any])
        let original = try #require(object["frames"] as? [[String: Any]])
        object["frames"] = original.map { frame in
            var frame = frame
            for key in ["symbol", "file", "line"] { frame[key] = NSNull() }
            return frame
        }
        let stripped = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let input = "\(NSTemporaryDirectory())lwd-symbolicate-\(getpid()).jsonl"
        try (["not a report", stripped].joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        defer { unlink(input) }

        let tool = try ChildProcess(ChildProcess.tool, ["symbolicate", "--binary", ChildProcess.helper, input])
        #expect(try await tool.waitForExit() == 0, "\(tool.standardError)")
        let output = tool.standardOutput.split(separator: "\n").map(String.init)
        #expect(output.first == "not a report")
        let last = try #require(output.last)
        let parsed = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        let restored = try #require(parsed?["frames"] as? [[String: Any]])
        var compared = 0
        for (before, after) in zip(original, restored) where before["image"] as? String == "lwd-fault-helper" {
            compared += 1
            #expect(after["symbol"] as? String == before["symbol"] as? String, "\(after) vs \(before)")
            #expect(after["file"] as? String == before["file"] as? String)
            #expect(after["line"] as? Int == before["line"] as? Int)
        }
        #expect(compared >= 2, "\(original)")
        #expect(restored.contains { ($0["symbol"] as? String)?.contains("helperBlockedInSleep") == true })
        #expect(tool.standardError.contains("frames resolved"))
    }
}
