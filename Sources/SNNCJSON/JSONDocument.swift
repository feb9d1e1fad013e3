// The one place in snnc that reads JSON. Everything goes through json-c (Debian libjson-c-dev);
// this file owns json-c's reference counts, so no caller can leak or double-free:
//
// - `JSONDocument` holds the root object and releases it (json_object_put) in deinit.
// - `JSONValue` is a borrowed view into a document; it keeps its document alive, so a value
//   can never outlive the tree it points into.
//
// Values are read in place (no conversion of the whole tree into Swift values), which keeps
// a 1 M-number model cheap to load.
import CJSONC

/// Why a byte buffer is not a JSON document.
public struct JSONParseError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case empty
        case tooLarge(limit: Int)
        case tooDeep(limit: Int)
        case truncated
        case syntax(String)
        case trailingContent
        /// NaN, Infinity or a number beyond ±1.8e308 (json-c takes them; RFC 8259 has no such number).
        case nonFinite(path: String)
    }
    public let kind: Kind
    /// Byte offset where parsing stopped.
    public let offset: Int

    public var message: String {
        switch kind {
        case .empty: return "the file is empty"
        case .tooLarge(let limit): return "the JSON text is larger than \(limit) bytes"
        case .tooDeep(let limit): return "JSON nesting deeper than \(limit) levels at byte \(offset)"
        case .truncated: return "the JSON text ends early (truncated file?)"
        case .syntax(let what): return "invalid JSON at byte \(offset): \(what)"
        case .trailingContent: return "unexpected content after the JSON value at byte \(offset)"
        case .nonFinite(let path): return "invalid JSON number at \(path): NaN, Infinity and numbers beyond ±1.8e308 are not JSON (RFC 8259)"
        }
    }
}

/// A parsed JSON document. Owns the json-c tree.
public final class JSONDocument: @unchecked Sendable {
    // @unchecked: the tree is never mutated after parsing and json-c's reference count is
    // touched only in init/deinit, so sharing a document across threads for reading is safe.
    fileprivate let rootPointer: OpaquePointer?

    /// Nesting limit: deep enough for a 4-D kernel given as nested arrays inside a node,
    /// shallow enough that hostile input cannot exhaust the stack.
    public static let defaultMaxDepth = 64
    /// json-c takes an `int` length; larger inputs are refused before parsing.
    public static let maxBytes = Int(Int32.max) - 1

    private init(root: OpaquePointer?) { self.rootPointer = root }

    deinit {
        if let rootPointer { json_object_put(rootPointer) }
    }

    /// Parses UTF-8 JSON text (strict RFC 8259: no NaN, no comments, no trailing commas).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError) -> JSONDocument {
        if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw JSONParseError(kind: .empty, offset: 0)
        }
        if bytes.count > maxBytes { throw JSONParseError(kind: .tooLarge(limit: maxBytes), offset: 0) }
        guard let tok = json_tokener_new_ex(Int32(maxDepth)) else {
            throw JSONParseError(kind: .syntax("out of memory"), offset: 0)
        }
        defer { json_tokener_free(tok) }
        json_tokener_set_flags(tok, Int32(JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8))
        let base = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
        let obj = json_tokener_parse_ex(tok, base, Int32(bytes.count))
        let err = json_tokener_get_error(tok)
        let end = Int(json_tokener_get_parse_end(tok))
        if err != json_tokener_success {
            if let obj { json_object_put(obj) }
            if err == json_tokener_continue { throw JSONParseError(kind: .truncated, offset: end) }
            if err == json_tokener_error_depth {
                throw JSONParseError(kind: .tooDeep(limit: maxDepth), offset: end)
            }
            let text = json_tokener_error_desc(err).map { String(cString: $0) } ?? "unknown error"
            throw JSONParseError(kind: .syntax(text), offset: end)
        }
        // Only white space may follow the value.
        var i = end
        while i < bytes.count {
            let b = bytes[i]
            if b != 0x20 && b != 0x0A && b != 0x0D && b != 0x09 {
                if let obj { json_object_put(obj) }
                throw JSONParseError(kind: .trailingContent, offset: i)
            }
            i += 1
        }
        if let obj, let path = firstNonFinite(obj, path: "$") {
            json_object_put(obj)
            throw JSONParseError(kind: .nonFinite(path: path), offset: 0)
        }
        return JSONDocument(root: obj)
    }

    /// The path of the first number that is not finite, depth first in document order.
    private static func firstNonFinite(_ o: OpaquePointer, path: String) -> String? {
        switch json_object_get_type(o) {
        case json_type_double:
            return json_object_get_double(o).isFinite ? nil : path
        case json_type_array:
            let n = json_object_array_length(o)
            for i in 0..<n {
                guard let e = json_object_array_get_idx(o, i) else { continue }
                let t = json_object_get_type(e)
                if t == json_type_int { continue }
                if t == json_type_double {
                    if !json_object_get_double(e).isFinite { return path + "[\(i)]" }
                    continue
                }
                if let p = firstNonFinite(e, path: path + "[\(i)]") { return p }
            }
            return nil
        case json_type_object:
            var it = json_object_iter_begin(o)
            var end = json_object_iter_end(o)
            while json_object_iter_equal(&it, &end) == 0 {
                if let v = json_object_iter_peek_value(&it) {
                    let name = String(cString: json_object_iter_peek_name(&it))
                    if let p = firstNonFinite(v, path: path + "." + name) { return p }
                }
                json_object_iter_next(&it)
            }
            return nil
        default:
            return nil
        }
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONDocument {
        let result: Result<JSONDocument, JSONParseError> = bytes.withUnsafeBytes { buf in
            do throws(JSONParseError) { return .success(try parse(buf, maxDepth: maxDepth)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONDocument {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// The top-level value.
    public var root: JSONValue { JSONValue(document: self, pointer: rootPointer) }
}

/// A read-only view of one value inside a `JSONDocument`.
public struct JSONValue: @unchecked Sendable {
    public enum Kind: String, Sendable {
        case null, bool, integer, double, string, array, object

        /// How a diagnostic names this kind ("an array", "a string", …).
        public var article: String {
            switch self {
            case .null: return "null"
            case .bool: return "a boolean"
            case .integer: return "an integer"
            case .double: return "a number"
            case .string: return "a string"
            case .array: return "an array"
            case .object: return "an object"
            }
        }
    }

    private let document: JSONDocument
    private let pointer: OpaquePointer?  // nil is JSON null, as in json-c

    fileprivate init(document: JSONDocument, pointer: OpaquePointer?) {
        self.document = document
        self.pointer = pointer
    }

    public var kind: Kind {
        guard let pointer else { return .null }
        switch json_object_get_type(pointer) {
        case json_type_boolean: return .bool
        case json_type_int: return .integer
        case json_type_double: return .double
        case json_type_string: return .string
        case json_type_array: return .array
        case json_type_object: return .object
        default: return .null
        }
    }

    public var isNull: Bool { pointer == nil }
    public var isNumber: Bool { kind == .integer || kind == .double }

    /// The value of an integer; nil for any other kind (including 1.0 and integers outside Int64).
    public var int: Int? {
        guard let pointer, json_object_get_type(pointer) == json_type_int else { return nil }
        // json-c stores integers beyond Int64 as uint64 or saturates; refuse both.
        // Int64.min is what json-c saturates a too-negative integer to: refused too (no input
        // means it), so sums and differences of integers read here cannot start at the limit.
        let v = json_object_get_int64(pointer)
        if v == Int64.max, json_object_get_uint64(pointer) != UInt64(Int64.max) { return nil }
        if v == Int64.min { return nil }
        return Int(v)
    }

    /// The value of any number (integer or not) as a double; nil for other kinds.
    public var double: Double? {
        guard let pointer else { return nil }
        let t = json_object_get_type(pointer)
        guard t == json_type_int || t == json_type_double else { return nil }
        return json_object_get_double(pointer)
    }

    public var bool: Bool? {
        guard let pointer, json_object_get_type(pointer) == json_type_boolean else { return nil }
        return json_object_get_boolean(pointer) != 0
    }

    public var string: String? {
        guard let pointer, json_object_get_type(pointer) == json_type_string else { return nil }
        let len = Int(json_object_get_string_len(pointer))
        guard let cstr = json_object_get_string(pointer) else { return "" }
        return cstr.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// Number of elements of an array or members of an object; 0 for other kinds.
    public var count: Int {
        guard let pointer else { return 0 }
        switch json_object_get_type(pointer) {
        case json_type_array: return Int(json_object_array_length(pointer))
        case json_type_object: return Int(json_object_object_length(pointer))
        default: return 0
        }
    }

    /// The elements of an array (empty for other kinds).
    public var elements: [JSONValue] {
        guard let pointer, json_object_get_type(pointer) == json_type_array else { return [] }
        let n = json_object_array_length(pointer)
        var out: [JSONValue] = []
        out.reserveCapacity(n)
        for i in 0..<n { out.append(JSONValue(document: document, pointer: json_object_array_get_idx(pointer, i))) }
        return out
    }

    /// Element `i` of an array, or nil when this is not an array or `i` is out of range.
    public func element(_ i: Int) -> JSONValue? {
        guard let pointer, json_object_get_type(pointer) == json_type_array,
              i >= 0, i < json_object_array_length(pointer) else { return nil }
        return JSONValue(document: document, pointer: json_object_array_get_idx(pointer, i))
    }

    /// The member `key` of an object; nil when absent (a present JSON null is a value of kind .null).
    public subscript(key: String) -> JSONValue? {
        guard let pointer, json_object_get_type(pointer) == json_type_object else { return nil }
        var out: OpaquePointer? = nil
        let found = key.withCString { json_object_object_get_ex(pointer, $0, &out) }
        return found != 0 ? JSONValue(document: document, pointer: out) : nil
    }

    /// The members of an object in document order.
    public var members: [(key: String, value: JSONValue)] {
        guard let pointer, json_object_get_type(pointer) == json_type_object else { return [] }
        var out: [(key: String, value: JSONValue)] = []
        var it = json_object_iter_begin(pointer)
        var end = json_object_iter_end(pointer)
        while json_object_iter_equal(&it, &end) == 0 {
            let name = String(cString: json_object_iter_peek_name(&it))
            out.append((name, JSONValue(document: document, pointer: json_object_iter_peek_value(&it))))
            json_object_iter_next(&it)
        }
        return out
    }

    /// Appends every element of a flat array of numbers to `out`. Returns the index of the first
    /// element that is not a number, or nil when all were numbers. Fast path for big tensors.
    public func appendNumbers(to out: inout [Double]) -> Int? {
        guard let pointer, json_object_get_type(pointer) == json_type_array else { return 0 }
        let n = json_object_array_length(pointer)
        out.reserveCapacity(out.count + n)
        for i in 0..<n {
            guard let e = json_object_array_get_idx(pointer, i) else { return i }
            let t = json_object_get_type(e)
            guard t == json_type_double || t == json_type_int else { return i }
            out.append(json_object_get_double(e))
        }
        return nil
    }
}

extension JSONValue {
    /// A short rendering for diagnostics: "\"same\"", "42", "an array of 3", "an object".
    public var shortDescription: String {
        switch kind {
        case .string:
            let s = string ?? ""
            return "\"" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "\""
        case .integer: return int.map(String.init) ?? "a huge integer"
        case .double: return double.map { "\($0)" } ?? "a number"
        case .bool: return bool == true ? "true" : "false"
        case .null: return "null"
        case .array: return "an array of \(count)"
        case .object: return "an object"
        }
    }
}
