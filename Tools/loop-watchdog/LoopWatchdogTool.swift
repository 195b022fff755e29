import ArgumentParser

/// `loop-watchdog`: demos and tools for LoopWatchdog.
@main
struct LoopWatchdogTool: ParsableCommand {
    /// The version `--version` prints: this package's.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "loop-watchdog",
        abstract: "Catch code that blocks an event loop, while it blocks, with the blocked thread's stack.",
        discussion: """
            LoopWatchdog is a library: link it into your server with one call at start-up \
            (Watchdog.start(), or WatchdogService in a ServiceGroup). This tool shows it at \
            work and resolves its reports.

            Try:
              loop-watchdog demo               a loop blocked twice, reported twice
              loop-watchdog demo nio           a SwiftNIO handler that blocks its loop
              loop-watchdog demo concurrency   blocking calls in async functions
              loop-watchdog serve --port 8080  a watched HTTP server for curl and wrk
              loop-watchdog report --flamegraph blocked.svg stalls.jsonl
              loop-watchdog symbolicate --binary .build/release/MyServer events.jsonl

            Settings come from the environment: LOOP_WATCHDOG_THRESHOLD=250ms, \
            LOOP_WATCHDOG_FORMAT=json, LOOP_WATCHDOG_OUTPUT=/var/log/stalls.jsonl, \
            LOOP_WATCHDOG=off, and the others listed in the README.

            Shell completions: loop-watchdog --generate-completion-script bash|zsh|fish
            """,
        version: "loop-watchdog \(version) (LoopWatchdog for Linux x86_64)",
        subcommands: [DemoCommand.self, ServeCommand.self, ReportCommand.self, SymbolicateCommand.self]
    )
}
