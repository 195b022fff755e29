import Logging

/// The text and JSON forms of the log's lines about repeated stalls and of its periodic
/// summary (see ``StallSites``).
///
/// Text: `stall site 'sleepRoute(_:) <- ...' (loop 'swift-concurrency-pool.medium'): 412 more
/// stalls, 61.2 s blocked in all, the longest 210 ms, in the last 32 s (each new site is
/// reported in full once; LOOP_WATCHDOG_REPEATS=all reports every stall)`.
///
/// JSON: `{"time":…,"event":"stall.repeats","site":"…","loop":"…","stalls":412,`
/// `"blocked_ms":61200,"longest_ms":210,"since_ms":32000}` and
/// `{"time":…,"event":"stall.summary","interval_ms":60000,"sites":[{"site":"…","loop":"…",`
/// `"stalls":900,"blocked_ms":95000},…],"other_sites":0}`.
enum StallSiteFormatting {
    static func message(for repeats: StallSiteRepeats) -> String {
        "stall site '\(repeats.site.escapedForLogLine)' (loop '\(repeats.loop.escapedForLogLine)'): \(repeats.stalls) more \(repeats.stalls == 1 ? "stall" : "stalls"), \(repeats.blocked.humanReadable) blocked in all, the longest \(repeats.longest.humanReadable), in the last \(repeats.since.humanReadable) (each new site is reported in full once; LOOP_WATCHDOG_REPEATS=all reports every stall)"
    }

    static func message(for summary: StallSiteSummary) -> String {
        let entries = summary.sites.enumerated().map { index, entry in
            "\(index + 1). '\(entry.site.escapedForLogLine)' (loop '\(entry.loop.escapedForLogLine)'): \(entry.stalls) \(entry.stalls == 1 ? "stall" : "stalls"), \(entry.blocked.humanReadable) blocked"
        }
        let others = summary.otherSites > 0 ? "; and \(summary.otherSites) other sites" : ""
        return "stall sites in the last \(summary.interval.humanReadable), most blocked first: \(entries.joined(separator: "; "))\(others)"
    }

    static func metadata(for repeats: StallSiteRepeats) -> Logger.Metadata {
        [
            "event": "stall.repeats", "loop": "\(repeats.loop.escapedForLogLine)", "stalls": "\(repeats.stalls)",
            "blocked_ms": "\(DecimalText.trimmed(repeats.blocked.milliseconds, maxFractionDigits: 3) ?? "0")",
        ]
    }

    static func jsonLine(for repeats: StallSiteRepeats, wallClockSeconds: Double) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("time")
        json.fixedNumber(wallClockSeconds, fractionDigits: 3)
        json.key("event")
        json.string("stall.repeats")
        json.key("site")
        json.string(repeats.site)
        json.key("loop")
        json.string(repeats.loop)
        json.key("stalls")
        json.integer(repeats.stalls)
        json.key("blocked_ms")
        json.number(repeats.blocked.milliseconds)
        json.key("longest_ms")
        json.number(repeats.longest.milliseconds)
        json.key("since_ms")
        json.number(repeats.since.milliseconds)
        json.endObject()
        return json.output
    }

    static func jsonLine(for summary: StallSiteSummary, wallClockSeconds: Double) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("time")
        json.fixedNumber(wallClockSeconds, fractionDigits: 3)
        json.key("event")
        json.string("stall.summary")
        json.key("interval_ms")
        json.number(summary.interval.milliseconds)
        json.key("sites")
        json.beginArray()
        for entry in summary.sites {
            json.beginObject()
            json.key("site")
            json.string(entry.site)
            json.key("loop")
            json.string(entry.loop)
            json.key("stalls")
            json.integer(entry.stalls)
            json.key("blocked_ms")
            json.number(entry.blocked.milliseconds)
            json.endObject()
        }
        json.endArray()
        json.key("other_sites")
        json.integer(summary.otherSites)
        json.endObject()
        return json.output
    }
}
