import LoopWatchdog

/// Brendan Gregg's folded (collapsed) stack format, as flamegraph.pl, inferno and speedscope
/// read it: one line per distinct stack, `root;caller;...;blocking 350` with frames outermost
/// first and the weight in whole milliseconds of blocked time.
public enum FoldedStacks {
    /// The lines for `summary`'s stacks, heaviest first; with `loopAsRoot`, each stack
    /// starts with its loop's name, so that a flame graph splits by loop first. Weights are
    /// rounded to whole milliseconds (at least 1).
    public static func render(_ summary: StallSummary, loopAsRoot: Bool = false) -> String {
        var weights: [String: Double] = [:]
        var order: [String] = []
        for stack in summary.stacks {
            let key = line(for: stack, loopAsRoot: loopAsRoot)
            if weights[key] == nil { order.append(key) }
            weights[key, default: 0] += stack.blocked.milliseconds
        }
        var output = ""
        for key in order {
            output += "\(key) \(max(1, Int(weights[key]!.rounded())))\n"
        }
        return output
    }

    /// The frames of `stack` joined root first.
    static func line(for stack: StallSummary.StackTotals, loopAsRoot: Bool) -> String {
        var names = StallSummary.names(stack.frames).reversed().map(clean)
        if names.isEmpty { names = ["[no stack]"] }
        if loopAsRoot { names.insert(clean(stack.loop), at: 0) }
        return names.joined(separator: ";")
    }

    /// A frame name that cannot break the format: `;` separates frames and a newline ends a
    /// line, so both become spaces; the weight is the text after the last space, which a
    /// name never ends the line with.
    static func clean(_ name: String) -> String {
        var text = ""
        text.reserveCapacity(name.utf8.count)
        for character in name {
            text.append(character == ";" || character.isNewline ? " " : character)
        }
        return text.isEmpty ? "?" : text
    }
}
