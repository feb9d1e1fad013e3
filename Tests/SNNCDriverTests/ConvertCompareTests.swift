import Foundation
import SNNCDriver
import SNNCIR
import SNNCImport
import SNNCReference
import Testing

/// `snnc convert --to if` and `snnc compare` (issue 19): the rate-coded IF baseline.
@Suite struct ConvertCompareTests {
    let irisRelu = repoRoot + "/Examples/iris-relu/model.json"

    /// Converting writes a model whose relu nodes are IF neurons with v_threshold = spike_height
    /// = the 99.9th percentile of the layer's positive activations, computed here independently;
    /// the tensors are the original's (the weights file copied byte for byte), so the IF network's
    /// ANN (its ReLU network) classifies every sample as the original ANN does.
    @Test func convertIsThresholdBalancingAndKeepsTheANN() throws {
        let dir = NSTemporaryDirectory() + "snnc-convert-\(UUID().uuidString)/sub"
        var o = Convert.Options(modelPath: irisRelu, outputPath: dir + "/iris-if.json")
        o.calibratePath = repoRoot + "/Examples/iris-relu/all.csv"
        let r = Convert.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        #expect(r.stdout.contains("relu1") && r.stdout.contains("150 samples"))
        let original = try #require(ModelFiles.load(path: irisRelu).model)
        let converted = try #require(ModelFiles.load(path: dir + "/iris-if.json").model, "\(ModelFiles.load(path: dir + "/iris-if.json").diagnostics)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")) == Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Examples/iris-relu/model.safetensors")))
        let data = try DataLoader.load(path: o.calibratePath!).get()
        let pm = PreparedModel(original)
        for name in ["relu1", "relu2"] {
            let i = try #require(pm.index[name])
            var positive: [Double] = []
            for x in data.samples { positive += pm.forward(x)[i].filter { $0 > 0 } }
            positive.sort()
            // numpy's linear percentile, by hand: position p/100·(n − 1).
            let pos = 0.999 * Double(positive.count - 1), lo = Int(pos)
            let expected = positive[lo] + (positive[min(lo + 1, positive.count - 1)] - positive[lo]) * (pos - Double(lo))
            let node = try #require(converted.node(named: name))
            guard case .lif(let p) = node.attributes else { Issue.record("\(name) is not an IF node"); continue }
            #expect(node.op == .integrateAndFire && p.kind == .integrateAndFire && p.reset == .subtract)
            #expect(p.vThreshold == p.spikeHeight)
            #expect(abs(p.vThreshold - expected) <= 1e-6 * expected, "\(name): \(p.vThreshold) vs \(expected)")  // Float32 activations
        }
        let a = PreparedModel(original), b = PreparedModel(converted)
        for x in data.samples { #expect(a.classify(x).label == b.classify(x).label) }
        // The converted file simulates, compiles for Loihi 2 and passes the emulator's check.
        var s = Simulate.Options(modelPath: dir + "/iris-if.json", dataPath: repoRoot + "/Examples/iris-relu/test.csv")
        s.progress = false
        #expect(Simulate.run(s).status == .success)
        var c = Compile.Options(modelPath: dir + "/iris-if.json")
        c.profile = "loihi2"
        c.output = dir + "/out.snnc"
        let compiled = Compile.run(c)
        #expect(compiled.status == .success, "\(compiled.stderr)")
        var e = Emulate.Options(directory: dir + "/out.snnc", dataPath: repoRoot + "/Examples/iris-relu/test.csv")
        e.check = true
        e.progress = false
        let checked = Emulate.run(e)
        #expect(checked.status == .success && checked.stdout.contains("check passed"), "\(checked.stdout)\(checked.stderr)")
        // --theta0 sets an ASN's threshold: refused by name on an IF network.
        c.theta0 = 0.2
        #expect(Compile.run(c).diagnostics.contains { $0.id == .neuronModelUnsupported && $0.object == "node 'relu1'" })
    }

    @Test func convertRefusesWhatItCannotConvert() {
        var o = Convert.Options(modelPath: repoRoot + "/Examples/resnet8-fashion/model.onnx", outputPath: NSTemporaryDirectory() + "x.json")
        #expect(Convert.run(o).diagnostics.contains { $0.id == .formatUnknown })
        o.modelPath = repoRoot + "/Examples/iris-relu/model.json"
        o.calibratePath = repoRoot + "/Examples/iris-relu/missing.csv"
        let r = Convert.run(o)
        #expect(r.status == .badInput && !r.diagnostics.isEmpty)
    }

    /// The side-by-side run on IRIS-ReLU's held-out samples, calibrated on all of them: a
    /// regression record of both networks' accuracy, spikes and events (the float reference is
    /// the same on every CPU and thread count).
    @Test func compareOnIrisRelu() throws {
        var o = Compare.Options(modelPath: irisRelu, dataPath: repoRoot + "/Examples/iris-relu/test.csv")
        o.calibratePath = repoRoot + "/Examples/iris-relu/all.csv"
        o.json = true
        o.progress = false
        let svg = NSTemporaryDirectory() + "snnc-compare-\(UUID().uuidString).svg"
        o.svgPath = svg
        let r = Compare.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["samples"] as? Int == 30 && abs(obj["ann_accuracy"] as! Double - 28.0 / 30) < 1e-12)
        #expect((obj["calibration"] as! [String: Any])["samples"] as? Int == 150)
        let nets = obj["networks"] as! [[String: Any]]
        #expect(nets.map { $0["network"] as! String } == ["ASNN (graded ASN)", "IF (rate-coded)"])
        #expect(nets.allSatisfy { abs($0["accuracy"] as! Double - 28.0 / 30) < 1e-12 })
        #expect(nets.map { $0["reaches_target_ms"] as! Int } == [21, 19])
        #expect(nets.map { ($0["spikes_per_layer"] as! [[String: Any]]).map { $0["spikes"] as! Int } } == [[61946, 86333], [125589, 124146]])
        #expect(nets.map { $0["spikes_per_sample_to_target"] as! Double } == [616.0666666666667, 295.1])
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(picture.contains("IF (rate-coded)") && picture.contains("target"))
        // The ASNN side is the plain simulation of the file: same spikes as `snnc simulate`.
        var s = Simulate.Options(modelPath: irisRelu, dataPath: o.dataPath)
        s.json = true
        s.progress = false
        let plain = try JSONSerialization.jsonObject(with: Data(Simulate.run(s).stdout.utf8)) as! [String: Any]
        #expect((plain["spikes_per_layer"] as! [[String: Any]]).map { $0["spikes"] as! Int } == [61946, 86333])
    }

    /// `--profile`: both networks compiled for Loihi 2 and run in the emulator (hop delay 1); the
    /// cycle model's energy per sample is a running sum whose last value is the run's and whose
    /// value at the step each reaches the target is reported (pinned: a regression record).
    @Test func compareCompiledOnLoihi2() throws {
        var o = Compare.Options(modelPath: irisRelu, dataPath: repoRoot + "/Examples/iris-relu/test.csv")
        o.calibratePath = repoRoot + "/Examples/iris-relu/all.csv"
        o.json = true
        o.progress = false
        o.profile = "loihi2"
        let r = Compare.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let compiled = (obj["networks"] as! [[String: Any]]).map { $0["compiled"] as! [String: Any] }
        #expect(compiled.allSatisfy { $0["profile"] as? String == "loihi2" && abs($0["accuracy"] as! Double - 28.0 / 30) < 1e-12 })
        // The IF conversion's figures re-recorded for issue 36: its IF layers now run Lava's
        // arithmetic on Loihi 2 (the ASN side is unchanged).
        #expect(compiled.map { $0["reaches_target_ms"] as! Int } == [26, 25])
        let energy = compiled.map { $0["energy_uj_per_sample"] as! Double }, toTarget = compiled.map { $0["energy_uj_per_sample_to_target"] as! Double }
        #expect(abs(energy[0] - 4.098) < 5e-4 && abs(energy[1] - 5.938) < 5e-4, "\(energy)")
        #expect(abs(toTarget[0] - 0.325) < 5e-4 && abs(toTarget[1] - 0.279) < 5e-4, "\(toTarget)")
        for c in compiled {
            let curve = c["energy_uj_per_sample_curve"] as! [Double]
            #expect(curve.count == 500 && zip(curve, curve.dropFirst()).allSatisfy { $0 < $1 } && curve.last == c["energy_uj_per_sample"] as? Double)
        }
        // Sources snnc cannot write an IF conversion of are refused before any work.
        o.modelPath = repoRoot + "/Examples/resnet8-fashion/model.onnx"
        #expect(Compare.run(o).diagnostics.contains { $0.id == .formatUnknown })
    }
}
