// Shape inference over a topologically ordered graph. A node whose inputs have no shape (an
// error upstream) is skipped silently, so each root cause is reported once.

public enum ShapeInference {
    /// Output size of a windowed op along one axis, or nil when the window does not fit.
    public static func outputSize(input: Int, window: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int) -> Int? {
        let span = dilation * (window - 1) + 1
        let padded = input + padBefore + padAfter
        guard padded >= span else { return nil }
        return (padded - span) / stride + 1
    }

    /// "same" padding as TensorFlow/Keras define it: output = ceil(input / stride), the total
    /// padding split with the extra row/column after (PyTorch's padding="same" agrees at stride 1).
    public static func samePadding(input: Int, window: Int, stride: Int, dilation: Int) -> (Int, Int) {
        let span = dilation * (window - 1) + 1
        let out = (input + stride - 1) / stride
        let total = max((out - 1) * stride + span - input, 0)
        return (total / 2, total - total / 2)
    }

    static func resolve(_ spec: PaddingSpec, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int) -> Padding2D {
        switch spec {
        case .valid: return .zero
        case .explicit(let p): return p
        case .same:
            let (t, b) = samePadding(input: h, window: kh, stride: sh, dilation: dh)
            let (l, r) = samePadding(input: w, window: kw, stride: sw, dilation: dw)
            return Padding2D(top: t, bottom: b, left: l, right: r)
        }
    }

    public static func run(_ nodes: [Node], layouts: Layouts, bag: inout DiagnosticBag) -> [Node] {
        var shapes: [String: [Int]] = [:]
        var out: [Node] = []
        for var n in nodes {
            let inShapes = n.inputs.compactMap { shapes[$0] }
            if n.op != .input && inShapes.count != n.inputs.count {
                out.append(n)  // upstream error already reported
                continue
            }
            let obj = "node '\(n.name)'"
            if let s = infer(&n, inShapes, obj: obj, bag: &bag) {
                if elementCount(s) == nil {
                    bag.error(.tensorTooLarge, obj, "output shape \(formatShape(s)) has more than \(maxTensorElements) elements")
                } else {
                    n.shape = s
                    shapes[n.name] = s
                }
            }
            out.append(n)
        }
        // Outputs that lead nowhere, and the readout.
        let consumed = Set(nodes.flatMap(\.inputs))
        let outputs = out.filter { !consumed.contains($0.name) }
        let hasReadout = out.contains(where: { $0.op == .readout })
        if !hasReadout {
            bag.warning(.noReadout, nil, "the model has no 'readout' node; a spiking network classifies from a smoothed readout",
                        notes: ["end the network with {\"op\": \"readout\", \"tau_phi\": 50}"])
        }
        for o in outputs where o.op != .readout && hasReadout {
            bag.warning(.graphUnused, "node '\(o.name)'", "the output of this \(o.op.rawValue) node is not used by any node")
        }
        return out
    }

    private static func infer(_ n: inout Node, _ ins: [[Int]], obj: String, bag: inout DiagnosticBag) -> [Int]? {
        let inName = n.inputs.first.map { "'\($0)'" } ?? ""
        switch n.attributes {
        case .input(let shape):
            return shape
        case .dense(let d):
            let s = ins[0]
            guard s.count == 1 else {
                bag.error(.rankMismatch, obj, "dense needs a 1-D input but \(inName) gives \(formatShape(s))",
                          notes: ["insert a 'flatten' node before this one"])
                return nil
            }
            guard s[0] == d.inFeatures else {
                bag.error(.shapeMismatch, obj,
                          "weight is \(formatShape(d.weight.shape)) (\(d.layout.rawValue)) but input \(inName) gives \(s[0]) features and out is \(d.outFeatures)",
                          notes: ["expected weight \(formatShape(d.layout == .outIn ? [d.outFeatures, s[0]] : [s[0], d.outFeatures]))"])
                return nil
            }
            return [d.outFeatures]
        case .conv2d(var c):
            let s = ins[0]
            guard s.count == 3 else {
                bag.error(.rankMismatch, obj, "conv2d needs a [height, width, channels] input but \(inName) gives \(formatShape(s))")
                return nil
            }
            guard s[2] == c.inChannels else {
                bag.error(.shapeMismatch, obj,
                          "kernel \(formatShape(c.weight.shape)) (\(c.layout.rawValue)) takes \(c.inChannels) input channels but input \(inName) gives \(s[2])")
                return nil
            }
            c.padding = resolve(c.paddingSpec, h: s[0], w: s[1], kh: c.kernelH, kw: c.kernelW, sh: c.strideH, sw: c.strideW, dh: c.dilationH, dw: c.dilationW)
            guard let oh = outputSize(input: s[0], window: c.kernelH, stride: c.strideH, dilation: c.dilationH, padBefore: c.padding.top, padAfter: c.padding.bottom),
                  let ow = outputSize(input: s[1], window: c.kernelW, stride: c.strideW, dilation: c.dilationW, padBefore: c.padding.left, padAfter: c.padding.right) else {
                bag.error(.windowTooLarge, obj,
                          "kernel \(c.kernelH)×\(c.kernelW) (dilation \(c.dilationH)×\(c.dilationW)) does not fit input \(formatShape(s)) with padding \(c.padding.top),\(c.padding.bottom),\(c.padding.left),\(c.padding.right)")
                return nil
            }
            n.attributes = .conv2d(c)
            return [oh, ow, c.outChannels]
        case .batchnorm(let b):
            let s = ins[0]
            guard b.gamma.shape == [s.last!] else {
                bag.error(.shapeMismatch, obj, "gamma is \(formatShape(b.gamma.shape)) but input \(inName) gives \(s.last!) channels (shape \(formatShape(s)))")
                return nil
            }
            return s
        case .asn, .relu, .lif:
            return ins[0]
        case .maxpool2d(var p), .avgpool2d(var p):
            let s = ins[0]
            guard s.count == 3 else {
                bag.error(.rankMismatch, obj, "\(n.op.rawValue) needs a [height, width, channels] input but \(inName) gives \(formatShape(s))")
                return nil
            }
            p.padding = resolve(p.paddingSpec, h: s[0], w: s[1], kh: p.sizeH, kw: p.sizeW, sh: p.strideH, sw: p.strideW, dh: 1, dw: 1)
            guard let oh = outputSize(input: s[0], window: p.sizeH, stride: p.strideH, dilation: 1, padBefore: p.padding.top, padAfter: p.padding.bottom),
                  let ow = outputSize(input: s[1], window: p.sizeW, stride: p.strideW, dilation: 1, padBefore: p.padding.left, padAfter: p.padding.right) else {
                bag.error(.windowTooLarge, obj, "pooling window \(p.sizeH)×\(p.sizeW) does not fit input \(formatShape(s))")
                return nil
            }
            n.attributes = n.op == .maxpool2d ? .maxpool2d(p) : .avgpool2d(p)
            return [oh, ow, s[2]]
        case .flatten:
            return [ins[0].reduce(1, *)]
        case .add:
            let first = ins[0]
            for (i, s) in ins.enumerated().dropFirst() where s != first {
                bag.error(.shapeMismatch, obj,
                          "input '\(n.inputs[i])' gives \(formatShape(s)) but '\(n.inputs[0])' gives \(formatShape(first)); add needs equal shapes")
                return nil
            }
            return first
        case .readout:
            let s = ins[0]
            guard s.count == 1 else {
                bag.error(.rankMismatch, obj, "readout needs a 1-D input (one value per class) but \(inName) gives \(formatShape(s))")
                return nil
            }
            return s
        }
    }
}
