/// The text and JSON forms of a stall's ``StallCause`` and merged ``StallSamples``.
enum StallCauseFormatting {
    /// Most distinct stacks shown in text (JSON has every one kept).
    static let stacksInText = 3

    /// `cause: computing (51 %), then sleeping in nanosleep (49 %); on CPU 1.02 s, waiting for a CPU 3 ms, off CPU 0.98 s of 2 s`.
    static func causeLine(_ cause: StallCause) -> String {
        let phases = cause.phases.isEmpty
            ? [StallCause.Phase(verdict: cause.verdict, systemCall: cause.systemCall, share: 1)] : cause.phases
        var line = "cause: " + phases.map { phaseText($0) + " (\(percent($0.share)))" }.joined(separator: ", then ")
        var figures: [String] = []
        if let onCPU = cause.onCPU { figures.append("on CPU \(onCPU.humanReadable)") }
        if let waiting = cause.waitingForCPU { figures.append("waiting for a CPU \(waiting.humanReadable)") }
        if let offCPU = cause.offCPU { figures.append("off CPU \(offCPU.humanReadable)") }
        if !figures.isEmpty { line += "; " + figures.joined(separator: ", ") + " of \(cause.measured.humanReadable)" }
        if let throttled = cause.throttled, throttled > .zero {
            line += "; the cgroup was throttled for \(throttled.humanReadable)"
        }
        if let pressure = cause.cpuPressure, pressure >= 0.1 {
            line += "; the machine's CPUs were contended \(percent(pressure)) of the time"
        }
        let moved = (cause.readBytes ?? 0) + (cause.writtenBytes ?? 0)
        if moved >= 1 << 20 { line += "; \(megabytes(cause.readBytes ?? 0)) read, \(megabytes(cause.writtenBytes ?? 0)) written" }
        return line
    }

    /// `remedy: ...`.
    static func remedyLine(_ cause: StallCause) -> String {
        "remedy: \(cause.remedy)"
    }

    /// `sleeping in nanosleep`, `computing`, `file I/O in read`.
    static func phaseText(_ phase: StallCause.Phase) -> String {
        guard let call = phase.systemCall else { return phase.verdict.description }
        return "\(phase.verdict.description) in \(call)"
    }

    /// `  samples: 40 over 2 s, 2 distinct stacks`, then for the most sampled stacks
    /// `  20 of 40 samples (50 %), by signal:` and their frames (indented by `frameLines`).
    static func sampleLines(
        _ samples: StallSamples, withStacks: Bool, frameLines: ([StackFrame]) -> [String]
    ) -> [String] {
        var head = "samples: \(samples.count) over \(samples.covered.humanReadable), "
        head += samples.stacks.count == 1 ? "1 distinct stack" : "\(samples.stacks.count) distinct stacks"
        if samples.otherCount > 0 { head += ", \(samples.otherCount) without a stack kept" }
        if samples.reachedLimit { head += " (the sample limit was reached)" }
        var lines = ["  " + head]
        guard withStacks else { return lines }
        for stack in samples.stacks.prefix(stacksInText) {
            let share = percent(Double(stack.count) / Double(max(samples.count, 1)))
            lines.append("  \(stack.count) of \(samples.count) samples (\(share)), by \(stack.capture.description.escapedForLogLine):")
            lines += frameLines(stack.frames)
        }
        if samples.stacks.count > stacksInText {
            let rest = samples.stacks.dropFirst(stacksInText)
            lines.append("  \(rest.count) more stacks with \(rest.reduce(0) { $0 + $1.count }) samples")
        }
        return lines
    }

    /// Writes `"cause":{...}`: verdict, system_call, remedy, phases, and the figures
    /// (`on_cpu_ms`, `waiting_for_cpu_ms`, `off_cpu_ms`, `measured_ms`, `throttled_ms`,
    /// `cpu_pressure`, `read_bytes`, `written_bytes`; null when unknown).
    static func write(_ cause: StallCause, to json: inout JSONWriter) {
        json.key("cause")
        json.beginObject()
        json.key("verdict")
        json.string(cause.verdict.name)
        json.key("system_call")
        json.string(cause.systemCall)
        json.key("remedy")
        json.string(cause.remedy)
        json.key("phases")
        json.beginArray()
        for phase in cause.phases {
            json.beginObject()
            json.key("verdict")
            json.string(phase.verdict.name)
            json.key("system_call")
            json.string(phase.systemCall)
            json.key("share")
            json.number(phase.share)
            json.endObject()
        }
        json.endArray()
        for (key, value) in [
            ("on_cpu_ms", cause.onCPU), ("waiting_for_cpu_ms", cause.waitingForCPU), ("off_cpu_ms", cause.offCPU),
            ("measured_ms", cause.measured), ("throttled_ms", cause.throttled),
        ] {
            json.key(key)
            if let value { json.number(value.milliseconds) } else { json.null() }
        }
        json.key("cpu_pressure")
        if let pressure = cause.cpuPressure { json.number(pressure) } else { json.null() }
        json.key("read_bytes")
        json.integer(cause.readBytes)
        json.key("written_bytes")
        json.integer(cause.writtenBytes)
        json.endObject()
    }

    /// Writes `"samples":{"count":40,"covered_ms":2000,"other":0,"limit_reached":false,
    /// "stacks":[{"count":20,"share":0.5,"capture":"signal","frames":[...]}]}`.
    static func write(_ samples: StallSamples, to json: inout JSONWriter, frames: ([StackFrame], inout JSONWriter) -> Void) {
        json.key("samples")
        json.beginObject()
        json.key("count")
        json.integer(samples.count)
        json.key("covered_ms")
        json.number(samples.covered.milliseconds)
        json.key("other")
        json.integer(samples.otherCount)
        json.key("limit_reached")
        json.bool(samples.reachedLimit)
        json.key("stacks")
        json.beginArray()
        for stack in samples.stacks {
            json.beginObject()
            json.key("count")
            json.integer(stack.count)
            json.key("share")
            json.number(Double(stack.count) / Double(max(samples.count, 1)))
            json.key("capture")
            json.string(stack.capture.description)
            frames(stack.frames, &json)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    private static func percent(_ share: Double) -> String {
        "\(Int((share * 100).rounded())) %"
    }

    /// `bytes` in MB, or in GB from 10 GB on.
    private static func megabytes(_ bytes: Int64) -> String {
        let megabytes = Double(bytes) / 1_048_576
        let (value, unit) = megabytes >= 10_240 ? (megabytes / 1_024, "GB") : (megabytes, "MB")
        return "\(DecimalText.trimmed(value, maxFractionDigits: value < 10 ? 1 : 0) ?? "?") \(unit)"
    }
}
