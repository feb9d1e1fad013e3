import Foundation
import SNNCIR
import SNNCReference
import Testing

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "snnc-data-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func idx(_ dims: [Int], _ values: [UInt8]) -> [UInt8] {
    var b: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
    for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return b + values
}

func gzip(_ bytes: [UInt8], at path: String) throws {
    let raw = path + ".raw"
    try writeFileAtomically(raw, bytes)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-n", "-c", raw]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try writeFileAtomically(path, [UInt8](data))
}

@Suite struct DataReaderTests {
    @Test func readsGzippedIDXThroughAManifest() throws {
        let d = tempDir()
        try gzip(idx([3, 2, 2], [0, 64, 128, 255, 1, 2, 3, 4, 9, 9, 9, 9]), at: d + "/img.gz")
        try writeFileAtomically(d + "/lbl", idx([3], [7, 0, 3]))
        try writeFileAtomically(d + "/data.json", #"{"format": "snnc-data", "version": 1, "kind": "idx", "images": "img.gz", "labels": "lbl", "scale": 0.00390625}"#)
        let ds = try DataLoader.load(path: d + "/data.json").get()
        #expect(ds.count == 3)
        #expect(ds.sampleShape == [2, 2, 1])
        #expect(ds.samples[0] == [0, 0.25, 0.5, 255.0 / 256])
        #expect(ds.labels == [7, 0, 3])
    }

    @Test func readsTheCommittedIrisCSVWithHeader() throws {
        let ds = try DataLoader.load(path: repoRoot + "/Examples/iris/all.csv").get()
        #expect(ds.count == 150 && ds.sampleShape == [4])
        #expect(Dictionary(grouping: ds.labels, by: { $0 }).mapValues(\.count) == [0: 50, 1: 50, 2: 50])
    }

    @Test func readsStringLabelsAndNpy() throws {
        let d = tempDir()
        try writeFileAtomically(d + "/s.csv", "1.5,2,rock\n3,4.25,mine\n0,0,rock\n")
        let ds = try DataLoader.load(path: d + "/s.csv").get()
        #expect(ds.labels == [1, 0, 1] && ds.classNames == ["mine", "rock"])
        #expect(ds.samples[1] == [3, 4.25])
        // .npy: '<f4' shape (2, 3) and '<i8' labels.
        func npy(_ descr: String, _ shape: String, _ data: [UInt8]) -> [UInt8] {
            var h = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
            while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
            h.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 255), UInt8(h.count >> 8)] + h + data
        }
        let xs: [Float] = [1, 2, 3, 4, 5, 6.5]
        let xb = xs.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
        let yb = [Int64(2), 0].flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        try writeFileAtomically(d + "/x.npy", npy("<f4", "(2, 3)", xb))
        try writeFileAtomically(d + "/y.npy", npy("<i8", "(2,)", yb))
        try writeFileAtomically(d + "/m.json", #"{"format": "snnc-data", "version": 1, "kind": "npy", "inputs": "x.npy", "labels": "y.npy"}"#)
        let n = try DataLoader.load(path: d + "/m.json").get()
        #expect(n.samples == [[1, 2, 3], [4, 5, 6.5]] && n.labels == [2, 0])
    }

    @Test func badDataIsDiagnosed() throws {
        let d = tempDir()
        func ids(_ path: String) -> [DiagnosticID] {
            if case .failure(let e) = DataLoader.load(path: path) { return e.diagnostics.map(\.id) }
            return []
        }
        try writeFileAtomically(d + "/trunc", Array(idx([10, 28, 28], [1, 2, 3])))
        try writeFileAtomically(d + "/l", idx([10], [UInt8](repeating: 1, count: 10)))
        try writeFileAtomically(d + "/t.json", #"{"format": "snnc-data", "version": 1, "kind": "idx", "images": "trunc", "labels": "l"}"#)
        #expect(ids(d + "/t.json") == [.dataFormat])
        try writeFileAtomically(d + "/bad.csv", "1,2,0\n3,x,1\n")
        #expect(ids(d + "/bad.csv") == [.dataFormat])
        try writeFileAtomically(d + "/ragged.csv", "1,2,0\n3,1\n")
        #expect(ids(d + "/ragged.csv") == [.dataShape])
        try writeFileAtomically(d + "/corrupt.gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])
        try writeFileAtomically(d + "/c.json", #"{"format": "snnc-data", "version": 1, "kind": "idx", "images": "corrupt.gz", "labels": "l"}"#)
        #expect(ids(d + "/c.json") == [.dataFormat])
        #expect(ids(d + "/missing.csv") == [.fileUnreadable])
        #expect(ids(d + "/x.txt") == [.dataFormat])
        // Against a model: shape and label range.
        let ds = Dataset(samples: [[1, 2, 3]], labels: [5], sampleShape: [3], classNames: nil, description: "t")
        #expect(DataLoader.check(ds, inputShape: [4], classes: 3, file: "t").map(\.id) == [.dataShape, .dataLabel])
    }
}

@Suite struct NpzTests {
    static let dir = repoRoot + "/Tests/SNNCReferenceTests/Fixtures/npz"

    /// Fixtures written by NumPy: np.savez_compressed(x=arange(6).reshape(2,3)·0.5 as f4, y=[1, 0])
    /// and np.savez(inputs=arange(6).reshape(2,3) as f8, labels=[2, 1]).
    @Test func readsCompressedAndStoredArchives() throws {
        let d = tempDir()
        try writeFileAtomically(d + "/c.json", #"{"format": "snnc-data", "version": 1, "kind": "npz", "file": "\#(Self.dir)/compressed.npz"}"#)
        let c = try DataLoader.load(path: d + "/c.json").get()
        #expect(c.samples == [[0, 0.5, 1], [1.5, 2, 2.5]] && c.labels == [1, 0])
        try writeFileAtomically(d + "/s.json", #"{"format": "snnc-data", "version": 1, "kind": "npz", "file": "\#(Self.dir)/stored.npz", "inputs": "inputs", "labels": "labels"}"#)
        let s = try DataLoader.load(path: d + "/s.json").get()
        #expect(s.samples == [[0, 1, 2], [3, 4, 5]] && s.labels == [2, 1])
    }

    @Test func missingMembersAndDamagedArchivesAreDiagnosed() throws {
        let d = tempDir()
        try writeFileAtomically(d + "/m.json", #"{"format": "snnc-data", "version": 1, "kind": "npz", "file": "\#(Self.dir)/stored.npz"}"#)
        guard case .failure(let e) = DataLoader.load(path: d + "/m.json") else { Issue.record("loaded"); return }
        #expect(e.diagnostics.map(\.id) == [.dataFormat] && e.diagnostics[0].message.contains("no array 'x'"))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/compressed.npz")))
        bytes.removeLast(30)  // cut into the central directory
        try writeFileAtomically(d + "/cut.npz", bytes)
        try writeFileAtomically(d + "/cut.json", #"{"format": "snnc-data", "version": 1, "kind": "npz", "file": "cut.npz"}"#)
        guard case .failure(let e2) = DataLoader.load(path: d + "/cut.json") else { Issue.record("loaded"); return }
        #expect(e2.diagnostics.map(\.id) == [.dataFormat])
    }
}
