#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Configuration {
    /// The variables of the real process environment whose names start with
    /// `LOOP_WATCHDOG`, to pass to `resolve(environment:)`. Bytes that are not UTF-8 are
    /// repaired, which makes such values invalid rather than dangerous.
    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        guard var entry = environmentTable() else { return result }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            let scalars = text.unicodeScalars
            if text.hasPrefix(EnvironmentVariable.prefix), let equals = scalars.firstIndex(of: "=") {
                let name = String(scalars[..<equals])
                // Like getenv, the first definition of a duplicated name wins.
                if result[name] == nil {
                    result[name] = String(scalars[scalars.index(after: equals)...])
                }
            }
            entry += 1
        }
        return result
    }

    /// The C `environ` table, or nil when it is NULL (after `clearenv()`). Looked up with
    /// `dlsym` because the Glibc overlay's `environ` traps on NULL and `__environ` is
    /// shared mutable state that Swift 6 refuses to read.
    private static func environmentTable() -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        let defaultHandle = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
        return dlsym(defaultHandle, "environ")?
            .load(as: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self)
    }
}
