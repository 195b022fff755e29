import Logging

/// What the user sets in code. Every property is optional: `nil` means "take it from the
/// environment, else the default". Precedence: code > environment > default.
///
/// When a property is set in code, the matching environment variable is not read at all.
public struct Configuration: Sendable, Hashable {
    /// Whether the watchdog runs. Environment `LOOP_WATCHDOG` (on/off, 1/0, yes/no,
    /// true/false); default on.
    public var enabled: Bool?
    /// How long a loop may be blocked before a stall is reported. Environment
    /// `LOOP_WATCHDOG_THRESHOLD` (e.g. `100ms`, `0.25s`; a bare number means milliseconds);
    /// default 100 ms, clamped to 1 ms ... 3600 s.
    public var threshold: Duration?
    /// How often the watchdog thread checks the loops. Environment `LOOP_WATCHDOG_INTERVAL`;
    /// default a tenth of the threshold (at least 1 ms), clamped to 1 ms ... threshold.
    public var interval: Duration?
    /// How stall events are written. Environment `LOOP_WATCHDOG_FORMAT` (`text` or `json`);
    /// default text.
    public var format: OutputFormat?
    /// Where stall events are written: a file path, or `-`/`stderr` for standard error,
    /// `stdout` for standard output. Environment `LOOP_WATCHDOG_OUTPUT`; default standard error.
    public var output: String?
    /// The log level of `ended` events in text output. Environment
    /// `LOOP_WATCHDOG_ENDED_LEVEL` (`trace` ... `critical`, or `warn`); default warning.
    public var endedLogLevel: Logger.Level?
    /// The most frames captured per stack. Environment `LOOP_WATCHDOG_MAX_FRAMES`;
    /// default 64, clamped to 1 ... 256. An async job's awaiting callers come on top, at
    /// most 64.
    public var maxFrames: Int?
    /// A file that always holds the stalls in progress with their latest stacks, so that a
    /// process killed in the middle of a hang leaves the evidence behind. Written when a
    /// stall begins, at each `continuing`, and when it ends (it then says so and keeps the
    /// last stack); replaced atomically (a temporary file, then `rename`), on the reporter
    /// queue. `%p` in the path becomes the process id, `%%` a percent sign. Environment
    /// `LOOP_WATCHDOG_HANG_FILE`; default none.
    public var hangFile: String?
    /// Whether stalls are reported while a debugger or tracer is attached (`TracerPid` of
    /// /proc/self/status, read only when a report is due and reused for a second). Under
    /// `suppress` such stalls are neither captured (no signal goes into a traced process)
    /// nor reported, and one info line says so. Environment `LOOP_WATCHDOG_WHEN_TRACED`
    /// (`suppress` or `report`); default suppress.
    public var whenTraced: TracedPolicy?
    /// How the log reports stalls at a site it has reported before (``RepeatPolicy``).
    /// Environment `LOOP_WATCHDOG_REPEATS` (`backoff` or `all`); default backoff.
    public var repeats: RepeatPolicy?
    /// How often the log gets one line with the sites that blocked the most since the last
    /// such line (only when some stall happened). Environment
    /// `LOOP_WATCHDOG_SUMMARY_INTERVAL` (a duration from 1 s to 24 h, or `off`); default
    /// 60 s. `.zero` in code switches it off.
    public var summaryInterval: Duration?
    /// How often the watchdog takes one more stack of a thread while its stall lasts (the
    /// samples of ``StallEvent/samples``; signal-free while the thread is parked in a system
    /// call). Environment `LOOP_WATCHDOG_SAMPLE_INTERVAL` (a duration from 1 ms to 60 s, or
    /// `off`); default half the threshold, and never more often than the watchdog's interval.
    /// `.zero` in code switches sampling off (the `began` and `continuing` stacks remain).
    public var sampleInterval: Duration?
    /// The most samples taken per stall, the first included. Environment
    /// `LOOP_WATCHDOG_MAX_SAMPLES`; default 100, clamped to 1 ... 1000.
    public var maxSamples: Int?

    /// Creates a configuration; every property left `nil` comes from the environment or
    /// its default.
    public init(
        enabled: Bool? = nil,
        threshold: Duration? = nil,
        interval: Duration? = nil,
        format: OutputFormat? = nil,
        output: String? = nil,
        endedLogLevel: Logger.Level? = nil,
        maxFrames: Int? = nil,
        hangFile: String? = nil,
        whenTraced: TracedPolicy? = nil,
        repeats: RepeatPolicy? = nil,
        summaryInterval: Duration? = nil,
        sampleInterval: Duration? = nil,
        maxSamples: Int? = nil
    ) {
        self.enabled = enabled
        self.threshold = threshold
        self.interval = interval
        self.format = format
        self.output = output
        self.endedLogLevel = endedLogLevel
        self.maxFrames = maxFrames
        self.hangFile = hangFile
        self.whenTraced = whenTraced
        self.repeats = repeats
        self.summaryInterval = summaryInterval
        self.sampleInterval = sampleInterval
        self.maxSamples = maxSamples
    }
}
