// Writing JSON, also through json-c. Callers build a `JSONOutput` value (plain Swift, ordered
// object members so output is deterministic) and `serialized()` turns it into text via a
// temporary json-c tree that this file creates and releases.
import CJSONC

public indirect enum JSONOutput: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONOutput])
    /// Members in the order given; that order is the order written.
    case object([(String, JSONOutput)])

    public static func == (a: JSONOutput, b: JSONOutput) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A number with a fixed count of decimals (for reports, where 0.1234 reads better than
    /// 0.12339999999).
    public static func fixed(_ value: Double, _ decimals: Int) -> JSONOutput {
        guard value.isFinite else { return .null }
        let scale = pow10(decimals)
        return .double((value * scale).rounded() / scale)
    }

    private static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(0, n) { r *= 10 }
        return r
    }

    /// The JSON text: two-space indentation, members in the given order, no escaped slashes,
    /// doubles in their shortest round-trip form, non-finite doubles as null. Ends with "\n".
    public func serialized(pretty: Bool = true) -> String {
        let obj = Self.build(self)
        defer { if let obj { json_object_put(obj) } }
        var flags = JSON_C_TO_STRING_NOSLASHESCAPE
        flags |= pretty ? (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED) : JSON_C_TO_STRING_PLAIN
        guard let text = json_object_to_json_string_ext(obj, Int32(flags)) else { return "null\n" }
        return String(cString: text) + "\n"
    }

    /// Creates a json-c tree with a reference count of one; the caller puts it.
    private static func build(_ v: JSONOutput) -> OpaquePointer? {
        switch v {
        case .null:
            return nil
        case .bool(let b):
            return json_object_new_boolean(b ? 1 : 0)
        case .int(let i):
            return json_object_new_int64(Int64(i))
        case .double(let d):
            guard d.isFinite else { return nil }
            // Swift's description is the shortest text that reads back to the same double.
            var text = "\(d)"
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text.withCString { json_object_new_double_s(d, $0) }
        case .string(let s):
            return s.withCString { json_object_new_string_len($0, Int32(s.utf8.count)) }
        case .array(let items):
            let arr = json_object_new_array_ext(Int32(max(items.count, 1)))
            for item in items { json_object_array_add(arr, build(item)) }
            return arr
        case .object(let members):
            let obj = json_object_new_object()
            for (key, value) in members {
                // json_object_object_add takes ownership of the value's reference.
                _ = key.withCString { json_object_object_add(obj, $0, build(value)) }
            }
            return obj
        }
    }
}
