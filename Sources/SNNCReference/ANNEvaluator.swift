// The analog network: every node evaluated on real values, with f(S) as the activation of
// binary ASN nodes and max(0, S) for relu and graded ASN nodes, batch-norm applied as trained.
// This is the accuracy the spiking network must match. Weights are copied once into
// contiguous Double arrays in canonical layouts (dense [out][in], conv [kh][kw][in][out]) so the
// inner loops run over contiguous memory.
import SNNCIR

/// One node's parameters in the layouts the evaluators want.
public enum PreparedOp: Sendable {
    case input
    case dense(weight: [Double], bias: [Double], inF: Int, outF: Int)  // weight [out][in]
    case conv(kernel: [Double], bias: [Double], geometry: ConvGeometry)  // kernel [kh][kw][in][out]
    case affine(scale: [Double], shift: [Double])  // batch-norm: per channel y = x·scale + shift
    case asn(ASNParameters, h: Double, transfer: TransferFunction)
    case relu(ASNParameters?)
    /// An IF-family neuron; analog value max(0, r·x)·spike_height/v_threshold (`lifRate`).
    case lif(LIFParameters)
    case maxpool(Pool2D, inShape: [Int])
    case avgpool(Pool2D, inShape: [Int])
    case flatten
    case add
    case readout(tauPhi: Double, leak: LIFParameters?)
}

public struct ConvGeometry: Sendable, Equatable {
    public var inH: Int, inW: Int, inC: Int
    public var outH: Int, outW: Int, outC: Int
    public var kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
    public var padTop: Int, padLeft: Int

    /// The input row that output row `oy` reads through kernel row `ky` (outside 0..<inH where
    /// it reads padding), and the same for columns: the one definition of the convolution window
    /// for the ANN evaluator, the batched ANN and the spiking network's gathered delivery.
    @inline(__always) public func inputRow(_ oy: Int, _ ky: Int) -> Int { oy * sh - padTop + ky * dh }
    @inline(__always) public func inputColumn(_ ox: Int, _ kx: Int) -> Int { ox * sw - padLeft + kx * dw }
}

public struct PreparedModel: Sendable {
    public let model: Model
    public let ops: [PreparedOp]
    public let index: [String: Int]
    /// For each node, the indices of its input nodes.
    public let inputs: [[Int]]

    public init(_ model: Model) {
        self.model = model
        var index: [String: Int] = [:]
        for (i, n) in model.nodes.enumerated() { index[n.name] = i }
        self.index = index
        inputs = model.nodes.map { $0.inputs.map { index[$0]! } }
        var ops: [PreparedOp] = []
        for n in model.nodes {
            let inShape = n.inputs.first.map { model.nodes[index[$0]!].shape } ?? []
            switch n.attributes {
            case .input: ops.append(.input)
            case .dense(let d):
                var w = [Double](repeating: 0, count: d.outFeatures * d.inFeatures)
                for o in 0..<d.outFeatures { for i in 0..<d.inFeatures { w[o * d.inFeatures + i] = d.weight(out: o, in: i) } }
                ops.append(.dense(weight: w, bias: d.bias?.toDoubles() ?? [Double](repeating: 0, count: d.outFeatures), inF: d.inFeatures, outF: d.outFeatures))
            case .conv2d(let c):
                var k = [Double](repeating: 0, count: c.kernelH * c.kernelW * c.inChannels * c.outChannels)
                for ky in 0..<c.kernelH { for kx in 0..<c.kernelW { for i in 0..<c.inChannels { for o in 0..<c.outChannels {
                    k[((ky * c.kernelW + kx) * c.inChannels + i) * c.outChannels + o] = c.weight(out: o, in: i, ky: ky, kx: kx)
                } } } }
                let g = ConvGeometry(inH: inShape[0], inW: inShape[1], inC: inShape[2], outH: n.shape[0], outW: n.shape[1], outC: n.shape[2],
                                     kh: c.kernelH, kw: c.kernelW, sh: c.strideH, sw: c.strideW, dh: c.dilationH, dw: c.dilationW,
                                     padTop: c.padding.top, padLeft: c.padding.left)
                ops.append(.conv(kernel: k, bias: c.bias?.toDoubles() ?? [Double](repeating: 0, count: c.outChannels), geometry: g))
            case .batchnorm(let b):
                let (scale, shift) = b.affine
                ops.append(.affine(scale: scale, shift: shift))
            case .asn(let p):
                let tf = TransferFunction(theta0: p.theta0, mf: p.mf, tauGamma: p.tauGamma, tauEta: p.tauEta)
                ops.append(.asn(p, h: p.spike == .graded ? 1 : tf.resolve(p.h), transfer: tf))
            case .relu(let p): ops.append(.relu(p))
            case .lif(let p): ops.append(.lif(p))
            case .maxpool2d(let p): ops.append(.maxpool(p, inShape: inShape))
            case .avgpool2d(let p): ops.append(.avgpool(p, inShape: inShape))
            case .flatten: ops.append(.flatten)
            case .add: ops.append(.add)
            case .readout(let t, let leak): ops.append(.readout(tauPhi: t, leak: leak))
            }
        }
        self.ops = ops
    }

    // MARK: analog evaluation

    /// Evaluates node `target` (and what it needs). `given` fixes values of nodes (the image
    /// for the input node; zeros for spiking sources when computing a layer's bias).
    public func evaluate(_ target: Int, given: [Int: [Double]]) -> [Double] {
        var memo = given
        return value(target, &memo)
    }

    /// Values of every node for one input (the ANN forward pass).
    public func forward(_ image: [Double]) -> [[Double]] {
        var memo: [Int: [Double]] = [:]
        for (i, op) in ops.enumerated() {
            if case .input = op { memo[i] = image }
        }
        var out: [[Double]] = []
        out.reserveCapacity(ops.count)
        for i in ops.indices { out.append(value(i, &memo)) }
        return out
    }

    /// The ANN's class for one input: argmax of the readout (or of the last node).
    public func classify(_ image: [Double]) -> (label: Int, output: [Double]) {
        var memo: [Int: [Double]] = [:]
        for (i, op) in ops.enumerated() {
            if case .input = op { memo[i] = image }
        }
        let last = ops.lastIndex { if case .readout = $0 { return true } else { return false } } ?? (ops.count - 1)
        let y = value(last, &memo)
        return (argmax(y), y)
    }

    func value(_ i: Int, _ memo: inout [Int: [Double]]) -> [Double] {
        if let v = memo[i] { return v }
        let ins = inputs[i].map { value($0, &memo) }
        let shape = model.nodes[i].shape
        let y: [Double]
        switch ops[i] {
        case .input:
            y = [Double](repeating: 0, count: shape.reduce(1, *))
        case let .dense(w, b, inF, outF):
            y = denseForward(ins[0], w, b, inF, outF)
        case let .conv(k, b, g):
            y = convForward(ins[0], k, b, g)
        case .affine, .asn, .relu, .lif, .flatten, .readout, .add:
            y = ops[i].elementwise(ins) ?? []
        case let .maxpool(p, inShape):
            y = pool(ins[0], windows: poolMap(p, inShape: inShape, outShape: shape), images: 1, max: true)
        case let .avgpool(p, inShape):
            y = pool(ins[0], windows: poolMap(p, inShape: inShape, outShape: shape), images: 1, max: false)
        }
        memo[i] = y
        return y
    }
}

func denseForward(_ x: [Double], _ w: [Double], _ b: [Double], _ inF: Int, _ outF: Int) -> [Double] {
    var y = b
    x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            y.withUnsafeMutableBufferPointer { yp in
                for o in 0..<outF {
                    var acc = 0.0
                    let row = o * inF
                    for i in 0..<inF { acc += wp[row + i] * xp[i] }
                    yp[o] += acc
                }
            }
        }
    }
    return y
}

func convForward(_ x: [Double], _ k: [Double], _ b: [Double], _ g: ConvGeometry) -> [Double] {
    var y = [Double](repeating: 0, count: g.outH * g.outW * g.outC)
    x.withUnsafeBufferPointer { xp in
        k.withUnsafeBufferPointer { kp in
            y.withUnsafeMutableBufferPointer { yp in
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        let obase = (oy * g.outW + ox) * g.outC
                        for o in 0..<g.outC { yp[obase + o] = b[o] }
                        for ky in 0..<g.kh {
                            let iy = g.inputRow(oy, ky)
                            if iy < 0 || iy >= g.inH { continue }
                            for kx in 0..<g.kw {
                                let ix = g.inputColumn(ox, kx)
                                if ix < 0 || ix >= g.inW { continue }
                                let ibase = (iy * g.inW + ix) * g.inC
                                let kbase = (ky * g.kw + kx) * g.inC * g.outC
                                for i in 0..<g.inC {
                                    let v = xp[ibase + i]
                                    if v == 0 { continue }
                                    let kb = kbase + i * g.outC
                                    for o in 0..<g.outC { yp[obase + o] += v * kp[kb + o] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return y
}

extension PreparedOp {
    /// The ops that act element by element (per channel, channels last) or pass values on:
    /// the same on one image as on a batch of images laid end to end. Nil for the others.
    func elementwise(_ ins: [[Double]]) -> [Double]? {
        switch self {
        case let .affine(scale, shift):
            let c = scale.count
            return ins[0].enumerated().map { $0.element * scale[$0.offset % c] + shift[$0.offset % c] }
        case let .asn(p, h, tf):
            return p.spike == .graded ? ins[0].map { max(0, $0) } : ins[0].map { tf.f($0, h: h) }
        case .relu:
            return ins[0].map { max(0, $0) }
        case .lif(let p):
            return ins[0].map { lifRate($0, p) }
        case .flatten, .readout:
            return ins[0]
        case .add:
            var s = ins[0]
            for other in ins.dropFirst() { for j in s.indices { s[j] += other[j] } }
            return s
        default:
            return nil
        }
    }
}

/// Max or average pooling, channels-last, of `images` inputs laid end to end, over the windows
/// `poolMap` enumerates (the same windows the spiking network's pooled compartments use).
/// Padding positions are skipped; the average divides by the number of real (unpadded)
/// elements in the window.
func pool(_ x: [Double], windows: ([Int32], [Int32]), images: Int, max isMax: Bool) -> [Double] {
    let (starts, idx) = windows
    let outSize = starts.count - 1, inSize = x.count / Swift.max(images, 1)
    var y = [Double](repeating: 0, count: images * outSize)
    for b in 0..<images {
        let xb = b * inSize
        for o in 0..<outSize {
            let window = idx[Int(starts[o])..<Int(starts[o + 1])]
            y[b * outSize + o] = isMax ? window.reduce(-Double.infinity) { Swift.max($0, x[xb + Int($1)]) }
                                       : window.reduce(0) { $0 + x[xb + Int($1)] } / Double(Swift.max(window.count, 1))
        }
    }
    return y
}

/// The analog value of an IF-family neuron with input x: what a non-leaky IF neuron with
/// subtractive reset delivers per step on a constant input, max(0, r·x)/v_threshold spikes of
/// spike_height each (below one spike per step; the leak of LIF and CubaLIF is not modelled).
/// For a network from `snnc convert --to if` (r = 1, spike_height = v_threshold) it is the ReLU.
@inline(__always)
public func lifRate(_ x: Double, _ p: LIFParameters) -> Double {
    p.spikeHeight == p.vThreshold && p.r == 1 ? max(0, x) : max(0, p.r * x) * (p.spikeHeight / p.vThreshold)
}

/// Index of the largest value (the first on ties).
public func argmax(_ v: [Double]) -> Int {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return best
}
