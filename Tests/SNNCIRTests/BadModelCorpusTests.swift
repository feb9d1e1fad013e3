import Foundation
import SNNCIR
import Testing

/// Every file in Tests/SNNCIRTests/Corpus/bad-models must fail to load with the error id that
/// EXPECTED.tsv gives it — and must not crash.
@Suite struct BadModelCorpusTests {
    static let dir = repoRoot + "/Tests/SNNCIRTests/Corpus/bad-models"

    static let cases: [(String, String)] = {
        let text = try! String(contentsOfFile: dir + "/EXPECTED.tsv", encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            let f = $0.split(separator: "\t")
            return (String(f[0]), String(f[1]))
        }
    }()

    @Test func corpusHasAtLeastFortyModelsAndAllAreListed() throws {
        #expect(Self.cases.count >= 40)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(Self.cases.map(\.0)), "every bad model needs an EXPECTED.tsv line")
        for (_, id) in Self.cases { #expect(DiagnosticID(rawValue: id) != nil, "\(id) is not a known id") }
    }

    @Test(arguments: cases.map(\.0))
    func failsWithItsExpectedID(file: String) {
        let expected = Self.cases.first { $0.0 == file }!.1
        let r = ModelLoader.load(path: Self.dir + "/" + file, displayName: file)
        #expect(r.model == nil, "\(file) loaded but should not")
        let ids = r.diagnostics.filter { $0.severity == .error }.map(\.id.rawValue)
        #expect(ids.contains(expected), "\(file): expected error[\(expected)], got \(ids)")
        // Every diagnostic names the file and renders on one line.
        for d in r.diagnostics {
            #expect(d.description.hasPrefix(file + ": "))
            #expect(!d.description.contains("\n"))
        }
    }

    @Test func independentProblemsAreAllReported() {
        let text = """
        {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"}, \(asnDefaults),
         "nodes": [
          {"name": "x", "op": "input", "shape": [4]},
          {"name": "a", "op": "asn", "inputs": ["x"], "tau_eta": -1},
          {"name": "fc", "op": "dense", "inputs": ["ghost"], "weight": [[1, 2, 3, 4]]},
          {"name": "p", "op": "pool", "inputs": ["x"]},
          {"name": "out", "op": "readout", "inputs": ["fc"]}
         ]}
        """
        let errs = loadText(text).diagnostics.filter { $0.severity == .error }
        #expect(errs.map(\.id) == [.paramRange, .opUnknown, .inputUnknown])
        #expect(errs.map(\.object) == ["node 'a'", "node 'p'", "node 'fc'"])
    }

    @Test func shapeErrorsInIndependentBranchesAreAllReported() {
        let text = """
        {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"}, \(asnDefaults),
         "nodes": [
          {"name": "x", "op": "input", "shape": [4]},
          {"name": "fa", "op": "dense", "inputs": ["x"], "weight": [[1, 2, 3]]},
          {"name": "fb", "op": "dense", "inputs": ["x"], "weight": [[1, 2]]},
          {"name": "s", "op": "add", "inputs": ["fa", "fb"]},
          {"name": "out", "op": "readout", "inputs": ["s"]}
         ]}
        """
        let errs = loadText(text).diagnostics.filter { $0.severity == .error }
        #expect(errs.map(\.id) == [.shapeMismatch, .shapeMismatch])
        #expect(errs.map(\.object) == ["node 'fa'", "node 'fb'"])  // 's' is downstream: not reported again
    }

    /// Random damage to a valid model (truncation, byte flips, deletions) must always end in a
    /// result, never a crash.
    @Test func randomlyDamagedModelsNeverCrash() throws {
        let good = Array(try String(contentsOfFile: repoRoot + "/Examples/handwritten/model.json", encoding: .utf8).utf8)
        var rng = SplitMix64(seed: 20261122)
        let dir = makeTempDir()
        var failures = 0
        for i in 0..<400 {
            var b = good
            switch i % 4 {
            case 0: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
            case 1: for _ in 0..<4 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: let s = Int(rng.next() % UInt64(b.count)); b.removeSubrange(s..<min(b.count, s + Int(rng.next() % 40)))
            default:
                // Swap two digits for a sign or a huge exponent.
                let s = Int(rng.next() % UInt64(b.count))
                b.insert(contentsOf: Array(["-", "e308", "0", "[", "\"", "1e-320"][Int(rng.next() % 6)].utf8), at: s)
            }
            try writeFileAtomically(dir + "/m.json", b)
            let r = ModelLoader.load(path: dir + "/m.json")
            if r.model == nil { failures += 1 }
            #expect(r.model != nil || !r.diagnostics.filter { $0.severity == .error }.isEmpty)
        }
        #expect(failures > 100)  // the damage really produced bad files
    }
}

/// A small deterministic generator for tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
