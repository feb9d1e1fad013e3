import Foundation
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference
import Testing

/// Arousal (the paper's attention): the policy, the float reference's switch, the compiled
/// registers and the emulator's switch.
@Suite struct ArousalTests {
    static let iris = repoRoot + "/Examples/iris/model.json"
    static let all = repoRoot + "/Examples/iris/all.csv"
    /// Calibrated on Examples/iris/train.csv (snnc calibrate-arousal … --theta0-low 0.4 --theta0-high 0.17).
    static let spec = "150,0.4,0.17,3.855356,-551.911885"

    @Test func policyAndPresets() {
        let m = Arousal.paper["mnist"]!
        #expect(m.startMs == 200 && m.theta0Low == 0.6 && m.theta0High == 0.12 && m.decisionStep == 249)
        // θ_A at the decision, t = t_sa + 50 = 250 ms: 2.1121·250 − 405.7576.
        #expect(abs(m.threshold - 122.2674) < 1e-4)
        #expect(ArousalRun.parse("iris") == Arousal.paper["iris"])
        #expect(ArousalRun.parse("150,0.4,0.17,3.5,-500") == Arousal(startMs: 150, theta0Low: 0.4, theta0High: 0.17, p1: 3.5, p2: -500))
        #expect(ArousalRun.parse("150,0.4,0.17,3.5") == nil && ArousalRun.parse("1.5,0.4,0.17,3.5,1") == nil && ArousalRun.parse("nope") == nil)
        #expect(Arousal.gap([0.5, 3, 1, 2.5]) == 0.5 && Arousal.gap([1]) == 0)
    }

    /// The float reference switches exactly the inputs whose summed gap is at most θ_A, and a
    /// switched input then runs at ϑ0_hp: with θ_A = +∞ every input switches, and from the
    /// decision on, the run equals neither the all-lp run; with θ_A = −∞ none does.
    @Test func floatReferenceSwitches() throws {
        let model = ModelLoader.load(path: Self.iris).model!
        let low = try Sweep.lowered(model, theta0: 0.4).get()
        let high = try Sweep.lowered(model, theta0: 0.17).get()
        let data = try DataLoader.load(path: Self.all).get()
        let x = data.samples[0]
        var o = SimulationOptions()
        o.durationMs = 300
        let plain = Simulator(network: low, options: o).simulate(x)
        o.arousal = Arousal(startMs: 150, theta0Low: 0.4, theta0High: 0.17, p1: 0, p2: .infinity)
        let always = Simulator(network: low, options: o, aroused: high).simulate(x)
        o.arousal!.p2 = -.infinity
        let never = Simulator(network: low, options: o, aroused: high).simulate(x)
        #expect(always.aroused && !never.aroused)
        #expect(never.classes == plain.classes && never.spikesPerLayer == plain.spikesPerLayer)
        #expect(always.arousalTrace.count == 50 && abs(always.arousalTrace.last! - always.arousalEvidence) < 1e-12)
        // Up to the decision (step 199) the runs agree; after it the aroused one fires more.
        #expect(Array(always.classes.prefix(200)) == Array(plain.classes.prefix(200)))
        #expect(always.spikesPerLayer.reduce(0, +) > plain.spikesPerLayer.reduce(0, +))
    }

    /// Compiled with --arousal: ϑ0_hp registers and the input gain h_hp/h_lp in the artefact;
    /// the emulator switches the same inputs as the float reference and the check passes on
    /// IRIS (all 150) on loihi, at the accuracy of the all-ϑ0_hp network with about half its rate.
    @Test func fixedPointArousalMatchesTheFloatReference() throws {
        let dir = tempPath("arousal")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = Compile.Options(modelPath: Self.iris)
        c.profile = "loihi"
        c.output = dir
        c.arousal = ArousalRun.parse(Self.spec)
        #expect(Compile.run(c).status == .success)
        let net = try ArtefactReader.load(dir)
        #expect(net.arousal == ArousalRun.parse(Self.spec) && net.theta0Override == 0.4)
        let hLow = TransferFunction(theta0: 0.4, mf: 0.4, tauGamma: 15, tauEta: 50).resolve(.normalize)
        let hHigh = TransferFunction(theta0: 0.17, mf: 0.17, tauGamma: 15, tauEta: 50).resolve(.normalize)
        let asn2 = net.layers[1]
        #expect(asn2.arousalGain == Int64((hHigh / hLow * Double(1 << asn2.constants.k)).rounded()))
        #expect(net.layers[0].arousalGain == Int64(1 << net.layers[0].constants.k))  // the input layer: no spikes in
        var o = Emulate.Options(directory: dir, dataPath: Self.all)
        o.check = true
        o.progress = false
        o.json = true
        let r = Emulate.run(o)
        #expect(r.status == .success, "\(r.stdout)\(r.stderr)")
        let doc = try JSONDocument.parse(Array(r.stdout.utf8))
        let fixedAcc = doc.root["fixed"]?["accuracy"]?.double ?? 0, fixedFR = doc.root["fixed"]?["firing_rate_hz"]?.double ?? 0
        let arousedFixed = doc.root["aroused_fixed"]?.int ?? 0, arousedFloat = doc.root["aroused_float"]?.int ?? 0
        #expect(abs(fixedAcc - 148.0 / 150) < 1e-9)
        #expect(arousedFixed >= 5 && arousedFixed <= 30 && abs(arousedFixed - arousedFloat) <= 3)
        #expect(fixedFR < 30, "all at ϑ0_hp fires at ≈ 50 Hz")
    }
}
