import Foundation
import SNNCIR
import SNNCReference
import Testing

/// Hand-derived traces of the IF family in float (IFNeuron.swift; Docs/neuron-model.md). Inputs
/// and constants are dyadic, so every value below is exact and was worked out on paper.
@Suite struct IFNeuronTraceTests {
    /// Runs one neuron on a constant input; returns the membrane after each step and the spike steps.
    func run(_ p: LIFParameters, input: Double, steps: Int) -> (v: [Double], spikes: [Int]) {
        let k = LIFConstants(p)
        var s = LIFState()
        var v: [Double] = [], spikes: [Int] = []
        for t in 0..<steps {
            if LIFNeuron.step(&s, input: input, k) { spikes.append(t) }
            v.append(s.v)
        }
        return (v, spikes)
    }

    @Test func ifSubtractKeepsTheSurplus() {
        // v: .375, .75, 1.125 → spike → .125, .5, .875, 1.25 → .25, .625, 1.0 (not above: strict),
        // 1.375 → .375, then the cycle again: 3 spikes per 8 steps = 0.375 per step.
        let r = run(LIFParameters(kind: .integrateAndFire, vThreshold: 1, reset: .subtract), input: 0.375, steps: 16)
        #expect(Array(r.v.prefix(9)) == [0.375, 0.75, 0.125, 0.5, 0.875, 0.25, 0.625, 1.0, 0.375])
        #expect(r.spikes == [2, 5, 8, 10, 13, 16].filter { $0 < 16 })
    }

    @Test func ifResetToValueLosesTheSurplus() {
        // v: .375, .75, 1.125 → spike → 0, then the same: a spike every third step (rate 1/3 < 0.375).
        let r = run(LIFParameters(kind: .integrateAndFire, vThreshold: 1, reset: .value), input: 0.375, steps: 9)
        #expect(r.v == [0.375, 0.75, 0, 0.375, 0.75, 0, 0.375, 0.75, 0])
        #expect(r.spikes == [2, 5, 8])
        // r scales the input: r = 2 with input .375 gives .75, 1.5 → 0, …
        let g = run(LIFParameters(kind: .integrateAndFire, vThreshold: 1, reset: .value, r: 2), input: 0.375, steps: 4)
        #expect(g.v == [0.75, 0, 0.75, 0])
    }

    @Test func lifLeaksTowardVLeak() {
        // τ_mem 4: v ← .75·v + (r/4)·x + v_leak/4. r 1, x 2, v_leak 0: .5, .875, 1.15625 → .15625,
        // .6171875, .962890625, 1.22216796875 → .22216796875.
        let r = run(LIFParameters(kind: .leaky, vThreshold: 1, reset: .subtract, tauMem: 4), input: 2, steps: 6)
        #expect(r.v == [0.5, 0.875, 0.15625, 0.6171875, 0.962890625, 0.22216796875])
        #expect(r.spikes == [2, 5])
        // No input, v_leak 0.5: v → .125, .21875, .2890625 (toward 0.5), never fires.
        let l = run(LIFParameters(kind: .leaky, vThreshold: 1, reset: .subtract, tauMem: 4, vLeak: 0.5), input: 0, steps: 3)
        #expect(l.v == [0.125, 0.21875, 0.2890625] && l.spikes.isEmpty)
    }

    @Test func nextStepResetIsSnnTorchs() {
        // snnTorch Leaky, β .75 (τ 4, r 4 so the input gain is 1), x .5, θ 1:
        // mem[t] = .75·mem[t−1] + .5 − spk[t−1]: .5, .875, 1.15625 (spike), 1.3671875 − 1 = .3671875,
        // .775390625, 1.08154296875 (spike), 1.3111572265625 − 1 = .3111572265625.
        let p = LIFParameters(kind: .leaky, vThreshold: 1, reset: .subtract, resetTiming: .nextStep, r: 4, tauMem: 4)
        let r = run(p, input: 0.5, steps: 7)
        #expect(r.v == [0.5, 0.875, 1.15625, 0.3671875, 0.775390625, 1.08154296875, 0.3111572265625])
        #expect(r.spikes == [2, 5])
        // At once instead: 1.15625 → .15625, then .6171875, .962890625, 1.22216796875 → .22216796875.
        var q = p
        q.resetTiming = .immediate
        #expect(run(q, input: 0.5, steps: 6).v == [0.5, 0.875, 0.15625, 0.6171875, 0.962890625, 0.22216796875])
        // snnTorch's reset to zero drops the input of the step after a spike: 1.15625, then 0.
        var z = p
        z.reset = .value
        #expect(Array(run(z, input: 0.5, steps: 5).v) == [0.5, 0.875, 1.15625, 0, 0.5])
    }

    @Test func cubaLIFFiltersTheCurrentFirst() {
        // τ_syn 2, w_in 2: i ← .5·i + 1·x; τ_mem 2, r 2: v ← .5·v + 1·i. x .5, θ 1, reset to 0:
        // i .5, .75, .875, .9375, .96875; v .5, 1.0 (not above), 1.375 → 0, .9375, 1.4375 → 0.
        let p = LIFParameters(kind: .currentBased, vThreshold: 1, reset: .value, r: 2, tauMem: 2, tauSyn: 2, wIn: 2)
        let k = LIFConstants(p)
        var s = LIFState()
        var i: [Double] = [], v: [Double] = [], spikes: [Int] = []
        for t in 0..<5 {
            if LIFNeuron.step(&s, input: 0.5, k) { spikes.append(t) }
            i.append(s.current)
            v.append(s.v)
        }
        #expect(i == [0.5, 0.75, 0.875, 0.9375, 0.96875])
        #expect(v == [0.5, 1.0, 0, 0.9375, 0])
        #expect(spikes == [2, 4])
    }

    @Test func pooledIFSpikesOnTheLargestMembraneAndResetsEveryCompartment() {
        // Two compartments, inputs .375 and .25, θ 1, subtract: (.375, .25), (.75, .5),
        // (1.125, .75) → spike → (.125, −.25), (.5, 0), (.875, .25), (1.25, .5) → (.25, −.5).
        let k = LIFConstants(LIFParameters(kind: .integrateAndFire, vThreshold: 1, reset: .subtract))
        let current = UnsafeMutablePointer<Double>.allocate(capacity: 2), v = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        let input = UnsafeMutablePointer<Double>.allocate(capacity: 2), bias = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        let spiked = UnsafeMutablePointer<UInt8>.allocate(capacity: 1), payload = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        defer { for p in [current, v, input, bias] { p.deallocate() }; spiked.deallocate(); payload.deallocate() }
        current.update(repeating: 0, count: 2); v.update(repeating: 0, count: 2); bias.update(repeating: 0, count: 2)
        let ps: [Int32] = [0, 2], pi: [Int32] = [0, 1]
        var trace: [[Double]] = [], spikes: [Int] = []
        for t in 0..<6 {
            input[0] = 0.375; input[1] = 0.25
            LIFNeuron.integrate(current: current, v: v, input: input, bias: bias, count: 2, injected: false, k)
            #expect(input[0] == 0 && input[1] == 0)  // consumed
            let n = ps.withUnsafeBufferPointer { a in pi.withUnsafeBufferPointer { b in
                LIFNeuron.fire(v: v, poolStart: a.baseAddress, poolIndex: b.baseAddress, count: 1, k, height: 2.5, spiked: spiked, payload: payload)
            } }
            if n == 1 {
                spikes.append(t)
                #expect(payload[0] == 2.5)
            }
            trace.append([v[0], v[1]])
        }
        #expect(trace == [[0.375, 0.25], [0.75, 0.5], [0.125, -0.25], [0.5, 0], [0.875, 0.25], [0.25, -0.5]])
        #expect(spikes == [2, 5])
    }

    @Test func theIntegratingReadoutAddsInputAndBiasEveryStep() {
        var s = LIFState()
        for _ in 0..<3 { _ = LIFNeuron.step(&s, input: 0.25 + 0.5, .integrator) }
        #expect(s.v == 2.25 && !s.spiked)
    }
}

/// The IF family in the model format and the float reference's network.
@Suite struct IFNetworkTests {
    func load(_ nodes: String) -> LoadResult {
        let dir = NSTemporaryDirectory() + "snnc-if-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let text = #"{"format": "snnc-model", "version": 1, "layouts": {"dense": "out_in"}, "nodes": ["# + nodes + "]}"
        try! writeFileAtomically(dir + "/model.json", text)
        return ModelLoader.load(path: dir + "/model.json", displayName: "model.json")
    }

    /// input [2] → if0 (injected: v += x) → dense → if1 → dense → readout (integrates).
    let net = #"""
    {"name": "x", "op": "input", "shape": [2]},
    {"name": "if0", "op": "if", "inputs": ["x"], "v_threshold": 1, "reset": "subtract", "spike_height": 0.5},
    {"name": "fc1", "op": "dense", "inputs": ["if0"], "weight": [[1, 0], [1, 1]], "bias": [0.125, 0]},
    {"name": "if1", "op": "lif", "inputs": ["fc1"], "v_threshold": 0.25, "reset": "value", "tau_mem": 2, "r": 2},
    {"name": "fc2", "op": "dense", "inputs": ["if1"], "weight": [[1, -1], [0, 2]], "bias": [0.5, 0]},
    {"name": "out", "op": "readout", "inputs": ["fc2"], "tau_phi": 50}
    """#

    @Test func aHandTracedNetwork() throws {
        let loaded = load(net)
        let model = try #require(loaded.model, "\(loaded.diagnostics)")
        #expect(loaded.diagnostics.isEmpty)
        guard case .success(let sn) = SpikingNetwork.lower(model) else { Issue.record("lowering failed"); return }
        var o = SimulationOptions()
        o.durationMs = 4
        o.recordRaster = true
        let r = Simulator(network: sn, options: o).simulate([0.75, 0.5])
        // if0 (v += x, θ 1, subtract): n0 .75, 1.5 → .5 (t1), 1.25 → .25 (t2), 1.0; n1 .5, 1.0, 1.5 → .5 (t2), 1.0.
        #expect(r.raster![0] == [SpikeEvent(step: 1, neuron: 0), SpikeEvent(step: 2, neuron: 0), SpikeEvent(step: 2, neuron: 1)])
        // if1 (τ 2, r 2: v ← .5·v + 1·x; θ .25, reset to 0), x = fc1(spikes·0.5) + bias, hop delay 0:
        // t0: x (.125, 0) → v .125, 0; t1: spike n0 → x (.625, .5) → v .6875 (spike), .5 (spike) → 0, 0;
        // t2: spikes n0, n1 → x (.625, 1.0) → v .625 (spike), 1.0 (spike) → 0, 0; t3: x (.125, 0) → .125, 0.
        #expect(r.raster![1] == [SpikeEvent(step: 1, neuron: 0), SpikeEvent(step: 1, neuron: 1), SpikeEvent(step: 2, neuron: 0), SpikeEvent(step: 2, neuron: 1)])
        // readout v += fc2(spikes·1) + bias: t0 (.5, 0); t1 + (0 + .5, 2) → (1.0, 2); t2 + (.5, 2) → (1.5, 4); t3 + (.5, 0) → (2.0, 4).
        #expect(r.readoutTrace! == [[0.5, 0], [1.0, 2], [1.5, 4], [2.0, 4]])
        #expect(r.classes == [0, 1, 1, 1])
        #expect(r.spikesPerLayer == [3, 4, 0])
    }

    @Test func theANNOfAnIFNodeIsItsRate() throws {
        let model = try #require(load(net).model)
        let pm = PreparedModel(model)
        let y = pm.forward([0.75, 0.5])
        // if0: max(0, x)·0.5/1; if1 (r 2, height 1, θ .25): max(0, 2x)·4.
        #expect(y[1] == [0.375, 0.25])
        #expect(y[3] == [(0.375 + 0.125) * 2 * 4, (0.375 + 0.25) * 2 * 4])
    }

    @Test(arguments: [
        (#""reset": "subtract""#, "v_threshold", "field-missing"),
        (#""v_threshold": 1"#, "'reset' is missing", "field-missing"),
        (#""v_threshold": 1, "reset": "later""#, "must be \"subtract\"", "field-value"),
        (#""v_threshold": 1, "reset": "subtract", "reset_timing": "soon""#, "reset_timing", "field-value"),
        (#""v_threshold": 0, "reset": "subtract""#, "v_threshold is 0.0", "param-range"),
        (#""v_threshold": 1, "reset": "value", "v_reset": 1"#, "not below v_threshold", "param-range"),
        (#""v_threshold": 1, "reset": "subtract", "r": 0"#, "r is 0.0", "param-range"),
        (#""v_threshold": "one", "reset": "subtract""#, "must be a number", "field-type"),
    ])
    func badIFFieldsAreNamed(fields: String, message: String, id: String) {
        let r = load(#"{"name": "x", "op": "input", "shape": [2]}, {"name": "n", "op": "if", "inputs": ["x"], "#
                     + fields + #"}, {"name": "out", "op": "readout", "inputs": ["n"], "tau_phi": 50}"#)
        #expect(r.model == nil)
        #expect(r.diagnostics.contains { $0.id.rawValue == id && $0.object == "node 'n'" && $0.message.contains(message) }, "\(r.diagnostics)")
    }

    @Test func lifNeedsTauMemAndStableEuler() {
        let missing = load(#"{"name": "x", "op": "input", "shape": [2]}, {"name": "n", "op": "lif", "inputs": ["x"], "v_threshold": 1, "reset": "subtract"}, {"name": "out", "op": "readout", "inputs": ["n"], "tau_phi": 50}"#)
        #expect(missing.diagnostics.contains { $0.id == .fieldMissing && $0.message.contains("tau_mem") })
        let fast = load(#"{"name": "x", "op": "input", "shape": [2]}, {"name": "n", "op": "cuba_lif", "inputs": ["x"], "v_threshold": 1, "reset": "subtract", "tau_mem": 0.5, "tau_syn": 4}, {"name": "out", "op": "readout", "inputs": ["n"], "tau_phi": 50}"#)
        #expect(fast.diagnostics.contains { $0.id == .paramRange && $0.message.contains("tau_mem is 0.5") })
        // A field of another op is ignored with a warning: tau_syn on an IF node.
        let extra = load(#"{"name": "x", "op": "input", "shape": [2]}, {"name": "n", "op": "if", "inputs": ["x"], "v_threshold": 1, "reset": "subtract", "tau_syn": 4}, {"name": "out", "op": "readout", "inputs": ["n"], "tau_phi": 50}"#)
        #expect(extra.model != nil && extra.diagnostics.contains { $0.id == .unknownField && $0.message.contains("tau_syn") })
    }
}
