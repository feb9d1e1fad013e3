// scale-by-h: a binary spike of a layer with spike height h adds w·h to its targets (eq. 4), so
// every projection fed by binary spikes has its weights multiplied by the source layer's h
// (h resolved: "normalize" gives f(1) = 1). Graded spikes carry ϑ(t_s) and are not scaled.
import SNNCIR

public struct ScaleByH: Pass {
    public let name = "scale-by-h"
    public let summary = "multiply weights fed by binary spikes by the source layer's spike height h"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        var problems: [Diagnostic] = []
        for i in unit.model.nodes.indices {
            let n = unit.model.nodes[i]
            guard n.op == .dense || n.op == .conv2d else { continue }
            // The ASN layers whose spikes reach this node through linear, unweighted nodes.
            let sources: [(String, Double?)] = unit.upstreamSources(of: n.name).compactMap { sn in
                switch sn.attributes {
                case .asn(let p):
                    let tf = TransferFunction(theta0: p.theta0, mf: p.mf, tauGamma: p.tauGamma, tauEta: p.tauEta)
                    return (sn.name, p.spike == .graded ? nil : tf.resolve(p.h))
                case .relu: return (sn.name, nil)
                default: return nil  // host nodes: not spikes
                }
            }
            let binary = sources.compactMap { $0.1 }
            guard let h = binary.first else { continue }
            if binary.count != sources.count || binary.contains(where: { abs($0 - h) > 1e-15 * h }) {
                problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                           "its input mixes layers with different spike heights (\(sources.map { "'\($0.0)'" }.joined(separator: ", "))); one weight cannot carry both",
                                           notes: ["give the ASN layers feeding one weighted layer the same ϑ0, m_f and h"]))
                continue
            }
            switch n.attributes {
            case .dense(var d):
                d.weight = Tensor(shape: d.weight.shape, values: d.weight.toDoubles().map { $0 * h })
                unit.model.nodes[i].attributes = .dense(d)
            case .conv2d(var c):
                c.weight = Tensor(shape: c.weight.shape, values: c.weight.toDoubles().map { $0 * h })
                unit.model.nodes[i].attributes = .conv2d(c)
            default: break
            }
            unit.scaledBy[n.name] = (sources[0].0, h)
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
    }
}
