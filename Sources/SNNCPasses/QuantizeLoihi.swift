// quantize on a Loihi-family profile: IF-family layers get the values Loihi's registers hold
// (SNNCIR/ChipFamily.swift, LoihiRules; Docs/fixed-point.md "Loihi"). Weights are mantissas by
// sign mode in units of 2^6 state LSBs, one exponent for all of a layer's inputs; the threshold is
// vth << 6 with a 17-bit vth; biases are 13-bit mantissas << 6; decays are Lava's du and dv.
// What a register cannot hold is rounded and reported, or refused with `chip-value` or
// `chip-reset`.
import SNNCHardware
import SNNCIR
#if canImport(Glibc)
import Glibc
#endif

extension Quantize {
    /// For each weighted node that drives a Loihi-family IF layer: the family's mantissas for its
    /// sign mode, at the one exponent e (the finest that holds every incoming weight of the
    /// layer) that makes the layer's state LSB 2^(e − 6).
    static func loihiWeightFormats(_ unit: CompileUnit, host: Set<String>) -> [String: WeightFormat] {
        guard unit.profile.family == .loihi else { return [:] }
        var out: [String: WeightFormat] = [:]
        for n in unit.model.nodes {
            guard case .lif = n.attributes else { continue }
            var e = -126
            var ranges: [(String, ClosedRange<Int>, Bool)] = []
            for w in unit.upstreamSources(of: n.name) where !host.contains(w.name) {
                let values: [Double]
                switch w.attributes {
                case .dense(let d): values = d.weight.toDoubles()
                case .conv2d(let c): values = c.weight.toDoubles()
                default: continue
                }
                let mode = LoihiRules.SignMode(weights: values)
                let r = LoihiRules.weightRange(mode)
                let pos = values.max() ?? 0, neg = -(values.min() ?? 0)
                let ratio = max(r.upperBound > 0 ? pos / Double(r.upperBound) : 0, r.lowerBound < 0 ? neg / Double(-r.lowerBound) : 0)
                if ratio > 0, ratio.isFinite {
                    var x = min(max(checkedInt(log2(ratio), .up) ?? 127, -126), 127)
                    while x > -126 && ratio <= pow2(x - 1) { x -= 1 }
                    while x < 127 && ratio > pow2(x) { x += 1 }
                    e = max(e, x)
                }
                ranges.append((w.name, r, mode == .mixed))
            }
            for (name, r, mixed) in ranges { out[name] = WeightFormat(bits: mixed ? 9 : 8, exponent: e, mantissas: r) }
        }
        return out
    }

    /// An IF-family layer's state LSB and registers on a Loihi-family profile. The state LSB is
    /// 2^(e − 6) for incoming weights of exponent e; an input layer's (its host current is its
    /// bias) leaves v_threshold 10 bits of vth (host currents to 4·v_threshold per step fit the
    /// 13-bit bias), coarser where the host current's bound needs it.
    func loihiFormat(_ n: Node, _ p: LIFParameters, exponentOf: [String: Int], _ unit: inout CompileUnit, host: Set<String>,
                     _ problems: inout [Diagnostic]) -> NeuronFixedPoint? {
        let file = unit.model.file, object = "node '\(n.name)'", profile = unit.profile
        // Resets: Loihi's compartment has one; a programmable chip runs the others.
        if !profile.programmableNeurons, let offered = profile.family.offeredReset {
            var needs: [String] = []
            if p.reset == .subtract { needs.append("a subtractive reset") }
            if p.reset != .subtract && p.vReset != 0 { needs.append("a reset to v_reset = \(formatSignificant(p.vReset))") }
            if p.resetTiming == .nextStep { needs.append("its reset at the next step") }
            if !needs.isEmpty {
                problems.append(Diagnostic(.error, .chipReset, file: file, object: object,
                                           "needs \(needs.joined(separator: " and ")); profile '\(profile.name)' offers: \(offered)",
                                           notes: ["`snnc convert --to if --reset zero` lowers an IF conversion to Loihi's reset; profile 'loihi2' (programmable neurons) runs the other resets"]))
                return nil
            }
        }
        let unitShift = LoihiRules.activationShift
        let incoming = incomingWeighted(of: n.name, unit).filter { !host.contains($0) }
        let sExp: Int
        if let e = incoming.compactMap({ exponentOf[$0] }).max() {
            sExp = e - unitShift
            unit.stateRanges.append(StateRangeReport(layer: n.name, stateExponent: sExp, source: .staticAnalysis, measured: nil, unit.profile.numerics))
        } else {
            var u = Int(log2(p.vThreshold).rounded(.down)) - 10
            let bound = hostBound(into: n.name, unit, host: host).map { $0.0 * abs(p.inputGain) }
            if let bound { while bound / pow2(u) > Double(LoihiRules.biasMantissa.upperBound) { u += 1 } }
            sExp = u - unitShift
            var report = StateRangeReport(layer: n.name, stateExponent: sExp, source: .assumed, measured: nil, unit.profile.numerics)
            report.hostBound = bound
            unit.stateRanges.append(report)
        }
        let weightUnit = pow2(sExp + unitShift)
        // The threshold: vth << 6 with a 17-bit vth.
        let vthReal = p.vThreshold / weightUnit
        guard let vth = checkedInt(vthReal, .toNearestOrEven), LoihiRules.thresholdMantissa.contains(vth), vth >= 1 else {
            problems.append(Diagnostic(.error, .chipValue, file: file, object: object,
                                       "v_threshold \(formatSignificant(p.vThreshold)) is vth \(formatFixed(vthReal, 1)) at the weight unit 2^\(sExp + unitShift) its inputs' weights set; Loihi's 17-bit vth holds 1 … \(LoihiRules.thresholdMantissa.upperBound)",
                                       notes: ["the largest incoming weight sets the unit (255 units at most); a threshold far above the weights needs a finer unit than 8-bit weights give"]))
            return nil
        }
        // Decays: the current's multiplier 4096 − (du + 1) ∈ 0…4095, the voltage's 4096 − dv ∈ 1…4096.
        let unity = Int(LoihiRules.decayUnity)
        let vMult = p.kind == .integrateAndFire ? unity : min(max(Int((p.memDecay * Double(unity)).rounded(.toNearestOrEven)), unity - LoihiRules.decayRegister.upperBound), unity)
        let uMult = p.kind == .currentBased ? min(max(Int((p.synDecay * Double(unity)).rounded(.toNearestOrEven)), 0), unity - LoihiRules.currentDecayOffset) : 0
        for (what, real, q, relevant) in [("membrane", p.memDecay, vMult, p.kind != .integrateAndFire), ("synaptic current", p.synDecay, uMult, p.kind == .currentBased)] where relevant {
            let qd = Double(q) / Double(unity)
            if abs(qd - real) > Self.decayTolerance * (1 - real) {
                unit.diagnostics.append(Diagnostic(.warning, .quantDecay, file: file, object: object,
                                                   "the \(what)'s decay \(formatSignificant(real)) per step (τ = \(formatSignificant(1 / (1 - real))) steps) is \(formatSignificant(qd)) in Loihi's 12-bit register (τ = \(qd < 1 ? formatSignificant(1 / (1 - qd)) + " steps" : "infinite: no decay"))"))
            }
        }
        let leakMant = LoihiRules.biasMantissa(p.memLeak / weightUnit)
        let biasUnit = 1 << LoihiRules.biasExponent
        // A programmable chip (loihi2) runs the model's other resets after Lava's step 4; v_reset
        // in state LSBs (the loihi profile refused them above).
        let vReset = checkedInt((p.vReset / pow2(sExp)).rounded(.toNearestOrEven), .towardZero) ?? 0
        guard abs(vReset) < Int(LoihiRules.maxUV) else {
            problems.append(Diagnostic(.error, .chipValue, file: file, object: object, "v_reset \(formatSignificant(p.vReset)) is \(vReset) state LSBs (2^\(sExp)); Loihi's 24-bit v holds ±\(LoihiRules.maxUV - 1)"))
            return nil
        }
        let lif = LIFFixedPoint(kind: p.kind, memDecay: vMult, synDecay: uMult, threshold: vth << unitShift, vReset: vReset, leak: leakMant * biasUnit,
                                subtract: p.reset == .subtract, nextStep: p.resetTiming == .nextStep)
        let thErr = abs(Double(vth) - vthReal) / vthReal
        unit.diagnostics.append(Diagnostic(.note, .chipValue, file: file, object: object,
                                           "Loihi registers: vth \(vth) (v_threshold \(thErr == 0 ? "exact" : "off by " + formatSignificant(100 * thErr) + " %")), du \(LoihiRules.du(currentMultiplier: uMult)), dv \(LoihiRules.dv(voltageMultiplier: vMult)), weight unit 2^\(sExp + unitShift)\(leakMant != 0 ? ", leak bias_mant \(leakMant)" : "")"))
        var f = NeuronFixedPoint(stateExponent: sExp, theta0: vth << unitShift, mf: 0, decayBits: LoihiRules.decayShift, alphaBeta: 0, alphaPhi: 0, alphaEta: 0, alphaGamma: 0)
        f.lif = lif
        return f
    }

    /// A weighted node's bias into a Loihi-family IF layer: Lava adds `bias_mant << 6` to v, so a
    /// CubaLIF layer's bias (into the synaptic current in the model) moves to v at its steady
    /// state b/(1 − d_syn); each bias is a 13-bit mantissa with the layer's leak, in units of 2^6
    /// state LSBs. Returns the biases as represented, in real units.
    static func loihiBias(_ b: Tensor, node: String, layer: String, _ lif: LIFFixedPoint, stateExponent s: Int, _ unit: inout CompileUnit) -> Tensor {
        let weightUnit = pow2(s + LoihiRules.activationShift)
        let leakMant = lif.leak >> LoihiRules.biasExponent
        var values = b.toDoubles()
        if lif.kind == .currentBased {
            let keep = Double(lif.synDecay) / Double(LoihiRules.decayUnity)
            values = values.map { $0 / (1 - keep) }
            if values.contains(where: { $0 != 0 }) {
                unit.diagnostics.append(Diagnostic(.warning, .chipValue, file: unit.model.file, object: "node '\(node)'",
                                                   "its bias feeds CubaLIF layer '\(layer)', whose synaptic current on Loihi has no bias: the bias is added to v as b/(1 − d_syn) (×\(formatSignificant(1 / (1 - keep)))), the same at steady state",
                                                   notes: ["for the first ~τ_syn steps the membrane sees more drive than the model's filtered bias; `snnc emulate --check` measures the cost"]))
            }
        }
        var clamped = 0, worst = 0.0
        let lo = LoihiRules.biasMantissa.lowerBound - leakMant, hi = LoihiRules.biasMantissa.upperBound - leakMant
        let out = values.map { v -> Double in
            let x = v / weightUnit
            let m = LoihiRules.biasMantissa(x)
            let c = min(max(m, lo), hi)
            if Double(c) != x.rounded(.toNearestOrEven) { clamped += 1; worst = max(worst, abs(x)) }
            return Double(c) * weightUnit
        }
        if clamped > 0 {
            unit.diagnostics.append(Diagnostic(.warning, .chipValue, file: unit.model.file, object: "node '\(node)'",
                                               "\(clamped) biases clamped: the largest needs bias_mant \(formatFixed(worst, 0)) at 2^\(LoihiRules.biasExponent) state LSBs (2^\(s)); Loihi's 13-bit bias_mant holds \(lo) … \(hi)\(leakMant != 0 ? " beside the leak's \(leakMant)" : "")"))
        }
        return Tensor(shape: b.shape, values: out)
    }
}
