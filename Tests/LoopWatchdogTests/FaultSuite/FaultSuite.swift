import Testing

/// The fault suite: everything that runs real threads against real time, spawns child
/// processes, or keeps CPUs busy on purpose. Its suites run one test at a time, so that
/// they do not starve each other's watchdog threads on a small machine (a watchdog that
/// never runs during a stall cannot see it; see RELIABILITY.md). Other tests run beside.
@Suite(.serialized)
enum FaultSuite {}
