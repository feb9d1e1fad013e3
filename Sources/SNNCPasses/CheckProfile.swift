// check-profile: refuse a chip that cannot run ASNs (where the network has them), and graded-spike layers on a chip whose
// spikes are binary, before any work is done.
import SNNCHardware
import SNNCIR

public struct CheckProfile: Pass {
    public let name = "check-profile"
    public let summary = "refuse chips that cannot run ASNs (or graded spikes, where the model has them)"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        // A network of IF-family neurons only needs no ASN support.
        if unit.model.nodes.contains(where: { $0.spikingNeuron != nil || $0.op == .relu }), let d = unit.profile.asnRefusal(model: unit.model.file) {
            throw DiagnosticsError([d])
        }
        var refusals: [Diagnostic] = []
        for n in unit.model.nodes {
            var graded = false
            if case .asn(let p) = n.attributes, p.spike == .graded { graded = true }
            if case .relu = n.attributes { graded = true }
            if graded, let d = unit.profile.gradedRefusal(model: unit.model.file, layer: n.name) { refusals.append(d) }
        }
        if !refusals.isEmpty { throw DiagnosticsError(refusals) }
    }
}
