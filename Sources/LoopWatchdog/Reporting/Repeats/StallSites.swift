/// Which stalls the log reports in full, and what it says of the others: the state of
/// ``RepeatPolicy/backoff``, a pure value driven with explicit times (monotonic
/// nanoseconds), so that tests run it on manual time.
///
/// The first stall of a site (``StallSiteSignature``) is logged in full, `began` and
/// `ended`. Later stalls of that site are counted instead; their totals are logged as one
/// ``StallSiteRepeats`` line ``initialBackoff`` after the full report, then after twice that,
/// and so on up to ``maximumBackoff``, each time there were repeats. A stall that reaches
/// `continuing` is logged from then on whatever its site. A site quiet for ``forgetAfter`` is
/// forgotten (its next stall is logged in full again); at most ``siteLimit`` sites are kept,
/// the least recently seen going first (their pending totals said first).
///
/// Every stall also counts towards the periodic ``StallSiteSummary`` of the sites that
/// blocked the most, when a summary interval is set.
///
/// Thread model: owned by the reporter queue.
struct StallSites {
    static let initialBackoff: Int64 = 2_000_000_000
    static let maximumBackoff: Int64 = 60_000_000_000
    static let forgetAfter: Int64 = 600_000_000_000
    static let siteLimit = 256
    /// Most sites one summary lists.
    static let summaryLimit = 5

    /// What the log should do with one event.
    enum Verdict: Equatable {
        /// Log it in full.
        case report
        /// Counted in its site's totals; not logged.
        case counted
    }

    private struct Site {
        var loop: String
        var lastSeen: Int64
        /// When the repeats line is due; its backoff doubles each time one is said.
        var dueAt: Int64
        var backoff: Int64
        var lastSaidAt: Int64
        /// Repeats since the last line about this site.
        var pendingStalls = 0
        var pendingBlocked: Int64 = 0
        var pendingLongest: Int64 = 0
        /// Stalls and blocked time since the last summary.
        var summaryStalls = 0
        var summaryBlocked: Int64 = 0
    }

    private var sites: [String: Site] = [:]
    /// Stalls whose `began` was counted, with their site: their `ended` is counted too.
    private var counted: [UInt64: String] = [:]
    /// Stalls logged in full, with their site: their `ended` adds to the summary only.
    private var reported: [UInt64: String] = [:]
    private let summaryInterval: Int64?
    private var summaryStartedAt: Int64?
    /// Whether a stall was counted instead of logged since the summary started: a summary
    /// is said only then (stalls all logged in full need none).
    private var countedSinceSummary = false
    /// Totals of sites forgotten to make room, said with the next lines due.
    private var evicted: [StallSiteRepeats] = []

    /// Sites with a summary every `summaryInterval` nanoseconds (nil: none).
    init(summaryInterval: Int64?) {
        self.summaryInterval = summaryInterval
    }

    /// Decides for `event` at `now`. Pool starvations (no stack of their own) are always
    /// reported.
    mutating func decide(_ event: StallEvent, now: Int64) -> Verdict {
        guard !event.isPool else { return .report }
        switch event.kind {
        case .began:
            let signature = StallSiteSignature.of(event.frames)
            if summaryStartedAt == nil { summaryStartedAt = now }
            if var site = sites[signature] {
                site.lastSeen = now
                sites[signature] = site
                counted[event.stallID] = signature
                return .counted
            }
            makeRoom(now: now)
            sites[signature] = Site(
                loop: event.loopName, lastSeen: now, dueAt: now + Self.initialBackoff, backoff: Self.initialBackoff,
                lastSaidAt: now)
            reported[event.stallID] = signature
            return .report
        case .continuing:
            // Long enough to matter on its own: logged, and its end too.
            if let signature = counted.removeValue(forKey: event.stallID) { reported[event.stallID] = signature }
            return .report
        case .ended:
            let blocked = Self.nanoseconds(event.blocked)
            if let signature = counted.removeValue(forKey: event.stallID) {
                if var site = sites[signature] {
                    site.pendingStalls += 1
                    site.pendingBlocked += blocked
                    site.pendingLongest = max(site.pendingLongest, blocked)
                    sites[signature] = site
                }
                addToSummary(signature, blocked)
                countedSinceSummary = true
                return .counted
            }
            if let signature = reported.removeValue(forKey: event.stallID) { addToSummary(signature, blocked) }
            return .report
        default:
            return .report
        }
    }

    /// The repeats lines due at `now` (and the summary, when due), oldest sites first.
    mutating func due(now: Int64) -> (repeats: [StallSiteRepeats], summary: StallSiteSummary?) {
        var lines = evicted
        evicted = []
        for (signature, site) in sites.sorted(by: { $0.value.dueAt < $1.value.dueAt }) where site.dueAt <= now {
            if site.pendingStalls > 0 {
                lines.append(say(signature, now: now))
            } else if now - site.lastSeen >= Self.forgetAfter && !isInProgress(signature) {
                sites[signature] = nil
            } else {
                // Nothing to say: look again one backoff later, without lengthening it.
                sites[signature]?.dueAt = now + site.backoff
            }
        }
        return (lines, summaryDue(now: now))
    }

    /// Every repeats line and the summary, due or not: for a host shutting down.
    mutating func everything(now: Int64) -> (repeats: [StallSiteRepeats], summary: StallSiteSummary?) {
        let lines = evicted + sites.keys.sorted().filter { sites[$0]!.pendingStalls > 0 }.map { say($0, now: now) }
        evicted = []
        return (lines, summaryStartedAt == nil ? nil : summary(now: now))
    }

    /// When the next line may be due; nil when nothing is pending.
    var nextDue: Int64? {
        let siteDue = evicted.isEmpty ? sites.values.map(\.dueAt).min() : .min
        let summaryDue = summaryInterval.flatMap { interval in summaryStartedAt.map { $0 + interval } }
        switch (siteDue, summaryDue) {
        case (let site?, let summary?): return min(site, summary)
        case (let site?, nil): return site
        case (nil, let summary): return summary
        }
    }

    /// How many sites are known (for tests).
    var siteCount: Int { sites.count }

    private mutating func say(_ signature: String, now: Int64) -> StallSiteRepeats {
        let site = sites[signature]!
        let line = StallSiteRepeats(
            site: signature, loop: site.loop, stalls: site.pendingStalls,
            blocked: .nanoseconds(site.pendingBlocked), longest: .nanoseconds(site.pendingLongest),
            since: .nanoseconds(max(now - site.lastSaidAt, 0)))
        let backoff = min(site.backoff * 2, Self.maximumBackoff)
        sites[signature]?.pendingStalls = 0
        sites[signature]?.pendingBlocked = 0
        sites[signature]?.pendingLongest = 0
        sites[signature]?.lastSaidAt = now
        sites[signature]?.backoff = backoff
        sites[signature]?.dueAt = now + backoff
        return line
    }

    private func isInProgress(_ signature: String) -> Bool {
        counted.values.contains(signature) || reported.values.contains(signature)
    }

    private mutating func addToSummary(_ signature: String, _ blocked: Int64) {
        sites[signature]?.summaryStalls += 1
        sites[signature]?.summaryBlocked += blocked
    }

    private mutating func summaryDue(now: Int64) -> StallSiteSummary? {
        guard let interval = summaryInterval, let started = summaryStartedAt, now - started >= interval else { return nil }
        return summary(now: now)
    }

    /// The summary since the last one, and a new interval started (none until the next stall).
    private mutating func summary(now: Int64) -> StallSiteSummary? {
        let ranked = sites.filter { $0.value.summaryStalls > 0 }
            .sorted { ($0.value.summaryBlocked, $1.key) > ($1.value.summaryBlocked, $0.key) }
        for key in sites.keys {
            sites[key]?.summaryStalls = 0
            sites[key]?.summaryBlocked = 0
        }
        let started = summaryStartedAt ?? now
        summaryStartedAt = nil
        defer { countedSinceSummary = false }
        guard !ranked.isEmpty, countedSinceSummary else { return nil }
        return StallSiteSummary(
            interval: .nanoseconds(max(now - started, 0)),
            sites: ranked.prefix(Self.summaryLimit).map { signature, site in
                StallSiteSummary.Entry(
                    site: signature, loop: site.loop, stalls: site.summaryStalls, blocked: .nanoseconds(site.summaryBlocked))
            },
            otherSites: max(ranked.count - Self.summaryLimit, 0))
    }

    /// Forgets the least recently seen site when the limit is reached, keeping its pending
    /// totals to be said. Its stalls in progress stay counted (their ends are not logged).
    private mutating func makeRoom(now: Int64) {
        guard sites.count >= Self.siteLimit,
            let oldest = sites.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key
        else { return }
        if sites[oldest]!.pendingStalls > 0 { evicted.append(say(oldest, now: now)) }
        sites[oldest] = nil
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// One line about a site's repeated stalls: how many, how long they blocked in all and at
/// most, since the last line about it.
struct StallSiteRepeats: Sendable, Equatable {
    var site: String
    /// The loop of the site's first stall.
    var loop: String
    var stalls: Int
    var blocked: Duration
    var longest: Duration
    var since: Duration
}

/// The sites that blocked the most over an interval, most blocked time first.
struct StallSiteSummary: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var site: String
        var loop: String
        var stalls: Int
        var blocked: Duration
    }

    var interval: Duration
    var sites: [Entry]
    /// Sites with stalls beyond the ones listed.
    var otherSites: Int
}
