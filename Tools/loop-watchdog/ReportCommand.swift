import ArgumentParser
import CLoopWatchdogZlib
import Glibc
import LoopWatchdog
import LoopWatchdogReport

/// `loop-watchdog report`: the stall log as a table of the sites that blocked the most, and
/// as folded stacks, a flame graph, a timeline and a pprof profile.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize JSON-lines stall logs: the sites that blocked the most, a flame graph, a timeline, a profile.",
        discussion: """
            Reads the JSON lines LoopWatchdog writes (LOOP_WATCHDOG_FORMAT=json), plain or gzip, \
            from the files given or standard input; other log lines are skipped and counted. \
            Prints the top sites by blocked time. Each stall counts once, with the stack of its \
            stall.began and the duration and cause of its stall.ended; the stalls a \
            stall.repeats line counts add to their site (their p50 and p99 at the line's mean).

            Examples:
              loop-watchdog report stalls.jsonl
              loop-watchdog report --loop swift-concurrency-pool --min-duration 200ms stalls.jsonl.gz
              loop-watchdog report --flamegraph blocked.svg --folded blocked.folded stalls.jsonl
              loop-watchdog report --trace timeline.json --pprof blocked.pb.gz stalls.jsonl
            """
    )

    @Argument(help: "JSON-lines stall logs, plain or gzip (standard input when none).")
    var files: [String] = []

    @Option(help: "How many sites the table lists.")
    var top: Int = 20

    @Option(help: "The table's order: total, count, max or p99.")
    var sort: String = "total"

    @Option(name: .customLong("loop"), help: "Only loops whose name starts with this (repeatable).")
    var loops: [String] = []

    @Option(help: "Only stalls that ended at or after this time (Unix seconds, or 2026-12-06T22:00:00Z).")
    var since: String?

    @Option(help: "Only stalls that ended before this time.")
    var until: String?

    @Option(help: "Only stalls at least this long (250ms, 1s).")
    var minDuration: String?

    @Option(help: "Write folded stacks (flamegraph.pl, inferno, speedscope) to this file.")
    var folded: String?

    @Option(help: "Write a flame graph of blocked time (self-contained SVG) to this file.")
    var flamegraph: String?

    @Option(help: "Write a Chrome trace-event timeline (Perfetto UI, chrome://tracing) to this file.")
    var trace: String?

    @Option(help: "Write a gzipped pprof profile (go tool pprof, Pyroscope, Grafana) to this file.")
    var pprof: String?

    @Flag(help: "Start every stack with its loop's name (folded stacks and flame graph).")
    var byLoop = false

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top takes a number of sites, 0 or more") }
        guard Self.orders[sort] != nil else { throw ValidationError("--sort takes total, count, max or p99, not '\(sort)'") }
        _ = try filter()
    }

    static let orders: [String: StallSummary.Order] = ["total": .total, "count": .count, "max": .longest, "p99": .p99]

    func filter() throws -> StallSummary.Filter {
        var filter = StallSummary.Filter(loopPrefixes: loops)
        if let since { filter.since = try Self.time(since, option: "--since") }
        if let until { filter.until = try Self.time(until, option: "--until") }
        if let minDuration {
            switch DurationParser.parse(minDuration) {
            case .success(let duration): filter.minimumDuration = duration
            case .failure(let error): throw ValidationError("--min-duration '\(minDuration)' \(error.reason)")
            }
        }
        return filter
    }

    /// Unix seconds, or a UTC time `2026-12-06T22:00:00Z` (the `T` may be a space, the `Z`
    /// left out).
    static func time(_ text: String, option: String) throws -> Double {
        if let seconds = Double(text) { return seconds }
        let digits = text.unicodeScalars.map { $0 }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= digits.count else { return nil }
            return Int(String(String.UnicodeScalarView(digits[range])))
        }
        let separatorsFit = digits.count >= 19 && digits[4] == "-" && digits[7] == "-"
            && (digits[10] == "T" || digits[10] == " ") && digits[13] == ":" && digits[16] == ":"
            && (digits.count == 19 || (digits.count == 20 && digits[19] == "Z"))
        guard separatorsFit, let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else {
            throw ValidationError("\(option) takes Unix seconds or a UTC time like 2026-12-06T22:00:00Z, not '\(text)'")
        }
        // Days since 1970-01-01 in the proleptic Gregorian calendar.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    func run() throws {
        var summary = StallSummary(filter: try filter())
        var counts = InputCounts()
        var traceFile: OutputFile?
        var traceWriter: ChromeTraceWriter?
        if let trace {
            let file = try OutputFile(path: trace)
            traceFile = file
            traceWriter = ChromeTraceWriter { file.write($0) }
        }
        let progress = ProgressLine(enabled: !quiet && isatty(2) == 1)
        let inputs = files.isEmpty ? ["-"] : files
        for path in inputs {
            let descriptor = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ReportFailure("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            defer { if descriptor != 0 { close(descriptor) } }
            let size = Self.fileSize(descriptor)
            var reader = LineReader(descriptor: descriptor)
            do {
                try reader.forEachLine(progress: { progress.update(path: path, read: $0.bytesRead, of: size) }) { bytes in
                    counts.lines += 1
                    counts.bytes += Int64(bytes.count) + 1
                    let line = StallLogLine.parse(bytes)
                    switch line {
                    case .event:
                        counts.events += 1
                        if let stall = summary.add(line) { traceWriter?.add(stall) }
                    case .repeats(let repeats):
                        counts.repeats += 1
                        summary.add(line)
                        if summary.filter.loopPrefixes.isEmpty || summary.filter.loopPrefixes.contains(where: { repeats.loop.hasPrefix($0) }) {
                            traceWriter?.add(repeats)
                        }
                    case .malformed: counts.malformed += 1
                    case .foreign, .otherJSON: counts.other += 1
                    }
                }
            } catch {
                throw ReportFailure("cannot read \(path): \(error)")
            }
            counts.overlong += reader.overlongLines
            if reader.isTruncatedGzip { counts.truncatedInputs.append(path) }
        }
        for stall in summary.finish() { traceWriter?.add(stall) }
        progress.clear()
        traceWriter?.finish()
        try traceFile?.close()

        writeText(counts.description, to: 2)
        for path in counts.truncatedInputs { writeText("loop-watchdog report: \(path) is a truncated gzip file; read what it holds", to: 2) }
        guard counts.events + counts.repeats > 0 else {
            throw ReportFailure("no stall events in \(files.isEmpty ? "standard input" : files.joined(separator: ", ")) (LoopWatchdog writes them with LOOP_WATCHDOG_FORMAT=json)")
        }
        writeText(StallReportTable(summary: summary).render(top: top, order: Self.orders[sort]!, width: isatty(1) == 1 ? 200 : 0), to: 1, newline: false)

        if let folded { try OutputFile.write(FoldedStacks.render(summary, loopAsRoot: byLoop), to: folded) }
        if let flamegraph { try OutputFile.write(FlameGraphSVG().render(summary, loopAsRoot: byLoop), to: flamegraph) }
        if let pprof {
            let profile = PprofProfile.encode(summary)
            var compressed = [UInt8](repeating: 0, count: lwd_gzip_bound(profile.count))
            let length = compressed.withUnsafeMutableBufferPointer { output in
                profile.withUnsafeBufferPointer { lwd_gzip($0.baseAddress, $0.count, output.baseAddress, output.count) }
            }
            guard length >= 0 else { throw ReportFailure("could not compress the profile") }
            try OutputFile.write(Array(compressed[0..<length]), to: pprof)
        }
    }

    static func fileSize(_ descriptor: Int32) -> Int64? {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(status.st_size)
    }
}

/// What the report read, said on standard error.
struct InputCounts: CustomStringConvertible {
    var lines = 0
    var bytes: Int64 = 0
    var events = 0
    var repeats = 0
    var other = 0
    var malformed = 0
    var overlong = 0
    var truncatedInputs: [String] = []

    var description: String {
        var text = "loop-watchdog report: \(lines) lines (\(bytes >> 20) MB): \(events) stall events, \(repeats) repeats lines"
        if other > 0 { text += ", \(other) other lines skipped" }
        if malformed + overlong > 0 { text += ", \(malformed + overlong) torn or malformed lines skipped" }
        return text
    }
}

/// "reading FILE: 412 of 1024 MB, 180 MB/s" on standard error, at most twice a second, when
/// standard error is a terminal.
final class ProgressLine {
    private let enabled: Bool
    private var lastShown: Int64 = 0
    private let started = ProgressLine.now()
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    func update(path: String, read: Int64, of size: Int64?) {
        guard enabled else { return }
        let now = Self.now()
        guard now - lastShown >= 500_000_000 else { return }
        lastShown = now
        let seconds = Double(now - started) / 1e9
        let rate = seconds > 0 ? Int(Double(read >> 20) / seconds) : 0
        let total = size.map { " of \($0 >> 20)" } ?? ""
        writeText("\r\u{1B}[Kreading \(path): \(read >> 20)\(total) MB, \(rate) MB/s", to: 2, newline: false)
        shown = true
    }

    func clear() {
        if shown { writeText("\r\u{1B}[K", to: 2, newline: false) }
    }
}

/// A file written as a stream (the timeline), replaced only when complete.
final class OutputFile: @unchecked Sendable {
    // Used from the report's one thread only.
    private let path: String
    private let temporary: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var failure: Int32 = 0

    init(path: String) throws {
        self.path = path
        self.temporary = path + ".tmp-\(getpid())"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReportFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        var offset = 0
        while offset < buffer.count && failure == 0 {
            let written = buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
            } else {
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        Glibc.close(descriptor)
        guard failure == 0 else {
            unlink(temporary)
            throw ReportFailure("cannot write \(path): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else {
            throw ReportFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try OutputFile(path: path)
        file.buffer = bytes
        try file.close()
    }
}

/// Writes `text` (and a newline) to `descriptor` at once, whole.
func writeText(_ text: String, to descriptor: Int32, newline: Bool = true) {
    var bytes = Array(text.utf8)
    if newline { bytes.append(0x0A) }
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += written
    }
}

/// A report that could not be made (an input that cannot be read, no stall in it, an output
/// that cannot be written): said as "Error: ..." with exit status 1, without the usage text
/// that a wrong option gets.
struct ReportFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
