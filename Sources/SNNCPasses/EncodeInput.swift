// encode-input: the ops between the model input and the first ASN layers (typically a
// batch-norm, sometimes a conv) are computed by the host once per input; their result is the
// current injected into those ASNs every step. Every later projection carries spikes.
import SNNCIR

public struct EncodeInput: Pass {
    public let name = "encode-input"
    public let summary = "mark the analog ops before the first ASN layers as host-side input encoding"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        let nodes = unit.model.nodes
        var index: [String: Int] = [:]
        for (i, n) in nodes.enumerated() { index[n.name] = i }
        // analog[i]: node i depends only on the input (no ASN on the way).
        var analog = [Bool](repeating: false, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            switch n.op {
            case .input: analog[i] = true
            case _ where n.op.isSpiking: analog[i] = false
            default: analog[i] = n.inputs.allSatisfy { analog[index[$0]!] }
            }
        }
        var problems: [Diagnostic] = []
        for n in nodes where n.op.isSpiking {
            let src = n.inputs.compactMap { index[$0] }
            if src.allSatisfy({ analog[$0] }) { unit.injectedLayers.append(n.name) }
        }
        // A node mixing host values and spikes cannot be placed.
        for (i, n) in nodes.enumerated() where !analog[i] && n.op == .add {
            let src = n.inputs.compactMap { index[$0] }
            if src.contains(where: { analog[$0] }) {
                problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                           "adds the analog input to spikes; only the first ASN layers may take the input as a current"))
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        unit.hostNodes = nodes.indices.filter { analog[$0] }.map { nodes[$0].name }
        if unit.injectedLayers.isEmpty {
            throw DiagnosticsError([Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: nil,
                                               "no ASN layer takes the input: the network has no spiking input layer",
                                               notes: ["the paper's networks start with input → batchnorm → asn"])])
        }
    }
}
