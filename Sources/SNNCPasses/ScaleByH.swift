// scale-by-h: a binary spike of a layer with spike height h adds w·h to its targets (eq. 4), so
// every projection fed by binary spikes has its weights multiplied by the source layer's h
// (h resolved: "normalize" gives f(1) = 1; an IF-family layer's spike_height). Graded spikes
// carry ϑ(t_s) and are not scaled. An IF-family target's input gain is folded in too (weights
// and bias), so the chip adds its input to the membrane unscaled (Docs/fixed-point.md).
import SNNCIR

public struct ScaleByH: Pass {
    public let name = "scale-by-h"
    public let summary = "multiply weights fed by binary spikes by the source layer's spike height h"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        var problems: [Diagnostic] = []
        let host = Set(unit.hostNodes)
        for i in unit.model.nodes.indices {
            let n = unit.model.nodes[i]
            guard n.op == .dense || n.op == .conv2d, !host.contains(n.name) else { continue }
            // The spiking layers whose spikes reach this node through linear, unweighted nodes.
            let sources: [(String, Double?)] = unit.upstreamSources(of: n.name).compactMap { sn in
                switch sn.attributes {
                case .asn(let p):
                    let tf = TransferFunction(theta0: p.theta0, mf: p.mf, tauGamma: p.tauGamma, tauEta: p.tauEta)
                    return (sn.name, p.spike == .graded ? nil : tf.resolve(p.h))
                case .relu: return (sn.name, nil)
                case .lif(let p): return (sn.name, p.spikeHeight)
                default: return nil  // host nodes: not spikes
                }
            }
            let binary = sources.compactMap { $0.1 }
            var factor = 1.0
            if let h = binary.first {
                if binary.count != sources.count || binary.contains(where: { abs($0 - h) > 1e-15 * h }) {
                    problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                               "its input mixes layers with different spike heights (\(sources.map { "'\($0.0)'" }.joined(separator: ", "))); one weight cannot carry both",
                                               notes: ["give the spiking layers feeding one weighted layer the same spike height (ASN: ϑ0, m_f and h)"]))
                    continue
                }
                factor = h
                unit.scaledBy[n.name] = (sources[0].0, h)
            }
            // An IF-family target's input gain (r/τ_mem, times w_in/τ_syn for CubaLIF) goes into
            // its weights and bias: the chip adds them to the membrane as they are.
            let gain = unit.drivenLayer(by: n.name).map { unit.inputGain(of: $0) } ?? 1
            guard factor != 1 || gain != 1 else { continue }
            func scaled(_ t: Tensor, _ f: Double) -> Tensor { Tensor(shape: t.shape, values: t.toDoubles().map { $0 * f }) }
            switch n.attributes {
            case .dense(var d):
                d.weight = scaled(d.weight, factor * gain)
                d.bias = d.bias.map { scaled($0, gain) }
                unit.model.nodes[i].attributes = .dense(d)
            case .conv2d(var c):
                c.weight = scaled(c.weight, factor * gain)
                c.bias = c.bias.map { scaled($0, gain) }
                unit.model.nodes[i].attributes = .conv2d(c)
            default: break
            }
        }
        // An unweighted input (a residual add) into an IF-family layer carries no weight to fold
        // a gain into: only graded spikes are refused there (binary ones get a weight h·gain).
        for n in unit.model.nodes where n.isIntegrateAndFire && !unit.injectedLayers.contains(n.name) && unit.inputGain(of: n.name) != 1 {
            for s in unit.upstreamSources(of: n.name) where s.op == .asn || s.op == .relu {
                if s.spikingNeuron?.spike == .graded {
                    problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                               "it takes the graded spikes of '\(s.name)' unweighted, and its input gain \(unit.inputGain(of: n.name)) has no weight to go into",
                                               notes: ["put a dense or conv layer between them, or use r = τ_mem (gain 1)"]))
                }
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
    }
}
