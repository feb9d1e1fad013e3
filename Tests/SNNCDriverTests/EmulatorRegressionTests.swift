// The emulator against its regression record (Golden/emulator-regression.json, written by
// `snnc-bench regression --record` from the emulator before its rewrite): classes, per-layer
// spikes, overflows and synaptic events image by image. Here: every IRIS and SONAR sample on every
// profile, and the first two images of the MNIST-sized examples on two profiles (the whole record:
// `snnc-bench regression --check Tests/SNNCDriverTests/Golden/emulator-regression.json`).
import Foundation
import SNNCDriver
import SNNCJSON
import Testing

@Suite struct EmulatorRegressionTests {
    static let record = repoRoot + "/Tests/SNNCDriverTests/Golden/emulator-regression.json"

    static func subset() -> [EmulatorRegression.Case] {
        EmulatorRegression.cases(root: repoRoot).filter { c in
            ["iris", "iris-relu", "sonar"].contains(c.example) || (["generic", "loihi2"].contains(c.profile))
        }
    }

    @Test(arguments: subset())
    func matchesTheRecord(_ c: EmulatorRegression.Case) throws {
        let doc = try JSONDocument.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.record))))
        let recorded = try #require(doc.root["cases"]?.elements.first { $0["example"]?.string == c.example && $0["profile"]?.string == c.profile },
                                    "\(c) is not in the record")
        let small = ["iris", "iris-relu", "sonar"].contains(c.example)
        let fresh = EmulatorRegression.run(c, limit: small ? nil : 2, scratch: tempPath("regression"))
        let diffs = EmulatorRegression.differences(recorded: recorded, fresh: fresh)
        #expect(diffs.isEmpty, "\(diffs.prefix(5).joined(separator: "\n"))")
        // The record is not empty where the case compiles.
        if recorded["refused"] == nil { #expect((recorded["images"]?.count ?? 0) >= (small ? 100 : 20)) }
    }
}
