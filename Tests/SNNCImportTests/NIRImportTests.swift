// NIR import on committed files written by the real writers (no Python here):
// Examples/nir-snntorch-mnist (trained and exported by snnTorch 1.0.0, nir 1.0.8, with
// snnTorch's own evaluation beside it) and Examples/nir-handmade (written with the nir package).
import Foundation
import SNNCImport
import SNNCIR
import SNNCJSON
import SNNCReference
import Testing

private let here = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
private let examples = here + "/../../Examples"

@Suite struct NIRImportTests {
    let snn = examples + "/nir-snntorch-mnist"

    func framework() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: snn + "/framework-accuracy.json"))) as! [String: Any]
    }

    /// snnTorch's export: Affine → LIF → Affine → LIF, τ = 1 ms at dt = 0.1 ms (β 0.9), r = τ/dt;
    /// read at snnTorch's convention: τ 10 steps, memGain r/τ = 1, subtractive reset on the next step.
    @Test func snnTorchExportReadsAsItsNetwork() throws {
        let r = NIRLoader.load(path: snn + "/model.nir")
        let model = try #require(r.model, "\(r.diagnostics)")
        #expect(r.diagnostics.isEmpty)
        #expect(model.nodes.map(\.op) == [.input, .dense, .lif, .dense, .lif, .readout])
        #expect(model.nodes.map(\.shape) == [[784], [128], [128], [10], [10], [10]])
        guard case .lif(let p) = model.nodes[2].attributes else { Issue.record("not a LIF"); return }
        #expect(abs(p.tauMem - 10) < 1e-4 && p.vThreshold == 1 && p.reset == .subtract && p.resetTiming == .nextStep && p.vReset == 0)
        let k = LIFConstants(p)
        #expect(abs(k.memDecay - 0.9) < 1e-6 && abs(k.memGain - 1) < 1e-6)
        // NIR's own reading: reset to v_reset at once.
        let spec = try #require(NIRLoader.load(path: snn + "/model.nir", options: NIROptions(convention: .nir)).model)
        guard case .lif(let q) = spec.nodes[2].attributes else { return }
        #expect(q.reset == .value && q.resetTiming == .immediate)
    }

    /// The float reference reproduces snnTorch's own run of the same file: every one of the first
    /// 1,000 test images gets snnTorch's class, both layers spike exactly as often, and the output
    /// layer's spike trains of the first three images are snnTorch's step for step.
    @Test func snnTorchNetworkRunsAsInSnnTorch() throws {
        let fw = try framework()
        let model = try #require(NIRLoader.load(path: snn + "/model.nir").model)
        guard case .success(let net) = SpikingNetwork.lower(model) else { Issue.record("lowering failed"); return }
        let data = try DataLoader.load(path: snn + "/test-data.json").get().prefix(1000)
        var o = SimulationOptions()
        o.durationMs = fw["T"] as! Int
        o.recordNeuronSpikes = true
        o.recordRaster = true
        let results = Simulator(network: net, options: o).run(images: data.samples)
        let predicted = fw["predicted_first_1000"] as! [Int]
        #expect(results.map { Int($0.classes.last!) } == predicted)
        #expect(zip(predicted, data.labels).filter { $0 == $1 }.count == fw["correct_first_1000"] as! Int)
        let totals = fw["total_spikes_first_1000"] as! [String: Int]
        #expect(results.reduce(0) { $0 + $1.spikesPerLayer[0] } == totals["lif1 (128 hidden)"])
        #expect(results.reduce(0) { $0 + $1.spikesPerLayer[1] } == totals["lif2 (10 output)"])
        let counts = fw["output_spike_counts_first_10"] as! [[Int]]
        for i in 0..<10 { #expect(results[i].neuronSpikes![1].map(Int.init) == counts[i], "image \(i)") }
        let trains = fw["output_spike_trains_first_3"] as! [[[Int]]]
        for i in 0..<3 {
            var mine = [[Int]](repeating: [Int](repeating: 0, count: 10), count: o.durationMs)
            for e in results[i].raster![1] { mine[Int(e.step)][Int(e.neuron)] = 1 }
            #expect(mine == trains[i], "image \(i)")
        }
    }

    /// NIR's leaky integrators before the Output (LI; CubaLI) are the readout's own dynamics: at
    /// dt = 1 ms the readout membrane, traced by hand from the hidden layer's spikes (hop delay 0)
    /// and the file's weights, is v ← 0.9·v + 0.1·drive (LI: τ 10 ms, r 1; CubaLI first
    /// i ← 0.8·i + 0.2·x, τ_syn 5 ms, w_in 1), to rounding.
    @Test(arguments: ["li-net", "cubali-net"])
    func leakyReadoutIsTracedByHand(_ name: String) throws {
        let model = try #require(NIRLoader.load(path: hand + "/\(name).nir", options: NIROptions(convention: .nir, dt: 1e-3)).model)
        guard case .readout(_, let leak) = model.nodes.last!.attributes, let leak else { Issue.record("no leaky readout"); return }
        #expect(leak.kind == (name == "li-net" ? .leaky : .currentBased) && abs(leak.tauMem - 10) < 1e-5)
        guard case .success(let net) = SpikingNetwork.lower(model) else { Issue.record("lowering failed"); return }
        var o = SimulationOptions()
        o.durationMs = 60
        o.recordRaster = true
        let x = [0.9, 0.4]
        let r = Simulator(network: net, options: o).run(images: [x])[0]
        let w2: [[Double]] = [[1.0, -0.5, 0.5], [-0.5, 1.0, 0.5]]
        var v = [0.0, 0.0], i = [0.0, 0.0]
        let spikes = r.raster![0]
        #expect(spikes.count > 20)
        for t in 0..<o.durationMs {
            let fired = spikes.filter { Int($0.step) == t }.map { Int($0.neuron) }
            for c in 0..<2 {
                let xin = fired.reduce(0.0) { $0 + w2[c][$1] }
                var drive = xin
                if name == "cubali-net" {
                    i[c] = 0.8 * i[c] + 0.2 * xin
                    drive = i[c]
                }
                v[c] = 0.9 * v[c] + 0.1 * drive
            }
            let got = r.readoutTrace![t]
            #expect(abs(got[0] - v[0]) < 1e-6 && abs(got[1] - v[1]) < 1e-6, "step \(t): \(got) vs \(v)")
        }
    }

    @Test func notNIRFilesAreRefusedByName() throws {
        let dir = NSTemporaryDirectory() + "snnc-nir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "not hdf5".write(toFile: dir + "/a.nir", atomically: true, encoding: .utf8)
        #expect(NIRLoader.load(path: dir + "/a.nir").diagnostics.map(\.id) == [.nirParse])
        #expect(NIRLoader.load(path: dir + "/missing.nir").diagnostics.map(\.id) == [.fileUnreadable])
        // A truncated copy of a real file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: snn + "/model.nir"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.nir"))
        let cut = NIRLoader.load(path: dir + "/cut.nir")
        #expect(cut.model == nil && cut.diagnostics.contains { $0.severity == .error })
        // The model front door dispatches .nir files here.
        #expect(ModelFiles.load(path: snn + "/model.nir").model?.nodes.count == 6)
    }

    let hand = examples + "/nir-handmade"

    /// conv-net's Conv2d (padding 1), SumPool2d, channel-major Flatten and Affine, with the spikes
    /// of expected.json given at the IF layer: the Affine's output is the writer's [8, 6, 1.25]
    /// (independent numpy, checked against torch), and the conv's output its conv_out — so the
    /// kernel layout, padding, the pool's sum and the Flatten's column permutation are right.
    @Test func convLayoutsMatchTheWriter() throws {
        let model = try #require(NIRLoader.load(path: hand + "/conv-net-uniform.nir").model, "\(NIRLoader.load(path: hand + "/conv-net-uniform.nir").diagnostics)")
        let expected = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: hand + "/expected.json"))) as! [String: Any])["conv-net.nir"] as! [String: Any]
        let pm = PreparedModel(model)
        func hwc(_ chw: [[[Double]]]) -> [Double] {
            var out: [Double] = []
            for y in 0..<chw[0].count { for x in 0..<chw[0][0].count { for c in 0..<chw.count { out.append(chw[c][y][x]) } } }
            return out
        }
        func doubles(_ a: Any) -> [[[Double]]] { (a as! [[[NSNumber]]]).map { $0.map { $0.map(\.doubleValue) } } }
        let image = hwc(doubles(expected["input_chw"]!))
        let conv = try #require(pm.index["conv"]), ifNode = try #require(pm.index["if1"]), fc = try #require(pm.index["fc"])
        let input = try #require(pm.index["input"])
        #expect(pm.evaluate(conv, given: [input: image]) == hwc(doubles(expected["conv_out_chw"]!)))
        let fcOut = pm.evaluate(fc, given: [ifNode: hwc(doubles(expected["spikes_chw"]!))])
        #expect(fcOut == (expected["fc_out"] as! [NSNumber]).map(\.doubleValue))
        #expect(model.nodes.map(\.op) == [.input, .conv2d, .integrateAndFire, .avgpool2d, .batchnorm, .flatten, .dense, .lif, .readout])
        // IF: v̇ = R·I at dt 1e-4 s: r·dt per step; LIF τ 10 ms = 100 steps.
        guard case .lif(let p) = model.nodes[2].attributes, case .lif(let q) = model.nodes[7].attributes else { Issue.record("neurons"); return }
        #expect(abs(p.r - 1e-4) < 1e-12 && p.vThreshold == 1)
        #expect(abs(q.tauMem - 100) < 1e-3)
        // The model runs in the float reference (lowering accepts the pooled-free graph).
        guard case .success = SpikingNetwork.lower(model) else { Issue.record("lowering failed"); return }
    }

    /// CubaLIF from float64 datasets, at Norse's convention (dt 1 ms, reset to v_reset at once).
    @Test func cubaLIFParametersAreDiscretised() throws {
        let r = NIRLoader.load(path: hand + "/cuba-net-uniform.nir", options: NIROptions(convention: .norse))
        let model = try #require(r.model, "\(r.diagnostics)")
        guard case .lif(let p) = model.nodes[2].attributes else { Issue.record("not a neuron"); return }
        #expect(model.nodes[2].op == .cubaLIF && p.kind == .currentBased)
        #expect(abs(p.tauSyn - 5) < 1e-9 && abs(p.tauMem - 20) < 1e-9 && p.wIn == 2 && p.vLeak == 0.25 && p.vReset == -0.5)
        #expect(p.reset == .value && p.resetTiming == .immediate)
        // --nir-dt overrides the step: 0.5 ms gives twice the steps.
        let fine = try #require(NIRLoader.load(path: hand + "/cuba-net-uniform.nir", options: NIROptions(convention: .norse, dt: 5e-4)).model)
        guard case .lif(let f) = fine.nodes[2].attributes else { return }
        #expect(abs(f.tauSyn - 10) < 1e-9)
    }

    @Test(arguments: [
        ("if-net.nir", DiagnosticID.nirParameter, "NIR node 'if1'"),
        ("cuba-net.nir", DiagnosticID.nirParameter, "NIR node 'cuba'"),
        ("bad-unsupported.nir", DiagnosticID.nirNodeUnsupported, "NIR node 'delay'"),
        ("bad-recurrent.nir", DiagnosticID.nirNodeUnsupported, "NIR node 'rlif'"),
    ])
    func refusalsNameTheNode(file: String, id: DiagnosticID, object: String) {
        let r = NIRLoader.load(path: hand + "/" + file)
        #expect(r.model == nil)
        #expect(r.diagnostics.contains { $0.id == id && $0.object == object }, "\(r.diagnostics)")
    }
}
