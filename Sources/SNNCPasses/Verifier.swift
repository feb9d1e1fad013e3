// The verifier: invariants of a CompileUnit that must hold after every pass. Tests run it
// between passes (`Pipeline.run(verify: true)`).
import SNNCIR

public enum Verifier {
    public static func check(_ unit: CompileUnit) throws(DiagnosticsError) {
        var bad: [String] = []
        let names = unit.model.nodes.map(\.name)
        if Set(names).count != names.count { bad.append("node names are not unique") }
        var seen = Set<String>()
        for n in unit.model.nodes {
            for i in n.inputs where !seen.contains(i) { bad.append("'\(n.name)' reads '\(i)', which is not an earlier node") }
            seen.insert(n.name)
            switch n.attributes {
            case .dense(let d):
                if let s = unit.model.node(named: n.inputs[0])?.shape, s.reduce(1, *) != d.inFeatures {
                    bad.append("dense '\(n.name)' has \(d.inFeatures) inputs but its input has \(s.reduce(1, *)) values")
                }
                if d.weight.count != d.inFeatures * d.outFeatures { bad.append("dense '\(n.name)' weight count disagrees with its shape") }
            case .conv2d(let c):
                if let s = unit.model.node(named: n.inputs[0])?.shape, s.last != c.inChannels {
                    bad.append("conv '\(n.name)' takes \(c.inChannels) channels but its input has \(s.last ?? 0)")
                }
            default: break
            }
        }
        let done = Set(unit.completed)
        if done.contains("fold-batchnorm") {
            for n in unit.model.nodes where n.op == .batchnorm {
                if let p = unit.model.node(named: n.inputs[0]), p.op == .dense || p.op == .conv2d, unit.consumers(of: p.name).count == 1 {
                    bad.append("batch-norm '\(n.name)' after '\(p.name)' was not folded")
                }
            }
        }
        if done.contains("encode-input") {
            for l in unit.injectedLayers where !(unit.model.node(named: l)?.op.isSpiking ?? false) {
                bad.append("injected layer '\(l)' is not an ASN")
            }
        }
        if done.contains("merge-pooling") {
            for n in unit.model.nodes where n.op == .maxpool2d { bad.append("max-pool '\(n.name)' was not merged") }
        }
        if done.contains("quantize") {
            let q = Set(unit.quantization.map(\.node)), host = Set(unit.hostNodes)
            for n in unit.model.nodes where (n.op == .dense || n.op == .conv2d) && !q.contains(n.name) && !host.contains(n.name) {
                bad.append("weighted node '\(n.name)' has no quantisation")
            }
            for n in unit.quantization where host.contains(n.node) {
                bad.append("host-side node '\(n.node)' was quantised; the host computes it in float")
            }
        }
        if !bad.isEmpty {
            throw DiagnosticsError(bad.map { Diagnostic(.error, .verifierFailed, file: unit.model.file, object: "after \(unit.completed.last ?? "start")", $0) })
        }
    }
}
