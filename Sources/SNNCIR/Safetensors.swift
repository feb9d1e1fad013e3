// The safetensors container (https://github.com/huggingface/safetensors, "Format"):
//   8 bytes  little-endian u64 N = header length
//   N bytes  UTF-8 JSON: { "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
//                          "__metadata__": {string: string} }   (may be padded with spaces)
//   rest     the data buffer; offsets are relative to its start.
// The header is parsed with json-c; the data is memory-mapped and never copied. Every offset is
// checked: begin ≤ end ≤ buffer size, end − begin = elements × dtype size, no two tensors overlap.
import SNNCJSON

public struct SafetensorsEntry: Sendable {
    public let name: String
    /// nil when the dtype is one snnc does not read (an I64 counter, say); an error only if a model uses it.
    public let dtype: DType?
    public let dtypeName: String
    public let shape: [Int]
    public let begin: Int
    public let end: Int
}

public final class SafetensorsFile: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let path: String
    public let file: MappedFile
    public let entries: [String: SafetensorsEntry]
    /// Byte offset of the data buffer in the file.
    public let dataStart: Int

    /// Headers above this size are refused (the reference implementation uses 100 MB too).
    public static let maxHeaderBytes = 100_000_000

    /// Opens and validates `path`. Problems go to `bag` (as `file`: the path the user gave);
    /// returns nil when the container itself is unusable.
    public static func open(path: String, displayName: String, bag: inout DiagnosticBag) -> SafetensorsFile? {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch {
            bag.error(.weightsFileMissing, nil, "the weights file named by the model is unusable: \(error)")
            return nil
        }
        let obj = "safetensors '\(displayName)'"
        let bytes = mapped.bytes
        guard bytes.count >= 8 else {
            bag.error(.safetensorsTruncated, obj, "file is \(bytes.count) bytes, too short for the 8-byte header length")
            return nil
        }
        let n = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n <= UInt64(maxHeaderBytes) else {
            bag.error(.safetensorsHeader, obj, "header length is \(n) bytes, limit \(maxHeaderBytes)")
            return nil
        }
        let headerLen = Int(n)
        guard 8 + headerLen <= bytes.count else {
            bag.error(.safetensorsTruncated, obj,
                      "header length says \(headerLen) bytes but only \(bytes.count - 8) follow")
            return nil
        }
        let doc: JSONDocument
        do {
            doc = try JSONDocument.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLen)]))
        } catch {
            bag.error(.safetensorsHeader, obj, "header is not valid JSON: \(error.message)")
            return nil
        }
        guard doc.root.kind == .object else {
            bag.error(.safetensorsHeader, obj, "header must be a JSON object, found \(doc.root.kind.article)")
            return nil
        }
        let dataStart = 8 + headerLen
        let dataSize = bytes.count - dataStart
        var entries: [String: SafetensorsEntry] = [:]
        var ok = true
        for (name, v) in doc.root.members {
            if name == "__metadata__" { continue }
            let tobj = "\(obj) tensor '\(name)'"
            guard v.kind == .object else {
                bag.error(.safetensorsHeader, tobj, "entry must be an object, found \(v.kind.article)")
                ok = false
                continue
            }
            guard let dtypeName = v["dtype"]?.string else {
                bag.error(.safetensorsHeader, tobj, "'dtype' must be a string")
                ok = false
                continue
            }
            guard let shapeV = v["shape"], shapeV.kind == .array else {
                bag.error(.safetensorsHeader, tobj, "'shape' must be an array of integers")
                ok = false
                continue
            }
            var shape: [Int] = []
            var shapeOK = true
            for d in shapeV.elements {
                guard let i = d.int, i >= 0 else { shapeOK = false; break }
                shape.append(i)
            }
            guard shapeOK else {
                bag.error(.safetensorsHeader, tobj, "'shape' must hold non-negative integers")
                ok = false
                continue
            }
            guard let offs = v["data_offsets"], offs.kind == .array, offs.count == 2,
                  let b = offs.element(0)?.int, let e = offs.element(1)?.int else {
                bag.error(.safetensorsOffsets, tobj, "'data_offsets' must be [begin, end] integers")
                ok = false
                continue
            }
            guard b >= 0, b <= e, e <= dataSize else {
                bag.error(.safetensorsOffsets, tobj,
                          "data_offsets [\(b), \(e)] do not lie within the \(dataSize)-byte data buffer")
                ok = false
                continue
            }
            let dtype = DType(rawValue: dtypeName)
            if let dtype {
                // Zero-sized dims are legal in the container; count elements without the ≥1 rule.
                var count = 1
                var overflow = false
                for d in shape {
                    let (p, o) = count.multipliedReportingOverflow(by: d)
                    if o || p > maxTensorElements { overflow = true; break }
                    count = p
                }
                if overflow {
                    bag.error(.tensorTooLarge, tobj, "shape \(formatShape(shape)) has more than \(maxTensorElements) elements")
                    ok = false
                    continue
                }
                if e - b != count * dtype.byteSize {
                    bag.error(.safetensorsOffsets, tobj,
                              "data_offsets span \(e - b) bytes but shape \(formatShape(shape)) of \(dtypeName) needs \(count * dtype.byteSize)")
                    ok = false
                    continue
                }
            }
            entries[name] = SafetensorsEntry(name: name, dtype: dtype, dtypeName: dtypeName, shape: shape, begin: b, end: e)
        }
        // No two tensors may share bytes.
        let sorted = entries.values.filter { $0.end > $0.begin }.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.begin < a.end {
            bag.error(.safetensorsOverlap, obj,
                      "tensors '\(a.name)' [\(a.begin), \(a.end)) and '\(b.name)' [\(b.begin), \(b.end)) overlap")
            ok = false
        }
        guard ok else { return nil }
        return SafetensorsFile(path: path, file: mapped, entries: entries, dataStart: dataStart)
    }

    private init(path: String, file: MappedFile, entries: [String: SafetensorsEntry], dataStart: Int) {
        self.path = path
        self.file = file
        self.entries = entries
        self.dataStart = dataStart
    }

    /// A tensor view of an entry (no copy); nil when its dtype is not one snnc reads or its
    /// element count overflows (the loader reports both before it asks).
    public func tensor(_ entry: SafetensorsEntry, displayName: String) -> Tensor? {
        guard let dtype = entry.dtype, let count = checkedProduct(entry.shape) else { return nil }
        let storage = TensorStorage(file: file, byteOffset: dataStart + entry.begin, dtype: dtype, count: count)
        return Tensor(shape: entry.shape, storage: storage, source: .safetensors(file: displayName, name: entry.name, dtype: dtype))
    }
}

/// Writes a safetensors file (F32 or F64). Tensors are laid out in the order given; the header is
/// padded with spaces to a multiple of 8 bytes so the data is aligned.
public func encodeSafetensors(_ tensors: [(name: String, shape: [Int], values: [Float])],
                              metadata: [(String, String)] = []) -> [UInt8] {
    var members: [(String, JSONOutput)] = []
    if !metadata.isEmpty {
        members.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) })))
    }
    var offset = 0
    for t in tensors {
        let bytes = t.values.count * 4
        members.append((t.name, .object([
            ("dtype", .string("F32")),
            ("shape", .array(t.shape.map { .int($0) })),
            ("data_offsets", .array([.int(offset), .int(offset + bytes)])),
        ])))
        offset += bytes
    }
    var header = Array(JSONOutput.object(members).serialized(pretty: false).utf8)
    while header.last == 0x0A { header.removeLast() }
    while header.count % 8 != 0 { header.append(0x20) }
    var out: [UInt8] = []
    out.reserveCapacity(8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    for t in tensors {
        t.values.withUnsafeBufferPointer { buf in
            for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
    }
    return out
}
