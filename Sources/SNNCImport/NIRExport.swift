// Writing NIR (`snnc export-nir`): an IF-family network (ops if, lif, cuba_lif between dense,
// conv2d, flatten, average pooling and a readout) as a NIR 1.0 graph, laid out as nir.write does
// (Docs/nir.md), so the `nir` package and every NIR reader take it; snnc reads it back with the
// convention the export names. The inverse of NIR.swift's discretisation: τ = steps · dt,
// IF's R = r / dt. What NIR cannot say is refused by name (`nir-export`): ASN and relu nodes,
// batch-norms other than a uniform scale, max-pooling, residual adds, asymmetric padding, and a
// reset NIR's conventions do not express. Batch-norms after a dense or conv layer are folded by
// the caller first (the compiler's fold-batchnorm pass).
import SNNCIR

public enum NIRExport {
    /// The NIR version written.
    public static let version = "1.0.8"

    /// Writes `model` to `path` at model step `dt` (seconds per step). Returns the convention a
    /// reader must use (`--nir-convention`), or the reasons it cannot be written.
    public static func write(_ model: Model, to path: String, dt: Double) -> Result<NIROptions.Convention, DiagnosticsError> {
        switch graph(model, dt: dt) {
        case .failure(let e): return .failure(e)
        case .success(let (datasets, convention)):
            if let problem = HDF5Writer.write(datasets, to: path) {
                return .failure(DiagnosticsError([Diagnostic(.error, .outputUnwritable, file: path, "cannot write the NIR file: \(problem)")]))
            }
            return .success(convention)
        }
    }

    /// The file's datasets in writing order, and the convention its resets follow.
    static func graph(_ model: Model, dt: Double) -> Result<([(path: String, value: HDF5Dataset)], NIROptions.Convention), DiagnosticsError> {
        var problems: [Diagnostic] = []
        func refuse(_ n: Node, _ why: String, _ notes: [String] = []) {
            problems.append(Diagnostic(.error, .nirExport, file: model.file, object: "node '\(n.name)'", why, notes: notes))
        }
        // The reset convention: snnTorch's (subtract θ, on the next step; for IF at once is the
        // same) or NIR's own (to v_reset at once) — one for the whole file.
        let neurons = model.nodes.compactMap { n -> (Node, LIFParameters)? in if case .lif(let p) = n.attributes { return (n, p) } else { return nil } }
        let snnTorchLike = { (p: LIFParameters) in p.reset == .subtract && (p.resetTiming == .nextStep || p.kind == .integrateAndFire) }
        let nirLike = { (p: LIFParameters) in p.reset == .value && p.resetTiming == .immediate }
        let convention: NIROptions.Convention
        if neurons.allSatisfy({ snnTorchLike($0.1) }) {
            convention = .snntorch
        } else if neurons.allSatisfy({ nirLike($0.1) }) {
            convention = .nir
        } else {
            let (n, p) = neurons.first { !snnTorchLike($0.1) && !nirLike($0.1) } ?? neurons.first { !snnTorchLike($0.1) }!
            refuse(n, "its reset (\(p.reset.rawValue), \(p.resetTiming.rawValue)) and the other layers' cannot share one NIR reading",
                   ["NIR files are read either as snnTorch writes them (subtract the threshold, on the next step) or as NIR defines them (to v_reset at once); give every layer one of the two"])
            convention = .snntorch
        }
        if neurons.isEmpty {
            problems.append(Diagnostic(.error, .nirExport, file: model.file, "the model has no IF-family node (if, lif, cuba_lif); export-nir writes IF-family networks",
                                       notes: ["`snnc convert model.json --to if` makes the rate-coded IF network of a ReLU or ASN network"]))
        }
        var out: [(path: String, value: HDF5Dataset)] = [("/version", .strings(shape: [], [version])), ("/node/type", .strings(shape: [], ["NIRGraph"]))]
        var edges: [(String, String)] = []
        var nirName: [String: String] = [:]
        var used: Set<String> = []
        func unique(_ s: String) -> String {
            var base = String(s.map { $0 == "/" || $0 == "." ? "_" : $0 })
            if base.isEmpty { base = "node" }
            var name = base, k = 1
            while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
            used.insert(name)
            return name
        }
        // NIR shape of a channels-last IR value: [C, H, W] or [F].
        func nirShape(_ s: [Int]) -> [Int] { s.count == 3 ? [s[2], s[0], s[1]] : s }
        func put(_ node: String, _ key: String, _ v: HDF5Dataset) { out.append(("/node/nodes/\(node)/\(key)", v)) }
        func uniformArray(_ node: String, _ key: String, _ v: Double, _ shape: [Int]) {
            put(node, key, .doubles(shape: shape, [Double](repeating: v, count: shape.reduce(1, *))))
        }
        // The spike height a value carries: an IF-family layer's (NIR spikes are 1), through
        // shape-only nodes; 1 elsewhere.
        func height(_ name: String) -> Double {
            guard let n = model.node(named: name) else { return 1 }
            switch n.attributes {
            case .lif(let p): return p.spikeHeight
            case .flatten, .avgpool2d: return height(n.inputs[0])
            default: return 1
            }
        }
        // The [H, W, C] value a flatten node flattens, behind `name` (nil: none).
        func flattenedFrom(_ name: String) -> [Int]? {
            guard let n = model.node(named: name), n.op == .flatten, let src = model.node(named: n.inputs[0]), src.shape.count == 3 else { return nil }
            return src.shape
        }
        for n in model.nodes {
            let name = unique(n.name)
            nirName[n.name] = name
            let ins = n.inputs.compactMap { nirName[$0] }
            if n.inputs.count > 1 {
                refuse(n, "it sums several inputs; residual adds are not exported yet")
                continue
            }
            var edgeFrom = ins.first
            switch n.attributes {
            case .input(let shape):
                put(name, "type", .strings(shape: [], ["Input"]))
                let s = nirShape(shape)
                put(name, "shape", .ints(shape: [s.count], s.map(Int64.init)))
            case .dense(let d):
                let h = height(n.inputs[0])
                var w: [Double] = []
                w.reserveCapacity(d.outFeatures * d.inFeatures)
                for o in 0..<d.outFeatures { for i in 0..<d.inFeatures { w.append(d.weight(out: o, in: i) * h) } }
                w = channelMajorColumns(w, inF: d.inFeatures, outF: d.outFeatures, flattenedFrom: flattenedFrom(n.inputs[0]))
                put(name, "type", .strings(shape: [], [d.bias == nil ? "Linear" : "Affine"]))
                put(name, "weight", .doubles(shape: [d.outFeatures, d.inFeatures], w))
                if let b = d.bias { put(name, "bias", .doubles(shape: [d.outFeatures], b.toDoubles())) }
            case .conv2d(let c):
                guard c.padding.top == c.padding.bottom, c.padding.left == c.padding.right, let inShape = model.node(named: n.inputs[0])?.shape, inShape.count == 3 else {
                    refuse(n, "its padding is asymmetric (\(c.padding.top), \(c.padding.bottom), \(c.padding.left), \(c.padding.right)); NIR's Conv2d pads both sides alike")
                    continue
                }
                let h = height(n.inputs[0])
                var w: [Double] = []
                for o in 0..<c.outChannels { for i in 0..<c.inChannels { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW {
                    w.append(c.weight(out: o, in: i, ky: ky, kx: kx) * h)
                } } } }
                put(name, "type", .strings(shape: [], ["Conv2d"]))
                put(name, "weight", .doubles(shape: [c.outChannels, c.inChannels, c.kernelH, c.kernelW], w))
                put(name, "bias", .doubles(shape: [c.outChannels], c.bias?.toDoubles() ?? [Double](repeating: 0, count: c.outChannels)))
                put(name, "stride", .ints(shape: [2], [Int64(c.strideH), Int64(c.strideW)]))
                put(name, "padding", .ints(shape: [2], [Int64(c.padding.top), Int64(c.padding.left)]))
                put(name, "dilation", .ints(shape: [2], [Int64(c.dilationH), Int64(c.dilationW)]))
                put(name, "groups", .ints(shape: [], [1]))
                put(name, "input_shape", .ints(shape: [2], [Int64(inShape[0]), Int64(inShape[1])]))
            case .flatten:
                let src = model.node(named: n.inputs[0])?.shape ?? []
                put(name, "type", .strings(shape: [], ["Flatten"]))
                let s = nirShape(src)
                put(name, "input_type", .ints(shape: [s.count], s.map(Int64.init)))
                put(name, "start_dim", .ints(shape: [], [0]))
                put(name, "end_dim", .ints(shape: [], [-1]))
            case .avgpool2d(let p):
                guard p.padding.top == 0, p.padding.bottom == 0, p.padding.left == 0, p.padding.right == 0 else {
                    refuse(n, "it pads; NIR's AvgPool2d as snnc reads it does not")
                    continue
                }
                put(name, "type", .strings(shape: [], ["AvgPool2d"]))
                put(name, "kernel_size", .ints(shape: [2], [Int64(p.sizeH), Int64(p.sizeW)]))
                put(name, "stride", .ints(shape: [2], [Int64(p.strideH), Int64(p.strideW)]))
                put(name, "padding", .ints(shape: [2], [0, 0]))
            case .batchnorm(let b):
                // One factor and no shift: NIR's Scale; on a flat value: an Affine with a diagonal
                // weight (exact); otherwise NIR has no per-channel affine.
                let (scale, shift) = b.affine
                if let s = scale.first, scale.allSatisfy({ $0 == s }), shift.allSatisfy({ $0 == 0 }) {
                    put(name, "type", .strings(shape: [], ["Scale"]))
                    uniformArray(name, "scale", s, nirShape(n.shape))
                } else if n.shape.count == 1, let f = n.shape.first, f <= 1 << 12 {
                    var w = [Double](repeating: 0, count: f * f)
                    for j in 0..<f { w[j * f + j] = scale[j % scale.count] }
                    put(name, "type", .strings(shape: [], ["Affine"]))
                    put(name, "weight", .doubles(shape: [f, f], w))
                    put(name, "bias", .doubles(shape: [f], (0..<f).map { shift[$0 % shift.count] }))
                } else {
                    refuse(n, "a per-channel batch-norm on a \(n.shape.count)-D value has no NIR counterpart", ["fold it into the weights before or after it"])
                    continue
                }
            case .lif(let p):
                let s = nirShape(n.shape)
                let vReset = convention == .snntorch ? 0 : p.vReset
                switch p.kind {
                case .integrateAndFire:
                    put(name, "type", .strings(shape: [], ["IF"]))
                    uniformArray(name, "r", p.r / dt, s)
                case .leaky:
                    put(name, "type", .strings(shape: [], ["LIF"]))
                    uniformArray(name, "tau", p.tauMem * dt, s)
                    uniformArray(name, "r", p.r, s)
                    uniformArray(name, "v_leak", p.vLeak, s)
                case .currentBased:
                    put(name, "type", .strings(shape: [], ["CubaLIF"]))
                    uniformArray(name, "tau_syn", p.tauSyn * dt, s)
                    uniformArray(name, "tau_mem", p.tauMem * dt, s)
                    uniformArray(name, "r", p.r, s)
                    uniformArray(name, "v_leak", p.vLeak, s)
                    uniformArray(name, "w_in", p.wIn, s)
                }
                uniformArray(name, "v_threshold", p.vThreshold, s)
                uniformArray(name, "v_reset", vReset, s)
            case .readout(_, let leak):
                let s = nirShape(n.shape)
                // Spikes of height h straight into the readout: NIR's spikes are 1, so a Scale.
                let h = height(n.inputs[0])
                if h != 1, let from = edgeFrom {
                    let sc = unique(n.name + "_height")
                    put(sc, "type", .strings(shape: [], ["Scale"]))
                    uniformArray(sc, "scale", h, s)
                    edges.append((from, sc))
                    edgeFrom = sc
                }
                if let p = leak, let from = edgeFrom {
                    let li = unique(n.name + "_li")
                    if p.kind == .currentBased {
                        put(li, "type", .strings(shape: [], ["CubaLI"]))
                        uniformArray(li, "tau_syn", p.tauSyn * dt, s)
                        uniformArray(li, "tau_mem", p.tauMem * dt, s)
                        uniformArray(li, "w_in", p.wIn, s)
                    } else {
                        put(li, "type", .strings(shape: [], ["LI"]))
                        uniformArray(li, "tau", p.tauMem * dt, s)
                    }
                    uniformArray(li, "r", p.r, s)
                    uniformArray(li, "v_leak", p.vLeak, s)
                    edges.append((from, li))
                    edgeFrom = li
                }
                put(name, "type", .strings(shape: [], ["Output"]))
                put(name, "shape", .ints(shape: [s.count], s.map(Int64.init)))
            default:
                refuse(n, "op '\(n.op.rawValue)' has no NIR counterpart snnc writes",
                       n.op == .asn || n.op == .relu ? ["NIR has no adaptive spiking neuron; `snnc convert --to if` makes the rate-coded IF network"] : [])
                continue
            }
            if let from = edgeFrom { edges.append((from, name)) }
        }
        if !problems.isEmpty { return .failure(DiagnosticsError(problems)) }
        out.append(("/node/edges", .strings(shape: [edges.count, 2], edges.flatMap { [$0.0, $0.1] })))
        return .success((out, convention))
    }
}
