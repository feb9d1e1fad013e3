import Foundation
import SNNCDriver
import SNNCIR
import Testing

@Suite struct CompileCommandTests {
    func run(_ profile: String, dumpAfter: String? = nil) -> CommandResult {
        var o = Compile.Options(modelPath: repoRoot + "/Examples/handwritten/model.json")
        o.profile = repoRoot + "/HardwareProfiles/\(profile).json"
        o.dumpAfter = dumpAfter
        return Compile.run(o)
    }

    /// The quantisation report and a pass dump, pinned by golden files (SNNC_RECORD_GOLDEN=1 re-records).
    @Test func reportAndDumpMatchGolden() {
        let r = run("loihi")
        #expect(r.status == .success)
        expectGolden(r.stdout.replacingOccurrences(of: repoRoot + "/", with: ""), "compile-handwritten-loihi.txt")
        let d = run("loihi", dumpAfter: "merge-pooling")
        expectGolden(d.stdout, "dump-handwritten-merge-pooling.txt")
    }

    @Test func twoCompilesAreByteIdentical() {
        #expect(run("spinnaker").stdout == run("spinnaker").stdout)
    }

    @Test func unknownPassIsUsageAndTruenorthIsBadInput() {
        #expect(run("loihi", dumpAfter: "no-such-pass").status == .usage)
        let t = run("truenorth")
        #expect(t.status == .badInput && t.stderr.contains("error[profile-unsupported]"))
    }
}
