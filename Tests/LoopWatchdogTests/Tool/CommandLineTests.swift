import Foundation
import Glibc
import Testing

/// The `loop-watchdog` executable's own command line: help, version and shell completions,
/// as a user at a terminal gets them.
@Suite(.serialized)
struct CommandLineTests {
    /// Runs the tool with `arguments` and returns its exit status and standard output.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let child = try ChildProcess(ChildProcess.tool, arguments)
        let status = try await child.waitForExit(timeout: .seconds(30))
        return (status, child.standardOutput)
    }

    @Test func helpNamesEveryCommandTheLibraryAndTheSettings() async throws {
        let (status, help) = try await Self.run(["--help"])
        #expect(status == 0)
        for text in [
            "USAGE: loop-watchdog <subcommand>", "demo", "serve", "symbolicate", "Watchdog.start()",
            "WatchdogService", "LOOP_WATCHDOG_THRESHOLD=250ms", "--generate-completion-script",
        ] {
            #expect(help.contains(text), "no \(text) in:\n\(help)")
        }
        // Fits an 80-column terminal, and the examples are not wrapped.
        let widest = help.split(separator: "\n").map(\.count).max() ?? 0
        #expect(widest <= 80, "a help line of \(widest) characters:\n\(help)")
        #expect(help.contains("\n  loop-watchdog demo nio           a SwiftNIO handler that blocks its loop\n"), "\(help)")
    }

    @Test func versionIsOneLine() async throws {
        let (status, output) = try await Self.run(["--version"])
        #expect(status == 0)
        #expect(output.hasPrefix("loop-watchdog 0."), "\(output)")
        #expect(output.split(separator: "\n").count == 1, "\(output)")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptCoversTheSubcommandsAndTheirOptions(shell: String) async throws {
        let (status, script) = try await Self.run(["--generate-completion-script", shell])
        #expect(status == 0)
        for word in ["demo", "serve", "symbolicate", "binary", "port", "concurrency"] {
            #expect(script.contains(word), "\(shell) completions lack \(word)")
        }
    }

    /// The bash script, loaded into a real bash, completes a subcommand and an option.
    @Test func bashCompletesSubcommandsAndOptions() async throws {
        let (_, script) = try await Self.run(["--generate-completion-script", "bash"])
        let path = "/tmp/lwd-completion-\(getpid()).bash"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let probe = """
            source \(path)
            complete_line() {
                COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$1"
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
                _loop-watchdog loop-watchdog "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                echo "$1 => ${COMPREPLY[*]}"
            }
            complete_line "loop-watchdog sy"
            complete_line "loop-watchdog symbolicate --bi"
            complete_line "loop-watchdog demo con"
            """
        let child = try ChildProcess("/bin/bash", ["-c", probe])
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0, "\(child.standardError)")
        let lines = child.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == [
            "loop-watchdog sy => symbolicate",
            "loop-watchdog symbolicate --bi => --binary",
            "loop-watchdog demo con => concurrency",
        ], "\(child.standardOutput)\n\(child.standardError)")
    }

    @Test func aBadSubcommandFailsWithUsage() async throws {
        let child = try ChildProcess(ChildProcess.tool, ["frobnicate"])
        let status = try await child.waitForExit(timeout: .seconds(30))
        #expect(status != 0)
        #expect(child.standardError.contains("Usage: loop-watchdog") || child.standardError.contains("USAGE: loop-watchdog"),
                "\(child.standardError)")
    }
}
