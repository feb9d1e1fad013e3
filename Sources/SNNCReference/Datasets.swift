// Data sets for evaluation: IDX (raw or .gz: MNIST, Fashion-MNIST), CSV (features + a label
// column), NumPy .npy, and a small JSON manifest (read through json-c) that names the files and
// how to scale them. Every problem is a diagnostic, as for models.
import SNNCIR
import SNNCJSON

public struct Dataset: Sendable {
    /// One flat (channels-last) feature vector per sample.
    public var samples: [[Double]]
    public var labels: [Int]
    public var sampleShape: [Int]
    public var classNames: [String]?
    public var description: String

    public var count: Int { samples.count }

    public init(samples: [[Double]], labels: [Int], sampleShape: [Int], classNames: [String]?, description: String) {
        self.samples = samples
        self.labels = labels
        self.sampleShape = sampleShape
        self.classNames = classNames
        self.description = description
    }

    public func prefix(_ n: Int) -> Dataset {
        var d = self
        d.samples = Array(samples.prefix(n))
        d.labels = Array(labels.prefix(n))
        return d
    }

    /// The samples after the first `n`.
    public func dropFirst(_ n: Int) -> Dataset {
        var d = self
        d.samples = Array(samples.dropFirst(n))
        d.labels = Array(labels.dropFirst(n))
        return d
    }
}

public enum DataLoader {
    /// Largest data file read (after decompression): 4 GiB.
    public static let maxBytes = 1 << 32

    /// Loads `path`: a manifest (.json), a CSV (.csv; last column = label), or fails with a diagnostic.
    public static func load(path: String, displayName: String? = nil) -> Result<Dataset, DiagnosticsError> {
        let shown = displayName ?? path
        var bag = DiagnosticBag(file: shown)
        let result: Dataset?
        if path.hasSuffix(".json") {
            result = loadManifest(path, &bag)
        } else if path.hasSuffix(".csv") {
            result = loadCSV(path, labelColumn: -1, header: nil, classes: nil, scale: 1, offset: 0, &bag)
        } else {
            bag.error(.dataFormat, nil, "cannot tell the data format from the file name",
                      notes: ["give a .csv file (last column is the label) or a .json data manifest (Docs/data-format.md)"])
            result = nil
        }
        guard let result, !bag.hasErrors else { return .failure(DiagnosticsError(bag.items)) }
        // NaN or ±inf in the inputs (a float IDX or .npy file, or a scale that overflows).
        for (i, x) in result.samples.enumerated() {
            if let j = x.firstIndex(where: { !$0.isFinite }) {
                bag.error(.dataFormat, "sample \(i)", "value \(j) is \(x[j]); inputs must be finite numbers (after scale and offset)")
                return .failure(DiagnosticsError(bag.items))
            }
        }
        return .success(result)
    }

    /// Checks a data set against a model's input shape and class count.
    public static func check(_ d: Dataset, inputShape: [Int], classes: Int, file: String) -> [Diagnostic] {
        var bag = DiagnosticBag(file: file)
        let n = inputShape.reduce(1, *)
        if d.sampleShape.reduce(1, *) != n {
            bag.error(.dataShape, nil, "samples have shape \(formatShape(d.sampleShape)) (\(d.sampleShape.reduce(1, *)) values) but the model's input is \(formatShape(inputShape)) (\(n) values)")
        }
        if let (i, l) = d.labels.enumerated().first(where: { $0.element < 0 || $0.element >= classes }) {
            bag.error(.dataLabel, "sample \(i)", "label \(l) is outside the model's \(classes) classes (0…\(classes - 1))")
        }
        if d.count == 0 { bag.error(.dataShape, nil, "the data set has no samples") }
        return bag.items
    }

    // MARK: manifest

    static func loadManifest(_ path: String, _ bag: inout DiagnosticBag) -> Dataset? {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 1 << 24) } catch {
            bag.error(.fileUnreadable, nil, "\(error)")
            return nil
        }
        let doc: JSONDocument
        do { doc = try JSONDocument.parse(bytes) } catch {
            bag.error(.jsonSyntax, nil, error.message)
            return nil
        }
        let m = doc.root
        guard m.kind == .object, m["format"]?.string == "snnc-data" else {
            bag.error(.dataFormat, nil, "a data manifest is an object with \"format\": \"snnc-data\"")
            return nil
        }
        let dir = directoryOf(path)
        func file(_ key: String) -> String? {
            guard let s = m[key]?.string else {
                bag.error(.fieldMissing, nil, "field '\(key)' (a file name) is missing")
                return nil
            }
            return resolvePath(s, relativeTo: dir)
        }
        let scale = m["scale"]?.double ?? 1
        let offset = m["offset"]?.double ?? 0
        var shape: [Int]? = nil
        if let sv = m["shape"] {
            let dims = sv.elements.compactMap(\.int)
            if dims.count == sv.count, !dims.isEmpty, elementCount(dims) != nil { shape = dims } else {
                bag.error(.fieldType, nil, "field 'shape' must be a list of positive integers")
                return nil
            }
        }
        let classes = m["classes"].map { $0.elements.compactMap(\.string) }
        var d: Dataset?
        switch m["kind"]?.string {
        case "idx":
            guard let imgPath = file("images"), let lblPath = file("labels") else { return nil }
            guard let (imgShape, imgs) = readIDX(imgPath, &bag), let (_, lbls) = readIDX(lblPath, &bag) else { return nil }
            guard imgShape.count >= 2 else {
                bag.error(.dataFormat, nil, "IDX images must have at least 2 dimensions, found \(formatShape(imgShape))")
                return nil
            }
            let per = imgShape.dropFirst().reduce(1, *)
            guard lbls.count == imgShape[0] else {
                bag.error(.dataShape, nil, "\(imgShape[0]) images but \(lbls.count) labels")
                return nil
            }
            let samples = (0..<imgShape[0]).map { i in (0..<per).map { imgs[i * per + $0] * scale + offset } }
            guard let labels = integerLabels(lbls, &bag) else { return nil }
            d = Dataset(samples: samples, labels: labels, sampleShape: Array(imgShape.dropFirst()) + (imgShape.count == 3 ? [1] : []),
                        classNames: classes, description: "IDX \(imgPath)")
        case "csv":
            guard let f = file("file") else { return nil }
            let col = m["label_column"]?.int ?? -1
            d = loadCSV(f, labelColumn: col, header: m["header"]?.bool, classes: classes, scale: scale, offset: offset, &bag)
        case "npy", "npz":
            let isZip = m["kind"]?.string == "npz"
            let xf: String, yf: String
            var members: [String: [UInt8]] = [:]
            if isZip {
                guard let zf = file("file") else { return nil }
                guard let mem = readZip(zf, &bag) else { return nil }
                members = mem
                xf = m["inputs"]?.string ?? "x"
                yf = m["labels"]?.string ?? "y"
            } else {
                guard let a = file("inputs"), let b = file("labels") else { return nil }
                xf = a
                yf = b
            }
            func array(_ name: String) -> ([Int], [Double])? {
                if !isZip { return readNPY(name, &bag) }
                guard let bytes = members[name + ".npy"] ?? members[name] else {
                    bag.error(.dataFormat, nil, "the .npz file has no array '\(name)'; it holds \(members.keys.sorted())")
                    return nil
                }
                return parseNPY(bytes, name: name, &bag)
            }
            guard let (xs, xv) = array(xf), let (_, yv) = array(yf) else { return nil }
            guard yv.count == xs[0] else {
                bag.error(.dataShape, nil, "\(xs[0]) inputs but \(yv.count) labels")
                return nil
            }
            let per = xs.dropFirst().reduce(1, *)
            let samples = (0..<xs[0]).map { i in (0..<per).map { xv[i * per + $0] * scale + offset } }
            guard let labels = integerLabels(yv, &bag) else { return nil }
            d = Dataset(samples: samples, labels: labels, sampleShape: Array(xs.dropFirst()), classNames: classes, description: "npy \(xf)")
        default:
            bag.error(.fieldValue, nil, "field 'kind' must be \"idx\", \"csv\", \"npy\" or \"npz\"")
            return nil
        }
        if var dd = d, let shape {
            if shape.reduce(1, *) != dd.sampleShape.reduce(1, *) {
                bag.error(.dataShape, nil, "manifest shape \(formatShape(shape)) does not hold samples of \(dd.sampleShape.reduce(1, *)) values")
                return nil
            }
            dd.sampleShape = shape
            d = dd
        }
        return d
    }

    // MARK: CSV

    static func loadCSV(_ path: String, labelColumn: Int, header: Bool?, classes: [String]?, scale: Double, offset: Double,
                        _ bag: inout DiagnosticBag) -> Dataset? {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 1 << 30) } catch {
            bag.error(.fileUnreadable, nil, "\(error)")
            return nil
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var rows = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed(" \t\"") } }
        rows.removeAll { $0.count == 1 && $0[0].isEmpty }
        guard let first = rows.first else {
            bag.error(.dataShape, nil, "the CSV file has no rows")
            return nil
        }
        let width = first.count
        #if SNNC_PLANTED_TRAP
        // A deliberate trap, compiled only by `Tests/Fuzz/run.sh -p` to show the fuzz smoke finds traps.
        if width == 7 { fatalError("planted trap") }
        #endif
        let lc0 = labelColumn < 0 ? width + labelColumn : labelColumn
        // A header row: some feature cell of the first row is not a number.
        let hasHeader = header ?? first.enumerated().contains { $0.offset != lc0 && Double($0.element) == nil }
        if hasHeader { rows.removeFirst() }
        guard width >= 2 else {
            bag.error(.dataFormat, nil, "a CSV row needs features and a label; found \(width) column")
            return nil
        }
        let lc = labelColumn < 0 ? width + labelColumn : labelColumn
        guard lc >= 0 && lc < width else {
            bag.error(.fieldValue, nil, "label column \(labelColumn) is outside the \(width) columns")
            return nil
        }
        var samples: [[Double]] = []
        var rawLabels: [String] = []
        for (r, row) in rows.enumerated() {
            let line = r + (hasHeader ? 2 : 1)
            guard row.count == width else {
                bag.error(.dataShape, "line \(line)", "has \(row.count) columns, expected \(width)")
                return nil
            }
            var x: [Double] = []
            for (c, cell) in row.enumerated() where c != lc {
                guard let v = Double(cell), v.isFinite else {
                    bag.error(.dataFormat, "line \(line)", "column \(c + 1) is '\(cell.prefix(20))', not a finite number")
                    return nil
                }
                x.append(v * scale + offset)
            }
            samples.append(x)
            rawLabels.append(row[lc])
        }
        var labels: [Int] = []
        var names = classes
        if let classes {
            for (i, l) in rawLabels.enumerated() {
                if let k = classes.firstIndex(of: l) { labels.append(k) } else if let k = Int(l) { labels.append(k) } else {
                    bag.error(.dataLabel, "line \(i + (hasHeader ? 2 : 1))", "label '\(l)' is not one of the manifest's classes")
                    return nil
                }
            }
        } else if rawLabels.allSatisfy({ Int($0) != nil }) {
            labels = rawLabels.map { Int($0)! }
        } else {
            let sorted = Array(Set(rawLabels)).sorted()
            names = sorted
            labels = rawLabels.map { sorted.firstIndex(of: $0)! }
        }
        return Dataset(samples: samples, labels: labels, sampleShape: [width - 1], classNames: names, description: "CSV \(path)")
    }

    // MARK: IDX

    /// Reads an IDX file (raw or gzip): returns its shape and values as doubles (unscaled).
    static func readIDX(_ path: String, _ bag: inout DiagnosticBag) -> ([Int], [Double])? {
        guard var bytes = readMaybeGzip(path, &bag) else { return nil }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            bag.error(.dataFormat, nil, "'\(path)' is not an IDX file (bad magic number)")
            return nil
        }
        let type = bytes[2], ndims = Int(bytes[3])
        let size: Int
        switch type {
        case 0x08, 0x09: size = 1
        case 0x0B: size = 2
        case 0x0C, 0x0D: size = 4
        case 0x0E: size = 8
        default:
            bag.error(.dataFormat, nil, "'\(path)': unknown IDX element type 0x\(String(type, radix: 16))")
            return nil
        }
        guard ndims >= 1, bytes.count >= 4 + 4 * ndims else {
            bag.error(.dataFormat, nil, "'\(path)': truncated IDX header")
            return nil
        }
        var shape: [Int] = []
        for d in 0..<ndims {
            let o = 4 + 4 * d
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        guard let n = elementCount(shape) else {
            bag.error(.dataFormat, nil, "'\(path)': IDX shape \(formatShape(shape)) is empty or too large")
            return nil
        }
        let start = 4 + 4 * ndims
        guard bytes.count - start >= n * size else {
            bag.error(.dataFormat, nil, "'\(path)': IDX data is truncated: \(bytes.count - start) bytes for \(n) elements of \(size) bytes")
            return nil
        }
        var values = [Double](repeating: 0, count: n)
        bytes.withUnsafeMutableBytes { b in
            for i in 0..<n {
                let o = start + i * size
                switch type {
                case 0x08: values[i] = Double(b[o])
                case 0x09: values[i] = Double(Int8(bitPattern: b[o]))
                case 0x0B: values[i] = Double(Int16(bitPattern: UInt16(b[o]) << 8 | UInt16(b[o + 1])))
                case 0x0C: values[i] = Double(Int32(bitPattern: UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])))
                case 0x0D: values[i] = Double(Float(bitPattern: UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])))
                default:
                    var u: UInt64 = 0
                    for k in 0..<8 { u = u << 8 | UInt64(b[o + k]) }
                    values[i] = Double(bitPattern: u)
                }
            }
        }
        return (shape, values)
    }

    /// The file's bytes, gunzipped if it starts with the gzip magic.
    static func readMaybeGzip(_ path: String, _ bag: inout DiagnosticBag) -> [UInt8]? {
        let raw: [UInt8]
        do { raw = try readWholeFile(path, limit: maxBytes) } catch {
            bag.error(.fileUnreadable, nil, "\(error)")
            return nil
        }
        guard raw.count >= 2, raw[0] == 0x1F, raw[1] == 0x8B else { return raw }
        switch Zlib.gunzip(raw, limit: maxBytes) {
        case .success(let out): return out
        case .failure(let why):
            bag.error(.dataFormat, nil, "'\(path)': \(why.message)")
            return nil
        }
    }

    // MARK: npy

    /// Reads a NumPy .npy file (little-endian f4, f8, u1, i4, i8; C order).
    /// Labels read as numbers (IDX, .npy) must be whole numbers; NaN, 2.5 or 1e300 is refused.
    static func integerLabels(_ v: [Double], _ bag: inout DiagnosticBag) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(v.count)
        for (i, x) in v.enumerated() {
            guard let k = checkedInt(x), Double(k) == x else {
                bag.error(.dataLabel, nil, "label \(i) is \(x); labels must be whole numbers (class indices)")
                return nil
            }
            out.append(k)
        }
        return out
    }

    static func readNPY(_ path: String, _ bag: inout DiagnosticBag) -> ([Int], [Double])? {
        guard let b = readMaybeGzip(path, &bag) else { return nil }
        return parseNPY(b, name: path, &bag)
    }

    static func parseNPY(_ b: [UInt8], name path: String, _ bag: inout DiagnosticBag) -> ([Int], [Double])? {
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else {
            bag.error(.dataFormat, nil, "'\(path)' is not a .npy file")
            return nil
        }
        let major = b[6]
        let hlen: Int, hstart: Int
        if major == 1 { hlen = Int(b[8]) | Int(b[9]) << 8; hstart = 10 } else {
            guard b.count >= 12 else { bag.error(.dataFormat, nil, "'\(path)': truncated .npy header"); return nil }
            hlen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            hstart = 12
        }
        guard b.count >= hstart + hlen else { bag.error(.dataFormat, nil, "'\(path)': truncated .npy header"); return nil }
        let header = String(decoding: b[hstart..<(hstart + hlen)], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.firstRange(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop { $0 == " " }
        }
        guard let descr = field("descr")?.dropFirst().prefix(while: { $0 != "'" }), let shapeText = field("shape") else {
            bag.error(.dataFormat, nil, "'\(path)': .npy header lacks descr or shape")
            return nil
        }
        if let fo = field("fortran_order"), fo.hasPrefix("True") {
            bag.error(.dataFormat, nil, "'\(path)': Fortran-order arrays are not read; save with np.ascontiguousarray")
            return nil
        }
        let dims = shapeText.dropFirst().prefix { $0 != ")" }.split(separator: ",").compactMap { Int($0.trimmed()) }
        guard !dims.isEmpty, let n = elementCount(dims) else {
            bag.error(.dataFormat, nil, "'\(path)': .npy shape \(shapeText.prefix { $0 != ")" })) is empty or too large")
            return nil
        }
        let size: Int
        switch descr {
        case "<f4", "<i4": size = 4
        case "<f8", "<i8": size = 8
        case "|u1", "|i1": size = 1
        default:
            bag.error(.dataFormat, nil, "'\(path)': .npy dtype \(descr) is not read (use <f4, <f8, |u1, <i4 or <i8)")
            return nil
        }
        let start = hstart + hlen
        guard b.count - start >= n * size else {
            bag.error(.dataFormat, nil, "'\(path)': .npy data is truncated")
            return nil
        }
        var v = [Double](repeating: 0, count: n)
        b.withUnsafeBytes { p in
            for i in 0..<n {
                let o = start + i * size
                switch descr {
                case "<f4": v[i] = Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))))
                case "<f8": v[i] = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                case "<i4": v[i] = Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                case "<i8": v[i] = Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                case "|i1": v[i] = Double(Int8(bitPattern: p[o]))
                default: v[i] = Double(p[o])
                }
            }
        }
        return (dims, v)
    }
}

extension DataLoader {
    /// The members of a zip archive (an .npz): stored or deflated entries, read through the
    /// central directory; sizes are checked against the file before anything is inflated.
    static func readZip(_ path: String, _ bag: inout DiagnosticBag) -> [String: [UInt8]]? {
        let z: [UInt8]
        do { z = try readWholeFile(path, limit: maxBytes) } catch {
            bag.error(.fileUnreadable, nil, "\(error)")
            return nil
        }
        func u16(_ o: Int) -> Int { Int(z[o]) | Int(z[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func bad(_ why: String) -> [String: [UInt8]]? {
            bag.error(.dataFormat, nil, "'\(path)' is not a readable .npz (zip) file: \(why)")
            return nil
        }
        // End of central directory: the last "PK\u{5}\u{6}" within the final 64 KiB + 22 bytes.
        guard z.count >= 22 else { return bad("too short") }
        var eocd = -1
        var i = z.count - 22
        while i >= max(0, z.count - 65_557) {
            if z[i] == 0x50 && z[i + 1] == 0x4B && z[i + 2] == 5 && z[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { return bad("no end-of-central-directory record") }
        let entries = u16(eocd + 10), cdOffset = u32(eocd + 16)
        var out: [String: [UInt8]] = [:]
        var p = cdOffset
        for _ in 0..<entries {
            guard p + 46 <= z.count, u32(p) == 0x0201_4B50 else { return bad("corrupt central directory") }
            let method = u16(p + 10), csize = u32(p + 20), usize = u32(p + 24)
            let nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32), local = u32(p + 42)
            guard p + 46 + nlen <= z.count else { return bad("corrupt central directory") }
            let name = String(decoding: z[(p + 46)..<(p + 46 + nlen)], as: UTF8.self)
            p += 46 + nlen + xlen + clen
            guard local + 30 <= z.count, u32(local) == 0x0403_4B50 else { return bad("corrupt local header of '\(name)'") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard csize != 0xFFFF_FFFF, start + csize <= z.count, usize <= maxBytes else { return bad("entry '\(name)' runs past the end (or is zip64)") }
            // Deflate expands at most 1032:1; a stored entry not at all. A declared size beyond
            // that is a lie, refused before anything is allocated for it.
            guard method == 8 ? usize <= csize * 1032 + 64 : usize == csize else {
                return bad("entry '\(name)' declares \(usize) bytes from \(csize) stored, more than \(method == 8 ? "deflate" : "storing") can give")
            }
            let data = Array(z[start..<(start + csize)])
            switch method {
            case 0: out[name] = data
            case 8:
                guard let inflated = Zlib.inflateRaw(data[...], expected: usize), inflated.count == usize else { return bad("entry '\(name)' does not inflate to \(usize) bytes") }
                out[name] = inflated
            default: return bad("entry '\(name)' uses compression method \(method)")
            }
        }
        return out
    }
}

