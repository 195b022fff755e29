import Foundation
import Testing

/// What JSONSerialization made of one JSON value, so tests can check types exactly.
enum JSONKind: Equatable {
    case string, integer, double, bool, null, array, object
}

/// Parses `line` as one JSON object.
func parseJSONObject(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [])
    return try #require(value as? [String: Any], "not a JSON object: \(line)", sourceLocation: sourceLocation)
}

/// The JSON type of a value produced by JSONSerialization.
func jsonKind(_ value: Any?) -> JSONKind? {
    switch value {
    case is String: return .string
    case is NSNull: return .null
    case is [Any]: return .array
    case is [String: Any]: return .object
    case let number as NSNumber:
        switch String(cString: number.objCType) {
        case "c", "B": return .bool
        case "d", "f": return .double
        default: return .integer
        }
    default: return nil
    }
}

/// The keys of a JSON object in the order they appear in `line` (top level only).
func topLevelKeyOrder(of line: String, keys: some Collection<String>) -> [String] {
    keys.compactMap { key -> (String, String.Index)? in
        guard let range = line.range(of: "\"\(key)\":") else { return nil }
        return (key, range.lowerBound)
    }
    .sorted { $0.1 < $1.1 }
    .map(\.0)
}
