import Foundation
import SNNCDriver
import SNNCEmulator
import Testing

/// `emulate --check` cannot be fooled (issue 43, item 1): a fixed point far better than its float
/// reference fails as one worse does, and so does one that classifies more than 0.5 % of the
/// images (and more than one) differently at the same accuracy. The emulator's classes are
/// replaced through `runFixed`, so the check's judgement is tested on known outcomes.
@Suite struct CheckBothWaysTests {
    static let iris = repoRoot + "/Examples/iris/model.json", all = repoRoot + "/Examples/iris/all.csv"

    func labels() throws -> [Int32] {
        try String(contentsOfFile: Self.all, encoding: .utf8).split(separator: "\n").dropFirst().map { Int32($0.split(separator: ",").last!.trimmingCharacters(in: .whitespaces))! }
    }

    func check(_ dir: String, maxDrop: Double = 0.5, _ edit: @escaping @Sendable (inout [EmulatedImage]) -> Void) -> CommandResult {
        var o = Emulate.Options(directory: dir, dataPath: Self.all)
        o.check = true
        o.durationMs = 200
        o.progress = false
        o.maxAccuracyDrop = maxDrop
        o.runFixed = { emu, samples in
            var r = emu.run(images: samples)
            edit(&r)
            return r
        }
        return Emulate.run(o)
    }

    @Test func betterThanTheReferenceFails() throws {
        let dir = compiledArtefact(Self.iris, "loihi", tag: "check-both")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let truth = try labels()
        // Every image right at every step: 100 % against the reference's 98.67 %.
        let r = check(dir) { images in for i in images.indices { images[i].classes = images[i].classes.map { _ in truth[i] } } }
        #expect(r.status == .badInput)
        #expect(r.stdout.contains("accuracy drop -1.33 points (limit ±0.50) — FAIL"), "\(r.stdout)")
        #expect(r.stderr.contains("error[check-failed]"))
    }

    @Test func imagesClassifiedDifferentlyFailAtAnyAccuracy() throws {
        let dir = compiledArtefact(Self.iris, "loihi", tag: "check-differ")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Three images moved to another class (2 % of 150); the accuracy limit opened wide.
        let three = check(dir, maxDrop: 100) { images in for i in [0, 60, 120] { images[i].classes = images[i].classes.map { ($0 + 1) % 3 } } }
        #expect(three.status == .badInput)
        #expect(three.stdout.contains("images classified differently: 3 (2.00 %, limit 0.50 % and more than one) — FAIL"), "\(three.stdout)")
        // One image is never enough to fail.
        let one = check(dir, maxDrop: 100) { images in images[0].classes = images[0].classes.map { ($0 + 1) % 3 } }
        #expect(one.status == .success, "\(one.stdout)")
    }
}
