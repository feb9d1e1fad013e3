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
            let be = bn.beta.toDoubles(), m = bn.mean.toDoubles()
            let scale = bn.affine.scale
            switch unit.model.nodes[pi].attributes {
            case .dense(var d):
                let w = d.weight.toDoubles()
                var nw = w
                for k in w.indices {
                    let o = d.layout == .outIn ? k / d.inFeatures : k % d.outFeatures
                    nw[k] = w[k] * scale[o]
                }
                d.weight = Tensor(shape: d.weight.shape, values: nw)
                d.bias = Tensor(shape: [d.outFeatures], values: Self.foldedBias(d.bias, count: d.outFeatures, mean: m, scale: scale, beta: be))
                unit.model.nodes[pi].attributes = .dense(d)
            case .conv2d(var c):
                let w = c.weight.toDoubles()
                var nw = w
                let perOut = c.inChannels * c.kernelH * c.kernelW
                for k in w.indices {
                    let o = c.layout == .oihw ? k / perOut : k % c.outChannels
                    nw[k] = w[k] * scale[o]
                }
                c.weight = Tensor(shape: c.weight.shape, values: nw)
                c.bias = Tensor(shape: [c.outChannels], values: Self.foldedBias(c.bias, count: c.outChannels, mean: m, scale: scale, beta: be))
                unit.model.nodes[pi].attributes = .conv2d(c)
            default:
                i += 1
                continue
            }
            unit.bypass(i)
        }
    }

    /// b' = (b − mean)·scale + β per output channel (b = 0 without a bias).
    static func foldedBias(_ bias: Tensor?, count: Int, mean: [Double], scale: [Double], beta: [Double]) -> [Double] {
        let b: [Double] = bias?.toDoubles() ?? [Double](repeating: 0, count: count)
        var out = [Double](repeating: 0, count: count)
        for o in 0..<count {
            let centred: Double = b[o] - mean[o]
            out[o] = centred * scale[o] + beta[o]
        }
        return out
    }
}
