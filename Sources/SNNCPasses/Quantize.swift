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
}

public struct Quantize: Pass {
    public let name = "quantize"
    public let summary = "weights, decays and thresholds to the profile's fixed point, with a per-layer loss report"
    public init() {}

    /// Share of a layer's non-zero weights that may round to zero before a warning.
    public static let zeroedWarningPercent = 5.0

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        let num = unit.profile.numerics
        let range = num.weightExponentMin...num.weightExponentMax
        var problems: [Diagnostic] = []
        var exponentOf: [String: Int] = [:]
        for i in unit.model.nodes.indices {
            let n = unit.model.nodes[i]
            let w: Tensor
            switch n.attributes {
            case .dense(let d): w = d.weight
            case .conv2d(let c): w = c.weight
            default: continue
            }
            let values = w.toDoubles()
            let maxAbs = values.reduce(0) { max($0, abs($1)) }
            let e = FixedPoint.chooseExponent(maxAbs: maxAbs, bits: num.weightBits, range: range)
            let f = WeightFormat(bits: num.weightBits, exponent: e)
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
            // Range: worst case one step, every presynaptic source firing with the largest payload.
            let fanIn: Int, perOutputAbs: Double
            switch n.attributes {
            case .dense(let d):
                fanIn = d.inFeatures
                perOutputAbs = (0..<d.outFeatures).map { o in (0..<d.inFeatures).reduce(0.0) { $0 + abs(d.layout == .outIn ? q[o * d.inFeatures + $1] : q[$1 * d.outFeatures + o]) } }.max() ?? 0
            case .conv2d(let c):
                fanIn = c.inChannels * c.kernelH * c.kernelW
                let perOut = c.inChannels * c.kernelH * c.kernelW
                perOutputAbs = (0..<c.outChannels).map { o in
                    (0..<perOut).reduce(0.0) { acc, k in
                        acc + abs(c.layout == .oihw ? q[o * perOut + k] : q[k * c.outChannels + o])
                    }
                }.max() ?? 0
            default: fanIn = 0; perOutputAbs = 0
            }
            _ = fanIn  // the accumulator bound uses the summed |w|, which already reflects the fan-in
            // A binary spike adds the weight mantissa; a graded one adds it times ϑ(t_s), bounded
            // here by 16·ϑ0 of the source (the threshold rarely exceeds a few ϑ0 at the paper's rates).
            let payload = gradedPayloadBound(feeding: n.name, unit) ?? 1
            let worst = perOutputAbs / f.lsb * payload
            let limit = Double((1 << (num.currentBits - 1)) - 1)
            let report = LayerQuantization(node: n.name, bits: num.weightBits, exponent: e, weights: values.count, maxAbsError: maxErr,
                                           sqnrDB: noise > 0 ? 10 * log10(signal / noise) : .infinity, zeroed: zeroed, nonzero: nonzero,
                                           clipped: clipped, worstCaseInput: worst, accumulatorLimit: limit)
            unit.quantization.append(report)
            exponentOf[n.name] = e
            if report.zeroedPercent > Self.zeroedWarningPercent {
                unit.diagnostics.append(Diagnostic(.warning, .quantZeroed, file: unit.model.file, object: "node '\(n.name)'",
                                                   "\(zeroed) of \(nonzero) non-zero weights (\(fmtFixed(report.zeroedPercent, 1)) %) round to zero at \(num.weightBits) bits × 2^\(e)",
                                                   notes: ["the largest weight (\(fmtFixed(maxAbs, 4))) sets the exponent; clipping outliers or a profile with more weight bits keeps small weights"]))
            }
            if clipped > 0 {
                unit.diagnostics.append(Diagnostic(.warning, .quantClipped, file: unit.model.file, object: "node '\(n.name)'",
                                                   "\(clipped) weights clipped: the exponent range \(range.lowerBound)…\(range.upperBound) cannot hold max |w| = \(fmtFixed(maxAbs, 4))"))
            }
            if worst > limit {
                let d = Diagnostic(num.overflowIsError ? .error : .warning, .overflowPossible, file: unit.model.file, object: "node '\(n.name)'",
                                   "worst-case input in one step is \(fmtFixed(worst, 0)) LSBs, the \(num.currentBits)-bit current holds \(fmtFixed(limit, 0))",
                                   notes: ["the bound assumes every source spikes in the same step; the emulator counts real overflows"])
                if num.overflowIsError { problems.append(d) } else { unit.diagnostics.append(d) }
            }
            // The model keeps the dequantised weights, so the ANN after quantize shows the loss.
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
        // Neuron constants: decays and m_f as k-bit multipliers; ϑ0 in the layer's state LSB (the
        // finest exponent of its incoming weights, so mantissas add into I as integers).
        let k = num.decayBits
        for n in unit.model.nodes {
            guard case .asn(let p) = n.attributes else { continue }
            let e = directWeightExponent(of: n.name, unit, exponentOf) ?? (Int(log2(p.theta0).rounded(.down)) - 10)
            func a(_ tau: Double) -> Int { FixedPoint.decay(exp(-1 / tau), bits: k) }
            unit.neuronFormats[n.name] = NeuronFixedPoint(stateExponent: e, theta0: Int((p.theta0 / pow2(e)).rounded()),
                                                          mf: FixedPoint.decay(p.mf, bits: k), decayBits: k,
                                                          alphaBeta: a(p.tauBeta), alphaPhi: a(p.tauPhi), alphaEta: a(p.tauEta), alphaGamma: a(p.tauGamma))
        }
        if !problems.isEmpty { throw DiagnosticsError(problems + unit.diagnostics.filter { $0.severity == .error }) }
    }

    /// For a weighted node fed by graded spikes: the bound used for the payload ϑ(t_s) (16·ϑ0).
    func gradedPayloadBound(feeding name: String, _ unit: CompileUnit) -> Double? {
        guard let i = unit.index(of: name) else { return nil }
        var stack = unit.model.nodes[i].inputs
        var bound: Double? = nil
        while let s = stack.popLast() {
            guard let si = unit.index(of: s) else { continue }
            let sn = unit.model.nodes[si]
            switch sn.attributes {
            case .asn(let p) where p.spike == .graded: bound = max(bound ?? 0, 16 * p.theta0)
            case .relu(let p): bound = max(bound ?? 0, 16 * (p?.theta0 ?? 1))
            case .flatten, .batchnorm, .add, .avgpool2d: stack += sn.inputs
            default: break
            }
        }
        return bound
    }

    /// The finest exponent among weighted nodes feeding ASN `name` through linear nodes.
    func directWeightExponent(of name: String, _ unit: CompileUnit, _ exps: [String: Int]) -> Int? {
        guard let i = unit.index(of: name) else { return nil }
        var stack = unit.model.nodes[i].inputs
        var found: [Int] = []
        var seen = Set<String>()
        while let s = stack.popLast() {
            guard !seen.contains(s), let si = unit.index(of: s) else { continue }
            seen.insert(s)
            let sn = unit.model.nodes[si]
            if let e = exps[sn.name] { found.append(e); continue }
            if [.batchnorm, .add, .flatten, .avgpool2d].contains(sn.op) { stack += sn.inputs }
        }
        return found.min()
    }
}
