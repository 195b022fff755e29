import CLoopWatchdog
import Foundation
import Glibc
import Testing

@testable import LoopWatchdog

/// The ELF and DWARF line-table reader, checked against the toolchain's llvm-symbolizer on
/// this test binary (a real, large Swift binary with C parts: DWARF 4 and 5 units).
struct ELFImageTests {
    /// The loaded image of this test binary.
    private static func testBinary() throws -> LoadedImage {
        let address = unsafeBitCast(lwd_gettid as @convention(c) () -> pid_t, to: UInt.self)
        guard case .image(let image) = LoadedImage.containing(address) else {
            throw TestFailure("no loaded image holds lwd_gettid")
        }
        return image
    }

    private struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// llvm-symbolizer's answers (line table only: no inlined frames) for `addresses`. Run
    /// through ChildProcess (posix_spawn and waitpid), not Foundation's Process, whose
    /// waitUntilExit can miss the exit of a child in a process whose threads block signals.
    private static func llvmSymbolizer(_ path: String, _ addresses: [UInt64]) async throws -> [(function: String, file: String, line: Int)?] {
        let tool = ["/usr/bin/llvm-symbolizer", "\(ProcessInfo.processInfo.environment["TOOLCHAIN_BIN"] ?? "")/llvm-symbolizer"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let symbolizer = try #require(tool, "llvm-symbolizer (part of the Swift toolchain) not found")
        let child = try ChildProcess(
            symbolizer,
            ["--obj=\(path)", "--no-inlines", "--no-demangle", "--functions=linkage", "--output-style=JSON"]
                + addresses.map { "0x" + String($0, radix: 16) })
        let status = try await child.waitForExit()
        try #require(status == 0, "llvm-symbolizer: \(child.standardError)")
        let data = Data(child.standardOutput.utf8)
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return entries.map { entry in
            guard let symbol = (entry["Symbol"] as? [[String: Any]])?.first,
                let function = symbol["FunctionName"] as? String, let file = symbol["FileName"] as? String,
                let line = symbol["Line"] as? Int
            else { return nil }
            return (function, file, line)
        }
    }

    @Test func fileAndLineAgreeWithLLVMSymbolizerAcrossTheBinary() async throws {
        let loaded = try Self.testBinary()
        let image = try #require(ELFImage(path: loaded.path))
        // Addresses spread evenly over the image's segments, at odd offsets (inside
        // functions, not at their starts).
        let low = UInt64(loaded.range.lowerBound - loaded.bias)
        let high = UInt64(loaded.range.upperBound - loaded.bias)
        let step = (high - low) / 600
        let addresses = (0..<600).map { low + UInt64($0) * step + 7 }
        let expected = try await Self.llvmSymbolizer(loaded.path, addresses)
        var compared = 0
        var mismatches: [String] = []
        for (address, reference) in zip(addresses, expected) {
            let ours = image.sourceLocation(at: address)
            guard let reference, reference.line > 0 else {
                if let ours { mismatches.append("0x\(String(address, radix: 16)): ours \(ours), llvm none") }
                continue
            }
            compared += 1
            if ours?.file != reference.file || ours?.line != reference.line {
                mismatches.append("0x\(String(address, radix: 16)): ours \(String(describing: ours)), llvm \(reference.file):\(reference.line)")
            }
        }
        #expect(compared >= 100, "only \(compared) addresses have a line")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared): \(mismatches.prefix(10))")
    }

    @Test func functionNamesAgreeWithLLVMSymbolizer() async throws {
        let loaded = try Self.testBinary()
        let image = try #require(ELFImage(path: loaded.path))
        let low = UInt64(loaded.range.lowerBound - loaded.bias)
        let high = UInt64(loaded.range.upperBound - loaded.bias)
        let step = (high - low) / 600
        let addresses = (0..<600).map { low + UInt64($0) * step + 5 }
        let expected = try await Self.llvmSymbolizer(loaded.path, addresses)
        var compared = 0
        var unnamed = 0
        var mismatches: [String] = []
        for (address, reference) in zip(addresses, expected) {
            guard let reference, reference.line > 0, !reference.function.isEmpty, reference.function != "??" else { continue }
            compared += 1
            // Code whose symbol the linker did not keep (a duplicate copy of a function
            // emitted by several modules) has a name in DWARF only.
            guard let ours = image.functionName(at: address, raw: true) else {
                unnamed += 1
                continue
            }
            if ours != reference.function {
                mismatches.append("0x\(String(address, radix: 16)): ours \(ours), llvm \(reference.function)")
            }
        }
        #expect(compared >= 100, "only \(compared) addresses are in functions")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared): \(mismatches.prefix(10))")
        #expect(unnamed * 50 <= compared, "\(unnamed) of \(compared) without a symbol")
    }

    @Test func namesACFunctionWithItsSourceFile() throws {
        let loaded = try Self.testBinary()
        let image = try #require(ELFImage(path: loaded.path))
        let address = UInt64(unsafeBitCast(lwd_gettid as @convention(c) () -> pid_t, to: UInt.self) - loaded.bias)
        #expect(image.functionName(at: address) == "lwd_gettid")
        let location = try #require(image.sourceLocation(at: address + 1))
        #expect(location.file.hasSuffix("Sources/CLoopWatchdog/threads.c"), "\(location)")
        #expect(image.buildID == loaded.buildID && !loaded.buildID.isEmpty)
    }

    @Test func aFileThatIsNotELFIsRefused() {
        #expect(ELFImage(path: "/dev/null") == nil)
        #expect(ELFImage(path: "/proc/self/status") == nil)
        #expect(ELFImage(path: "/nonexistent/binary") == nil)
    }

    /// A binary whose line table and symbol table were overwritten with noise, or cut
    /// short, gives wrong or no answers, and never crashes or hangs the reader.
    @Test func damagedBinariesNeverCrashTheReader() throws {
        let loaded = try Self.testBinary()
        let original = try Data(contentsOf: URL(fileURLWithPath: loaded.path))
        var generator = SystemRandomNumberGenerator()
        let directory = NSTemporaryDirectory()
        for trial in 0..<6 {
            var damaged = original
            if trial < 3 {
                // Noise over a tenth of the file, in the second half (where debug
                // information and the symbol table are).
                let start = original.count / 2 + trial * original.count / 8
                let length = min(original.count / 10, original.count - start)
                damaged.replaceSubrange(start..<(start + length), with: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            } else {
                damaged = original.prefix(original.count * (trial - 2) / 4)
            }
            let path = "\(directory)lwd-damaged-\(getpid())-\(trial)"
            try damaged.write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            guard let image = ELFImage(path: path) else { continue }
            image.prepare()
            let low = UInt64(loaded.range.lowerBound - loaded.bias)
            for index in 0..<200 {
                let address = low + UInt64(index) * 4099
                _ = image.functionName(at: address)
                _ = image.sourceLocation(at: address)
            }
        }
    }

    /// A library replaced on disk since it was loaded is not read: its build ID differs.
    @Test func aFileWhoseBuildIDDiffersFromTheLoadedCopyIsNotRead() throws {
        var loaded = try Self.testBinary()
        let symbolicator = Symbolicator()
        #expect(symbolicator.file(for: loaded) != nil)
        loaded.buildID = [UInt8](repeating: 0xab, count: 20)
        #expect(symbolicator.file(for: loaded) == nil)
    }

    /// The indexes of this binary stay small: a few tens of bytes per function.
    @Test func indexesHoldAFewMegabytesAtMost() throws {
        let loaded = try Self.testBinary()
        let image = try #require(ELFImage(path: loaded.path))
        image.prepare()
        #expect(image.memoryBytes > 64 << 10)
        #expect(image.memoryBytes < 16 << 20, "\(image.memoryBytes >> 20) MB")
    }
}
