// quantize: weights to the profile's b-bit mantissas with a shared exponent per layer; neuron
// constants (decays, m_f) to k-bit multipliers; ϑ0 and biases to the layer's state LSB. Every
// loss is reported per layer; a static range analysis bounds the accumulator and the state.
import SNNCHardware
import SNNCIR
#if canImport(Glibc)
import Glibc
#endif

public struct LayerQuantization: Sendable {
    public var node: String
    public var bits: Int
    public var exponent: Int
    public var weights: Int
    public var maxAbsError: Double
    public var sqnrDB: Double
    public var zeroed: Int
    public var nonzero: Int
    public var clipped: Int
    /// Worst-case |input| in one step, in weight LSBs, and the accumulator limit.
    public var worstCaseInput: Double
    public var accumulatorLimit: Double
    public var zeroedPercent: Double { nonzero > 0 ? 100 * Double(zeroed) / Double(nonzero) : 0 }
}

public struct NeuronFixedPoint: Sendable {
    public var stateExponent: Int
    public var theta0: Int
    public var mf: Int
    public var decayBits: Int
    public var alphaBeta: Int, alphaPhi: Int, alphaEta: Int, alphaGamma: Int
    /// Graded layers: the payload is ϑ(t_s) shifted right by this many bits (Docs/fixed-point.md).
    public var payloadShift: Int = 0
    /// IF-family layers (theta0 then holds the threshold in LSBs; the ASN fields are 0).
    public var lif: LIFFixedPoint?
    /// Arousal: the registers written at the switch to ϑ0_hp — ϑ0 in LSBs, m_f, and the k-bit
    /// gain on the summed synaptic input that turns the senders' h_lp into h_hp.
    public var arousal: (theta0: Int, mf: Int, inputGain: Int)?
}

/// An IF-family layer's integer constants (Docs/fixed-point.md, "The IF family"): k-bit decays
/// and, in state LSBs, the threshold, v_reset and the leak per step.
public struct LIFFixedPoint: Sendable, Equatable {
    public var kind: LIFParameters.Kind
    public var memDecay: Int, synDecay: Int
    public var threshold: Int, vReset: Int, leak: Int
    public var subtract: Bool, nextStep: Bool
}

/// Why an ASN layer has its state LSB, and what each register holds there (real units).
public struct StateRangeReport: Sendable {
    public enum Source: String, Sendable {
        /// From measured ranges (`--calibrate`).
        case calibrated
        /// From the static analysis of the incoming weights.
        case staticAnalysis = "static"
        /// An input layer without calibration: ϑ0 with 12 fraction bits.
        case assumed
    }
    public var layer: String
    public var stateExponent: Int
    public var source: Source
    /// The measured ranges (the chosen percentile, before the margin).
    public var measured: StateRange?
    /// The largest magnitude each register holds at this LSB.
    public var capacity: StateRange
    /// Input layers without calibration: the bound assumed for the host current.
    public var hostBound: Double?

    public init(layer: String, stateExponent: Int, source: Source, measured: StateRange?, _ num: Numerics) {
        self.layer = layer
        self.stateExponent = stateExponent
        self.source = source
        self.measured = measured
        func holds(_ bits: Int) -> Double { Double((1 << (bits - 1)) - 1) * pow2(stateExponent) }
        capacity = StateRange(current: holds(num.currentBits), activation: holds(num.activationBits), refractory: holds(num.refractoryBits), threshold: holds(num.thresholdBits))
    }
}

/// How a graded layer's payload ϑ(t_s) fits the profile's payload width.
public struct PayloadQuantization: Sendable {
    public var layer: String
    /// The payload width used: min(payload_bits, multiplier_bits).
    public var bits: Int
    public var shift: Int
    /// ϑ0 and the bound 16·ϑ0 in the layer's state LSBs.
    public var theta0: Int, bound: Int
    /// Over thresholds from ϑ0 to the bound (uniform): signal to quantisation noise, and the
    /// worst relative error of one payload.
    public var sqnrDB: Double
    public var maxRelativeError: Double
}

public struct Quantize: Pass {
    public let name = "quantize"
    public let summary = "weights, decays and thresholds to the profile's fixed point, with a per-layer loss report"
    public init() {}

    /// The threshold's working range: ϑ(t_s) ≤ 16·ϑ0 (state sizing, graded payloads).
    public static let thresholdBound = 16
    /// The state LSB is coarsened for the integrated worst-case current only while ϑ0 keeps this
    /// many bits (s ≤ ⌊log2 ϑ0⌋ − 16); past it only one step's worst case is honoured, and the
    /// emulator counts any real overflow.
    public static let integratedPrecisionBits = 16

    /// How far an IF-family decay may move, as a share of its leak rate 1 − d, before a warning.
    public static let decayTolerance = 0.1

    /// Share of a layer's non-zero weights that may round to zero before a warning.
    public static let zeroedWarningPercent = 5.0

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        let num = unit.profile.numerics
        let range = num.weightExponentMin...num.weightExponentMax
        var problems: [Diagnostic] = []
        var exponentOf: [String: Int] = [:]
        var quantized: [String: [Double]] = [:]
        var absSum: [String: Double] = [:]  // worst-case |input| of one step, real units
        // Nodes the host computes (encode-input) stay in float: they never reach the chip.
        let host = Set(unit.hostNodes)
        let loihi = Self.loihiWeightFormats(unit, host: host)
        // 1. Weights: b-bit mantissas with the finest exponent that holds the largest weight.
        //    The exponent is absolute here; the profile's range limits its distance to the
        //    state LSB of the layer the weights drive (step 2).
        for n in unit.model.nodes where !host.contains(n.name) {
            let w: Tensor
            switch n.attributes {
            case .dense(let d): w = d.weight
            case .conv2d(let c): w = c.weight
            default: continue
            }
            let values = w.toDoubles()
            let maxAbs = values.reduce(0) { max($0, abs($1)) }
            var e = FixedPoint.chooseExponent(maxAbs: maxAbs, bits: num.weightBits, range: -126...127)
            var f = WeightFormat(bits: num.weightBits, exponent: e)
            if let lf = loihi[n.name] {
                // Loihi: the family's mantissas by sign mode, one exponent for all of a layer's inputs.
                f = lf
                e = lf.exponent
            }
            var q = [Double](repeating: 0, count: values.count)
            var zeroed = 0, nonzero = 0, clipped = 0
            var signal = 0.0, noise = 0.0, maxErr = 0.0
            for k in values.indices {
                let (m, c) = FixedPoint.quantize(values[k], f, num.rounding)
                q[k] = Double(m) * f.lsb
                if c { clipped += 1 }
                if values[k] != 0 {
                    nonzero += 1
                    if m == 0 { zeroed += 1 }
                }
                let err = values[k] - q[k]
                signal += values[k] * values[k]
                noise += err * err
                maxErr = max(maxErr, abs(err))
            }
            exponentOf[n.name] = e
            quantized[n.name] = q
            absSum[n.name] = Self.maxRowAbsSum(n, q) * (gradedPayloadBound(feeding: n.name, unit) ?? 1)
            unit.quantization.append(LayerQuantization(node: n.name, bits: loihi[n.name] != nil ? LoihiRules.SignMode(weights: values) == .mixed ? 9 : 8 : num.weightBits, exponent: e, weights: values.count, maxAbsError: maxErr,
                                                       sqnrDB: noise > 0 ? 10 * log10(signal / noise) : .infinity, zeroed: zeroed, nonzero: nonzero,
                                                       clipped: clipped, worstCaseInput: 0, accumulatorLimit: Double((1 << (num.currentBits - 1)) - 1)))
            let report = unit.quantization.last!
            if report.zeroedPercent > Self.zeroedWarningPercent {
                unit.diagnostics.append(Diagnostic(.warning, .quantZeroed, file: unit.model.file, object: "node '\(n.name)'",
                                                   "\(zeroed) of \(nonzero) non-zero weights (\(formatFixed(report.zeroedPercent, 1)) %) round to zero at \(num.weightBits) bits × 2^\(e)",
                                                   notes: ["the largest weight (\(formatFixed(maxAbs, 4))) sets the exponent; clipping outliers or a profile with more weight bits keeps small weights"]))
            }
        }
        // 2. Each ASN layer's state LSB 2^s: the finest s with every incoming weight exponent
        //    e in s + [min, max] of the profile's range; input layers: ϑ0 with 12 fraction bits.
        let k = num.decayBits
        for n in unit.model.nodes {
            if case .lif(let lp) = n.attributes {
                if unit.profile.family == .loihi {
                    if let f = loihiFormat(n, lp, exponentOf: exponentOf, &unit, host: host, &problems) { unit.neuronFormats[n.name] = f }
                    continue
                }
                if let f = lifFormat(n, lp, exponentOf: exponentOf, absSum: absSum, &unit, host: host, &problems) { unit.neuronFormats[n.name] = f }
                continue
            }
            guard let p = n.spikingNeuron else {
                if case .relu(nil) = n.attributes {
                    problems.append(Diagnostic(.error, .asnParamMissing, file: unit.model.file, object: "node '\(n.name)'",
                                               "a relu runs as a graded-spike ASN, but the file's defaults.asn does not give all of tau_gamma, tau_eta, tau_beta, tau_phi, theta0, m_f"))
                }
                continue
            }
            let incoming = incomingWeighted(of: n.name, unit).filter { !host.contains($0) }
            let exps = incoming.compactMap { exponentOf[$0] }
            // The coarsest state LSB that leaves ϑ0 `bits` bits: 2^(⌊log2 ϑ0⌋ − bits).
            func keepingTheta0(_ bits: Int) -> Int { Int(log2(p.theta0).rounded(.down)) - bits }
            let maxBias = Self.largestBias(incoming, unit)
            var sExp: Int
            if let measured = unit.calibration?.ranges[n.name], let calibrated = Self.calibratedExponent(measured, margin: unit.calibration!.margin, maxBias: maxBias, num) {
                // Measured ranges: the finest LSB that holds them (times the margin), within the
                // exponent window of the incoming weights.
                sExp = calibrated
                if let low = exps.map({ $0 - range.upperBound }).max(), let high = exps.map({ $0 - range.lowerBound }).min() {
                    sExp = max(sExp, low)
                    if sExp > high {
                        unit.diagnostics.append(Diagnostic(.warning, .quantClipped, file: unit.model.file, object: "node '\(n.name)'",
                                                           "its measured range needs state LSB 2^\(sExp), but its inputs' weight exponents \(exps.sorted()) allow at most 2^\(high) with the profile's exponent range \(range.lowerBound)…\(range.upperBound); the finest weights lose precision"))
                    }
                }
                unit.stateRanges.append(StateRangeReport(layer: n.name, stateExponent: sExp, source: .calibrated, measured: measured, num))
            } else if exps.isEmpty {
                sExp = keepingTheta0(12)
                // The host current's range is assumed: warn where it can saturate.
                let holds = Double((1 << (min(num.currentBits, num.activationBits) - 1)) - 1) * pow2(sExp)
                var report = StateRangeReport(layer: n.name, stateExponent: sExp, source: .assumed, measured: nil, num)
                if let (bound, why) = hostBound(into: n.name, unit, host: host) {
                    report.hostBound = bound
                    if bound > holds {
                        unit.diagnostics.append(Diagnostic(.warning, .quantRangeAssumed, file: unit.model.file, object: "node '\(n.name)'",
                                                           "its host current can reach \(formatFixed(bound, 2)) (\(why)); at the assumed state LSB 2^\(sExp) (ϑ0 with 12 fraction bits) the \(min(num.currentBits, num.activationBits))-bit state holds ±\(formatFixed(holds, 2))",
                                                           notes: ["`snnc compile --calibrate TRAIN-DATA` measures the layer's ranges and sizes its LSB to them (Docs/quantization.md)"]))
                    }
                }
                unit.stateRanges.append(report)
            } else {
                sExp = exps.map { $0 - range.upperBound }.max()!
                let high = exps.map { $0 - range.lowerBound }.min()!
                // Coarsen the state LSB until the worst-case input fits the current's bits and
                // the largest bias and 16·ϑ0 (the threshold's working range) fit with 2× headroom;
                // then, while ϑ0 keeps `integratedPrecisionBits` bits, until the integrated
                // current (that input every step, I = in/(1 − α_β)) fits too.
                let total = incoming.reduce(0.0) { $0 + (absSum[$1] ?? 0) }
                let integrated = total / (1 - exp(-1 / p.tauBeta))
                let coarsestForIntegrated = keepingTheta0(Self.integratedPrecisionBits)
                let limit = Double((1 << (num.currentBits - 1)) - 1)
                let actLimit = Double((1 << (num.activationBits - 1)) - 1) / 2
                let thLimit = Double((1 << (num.thresholdBits - 1)) - 1) / 2
                while sExp < high && (total / pow2(sExp) > limit || maxBias / pow2(sExp) > actLimit || Double(Self.thresholdBound) * p.theta0 / pow2(sExp) > thLimit
                                      || (sExp < coarsestForIntegrated && integrated / pow2(sExp) > limit)) {
                    sExp += 1
                }
                if sExp > high {
                    unit.diagnostics.append(Diagnostic(.warning, .quantClipped, file: unit.model.file, object: "node '\(n.name)'",
                                                       "its inputs' weight exponents \(exps.sorted()) span more than the profile's exponent range \(range.lowerBound)…\(range.upperBound); the finest lose precision"))
                }
                unit.stateRanges.append(StateRangeReport(layer: n.name, stateExponent: sExp, source: .staticAnalysis, measured: nil, num))
            }
            func a(_ tau: Double) -> Int { FixedPoint.decay(exp(-1 / tau), bits: k) }
            let thetaLimit = (1 << (num.thresholdBits - 1)) - 1
            guard let theta0LSBs = checkedInt(p.theta0 / pow2(sExp), .toNearestOrAwayFromZero), (1...thetaLimit).contains(theta0LSBs) else {
                problems.append(Diagnostic(.error, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                           "ϑ0 \(p.theta0) is \(formatFixed(p.theta0 / pow2(sExp), 0)) state LSBs (2^\(sExp)); the \(num.thresholdBits)-bit threshold needs 1 … \(thetaLimit)"))
                continue
            }
            unit.neuronFormats[n.name] = NeuronFixedPoint(stateExponent: sExp, theta0: theta0LSBs,
                                                          mf: FixedPoint.decay(p.mf, bits: k), decayBits: k,
                                                          alphaBeta: a(p.tauBeta), alphaPhi: a(p.tauPhi), alphaEta: a(p.tauEta), alphaGamma: a(p.tauGamma))
            if let ar = unit.arousal {
                let hp = ar.theta0High
                guard let hpLSBs = checkedInt(hp / pow2(sExp), .toNearestOrAwayFromZero), (1...thetaLimit).contains(hpLSBs) else {
                    problems.append(Diagnostic(.error, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                               "arousal's ϑ0_hp \(hp) is \(formatFixed(hp / pow2(sExp), 0)) state LSBs (2^\(sExp)); the \(num.thresholdBits)-bit threshold needs 1 … \(thetaLimit)"))
                    continue
                }
                unit.neuronFormats[n.name]!.arousal = (theta0: hpLSBs, mf: FixedPoint.decay(hp, bits: k),
                                                       inputGain: FixedPoint.decay(Self.arousalGain(into: n.name, unit), bits: k))
            }
        }
        // 2b. Graded layers: the payload ϑ(t_s) (state LSBs, ϑ0 … 16·ϑ0) shifted right until the
        //     bound fits the profile's payload width (and the multiplier's operand).
        if unit.profile.spikes.graded {
            let pb = min(unit.profile.spikes.payloadBits, unit.profile.spikes.multiplierBits)
            for n in unit.model.nodes {
                guard let p = n.spikingNeuron, p.spike == .graded, var f = unit.neuronFormats[n.name] else { continue }
                let bound = Self.thresholdBound * max(1, f.theta0)
                var shift = 0
                while bound >> shift > (1 << (pb - 1)) - 1 { shift += 1 }
                f.payloadShift = shift
                unit.neuronFormats[n.name] = f
                unit.payloads.append(Self.payloadReport(layer: n.name, theta0: f.theta0, bound: bound, bits: pb, shift: shift, rounding: num.rounding))
            }
        }
        // 3. Range analysis and the model's weights (dequantised, so the ANN shows the loss).
        for i in unit.model.nodes.indices {
            let n = unit.model.nodes[i]
            guard let q = quantized[n.name], let qi = unit.quantization.firstIndex(where: { $0.node == n.name }) else { continue }
            // A binary spike adds the weight; a graded one adds it times ϑ(t_s), bounded by 16·ϑ0.
            let target = unit.drivenLayer(by: n.name)
            let sExp = target.flatMap { unit.neuronFormats[$0]?.stateExponent } ?? exponentOf[n.name]!
            let worst = (target.map { t in incomingWeighted(of: t, unit).reduce(0.0) { $0 + (absSum[$1] ?? 0) } } ?? absSum[n.name]!) / pow2(sExp)
            unit.quantization[qi].worstCaseInput = worst
            let limit = unit.quantization[qi].accumulatorLimit
            // A calibrated target's LSB comes from measured ranges; the emulator counts overflows.
            let calibrated = target.map { unit.calibration?.ranges[$0] != nil } ?? false
            if worst > limit && !calibrated {
                // Loihi's u wraps by the chip's rule (LoihiRules): what the chip does, a warning.
                let isError = num.overflowIsError && !(unit.profile.family == .loihi && target.flatMap { unit.neuronFormats[$0]?.lif } != nil)
                let d = Diagnostic(isError ? .error : .warning, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                   "worst-case input in one step is \(formatFixed(worst, 0)) state LSBs, the \(num.currentBits)-bit current holds \(formatFixed(limit, 0))",
                                   notes: [isError ? "the bound assumes every source spikes in the same step; the emulator counts real overflows"
                                                   : "the bound assumes every source spikes in the same step; Loihi's current wraps at 24 bits, and the emulator counts each step it does"])
                if isError { problems.append(d) } else { unit.diagnostics.append(d) }
            }
            switch n.attributes {
            case .dense(var d):
                d.weight = Tensor(shape: d.weight.shape, values: q)
                unit.model.nodes[i].attributes = .dense(d)
            case .conv2d(var c):
                c.weight = Tensor(shape: c.weight.shape, values: q)
                unit.model.nodes[i].attributes = .conv2d(c)
            default: break
            }
        }
        // Biases add to S in the target layer's state LSB; they and ϑ0 must fit their widths.
        for i in unit.model.nodes.indices where !host.contains(unit.model.nodes[i].name) {
            let n = unit.model.nodes[i]
            guard let target = unit.drivenLayer(by: n.name), let fmt = unit.neuronFormats[target] else { continue }
            let lsb = pow2(fmt.stateExponent)
            let limit = Double((1 << (num.activationBits - 1)) - 1)
            func roundBias(_ b: Tensor?) -> Tensor? {
                guard let b else { return nil }
                if let lif = fmt.lif, unit.profile.family == .loihi { return Self.loihiBias(b, node: n.name, layer: target, lif, stateExponent: fmt.stateExponent, &unit) }
                let v = b.toDoubles().map { FixedPoint.round($0 / lsb, num.rounding) }
                if let worst = v.map(abs).max(), worst > limit {
                    let d = Diagnostic(num.overflowIsError ? .error : .warning, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                       "a bias is \(formatFixed(worst, 0)) state LSBs (2^\(fmt.stateExponent)); the \(num.activationBits)-bit activation holds \(formatFixed(limit, 0))")
                    if num.overflowIsError { problems.append(d) } else { unit.diagnostics.append(d) }
                }
                return Tensor(shape: b.shape, values: v.map { min(max($0, -limit - 1), limit) * lsb })
            }
            switch n.attributes {
            case .dense(var d):
                d.bias = roundBias(d.bias)
                unit.model.nodes[i].attributes = .dense(d)
            case .conv2d(var c):
                c.bias = roundBias(c.bias)
                unit.model.nodes[i].attributes = .conv2d(c)
            default: break
            }
        }
        if num.exponentScope == "core" {
            unit.diagnostics.append(Diagnostic(.note, .quantZeroed, file: unit.model.file, object: "profile '\(unit.profile.name)'",
                                               "the profile shares exponents per core; until the mapper assigns cores, one exponent per layer is used (a per-core exponent is never coarser)"))
        }
        if !problems.isEmpty { throw DiagnosticsError(problems + unit.diagnostics.filter { $0.severity == .error }) }
    }

    /// An IF-family layer's state LSB and integer constants. The LSB is the finest the incoming
    /// weights' exponents allow, coarsened until one step's worst-case input fits the current,
    /// the largest bias, 4·θ and |v_reset| fit the activation with 2× headroom, and (CubaLIF, while
    /// θ keeps `integratedPrecisionBits` bits) the integrated current fits; an input layer's:
    /// θ with 12 fraction bits, as the ASN's ϑ0.
    func lifFormat(_ n: Node, _ p: LIFParameters, exponentOf: [String: Int], absSum: [String: Double], _ unit: inout CompileUnit, host: Set<String>,
                   _ problems: inout [Diagnostic]) -> NeuronFixedPoint? {
        let num = unit.profile.numerics
        let range = num.weightExponentMin...num.weightExponentMax
        let incoming = incomingWeighted(of: n.name, unit).filter { !host.contains($0) }
        let exps = incoming.compactMap { exponentOf[$0] }
        func keepingThreshold(_ bits: Int) -> Int { Int(log2(p.vThreshold).rounded(.down)) - bits }
        let maxBias = Self.largestBias(incoming, unit)
        var sExp: Int
        let actLimit = Double((1 << (num.activationBits - 1)) - 1) / 2
        if exps.isEmpty {
            sExp = keepingThreshold(12)
            var report = StateRangeReport(layer: n.name, stateExponent: sExp, source: .assumed, measured: nil, num)
            let holds = Double((1 << (num.activationBits - 1)) - 1) * pow2(sExp)
            if let (bound, why) = hostBound(into: n.name, unit, host: host) {
                let scaled = bound * abs(p.inputGain)
                report.hostBound = scaled
                if scaled > holds {
                    unit.diagnostics.append(Diagnostic(.warning, .quantRangeAssumed, file: unit.model.file, object: "node '\(n.name)'",
                                                       "its host current times the input gain \(formatFixed(p.inputGain, 4)) can reach \(formatFixed(scaled, 2)) (\(why)); at the state LSB 2^\(sExp) (v_threshold with 12 fraction bits) the \(num.activationBits)-bit membrane holds ±\(formatFixed(holds, 2))"))
                }
            }
            unit.stateRanges.append(report)
        } else {
            sExp = exps.map { $0 - range.upperBound }.max()!
            let high = exps.map { $0 - range.lowerBound }.min()!
            let total = incoming.reduce(0.0) { $0 + (absSum[$1] ?? 0) }
            let integrated = p.kind == .currentBased ? total / max(1e-300, 1 - p.synDecay) : total
            let limit = Double((1 << (num.currentBits - 1)) - 1)
            let coarsest = keepingThreshold(Self.integratedPrecisionBits)
            while sExp < high && (total / pow2(sExp) > limit || maxBias / pow2(sExp) > actLimit || 4 * p.vThreshold / pow2(sExp) > actLimit
                                  || abs(p.vReset) / pow2(sExp) > actLimit || (sExp < coarsest && integrated / pow2(sExp) > limit)) {
                sExp += 1
            }
            if sExp > high {
                unit.diagnostics.append(Diagnostic(.warning, .quantClipped, file: unit.model.file, object: "node '\(n.name)'",
                                                   "its inputs' weight exponents \(exps.sorted()) span more than the profile's exponent range \(range.lowerBound)…\(range.upperBound); the finest lose precision"))
            }
            unit.stateRanges.append(StateRangeReport(layer: n.name, stateExponent: sExp, source: .staticAnalysis, measured: nil, num))
        }
        let lsb = pow2(sExp)
        let thetaLimit = (1 << (min(num.thresholdBits, num.activationBits) - 1)) - 1
        guard let th = checkedInt(p.vThreshold / lsb, .toNearestOrAwayFromZero), (1...thetaLimit).contains(th) else {
            problems.append(Diagnostic(.error, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                       "v_threshold \(p.vThreshold) is \(formatFixed(p.vThreshold / lsb, 0)) state LSBs (2^\(sExp)); the \(min(num.thresholdBits, num.activationBits))-bit threshold needs 1 … \(thetaLimit)"))
            return nil
        }
        let actFull = (1 << (num.activationBits - 1)) - 1
        let vReset = checkedInt(FixedPoint.round(p.vReset / lsb, num.rounding), .towardZero) ?? 0
        let leak = checkedInt(FixedPoint.round(p.memLeak / lsb, num.rounding), .towardZero) ?? 0
        guard abs(vReset) <= actFull, abs(leak) <= actFull else {
            problems.append(Diagnostic(.error, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                       "v_reset \(p.vReset) or the leak per step \(p.memLeak) exceeds the \(num.activationBits)-bit membrane at state LSB 2^\(sExp)"))
            return nil
        }
        let k = num.decayBits
        for (what, real) in [("membrane", p.memDecay), ("synaptic current", p.synDecay)] where what == "membrane" ? p.kind != .integrateAndFire : p.kind == .currentBased {
            let q = Double(FixedPoint.decay(real, bits: k)) / pow2(k)
            if abs(q - real) > Self.decayTolerance * (1 - real) {
                unit.diagnostics.append(Diagnostic(.warning, .quantDecay, file: unit.model.file, object: "node '\(n.name)'",
                                                   "the \(what)'s decay \(formatSignificant(real)) per step (τ = \(formatSignificant(1 / (1 - real))) steps) is \(formatSignificant(q)) at \(k) decay bits (τ = \(q < 1 ? formatSignificant(1 / (1 - q)) + " steps" : "infinite: no decay"))",
                                                   notes: ["a profile with more decay_bits keeps the time constant; `snnc emulate --check` shows what it costs"]))
            }
        }
        let lif = LIFFixedPoint(kind: p.kind, memDecay: FixedPoint.decay(p.memDecay, bits: k), synDecay: p.kind == .currentBased ? FixedPoint.decay(p.synDecay, bits: k) : 0,
                                threshold: th, vReset: vReset, leak: leak, subtract: p.reset == .subtract, nextStep: p.resetTiming == .nextStep)
        var f = NeuronFixedPoint(stateExponent: sExp, theta0: th, mf: 0, decayBits: k, alphaBeta: 0, alphaPhi: 0, alphaEta: 0, alphaGamma: 0)
        f.lif = lif
        return f
    }

    /// The largest |bias| of the weighted nodes `incoming` (0 without biases).
    static func largestBias(_ incoming: [String], _ unit: CompileUnit) -> Double {
        incoming.compactMap { Self.bias(of: $0, unit) }.map { $0.toDoubles().map(abs).max() ?? 0 }.max() ?? 0
    }

    /// The finest state exponent at which every measured register, times `margin`, fits its
    /// bits and the largest bias fits the activation with 2× headroom (nil: nothing measured).
    public static func calibratedExponent(_ m: StateRange, margin: Double, maxBias: Double, _ num: Numerics) -> Int? {
        func full(_ bits: Int) -> Double { Double((1 << (bits - 1)) - 1) }
        let needs: [(Double, Double)] = [(m.current * margin, full(num.currentBits)), (m.activation * margin, full(num.activationBits)),
                                         (m.refractory * margin, full(num.refractoryBits)), (m.threshold * margin, full(num.thresholdBits)),
                                         (maxBias, full(num.activationBits) / 2)]
        let exps = needs.compactMap { (v, limit) -> Int? in
            guard v.isFinite, v > 0 else { return nil }
            return checkedInt(log2(v / limit), .up)
        }
        return exps.max()
    }

    /// A bound on the host current into injected layer `name`, by interval arithmetic over the
    /// host nodes, and how it was found. A batch-norm's output is taken as |β| + 6|γ| per
    /// channel (inputs within six standard deviations of the training mean); the raw input as
    /// ±1 (data scaled to [0, 1] or [−1, 1]); nil where no bound follows.
    func hostBound(into name: String, _ unit: CompileUnit, host: Set<String>) -> (Double, String)? {
        var memo: [String: (Double, String)?] = [:]
        func bound(_ x: String) -> (Double, String)? {
            if let b = memo[x] { return b }
            guard host.contains(x), let n = unit.model.node(named: x) else { return nil }
            let ins = n.inputs.map(bound)
            var b: (Double, String)?
            switch n.attributes {
            case .input:
                b = (1, "the input taken as ±1")
            case .batchnorm(let bn):
                let g = bn.gamma.toDoubles(), be = bn.beta.toDoubles()
                b = (zip(g, be).map { abs($1) + 6 * abs($0) }.max() ?? 0, "batch-norm '\(x)': |β| + 6|γ|")
            case .dense(let d):
                if let (v, why) = ins.first ?? nil {
                    b = (v * Self.maxRowAbsSum(n, d.weight.toDoubles()) + (d.bias?.toDoubles().map(abs).max() ?? 0), "\(why), through dense '\(x)'")
                }
            case .conv2d(let c):
                if let (v, why) = ins.first ?? nil {
                    b = (v * Self.maxRowAbsSum(n, c.weight.toDoubles()) + (c.bias?.toDoubles().map(abs).max() ?? 0), "\(why), through conv '\(x)'")
                }
            case .maxpool2d, .avgpool2d, .flatten:
                b = ins.first ?? nil
            case .add:
                if ins.allSatisfy({ $0 != nil }) { b = (ins.reduce(0) { $0 + $1!.0 }, "the sum at '\(x)'") }
            default:
                b = nil
            }
            memo[x] = b
            return b
        }
        guard let n = unit.model.node(named: name) else { return nil }
        let bs = n.inputs.compactMap(bound)
        return bs.count == n.inputs.count ? bs.max { $0.0 < $1.0 } : nil
    }

    /// h_hp / h_lp of the binary spikes arriving at `name` (1 for graded or injected inputs):
    /// the factor arousal must apply to the summed input, since h is folded into the weights.
    public static func arousalGain(into name: String, _ unit: CompileUnit) -> Double {
        guard let a = unit.arousal else { return 1 }
        // The spiking layers behind its weighted inputs, and behind identity (residual) inputs.
        let weighted = unit.upstreamSources(of: name).filter { $0.op == .dense || $0.op == .conv2d }
        for s in weighted.flatMap({ unit.upstreamSources(of: $0.name) }) + unit.upstreamSources(of: name) {
            guard case .asn(let p) = s.attributes, p.spike == .binary else { continue }
            let low = TransferFunction(theta0: p.theta0, mf: p.mf, tauGamma: p.tauGamma, tauEta: p.tauEta).resolve(p.h)
            let high = TransferFunction(theta0: a.theta0High, mf: a.theta0High, tauGamma: p.tauGamma, tauEta: p.tauEta).resolve(.normalize)
            return low > 0 ? high / low : 1
        }
        return 1
    }

    /// SQNR of the payload over the integer thresholds ϑ0 … bound (at most 4,096 evenly spaced
    /// samples): each is shifted right by `shift` with the profile's rounding and shifted back.
    static func payloadReport(layer: String, theta0: Int, bound: Int, bits: Int, shift: Int, rounding: RoundingMode) -> PayloadQuantization {
        let hi = (1 << (bits - 1)) - 1
        let samples = min(4096, bound - theta0 + 1)
        var signal = 0.0, noise = 0.0, worst = 0.0
        for k in 0..<samples {
            let v = theta0 + (samples > 1 ? (bound - theta0) * k / (samples - 1) : 0)
            let q = min(Int(FixedPoint.round(Double(v) / pow2(shift), rounding)), hi) << shift
            let e = Double(v - q)
            signal += Double(v) * Double(v)
            noise += e * e
            worst = max(worst, abs(e) / Double(v))
        }
        return PayloadQuantization(layer: layer, bits: bits, shift: shift, theta0: theta0, bound: bound,
                                   sqnrDB: noise > 0 ? 10 * log10(signal / noise) : .infinity, maxRelativeError: worst)
    }

    /// For a weighted node fed by graded spikes: the bound used for the payload ϑ(t_s) (16·ϑ0).
    func gradedPayloadBound(feeding name: String, _ unit: CompileUnit) -> Double? {
        unit.upstreamSources(of: name).compactMap { n -> Double? in
            switch n.attributes {
            case .asn(let p) where p.spike == .graded: return Double(Self.thresholdBound) * p.theta0
            case .relu(let p): return Double(Self.thresholdBound) * (p?.theta0 ?? 1)
            default: return nil
            }
        }.max()
    }

    /// max over outputs of Σ|w| over that output's inputs.
    static func maxRowAbsSum(_ n: Node, _ q: [Double]) -> Double {
        switch n.attributes {
        case .dense(let d):
            var sums = [Double](repeating: 0, count: d.outFeatures)
            for k in q.indices { sums[d.layout == .outIn ? k / d.inFeatures : k % d.outFeatures] += abs(q[k]) }
            return sums.max() ?? 0
        case .conv2d(let c):
            var sums = [Double](repeating: 0, count: c.outChannels)
            let perOut = c.inChannels * c.kernelH * c.kernelW
            for k in q.indices { sums[c.layout == .oihw ? k / perOut : k % c.outChannels] += abs(q[k]) }
            return sums.max() ?? 0
        default: return 0
        }
    }

    /// The weighted nodes feeding ASN `name` through linear nodes.
    func incomingWeighted(of name: String, _ unit: CompileUnit) -> [String] {
        unit.upstreamSources(of: name).filter { $0.op == .dense || $0.op == .conv2d }.map(\.name)
    }
}

extension Quantize {
    /// A weighted node's mantissas at its quantised exponent — dense [out][in], conv
    /// [out][ky][kx][in] — and the exponent: weight ≈ mantissa × 2^exponent. The one conversion
    /// of weights to integers, used for weights.bin and for every core's synapse memory.
    public static func mantissas(of node: String, _ unit: CompileUnit) -> (m: [Int32], exponent: Int) {
        guard let lq = unit.quantization.first(where: { $0.node == node }), let n = unit.model.node(named: node) else { return ([], 0) }
        let lsb = pow2(lq.exponent)
        var out: [Int32] = []
        switch n.attributes {
        case .dense(let d):
            out.reserveCapacity(d.outFeatures * d.inFeatures)
            for o in 0..<d.outFeatures { for i in 0..<d.inFeatures { out.append(Int32(clamping: clampedInt(d.weight(out: o, in: i) / lsb))) } }
        case .conv2d(let c):
            out.reserveCapacity(c.outChannels * c.kernelH * c.kernelW * c.inChannels)
            for o in 0..<c.outChannels { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW { for i in 0..<c.inChannels {
                out.append(Int32(clamping: clampedInt(c.weight(out: o, in: i, ky: ky, kx: kx) / lsb)))
            } } } }
        default: break
        }
        return (out, lq.exponent)
    }

    /// A weighted node's bias per output channel (nil: none, or not a weighted node).
    public static func bias(of node: String, _ unit: CompileUnit) -> Tensor? {
        switch unit.model.node(named: node)?.attributes {
        case .dense(let d): return d.bias
        case .conv2d(let c): return c.bias
        default: return nil
        }
    }

    /// A weighted node's bias per output channel in a layer's state LSBs (nil: no bias).
    public static func biasLSBs(of node: String, stateExponent: Int, _ unit: CompileUnit) -> [Int32]? {
        let lsb = pow2(stateExponent)
        return bias(of: node, unit).map { $0.toDoubles().map { Int32(clamping: clampedInt($0 / lsb)) } }
    }
}
