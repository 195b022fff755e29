import LoopWatchdog

/// A pprof profile (profile.proto, the format of `go tool pprof`, Pyroscope, Grafana,
/// Parca and Perfetto) of blocked time: one sample per distinct stack, loop and cause, with
/// two values, `stalls/count` and `blocked/nanoseconds` (the default), and the string labels
/// `loop` and `cause`. Functions carry their file and locations their line where the stall
/// log had them. ``encode(_:)`` gives the uncompressed message; pprof files are usually
/// gzip-compressed (`loop-watchdog report --pprof` writes them so).
public enum PprofProfile {
    /// The encoded `Profile` message for `summary`.
    public static func encode(_ summary: StallSummary) -> [UInt8] {
        var strings = StringTable()
        let stallsType = (strings.index("stalls"), strings.index("count"))
        let blockedType = (strings.index("blocked"), strings.index("nanoseconds"))
        let loopKey = strings.index("loop")
        let causeKey = strings.index("cause")

        var functions: [FunctionKey: UInt64] = [:]
        var functionOrder: [FunctionKey] = []
        var locations: [LocationKey: UInt64] = [:]
        var locationOrder: [LocationKey] = []
        var samples: [(locations: [UInt64], stalls: Int64, nanoseconds: Int64, loop: Int64, cause: Int64)] = []

        for stack in summary.stacks {
            var locationIDs: [UInt64] = []
            var frames = stack.frames.filter { !$0.inlined }
            if frames.isEmpty { frames = [StackFrame(index: 0, address: 0, symbol: "[no stack]")] }
            for frame in frames {  // innermost first, as pprof wants
                let function = FunctionKey(
                    name: strings.index(StallSummary.frameName(frame)), file: strings.index(frame.file ?? ""))
                let functionID: UInt64
                if let known = functions[function] {
                    functionID = known
                } else {
                    functionID = UInt64(functionOrder.count + 1)
                    functions[function] = functionID
                    functionOrder.append(function)
                }
                let location = LocationKey(function: functionID, line: Int64(frame.line ?? 0), address: UInt64(frame.address))
                if let known = locations[location] {
                    locationIDs.append(known)
                } else {
                    let id = UInt64(locationOrder.count + 1)
                    locations[location] = id
                    locationOrder.append(location)
                    locationIDs.append(id)
                }
            }
            samples.append((
                locationIDs, Int64(stack.stalls), stack.blocked.roundedNanoseconds, strings.index(stack.loop),
                strings.index(stack.cause)
            ))
        }

        var profile = ProtobufWriter()
        for (type, unit) in [stallsType, blockedType] {
            profile.message(1) { valueType in  // sample_type
                valueType.integer(1, type)
                valueType.integer(2, unit)
            }
        }
        for sample in samples {
            profile.message(2) { message in  // sample
                message.packed(1, sample.locations)
                message.packed(2, [UInt64(bitPattern: sample.stalls), UInt64(bitPattern: sample.nanoseconds)])
                message.message(3) { label in
                    label.integer(1, loopKey)
                    label.integer(2, sample.loop)
                }
                message.message(3) { label in
                    label.integer(1, causeKey)
                    label.integer(2, sample.cause)
                }
            }
        }
        for (index, location) in locationOrder.enumerated() {
            profile.message(4) { message in  // location
                message.unsigned(1, UInt64(index + 1))
                message.unsigned(3, location.address)
                message.message(4) { line in
                    line.unsigned(1, location.function)
                    line.integer(2, location.line)
                }
            }
        }
        for (index, function) in functionOrder.enumerated() {
            profile.message(5) { message in  // function
                message.unsigned(1, UInt64(index + 1))
                message.integer(2, function.name)
                message.integer(3, function.name)
                message.integer(4, function.file)
            }
        }
        for text in strings.texts {
            profile.string(6, text)  // string_table; entry 0 is ""
        }
        if let range = summary.timeRange {
            profile.integer(9, Int64(range.lowerBound * 1e9))  // time_nanos
            profile.integer(10, Int64((range.upperBound - range.lowerBound) * 1e9))  // duration_nanos
        }
        profile.integer(14, blockedType.0)  // default_sample_type
        return profile.bytes
    }

    private struct FunctionKey: Hashable {
        var name: Int64
        var file: Int64
    }

    private struct LocationKey: Hashable {
        var function: UInt64
        var line: Int64
        var address: UInt64
    }

    private struct StringTable {
        private(set) var texts: [String] = [""]
        private var indexes: [String: Int64] = ["": 0]

        mutating func index(_ text: String) -> Int64 {
            if let known = indexes[text] { return known }
            let index = Int64(texts.count)
            texts.append(text)
            indexes[text] = index
            return index
        }
    }
}

extension Duration {
    /// Whole nanoseconds, rounded.
    var roundedNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + Int64((Double(components.attoseconds) / 1e9).rounded())
    }
}
