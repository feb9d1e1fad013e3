// The emulator verifies an artefact against its manifest before it reads anything: a flipped
// byte in any listed file or in the manifest itself, or a deleted file, is refused with a
// diagnostic naming the file.
import Foundation
import SNNCArtefact
import SNNCDriver
import SNNCIR
import SNNCJSON
import Testing

@Suite struct ManifestTests {
    static func compiled() throws -> String {
        let dir = tempPath("manifest")
        var o = Compile.Options(modelPath: repoRoot + "/Examples/iris/model.json")
        o.profile = "loihi"
        o.output = dir
        let r = Compile.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        return dir
    }

    static func emulate(_ dir: String) -> CommandResult {
        var e = Emulate.Options(directory: dir, dataPath: repoRoot + "/Examples/iris/test.csv")
        e.limit = 2
        e.durationMs = 20
        e.progress = false
        return Emulate.run(e)
    }

    static func listed(_ dir: String) throws -> [String] {
        let doc = try JSONDocument.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))))
        return (doc.root["files"]?.elements ?? []).compactMap { $0["name"]?.string }
    }

    @Test func intactArtefactRuns() throws {
        let dir = try Self.compiled()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Self.emulate(dir).status == .success)
        try ArtefactFormat.verify(dir)
    }

    /// One flipped byte in each listed file and in the manifest: exit 1, the file named.
    @Test func aFlippedByteInAnyFileIsRefused() throws {
        let dir = try Self.compiled()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = try Self.listed(dir)
        #expect(names.count >= 8 && names.contains("weights.bin") && names.contains("cores.json"))
        for name in names + ["manifest.json"] {
            let url = URL(fileURLWithPath: dir + "/" + name)
            let original = try Data(contentsOf: url)
            for at in [0, original.count / 2, original.count - 1] {
                var b = [UInt8](original)
                b[at] ^= 0x04
                try Data(b).write(to: url)
                let r = Self.emulate(dir)
                #expect(r.status == .badInput, "\(name) byte \(at)")
                #expect(r.stderr.contains("error[artefact-invalid]") && r.stderr.contains(name), "\(name) byte \(at): \(r.stderr)")
            }
            try original.write(to: url)
        }
        #expect(Self.emulate(dir).status == .success)
    }

    /// Each listed file deleted: exit 1, the file named.
    @Test func aMissingFileIsRefused() throws {
        let dir = try Self.compiled()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in try Self.listed(dir) + ["manifest.json"] {
            let url = URL(fileURLWithPath: dir + "/" + name)
            let original = try Data(contentsOf: url)
            try FileManager.default.removeItem(at: url)
            let r = Self.emulate(dir)
            #expect(r.status == .badInput, "\(name)")
            #expect(r.stderr.contains("error[artefact-invalid]") && r.stderr.contains(name), "\(name): \(r.stderr)")
            try original.write(to: url)
        }
    }

    /// Behind a valid manifest (re-sealed after the edit), every required field of layers.json and
    /// cores.json removed in turn: exit 1 naming the field — the reader takes no defaults. On a
    /// binary-spike (iris, loihi) and a graded (iris-relu, loihi2) artefact.
    @Test(arguments: [("iris", "loihi"), ("iris-relu", "loihi2")])
    func aRemovedFieldIsNamed(_ example: String, _ profile: String) throws {
        let dir = tempPath("fields")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Compile.Options(modelPath: repoRoot + "/Examples/\(example)/model.json")
        o.profile = profile
        o.output = dir
        #expect(Compile.run(o).status == .success)
        // (file, path to the object, keys)
        var cases: [(String, [Any], [String])] = [
            ("layers.json", ["numerics"], ["rounding", "overflow", "current_bits", "activation_bits", "refractory_bits", "threshold_bits", "payload_bits"]),
            ("cores.json", ["timing"], ["clock_hz", "timestep_us", "hop_latency_ns", "payload_bits", "energy_pj"]),
            ("cores.json", ["timing", "energy_pj"], ["synaptic_op", "neuron_update", "spike_hop", "payload_bit"]),
            ("cores.json", ["timing", "cycles"], ["axon_event", "synaptic_op", "neuron_update", "spike_out", "step_overhead"]),
        ]
        let layers = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/layers.json"))) as? [String: Any])
        for (i, l) in (layers["layers"] as? [[String: Any]] ?? []).enumerated() {
            cases.append(("layers.json", ["layers", i], l.keys.filter { ["kind", "spikes", "h", "readout_tau_phi", "neuron"].contains($0) }.sorted()))
            if let n = l["neuron"] as? [String: Any] { cases.append(("layers.json", ["layers", i, "neuron"], n.keys.filter { $0 != "arousal" }.sorted())) }
        }
        var checked = 0
        for (file, path, keys) in cases {
            let url = URL(fileURLWithPath: dir + "/" + file)
            let original = try Data(contentsOf: url)
            let manifest = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
            for key in keys {
                var doc = try JSONSerialization.jsonObject(with: original)
                doc = removing(key, at: path[...], in: doc)
                try JSONSerialization.data(withJSONObject: doc).write(to: url)
                try reseal(dir, file)
                let r = Self.emulate(dir)
                #expect(r.status == .badInput && r.stderr.contains("error[artefact-invalid]") && r.stderr.contains("'\(key)'"), "\(file) \(path) \(key): \(r.stderr)")
                checked += 1
            }
            try original.write(to: url)
            try manifest.write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        }
        #expect(checked >= 30)
        #expect(Self.emulate(dir).status == .success)
    }

    /// The manifest's self-hash is over its own bytes with the hash zeroed; a manifest of the
    /// previous format (no self-hash) is refused with the advice to compile again.
    @Test func theManifestHashesItself() throws {
        let bytes = ArtefactFormat.manifestBytes([("model", .string("m"))], files: [("a.bin", [1, 2, 3])])
        let doc = try JSONDocument.parse(bytes)
        let stated = try #require(doc.root["manifest_sha256"]?.string)
        let zeroed = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: stated, with: String(repeating: "0", count: 64))
        #expect(ArtefactFormat.sha256(Array(zeroed.utf8)) == stated)
        #expect(doc.root["files"]?.element(0)?["sha256"]?.string == ArtefactFormat.sha256([1, 2, 3]))

        let dir = try Self.compiled()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")), as: UTF8.self)
            .replacingOccurrences(of: "\"manifest_sha256\"", with: "\"checksum\"")
        try Data(old.utf8).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        let r = Self.emulate(dir)
        #expect(r.status == .badInput && r.stderr.contains("compile again"), "\(r.stderr)")
    }
}

/// `doc` with `key` removed from the object at `path`.
private func removing(_ key: String, at path: ArraySlice<Any>, in doc: Any) -> Any {
    guard let head = path.first else {
        guard var d = doc as? [String: Any] else { return doc }
        d[key] = nil
        return d
    }
    if var d = doc as? [String: Any], let k = head as? String, let v = d[k] {
        d[k] = removing(key, at: path.dropFirst(), in: v)
        return d
    }
    if var a = doc as? [Any], let i = head as? Int, a.indices.contains(i) {
        a[i] = removing(key, at: path.dropFirst(), in: a[i])
        return a
    }
    return doc
}
