import Foundation
import SNNCIR
import SNNCReference
import Testing

func lowered(_ text: String) throws -> SpikingNetwork {
    let dir = NSTemporaryDirectory() + "snnc-sim-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try writeFileAtomically(dir + "/model.json", text)
    let r = ModelLoader.load(path: dir + "/model.json")
    let m = try #require(r.model, "\(r.diagnostics)")
    return try SpikingNetwork.lower(m).get()
}

/// A 2-layer network whose spike times are derived by hand.
///
/// Both layers: ϑ0 = 1, m_f = 0 and τ_γ → 0 (so ϑ = 1 always: spike when S − Ŝ > 0.5),
/// τ_φ → 0 (α_φ = 0: S_dyn = I), τ_η = τ_β = 1/ln 2 (α_η = α_β = ½), h = 1.
/// Layer 1 is the input layer, I = 0.8 every step; Ŝ halves before each test:
///   t=0: Ŝ 0 → 0.8 > 0.5 spike, Ŝ 1 | t=1: Ŝ .5 → .3 | t=2: Ŝ .25 → .55 spike, Ŝ 1.25 |
///   t=3: .625 → .175 | t=4: .3125 → .4875 | t=5: .15625 → .64375 spike, Ŝ 1.15625 |
///   t=6: .578 → .222 | t=7: .289 → .511 spike, Ŝ 1.289 | t=8: .645 | t=9: .322 → .478 |
///   t=10: .161 → .639 spike.                      Layer 1 spikes: 0, 2, 5, 7, 10.
/// Layer 2 gets I = ½·I + 0.7·spike₁ (hop delay 0):
///   t=0: I .7 > .5 spike, Ŝ 1 | t=1: I .35, Ŝ .5 | t=2: I .875, Ŝ .25 → .625 spike, Ŝ 1.25 |
///   t=3: I .4375, Ŝ .625 | t=4: I .21875, Ŝ .3125 | t=5: I .809, Ŝ .156 → .653 spike |
///   t=6: I .405, Ŝ .578 | t=7: I .902, Ŝ .289 → .613 spike | t=8, 9: no |
///   t=10: I .813, Ŝ .161 → .652 spike.            Layer 2 spikes: 0, 2, 5, 7, 10.
/// With a hop delay of 1 each of layer 2's inputs arrives a step later; the same arithmetic
/// shifted by one gives 1, 3, 6, 8, 11.
let handNet = """
{"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"},
 "defaults": {"asn": {"tau_gamma": 1e-6, "tau_eta": 1.4426950408889634, "tau_beta": 1.4426950408889634,
                      "tau_phi": 1e-6, "theta0": 1, "m_f": 0, "h": 1}, "readout": {"tau_phi": 1e-6}},
 "nodes": [
  {"name": "x", "op": "input", "shape": [1]},
  {"name": "a1", "op": "asn", "inputs": ["x"]},
  {"name": "w", "op": "dense", "inputs": ["a1"], "weight": [[0.7]]},
  {"name": "a2", "op": "asn", "inputs": ["w"]},
  {"name": "v", "op": "dense", "inputs": ["a2"], "weight": [[1], [-1]], "bias": [0, 0.1]},
  {"name": "out", "op": "readout", "inputs": ["v"]}
 ]}
"""

@Suite struct HandDerivedTraceTests {
    func run(hopDelay: Int) throws -> ImageResult {
        let net = try lowered(handNet)
        var o = SimulationOptions()
        o.durationMs = 11 + hopDelay
        o.hopDelay = hopDelay
        o.recordRaster = true
        return Simulator(network: net, options: o).simulate([0.8])
    }

    @Test func spikeTimesMatchTheHandDerivation() throws {
        let r = try run(hopDelay: 0)
        #expect(r.raster![0].map(\.step) == [0, 2, 5, 7, 10])
        #expect(r.raster![1].map(\.step) == [0, 2, 5, 7, 10])
        // Readout: α_β = ½, α_φ = 0, so S = bias + I with I = ½·I + (1, −1)·spike₂:
        // t=0: (1, −1 + 0.1) → class 0; t=1: (0.5, −0.4) → class 0.
        let tr = r.readoutTrace!
        #expect(abs(tr[0][0] - 1) < 1e-12 && abs(tr[0][1] - (-0.9)) < 1e-12)
        #expect(abs(tr[1][0] - 0.5) < 1e-12 && abs(tr[1][1] - (-0.4)) < 1e-12)
        #expect(r.spikesPerLayer == [5, 5, 0])
    }

    @Test func aHopDelayShiftsTheNextLayerByOneStep() throws {
        let r = try run(hopDelay: 1)
        #expect(r.raster![0].map(\.step) == [0, 2, 5, 7, 10])
        #expect(r.raster![1].map(\.step) == [1, 3, 6, 8, 11])
    }
}

@Suite struct ExampleNetworkTests {
    static func iris() throws -> (SpikingNetwork, Dataset) {
        let m = try #require(ModelLoader.load(path: repoRoot + "/Examples/iris/model.json").model)
        let d = try DataLoader.load(path: repoRoot + "/Examples/iris/all.csv").get()
        return (try SpikingNetwork.lower(m).get(), d)
    }

    /// The trained IRIS network: the float AdSNN classifies all 150 samples as the ANN does.
    @Test func irisSpikingAccuracyEqualsANN() throws {
        let (net, d) = try Self.iris()
        #expect(d.count == 150)
        let ann = d.samples.map { net.prepared.classify($0).label }
        let results = Simulator(network: net, options: SimulationOptions()).run(images: d.samples)
        let m = SimulationMetrics.compute(network: net, results: results, labels: d.labels, annClasses: ann, durationMs: 500, hopDelay: 0)
        #expect(m.annAccuracy >= 0.973)
        #expect(m.snnAccuracy == m.annAccuracy)
        #expect(m.firingRateHz > 10 && m.firingRateHz < 200)
        #expect(m.matchingTimeMs > 1 && m.matchingTimeMs < 500)
        #expect(m.layers.map(\.name) == ["asn1", "asn2", "asn3"])
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        let (net, d) = try Self.iris()
        var o = SimulationOptions()
        o.durationMs = 200
        o.threads = 1
        let one = Simulator(network: net, options: o).run(images: d.samples)
        o.threads = 2
        let two = Simulator(network: net, options: o).run(images: d.samples)
        #expect(one.map(\.classes) == two.map(\.classes))
        #expect(one.map(\.spikesPerLayer) == two.map(\.spikesPerLayer))
        #expect(one.map(\.synapticEvents) == two.map(\.synapticEvents))
        #expect(one.map(\.finalReadout) == two.map(\.finalReadout))
    }
}

/// The event-driven projections must equal the analog network's linear map: one unit spike of
/// source neuron j, scattered, equals the ANN's pre-activation for e_j minus that for 0.
@Suite struct ProjectionTests {
    static let convNet = """
    {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in", "conv_kernel": "OIHW"},
     "defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"}, "readout": {"tau_phi": 50}},
     "nodes": [
      {"name": "x", "op": "input", "shape": [6, 5, 2]},
      {"name": "a0", "op": "asn", "inputs": ["x"]},
      {"name": "c1", "op": "conv2d", "inputs": ["a0"], "stride": [2, 1], "padding": "same", "dilation": [1, 2],
       "weight": {"shape": [3, 2, 3, 2], "data": [\((0..<36).map { "\(Double(($0 * 7) % 11) / 10 - 0.5)" }.joined(separator: ","))]},
       "bias": [0.1, -0.2, 0.3]},
      {"name": "b1", "op": "batchnorm", "inputs": ["c1"], "gamma": [1.5, -0.5, 2], "beta": [0.1, 0.2, 0.3], "mean": [0, 0.1, -0.1], "var": [1, 4, 0.25], "eps": 0},
      {"name": "a1", "op": "asn", "inputs": ["b1"]},
      {"name": "p1", "op": "maxpool2d", "inputs": ["a1"], "size": 2, "padding": "same"},
      {"name": "p2", "op": "avgpool2d", "inputs": ["p1"], "size": 2, "stride": 1},
      {"name": "f", "op": "flatten", "inputs": ["p2"]},
      {"name": "fc", "op": "dense", "inputs": ["f"], "weight": {"shape": [2, 6], "data": [0.5, -1, 0.25, 2, -0.75, 1, 1, 0.5, -0.5, 0.25, 1.5, -2]}},
      {"name": "b2", "op": "batchnorm", "inputs": ["fc"], "gamma": [2, 0.5], "beta": [0, 1], "mean": [0.5, 0], "var": [1, 1], "eps": 0},
      {"name": "a2", "op": "asn", "inputs": ["b2"]},
      {"name": "out", "op": "readout", "inputs": ["a2"]}
     ]}
    """

    @Test func scatterEqualsTheLinearResponse() throws {
        let net = try lowered(Self.convNet)
        let pm = net.prepared
        #expect(net.layers.map(\.name) == ["a0", "a1", "a2", "out"])
        // a1 is pooled: neurons are max-pool positions, compartments the conv outputs.
        let a1 = net.layers[1]
        #expect(a1.compartments == 3 * 5 * 3 && a1.neurons == 2 * 3 * 3 && a1.poolStart != nil)
        for li in 1...2 {
            let layer = net.layers[li]
            let pre = pm.inputs[layer.node][0]
            for p in layer.projections {
                let src = net.layers[p.source]
                let zero = [Double](repeating: 0, count: src.neurons)
                let base = pm.evaluate(pre, given: [src.outputNode: zero])
                #expect(base == layer.bias)
                for j in 0..<src.neurons {
                    var e = zero
                    e[j] = 1
                    let expected = pm.evaluate(pre, given: [src.outputNode: e])
                    var out = [Double](repeating: 0, count: layer.compartments)
                    _ = out.withUnsafeMutableBufferPointer { p.scatter([(Int32(j), 0.123)], binaryHeight: 1, into: $0) }
                    for k in out.indices { #expect(abs(out[k] - (expected[k] - base[k])) < 1e-12, "layer \(layer.name) source \(j) target \(k)") }
                }
            }
        }
    }

    /// Gathered conv delivery (per output position, in registers) against the scatter (per
    /// spike): the same bits in every target, over random geometries (strides, dilations,
    /// padding, channel counts that are and are not multiples of 8 and 32), spike sets, payloads
    /// and prior target contents, binary and graded. A conv behind a max-pool (pooled source
    /// neurons) is included; behind an average pool the map does not rise and gather declines.
    @Test func gatherGivesTheScattersBits() throws {
        var state: UInt64 = 17
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func r(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        func u() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
        func list(_ n: Int, _ f: () -> String) -> String { (0..<n).map { _ in f() }.joined(separator: ",") }
        var gathered = 0
        for trial in 0..<40 {
            let pooled = trial % 4 == 1, averaged = trial % 8 == 3
            let h = 4 + r(6), w = 4 + r(6), c = 1 + r(5)
            let k = 1 + r(3), st = 1 + r(2), dl = 1 + r(2), outC = [3, 8, 13, 32, 40, 64][r(6)], same = r(2) == 0
            // The conv's input: the ASN itself, its 2×2 max-pool ("same"), or a 2×2 stride-1 average pool.
            let (ih, iw) = pooled ? ((h + 1) / 2, (w + 1) / 2) : averaged ? (h - 1, w - 1) : (h, w)
            let span = (k - 1) * dl + 1
            let (oh, ow) = same ? ((ih + st - 1) / st, (iw + st - 1) / st) : ((ih - span) / st + 1, (iw - span) / st + 1)
            if oh < 1 || ow < 1 || ih < span && !same { continue }
            let pre = pooled ? #"{"name": "p", "op": "maxpool2d", "inputs": ["a0"], "size": 2, "padding": "same"},"#
                : averaged ? #"{"name": "p", "op": "avgpool2d", "inputs": ["a0"], "size": 2, "stride": 1},"# : ""
            let text = """
            {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in", "conv_kernel": "OIHW"},
             "defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"}, "readout": {"tau_phi": 50}},
             "nodes": [
              {"name": "x", "op": "input", "shape": [\(h), \(w), \(c)]},
              {"name": "a0", "op": "asn", "inputs": ["x"]}, \(pre)
              {"name": "c1", "op": "conv2d", "inputs": ["\(pre.isEmpty ? "a0" : "p")"], "stride": [\(st), \(st)], "padding": "\(same ? "same" : "valid")",
               "dilation": [\(dl), \(dl)], "weight": {"shape": [\(outC), \(c), \(k), \(k)], "data": [\(list(outC * c * k * k) { "\(u())" })]}},
              {"name": "b1", "op": "batchnorm", "inputs": ["c1"], "gamma": [\(list(outC) { "\(u() + 1.5)" })], "beta": [\(list(outC) { "0" })],
               "mean": [\(list(outC) { "0" })], "var": [\(list(outC) { "1" })], "eps": 0},
              {"name": "a1", "op": "asn", "inputs": ["b1"]},
              {"name": "f", "op": "flatten", "inputs": ["a1"]},
              {"name": "fc", "op": "dense", "inputs": ["f"], "weight": {"shape": [2, \(oh * ow * outC)], "data": [\(list(2 * oh * ow * outC) { "0.5" })]}},
              {"name": "out", "op": "readout", "inputs": ["fc"]}
             ]}
            """
            let net = try lowered(text)
            let layer = net.layers[1], p = layer.projections[0], src = net.layers[p.source]
            #expect(p.gatherable == !averaged, "trial \(trial)")
            for graded in [false, true] {
                var spikes: [(Int32, Double)] = []
                let density = [0.05, 0.3, 1.0][r(3)]
                for j in 0..<src.neurons where Double(next() % 1000) < density * 1000 { spikes.append((Int32(j), u() + 1.2)) }
                let prior = (0..<layer.compartments).map { _ in u() }
                var a = prior, b = prior
                let e1 = a.withUnsafeMutableBufferPointer { p.scatter(spikes, binaryHeight: graded ? nil : 0.37, into: $0, scratch: GatherScratch(), mode: .scatter) }
                let e2 = b.withUnsafeMutableBufferPointer { p.scatter(spikes, binaryHeight: graded ? nil : 0.37, into: $0, scratch: GatherScratch(), mode: .gather) }
                #expect(e1 == e2)
                let differ = a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
                #expect(differ == nil, "trial \(trial): \(h)×\(w)×\(c) k\(k) s\(st) d\(dl) → \(outC), \(spikes.count) spikes: target \(differ ?? -1) differs")
                if p.gatherable && !spikes.isEmpty && a != prior { gathered += 1 }
            }
        }
        #expect(gathered >= 30)
    }

    @Test func gradedSpikesCarryTheirPayload() throws {
        let net = try lowered(Self.convNet)
        let p = net.layers[2].projections[0]
        var a = [Double](repeating: 0, count: 2), b = a
        _ = a.withUnsafeMutableBufferPointer { p.scatter([(3, 0.25)], binaryHeight: nil, into: $0) }
        _ = b.withUnsafeMutableBufferPointer { p.scatter([(3, 99)], binaryHeight: 0.25, into: $0) }
        #expect(a == b)
    }

    @Test func unsupportedPatternsAreDiagnosed() throws {
        // Two weighted layers with no ASN between them.
        let text = """
        {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"},
         "defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"}, "readout": {"tau_phi": 50}},
         "nodes": [{"name": "x", "op": "input", "shape": [2]}, {"name": "a", "op": "asn", "inputs": ["x"]},
                   {"name": "d1", "op": "dense", "inputs": ["a"], "weight": [[1, 2], [3, 4]]},
                   {"name": "d2", "op": "dense", "inputs": ["d1"], "weight": [[1, 2]]},
                   {"name": "out", "op": "readout", "inputs": ["d2"]}]}
        """
        let dir = NSTemporaryDirectory() + "snnc-sim-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeFileAtomically(dir + "/m.json", text)
        let m = try #require(ModelLoader.load(path: dir + "/m.json").model)
        guard case .failure(let e) = SpikingNetwork.lower(m) else { Issue.record("lowered"); return }
        #expect(e.diagnostics.map(\.id) == [.unsupportedPattern])
        #expect(e.diagnostics[0].message.contains("'d1' and 'd2'"))
    }
}
