import CLoopWatchdog
import Glibc
import CoreMetrics
import Logging
import Synchronization

/// Watches registered loops from one plain thread and reports every stall, with the
/// blocked thread's native stack captured while it is still blocked.
///
/// ```swift
/// let watchdog = Watchdog.start()              // reads LOOP_WATCHDOG_* from the environment
/// let heartbeat = watchdog.registerCurrentThread(name: "main")
/// while running {
///     heartbeat.markIdle(); waitForWork(); heartbeat.markBusy()
///     heartbeat.beat(); runOneJob()
/// }
/// ```
///
/// Thread model:
/// ```
///  loop threads          watchdog thread ("LoopWatchdog")        reporter queue
///  beat(): one store --> every `interval`: sample each loop,  --> symbolicate, format,
///  markIdle/markBusy     StallDetector decides, capture the       log (swift-log) or
///                        stack on began/continuing                write JSON lines
/// ```
/// `start`, `stop`, `registerCurrentThread` and `threshold` may be called from any thread.
/// Nothing starts in `init`.
///
/// After `fork()`: a watchdog belongs to the process that created it. The child of a fork
/// inherits the object but not its thread, so in the child it is inert: `isRunning` is
/// false, `start()` and `stop()` do nothing, and `registerCurrentThread` returns a
/// heartbeat that nothing watches. None of these touches a lock the parent's threads may
/// have held at the time of the fork. A child that keeps running Swift code can create a
/// new `Watchdog` (or call ``Watchdog/start(configuration:logger:)``, which does so in a
/// child); the C capture state is reset for it by a `pthread_atfork` handler.
public final class Watchdog: Sendable {
    let settings: Settings
    let logger: Logger
    let reporter: Reporter
    /// The loops this watchdog watches; read by its thread directly.
    let registry: LoopRegistry
    /// The threshold in force, and the interval rule.
    private let liveThreshold: LiveThreshold
    private let state = ForkSafeLock(State())
    private let sleeper: IntervalSleeper
    /// Lets the watchdog thread sleep while every loop is idle; loops going busy wake it.
    let idleGate: IdleGate
    /// The process that created this watchdog; in any other (a fork child) it is inert.
    private let ownerProcess = getpid()

    private struct State {
        var thread: PlainThread?
    }

    /// Creates a watchdog. Values set in `configuration` win over the environment
    /// (`LOOP_WATCHDOG_*`), which wins over the defaults. Every bad environment value is
    /// logged once, as a warning naming the variable, the value and what is used instead.
    /// - Parameters:
    ///   - configuration: settings made in code.
    ///   - logger: where reports and notices go; by default `Logger(label: "LoopWatchdog")`,
    ///     which uses the application's logging system.
    ///   - environment: the variables to read; nil reads the process environment.
    ///   - metricsFactory: where the stall counters and durations go (see
    ///     ``MetricsEventSink``); by default the application's `MetricsSystem.factory` as it
    ///     is now: bootstrap the metrics system before creating the watchdog.
    ///   - onEvent: called with every finished event, on the reporter thread, in addition to
    ///     the log or JSON output.
    public init(
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "LoopWatchdog"),
        environment: [String: String]? = nil,
        metricsFactory: (any MetricsFactory)? = nil,
        onEvent: (@Sendable (StallEvent) -> Void)? = nil
    ) {
        let sleeper = IntervalSleeper()
        self.sleeper = sleeper
        self.idleGate = IdleGate(sleeper: sleeper)
        self.registry = LoopRegistry(idleGate: idleGate)
        let (settings, problems) = configuration.resolve(environment: environment ?? Configuration.processEnvironment())
        self.settings = settings
        self.logger = logger
        self.liveThreshold = LiveThreshold(settings.threshold, rule: settings.thresholdRule)
        for problem in problems {
            logger.warning("\(problem.description)")
        }
        self.reporter = Reporter(
            settings: settings, logger: logger, metricsFactory: metricsFactory ?? MetricsSystem.factory,
            onEvent: onEvent)
    }

    deinit {
        stop()
    }

    /// The threshold for loops that have none of their own. Any thread may change it while
    /// the watchdog runs (as asyncio's `loop.slow_callback_duration`); it takes effect at the
    /// next tick. Clamped to 1 ms ... 1 h, with a warning when clamped.
    public var threshold: Duration {
        get { liveThreshold.value }
        set {
            let stored = liveThreshold.set(newValue)
            if stored != newValue {
                logger.warning(
                    "Watchdog.threshold=\(newValue.configurationText) is outside 1 ms ... 3600 s; using \(stored.configurationText)")
            }
            // The sleep in progress may be sized for the old threshold.
            if isInOwnerProcess { sleeper.wake() }
        }
    }

    /// True when the configuration enables the watchdog (`LOOP_WATCHDOG` is not off).
    public var isEnabled: Bool { settings.enabled }

    /// True while the watchdog thread runs (never in the child of a fork).
    public var isRunning: Bool { isInOwnerProcess && state.withLock { $0.thread != nil } }

    /// False in the child of a `fork()`: there the watchdog's thread does not exist and its
    /// locks may have been held by threads that do not exist either, so nothing may touch
    /// them. A system call, so not for hot paths.
    var isInOwnerProcess: Bool { getpid() == ownerProcess }

    /// Starts the watchdog thread. Harmless when already running, when disabled, and in
    /// the child of a fork (see the type's documentation). A started watchdog keeps
    /// running, and keeps itself alive, until ``stop()``.
    public func start() {
        guard settings.enabled, isInOwnerProcess else { return }
        state.withLock { state in
            guard state.thread == nil else { return }
            sleeper.clearStopRequest()
            let capturer = StackCapturer(maxFrames: settings.maxFrames)
            if let error = capturer.handlerInstallError {
                logger.warning(
                    "LoopWatchdog could not install its SIGPROF handler (errno \(error)); stacks are taken only from threads parked in system calls"
                )
            }
            if let problem = ThreadExitHook.problem {
                if ThreadExitHook.seesExits {
                    logger.info("LoopWatchdog: \(problem)")
                } else {
                    logger.warning(
                        "LoopWatchdog: \(problem); a loop whose thread exits without unregistering stays registered")
                }
            }
            // The symbol indexes of the executable are built now, on the reporter thread, so
            // that the first report is not held up by them.
            reporter.prepareSymbols()
            let body = makeThreadBody(capturer: capturer)
            // The thread holds the watchdog: a started watchdog lives until `stop()`, even
            // when its owner drops it.
            state.thread = PlainThread.start(name: "LoopWatchdog") { withExtendedLifetime(self) { body.run() } }
            if state.thread == nil {
                logger.error("LoopWatchdog could not start its thread; no loop is watched")
            }
        }
    }

    /// Stops the watchdog thread and waits for it to exit, then for pending reports to be
    /// written: for at most 7 s, then 3 s more for what is left, written with addresses only
    /// (an output that takes no writes never holds
    /// the host's shutdown for longer). Harmless when not running, and returns at once in the child of a fork.
    /// Registered loops stay registered.
    public func stop() {
        guard isInOwnerProcess else { return }
        let thread: PlainThread? = state.withLock { state in
            sleeper.requestStop()
            defer { state.thread = nil }
            return state.thread
        }
        guard let thread else { return }
        thread.join()
        // No warning on a timeout: the logger may write to the very output that is stuck,
        // and this runs on the host's thread.
        reporter.flushForShutdown()
    }

    /// ``stop()`` for async code: the join and the wait for queued reports happen on a
    /// thread of their own, so that no Swift Concurrency worker blocks on them.
    package func stopOffThread() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let stopper = PlainThread.start(name: "LoopWatchdog-stop") {
                self.stop()
                done.resume()
            }
            if let stopper {
                stopper.detach()
            } else {
                stop()  // no thread to be had: stop here rather than not at all
                done.resume()
            }
        }
    }

    /// Registers the calling thread as a loop called `name` and returns its heartbeat.
    /// The loop is watched while the watchdog runs, until it unregisters or its thread
    /// exits. Call it on the loop's own thread. In the child of a fork the heartbeat works
    /// but nothing watches it.
    public func registerCurrentThread(name: String) -> LoopHeartbeat {
        let record = LoopRecord(name: name, idleGate: idleGate)
        ThreadExitHook.retireOnExit(record)
        if isInOwnerProcess { registry.add(record) }
        return LoopHeartbeat(record: record)
    }

    /// Registers the calling thread as an event loop named after the thread, which the
    /// watchdog thread probes with `prober` (``SentProbeLoopProber``) at each tick rather
    /// than the loop beating or probing itself. Call it on the loop's own thread.
    package func registerCurrentThread(prober: SentProbeLoopProber) -> LoopHeartbeat {
        let name = ProcessThreads.currentName() ?? "thread-\(lwd_gettid())"
        let record = LoopRecord(name: name, idleGate: idleGate, prober: prober)
        ThreadExitHook.retireOnExit(record)
        if isInOwnerProcess { registry.add(record) }
        return LoopHeartbeat(record: record)
    }

    /// Registers the calling thread as a worker of the Swift Concurrency pool, watched job by
    /// job: `job` tells the priority of the job in progress.
    func registerPoolWorker(job: PoolWorkerJob) -> LoopHeartbeat {
        let record = LoopRecord(name: "swift-concurrency-pool", idleGate: idleGate, poolJob: job)
        ThreadExitHook.retireOnExit(record)
        if isInOwnerProcess { registry.add(record) }
        return LoopHeartbeat(record: record)
    }

    /// Registers the calling thread as a loop named after the thread (for example
    /// `NIO-ELT-0-#1`; "thread-TID" when it has no name) and returns its heartbeat. Call it
    /// on the loop's own thread.
    public func registerCurrentThread() -> LoopHeartbeat {
        registerCurrentThread(name: ProcessThreads.currentName() ?? "thread-\(lwd_gettid())")
    }

    /// How often a probe should run on a loop watched by probes
    /// (``LoopHeartbeat/probeRan(nextDueIn:)``): the watchdog's interval for the loop's
    /// threshold, by default a tenth of it and at least 1 ms. The
    /// threshold may change at run time: ask again before scheduling each probe.
    public func probeInterval(for heartbeat: LoopHeartbeat) -> Duration {
        let override = heartbeat.record.thresholdOverride.load(ordering: .relaxed)
        return .nanoseconds(liveThreshold.interval(smallestLoopThreshold: override > 0 ? override : nil))
    }

    /// Registers a pool, an executor that runs on several threads which `workers` finds and
    /// which the watchdog thread probes with `prober` at each tick, and returns its
    /// heartbeat. It stays registered until it unregisters.
    func registerPool(name: String, workers: PoolWorkers, prober: any LoopProber) -> LoopHeartbeat {
        let record = LoopRecord(poolName: name, workers: workers, prober: prober)
        if isInOwnerProcess { registry.add(record) }
        return LoopHeartbeat(record: record)
    }

    /// Runs the watchdog until the surrounding task is cancelled, then stops it. In a
    /// swift-service-lifecycle `ServiceGroup`, use `WatchdogService` (the
    /// `LoopWatchdogServiceLifecycle` product), which also stops on graceful shutdown.
    public func run() async throws {
        start()
        defer { stop() }
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        await withTaskCancellationHandler {
            for await _ in stream {}
        } onCancel: {
            continuation.finish()
        }
    }

    /// The watchdog thread's body, wired to this watchdog's registry, reporter, threshold
    /// and sleeper. `start()` runs one on a new thread; tests drive one with manual time.
    func makeThreadBody(capturer: StackCapturer) -> WatchdogThread {
        WatchdogThread(
            registry: registry, reporter: reporter, threshold: liveThreshold, sleeper: sleeper,
            idleGate: idleGate, logger: logger, whenTraced: settings.whenTraced, capturer: capturer,
            sampleInterval: settings.sampleInterval, maxSamples: settings.maxSamples)
    }
}
