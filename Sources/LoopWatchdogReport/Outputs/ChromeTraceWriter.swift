import LoopWatchdog

/// A timeline of stalls in the Chrome trace-event JSON format, which Perfetto UI,
/// chrome://tracing and speedscope open: one track per loop and thread, each stall a slice
/// from its start to its end with its site, cause and stack in `args`, and each
/// `stall.repeats` line an instant event on its loop's track. Written as the stalls come,
/// so that memory does not grow with the log.
///
/// ```json
/// {"traceEvents":[
/// {"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"swift-concurrency-pool.medium (tid 6688)"}},
/// {"ph":"X","name":"sleepRoute<A>(_:_:)","cat":"stall","pid":1,"tid":1,"ts":1765060811123456,"dur":301792,"args":{...}},
/// ...]}
/// ```
public struct ChromeTraceWriter {
    private let write: (String) -> Void
    private var tracks: [String: Int] = [:]
    private var started = false
    private var finished = false
    /// Most frames of a stack written into a slice's `args`.
    public var maximumFrames = 24

    /// A writer that hands its text, in pieces, to `write`.
    public init(write: @escaping (String) -> Void) {
        self.write = write
    }

    private mutating func startIfNeeded() {
        guard !started else { return }
        started = true
        write("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + Self.metadata("process_name", tid: nil, name: "LoopWatchdog stalls"))
    }

    /// A metadata event naming the process (`tid` nil) or a track.
    private static func metadata(_ kind: String, tid: Int?, name: String) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("ph")
        json.string("M")
        json.key("name")
        json.string(kind)
        json.key("pid")
        json.integer(1)
        if let tid {
            json.key("tid")
            json.integer(tid)
        }
        json.key("args")
        json.beginObject()
        json.key("name")
        json.string(name)
        json.endObject()
        json.endObject()
        return json.output
    }

    private mutating func track(_ name: String) -> Int {
        if let id = tracks[name] { return id }
        let id = tracks.count + 1
        tracks[name] = id
        write(",\n" + Self.metadata("thread_name", tid: id, name: name))
        return id
    }

    /// Adds a stall as a slice.
    public mutating func add(_ stall: StallSummary.Stall) {
        startIfNeeded()
        let trackName = stall.threadID == 0 ? stall.loop : "\(stall.loop) (tid \(stall.threadID))"
        let id = track(trackName)
        let names = StallSummary.names(stall.frames)
        var json = JSONWriter()
        json.beginObject()
        json.key("ph")
        json.string("X")
        json.key("name")
        json.string(stall.site.split(separator: " <- ", maxSplits: 1).first.map(String.init) ?? stall.site)
        json.key("cat")
        json.string(stall.ended ? "stall" : "stall,unfinished")
        json.key("pid")
        json.integer(1)
        json.key("tid")
        json.integer(id)
        json.key("ts")
        json.fixedNumber(stall.startTime * 1e6, fractionDigits: 0)
        json.key("dur")
        json.fixedNumber(stall.blocked.milliseconds * 1e3, fractionDigits: 0)
        json.key("args")
        json.beginObject()
        json.key("site")
        json.string(stall.site)
        json.key("loop")
        json.string(stall.loop)
        json.key("tid")
        json.integer(stall.threadID)
        json.key("stall_id")
        json.integer(stall.stallID)
        json.key("blocked_ms")
        json.number(stall.blocked.milliseconds)
        json.key("cause")
        json.string(stall.cause)
        json.key("ended")
        json.bool(stall.ended)
        json.key("stack")
        json.beginArray()
        for name in names.prefix(maximumFrames) { json.string(name) }
        json.endArray()
        json.endObject()
        json.endObject()
        write(",\n" + json.output)
    }

    /// Adds a `stall.repeats` line as an instant event on its loop's track.
    public mutating func add(_ repeats: StallSiteRepeatsLine) {
        startIfNeeded()
        let id = track(repeats.loop)
        var json = JSONWriter()
        json.beginObject()
        json.key("ph")
        json.string("i")
        json.key("s")
        json.string("t")
        json.key("name")
        json.string("\(repeats.stalls) repeats")
        json.key("cat")
        json.string("repeats")
        json.key("pid")
        json.integer(1)
        json.key("tid")
        json.integer(id)
        json.key("ts")
        json.fixedNumber(repeats.time * 1e6, fractionDigits: 0)
        json.key("args")
        json.beginObject()
        json.key("site")
        json.string(repeats.site)
        json.key("stalls")
        json.integer(repeats.stalls)
        json.key("blocked_ms")
        json.number(repeats.blocked.milliseconds)
        json.key("longest_ms")
        json.number(repeats.longest.milliseconds)
        json.endObject()
        json.endObject()
        write(",\n" + json.output)
    }

    /// Ends the JSON text. Call once, after the last stall.
    public mutating func finish() {
        guard !finished else { return }
        startIfNeeded()
        finished = true
        write("\n]}\n")
    }
}
