import Foundation
import SNNCDriver
import SNNCHardware
import SNNCIR
import SNNCPasses
import SNNCReference
import Testing

let repoRoot: String = directoryOf(directoryOf(directoryOf(#filePath)))

func profile(_ name: String) -> HardwareProfile { try! ProfileLoader.load(path: repoRoot + "/HardwareProfiles/\(name).json").get() }

/// The example models every pass test runs on: the trained ones and the hand-written one, plus
/// synthetic VGG (untrained). A missing one fails `exampleModelsArePresent`, never shrinks the list.
let exampleNames = ["iris", "sonar", "handwritten", "mnist", "fashion-mnist"]
let exampleModels: [String] = {
    var out = exampleNames.map { repoRoot + "/Examples/\($0)/model.json" }
    let dir = NSTemporaryDirectory() + "snnc-passes-vgg"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try! SyntheticModels.vggCifar10(placement: .safetensors(fileName: "model.safetensors"), seed: 3).write(directory: dir)
    out.append(dir + "/model.json")
    return out
}()

/// A model the tests need; a missing or invalid one stops the run, naming it.
func load(_ path: String) -> Model {
    guard let m = ModelLoader.load(path: path).model else { preconditionFailure("test model \(path) is missing or invalid") }
    return m
}

@Suite struct ExampleModelTests {
    /// Every example the pass tests name exists and loads without an error.
    @Test(arguments: exampleModels)
    func exampleModelsArePresent(path: String) {
        #expect(fileExists(path), "\(path) is missing")
        let r = ModelLoader.load(path: path)
        #expect(r.model != nil && !r.diagnostics.contains { $0.severity == .error }, "\(path): \(r.diagnostics.map(\.description))")
    }
}

@Suite struct FoldBatchNormTests {
    /// The ANN's outputs before and after folding agree within 1e-5 (relative) on every example.
    @Test(arguments: exampleModels)
    func foldingPreservesTheANN(path: String) throws {
        let model = load(path)
        var unit = CompileUnit(model: model, profile: profile("generic"))
        try FoldBatchNorm().run(&unit)
        unit.completed.append("fold-batchnorm")
        try Verifier.check(unit)
        let foldable = model.nodes.filter { n in
            n.op == .batchnorm && [OpKind.dense, .conv2d].contains(model.node(named: n.inputs[0])?.op ?? .input)
        }.count
        #expect(model.nodes.count - unit.model.nodes.count == foldable)
        let before = PreparedModel(model), after = PreparedModel(unit.model)
        var rng = SeededRandom(seed: 11)
        let inputCount = model.nodes[0].shape.reduce(1, *)
        for _ in 0..<3 {
            let x = (0..<inputCount).map { _ in rng.uniform() }
            let a = before.classify(x).output, b = after.classify(x).output
            let scale = max(a.map(abs).max() ?? 1, 1e-12)
            for (u, v) in zip(a, b) { #expect(abs(u - v) <= 1e-5 * scale, "\(path): \(u) vs \(v)") }
        }
        // Only the BN after the input remains (it is the input encoding).
        let bns = unit.model.nodes.filter { $0.op == .batchnorm }
        #expect(bns.allSatisfy { unit.model.node(named: $0.inputs[0])?.op == .input })
    }
}

@Suite struct PipelineTests {
    static let profiles = ["generic", "loihi", "loihi2", "spinnaker", "spinnaker2", "dynapcnn"]

    /// Every example through every profile but TrueNorth, with the verifier after every pass.
    @Test(arguments: profiles)
    func everyExampleCompilesToQuantize(name: String) throws {
        for path in exampleModels {
            var unit = CompileUnit(model: load(path), profile: profile(name))
            do {
                let (dump, _) = try Pipeline.run(&unit, dumpAfter: "quantize", verify: true, clock: { 0 }, rss: { 0 })
                #expect(dump?.contains("; after quantize") == true)
                #expect(unit.quantization.count == unit.model.nodes.filter { $0.op == .dense || $0.op == .conv2d }.count)
                #expect(!unit.neuronFormats.isEmpty)
            } catch {
                Issue.record("\(name) \(path): \(error.diagnostics.map(\.description))")
            }
        }
    }

    @Test func truenorthIsRefused() {
        var unit = CompileUnit(model: load(repoRoot + "/Examples/iris/model.json"), profile: profile("truenorth"))
        do {
            _ = try Pipeline.run(&unit, clock: { 0 }, rss: { 0 })
            Issue.record("compiled for truenorth")
        } catch {
            #expect(error.diagnostics.map(\.id) == [.profileUnsupported])
            #expect(error.diagnostics[0].message.contains("multiplicative threshold adaptation"))
        }
    }

    @Test func gradedLayersNeedGradedSpikes() throws {
        var m = load(repoRoot + "/Examples/iris/model.json")
        for i in m.nodes.indices { if case .asn(var p) = m.nodes[i].attributes { p.spike = .graded; m.nodes[i].attributes = .asn(p) } }
        var unit = CompileUnit(model: m, profile: profile("loihi"))
        #expect(throws: DiagnosticsError.self) { try CheckProfile().run(&unit) }
        var ok = CompileUnit(model: m, profile: profile("loihi2"))
        try CheckProfile().run(&ok)
    }

    @Test func scaleByHMultipliesBySourceH() throws {
        let m = load(repoRoot + "/Examples/iris/model.json")
        var unit = CompileUnit(model: m, profile: profile("generic"))
        for p in [FoldBatchNorm(), EncodeInput(), MergePooling(), ScaleByH()] as [any Pass] { try p.run(&unit) }
        let h = TransferFunction(theta0: 0.1, mf: 0.1, tauGamma: 15, tauEta: 50).normalizedH
        #expect(unit.scaledBy["fc1"]?.h == h && unit.scaledBy["fc1"]?.source == "asn1")
        var folded = CompileUnit(model: m, profile: profile("generic"))
        try FoldBatchNorm().run(&folded)
        guard case .dense(let a) = folded.model.node(named: "fc2")!.attributes, case .dense(let b) = unit.model.node(named: "fc2")!.attributes else { return }
        #expect(abs(b.weight[7] - a.weight[7] * h) < 1e-15)
    }

    @Test func maxPoolMergesIntoCompartmentsAndAveragePoolFoldsExactly() throws {
        var unit = CompileUnit(model: load(repoRoot + "/Examples/handwritten/model.json"), profile: profile("loihi"))
        for p in [FoldBatchNorm(), EncodeInput(), MergePooling()] as [any Pass] { try p.run(&unit) }
        #expect(unit.pooledLayers["asn1"]?.preShape == [6, 6, 2])
        #expect(unit.model.node(named: "asn1")?.shape == [3, 3, 2])
        #expect(!unit.model.nodes.contains { $0.op == .maxpool2d })
        // asn → avgpool 2×2 → flatten → dense: W' over the pre-pool rates equals W ∘ average.
        let text = """
        {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"},
         "defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"}, "readout": {"tau_phi": 50}},
         "nodes": [{"name": "x", "op": "input", "shape": [4, 4, 2]}, {"name": "a", "op": "asn", "inputs": ["x"]},
                   {"name": "p", "op": "avgpool2d", "inputs": ["a"], "size": 2}, {"name": "f", "op": "flatten", "inputs": ["p"]},
                   {"name": "d", "op": "dense", "inputs": ["f"], "weight": {"shape": [3, 8], "data": [\((0..<24).map { "\(Double($0 % 7) - 3)" }.joined(separator: ","))]}},
                   {"name": "out", "op": "readout", "inputs": ["d"]}]}
        """
        let dir = NSTemporaryDirectory() + "snnc-avg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeFileAtomically(dir + "/m.json", text)
        let model = load(dir + "/m.json")
        var u = CompileUnit(model: model, profile: profile("generic"))
        for p in [FoldBatchNorm(), EncodeInput(), MergePooling()] as [any Pass] { try p.run(&u) }
        #expect(!u.model.nodes.contains { $0.op == .avgpool2d })
        guard case .dense(let d2) = u.model.node(named: "d")!.attributes else { Issue.record("dense"); return }
        #expect(d2.inFeatures == 32)
        let pm = PreparedModel(model)
        var rng = SeededRandom(seed: 5)
        let rates = (0..<32).map { _ in rng.uniform() }
        let expected = pm.evaluate(pm.index["d"]!, given: [pm.index["a"]!: rates])
        for o in 0..<3 {
            let got = (0..<32).reduce(0.0) { $0 + d2.weight(out: o, in: $1) * rates[$1] }
            #expect(abs(got - expected[o]) < 1e-12)
        }
    }
}

@Suite struct QuantizationPropertyTests {
    static let modes: [RoundingMode] = [.nearestEven, .nearestAway, .towardZero, .floor]

    @Test(arguments: [4, 8, 12, 16])
    func roundTripIsWithinHalfAnLSBAndOrderIsKept(bits: Int) {
        var rng = SeededRandom(seed: UInt64(bits))
        let w = (0..<2000).map { _ in rng.normal() * 0.3 }
        let maxAbs = w.map(abs).max()!
        let e = FixedPoint.chooseExponent(maxAbs: maxAbs, bits: bits, range: -40...40)
        let f = WeightFormat(bits: bits, exponent: e)
        for mode in Self.modes {
            let q = w.map { FixedPoint.quantize($0, f, mode) }
            #expect(q.allSatisfy { !$0.clipped })  // the exponent never clips the largest weight
            let bound = (mode == .nearestEven || mode == .nearestAway) ? 0.5 : 1.0
            for (x, m) in zip(w, q) { #expect(abs(x - Double(m.mantissa) * f.lsb) <= bound * f.lsb + 1e-18) }
            let order = w.indices.sorted { w[$0] < w[$1] }
            for (a, b) in zip(order, order.dropFirst()) { #expect(q[a].mantissa <= q[b].mantissa) }
        }
    }

    @Test(arguments: [2, 8, 16])
    func exponentIsTheFinestThatHoldsTheLargestWeight(bits: Int) {
        var rng = SeededRandom(seed: 99)
        for _ in 0..<200 {
            let maxAbs = exp(rng.normal() * 5)
            let e = FixedPoint.chooseExponent(maxAbs: maxAbs, bits: bits, range: -60...60)
            let maxM = Double((1 << (bits - 1)) - 1)
            #expect(maxAbs <= maxM * pow2(e))
            #expect(maxAbs > maxM * pow2(e - 1))
        }
        // At the ends of the profile's range the exponent is clamped.
        #expect(FixedPoint.chooseExponent(maxAbs: 1e9, bits: 8, range: -8...7) == 7)
        #expect(FixedPoint.chooseExponent(maxAbs: 1e-9, bits: 8, range: -8...7) == -8)
        #expect(FixedPoint.chooseExponent(maxAbs: 0, bits: 8, range: -8...7) == -8)
    }

    @Test func saturationIsExactAtTheLimits() {
        let f = WeightFormat(bits: 8, exponent: -4)
        for mode in Self.modes {
            #expect(FixedPoint.quantize(127 * f.lsb, f, mode) == (127, false))
            #expect(FixedPoint.quantize(-128 * f.lsb, f, mode) == (-128, false))
            #expect(FixedPoint.quantize(1000 * f.lsb, f, mode) == (127, true))
            #expect(FixedPoint.quantize(-1000 * f.lsb, f, mode) == (-128, true))
        }
        #expect(FixedPoint.quantize(0.5 * f.lsb, f, .nearestEven).mantissa == 0)
        #expect(FixedPoint.quantize(1.5 * f.lsb, f, .nearestEven).mantissa == 2)
        #expect(FixedPoint.quantize(0.5 * f.lsb, f, .nearestAway).mantissa == 1)
        #expect(FixedPoint.quantize(-0.9 * f.lsb, f, .towardZero).mantissa == 0)
        #expect(FixedPoint.quantize(-0.1 * f.lsb, f, .floor).mantissa == -1)
    }

    @Test func decaysAsKBitMultipliers() {
        #expect(FixedPoint.decay(exp(-1.0 / 50), bits: 12) == 4015)
        #expect(FixedPoint.decay(exp(-1.0 / 15), bits: 12) == 3832)
        #expect(FixedPoint.decay(0.1, bits: 12) == 410)
    }

    /// The state LSB holds the integrated current (one step's worst case every step, ÷(1 − α_β))
    /// where ϑ0 keeps 16 bits: on 32-bit `generic` every MNIST layer does (one step's bound alone
    /// left it 50× short, and the emulator saturated); on 24-bit `loihi2` it would cost threshold
    /// bits, so the exponents stay where one step's bound put them.
    @Test func stateHoldsTheIntegratedCurrentWhereItCostsNoPrecision() throws {
        let mnist = repoRoot + "/Examples/mnist/model.json"
        var generic = CompileUnit(model: load(mnist), profile: profile("generic"))
        _ = try Pipeline.run(&generic, clock: { 0 }, rss: { 0 })
        let gain = 1 / (1 - exp(-1.0 / 50))
        for q in generic.quantization {
            #expect(q.worstCaseInput * gain <= q.accumulatorLimit, "\(q.node): \(q.worstCaseInput) × \(gain)")
        }
        for (layer, f) in generic.neuronFormats {
            // ϑ0 keeps its 16 bits (the input layer has the host's 12 fraction bits).
            #expect(f.theta0 >= 1 << (layer == "asn1" ? 12 : Quantize.integratedPrecisionBits), "\(layer): ϑ0 \(f.theta0) LSBs")
        }
        var loihi2 = CompileUnit(model: load(mnist), profile: profile("loihi2"))
        _ = try Pipeline.run(&loihi2, clock: { 0 }, rss: { 0 })
        let exps = ["asn1", "asn2", "asn3", "asn4", "asn5", "asn6"].map { loihi2.neuronFormats[$0]?.stateExponent }
        #expect(exps == [-16, -14, -19, -20, -20, -18])
    }

    @Test func reportFlagsZeroedWeights() throws {
        var unit = CompileUnit(model: load(repoRoot + "/Examples/iris/model.json"), profile: profile("loihi"))
        _ = try Pipeline.run(&unit, clock: { 0 }, rss: { 0 })
        let fc2 = try #require(unit.quantization.first { $0.node == "fc2" })
        #expect(fc2.bits == 8 && fc2.weights == 3600 && fc2.sqnrDB > 20 && fc2.sqnrDB < 40)
        #expect(fc2.zeroedPercent > 5)
        #expect(unit.diagnostics.contains { $0.id == .quantZeroed && $0.object == "node 'fc2'" })
    }
}
