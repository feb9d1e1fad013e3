// Lowering a model to the spiking network the float reference simulates, by the conversion
// rules of the Methods (Docs/neuron-model.md, "Network conversion"):
//
// - every `asn` node (and `relu`, as a graded ASN) is a spiking layer;
// - an ASN whose input depends only on the model input is an input layer: the linear ops
//   between input and it (batch-norm, conv, …) are computed once per image and injected as its
//   current;
// - every other layer receives spikes through projections: the linear ops between a source
//   layer and it, at most one weighted op (dense or conv), with batch-norm scales folded into
//   that op's weights, flatten as the identity it is in channels-last order, average pooling
//   before the weighted op expanded exactly, residual `add`s as several projections into the
//   same currents; the constant part of the chain (biases, BN shifts) is the layer's bias,
//   added to S after the membrane filter;
// - an ASN followed by a max-pool is one layer whose neurons are the pooled positions, each
//   with one compartment per pre-pool position: S = max over compartments, then the spike test;
// - `readout` is a non-spiking layer smoothed with its own τ_φ.
import SNNCIR

public enum LayerKind: Sendable, Equatable {
    /// The current is computed from the image once and injected each step (I = current).
    case injected(preActivationNode: Int)
    case spiking
    case readout
}

/// An event-driven projection from a source layer into a target layer's compartments.
public struct Projection: Sendable {
    public enum Op: Sendable {
        /// weightT [in][out] (out = target compartments).
        case dense(weightT: [Double], inF: Int, outF: Int)
        /// kernel [kh][kw][in][out], geometry of the conv (its output = target compartments).
        case conv(kernel: [Double], geometry: ConvGeometry)
        /// The mapped index is the target compartment itself.
        case identity
    }
    public let source: Int
    /// CSR map from source neurons to the op's input positions, with factors (BN scales before
    /// the weighted op, 1/n of average pooling).
    public let preStart: [Int32]
    public let preIndex: [Int32]
    public let preFactor: [Double]
    public let op: Op

    /// Synaptic events one spike of each source neuron causes (for counting).
    public let eventsPerSpike: [Int32]
    /// A conv whose op-input positions rise strictly along the CSR map (every source neuron
    /// maps to later positions than the one before): then each target's sums, taken in spike
    /// order, are also in source-position order, so delivery may gather them per output
    /// position (Projection.scatter, `.gather`) and give the same bits.
    public let gatherable: Bool
    /// A conv's kernel again, at a 64-byte boundary so the gather's 8-wide loads of its rows
    /// (each a multiple of 8 doubles from the start) never straddle cache lines.
    let alignedKernel: AlignedDoubles?

    public init(source: Int, preStart: [Int32], preIndex: [Int32], preFactor: [Double], op: Op, eventsPerSpike: [Int32]) {
        self.source = source
        self.preStart = preStart
        self.preIndex = preIndex
        self.preFactor = preFactor
        self.op = op
        self.eventsPerSpike = eventsPerSpike
        var rising = true
        for j in preIndex.indices.dropFirst() where preIndex[j] <= preIndex[j - 1] {
            rising = false
            break
        }
        if case let .conv(kernel, _) = op, rising {
            gatherable = true
            alignedKernel = AlignedDoubles(kernel)
        } else {
            gatherable = false
            alignedKernel = nil
        }
    }
}

/// An immutable float64 array whose first element sits at a 64-byte (cache line) boundary.
final class AlignedDoubles: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
    let count: Int

    init(_ values: [Double]) {
        let n = values.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 8, alignment: 64).bindMemory(to: Double.self, capacity: max(n, 1))
        values.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: n) }
        base = p
        count = n
    }

    deinit { base.deallocate() }
}

/// How a layer's neurons evolve: the seam between the network and its neuron model.
public enum LayerDynamics: Sendable, Equatable {
    /// The ASN (Neuron.swift); for the readout of an ASN network, its PSC (τ_β of the layer
    /// feeding it) and membrane filter (τ_φ).
    case asn(NeuronConstants)
    /// IF, LIF, CubaLIF (IFNeuron.swift); for the readout of such a network, `LIFConstants.integrator`.
    case lif(LIFConstants)
}

public struct SpikingLayer: Sendable {
    public let name: String
    public let node: Int
    /// The node whose output these spikes are (the max-pool node for pooled layers).
    public let outputNode: Int
    public let kind: LayerKind
    public let dynamics: LayerDynamics
    /// The initial threshold ϑ0 of an ASN layer (0 for the others).
    public let theta0: Double
    public let graded: Bool
    /// The payload of a binary spike (h); graded spikes carry ϑ(t_s) instead.
    public let h: Double
    public let neurons: Int
    public let compartments: Int
    /// For pooled layers: compartments of neuron n are poolIndex[poolStart[n]..<poolStart[n+1]].
    public let poolStart: [Int32]?
    public let poolIndex: [Int32]?
    public let bias: [Double]
    public let projections: [Projection]
}

public struct SpikingNetwork: Sendable {
    public let prepared: PreparedModel
    public let layers: [SpikingLayer]
    /// For each layer, the (layer, projection) pairs it feeds.
    public let fanOut: [[(layer: Int, projection: Int)]]

    public var readoutLayer: Int? { layers.lastIndex { $0.kind == .readout } }
    public var spikingLayerIndices: [Int] { layers.indices.filter { layers[$0].kind != .readout } }

    public static func lower(_ model: Model) -> Result<SpikingNetwork, DiagnosticsError> {
        var l = Lowering(PreparedModel(model))
        return l.run()
    }
}

struct Lowering {
    let pm: PreparedModel
    var bag: DiagnosticBag
    var consumers: [[Int]]
    /// Node index → layer index, for nodes that are a layer's output.
    var layerOfOutput: [Int: Int] = [:]
    var layers: [SpikingLayer] = []

    init(_ pm: PreparedModel) {
        self.pm = pm
        bag = DiagnosticBag(file: pm.model.file)
        consumers = Array(repeating: [], count: pm.ops.count)
        for (i, ins) in pm.inputs.enumerated() { for j in ins { consumers[j].append(i) } }
    }

    func name(_ i: Int) -> String { pm.model.nodes[i].name }
    func shape(_ i: Int) -> [Int] { pm.model.nodes[i].shape }

    enum Source: Equatable { case layer(Int), input }
    struct PathSpec { var source: Source; var ops: [Int] }

    mutating func run() -> Result<SpikingNetwork, DiagnosticsError> {
        for i in pm.ops.indices {
            switch pm.ops[i] {
            case .asn(let p, let h, _): addLayer(i, params: p, h: h)
            case .relu(let p):
                guard let p else {
                    bag.error(.asnParamMissing, "node '\(name(i))'", "a relu runs as a graded-spike ASN, but the file's defaults.asn does not give all of tau_gamma, tau_eta, tau_beta, tau_phi, theta0, m_f")
                    continue
                }
                addLayer(i, params: p, h: 1)
            case .readout(let tauPhi, let leak): addReadout(i, tauPhi: tauPhi, leak: leak)
            case .lif(let p): addLayer(i, dynamics: .lif(LIFConstants(p)), theta0: 0, graded: false, h: p.spikeHeight)
            default: break
            }
        }
        if !layers.contains(where: { $0.kind == .readout }) && !bag.hasErrors {
            bag.error(.noReadout, nil, "the spiking network needs a 'readout' node to classify")
        }
        if bag.hasErrors { return .failure(DiagnosticsError(bag.items)) }
        var fanOut = [[(layer: Int, projection: Int)]](repeating: [], count: layers.count)
        for (li, l) in layers.enumerated() { for (pi, p) in l.projections.enumerated() { fanOut[p.source].append((li, pi)) } }
        return .success(SpikingNetwork(prepared: pm, layers: layers, fanOut: fanOut))
    }

    mutating func addLayer(_ a: Int, params p: ASNParameters, h: Double) {
        let k = NeuronConstants(tauBeta: p.tauBeta, tauPhi: p.tauPhi, tauEta: p.tauEta, tauGamma: p.tauGamma, theta0: p.theta0, mf: p.mf)
        addLayer(a, dynamics: .asn(k), theta0: p.theta0, graded: p.spike == .graded, h: h)
    }

    mutating func addLayer(_ a: Int, dynamics: LayerDynamics, theta0: Double, graded: Bool, h: Double) {
        let obj = "node '\(name(a))'"
        // An ASN followed only by a max-pool becomes one pooled layer.
        var outputNode = a
        var poolStart: [Int32]? = nil
        var poolIndex: [Int32]? = nil
        let cons = consumers[a]
        if cons.contains(where: { if case .maxpool = pm.ops[$0] { return true } else { return false } }) {
            guard cons.count == 1, case let .maxpool(pool, inShape) = pm.ops[cons[0]] else {
                bag.error(.unsupportedPattern, obj, "this ASN feeds a max-pool and other nodes; a max-pooled ASN layer may feed only its pool",
                          notes: ["merge-pooling turns ASN → max-pool into one layer whose neurons are the pooled positions"])
                return
            }
            outputNode = cons[0]
            let (ps, pi) = poolMap(pool, inShape: inShape, outShape: shape(outputNode))
            poolStart = ps
            poolIndex = pi
        }
        guard let (kind, projections, bias) = inputs(of: a, obj: obj) else { return }
        let layer = SpikingLayer(name: name(a), node: a, outputNode: outputNode, kind: kind, dynamics: dynamics, theta0: theta0,
                                 graded: graded, h: h, neurons: shape(outputNode).reduce(1, *),
                                 compartments: shape(a).reduce(1, *), poolStart: poolStart, poolIndex: poolIndex,
                                 bias: bias, projections: projections)
        layerOfOutput[outputNode] = layers.count
        layers.append(layer)
    }

    mutating func addReadout(_ r: Int, tauPhi: Double, leak: LIFParameters?) {
        let obj = "node '\(name(r))'"
        guard let (kind, projections, bias) = inputs(of: r, obj: obj) else { return }
        guard kind == .spiking else {
            bag.error(.unsupportedPattern, obj, "the readout is fed by the input directly; it needs a spiking layer before it")
            return
        }
        // An ASN network's readout: its PSC decays with τ_β of the layer that feeds it. An
        // IF-family network's readout integrates.
        let dynamics: LayerDynamics
        switch layers[projections[0].source].dynamics {
        case _ where leak != nil:
            dynamics = .lif(.leakyReadout(leak!))
        case .asn(let src):
            let tauBeta = -1 / log(src.alphaBeta)
            dynamics = .asn(NeuronConstants(tauBeta: tauBeta, tauPhi: tauPhi, tauEta: 1, tauGamma: 1, theta0: 1, mf: 0))
        case .lif:
            dynamics = .lif(.integrator)
        }
        let n = shape(r).reduce(1, *)
        layers.append(SpikingLayer(name: name(r), node: r, outputNode: r, kind: .readout, dynamics: dynamics, theta0: 1, graded: false, h: 0,
                                   neurons: n, compartments: n, poolStart: nil, poolIndex: nil, bias: bias, projections: projections))
    }

    /// What drives node `a` (an ASN or readout): its kind, projections and bias.
    mutating func inputs(of a: Int, obj: String) -> (LayerKind, [Projection], [Double])? {
        let pre = pm.inputs[a][0]
        guard let specs = paths(pre, obj: obj) else { return nil }
        let fromInput = specs.filter { $0.source == .input }
        if fromInput.count == specs.count {
            return (.injected(preActivationNode: pre), [], [Double](repeating: 0, count: shape(a).reduce(1, *)))
        }
        if !fromInput.isEmpty {
            bag.error(.unsupportedPattern, obj, "this layer's input mixes the analog model input with spikes of other layers",
                      notes: ["only the first ASN layer may take the input as a current"])
            return nil
        }
        var projections: [Projection] = []
        for s in specs {
            guard case .layer(let l) = s.source, let p = projection(from: l, ops: s.ops, obj: obj) else { return nil }
            projections.append(p)
        }
        // Bias: the chain evaluated with every source layer silent.
        var given: [Int: [Double]] = [:]
        for s in specs { if case .layer(let l) = s.source { given[layers[l].outputNode] = [Double](repeating: 0, count: layers[l].neurons) } }
        let bias = pm.evaluate(pre, given: given)
        return (.spiking, projections, bias)
    }

    /// The linear paths that end at node x, traced back to a spiking layer or the input.
    mutating func paths(_ x: Int, obj: String) -> [PathSpec]? {
        if let l = layerOfOutput[x] { return [PathSpec(source: .layer(l), ops: [])] }
        switch pm.ops[x] {
        case .input:
            return [PathSpec(source: .input, ops: [])]
        case .add:
            var out: [PathSpec] = []
            for i in pm.inputs[x] {
                guard let p = paths(i, obj: obj) else { return nil }
                out += p
            }
            return out
        case .dense, .conv, .affine, .avgpool, .flatten:
            guard var p = paths(pm.inputs[x][0], obj: obj) else { return nil }
            for j in p.indices { p[j].ops.append(x) }
            return p
        case .maxpool:
            bag.error(.unsupportedPattern, obj, "max-pool '\(name(x))' does not follow an ASN; snnc merges max-pooling into the ASN layer before it",
                      notes: ["reorder as … → asn → maxpool2d → …"])
            return nil
        case .asn, .relu, .lif:
            bag.error(.unsupportedPattern, obj, "input node '\(name(x))' is a spiking node that is not yet a layer (it feeds a max-pool and others)")
            return nil
        case .readout:
            bag.error(.unsupportedPattern, obj, "readout '\(name(x))' feeds another node; a readout must be last")
            return nil
        }
    }

    mutating func projection(from l: Int, ops: [Int], obj: String) -> Projection? {
        let weighted = ops.indices.filter { if case .dense = pm.ops[ops[$0]] { return true }; if case .conv = pm.ops[ops[$0]] { return true }; return false }
        if weighted.count > 1 {
            bag.error(.unsupportedPattern, obj, "nodes '\(name(ops[weighted[0]]))' and '\(name(ops[weighted[1]]))' are two weighted layers with no ASN between them",
                      notes: ["put an asn (or relu) after every dense/conv layer"])
            return nil
        }
        let w = weighted.first ?? ops.count
        // Pre-map: source neuron → positions in the weighted op's input, with factors.
        let src = layers[l]
        var rows: [[(Int, Double)]] = (0..<src.neurons).map { [($0, 1.0)] }
        for i in 0..<w {
            let node = ops[i]
            switch pm.ops[node] {
            case .affine(let scale, _):
                let c = scale.count
                for j in rows.indices { rows[j] = rows[j].map { ($0.0, $0.1 * scale[$0.0 % c]) } }
            case .flatten:
                break  // channels-last flatten keeps flat indices
            case let .avgpool(p, inShape):
                let outShape = shape(node)
                let (starts, idx) = poolMap(p, inShape: inShape, outShape: outShape)
                // Invert: input position → (output position, 1/count).
                var inv = [[(Int, Double)]](repeating: [], count: inShape.reduce(1, *))
                for o in 0..<(starts.count - 1) {
                    let n = Int(starts[o + 1] - starts[o])
                    for k in Int(starts[o])..<Int(starts[o + 1]) { inv[Int(idx[k])].append((o, 1 / Double(n))) }
                }
                for j in rows.indices { rows[j] = rows[j].flatMap { e in inv[e.0].map { ($0.0, $0.1 * e.1) } } }
            default:
                bag.error(.unsupportedPattern, obj, "node '\(name(node))' (\(pm.model.nodes[node].op.rawValue)) cannot stand between a spiking layer and a weighted layer")
                return nil
            }
        }
        // Post ops: per-channel scales to fold into the weighted op (or the identity).
        let outShape = shape(ops.last ?? src.outputNode)
        let outC = outShape.last!
        var post = [Double](repeating: 1, count: outC)
        for i in (w + 1)..<max(w + 1, ops.count) where i < ops.count {
            switch pm.ops[ops[i]] {
            case .affine(let scale, _): for c in 0..<outC { post[c] *= scale[c % scale.count] }
            case .flatten:
                if shape(ops[i]).last! != outC {
                    bag.error(.unsupportedPattern, obj, "flatten '\(name(ops[i]))' after a weighted layer changes the channel axis before a batch-norm")
                    return nil
                }
            default:
                bag.error(.unsupportedPattern, obj, "node '\(name(ops[i]))' (\(pm.model.nodes[ops[i]].op.rawValue)) after a weighted layer is not supported before an ASN",
                          notes: ["supported after dense/conv: batchnorm, add, flatten"])
                return nil
            }
        }
        let op: Projection.Op
        var eventsPerTarget: [Int32]  // events per op-input position
        if w < ops.count {
            switch pm.ops[ops[w]] {
            case let .dense(weight, _, inF, outF):
                // A flatten after dense keeps [out]; channel of output o is o itself.
                var wt = [Double](repeating: 0, count: inF * outF)
                for o in 0..<outF { for i in 0..<inF { wt[i * outF + o] = weight[o * inF + i] * post[o % outC] } }
                op = .dense(weightT: wt, inF: inF, outF: outF)
                eventsPerTarget = [Int32](repeating: Int32(outF), count: inF)
            case let .conv(kernel, _, g):
                var k = kernel
                for j in k.indices { k[j] *= post[j % g.outC] }
                op = .conv(kernel: k, geometry: g)
                eventsPerTarget = (0..<(g.inH * g.inW * g.inC)).map { Int32(convTargets(g, $0) * g.outC) }
            default:
                return nil
            }
        } else {
            // Identity: fold the post scales into the factors (the mapped index is the target).
            for j in rows.indices { rows[j] = rows[j].map { ($0.0, $0.1 * post[$0.0 % outC]) } }
            op = .identity
            eventsPerTarget = [Int32](repeating: 1, count: outShape.reduce(1, *))
        }
        var preStart: [Int32] = [0]
        var preIndex: [Int32] = []
        var preFactor: [Double] = []
        var events: [Int32] = []
        for r in rows {
            var e: Int32 = 0
            for (i, f) in r where f != 0 {
                preIndex.append(Int32(i))
                preFactor.append(f)
                e += eventsPerTarget[i]
            }
            preStart.append(Int32(preIndex.count))
            events.append(e)
        }
        return Projection(source: l, preStart: preStart, preIndex: preIndex, preFactor: preFactor, op: op, eventsPerSpike: events)
    }
}

/// How many output positions of a conv an input position reaches.
func convTargets(_ g: ConvGeometry, _ flat: Int) -> Int {
    let pos = flat / g.inC
    let iy = pos / g.inW, ix = pos % g.inW
    var ny = 0, nx = 0
    for ky in 0..<g.kh {
        let num = iy + g.padTop - ky * g.dh
        if num >= 0 && num % g.sh == 0 && num / g.sh < g.outH { ny += 1 }
    }
    for kx in 0..<g.kw {
        let num = ix + g.padLeft - kx * g.dw
        if num >= 0 && num % g.sw == 0 && num / g.sw < g.outW { nx += 1 }
    }
    return ny * nx
}

#if canImport(Glibc)
import Glibc
#endif
