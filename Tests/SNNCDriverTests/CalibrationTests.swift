import Foundation
import SNNCDriver
import SNNCIR
import SNNCJSON
import SNNCPasses
import SNNCReference
import Testing

/// `snnc compile --calibrate` (issue 18): measured state ranges size each layer's state LSB; without
/// them an input layer whose assumed range can saturate is warned about.
@Suite struct CalibrationTests {
    static let wine = repoRoot + "/Examples/wine/model.json"
    static let wineTrain = repoRoot + "/Examples/wine/train.csv"
    static let wineTest = repoRoot + "/Examples/wine/test.csv"

    /// The float reference's recorded |I| of the input layer is the largest host current, which
    /// for input → batch-norm → ASN is max over samples and features of |γ(x − μ)/√(σ² + ε) + β|.
    @Test func recordedInputCurrentIsTheLargestBatchNormOutput() throws {
        let model = ModelLoader.load(path: Self.wine).model!
        let net = try SpikingNetwork.lower(model).get()
        let data = try DataLoader.load(path: Self.wineTrain).get().prefix(20)
        guard case .batchnorm(let bn) = model.node(named: "bn1")!.attributes else { Issue.record("bn1 is not a batch-norm"); return }
        let g = bn.gamma.toDoubles(), b = bn.beta.toDoubles(), m = bn.mean.toDoubles(), v = bn.variance.toDoubles()
        var o = SimulationOptions()
        o.durationMs = 40
        o.hopDelay = 1
        o.recordRanges = true
        let sim = Simulator(network: net, options: o)
        for x in data.samples {
            let r = sim.simulate(x)
            let expected = x.indices.map { abs(g[$0] * (x[$0] - m[$0]) / (v[$0] + bn.eps).squareRoot() + b[$0]) }.max()!
            let got = r.stateRanges![0]
            #expect(abs(got.current - expected) <= 1e-12 * expected, "\(got.current) vs \(expected)")
            // S low-passes I from zero, so it stays below |I|; ϑ never drops below ϑ0.
            #expect(got.activation <= got.current && got.threshold >= 0.1)
        }
        // Without the option nothing is recorded.
        o.recordRanges = false
        #expect(Simulator(network: net, options: o).simulate(data.samples[0]).stateRanges == nil)
    }

    @Test func percentileIsNearestRank() {
        let xs = (1...10).map { StateRange(current: Double($0), activation: Double(11 - $0), refractory: 0, threshold: 1) }
        #expect(StateRange.percentile(xs, 100) == StateRange(current: 10, activation: 10, refractory: 0, threshold: 1))
        #expect(StateRange.percentile(xs, 50).current == 5)
        #expect(StateRange.percentile(xs, 91).current == 10 && StateRange.percentile(xs, 90).current == 9)
        #expect(StateRange.percentile([], 100) == StateRange())
    }

    /// Hand-derived: on 16-bit state (limit 32,767) a measured 4.445 with margin 2 needs
    /// 8.89 / 32,767 = 2^−11.85 → 2^−11; exactly 32,767 · 2^−12 fits 2^−12.
    @Test func calibratedExponentIsTheFinestThatHolds() throws {
        let num = try Profiles.load("dynapcnn").get().numerics
        let m = StateRange(current: 4.298, activation: 4.298, refractory: 4.445, threshold: 0.4002)
        #expect(Quantize.calibratedExponent(m, margin: 2, maxBias: 0, num) == -11)
        let exact = StateRange(current: 32767 * pow2(-12) / 2, activation: 0, refractory: 0, threshold: 0)
        #expect(Quantize.calibratedExponent(exact, margin: 2, maxBias: 0, num) == -12)
        // A bias must fit the activation with 2× headroom: 1.0 needs 1 / 16,383.5 → 2^−13.
        #expect(Quantize.calibratedExponent(StateRange(), margin: 2, maxBias: 1.0, num) == -13)
        #expect(Quantize.calibratedExponent(StateRange(), margin: 2, maxBias: 0, num) == nil)
    }

    func compile(_ model: String, _ profile: String, calibrate: String? = nil, to dir: String) -> CommandResult {
        var o = Compile.Options(modelPath: model)
        o.profile = profile
        o.output = dir
        o.calibrate = calibrate.map {
            var c = Compile.Calibrate(data: $0)
            c.progress = false
            return c
        }
        return Compile.run(o)
    }

    func check(_ dir: String, _ data: String) throws -> (CommandResult, JSONDocument) {
        var o = Emulate.Options(directory: dir, dataPath: data)
        o.check = true
        o.progress = false
        o.json = true
        let r = Emulate.run(o)
        return (r, try JSONDocument.parse(Array(r.stdout.utf8)))
    }

    /// Wine (13 raw features, batch-norm outputs up to ≈ 4.3) on 16-bit dynapcnn: the assumed
    /// input range (±0.5) is warned about and saturates — the check fails; calibrated on the
    /// training split, no warning, and the check passes on the disjoint test split.
    @Test func wineOnDynapcnnNeedsCalibration() throws {
        let plain = tempPath("wine-plain"), calibrated = tempPath("wine-cal")
        defer { for d in [plain, calibrated] { try? FileManager.default.removeItem(atPath: d) } }
        let p = compile(Self.wine, "dynapcnn", to: plain)
        #expect(p.status == .success)
        let warned = p.diagnostics.filter { $0.id == .quantRangeAssumed }
        #expect(warned.count == 1 && warned[0].object == "node 'asn1'" && warned[0].message.contains("±0.50"), "\(p.stderr)")
        let (pr, pdoc) = try check(plain, Self.wineTest)
        #expect(pr.status != .success && (pdoc.root["layers"]?.element(0)?["overflows"]?.int ?? 0) > 0, "\(pr.stdout)")

        let c = compile(Self.wine, "dynapcnn", calibrate: Self.wineTrain, to: calibrated)
        #expect(c.status == .success, "\(c.stderr)")
        #expect(!c.diagnostics.contains { $0.id == .quantRangeAssumed || $0.id == .overflowPossible })
        #expect(c.stdout.contains("state ranges calibrated on 125 samples"))
        let (cr, cdoc) = try check(calibrated, Self.wineTest)
        #expect(cr.status == .success, "\(cr.stdout)\(cr.stderr)")
        #expect(cdoc.root["images_classified_differently"]?.int == 0, "\(cr.stdout)")
    }

    /// Where the assumed range cannot saturate there is no warning: IRIS on 24-bit loihi (the
    /// input layer holds ±128, the batch-norm bound is far below).
    @Test func noWarningWhereTheAssumedRangeHolds() {
        let dir = tempPath("iris-loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = compile(repoRoot + "/Examples/iris/model.json", "loihi", to: dir)
        #expect(r.status == .success && !r.diagnostics.contains { $0.id == .quantRangeAssumed }, "\(r.stderr)")
    }

    @Test func badCalibrationDataIsAnError() {
        let dir = tempPath("wine-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = compile(Self.wine, "dynapcnn", calibrate: "/nonexistent/train.csv", to: dir)
        #expect(missing.status == .badInput)
        // IRIS data has 4 features, wine 13.
        let wrong = compile(Self.wine, "dynapcnn", calibrate: repoRoot + "/Examples/iris/train.csv", to: dir)
        #expect(wrong.status == .badInput && !wrong.diagnostics.isEmpty)
    }
}
