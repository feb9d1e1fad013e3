// fold-batchnorm: a batch-norm directly after a dense or conv layer (its only consumer) is
// folded into that layer (Methods, "Conversion"):
//   w' = w·γ/√(var+ε)      b' = (b − mean)·γ/√(var+ε) + β
// A batch-norm after the input stays: it is part of the input encoding (encode-input). Others
// (after an add, say) stay as per-channel scales that merge into the projections later.
import SNNCIR

public struct FoldBatchNorm: Pass {
    public let name = "fold-batchnorm"
    public let summary = "fold batch-norm into the preceding dense/conv weights and bias"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        var i = 0
        while i < unit.model.nodes.count {
            let bnNode = unit.model.nodes[i]
            guard case .batchnorm(let bn) = bnNode.attributes, let pi = unit.index(of: bnNode.inputs[0]),
                  unit.consumers(of: unit.model.nodes[pi].name).count == 1 else {
                i += 1
                continue
            }
            let g = bn.gamma.toDoubles(), be = bn.beta.toDoubles(), m = bn.mean.toDoubles(), v = bn.variance.toDoubles()
            let scale = zip(g, v).map { $0 / ($1 + bn.eps).squareRoot() }
            switch unit.model.nodes[pi].attributes {
            case .dense(var d):
                let w = d.weight.toDoubles()
                var nw = w
                for k in w.indices {
                    let o = d.layout == .outIn ? k / d.inFeatures : k % d.outFeatures
                    nw[k] = w[k] * scale[o]
                }
                let b = d.bias?.toDoubles() ?? [Double](repeating: 0, count: d.outFeatures)
                d.weight = Tensor(shape: d.weight.shape, values: nw)
                d.bias = Tensor(shape: [d.outFeatures], values: (0..<d.outFeatures).map { (b[$0] - m[$0]) * scale[$0] + be[$0] })
                unit.model.nodes[pi].attributes = .dense(d)
            case .conv2d(var c):
                let w = c.weight.toDoubles()
                var nw = w
                let perOut = c.inChannels * c.kernelH * c.kernelW
                for k in w.indices {
                    let o = c.layout == .oihw ? k / perOut : k % c.outChannels
                    nw[k] = w[k] * scale[o]
                }
                let b = c.bias?.toDoubles() ?? [Double](repeating: 0, count: c.outChannels)
                c.weight = Tensor(shape: c.weight.shape, values: nw)
                c.bias = Tensor(shape: [c.outChannels], values: (0..<c.outChannels).map { (b[$0] - m[$0]) * scale[$0] + be[$0] })
                unit.model.nodes[pi].attributes = .conv2d(c)
            default:
                i += 1
                continue
            }
            unit.bypass(i)
        }
    }
}
