/// Entry points for the benchmarks in `Tools/Benchmarks` only: the capture and
/// symbolication steps the watchdog runs internally, callable one at a time so that each
/// can be timed on its own. Not API: underscored, behind `@_spi(Benchmarking)`, absent from
/// the documentation, and free to change with any release.
@_spi(Benchmarking)
public enum _WatchdogBenchmarkHooks {
    /// What one capture produced.
    public struct Capture: Sendable {
        /// How the stack was taken (`signal`, `syscall`), or why it could not be.
        public var outcome: CaptureOutcome
        /// Innermost first; `addresses[0]` is a program counter.
        public var addresses: [UInt]
        /// For signal captures: how long the target spent in the signal handler, as the
        /// handler itself timed it. 0 otherwise.
        public var handlerNanoseconds: Int64
    }

    /// The watchdog thread's capturer, for one benchmark thread at a time (as on the
    /// watchdog thread, captures are serialised and share one frame buffer).
    public final class Capturer {
        private let capturer: StackCapturer

        /// Installs the SIGPROF handler (once per process) and preallocates the buffer.
        public init(maxFrames: Int = 64) {
            capturer = StackCapturer(maxFrames: maxFrames)
        }

        /// Whether captures insert an async job's awaiting callers (on, as in the watchdog);
        /// off to time a capture without them.
        public var collectsAsyncCallers: Bool {
            get { capturer.collectsAsyncCallers }
            set { capturer.collectsAsyncCallers = newValue }
        }

        /// How many awaiting callers the last capture inserted.
        public var lastAsyncCallers: Int { Int(capturer.lastAsyncChain.count) }

        /// Captures the stack of the loop behind `heartbeat` now, through the same decision
        /// the watchdog makes on `stall.began` (syscall state, signal mask, then signal).
        public func capture(_ heartbeat: LoopHeartbeat) -> Capture {
            guard let thread = heartbeat.record.thread else {
                return Capture(outcome: .unavailable("pool"), addresses: [], handlerNanoseconds: 0)
            }
            let result = capturer.capture(thread)
            return Capture(
                outcome: result.outcome, addresses: result.addresses,
                handlerNanoseconds: result.interruptedNanoseconds)
        }
    }

    /// The reporter's symbolicator; a fresh instance has no image open and no index built.
    public final class Symbolicator {
        private let symbolicator = LoopWatchdog.Symbolicator()

        /// Creates a symbolicator with an empty image cache.
        public init() {}

        /// Builds the indexes of the image holding `address`, as a watchdog's start does
        /// for the executable.
        public func prepare(imageContaining address: UInt) {
            symbolicator.prepare(imageContaining: address)
        }

        /// Bytes held by the open images' indexes.
        public var memoryBytes: Int { symbolicator.memoryBytes }

        /// Symbolicates `addresses` (the first is a program counter) exactly as a report
        /// does.
        public func symbolicate(_ addresses: [UInt]) -> [StackFrame] {
            symbolicator.symbolicate(addresses, firstIsProgramCounter: true)
        }
    }
}
