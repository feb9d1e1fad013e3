// check-profile: refuse a chip that cannot run ASNs, and graded-spike layers on a chip whose
// spikes are binary, before any work is done.
import SNNCHardware
import SNNCIR

public struct CheckProfile: Pass {
    public let name = "check-profile"
    public let summary = "refuse chips that cannot run ASNs (or graded spikes, where the model has them)"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        if let d = unit.profile.asnRefusal(model: unit.model.file) { throw DiagnosticsError([d]) }
        var refusals: [Diagnostic] = []
        for n in unit.model.nodes {
            if case .lif(let p) = n.attributes {
                refusals.append(Diagnostic(.error, .neuronModelUnsupported, file: unit.model.file, object: "node '\(n.name)'",
                                           "this is \(p.kind == .integrateAndFire ? "an IF" : (p.kind == .leaky ? "a LIF" : "a CubaLIF")) neuron (op '\(n.op.rawValue)'); the compiler's fixed-point rules cover the ASN so far",
                                           notes: ["`snnc simulate` runs it in the float reference; compiling IF, LIF and CubaLIF is the next stage of issue 19"]))
                continue
            }
            var graded = false
            if case .asn(let p) = n.attributes, p.spike == .graded { graded = true }
            if case .relu = n.attributes { graded = true }
            if graded, let d = unit.profile.gradedRefusal(model: unit.model.file, layer: n.name) { refusals.append(d) }
        }
        if !refusals.isEmpty { throw DiagnosticsError(refusals) }
    }
}
