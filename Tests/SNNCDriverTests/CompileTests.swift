import Foundation
import SNNCDriver
import SNNCIR
import SNNCJSON
import Testing

@Suite struct CompileCommandTests {
    func run(_ profile: String, dumpAfter: String? = nil) -> CommandResult {
        var o = Compile.Options(modelPath: repoRoot + "/Examples/handwritten/model.json")
        o.profile = repoRoot + "/HardwareProfiles/\(profile).json"
        o.dumpAfter = dumpAfter
        let dir = tempPath("compile")
        o.output = dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var r = Compile.run(o)
        // The artefact line names the (temporary) directory.
        r.stdout = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("artefact: ") }.joined(separator: "\n")
        return r
    }

    /// The quantisation report and a pass dump, pinned by golden files (SNNC_RECORD_GOLDEN=1 re-records).
    @Test func reportAndDumpMatchGolden() {
        let r = run("loihi")
        #expect(r.status == .success)
        expectGolden(r.stdout, "compile-handwritten-loihi.txt")
        let d = run("loihi", dumpAfter: "merge-pooling")
        expectGolden(d.stdout, "dump-handwritten-merge-pooling.txt")
    }

    /// Two compiles of the same inputs write the same files, byte for byte (every file of the
    /// artefact, the manifest with its hashes included), and print the same report.
    @Test func twoCompilesAreByteIdentical() throws {
        func compile(_ dir: String) -> CommandResult {
            var o = Compile.Options(modelPath: repoRoot + "/Examples/handwritten/model.json")
            o.profile = "spinnaker"
            o.output = dir
            return Compile.run(o)
        }
        let a = tempPath("same-a"), b = tempPath("same-b")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let ra = compile(a), rb = compile(b)
        #expect(ra.status == .success && rb.status == .success)
        #expect(ra.stdout.replacingOccurrences(of: a, with: "DIR") == rb.stdout.replacingOccurrences(of: b, with: "DIR"))
        let fa = readFiles(a), fb = readFiles(b)
        #expect(fa.count >= 10 && Set(fa.keys) == Set(fb.keys), "\(fa.keys.sorted()) vs \(fb.keys.sorted())")
        for name in fa.keys.sorted() { #expect(fa[name] == fb[name], "\(name) differs between two compiles") }
    }

    @Test func unknownPassIsUsageAndTruenorthIsBadInput() {
        #expect(run("loihi", dumpAfter: "no-such-pass").status == .usage)
        let t = run("truenorth")
        #expect(t.status == .badInput && t.stderr.contains("error[profile-unsupported]"))
    }
}

/// A model read from ONNX keeps its source in the artefact: `source-model.onnx` and its
/// external data file, byte for byte, and `snnc emulate --check` runs the float reference from
/// them (ResNet-8 on Fashion-MNIST, graded spikes, first 4 test images).
@Suite struct ONNXArtefactTests {
    static let dir = repoRoot + "/Examples/resnet8-fashion"

    @Test func onnxArtefactCarriesItsSourceAndPassesTheCheck() throws {
        let out = tempPath("onnx-artefact")
        defer { try? FileManager.default.removeItem(atPath: out) }
        var c = Compile.Options(modelPath: Self.dir + "/model.onnx")
        c.profile = "loihi2"
        c.output = out
        let compiled = Compile.run(c)
        #expect(compiled.status == .success, "\(compiled.stderr)")
        for (copy, original) in [("source-model.onnx", "model.onnx"), ("model.onnx.data", "model.onnx.data")] {
            let a = FileManager.default.contents(atPath: out + "/" + copy), b = FileManager.default.contents(atPath: Self.dir + "/" + original)
            #expect(a != nil && a == b, "\(copy) is not a copy of \(original)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/source-model.json"))
        var o = Emulate.Options(directory: out, dataPath: Self.dir + "/test-data.json")
        o.limit = 4
        o.check = true
        o.progress = false
        o.json = true
        let r = Emulate.run(o)
        #expect(r.status == .success, "\(r.stdout)\(r.stderr)")
        let doc = try JSONDocument.parse(Array(r.stdout.utf8))
        #expect(doc.root["images_classified_differently"]?.int == 0)
        #expect((doc.root["float"]?["accuracy"]?.double ?? 0) >= 0.75)
    }
}
