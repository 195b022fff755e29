/// Turns a `StallEvent` into one compact JSON object on one line (no trailing newline),
/// for machine consumption:
///
/// `{"time":1764196201.123,"event":"stall.began","stall_id":7,"loop":"main","tid":1234,`
/// `"threshold_ms":100,"blocked_ms":100.5,"capture":"signal","frames":[...]}`
///
/// `frames` is present on `began` and `continuing` events only; each frame is
/// `{"index":0,"address":"0x…","symbol":…,"image":…,"image_offset":"0x…","build_id":…,`
/// `"file":…,"line":…,"inlined":false,"async":false}` with `null` for unknown values
/// (`image_offset` is the address in the image's file, what `loop-watchdog symbolicate`
/// resolves; `async` is true for an awaiting caller of an async function).
///
/// A pool's event (``StallEvent/isPool``) has no `tid`, `capture` and `frames`; its `began`
/// and `continuing` events have `threads` instead, one object per busy worker:
/// `{"tid":1234,"name":"oot.default-qos","capture":"signal","frames":[...]}`.
///
/// A loop's `continuing` and `ended` events add `cause` (``StallCause``: `verdict`,
/// `system_call`, `remedy`, `phases`, time on and off CPU...) and `samples` (the merged
/// stacks: `count`, `covered_ms`, `stacks` with `count`, `share`, `capture`, `frames`).
///
/// A job that blocked one worker of the Swift Concurrency pool (``StallEvent/job``) adds
/// `"job":{"priority":"medium","priority_value":21,"blocked_workers":1,"workers":2}`.
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
        if !event.isPool {
            json.key("tid")
            json.integer(event.threadID)
        }
        if let job = event.job {
            json.key("job")
            json.beginObject()
            json.key("priority")
            json.string(job.priorityName)
            json.key("priority_value")
            json.integer(job.priority)
            json.key("blocked_workers")
            json.integer(job.blockedWorkers)
            json.key("workers")
            json.integer(job.workers)
            json.endObject()
        }
        json.key("threshold_ms")
        json.number(event.threshold.milliseconds)
        json.key("blocked_ms")
        json.number(event.blocked.milliseconds)
        if event.isPool {
            if event.kind != .ended {
                json.key("threads")
                json.beginArray()
                for thread in event.threads {
                    write(thread, to: &json)
                }
                json.endArray()
            }
        } else {
            json.key("capture")
            json.string(event.capture.description)
            if event.kind != .ended {
                write(event.frames, to: &json)
            }
            if let cause = event.cause { StallCauseFormatting.write(cause, to: &json) }
            if let samples = event.samples {
                StallCauseFormatting.write(samples, to: &json) { frames, json in write(frames, to: &json) }
            }
        }
        json.endObject()
        return json.output
    }

    private func write(_ thread: ThreadStack, to json: inout JSONWriter) {
        json.beginObject()
        json.key("tid")
        json.integer(thread.threadID)
        json.key("name")
        json.string(thread.name)
        json.key("capture")
        json.string(thread.capture.description)
        write(thread.frames, to: &json)
        json.endObject()
    }

    private func write(_ frames: [StackFrame], to json: inout JSONWriter) {
        json.key("frames")
        json.beginArray()
        for frame in frames {
            write(frame, to: &json)
        }
        json.endArray()
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
        json.key("image_offset")
        json.string(frame.imageOffset.map { "0x" + String($0, radix: 16) })
        json.key("build_id")
        json.string(frame.buildID)
        json.key("file")
        json.string(frame.file)
        json.key("line")
        json.integer(frame.line)
        json.key("inlined")
        json.bool(frame.inlined)
        json.key("async")
        json.bool(frame.isAsync)
        json.endObject()
    }
}
