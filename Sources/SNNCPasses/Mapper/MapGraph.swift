// The graph the mapper works on: the quantised model seen as spiking layers (what occupies
// cores) and the projections between them (what needs input axons, synapses and routes).
// Built from the CompileUnit after the front half; connectivity only — the weights stay in the
// model graph, which the artefact carries.
import SNNCIR

/// A 2-D convolution's geometry, channels-last.
public struct ConvShape: Sendable, Equatable {
    public var inH: Int, inW: Int, inC: Int
    public var outH: Int, outW: Int, outC: Int
    public var kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
    public var padTop: Int, padLeft: Int

    /// Source rows that output rows `rows` read (exact union of the receptive fields, in order).
    public func inputRows(_ rows: Range<Int>) -> [Int] { Self.reach(rows, k: kh, s: sh, d: dh, pad: padTop, size: inH) }
    public func inputCols(_ cols: Range<Int>) -> [Int] { Self.reach(cols, k: kw, s: sw, d: dw, pad: padLeft, size: inW) }

    /// Σ over output rows (or columns) of the kernel taps that land inside the input: with the
    /// other axis, the synapses an explicit (unshared) convolution needs per channel pair.
    public static func validTaps(_ outputs: [Int], _ c: ConvShape, rows: Bool) -> Int {
        let (k, s, d, pad, size) = rows ? (c.kh, c.sh, c.dh, c.padTop, c.inH) : (c.kw, c.sw, c.dw, c.padLeft, c.inW)
        return outputs.reduce(0) { $0 + GraphStats.validTaps(at: $1, input: size, window: k, stride: s, dilation: d, padBefore: pad) }
    }

    static func reach<S: Sequence<Int>>(_ r: S, k: Int, s: Int, d: Int, pad: Int, size: Int) -> [Int] {
        guard size > 0 else { return [] }
        var mark = [Bool](repeating: false, count: size)
        for y in r { for ky in 0..<k {
            let i = y * s - pad + ky * d
            if i >= 0 && i < size { mark[i] = true }
        } }
        return mark.indices.filter { mark[$0] }
    }
}

public struct MapProjection: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Every source neuron reaches every target compartment (flattened source).
        case dense(inFeatures: Int)
        case conv(ConvShape)
        /// Source neuron i reaches target compartment i (residual adds, same shape).
        case identity
    }
    /// Index of the source layer.
    public var source: Int
    public var kind: Kind
    /// The weighted node (dense/conv) whose weights this projection uses.
    public var weightNode: String?
}

public struct MapLayer: Sendable {
    public enum Kind: String, Sendable { case injected, spiking, readout }
    public var name: String
    public var kind: Kind
    /// Output neurons: [H, W, C] or [N] (pooled positions for max-pooled layers).
    public var shape: [Int]
    /// Compartments (pre-pool positions for max-pooled layers, else = shape).
    public var compartmentShape: [Int]
    public var pool: Pool2D?
    public var graded: Bool
    public var inputs: [MapProjection]
    /// IF-family layers: the state bits a compartment needs (membrane, the CubaLIF current, the
    /// spike flag); nil: the profile's state_bits_per_neuron (the ASN's registers).
    public var stateBitsNeeded: Int? = nil

    public var neurons: Int { shape.reduce(1, *) }
    public var compartments: Int { compartmentShape.reduce(1, *) }
    public var isSpatial: Bool { shape.count == 3 }
    /// Weights feeding one compartment (for explicit synapse counts).
    public var fanInPerCompartment: Int {
        inputs.reduce(0) { acc, p in
            switch p.kind {
            case .dense(let f): return acc + f
            case .conv(let g): return acc + g.kh * g.kw * g.inC
            case .identity: return acc + 1
            }
        }
    }
}

public struct MapGraph: Sendable {
    public var layers: [MapLayer]
    /// For each layer, the layers it feeds.
    public var consumers: [[Int]]

    public func index(of name: String) -> Int? { layers.firstIndex { $0.name == name } }

    /// Builds the graph from a unit the front half has run on.
    public static func build(_ unit: CompileUnit) throws(DiagnosticsError) -> MapGraph {
        var layers: [MapLayer] = []
        var layerIndex: [String: Int] = [:]
        var problems: [Diagnostic] = []
        let host = Set(unit.hostNodes)
        for n in unit.model.nodes where !host.contains(n.name) {
            let kind: MapLayer.Kind
            var graded = false
            switch n.attributes {
            case .asn(let p): kind = unit.injectedLayers.contains(n.name) ? .injected : .spiking; graded = p.spike == .graded
            case .relu: kind = unit.injectedLayers.contains(n.name) ? .injected : .spiking; graded = true
            case .lif: kind = unit.injectedLayers.contains(n.name) ? .injected : .spiking
            case .readout: kind = .readout
            default: continue
            }
            var layer = MapLayer(name: n.name, kind: kind, shape: n.shape, compartmentShape: n.shape, pool: nil, graded: graded, inputs: [])
            if case .lif(let lp) = n.attributes {
                let num = unit.profile.numerics
                layer.stateBitsNeeded = num.activationBits + (lp.kind == .currentBased ? num.currentBits : 0) + 1
            }
            if let p = unit.pooledLayers[n.name] {
                layer.pool = p.window
                layer.compartmentShape = p.preShape
            }
            if kind != .injected {
                var projections: [MapProjection] = []
                var ok = true
                trace(n.inputs[0], weighted: nil, unit: unit, layerIndex: layerIndex, into: &projections, ok: &ok, problems: &problems, target: n.name)
                if !ok { continue }
                // An identity projection carries neuron (y, x, c) to compartment (y, x, c): both
                // sides must have one shape (a flatten straight into a readout or an add does not).
                for p in projections where p.kind == .identity && layers[p.source].hwc != layer.compartmentHWC {
                    problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                               "it takes layer '\(layers[p.source].name)' (\(formatShape(layers[p.source].shape))) unweighted into \(formatShape(layer.compartmentShape)); the mapper carries unweighted inputs neuron to neuron only",
                                               notes: ["put a dense layer between a flatten and a readout, or feed it from a flat layer"]))
                    ok = false
                }
                if !ok { continue }
                layer.inputs = projections
            }
            layerIndex[n.name] = layers.count
            layers.append(layer)
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        var consumers = [[Int]](repeating: [], count: layers.count)
        for (i, l) in layers.enumerated() { for p in l.inputs where !consumers[p.source].contains(i) { consumers[p.source].append(i) } }
        return MapGraph(layers: layers, consumers: consumers)
    }

    /// Follows the linear nodes back from `name` to the layers that feed it.
    static func trace(_ name: String, weighted: (node: Node, inShape: [Int])?, unit: CompileUnit, layerIndex: [String: Int],
                      into out: inout [MapProjection], ok: inout Bool, problems: inout [Diagnostic], target: String) {
        if let li = layerIndex[name] {
            let kind: MapProjection.Kind
            if let w = weighted {
                switch w.node.attributes {
                case .dense(let d): kind = .dense(inFeatures: d.inFeatures)
                case .conv2d(let c):
                    kind = .conv(ConvShape(inH: w.inShape[0], inW: w.inShape[1], inC: w.inShape[2], outH: w.node.shape[0], outW: w.node.shape[1],
                                           outC: w.node.shape[2], kh: c.kernelH, kw: c.kernelW, sh: c.strideH, sw: c.strideW,
                                           dh: c.dilationH, dw: c.dilationW, padTop: c.padding.top, padLeft: c.padding.left))
                default: kind = .identity
                }
            } else {
                kind = .identity
            }
            out.append(MapProjection(source: li, kind: kind, weightNode: weighted?.node.name))
            return
        }
        guard let n = unit.model.node(named: name) else { ok = false; return }
        switch n.op {
        case .add:
            for i in n.inputs { trace(i, weighted: weighted, unit: unit, layerIndex: layerIndex, into: &out, ok: &ok, problems: &problems, target: target) }
        case .flatten, .batchnorm:
            trace(n.inputs[0], weighted: weighted, unit: unit, layerIndex: layerIndex, into: &out, ok: &ok, problems: &problems, target: target)
        case .dense, .conv2d:
            if weighted != nil {
                problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(target)'",
                                           "two weighted layers with no ASN between them cannot be mapped", notes: ["put an asn (or relu) after every dense/conv layer"]))
                ok = false
                return
            }
            let inShape = unit.model.node(named: n.inputs[0])?.shape ?? []
            trace(n.inputs[0], weighted: (n, inShape), unit: unit, layerIndex: layerIndex, into: &out, ok: &ok, problems: &problems, target: target)
        case _ where n.op.isSpiking:
            ok = false  // a spiking layer that could not be mapped: its own diagnostic says why
        default:
            problems.append(Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(n.name)'",
                                       "\(n.op.rawValue) between spiking layers cannot be mapped onto cores",
                                       notes: ["the mapper takes dense, conv2d, add, flatten and batch-norm between ASN layers; average pooling is folded only into a following dense layer"]))
            ok = false
        }
    }
}
