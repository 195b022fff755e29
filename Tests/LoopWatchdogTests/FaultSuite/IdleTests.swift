import Testing

/// The one long test, outside the serialized fault suite: it only waits (asynchronously,
/// holding no test thread) while a child process idles, so it runs beside everything else.
struct IdleTests {
    /// One loop idle for 30 s under a watchdog ticking every 10 ms: no report, nothing
    /// held.
    @Test func idleLoopForThirtySeconds() async throws {
        let (result, _) = try await ChildProcess.runHelper(["idle", "30"])
        figure("idle", result, ["seconds", "began", "before_rss_kb", "after_rss_kb", "before_fds", "after_fds"])
        #expect(int(result, "began") == 0 && int(result, "ended") == 0, "\(result)")
        #expect(int(result, "after_pidfds") == 0, "\(result)")
        #expect(int(result, "after_fds") <= int(result, "before_fds"), "\(result)")
        if !Sanitizer.any {  // shadow memory grows by design under a sanitizer
            #expect(int(result, "after_rss_kb") - int(result, "before_rss_kb") < 1_024, "\(result)")
        }
    }
}
