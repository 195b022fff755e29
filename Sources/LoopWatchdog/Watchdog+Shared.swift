import Glibc
import Logging

extension Watchdog {
    private static let sharedInstance = ForkSafeLock<Watchdog?>(nil)

    /// The process-wide watchdog started by ``start(configuration:logger:)``, if any.
    public static var shared: Watchdog? {
        sharedInstance.withLock { $0 }
    }

    /// Starts the process-wide watchdog: the one call that links LoopWatchdog into a
    /// binary. Reads `LOOP_WATCHDOG_*` from the environment; values in `configuration`
    /// win. Calling it again returns the running watchdog unchanged, except in the child of
    /// a `fork()`, where the inherited watchdog is inert and a new one is created.
    @discardableResult
    public static func start(
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "LoopWatchdog")
    ) -> Watchdog {
        _ = flushAtExit
        let watchdog = sharedInstance.withLock { shared in
            if let shared, shared.isInOwnerProcess { return shared }
            let created = Watchdog(configuration: configuration, logger: logger)
            shared = created
            return created
        }
        watchdog.start()
        return watchdog
    }

    /// Registered once: at a normal exit (return from main, `exit()`, a handled SIGTERM that
    /// exits), the reports the process-wide watchdog has queued are written first, for at
    /// most the bound of ``stop()`` (7 s, then 3 s with addresses only).
    private static let flushAtExit: Void = {
        atexit {
            guard let watchdog = Watchdog.sharedInstance.withLock({ $0 }), watchdog.isInOwnerProcess else { return }
            watchdog.reporter.flushForShutdown()
        }
    }()

    /// Stops the process-wide watchdog and forgets it; a later ``start(configuration:logger:)``
    /// creates a new one. Joins the watchdog thread.
    public static func stopShared() {
        let watchdog = sharedInstance.withLock { shared in
            defer { shared = nil }
            return shared
        }
        watchdog?.stop()
    }
}
