import LoopWatchdog

/// Totals of many stalls by site, stack, loop and cause: what `loop-watchdog report` prints
/// and draws, and what an application can keep in process to serve its own debug page.
///
/// Feed it events as they come (``add(_:time:)``, for example from `Watchdog`'s `onEvent`)
/// or the lines of a stall log (``add(_:)-(StallLogLine)``); ask for ``sites(sortedBy:)``,
/// ``stacks`` and the totals at any time. Memory grows with the number of distinct sites and
/// stacks, not with the number of stalls: a site is counted, never listed stall by stall
/// (quantiles come from a ``DurationSketch``).
///
/// ```swift
/// let summary = Mutex(StallSummary())
/// let watchdog = Watchdog(onEvent: { event in
///     summary.withLock { $0.add(event, time: Date().timeIntervalSince1970) }
/// })
/// // a debug route:
/// router.get("/debug/stalls") { _, _ in
///     summary.withLock { StallReportTable(summary: $0).render(top: 10) }
/// }
/// ```
///
/// A stall is counted when it ends, with the stack of its `began` event (captured while it
/// blocked) and the cause of its `ended` event. A `stall.repeats` line of the log (stalls the
/// log counted instead of showing them in full) adds its stalls and blocked time to its site,
/// drawn with the stack the site was first reported with. Not thread-safe: a value type,
/// wrap it in a lock to share it.
public struct StallSummary: Sendable {
    /// Which stalls count.
    public struct Filter: Sendable, Hashable {
        /// Only loops whose name starts with one of these (all loops when empty).
        public var loopPrefixes: [String]
        /// Only stalls that ended at or after this Unix time.
        public var since: Double?
        /// Only stalls that ended before this Unix time.
        public var until: Double?
        /// Only stalls at least this long (a repeats line counts when its mean is).
        public var minimumDuration: Duration?

        /// A filter; every stall counts by default.
        public init(loopPrefixes: [String] = [], since: Double? = nil, until: Double? = nil, minimumDuration: Duration? = nil) {
            self.loopPrefixes = loopPrefixes
            self.since = since
            self.until = until
            self.minimumDuration = minimumDuration
        }

        func admits(loop: String, time: Double, blocked: Duration) -> Bool {
            if !loopPrefixes.isEmpty && !loopPrefixes.contains(where: { loop.hasPrefix($0) }) { return false }
            if let since, time < since { return false }
            if let until, time >= until { return false }
            if let minimumDuration, blocked < minimumDuration { return false }
            return true
        }
    }

    /// One finished stall as it was counted.
    public struct Stall: Sendable, Hashable {
        /// The loop it blocked.
        public var loop: String
        /// The blocked thread (0 for a pool's starvation).
        public var threadID: Int32
        /// Its site (``siteName(of:)``).
        public var site: String
        /// The stack captured when it began, innermost first (empty when the log lost it).
        public var frames: [StackFrame]
        /// Its whole blocked duration.
        public var blocked: Duration
        /// Its cause's verdict name, `unknown` when none was found.
        public var cause: String
        /// The Unix time it ended (or, still blocked, when it was last seen).
        public var endTime: Double
        /// The Unix time it began: `endTime` less `blocked`.
        public var startTime: Double { endTime - blocked.seconds }
        /// Its stall id in the process that reported it.
        public var stallID: UInt64
        /// False for a stall still in progress when the input ended (a hang, or a cut log).
        public var ended: Bool
    }

    /// The totals of one site.
    public struct SiteTotals: Sendable {
        /// The site: its innermost application frames, `a <- b <- c`.
        public var site: String
        /// Stalls at this site.
        public var stalls: Int
        /// Their blocked time in all.
        public var blocked: Duration
        /// The longest.
        public var longest: Duration
        /// Their durations (counted repeats at their mean).
        public var durations: DurationSketch
        /// The loops they blocked, each with its blocked time.
        public var loops: [String: Duration]
        /// Their causes, each with its blocked time.
        public var causes: [String: Duration]
        /// Stalls of this site counted by `stall.repeats` lines, without a stack of their own.
        public var repeatedStalls: Int
        /// The stack the site was first seen with, innermost first.
        public var frames: [StackFrame]

        /// The cause that took most of the blocked time.
        public var mainCause: String {
            causes.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? "unknown"
        }
    }

    /// The totals of one stack on one loop with one cause: a flame graph's or a profile's
    /// sample.
    public struct StackTotals: Sendable {
        /// The stack, innermost first.
        public var frames: [StackFrame]
        /// The loop.
        public var loop: String
        /// The cause's verdict name.
        public var cause: String
        /// Stalls.
        public var stalls: Int
        /// Their blocked time.
        public var blocked: Duration
    }

    /// How ``sites(sortedBy:)`` orders the sites.
    public struct Order: Sendable, Hashable {
        fileprivate enum Key: Hashable { case total, count, longest, p99 }
        fileprivate let key: Key
        /// Most blocked time first.
        public static let total = Order(key: .total)
        /// Most stalls first.
        public static let count = Order(key: .count)
        /// Longest stall first.
        public static let longest = Order(key: .longest)
        /// Highest 99th percentile first.
        public static let p99 = Order(key: .p99)
    }

    private struct OpenStall {
        var site: String
        var frames: [StackFrame]
        var threadID: Int32
        var lastBlocked: Duration
        var lastTime: Double
    }

    private struct OpenKey: Hashable {
        var stallID: UInt64
        var loop: String
    }

    private struct StackKey: Hashable {
        var names: [String]
        var loop: String
        var cause: String
    }

    /// The filter in force.
    public let filter: Filter
    private let openLimit: Int
    private var open: [OpenKey: OpenStall] = [:]
    private var siteTotals: [String: SiteTotals] = [:]
    private var stackTotals: [StackKey: StackTotals] = [:]
    /// Stalls counted (repeats included).
    public private(set) var stallCount = 0
    /// Their blocked time in all.
    public private(set) var blockedTotal: Duration = .zero
    /// Stalls counted while still in progress (``finish()``).
    public private(set) var unfinishedCount = 0
    /// The earliest start and the latest end of the stalls counted (Unix time).
    public private(set) var timeRange: ClosedRange<Double>?

    /// An empty summary counting the stalls `filter` admits. At most `openLimit` stalls are
    /// kept waiting for their `ended` event; past that the oldest is counted as it stands.
    public init(filter: Filter = Filter(), openLimit: Int = 100_000) {
        self.filter = filter
        self.openLimit = max(1, openLimit)
    }

    /// The site of a stack: its innermost frames in the application's code, the same text
    /// as the log's `stall.repeats` lines use.
    public static func siteName(of frames: [StackFrame]) -> String {
        StallSiteSignature.of(frames)
    }

    /// Adds one event seen at Unix `time` (from `onEvent`): a `began` opens a stall, a
    /// `continuing` updates it, an `ended` counts it with its event's cause. Returns the
    /// stall counted, if any.
    @discardableResult
    public mutating func add(_ event: StallEvent, time: Double) -> Stall? {
        add(event, time: time, cause: event.cause?.verdict.name)
    }

    /// Adds one event with the name of its cause's verdict (`sleeping`, `computing`...).
    @discardableResult
    public mutating func add(_ event: StallEvent, time: Double, cause: String?) -> Stall? {
        let key = OpenKey(stallID: event.stallID, loop: event.loopName)
        switch event.kind {
        case .began, .continuing:
            if var stall = open[key] {
                stall.lastBlocked = event.blocked
                stall.lastTime = time
                open[key] = stall
            } else {
                let frames = Self.stack(of: event)
                if open.count >= openLimit, let oldest = open.min(by: { $0.value.lastTime < $1.value.lastTime }) {
                    open.removeValue(forKey: oldest.key)
                    _ = count(open: oldest.value, key: oldest.key, ended: false)
                }
                open[key] = OpenStall(
                    site: event.isPool ? "pool starved: " + Self.siteName(of: frames) : Self.siteName(of: frames),
                    frames: frames, threadID: event.threadID, lastBlocked: event.blocked, lastTime: time)
            }
            return nil
        default:
            let opened = open.removeValue(forKey: key)
            let stall = Stall(
                loop: event.loopName, threadID: event.threadID, site: opened?.site ?? "unknown (no stall.began)",
                frames: opened?.frames ?? [], blocked: event.blocked, cause: cause ?? "unknown", endTime: time,
                stallID: event.stallID, ended: true)
            return count(stall) ? stall : nil
        }
    }

    /// Adds a `stall.repeats` line: its stalls count at its site, drawn with the stack the
    /// site was reported with in full.
    public mutating func add(_ repeats: StallSiteRepeatsLine) {
        guard repeats.stalls > 0 else { return }
        let mean = repeats.blocked / repeats.stalls
        guard filter.admits(loop: repeats.loop, time: repeats.time, blocked: mean) else { return }
        var totals = siteTotals[repeats.site] ?? Self.emptyTotals(site: repeats.site, frames: [])
        totals.stalls += repeats.stalls
        totals.repeatedStalls += repeats.stalls
        totals.blocked += repeats.blocked
        totals.longest = max(totals.longest, repeats.longest)
        totals.durations.add(mean, count: repeats.stalls)
        totals.loops[repeats.loop, default: .zero] += repeats.blocked
        siteTotals[repeats.site] = totals
        // Drawn with the site's stack, or a stack of the site's name when the log never
        // showed the site in full.
        let frames = totals.frames.isEmpty ? [StackFrame(index: 0, address: 0, symbol: repeats.site)] : totals.frames
        let key = StackKey(names: Self.names(frames), loop: repeats.loop, cause: totals.mainCause)
        var entry = stackTotals[key] ?? StackTotals(frames: frames, loop: repeats.loop, cause: totals.mainCause, stalls: 0, blocked: .zero)
        entry.stalls += repeats.stalls
        entry.blocked += repeats.blocked
        stackTotals[key] = entry
        stallCount += repeats.stalls
        blockedTotal += repeats.blocked
        extendTimeRange(start: repeats.time - repeats.blocked.seconds, end: repeats.time)
    }

    /// Adds one line of a stall log; other lines are ignored. Returns the stall counted, if
    /// any.
    @discardableResult
    public mutating func add(_ line: StallLogLine) -> Stall? {
        switch line {
        case .event(let event, let time, let cause): return add(event, time: time, cause: cause)
        case .repeats(let repeats): add(repeats)
        default: break
        }
        return nil
    }

    /// Counts the stalls still open (a hang in progress, or a log that ends mid-stall) with
    /// the duration they were last seen with, and returns them.
    @discardableResult
    public mutating func finish() -> [Stall] {
        let remaining = open.sorted { $0.value.lastTime < $1.value.lastTime }
        open.removeAll()
        return remaining.compactMap { count(open: $0.value, key: $0.key, ended: false) }
    }

    /// Every site, ordered by `order` (then by name).
    public func sites(sortedBy order: Order = .total) -> [SiteTotals] {
        siteTotals.values.sorted { a, b in
            let (x, y): (Duration, Duration)
            switch order.key {
            case .total: (x, y) = (a.blocked, b.blocked)
            case .count: (x, y) = (.nanoseconds(a.stalls), .nanoseconds(b.stalls))
            case .longest: (x, y) = (a.longest, b.longest)
            case .p99: (x, y) = (a.durations.quantile(0.99), b.durations.quantile(0.99))
            }
            return x != y ? x > y : a.site < b.site
        }
    }

    /// The blocked time by stack, loop and cause, most first. Repeats are drawn with their
    /// site's stack and main cause as known when their line came (a stack of the site's name
    /// alone when the log had not shown the site in full). The stacks' blocked times add up
    /// to ``blockedTotal``.
    public var stacks: [StackTotals] {
        stackTotals.values.sorted {
            $0.blocked != $1.blocked ? $0.blocked > $1.blocked : Self.names($0.frames).joined() < Self.names($1.frames).joined()
        }
    }

    // MARK: - Counting

    private mutating func count(open stall: OpenStall, key: OpenKey, ended: Bool) -> Stall? {
        let counted = Stall(
            loop: key.loop, threadID: stall.threadID, site: stall.site, frames: stall.frames, blocked: stall.lastBlocked,
            cause: "unknown", endTime: stall.lastTime, stallID: key.stallID, ended: ended)
        guard count(counted) else { return nil }
        unfinishedCount += 1
        return counted
    }

    /// Counts `stall` if the filter admits it.
    private mutating func count(_ stall: Stall) -> Bool {
        guard filter.admits(loop: stall.loop, time: stall.endTime, blocked: stall.blocked) else { return false }
        var totals = siteTotals[stall.site] ?? Self.emptyTotals(site: stall.site, frames: stall.frames)
        if totals.frames.isEmpty { totals.frames = stall.frames }
        totals.stalls += 1
        totals.blocked += stall.blocked
        totals.longest = max(totals.longest, stall.blocked)
        totals.durations.add(stall.blocked)
        totals.loops[stall.loop, default: .zero] += stall.blocked
        totals.causes[stall.cause, default: .zero] += stall.blocked
        siteTotals[stall.site] = totals
        let key = StackKey(names: Self.names(stall.frames), loop: stall.loop, cause: stall.cause)
        var entry = stackTotals[key] ?? StackTotals(frames: stall.frames, loop: stall.loop, cause: stall.cause, stalls: 0, blocked: .zero)
        entry.stalls += 1
        entry.blocked += stall.blocked
        stackTotals[key] = entry
        stallCount += 1
        blockedTotal += stall.blocked
        extendTimeRange(start: stall.startTime, end: stall.endTime)
        return true
    }

    private mutating func extendTimeRange(start: Double, end: Double) {
        guard let range = timeRange else {
            timeRange = min(start, end)...end
            return
        }
        timeRange = min(range.lowerBound, start)...max(range.upperBound, end)
    }

    private static func emptyTotals(site: String, frames: [StackFrame]) -> SiteTotals {
        SiteTotals(
            site: site, stalls: 0, blocked: .zero, longest: .zero, durations: DurationSketch(), loops: [:], causes: [:],
            repeatedStalls: 0, frames: frames)
    }

    /// The stack a stall is drawn with: a loop's frames, or a starved pool's first busy
    /// worker's.
    private static func stack(of event: StallEvent) -> [StackFrame] {
        if !event.frames.isEmpty { return event.frames }
        return event.threads.first { !$0.frames.isEmpty }?.frames ?? []
    }

    /// A frame's name in stacks: its function, or image and offset when unnamed.
    public static func frameName(_ frame: StackFrame) -> String {
        if let symbol = frame.symbol { return symbol }
        let image = frame.image ?? "?"
        if let offset = frame.imageOffset { return "\(image)+0x\(String(offset, radix: 16))" }
        return image
    }

    static func names(_ frames: [StackFrame]) -> [String] {
        frames.filter { !$0.inlined }.map(frameName)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
