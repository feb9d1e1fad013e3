// merge-pooling (Methods, "Conversion"): pooling is merged into the ASN layers.
// - ASN → max-pool: one layer whose neurons are the pooled positions, each with one compartment
//   per pre-pool position (S is the max over compartments before the spike test). Its cost —
//   compartments × state — is made explicit in the dump and the report.
// - ASN → avg-pool → [batch-norm →] flatten → dense: average pooling (and a per-channel affine
//   after it, e.g. NIR's SumPool2d as an average times its window) is linear in the spike
//   trains, so it is folded exactly into the dense weights and bias (W' = W·diag(s)·A over the
//   pre-pool features, b' = b + W·t).
import SNNCIR

public struct MergePooling: Pass {
    public let name = "merge-pooling"
    public let summary = "merge max-pooling into ASN compartments; fold average pooling into the next dense weights"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        var problems: [Diagnostic] = []
        var i = 0
        while i < unit.model.nodes.count {
            let n = unit.model.nodes[i]
            let obj = "node '\(n.name)'"
            switch n.attributes {
            case .maxpool2d(let p):
                guard let si = unit.index(of: n.inputs[0]), unit.model.nodes[si].op.isSpiking else {
                    problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: obj,
                                               "max-pool does not follow an ASN; snnc merges max-pooling into the ASN layer before it",
                                               notes: ["reorder as … → asn → maxpool2d → …"]))
                    i += 1
                    continue
                }
                let asn = unit.model.nodes[si]
                guard unit.consumers(of: asn.name).count == 1 else {
                    problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(asn.name)'",
                                               "this ASN feeds a max-pool and other nodes; a max-pooled ASN may feed only its pool"))
                    i += 1
                    continue
                }
                unit.pooledLayers[asn.name] = (n.name, p, asn.shape)
                unit.model.nodes[si].shape = n.shape
                unit.bypass(i)
            case .avgpool2d(let p):
                if let folded = foldAverage(&unit, at: i, pool: p) {
                    if !folded { i += 1 }
                } else {
                    unit.diagnostics.append(Diagnostic(.warning, .unsupportedPattern, file: unit.model.file, object: obj,
                                                       "average pooling is kept as a linear stage (it is folded only into a following dense layer)"))
                    i += 1
                }
            default:
                i += 1
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
    }

    /// ASN → avgpool → [batch-norm →] flatten → dense: rewrites the dense weights (and bias)
    /// over the pre-pool features and removes the pool (and the batch-norm). Returns true when
    /// folded, nil when the pattern is absent.
    func foldAverage(_ unit: inout CompileUnit, at i: Int, pool p: Pool2D) -> Bool? {
        let pool = unit.model.nodes[i]
        guard let si = unit.index(of: pool.inputs[0]) else { return nil }
        let inShape = unit.model.nodes[si].shape
        guard inShape.count == 3 else { return nil }
        var chain = unit.consumers(of: pool.name)
        guard chain.count == 1 else { return nil }
        var affine: (node: String, scale: [Double], shift: [Double])? = nil
        if case .batchnorm(let b) = unit.model.nodes[chain[0]].attributes {
            let a = b.affine
            guard !a.scale.isEmpty, a.scale.count == a.shift.count else { return nil }
            affine = (unit.model.nodes[chain[0]].name, a.scale, a.shift)
            chain = unit.consumers(of: unit.model.nodes[chain[0]].name)
            guard chain.count == 1 else { return nil }
        }
        var flatten: Int? = nil
        if unit.model.nodes[chain[0]].op == .flatten {
            flatten = chain[0]
            chain = unit.consumers(of: unit.model.nodes[chain[0]].name)
            guard chain.count == 1 else { return nil }
        }
        guard case .dense(var d) = unit.model.nodes[chain[0]].attributes, flatten != nil else { return nil }
        let (starts, idx) = poolMap(p, inShape: inShape, outShape: pool.shape)
        let preCount = inShape.reduce(1, *)
        var w = [Double](repeating: 0, count: d.outFeatures * preCount)
        var bias = d.bias?.toDoubles() ?? [Double](repeating: 0, count: d.outFeatures)
        let channels = pool.shape.last ?? 1
        for o in 0..<d.outFeatures {
            for q in 0..<(starts.count - 1) {
                var wq = d.weight(out: o, in: q)
                if let a = affine {
                    let c = q % channels
                    bias[o] += wq * a.shift[c % a.shift.count]
                    wq *= a.scale[c % a.scale.count]
                }
                let n = Double(starts[q + 1] - starts[q])
                for k in Int(starts[q])..<Int(starts[q + 1]) { w[o * preCount + Int(idx[k])] += wq / n }
            }
        }
        d.weight = Tensor(shape: [d.outFeatures, preCount], values: w)
        if affine != nil { d.bias = Tensor(shape: [d.outFeatures], values: bias) }
        d.layout = .outIn
        d.inFeatures = preCount
        let di = chain[0]
        unit.model.nodes[di].attributes = .dense(d)
        if let f = flatten { unit.model.nodes[f].shape = [preCount] }
        unit.diagnostics.append(Diagnostic(.note, .poolFolded, file: unit.model.file, object: "node '\(pool.name)'",
                                           "average pooling\(affine.map { " and the batch-norm '\($0.node)' after it" } ?? "") folded into '\(unit.model.nodes[di].name)': its fan-in grows from \(pool.shape.reduce(1, *)) to \(preCount)"))
        if let a = affine, let bi = unit.index(of: a.node) { unit.bypass(bi) }
        unit.bypass(i)
        return true
    }
}
