// NIR import (Docs/nir.md): a graph in the Neuromorphic Intermediate Representation (an HDF5
// file, NIR 1.0.x: `version`, and a `node` group of type NIRGraph with `nodes/<name>/…` and an
// `edges` string array) becomes the same IR a model file gives, through the loader's own graph
// checks and shape inference (ModelLoader.assemble). NIR's continuous-time neurons are
// discretised at a model step `dt` (one model step per chip step): τ in steps = τ / dt, and the
// reset rule follows a convention — the framework that wrote the file — since NIR's own rule
// (reset to v_reset) is not what every writer means (snnTorch exports a subtractive reset as
// v_reset 0). NIR is channels-first; snnc is channels-last: the input shape is turned once, and
// a Flatten of a C×H×W value is undone by permuting the columns of the dense layer reading it.
import SNNCIR

/// How to read a NIR file's neurons.
public struct NIROptions: Sendable, Equatable {
    /// Whose meaning a file's parameters have.
    public enum Convention: String, Sendable, CaseIterable {
        /// snnTorch (export_to_nir): τ = dt/(1 − β) with dt = 1e-4 s, r = τ/dt, and its default
        /// subtractive reset acting on the next step's membrane (written as v_reset 0).
        case snntorch
        /// Norse: dt = 1e-3 s, reset to v_reset right after the spike test.
        case norse
        /// NIR's definitions as written: reset to v_reset right after the spike test; dt 1e-4 s
        /// unless given.
        case nir
    }
    public var convention: Convention = .snntorch
    /// The model step in the file's time unit (seconds for every known writer); nil: the
    /// convention's.
    public var dt: Double?

    public init(convention: Convention = .snntorch, dt: Double? = nil) {
        self.convention = convention
        self.dt = dt
    }

    public var step: Double {
        if let dt { return dt }
        switch convention {
        case .snntorch, .nir: return 1e-4
        case .norse: return 1e-3
        }
    }

    var reset: (ResetRule, ResetTiming) {
        switch convention {
        case .snntorch: return (.subtract, .nextStep)
        case .norse, .nir: return (.value, .immediate)
        }
    }
}

public enum NIRLoader {
    /// .nir files larger than this are refused.
    public static let maxFileBytes = 1 << 31
    /// The readout's τ_φ (unused behind IF-family neurons, which an NIR graph holds).
    static let readoutTauPhi = 50.0

    public static func isNIR(_ path: String) -> Bool { path.lowercased().hasSuffix(".nir") }

    public static func load(path: String, displayName: String? = nil, options: NIROptions = NIROptions()) -> LoadResult {
        let shown = displayName ?? path
        var bag = DiagnosticBag(file: shown)
        guard let size = fileSize(path) else {
            bag.error(.fileUnreadable, nil, "cannot open '\(path)': no such file or not readable")
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        guard size <= maxFileBytes else {
            bag.error(.fileTooLarge, nil, "the file is \(size) bytes; snnc reads NIR files up to \(maxFileBytes)")
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        let file: HDF5File
        switch HDF5File.open(path) {
        case .success(let f): file = f
        case .failure(.notHDF5):
            bag.error(.nirParse, nil, "not an HDF5 file; a .nir file is HDF5 (written by nir.write)")
            return LoadResult(model: nil, diagnostics: bag.items)
        case .failure(.unreadable):
            bag.error(.nirParse, nil, "HDF5 cannot read it; the file may be truncated or damaged")
            return LoadResult(model: nil, diagnostics: bag.items)
        case .failure(.libraryFailed(let signal)):
            bag.error(.nirParse, nil, signal == 0 ? "libhdf5 failed on it (stopped, or past \(HDF5File.deadlineSeconds) s); the file is damaged or hostile"
                                                  : "libhdf5 crashed reading it (signal \(signal)); the file is damaged or hostile",
                      notes: ["snnc reads HDF5 in a separate process, so a damaged file cannot take snnc down with it"])
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        var reader = NIRReader(file: file, options: options, bag: bag)
        let nodes = reader.read()
        bag = reader.bag
        guard let nodes, !bag.hasErrors else { return LoadResult(model: nil, diagnostics: bag.items) }
        let name = baseName(path)
        let model = ModelLoader.assemble(nodes: nodes, name: name, file: shown, layouts: Layouts(dense: .outIn, kernel: .oihw), bag: &bag)
        return LoadResult(model: bag.hasErrors ? nil : model, diagnostics: bag.items)
    }

    static func baseName(_ path: String) -> String { modelBaseName(path, dropping: ".nir") }
}

struct NIRReader {
    let file: HDF5File
    let options: NIROptions
    var bag: DiagnosticBag
    var nodes: [Node] = []
    var values: [String: ImportedValue] = [:]

    init(file: HDF5File, options: NIROptions, bag: DiagnosticBag) {
        self.file = file
        self.options = options
        self.bag = bag
    }

    static let supportedTypes: Set<String> = ["Input", "Output", "Affine", "Linear", "Scale", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d",
                                              "IF", "LIF", "CubaLIF", "Threshold", "I", "LI", "CubaLI"]

    mutating func read() -> [Node]? {
        if let v = file.strings("/version")?.values.first {
            if !v.hasPrefix("1.") {
                bag.warning(.nirVersion, nil, "written by NIR \(v); snnc reads NIR 1.0.x and may misread it")
            }
        } else {
            bag.warning(.nirVersion, nil, "the file has no 'version' dataset; read as NIR 1.0")
        }
        guard file.kind("/node") == .group, str("/node/type") == "NIRGraph" else {
            bag.error(.nirParse, nil, "no graph: a NIR file holds a group 'node' whose 'type' is \"NIRGraph\"")
            return nil
        }
        guard let names = file.children("/node/nodes") else {
            bag.error(.nirParse, nil, "the graph has no readable 'nodes' group")
            return nil
        }
        // Node types first: every unknown or unsupported one is reported.
        var types: [String: String] = [:]
        for n in names {
            guard let t = str("/node/nodes/\(n)/type") else {
                bag.error(.nirParse, "NIR node '\(n)'", "has no 'type' string")
                continue
            }
            types[n] = t
            if !Self.supportedTypes.contains(t) {
                var notes = ["snnc maps: " + Self.supportedTypes.sorted().joined(separator: ", ")]
                if t == "NIRGraph" { notes.insert("nested graphs are not flattened yet", at: 0) }
                bag.error(.nirNodeUnsupported, "NIR node '\(n)'", "type \(t) is not supported", notes: notes)
            }
        }
        guard let edgeData = file.strings("/node/edges"), edgeData.values.count % 2 == 0, edgeData.shape.count == 2 || edgeData.values.isEmpty else {
            bag.error(.nirParse, nil, "the graph's 'edges' is not an N×2 array of node names")
            return nil
        }
        if bag.hasErrors { return nil }
        var edges: [(String, String)] = []
        for k in stride(from: 0, to: edgeData.values.count, by: 2) {
            let (a, b) = (edgeData.values[k], edgeData.values[k + 1])
            guard types[a] != nil, types[b] != nil else {
                bag.error(.nirGraph, nil, "edge \(a) → \(b) names a node that is not in the graph")
                return nil
            }
            edges.append((a, b))
        }
        guard let order = topologicalOrder(names, edges) else { return nil }
        let inputsOf = Dictionary(grouping: edges, by: { $0.1 }).mapValues { $0.map(\.0) }
        consumers = Dictionary(grouping: edges, by: { $0.0 }).mapValues { $0.map { types[$0.1]! } }
        let inputNodes = names.filter { types[$0] == "Input" }
        guard inputNodes.count == 1 else {
            bag.error(.nirGraph, nil, "the graph has \(inputNodes.count) Input nodes; snnc reads graphs with exactly one")
            return nil
        }
        var sawOutput = false
        for n in order {
            let ins = inputsOf[n] ?? []
            let t = types[n]!
            if t != "Input" && ins.isEmpty {
                bag.error(.nirGraph, "NIR node '\(n)'", "nothing feeds it")
                return nil
            }
            if t == "Output" {
                guard !sawOutput else {
                    bag.error(.nirGraph, "NIR node '\(n)'", "a second Output; snnc classifies from one")
                    return nil
                }
                sawOutput = true
            }
            guard map(n, type: t, inputs: ins) else { return nil }
        }
        guard sawOutput else {
            bag.error(.nirGraph, nil, "the graph has no Output node")
            return nil
        }
        return nodes
    }

    // MARK: reading parameters

    func str(_ path: String) -> String? { file.strings(path)?.values.first }

    /// A parameter array (nil and a diagnostic where it is missing or not numeric).
    mutating func array(_ node: String, _ key: String) -> (shape: [Int], values: [Double])? {
        guard let a = file.numbers("/node/nodes/\(node)/\(key)") else {
            bag.error(.nirParse, "NIR node '\(node)'", "parameter '\(key)' is missing or not numeric")
            return nil
        }
        if a.shape.contains(0) {
            bag.error(.nirParameter, "NIR node '\(node)'", "parameter '\(key)' has an empty dimension (shape \(a.shape))")
            return nil
        }
        if let bad = a.values.firstIndex(where: { !$0.isFinite }) {
            bag.error(.tensorNonFinite, "NIR node '\(node)'", "\(key)[\(bad)] is \(a.values[bad])")
            return nil
        }
        return a
    }

    func has(_ node: String, _ key: String) -> Bool { file.kind("/node/nodes/\(node)/\(key)") == .dataset }

    /// A per-neuron parameter that snnc holds per layer: every element must be the same.
    mutating func uniform(_ node: String, _ key: String, default value: Double? = nil) -> Double? {
        if value != nil && !has(node, key) { return value }
        guard let a = array(node, key) else { return nil }
        guard let first = a.values.first else {
            bag.error(.nirParse, "NIR node '\(node)'", "parameter '\(key)' is empty")
            return nil
        }
        if let other = a.values.first(where: { $0 != first }) {
            bag.error(.nirParameter, "NIR node '\(node)'", "\(key) differs between neurons (\(first) and \(other)); snnc's layers share one value per parameter")
            return nil
        }
        return first
    }

    /// A pair parameter (one number, or [a, b]) of whole numbers in min…2^20.
    mutating func pair(_ node: String, _ key: String, default d: (Int, Int), min: Int) -> (Int, Int)? {
        if !has(node, key) { return d }
        guard let a = array(node, key) else { return nil }
        let v = a.values
        guard v.count == 1 || v.count == 2, v.allSatisfy({ $0 >= Double(min) && $0 <= 1_048_576 && $0 == $0.rounded() }) else {
            bag.error(.nirParameter, "NIR node '\(node)'", "\(key) must be one or two whole numbers in \(min)…2^20, found \(v.prefix(4))")
            return nil
        }
        return (Int(v[0]), Int(v[v.count - 1]))
    }

    // MARK: mapping

    mutating func add(_ name: String, _ op: OpKind, _ inputs: [String], _ attrs: NodeAttributes) {
        nodes.append(Node(name: name, op: op, inputs: inputs, attributes: attrs))
    }

    /// A free name for an extra snnc node made for NIR node `base`.
    func extraName(_ base: String, _ suffix: String) -> String {
        var name = base + "." + suffix
        var k = 2
        while values[name] != nil || nodes.contains(where: { $0.name == name }) {
            name = base + "." + suffix + "\(k)"
            k += 1
        }
        return name
    }

    /// The value feeding node `n`: its one input, or the sum of several (an `add` node).
    mutating func input(_ n: String, _ ins: [String]) -> ImportedValue? {
        let vs = ins.compactMap { values[$0] }
        guard vs.count == ins.count else { return nil }
        if vs.count == 1 { return vs[0] }
        guard vs.allSatisfy({ $0.shape == vs[0].shape && $0.flattenedFrom == vs[0].flattenedFrom }) else {
            bag.error(.nirGraph, "NIR node '\(n)'", "its inputs \(ins.joined(separator: ", ")) have different shapes \(vs.map(\.shape))")
            return nil
        }
        let sum = extraName(n, "sum")
        add(sum, .add, vs.map(\.node), .add)
        return ImportedValue(node: sum, shape: vs[0].shape, flattenedFrom: vs[0].flattenedFrom)
    }

    mutating func map(_ n: String, type t: String, inputs ins: [String]) -> Bool {
        let obj = "NIR node '\(n)'"
        if t == "Input" {
            guard let s = array(n, "shape") else { return false }
            guard s.values.allSatisfy({ $0 >= 1 && $0 <= Double(1 << 30) && $0 == $0.rounded() }), [1, 2, 3].contains(s.values.count),
                  let total = checkedProduct(s.values.map { Int($0) }), total <= maxTensorElements else {
                bag.error(.nirParameter, obj, "input shape \(s.values) must be [features], [H, W] or [C, H, W] of at most 2^32 values")
                return false
            }
            let shape = s.values.map { Int($0) }
            // [C, H, W] → channels-last [H, W, C]; [H, W] is one channel.
            let irShape = shape.count == 3 ? [shape[1], shape[2], shape[0]] : (shape.count == 2 ? [shape[0], shape[1], 1] : shape)
            add(n, .input, [], .input(shape: irShape))
            values[n] = ImportedValue(node: n, shape: shape.count == 2 ? [1] + shape : shape)
            return true
        }
        guard let x = input(n, ins) else { return false }
        switch t {
        case "Output":
            // The class is the largest integrated input: behind a spiking layer, its spike count.
            let leak = ins.compactMap { leakyReadouts[$0] }.first
            add(n, .readout, [x.node], .readout(tauPhi: NIRLoader.readoutTauPhi, leak: leak))
            values[n] = ImportedValue(node: n, shape: x.shape)
        case "Affine", "Linear":
            guard let w = array(n, "weight") else { return false }
            guard w.shape.count == 2 else {
                bag.error(.nirParameter, obj, "weight must be 2-D [out, in], found \(w.shape)")
                return false
            }
            let (outF, inF) = (w.shape[0], w.shape[1])
            let flat = x.shape.reduce(1, *)
            guard x.shape.count == 1, flat == inF else {
                bag.error(.nirGraph, obj, "weight [\(outF), \(inF)] does not fit its input of shape \(x.shape)",
                          notes: x.shape.count > 1 ? ["put a Flatten before it"] : [])
                return false
            }
            let weight = channelsLastColumns(w.values, inF: inF, outF: outF, flattenedFrom: x.flattenedFrom)
            var bias: Tensor? = nil
            if t == "Affine" {
                guard let b = array(n, "bias") else { return false }
                guard b.values.count == outF else {
                    bag.error(.nirParameter, obj, "bias has \(b.values.count) values for \(outF) outputs")
                    return false
                }
                bias = Tensor(shape: [outF], values: b.values)
            }
            add(n, .dense, [x.node], .dense(Dense(weight: Tensor(shape: [outF, inF], values: weight), bias: bias, layout: .outIn, inFeatures: inF, outFeatures: outF)))
            values[n] = ImportedValue(node: n, shape: [outF])
        case "Scale":
            guard let s = uniform(n, "scale") else { return false }
            addScale(n, input: x, by: s)
        case "Conv2d":
            guard let w = array(n, "weight") else { return false }
            guard w.shape.count == 4, x.shape.count == 3, w.shape[1] == x.shape[0] else {
                bag.error(.nirGraph, obj, "weight \(w.shape) ([out, in, kh, kw]) does not fit its input of shape \(x.shape) ([C, H, W])")
                return false
            }
            if has(n, "groups"), let g = uniform(n, "groups"), g != 1 {
                bag.error(.nirParameter, obj, "groups = \(g); grouped and depthwise convolutions are not in model format v1")
                return false
            }
            guard let stride = pair(n, "stride", default: (1, 1), min: 1), let dilation = pair(n, "dilation", default: (1, 1), min: 1) else { return false }
            let padding: PaddingSpec
            if let p = str("/node/nodes/\(n)/padding") {
                guard p == "same" || p == "valid" else {
                    bag.error(.nirParameter, obj, "padding \"\(p)\" must be \"same\", \"valid\" or numbers")
                    return false
                }
                padding = p == "same" ? .same : .valid
            } else {
                guard let p = pair(n, "padding", default: (0, 0), min: 0) else { return false }
                padding = .explicit(Padding2D(top: p.0, bottom: p.0, left: p.1, right: p.1))
            }
            var bias: Tensor? = nil
            if has(n, "bias") {
                guard let b = array(n, "bias"), b.values.count == w.shape[0] || b.values.count == 1 else {
                    bag.error(.nirParameter, obj, "bias must have one value per output channel (\(w.shape[0]))")
                    return false
                }
                // nir.Conv2d writes bias 0 (a scalar) for none.
                bias = Tensor(shape: [w.shape[0]], values: b.values.count == 1 ? [Double](repeating: b.values[0], count: w.shape[0]) : b.values)
            }
            let conv = Conv2D(weight: Tensor(shape: w.shape, values: w.values), bias: bias, layout: .oihw, outChannels: w.shape[0], inChannels: w.shape[1],
                              kernelH: w.shape[2], kernelW: w.shape[3], strideH: stride.0, strideW: stride.1, dilationH: dilation.0, dilationW: dilation.1,
                              paddingSpec: padding, padding: .zero)
            add(n, .conv2d, [x.node], .conv2d(conv))
            // The output size, as shape inference will find it (checked again there).
            let (h, wd) = (x.shape[1], x.shape[2])
            var oh = (h + stride.0 - 1) / stride.0, ow = (wd + stride.1 - 1) / stride.1  // "same"
            if case .same = padding {} else {
                let p: Padding2D
                if case .explicit(let e) = padding { p = e } else { p = .zero }
                guard let a = ShapeInference.outputSize(input: h, window: w.shape[2], stride: stride.0, dilation: dilation.0, padBefore: p.top, padAfter: p.bottom),
                      let b = ShapeInference.outputSize(input: wd, window: w.shape[3], stride: stride.1, dilation: dilation.1, padBefore: p.left, padAfter: p.right) else {
                    bag.error(.nirGraph, obj, "the kernel does not fit the [\(h), \(wd)] input")
                    return false
                }
                (oh, ow) = (a, b)
            }
            values[n] = ImportedValue(node: n, shape: [w.shape[0], oh, ow])
        case "SumPool2d", "AvgPool2d":
            guard x.shape.count == 3 else {
                bag.error(.nirGraph, obj, "pooling needs a [C, H, W] input, found \(x.shape)")
                return false
            }
            guard let k = pair(n, "kernel_size", default: (1, 1), min: 1), let stride = pair(n, "stride", default: k, min: 1),
                  let p = pair(n, "padding", default: (0, 0), min: 0) else { return false }
            guard p == (0, 0) else {
                bag.error(.nirParameter, obj, "padding \(p); snnc pools without padding (padded positions would change the sum)")
                return false
            }
            let pool = Pool2D(sizeH: k.0, sizeW: k.1, strideH: stride.0, strideW: stride.1, paddingSpec: .valid, padding: .zero)
            guard let oh = ShapeInference.outputSize(input: x.shape[1], window: k.0, stride: stride.0, dilation: 1, padBefore: 0, padAfter: 0),
                  let ow = ShapeInference.outputSize(input: x.shape[2], window: k.1, stride: stride.1, dilation: 1, padBefore: 0, padAfter: 0) else {
                bag.error(.nirGraph, obj, "the \(k.0)×\(k.1) window does not fit the [\(x.shape[1]), \(x.shape[2])] input")
                return false
            }
            let pooled = ImportedValue(node: t == "AvgPool2d" ? n : extraName(n, "avg"), shape: [x.shape[0], oh, ow])
            add(pooled.node, .avgpool2d, [x.node], .avgpool2d(pool))
            if t == "SumPool2d" {
                addScale(n, input: pooled, by: Double(k.0 * k.1))
            } else {
                values[n] = pooled
            }
        case "Flatten":
            let total = x.shape.reduce(1, *)
            add(n, .flatten, [x.node], .flatten)
            values[n] = ImportedValue(node: n, shape: [total], flattenedFrom: x.shape.count == 3 ? x.shape : nil)
        case "IF", "LIF", "CubaLIF", "Threshold", "I":
            guard let p = neuron(n, type: t) else { return false }
            if t == "I" {
                // An integrator feeding the Output is the readout's own dynamics (v ← v + x;
                // a positive r does not change the largest); elsewhere it has no counterpart.
                guard consumers[n] ?? [] == ["Output"] else {
                    bag.error(.nirNodeUnsupported, obj, "an Integrator (I) is mapped only where it feeds the Output (the readout integrates)")
                    return false
                }
                guard let r = uniform(n, "r"), r > 0 else {
                    bag.error(.nirParameter, obj, "an Integrator read out needs r > 0")
                    return false
                }
                _ = p
                values[n] = x
                return true
            }
            let op: OpKind = t == "IF" ? .integrateAndFire : (t == "CubaLIF" ? .cubaLIF : .lif)
            add(n, op, [x.node], .lif(p))
            values[n] = ImportedValue(node: n, shape: x.shape, flattenedFrom: x.flattenedFrom)
        case "LI", "CubaLI":
            // A leaky integrator feeding the Output is the readout's own dynamics (it never fires).
            guard consumers[n] ?? [] == ["Output"] else {
                bag.error(.nirNodeUnsupported, obj, "a leaky integrator (\(t)) is mapped only where it feeds the Output (the readout's dynamics)")
                return false
            }
            let dt = options.step
            let p: LIFParameters
            if t == "LI" {
                guard let tau = uniform(n, "tau"), let r = uniform(n, "r"), let leak = uniform(n, "v_leak") else { return false }
                p = LIFParameters(kind: .leaky, vThreshold: 1, reset: .subtract, r: r, tauMem: tau / dt, vLeak: leak)
            } else {
                guard let ts = uniform(n, "tau_syn"), let tm = uniform(n, "tau_mem"), let r = uniform(n, "r"), let leak = uniform(n, "v_leak"),
                      let w = uniform(n, "w_in", default: 1) else { return false }
                p = LIFParameters(kind: .currentBased, vThreshold: 1, reset: .subtract, r: r, tauMem: tm / dt, vLeak: leak, tauSyn: ts / dt, wIn: w)
            }
            guard checked(p, obj) != nil else { return false }
            guard p.r > 0 else {
                bag.error(.nirParameter, obj, "a leaky readout needs r > 0 (the class is its largest membrane)")
                return false
            }
            leakyReadouts[n] = p
            values[n] = x
        default:
            bag.error(.nirNodeUnsupported, obj, "type \(t) is not supported")
            return false
        }
        return true
    }

    /// LI and CubaLI nodes feeding the Output: the readout's leaky dynamics, by node name.
    var leakyReadouts: [String: LIFParameters] = [:]

    /// Per node, the types of the nodes it feeds.
    var consumers: [String: [String]] = [:]

    /// A per-channel scale as a batch-norm with mean 0, variance 1, ε 0 (exact: y = s·x).
    mutating func addScale(_ n: String, input x: ImportedValue, by s: Double) {
        let c = x.shape.count == 3 ? x.shape[0] : 1
        let ones = Tensor(shape: [c], values: [Double](repeating: 1, count: c))
        let zeros = Tensor(shape: [c], values: [Double](repeating: 0, count: c))
        let bn = BatchNorm(gamma: Tensor(shape: [c], values: [Double](repeating: s, count: c)), beta: zeros, mean: zeros, variance: ones, eps: 0)
        add(n, .batchnorm, [x.node], .batchnorm(bn))
        values[n] = ImportedValue(node: n, shape: x.shape, flattenedFrom: x.flattenedFrom)
    }

    /// An IF-family node's parameters, discretised at the model step.
    mutating func neuron(_ n: String, type t: String) -> LIFParameters? {
        let obj = "NIR node '\(n)'"
        let dt = options.step
        let (rule, timing) = options.reset
        switch t {
        case "I":
            return LIFParameters(kind: .integrateAndFire, vThreshold: 1, reset: .subtract)
        case "Threshold":
            // z = H(x − θ), no state: a LIF whose membrane is this step's input (τ one step).
            guard let th = uniform(n, "threshold") else { return nil }
            return checked(LIFParameters(kind: .leaky, vThreshold: th, reset: .value, vReset: min(0, th - 1), r: 1, tauMem: 1), obj)
        case "IF":
            // v̇ = R·I: v ← v + dt·R·x.
            guard let r = uniform(n, "r"), let th = uniform(n, "v_threshold"), let vr = uniform(n, "v_reset", default: 0) else { return nil }
            return checked(LIFParameters(kind: .integrateAndFire, vThreshold: th, reset: rule, resetTiming: timing, vReset: vr, r: r * dt), obj)
        case "LIF":
            guard let tau = uniform(n, "tau"), let r = uniform(n, "r"), let leak = uniform(n, "v_leak"), let th = uniform(n, "v_threshold"),
                  let vr = uniform(n, "v_reset", default: 0) else { return nil }
            return checked(LIFParameters(kind: .leaky, vThreshold: th, reset: rule, resetTiming: timing, vReset: vr, r: r, tauMem: tau / dt, vLeak: leak), obj)
        default:  // CubaLIF
            guard let ts = uniform(n, "tau_syn"), let tm = uniform(n, "tau_mem"), let r = uniform(n, "r"), let leak = uniform(n, "v_leak"),
                  let th = uniform(n, "v_threshold"), let vr = uniform(n, "v_reset", default: 0), let w = uniform(n, "w_in", default: 1) else { return nil }
            return checked(LIFParameters(kind: .currentBased, vThreshold: th, reset: rule, resetTiming: timing, vReset: vr, r: r, tauMem: tm / dt,
                                         vLeak: leak, tauSyn: ts / dt, wIn: w), obj)
        }
    }

    mutating func checked(_ p: LIFParameters, _ obj: String) -> LIFParameters? {
        let problems = p.problems
        for problem in problems {
            bag.error(.nirParameter, obj, problem + " (at dt = \(options.step), convention \(options.convention.rawValue))",
                      notes: ["τ in steps is τ / dt: `--nir-dt` sets the model step in the file's time unit"])
        }
        return problems.isEmpty ? p : nil
    }

    /// The nodes in an order where every edge goes forward; nil (with a diagnostic naming an
    /// edge on the cycle) for a recurrent graph.
    mutating func topologicalOrder(_ names: [String], _ edges: [(String, String)]) -> [String]? {
        var indegree = Dictionary(uniqueKeysWithValues: names.map { ($0, 0) })
        var out: [String: [String]] = [:]
        for (a, b) in edges {
            indegree[b, default: 0] += 1
            out[a, default: []].append(b)
        }
        var ready = names.filter { indegree[$0] == 0 }
        var order: [String] = []
        while !ready.isEmpty {
            let n = ready.removeFirst()
            order.append(n)
            for m in out[n] ?? [] {
                indegree[m]! -= 1
                if indegree[m] == 0 { ready.append(m) }
            }
        }
        if order.count < names.count {
            let stuck = Set(names).subtracting(order)
            let edge = edges.first { stuck.contains($0.0) && stuck.contains($0.1) }
            bag.error(.nirRecurrent, nil, "the graph is recurrent (edge \(edge?.0 ?? "?") → \(edge?.1 ?? "?") closes a cycle through \(stuck.sorted().joined(separator: ", "))); snnc maps feed-forward graphs",
                      notes: ["recurrent connections need a delay the compiler does not model yet"])
            return nil
        }
        return order
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The size of a regular file, nil if it cannot be read.
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(st.st_size)
}
