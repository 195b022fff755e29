import LoopWatchdog

/// A flame graph of blocked time as one self-contained SVG file: no script, no font or
/// style from the network. Each box is a function; its width is the blocked time of the
/// stalls whose stack passes through it, callers below callees (the root at the bottom,
/// the blocking call on top), siblings in alphabetical order as flamegraph.pl draws them.
/// Hovering over a box shows its full name, blocked time, share and stalls.
public struct FlameGraphSVG: Sendable {
    /// The width of the picture, in pixels.
    public var width = 1200
    /// The height of one frame, in pixels.
    public var frameHeight = 18
    /// The title drawn above the graph.
    public var title = "LoopWatchdog: where the loops were blocked"

    /// A flame graph with the default size and title.
    public init() {}

    final class Node {
        let name: String
        var blocked: Double = 0  // milliseconds
        var stalls = 0
        var children: [String: Node] = [:]
        init(name: String) { self.name = name }
    }

    /// The tree of `summary`'s stacks: the root holds every stall.
    static func tree(_ summary: StallSummary, loopAsRoot: Bool) -> Node {
        let root = Node(name: "all")
        for stack in summary.stacks {
            var names = StallSummary.names(stack.frames).reversed().map { $0 }
            if names.isEmpty { names = ["[no stack]"] }
            if loopAsRoot { names.insert(stack.loop, at: 0) }
            let milliseconds = stack.blocked.milliseconds
            root.blocked += milliseconds
            root.stalls += stack.stalls
            var node = root
            for name in names {
                let child = node.children[name] ?? Node(name: name)
                node.children[name] = child
                child.blocked += milliseconds
                child.stalls += stack.stalls
                node = child
            }
        }
        return root
    }

    /// The SVG text for `summary`.
    public func render(_ summary: StallSummary, loopAsRoot: Bool = false) -> String {
        let root = Self.tree(summary, loopAsRoot: loopAsRoot)
        let depth = Self.depth(root)
        let top = 44
        let height = top + (depth + 1) * frameHeight + 30
        let scale = root.blocked > 0 ? Double(width - 20) / root.blocked : 0
        var svg = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
            <style>text{font-family:monospace;font-size:12px;fill:#000}rect{stroke:#fff;stroke-width:0.5}g:hover rect{stroke:#000;stroke-width:1}</style>
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#f8f8f0" stroke="none"/>
            <text x="\(width / 2)" y="22" text-anchor="middle" style="font-size:16px">\(Self.escape(title))</text>
            <text x="10" y="38">\(summary.stallCount) stalls, \(Self.escape(StallReportTable.duration(summary.blockedTotal))) blocked; width: blocked time; hover for details</text>

            """
        var boxes = 0
        func draw(_ node: Node, x: Double, level: Int) {
            let boxWidth = node.blocked * scale
            guard boxWidth >= 0.1 else { return }
            let y = height - 30 - (level + 1) * frameHeight
            let share = root.blocked > 0 ? node.blocked / root.blocked * 100 : 0
            let label = level == 0 ? "all (\(root.stalls) stalls)" : node.name
            let details = "\(label): \(StallReportTable.duration(.nanoseconds(Int64(node.blocked * 1e6)))) blocked, \(Self.percent(share)), \(node.stalls) stall\(node.stalls == 1 ? "" : "s")"
            svg += "<g><title>\(Self.escape(details))</title>"
            svg += "<rect x=\"\(Self.fixed(x))\" y=\"\(y)\" width=\"\(Self.fixed(boxWidth))\" height=\"\(frameHeight - 1)\" fill=\"\(Self.color(for: node.name, level: level))\" data-ms=\"\(Self.fixed(node.blocked))\"/>"
            let characters = Int((boxWidth - 6) / 7.2)
            if characters >= 3 {
                let text = label.count <= characters ? label : String(label.prefix(characters - 2)) + ".."
                svg += "<text x=\"\(Self.fixed(x + 3))\" y=\"\(y + frameHeight - 5)\">\(Self.escape(text))</text>"
            }
            svg += "</g>\n"
            boxes += 1
            var childX = x
            for name in node.children.keys.sorted() {
                let child = node.children[name]!
                draw(child, x: childX, level: level + 1)
                childX += child.blocked * scale
            }
        }
        draw(root, x: 10, level: 0)
        svg += "</svg>\n"
        return svg
    }

    static func depth(_ node: Node) -> Int {
        node.children.values.map { 1 + depth($0) }.max() ?? 0
    }

    /// Warm colours as flame graphs have them, stable per name; the root grey.
    static func color(for name: String, level: Int) -> String {
        guard level > 0 else { return "rgb(200,200,200)" }
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let red = 205 + Int(hash % 50)
        let green = 80 + Int((hash >> 8) % 130)
        let blue = 40 + Int((hash >> 16) % 50)
        return "rgb(\(red),\(green),\(blue))"
    }

    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default:
                // XML 1.0 allows no control characters but tab, newline and return.
                if let scalar = character.unicodeScalars.first, scalar.value < 0x20, character != "\t" {
                    output += " "
                } else {
                    output.append(character)
                }
            }
        }
        return output
    }

    static func fixed(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        var text = "\(rounded)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    static func percent(_ value: Double) -> String {
        "\(fixed(value)) %"
    }
}
