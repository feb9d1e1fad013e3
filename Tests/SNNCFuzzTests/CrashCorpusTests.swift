// The crash corpus: every input that once trapped snnc (found by the fuzzer or reported),
// run through the same fuzz target in-process. Each must give the outcome and first error id
// its EXPECTED.tsv names (Tests/SNNCFuzzTests/Corpus/TARGET/EXPECTED.tsv; Docs/fuzzing.md).
import SNNCFuzz
import SNNCIR
import Testing

private let corpus = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/Corpus"

struct CorpusCase: Sendable, CustomTestStringConvertible {
    var target: FuzzTarget
    var file: String
    var accepted: Bool
    var firstID: String?
    var testDescription: String { "\(target.rawValue)/\(file)" }
}

private func cases() -> [CorpusCase] {
    var out: [CorpusCase] = []
    for t in FuzzTarget.allCases {
        guard let b = try? readWholeFile(corpus + "/\(t.rawValue)/EXPECTED.tsv", limit: 1 << 20) else { continue }
        for line in String(decoding: b, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 2 else { continue }
            let ids = f.count > 2 ? f[2].split(separator: " ").map(String.init) : []
            out.append(CorpusCase(target: t, file: f[0], accepted: f[1] == "accepted", firstID: ids.first))
        }
    }
    return out
}

@Suite struct CrashCorpusTests {
    @Test func corpusIsNotEmpty() {
        // Every target that reads files has at least one recorded case.
        let targets = Set(cases().map(\.target))
        #expect(targets.isSuperset(of: [.model, .profile, .data, .artefact]))
    }

    @Test(arguments: cases())
    func eachCaseGivesItsDiagnostic(_ c: CorpusCase) throws {
        let bytes = try readWholeFile(corpus + "/\(c.target.rawValue)/\(c.file)", limit: 1 << 30)
        let o = Fuzz.run(c.target, bytes)
        #expect(o.accepted == c.accepted, "\(c.file): \(o.ids)")
        if let id = c.firstID { #expect(o.ids.first == id, "\(c.file): \(o.ids)") }
    }

    @Test func containerRoundTrips() {
        let files: [(name: String, bytes: [UInt8])] = [("a.json", Array("{}".utf8)), ("b.bin", [0, 0, 1, 2, 0x0A]), ("empty", [])]
        let back = FuzzContainer.unpack(FuzzContainer.pack(files), defaultName: "x")
        #expect(back.map(\.name) == ["a.json", "b.bin", "empty"])
        #expect(back.map(\.bytes) == files.map(\.bytes))
        // No marker: one file under the default name; a name with a slash is dropped.
        #expect(FuzzContainer.unpack([1, 2, 3], defaultName: "x").map(\.name) == ["x"])
        #expect(FuzzContainer.unpack(Array("\u{0}\u{0}FILE:../etc\nzz".utf8), defaultName: "x").isEmpty)
    }
}
