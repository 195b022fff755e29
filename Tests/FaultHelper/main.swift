import Glibc

/// lwd-fault-helper SCENARIO [ARGUMENTS]: one scenario of the fault suite per process,
/// so that each starts with a fresh signal disposition, a fresh watchdog and clean
/// resource figures. Prints its result as one JSON line on standard output; exits 0 when
/// the scenario ran (the test judges the result), 2 on a usage or set-up error.
let arguments = Array(CommandLine.arguments.dropFirst())
func argument(_ index: Int, default value: Int) -> Int {
    index < arguments.count ? Int(arguments[index]) ?? value : value
}

switch arguments.first {
case "busy-loop":
    SuspensionScenarios.busyLoop()
case "stalls":
    SuspensionScenarios.stalls(count: argument(1, default: 3), milliseconds: argument(2, default: 400))
case "profiler-before":
    ProfilerScenarios.profilerInstalledBefore()
case "profiler-after":
    ProfilerScenarios.profilerInstalledAfter()
case "fork":
    ForkScenario.run()
case "fork-shared":
    ForkSharedScenario.run()
case "soak":
    SoakScenarios.soak(loops: argument(1, default: 64), stallsPerLoop: argument(2, default: 8))
case "cycles":
    SoakScenarios.cycles(count: argument(1, default: 1_000))
case "closed-stderr":
    OutputScenarios.closedStandardError()
case "memory-limit":
    OutputScenarios.memoryLimit(headroomMB: argument(1, default: 64))
case "flood":
    FloodScenario.run(seconds: argument(1, default: 3))
case "first-reports":
    FirstReportScenario.run()
case "exit-after-stall":
    OutputScenarios.exitRightAfterAStall()
case "seccomp":
    ContainerScenarios.denied(Array(arguments.dropFirst()))
case "masked-proc":
    ContainerScenarios.maskedProc()
case "cause":
    CauseScenarios.run(kind: arguments.count > 1 ? arguments[1] : "spin")
case "no-pthread-keys":
    ThreadKeyScenario.run()
case "idle":
    SoakScenarios.idle(seconds: argument(1, default: 30))
default:
    fail("usage: lwd-fault-helper busy-loop|stalls|profiler-before|profiler-after|fork|fork-shared|soak|cycles|idle|closed-stderr|memory-limit|exit-after-stall|first-reports|flood|cause KIND|seccomp|masked-proc|no-pthread-keys [ARGUMENTS]")
}
exit(0)
