/// Expands the hang file setting (`LOOP_WATCHDOG_HANG_FILE`) into a path.
enum HangFilePath {
    /// `template` with `%p` replaced by `pid` and `%%` by `%`; any other `%` is kept as it
    /// is. `/var/log/app/hang-%p.txt` becomes `/var/log/app/hang-4242.txt`.
    static func expand(_ template: String, pid: Int32) -> String {
        var result = ""
        var pendingPercent = false
        for character in template {
            if pendingPercent {
                pendingPercent = false
                switch character {
                case "p": result += "\(pid)"
                case "%": result += "%"
                default: result += "%"; result.append(character)
                }
            } else if character == "%" {
                pendingPercent = true
            } else {
                result.append(character)
            }
        }
        if pendingPercent { result += "%" }
        return result
    }
}
