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
