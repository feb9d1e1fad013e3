import Foundation
import SNNCDriver
import SNNCIR
import Testing

let repoRoot: String = directoryOf(directoryOf(directoryOf(#filePath)))

/// Compares `actual` with the golden file; with SNNC_RECORD_GOLDEN=1 in the environment it
/// rewrites the file instead. A missing golden file fails the test.
func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let path = repoRoot + "/Tests/SNNCDriverTests/Golden/" + name
    if ProcessInfo.processInfo.environment["SNNC_RECORD_GOLDEN"] == "1" {
        try! writeFileAtomically(path, actual)
        return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
        Issue.record("golden file \(name) is missing; run with SNNC_RECORD_GOLDEN=1 to record it", sourceLocation: sourceLocation)
        return
    }
    #expect(actual == expected, "differs from golden \(name)", sourceLocation: sourceLocation)
}

@Suite struct InspectTests {
    // Named relative to the repository root so the golden output does not depend on where it lives.
    static let model = "Examples/handwritten/model.json"

    @Test func textTableMatchesGolden() {
        let r = Inspect.run(modelPath: repoRoot + "/" + Self.model, json: false, displayName: Self.model)
        #expect(r.status == .success)
        #expect(r.diagnostics.isEmpty)
        expectGolden(r.stdout, "inspect-handwritten.txt")
    }

    @Test func jsonMatchesGoldenAndHandCounts() throws {
        let r = Inspect.run(modelPath: repoRoot + "/" + Self.model, json: true, displayName: Self.model)
        expectGolden(r.stdout, "inspect-handwritten.json")
        // Hand-derived: conv1 3×3 same on 6×6×1 → 2 filters: taps per row [2,3,3,3,3,2] = 16;
        // synapses 16·16·1·2 = 512, MACs 6·6·2·9 = 648; neurons 36 + 72; fc 18→3.
        let doc = try SNNCJSONParse(r.stdout)
        #expect(doc.total == [81, 108, 566, 18, 702])
    }

    @Test func badModelExitsWithBadInput() {
        let r = Inspect.run(modelPath: repoRoot + "/Tests/SNNCIRTests/Corpus/bad-models/cycle.json", json: false)
        #expect(r.status == .badInput)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("error[graph-cycle]"))
    }
}

/// Reads the totals of an inspect JSON report.
struct SNNCJSONParse {
    let total: [Int]
    init(_ text: String) throws {
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let t = obj["total"] as! [String: Int]
        total = [t["parameters"]!, t["neurons"]!, t["synapses"]!, t["max_fan_in"]!, t["macs"]!]
    }
}

@Suite struct TextTableTests {
    @Test func alignsNumbersRightAndTextLeft() {
        var t = TextTable(headers: ["name", "n"], alignments: [.left, .right])
        t.add(["a", "1"])
        t.add(["longer", "1,000"])
        t.addRule()
        t.add(["total", "1,001"])
        #expect(t.render() == """
        name        n
        ------  -----
        a           1
        longer  1,000
        ------  -----
        total   1,001

        """)
    }

    @Test func groupsDigitsAndHumanisesBytes() {
        #expect(groupedDigits(0) == "0")
        #expect(groupedDigits(1_234_567) == "1,234,567")
        #expect(groupedDigits(-1000) == "-1,000")
        #expect(humanBytes(512) == "512 B")
        #expect(humanBytes(46_800_000) == "44.6 MiB")
    }
}

@Suite struct InspectCorpusTests {
    /// Every bad model, through the command users run, exits with status 1 and its expected id.
    @Test func everyBadModelExitsOneWithItsID() throws {
        let dir = repoRoot + "/Tests/SNNCIRTests/Corpus/bad-models"
        let lines = try String(contentsOfFile: dir + "/EXPECTED.tsv", encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.count >= 40)
        for line in lines {
            let f = line.split(separator: "\t").map(String.init)
            let r = Inspect.run(modelPath: dir + "/" + f[0], json: false)
            #expect(r.status == .badInput, "\(f[0])")
            #expect(r.stderr.contains("error[\(f[1])]"), "\(f[0]): \(r.stderr)")
        }
    }
}
