import Foundation
import Testing

@testable import LoopWatchdog
@testable import LoopWatchdogReport

/// The outputs for existing tools, checked against the stalls that went in.
@Suite struct ReportOutputTests {
    /// Two sites on two loops: 4 sleeps of 300 ms, 1 spin of 2 s, 5 repeats of the sleep.
    static func summary() -> StallSummary {
        var summary = StallSummary()
        for index in 0..<4 {
            StallSummaryTests.stall(&summary, id: UInt64(index + 1), stack: StallSummaryTests.sleepStack, milliseconds: 300, end: 1000 + Double(index))
        }
        StallSummaryTests.stall(&summary, id: 9, loop: "NIO-ELT-0-#1", stack: StallSummaryTests.spinStack, milliseconds: 2000, cause: "computing", end: 1010)
        summary.add(
            StallSiteRepeatsLine(
                site: "sleepRoute <- handle <- serve", loop: "pool", stalls: 5, blocked: .milliseconds(1500),
                longest: .milliseconds(300), time: 1012))
        return summary
    }

    @Test func foldedStacksAreRootFirstWeightedInMilliseconds() {
        let folded = FoldedStacks.render(Self.summary())
        #expect(folded == "serve;handle;sleepRoute;usleep 2700\nserve;handle;spinRoute;usleep 2000\n")
        let byLoop = FoldedStacks.render(Self.summary(), loopAsRoot: true)
        #expect(byLoop.contains("pool;serve;handle;sleepRoute;usleep 2700\n"))
        #expect(byLoop.contains("NIO-ELT-0-#1;serve;handle;spinRoute;usleep 2000\n"))
    }

    @Test func foldedNamesCannotBreakTheFormat() {
        #expect(FoldedStacks.clean("a;b\nc") == "a b c")
    }

    @Test func theFlameGraphsWidthsAreProportionalToBlockedTime() throws {
        let svg = FlameGraphSVG().render(Self.summary())
        // Every box carries its blocked milliseconds; widths are blocked time times one scale.
        let pattern = try Regex(#"<title>([^<]*)</title><rect x="([0-9.]+)" y="([0-9]+)" width="([0-9.]+)"[^>]*data-ms="([0-9.]+)""#)
        var boxes: [(title: String, width: Double, milliseconds: Double)] = []
        for match in svg.matches(of: pattern) {
            let title = String(match.output[1].substring!)
            boxes.append((title, Double(match.output[4].substring!)!, Double(match.output[5].substring!)!))
        }
        // The root; serve and handle, which both stacks share; then sleepRoute, spinRoute and a
        // usleep above each.
        #expect(boxes.count == 7)
        let root = try #require(boxes.first)
        #expect(root.milliseconds == 4700)
        #expect(abs(root.width - 1180) < 0.01)
        for box in boxes {
            #expect(abs(box.width - box.milliseconds / 4700 * 1180) < 0.02, "\(box)")
        }
        let sleep = try #require(boxes.first { $0.title.hasPrefix("sleepRoute:") })
        #expect(sleep.milliseconds == 2700)
        #expect(sleep.title.contains("9 stalls"))
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.hasSuffix("</svg>\n"))
    }

    @Test func theTimelineIsTraceEventJSONWithOneTrackPerLoopThread() throws {
        var text = ""
        var writer = ChromeTraceWriter { text += $0 }
        var summary = StallSummary()
        for index in 0..<3 {
            summary.add(Fixtures.event(.began, stallID: UInt64(index), tid: 7, frames: StallSummaryTests.sleepStack), time: 10, cause: nil)
            if let stall = summary.add(
                Fixtures.event(.ended, stallID: UInt64(index), tid: 7, blocked: .milliseconds(250), frames: []),
                time: 100 + Double(index), cause: "sleeping")
            {
                writer.add(stall)
            }
        }
        writer.add(StallSiteRepeatsLine(site: "s", loop: "main", stalls: 2, blocked: .milliseconds(500), longest: .milliseconds(260), time: 104))
        writer.finish()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        let slices = events.filter { $0["ph"] as? String == "X" }
        #expect(slices.count == 3)
        #expect(slices.allSatisfy { ($0["dur"] as? Double) == 250_000 })
        #expect((slices[0]["ts"] as? Double) == 99_750_000)
        let names = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(names == ["main (tid 7)", "main"])
        let args = try #require(slices[0]["args"] as? [String: Any])
        #expect(args["cause"] as? String == "sleeping")
        #expect((args["stack"] as? [String])?.first == "usleep")
        #expect(events.contains { $0["ph"] as? String == "i" && $0["name"] as? String == "2 repeats" })
    }

    @Test func thePprofProfileHoldsEveryStackWithCountAndNanoseconds() throws {
        let bytes = PprofProfile.encode(Self.summary())
        let profile = try ProtobufReader.fields(bytes)
        let strings = profile.filter { $0.number == 6 }.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(strings.first == "")
        let sampleTypes = try profile.filter { $0.number == 1 }.map { try ProtobufReader.fields($0.bytes).map { strings[Int($0.value)] } }
        #expect(sampleTypes == [["stalls", "count"], ["blocked", "nanoseconds"]])
        var totalStalls: UInt64 = 0
        var totalNanoseconds: UInt64 = 0
        var loops: Set<String> = []
        for sample in profile.filter({ $0.number == 2 }) {
            let fields = try ProtobufReader.fields(sample.bytes)
            let values = try ProtobufReader.packed(try #require(fields.first { $0.number == 2 }).bytes)
            totalStalls += values[0]
            totalNanoseconds += values[1]
            for label in fields.filter({ $0.number == 3 }) {
                let parts = try ProtobufReader.fields(label.bytes)
                if strings[Int(parts[0].value)] == "loop" { loops.insert(strings[Int(parts[1].value)]) }
            }
            let locations = try ProtobufReader.packed(try #require(fields.first { $0.number == 1 }).bytes)
            #expect(locations.count == 4)
        }
        #expect(totalStalls == 10)
        #expect(totalNanoseconds == 4_700_000_000)
        #expect(loops == ["pool", "NIO-ELT-0-#1"])
        let functionNames = try profile.filter { $0.number == 5 }.map { function in
            strings[Int(try #require(try ProtobufReader.fields(function.bytes).first { $0.number == 2 }).value)]
        }
        #expect(Set(functionNames) == ["usleep", "sleepRoute", "spinRoute", "handle", "serve"])
    }

    @Test func theTableListsTheSitesMostBlockedFirst() {
        let table = StallReportTable(summary: Self.summary()).render(top: 10)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("2 sites, 10 stalls, 4.7 s blocked, 1970-01-01 00:16:"))
        #expect(lines[1].hasPrefix("#"))
        #expect(lines[2].contains("2.7 s") && lines[2].contains("sleepRoute <- handle <- serve") && lines[2].contains("sleeping"))
        #expect(lines[2].contains("  9  "))
        #expect(lines[3].contains("2 s") && lines[3].contains("spinRoute") && lines[3].contains("computing"))
        #expect(StallReportTable(summary: Self.summary()).render(top: 1).contains("(1 more sites: --top 2 lists them all)"))
    }

    @Test func durationsReadWell() {
        #expect(StallReportTable.duration(.milliseconds(350)) == "350 ms")
        #expect(StallReportTable.duration(.milliseconds(1213.4)) == "1.21 s")
        #expect(StallReportTable.duration(.milliseconds(12.34)) == "12 ms")
        #expect(StallReportTable.duration(.seconds(300)) == "5 min 0 s")
        #expect(StallReportTable.timestamp(1_765_060_811) == "2025-12-06 22:40:11 UTC")
    }
}

/// Reads the protocol-buffer wire format back, for checking what `ProtobufWriter` wrote.
enum ProtobufReader {
    struct Field {
        var number: Int
        var value: UInt64
        var bytes: [UInt8]
    }

    struct Malformed: Error {}

    static func varint(_ bytes: [UInt8], _ index: inout Int) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.count, shift < 64 else { throw Malformed() }
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    static func fields(_ bytes: [UInt8]) throws -> [Field] {
        var index = 0
        var result: [Field] = []
        while index < bytes.count {
            let key = try varint(bytes, &index)
            switch key & 7 {
            case 0: result.append(Field(number: Int(key >> 3), value: try varint(bytes, &index), bytes: []))
            case 2:
                let length = Int(try varint(bytes, &index))
                guard index + length <= bytes.count else { throw Malformed() }
                result.append(Field(number: Int(key >> 3), value: 0, bytes: Array(bytes[index..<(index + length)])))
                index += length
            default: throw Malformed()
            }
        }
        return result
    }

    static func packed(_ bytes: [UInt8]) throws -> [UInt64] {
        var index = 0
        var values: [UInt64] = []
        while index < bytes.count { values.append(try varint(bytes, &index)) }
        return values
    }
}
