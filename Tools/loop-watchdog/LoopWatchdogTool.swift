import ArgumentParser

/// `loop-watchdog`: demos and tools for LoopWatchdog.
@main
struct LoopWatchdogTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop-watchdog",
        abstract: "Catch code that blocks an event loop, while it blocks, with the blocked thread's stack.",
        subcommands: [DemoCommand.self, ServeCommand.self, SymbolicateCommand.self]
    )
}
