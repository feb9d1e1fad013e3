import Foundation
import SNNCIR
import Testing

@Suite struct GraphStatsTests {
    /// A conv net whose counts are derived by hand (see comments): stride 2 with "same" padding,
    /// a dilated conv with explicit padding, HWIO kernels and an in_out dense.
    static let model = """
    {"format": "snnc-model", "version": 1, "layouts": {"dense": "in_out", "conv_kernel": "HWIO"}, \(asnDefaults),
     "nodes": [
      {"name": "img", "op": "input", "shape": [7, 7, 3]},
      {"name": "a0", "op": "asn", "inputs": ["img"]},
      {"name": "c1", "op": "conv2d", "inputs": ["a0"], "stride": 2, "padding": "same",
       "weight": {"shape": [3, 3, 3, 4], "data": [\(Array(repeating: "0.01", count: 108).joined(separator: ","))]},
       "bias": [0, 0, 0, 0]},
      {"name": "a1", "op": "asn", "inputs": ["c1"]},
      {"name": "c2", "op": "conv2d", "inputs": ["a1"], "dilation": 2, "padding": [1, 1, 1, 1],
       "weight": {"shape": [3, 3, 4, 2], "data": [\((0..<72).map { "\($0)" }.joined(separator: ","))]}},
      {"name": "a2", "op": "asn", "inputs": ["c2"]},
      {"name": "p", "op": "avgpool2d", "inputs": ["a2"], "size": 2},
      {"name": "f", "op": "flatten", "inputs": ["p"]},
      {"name": "fc", "op": "dense", "inputs": ["f"], "weight": [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], "bias": [0, 0, 0, 0, 0]},
      {"name": "out", "op": "readout", "inputs": ["fc"]}
     ]}
    """

    @Test func countsMatchHandDerivedNumbers() throws {
        let r = loadText(Self.model)
        let model = try #require(r.model, "\(r.diagnostics)")
        let (rows, total) = GraphStats.table(model)
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.0.name, ($0.0, $0.1)) })
        // c1: 7×7×3 → out ceil(7/2) = 4; same padding total max(3·2+3−7, 0) = 2 → 1 top, 1 bottom.
        // Taps per output row (input index 2o−1+k): o=0 → {−1,0,1}: 2; o=1,2: 3; o=3 → {5,6,7}: 2 → Σ 10, max 3.
        #expect(by["c1"]!.0.shape == [4, 4, 4])
        #expect(by["c1"]!.1 == NodeStats(parameters: 3 * 3 * 3 * 4 + 4, neurons: 0, synapses: 10 * 10 * 3 * 4,
                                         maxFanIn: 3 * 3 * 3, macs: 4 * 4 * 4 * 3 * 9))
        // c2: 4×4×4, dilation 2 (span 5), pad 1 → padded 6 → out 2. Taps o=0 → {−1,1,3}: 2; o=1 → {0,2,4}: 2.
        #expect(by["c2"]!.0.shape == [2, 2, 2])
        #expect(by["c2"]!.1 == NodeStats(parameters: 72, neurons: 0, synapses: 4 * 4 * 4 * 2, maxFanIn: 2 * 2 * 4, macs: 2 * 2 * 2 * 4 * 9))
        #expect(by["p"]!.0.shape == [1, 1, 2])
        #expect(by["fc"]!.1 == NodeStats(parameters: 15, neurons: 0, synapses: 10, maxFanIn: 2, macs: 10))
        #expect(by["a0"]!.1.neurons == 147)
        #expect(by["a1"]!.1.neurons == 64)
        #expect(by["a2"]!.1.neurons == 8)
        #expect(total == NodeStats(parameters: 112 + 72 + 15, neurons: 219, synapses: 1200 + 128 + 10, maxFanIn: 27, macs: 1728 + 288 + 10))
    }

    @Test func layoutsMapToCanonicalIndices() throws {
        let model = try #require(loadText(Self.model).model)
        guard case .conv2d(let c2) = model.node(named: "c2")!.attributes,
              case .dense(let fc) = model.node(named: "fc")!.attributes else { Issue.record("ops"); return }
        // HWIO element [ky=1][kx=2][i=3][o=1] holds its flat index ((1·3+2)·4+3)·2+1 = 47.
        #expect(c2.weight(out: 1, in: 3, ky: 1, kx: 2) == 47)
        // in_out dense [2, 5]: weight(out 4, in 1) = row 1, column 4 = 10.
        #expect(fc.weight(out: 4, in: 1) == 10)
        #expect(fc.inFeatures == 2 && fc.outFeatures == 5)
    }

    @Test func samePaddingMatchesKerasFormula() {
        // Keras: out = ceil(in/stride); pad_total = max((out−1)·stride + k − in, 0), extra after.
        #expect(ShapeInference.samePadding(input: 28, window: 3, stride: 1, dilation: 1) == (1, 1))
        #expect(ShapeInference.samePadding(input: 224, window: 7, stride: 2, dilation: 1) == (2, 3))
        #expect(ShapeInference.samePadding(input: 5, window: 2, stride: 2, dilation: 1) == (0, 1))
        #expect(ShapeInference.outputSize(input: 224, window: 7, stride: 2, dilation: 1, padBefore: 3, padAfter: 3) == 112)
    }
}

@Suite struct SafetensorsTests {
    @Test func tensorsAreMappedNotCopiedAndReadBack() throws {
        let dir = makeTempDir()
        let w: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }
        try writeFileAtomically(dir + "/w.safetensors", encodeSafetensors([("fc.weight", [3, 4], w), ("fc.bias", [3], [0.5, -0.5, 1])], metadata: [("format", "pt")]))
        let text = """
        {"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"}, "weights": "w.safetensors", \(asnDefaults),
         "nodes": [{"name": "x", "op": "input", "shape": [4]}, {"name": "a", "op": "asn", "inputs": ["x"]},
                   {"name": "fc", "op": "dense", "inputs": ["a"], "weight": {"ref": "fc.weight"}, "bias": {"ref": "fc.bias"}},
                   {"name": "out", "op": "readout", "inputs": ["fc"]}]}
        """
        let r = loadText(text, dir: dir)
        let model = try #require(r.model, "\(r.diagnostics)")
        guard case .dense(let d) = model.node(named: "fc")!.attributes else { Issue.record("op"); return }
        guard case .mapped(_, _, let dtype) = d.weight.storage.backing else { Issue.record("weight was copied"); return }
        #expect(dtype == .f32)
        #expect(d.weight.toDoubles() == w.map(Double.init))
        #expect(d.bias!.toDoubles() == [0.5, -0.5, 1])
        #expect(d.weight.source == .safetensors(file: dir + "/w.safetensors", name: "fc.weight", dtype: .f32))
    }

    @Test func headerIsPaddedToEightBytes() {
        let bytes = encodeSafetensors([("a", [1], [1])])
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4)
    }

    @Test(arguments: [(UInt16(0x3C00), Float(1)), (0xC000, -2), (0x7BFF, 65504), (0x0001, 5.9604645e-8),
                      (0x0400, 6.1035156e-5), (0x3555, 0.33325195), (0x8000, -0.0)])
    func halfPrecisionDecodesExactly(bits: UInt16, value: Float) {
        #expect(halfToFloat(bits) == value)
    }

    @Test func halfSpecialsDecode() {
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0xFC00) == -.infinity)
        #expect(halfToFloat(0x7E00).isNaN)
    }
}

@Suite struct ShapeLimitsTests {
    @Test func elementCountRefusesOverflowAndNonPositiveDims() {
        #expect(elementCount([1 << 20, 1 << 20, 2]) == nil)
        #expect(elementCount([Int.max, 2]) == nil)
        #expect(elementCount([3, 0]) == nil)
        #expect(elementCount([224, 224, 64]) == 3_211_264)
    }
}
