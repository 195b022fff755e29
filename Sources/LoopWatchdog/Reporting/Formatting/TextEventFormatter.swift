import Logging

/// Turns a `StallEvent` into a human-readable log message (a header line, then one line
/// per captured frame) and into swift-log metadata. A pool's event has a header line, then
/// for each busy worker a thread line followed by its frames, indented once more.
///
/// Every string that came from outside the watchdog (loop name, symbol, file, image,
/// capture reason) is escaped with `escapedForLogLine`, so an event always renders as
/// exactly one header line plus one line per frame and cannot forge other log lines.
struct TextEventFormatter: Sendable {
    /// Creates a formatter.
    init() {}

    /// The log message for `event`: the header, then for `began` and `continuing` one
    /// line per frame; for a loop's `continuing` and `ended`, the cause, its remedy and the
    /// samples (with the most sampled stacks, on `ended`). Joined with `\n`, without a
    /// trailing newline.
    func message(for event: StallEvent) -> String {
        var lines = [header(for: event)]
        if event.kind != .ended {
            if event.isPool {
                for thread in event.threads {
                    lines.append("  " + threadLine(for: thread))
                    lines += frameLines(thread.frames, indent: 4)
                }
            } else {
                lines += frameLines(event.frames)
            }
        }
        if let cause = event.cause {
            lines.append("  " + StallCauseFormatting.causeLine(cause))
            lines.append("  " + StallCauseFormatting.remedyLine(cause))
        }
        if let samples = event.samples {
            // The ended event shows where the time went; a single sample is the began stack.
            lines += StallCauseFormatting.sampleLines(
                samples, withStacks: event.kind == .ended && samples.count >= 2,
                frameLines: { frameLines($0, indent: 4) })
        }
        return lines.joined(separator: "\n")
    }

    /// The header line alone, e.g.
    /// `loop 'main' (tid 1234) blocked for 100 ms (threshold 100 ms); stack captured by signal:`.
    func header(for event: StallEvent) -> String {
        if event.isPool { return poolHeader(for: event) }
        if let job = event.job { return jobHeader(for: event, job: job) }
        let loop = "loop '\(event.loopName.escapedForLogLine)' (tid \(event.threadID))"
        let threshold = "(threshold \(event.threshold.humanReadable))"
        let blocked = event.blocked.humanReadable
        let capture = captureClause(event.capture)
        switch event.kind {
        case .began:
            return "\(loop) blocked for \(blocked) \(threshold)\(capture)"
        case .continuing:
            return "\(loop) still blocked after \(blocked) \(threshold)\(capture)"
        case .ended:
            return "\(loop) was blocked for \(blocked) \(threshold)"
        default:
            return "\(loop) \(event.kind.description.escapedForLogLine) after \(blocked) \(threshold)\(capture)"
        }
    }

    /// The header line of a job that blocked one worker of the Swift Concurrency pool, e.g.
    /// `job on 'swift-concurrency-pool.medium' (tid 1234) blocked for 105 ms (threshold 100 ms); 1 of 2 workers of this priority blocked; stack captured by signal:`,
    /// and when it ends, asyncio's "took": `job on 'swift-concurrency-pool.medium' (tid 1234) took 351 ms (threshold 100 ms)`.
    func jobHeader(for event: StallEvent, job: PoolJob) -> String {
        let worker = "job on '\(event.loopName.escapedForLogLine)' (tid \(event.threadID))"
        let threshold = "(threshold \(event.threshold.humanReadable))"
        let blocked = event.blocked.humanReadable
        let workers = "; \(job.blockedWorkers) of \(job.workers) workers of this priority blocked"
        let capture = captureClause(event.capture)
        switch event.kind {
        case .began:
            return "\(worker) blocked for \(blocked) \(threshold)\(workers)\(capture)"
        case .continuing:
            return "\(worker) still blocked after \(blocked) \(threshold)\(workers)\(capture)"
        case .ended:
            return "\(worker) took \(blocked) \(threshold)"
        default:
            return "\(worker) \(event.kind.description.escapedForLogLine) after \(blocked) \(threshold)\(capture)"
        }
    }

    /// The header line of a pool's event, e.g.
    /// `pool 'swift-concurrency-pool.medium' starved for 105 ms (threshold 100 ms); 2 busy threads:`.
    func poolHeader(for event: StallEvent) -> String {
        let pool = "pool '\(event.loopName.escapedForLogLine)'"
        let threshold = "(threshold \(event.threshold.humanReadable))"
        let blocked = event.blocked.humanReadable
        let busy: String
        switch event.threads.count {
        case 0: busy = "; no busy thread found"
        case 1: busy = "; 1 busy thread:"
        case let count: busy = "; \(count) busy threads:"
        }
        switch event.kind {
        case .began:
            return "\(pool) starved for \(blocked) \(threshold)\(busy)"
        case .continuing:
            return "\(pool) still starved after \(blocked) \(threshold)\(busy)"
        case .ended:
            return "\(pool) was starved for \(blocked) \(threshold)"
        default:
            return "\(pool) \(event.kind.description.escapedForLogLine) after \(blocked) \(threshold)\(busy)"
        }
    }

    /// The line that introduces one busy worker of a pool, e.g.
    /// `thread 'oot.default-qos' (tid 1234); stack captured by signal:`.
    func threadLine(for thread: ThreadStack) -> String {
        let capture = captureClause(thread.capture)
        return "thread '\(thread.name.escapedForLogLine)' (tid \(thread.threadID))\(capture)"
    }

    /// `; stack captured by signal:` before the frames, or `; no stack: REASON`.
    private func captureClause(_ capture: CaptureOutcome) -> String {
        capture.hasStack
            ? "; stack captured by \(capture.description.escapedForLogLine):"
            : "; no stack: \(capture.description.escapedForLogLine)"
    }

    /// One line per frame, indented `indent` spaces (two by default), with the index column (`#3` or
    /// `#3 [inlined]`) padded so that the address columns line up:
    /// `  #0  0x00005555deadbeef  Demo.sleepBlocking(milliseconds:) at /src/Demo.swift:42 [loop-watchdog]`.
    /// An awaiting caller's symbol (an async frame after another) is preceded by `await `.
    func frameLines(_ frames: [StackFrame], indent: Int = 2) -> [String] {
        let indexColumns = frames.map { frame in
            frame.inlined ? "#\(frame.index) [inlined]" : "#\(frame.index)"
        }
        let width = indexColumns.map(\.count).max() ?? 0
        return zip(frames.indices, indexColumns).map { position, indexColumn in
            let frame = frames[position]
            var line = String(repeating: " ", count: indent)
            line += indexColumn
            line += String(repeating: " ", count: width - indexColumn.count)
            line += "  "
            line += frame.addressText
            line += "  "
            // The first async frame of a run is the function the job runs; those after it
            // await it.
            if frame.isAsync && position > 0 && frames[position - 1].isAsync { line += "await " }
            line += frame.symbol?.escapedForLogLine ?? "???"
            if let file = frame.file {
                line += " at "
                line += file.escapedForLogLine
                if let number = frame.line {
                    line += ":\(number)"
                }
            }
            if let image = frame.image {
                line += " ["
                line += image.escapedForLogLine
                // Without file:line, where in the image: for addr2line or `loop-watchdog symbolicate`.
                if frame.file == nil, let offset = frame.imageOffset {
                    line += "+0x" + String(offset, radix: 16)
                }
                line += "]"
            }
            return line
        }
    }

    /// Structured metadata for `event`: `stall_id`, `loop`, `tid`, `threshold_ms`,
    /// `blocked_ms`, `capture` and `event`. Durations are milliseconds with at most three
    /// decimals; the loop name and capture text are escaped like the message. A pool's
    /// event has no `tid` and `capture`; its `began` and `continuing` have `threads`, the
    /// busy workers' thread ids. A job's event (``StallEvent/job``) adds `job_priority`,
    /// `blocked_workers` and `workers`.
    func metadata(for event: StallEvent) -> Logger.Metadata {
        if event.isPool {
            var metadata: Logger.Metadata = [
                "stall_id": .stringConvertible(event.stallID),
                "loop": .string(event.loopName.escapedForLogLine),
                "threshold_ms": .string(Self.milliseconds(event.threshold)),
                "blocked_ms": .string(Self.milliseconds(event.blocked)),
                "event": .string(event.kind.description),
            ]
            if event.kind != .ended {
                metadata["threads"] = .array(event.threads.map { .stringConvertible($0.threadID) })
            }
            return metadata
        }
        var metadata: Logger.Metadata = [
            "stall_id": .stringConvertible(event.stallID),
            "loop": .string(event.loopName.escapedForLogLine),
            "tid": .stringConvertible(event.threadID),
            "threshold_ms": .string(Self.milliseconds(event.threshold)),
            "blocked_ms": .string(Self.milliseconds(event.blocked)),
            "capture": .string(event.capture.description.escapedForLogLine),
            "event": .string(event.kind.description),
        ]
        if let cause = event.cause {
            metadata["cause"] = .string(cause.verdict.name)
        }
        if let samples = event.samples {
            metadata["samples"] = .stringConvertible(samples.count)
        }
        if let job = event.job {
            metadata["job_priority"] = .string(job.priorityName)
            metadata["blocked_workers"] = .stringConvertible(job.blockedWorkers)
            metadata["workers"] = .stringConvertible(job.workers)
        }
        return metadata
    }

    private static func milliseconds(_ duration: Duration) -> String {
        DecimalText.trimmed(duration.milliseconds) ?? "\(duration.milliseconds)"
    }
}
