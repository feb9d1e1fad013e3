// The emulator's regression record: for every example on every profile it compiles for, the
// fixed-point emulator's classes (the last step's, and a hash of every step's), per-layer spike
// counts, per-layer overflows and synaptic events, image by image. Recorded once from a release
// (`snnc-bench regression --record`), checked by the tests (a subset) and by
// `snnc-bench regression --check` (all of it), so a rewrite of the emulator must stay bit-exact.
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference
#if canImport(Glibc)
import Glibc
#endif

public enum EmulatorRegression {
    public struct Case: Sendable, CustomStringConvertible {
        public var example: String
        public var profile: String
        public var model: String
        public var data: String
        /// Samples emulated: all for iris and sonar, the first 20 otherwise.
        public var samples: Int
        public var description: String { "\(example) on \(profile)" }
    }

    /// The examples with data, and the profiles shipped, in a fixed order.
    public static let examples: [(name: String, data: String, samples: Int?)] = [
        ("iris", "all.csv", nil), ("iris-relu", "all.csv", nil), ("sonar", "all.csv", nil),
        ("mnist", "test-data.json", 20), ("mnist-relu", "test-data.json", 20),
        ("fashion-mnist", "test-data.json", 20), ("fashion-mnist-relu", "test-data.json", 20),
    ]
    public static let profiles = ["generic", "loihi", "loihi2", "spinnaker", "spinnaker2", "dynapcnn", "truenorth"]
    public static let durationMs = 500

    public static func cases(root: String) -> [Case] {
        examples.flatMap { e in
            profiles.map { Case(example: e.name, profile: $0, model: root + "/Examples/\(e.name)/model.json",
                                data: root + "/Examples/\(e.name)/\(e.data)", samples: e.samples ?? Int.max) }
        }
    }

    /// FNV-1a over the per-step classes: one number that changes when any step's class does.
    static func hash(_ classes: [Int32]) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in classes {
            for b in withUnsafeBytes(of: c.littleEndian, Array.init) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return Int(truncatingIfNeeded: h >> 1)
    }

    /// Compiles and emulates one case: its record entry, or the compile's first error id.
    /// `limit` cuts the samples further (the test suite's subset).
    public static func run(_ c: Case, limit: Int? = nil, threads: Int = 0, scratch: String) -> JSONOutput {
        var o = Compile.Options(modelPath: c.model)
        o.profile = c.profile
        o.output = scratch
        let r = Compile.run(o)
        defer { removeDirectoryOfFiles(scratch) }
        var entry: [(String, JSONOutput)] = [("example", .string(c.example)), ("profile", .string(c.profile))]
        guard r.status == .success else {
            entry.append(("refused", .string(r.diagnostics.first(where: { $0.severity == .error })?.id.rawValue ?? "?")))
            return .object(entry)
        }
        let net: EmuNetwork
        let data: Dataset
        do {
            net = try ArtefactReader.load(scratch)
            data = try DataLoader.load(path: c.data).get().prefix(min(c.samples, limit ?? Int.max))
        } catch {
            entry.append(("error", .string("\(error)")))
            return .object(entry)
        }
        var eo = EmulationOptions()
        eo.durationMs = durationMs
        eo.threads = threads
        let images = Emulator(net, options: eo).run(images: data.samples)
        entry.append(("layers", .array(net.layers.map { .string($0.name) })))
        entry.append(("images", .array(images.map { im in
            .object([("class", .int(Int(im.classes.last ?? -1))), ("classes_hash", .int(hash(im.classes))),
                     ("spikes", .array(im.spikesPerLayer.map { .int($0) })), ("overflows", .array(im.overflowsPerLayer.map { .int($0) })),
                     ("synaptic_events", .int(im.synapticEvents))])
        })))
        return .object(entry)
    }

    /// The differences between a recorded entry and a fresh one over the fresh one's images.
    public static func differences(recorded: JSONValue, fresh: JSONOutput) -> [String] {
        guard let doc = try? JSONDocument.parse(fresh.serialized()) else { return ["fresh entry does not serialise"] }
        let f = doc.root
        let name = "\(f["example"]?.string ?? "?") on \(f["profile"]?.string ?? "?")"
        if let a = recorded["refused"]?.string ?? f["refused"]?.string {
            return recorded["refused"]?.string == f["refused"]?.string ? [] : ["\(name): refused \(recorded["refused"]?.string ?? "no") / now \(f["refused"]?.string ?? "no") (\(a))"]
        }
        var out: [String] = []
        let ri = recorded["images"]?.elements ?? [], fi = f["images"]?.elements ?? []
        if fi.count > ri.count { out.append("\(name): \(fi.count) images emulated, \(ri.count) recorded") }
        for (k, (r, n)) in zip(ri, fi).enumerated() {
            for key in ["class", "classes_hash", "synaptic_events"] where r[key]?.int != n[key]?.int {
                out.append("\(name): image \(k): \(key) \(r[key]?.int ?? -1) recorded, \(n[key]?.int ?? -1) now")
            }
            for key in ["spikes", "overflows"] {
                let a = (r[key]?.elements ?? []).compactMap(\.int), b = (n[key]?.elements ?? []).compactMap(\.int)
                if a != b { out.append("\(name): image \(k): \(key) \(a) recorded, \(b) now") }
            }
        }
        return out
    }
}
