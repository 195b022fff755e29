/// Turns a `StallEvent` into one compact JSON object on one line (no trailing newline),
/// for machine consumption:
///
/// `{"time":1764196201.123,"event":"stall.began","stall_id":7,"loop":"main","tid":1234,`
/// `"threshold_ms":100,"blocked_ms":100.5,"capture":"signal","frames":[...]}`
///
/// `frames` is present on `began` and `continuing` events only; each frame is
/// `{"index":0,"address":"0x…","symbol":…,"image":…,"file":…,"line":…,"inlined":false}`
/// with `null` for unknown values.
struct JSONEventFormatter: Sendable {
    /// Creates a formatter.
    init() {}

    /// The JSON line for `event`, stamped with `wallClockSeconds` (Unix time) as `time`.
    func line(for event: StallEvent, wallClockSeconds: Double) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("time")
        json.fixedNumber(wallClockSeconds, fractionDigits: 3)
        json.key("event")
        json.string(event.kind.description)
        json.key("stall_id")
        json.integer(event.stallID)
        json.key("loop")
        json.string(event.loopName)
        json.key("tid")
        json.integer(event.threadID)
        json.key("threshold_ms")
        json.number(event.threshold.milliseconds)
        json.key("blocked_ms")
        json.number(event.blocked.milliseconds)
        json.key("capture")
        json.string(event.capture.description)
        if event.kind != .ended {
            json.key("frames")
            json.beginArray()
            for frame in event.frames {
                write(frame, to: &json)
            }
            json.endArray()
        }
        json.endObject()
        return json.output
    }

    private func write(_ frame: StackFrame, to json: inout JSONWriter) {
        json.beginObject()
        json.key("index")
        json.integer(frame.index)
        json.key("address")
        json.string(frame.addressText)
        json.key("symbol")
        json.string(frame.symbol)
        json.key("image")
        json.string(frame.image)
        json.key("file")
        json.string(frame.file)
        json.key("line")
        json.integer(frame.line)
        json.key("inlined")
        json.bool(frame.inlined)
        json.endObject()
    }
}
