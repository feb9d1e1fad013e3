import Foundation
import SNNCDriver
import SNNCIR
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

    @Test func twoCompilesAreByteIdentical() {
        #expect(run("spinnaker").stdout == run("spinnaker").stdout)
    }

    @Test func unknownPassIsUsageAndTruenorthIsBadInput() {
        #expect(run("loihi", dumpAfter: "no-such-pass").status == .usage)
        let t = run("truenorth")
        #expect(t.status == .badInput && t.stderr.contains("error[profile-unsupported]"))
    }
}
