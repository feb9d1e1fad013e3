// Loading model format v1 (Docs/model-format.md): JSON through json-c, tensors inline or
// memory-mapped from a safetensors file beside the model, then graph checks and shape
// inference. Every independent problem becomes one diagnostic; nothing in a file, however
// broken, may crash or trap.
import HeapModule
import SNNCJSON

public struct LoadResult: Sendable {
    /// nil when any error was found.
    public let model: Model?
    /// Errors and warnings, in the order found.
    public let diagnostics: [Diagnostic]

    public init(model: Model?, diagnostics: [Diagnostic]) {
        self.model = model
        self.diagnostics = diagnostics
    }
}

public enum ModelLoader {
    /// Model JSON files larger than this are refused (an inline 11 M-parameter model is ~200 MB).
    public static let maxModelFileBytes = 1 << 30

    /// A model file's bytes, or nil with `file-too-large` / `file-unreadable` in the bag (every
    /// model reader's first step: JSON here, ONNX in SNNCImport).
    public static func readModelFile(_ path: String, limit: Int, bag: inout DiagnosticBag) -> [UInt8]? {
        do {
            return try readWholeFile(path, limit: limit)
        } catch {
            if case .tooLarge = error { bag.error(.fileTooLarge, nil, "\(error)") } else { bag.error(.fileUnreadable, nil, "\(error)") }
            return nil
        }
    }

    /// Loads and validates the model at `path`. `displayName` is how diagnostics name the file.
    public static func load(path: String, displayName: String? = nil) -> LoadResult {
        let shown = displayName ?? path
        var bag = DiagnosticBag(file: shown)
        guard let bytes = readModelFile(path, limit: maxModelFileBytes, bag: &bag) else { return LoadResult(model: nil, diagnostics: bag.items) }
        return load(bytes: bytes, baseDirectory: directoryOf(path), displayName: shown, bag: bag)
    }

    /// Loads a model from JSON text; `baseDirectory` resolves the weights file.
    public static func load(bytes: [UInt8], baseDirectory: String, displayName: String) -> LoadResult {
        load(bytes: bytes, baseDirectory: baseDirectory, displayName: displayName, bag: DiagnosticBag(file: displayName))
    }

    /// Builds a model from nodes another reader made (ONNX, NIR): the same graph checks
    /// (names, references, cycles, an input) and shape inference as a model file gets.
    /// Diagnostics go to `bag`; nil when any error was found.
    public static func assemble(nodes: [Node], name: String, file: String, layouts: Layouts, bag: inout DiagnosticBag) -> Model? {
        var parser = ModelParser(bag: bag, baseDirectory: "", fileName: file)
        let names = Set(nodes.map(\.name))
        for n in nodes where !n.name.allSatisfy({ nodeNameAllowed.contains($0) }) || n.name.isEmpty {
            parser.bag.error(.nodeNameInvalid, "node '\(n.name)'", "node names may use letters, digits and _ . : / - [ ]")
        }
        let ordered = parser.checkGraph(nodes, knownNames: names, complete: true)
        defer { bag = parser.bag }
        guard let ordered, !parser.bag.hasErrors else { return nil }
        let inferred = ShapeInference.run(ordered, layouts: layouts, bag: &parser.bag)
        return parser.bag.hasErrors ? nil : Model(name: name, file: file, layouts: layouts, nodes: inferred)
    }

    private static func load(bytes: [UInt8], baseDirectory: String, displayName: String, bag: DiagnosticBag) -> LoadResult {
        var bag = bag
        let doc: JSONDocument
        do {
            doc = try JSONDocument.parse(bytes)
        } catch {
            switch error.kind {
            case .empty: bag.error(.jsonEmpty, nil, error.message)
            case .truncated: bag.error(.jsonTruncated, nil, error.message)
            case .tooDeep: bag.error(.jsonTooDeep, nil, error.message)
            case .tooLarge: bag.error(.fileTooLarge, nil, error.message)
            default: bag.error(.jsonSyntax, nil, error.message)
            }
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        var parser = ModelParser(bag: bag, baseDirectory: baseDirectory, fileName: displayName)
        let model = parser.parse(doc.root)
        return LoadResult(model: parser.bag.hasErrors ? nil : model, diagnostics: parser.bag.items)
    }
}

// MARK: - Parser

private let nodeNameAllowed: Set<Character> = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-[]")

struct ModelParser {
    var bag: DiagnosticBag
    let baseDirectory: String
    let fileName: String
    var weights: SafetensorsFile?
    var weightsDeclared = false
    var layoutsValue: JSONValue?
    var layouts = Layouts()
    var asnDefaults: [String: JSONValue] = [:]
    /// The graded ASN every relu becomes (nil until the first relu is read).
    var reluASN: ASNParameters?? = nil
    var readoutDefault: JSONValue?

    init(bag: DiagnosticBag, baseDirectory: String, fileName: String) {
        self.bag = bag
        self.baseDirectory = baseDirectory
        self.fileName = fileName
    }

    static let topLevelKeys: Set<String> = ["format", "version", "name", "layouts", "weights", "defaults", "nodes", "metadata", "comment"]

    mutating func parse(_ root: JSONValue) -> Model? {
        guard root.kind == .object else {
            bag.error(.fieldType, nil, "a model must be a JSON object, found \(root.kind.article)")
            return nil
        }
        for (k, _) in root.members where !Self.topLevelKeys.contains(k) {
            bag.warning(.unknownField, nil, "unknown top-level field '\(k)' is ignored",
                        notes: suggestion(k, Self.topLevelKeys))
        }
        // format / version
        if let f = root["format"] {
            if f.string != "snnc-model" {
                bag.error(.formatUnknown, nil, "field 'format' must be \"snnc-model\", found \(describe(f))")
            }
        } else {
            bag.error(.fieldMissing, nil, "field 'format' is missing; a model file starts with \"format\": \"snnc-model\"")
        }
        if let v = root["version"] {
            if v.int != 1 {
                bag.error(.versionUnsupported, nil, "field 'version' must be 1 (this snnc reads model format v1), found \(describe(v))")
            }
        } else {
            bag.error(.fieldMissing, nil, "field 'version' is missing; expected 1")
        }
        var name = fileName
        if let n = root["name"] {
            if let s = n.string { name = s } else { bag.error(.fieldType, nil, "field 'name' must be a string, found \(n.kind.article)") }
        }
        layoutsValue = root["layouts"]
        parseLayouts()
        parseDefaults(root["defaults"])
        if let w = root["weights"] {
            weightsDeclared = true
            if let s = w.string, !s.isEmpty {
                weights = SafetensorsFile.open(path: resolvePath(s, relativeTo: baseDirectory), displayName: s, bag: &bag)
            } else {
                bag.error(.fieldType, nil, "field 'weights' must name a .safetensors file, found \(describe(w))")
            }
        }
        guard let nodesV = root["nodes"] else {
            bag.error(.fieldMissing, nil, "field 'nodes' is missing; a model is a list of nodes")
            return nil
        }
        guard nodesV.kind == .array else {
            bag.error(.fieldType, nil, "field 'nodes' must be an array, found \(nodesV.kind.article)")
            return nil
        }
        if nodesV.count == 0 {
            bag.error(.graphNoInput, nil, "field 'nodes' is empty; a model needs at least an input node")
            return nil
        }
        var parsed: [Node?] = []
        for (i, nv) in nodesV.elements.enumerated() { parsed.append(parseNode(nv, index: i)) }
        let nodes = parsed.compactMap { $0 }
        guard nodes.count == parsed.count else {
            // Some node is broken: still check the others' references against every name that
            // could be read, so independent problems are all reported.
            checkGraph(nodes, knownNames: declaredNames, complete: !unnamedNode)
            return nil
        }
        guard let ordered = checkGraph(nodes, knownNames: declaredNames, complete: true) else { return nil }
        let inferred = ShapeInference.run(ordered, layouts: layouts, bag: &bag)
        return Model(name: name, file: fileName, layouts: layouts, nodes: inferred,
                     weightsFile: weights?.path)
    }

    // MARK: layouts and defaults

    mutating func parseLayouts() {
        guard let l = layoutsValue else { return }
        guard l.kind == .object else {
            bag.error(.fieldType, nil, "field 'layouts' must be an object, found \(l.kind.article)")
            layoutsValue = nil
            return
        }
        for (k, v) in l.members {
            switch k {
            case "dense":
                if let s = v.string, let d = DenseLayout(rawValue: s) { layouts.dense = d } else {
                    bag.error(.layoutUnknown, nil, "layouts.dense must be \"out_in\" or \"in_out\", found \(describe(v))")
                }
            case "conv_kernel":
                if let s = v.string, let d = KernelLayout(rawValue: s) { layouts.kernel = d } else {
                    bag.error(.layoutUnknown, nil, "layouts.conv_kernel must be \"OIHW\" or \"HWIO\", found \(describe(v))")
                }
            case "activations":
                if v.string != "channels_last" {
                    bag.error(.layoutUnknown, nil, "layouts.activations must be \"channels_last\" (the only activation layout of v1), found \(describe(v))")
                }
            default:
                bag.warning(.unknownField, nil, "unknown field 'layouts.\(k)' is ignored",
                            notes: suggestion(k, ["dense", "conv_kernel", "activations"]))
            }
        }
    }

    var reportedLayouts: Set<String> = []
    /// Names of all nodes whose name could be read (even if the rest of the node is broken).
    var declaredNames: Set<String> = []
    /// True when some node's name could not be read: references cannot then be checked.
    var unnamedNode = false

    mutating func parseDefaults(_ d: JSONValue?) {
        guard let d else { return }
        guard d.kind == .object else {
            bag.error(.fieldType, nil, "field 'defaults' must be an object, found \(d.kind.article)")
            return
        }
        for (k, v) in d.members {
            switch k {
            case "asn":
                guard v.kind == .object else {
                    bag.error(.fieldType, nil, "defaults.asn must be an object, found \(v.kind.article)")
                    continue
                }
                for (pk, pv) in v.members {
                    if Self.asnKeys.contains(pk) { asnDefaults[pk] = pv } else {
                        bag.warning(.unknownField, nil, "unknown field 'defaults.asn.\(pk)' is ignored", notes: suggestion(pk, Self.asnKeys))
                    }
                }
            case "readout":
                guard v.kind == .object else {
                    bag.error(.fieldType, nil, "defaults.readout must be an object, found \(v.kind.article)")
                    continue
                }
                readoutDefault = v["tau_phi"]
            default:
                bag.warning(.unknownField, nil, "unknown field 'defaults.\(k)' is ignored", notes: suggestion(k, ["asn", "readout"]))
            }
        }
    }

    static let asnKeys: Set<String> = ["tau_gamma", "tau_eta", "tau_beta", "tau_phi", "theta0", "m_f", "h", "spike"]

    static let opKeys: [OpKind: Set<String>] = [
        .input: ["shape"],
        .dense: ["weight", "bias", "units"],
        .conv2d: ["weight", "bias", "stride", "padding", "dilation"],
        .batchnorm: ["gamma", "beta", "mean", "var", "eps"],
        .asn: asnKeys,
        .relu: [],
        .maxpool2d: ["size", "stride", "padding"],
        .avgpool2d: ["size", "stride", "padding"],
        .flatten: [],
        .add: [],
        .readout: ["tau_phi", "tau_mem", "tau_syn", "r", "v_leak", "w_in"],
        .integrateAndFire: lifKeys(.integrateAndFire),
        .lif: lifKeys(.leaky),
        .cubaLIF: lifKeys(.currentBased),
    ]

    /// The fields of an `if`, `lif` or `cuba_lif` node.
    static func lifKeys(_ kind: LIFParameters.Kind) -> Set<String> {
        var keys: Set<String> = ["v_threshold", "reset", "reset_timing", "v_reset", "r", "spike_height"]
        if kind != .integrateAndFire { keys.formUnion(["tau_mem", "v_leak"]) }
        if kind == .currentBased { keys.formUnion(["tau_syn", "w_in"]) }
        return keys
    }

    // MARK: nodes

    mutating func parseNode(_ v: JSONValue, index: Int) -> Node? {
        guard v.kind == .object else {
            bag.error(.fieldType, "nodes[\(index)]", "a node must be an object, found \(v.kind.article)")
            unnamedNode = true
            return nil
        }
        guard let nameV = v["name"] else {
            bag.error(.fieldMissing, "nodes[\(index)]", "field 'name' is missing")
            unnamedNode = true
            return nil
        }
        guard let name = nameV.string else {
            bag.error(.fieldType, "nodes[\(index)]", "field 'name' must be a string, found \(nameV.kind.article)")
            unnamedNode = true
            return nil
        }
        let obj = "node '\(name)'"
        declaredNames.insert(name)
        if name.isEmpty || name.count > 256 || !name.allSatisfy({ nodeNameAllowed.contains($0) }) {
            bag.error(.nodeNameInvalid, "nodes[\(index)]",
                      "node name \(describe(nameV)) must be 1–256 characters of letters, digits and _ . : / - [ ]")
            return nil
        }
        guard let opV = v["op"] else {
            bag.error(.fieldMissing, obj, "field 'op' is missing")
            return nil
        }
        guard let opName = opV.string else {
            bag.error(.fieldType, obj, "field 'op' must be a string, found \(opV.kind.article)")
            return nil
        }
        guard let op = OpKind(rawValue: opName) else {
            bag.error(.opUnknown, obj, "unknown op '\(opName)'",
                      notes: suggestion(opName, Set(OpKind.allCases.map(\.rawValue))) + ["ops of v1: " + OpKind.allCases.map(\.rawValue).joined(separator: ", ")])
            return nil
        }
        let allowed = Self.opKeys[op]!.union(["name", "op", "inputs", "comment"])
        for (k, _) in v.members where !allowed.contains(k) {
            bag.warning(.unknownField, obj, "field '\(k)' is not used by op '\(op.rawValue)' and is ignored", notes: suggestion(k, allowed))
        }
        // inputs
        var inputs: [String] = []
        if let iv = v["inputs"] {
            guard iv.kind == .array else {
                bag.error(.fieldType, obj, "field 'inputs' must be an array of node names, found \(iv.kind.article)")
                return nil
            }
            for (j, e) in iv.elements.enumerated() {
                guard let s = e.string else {
                    bag.error(.fieldType, obj, "inputs[\(j)] must be a node name (string), found \(e.kind.article)")
                    return nil
                }
                inputs.append(s)
            }
        } else if op != .input {
            bag.error(.fieldMissing, obj, "field 'inputs' is missing; op '\(op.rawValue)' takes its input from another node")
            return nil
        }
        let expected: ClosedRange<Int>
        switch op {
        case .input: expected = 0...0
        case .add: expected = 2...Int.max
        default: expected = 1...1
        }
        if !expected.contains(inputs.count) {
            let want = op == .input ? "no inputs" : (op == .add ? "at least 2 inputs" : "exactly 1 input")
            bag.error(.inputCount, obj, "op '\(op.rawValue)' takes \(want), found \(inputs.count)")
            return nil
        }
        guard let attrs = parseAttributes(op, v, obj: obj) else { return nil }
        return Node(name: name, op: op, inputs: inputs, attributes: attrs)
    }

    mutating func parseAttributes(_ op: OpKind, _ v: JSONValue, obj: String) -> NodeAttributes? {
        switch op {
        case .input:
            guard let sv = v["shape"] else {
                bag.error(.fieldMissing, obj, "field 'shape' is missing; an input is [features] or [height, width, channels]")
                return nil
            }
            guard let shape = intArray(sv, field: "shape", obj: obj) else { return nil }
            guard shape.count == 1 || shape.count == 3 else {
                bag.error(.rankMismatch, obj, "input shape \(formatShape(shape)) must be [features] or [height, width, channels]")
                return nil
            }
            guard checkShape(shape, what: "input shape", obj: obj) else { return nil }
            return .input(shape: shape)
        case .dense:
            requireLayoutOnce("dense", node: obj)
            let w = requiredTensor(v, "weight", obj: obj)
            let b = optionalTensor(v, "bias", obj: obj)
            var units: Int? = nil
            if let u = v["units"] {
                if let i = u.int, i >= 1 { units = i } else {
                    bag.error(.fieldValue, obj, "field 'units' must be a positive integer, found \(describe(u))")
                    return nil
                }
            }
            guard let w, b.ok else { return nil }
            guard w.shape.count == 2 else {
                bag.error(.rankMismatch, obj, "weight must be 2-D (\(layouts.dense.rawValue)), found shape \(formatShape(w.shape))")
                return nil
            }
            let (outF, inF) = layouts.dense == .outIn ? (w.shape[0], w.shape[1]) : (w.shape[1], w.shape[0])
            if let units, units != outF {
                bag.error(.shapeMismatch, obj, "field 'units' is \(units) but weight \(formatShape(w.shape)) (\(layouts.dense.rawValue)) has \(outF) outputs")
                return nil
            }
            if let bias = b.tensor, bias.shape != [outF] {
                bag.error(.shapeMismatch, obj, "bias is \(formatShape(bias.shape)) but the layer has \(outF) outputs; expected [\(outF)]")
                return nil
            }
            return .dense(Dense(weight: w, bias: b.tensor, layout: layouts.dense, inFeatures: inF, outFeatures: outF))
        case .conv2d:
            requireLayoutOnce("conv_kernel", node: obj)
            let w = requiredTensor(v, "weight", obj: obj)
            let b = optionalTensor(v, "bias", obj: obj)
            let stride = pair(v["stride"], field: "stride", obj: obj, default: (1, 1), min: 1)
            let dilation = pair(v["dilation"], field: "dilation", obj: obj, default: (1, 1), min: 1)
            let padding = paddingSpec(v["padding"], obj: obj, allowExplicit: true)
            guard let w, b.ok, let stride, let dilation, let padding else { return nil }
            guard w.shape.count == 4 else {
                bag.error(.rankMismatch, obj, "weight must be 4-D (\(layouts.kernel.rawValue)), found shape \(formatShape(w.shape))")
                return nil
            }
            let s = w.shape
            let (o, i, kh, kw) = layouts.kernel == .oihw ? (s[0], s[1], s[2], s[3]) : (s[3], s[2], s[0], s[1])
            if let bias = b.tensor, bias.shape != [o] {
                bag.error(.shapeMismatch, obj, "bias is \(formatShape(bias.shape)) but the kernel has \(o) output channels; expected [\(o)]")
                return nil
            }
            return .conv2d(Conv2D(weight: w, bias: b.tensor, layout: layouts.kernel, outChannels: o, inChannels: i,
                                  kernelH: kh, kernelW: kw, strideH: stride.0, strideW: stride.1,
                                  dilationH: dilation.0, dilationW: dilation.1, paddingSpec: padding, padding: .zero))
        case .batchnorm:
            let g = requiredTensor(v, "gamma", obj: obj)
            let be = requiredTensor(v, "beta", obj: obj)
            let m = requiredTensor(v, "mean", obj: obj)
            let va = requiredTensor(v, "var", obj: obj)
            let eps = number(v["eps"], field: "eps", obj: obj, required: true, check: { $0 >= 0 }, rule: "≥ 0")
            guard let g, let be, let m, let va, let eps else { return nil }
            var ok = true
            for (n, t) in [("beta", be), ("mean", m), ("var", va)] where t.shape != g.shape {
                bag.error(.shapeMismatch, obj, "\(n) is \(formatShape(t.shape)) but gamma is \(formatShape(g.shape)); all four must be [channels]")
                ok = false
            }
            if g.shape.count != 1 {
                bag.error(.rankMismatch, obj, "gamma must be 1-D [channels], found \(formatShape(g.shape))")
                ok = false
            }
            if ok {
                var bad: (Int, Double)? = nil
                va.storage.forEach { idx, x in
                    if x < 0 || x + eps <= 0 { bad = (idx, x); return false }
                    return true
                }
                if let bad {
                    bag.error(.paramRange, obj, "var[\(bad.0)] is \(bad.1); a variance must be ≥ 0 and var + eps > 0")
                    ok = false
                }
            }
            guard ok else { return nil }
            return .batchnorm(BatchNorm(gamma: g, beta: be, mean: m, variance: va, eps: eps))
        case .asn:
            return parseASN(v, obj: obj).map { .asn($0) }
        case .relu:
            // Checked once: every relu shares defaults.asn, so a bad value is reported once.
            if reluASN == nil { reluASN = .some(reluAsGradedASN(obj: obj)) }
            return .relu(reluASN!)
        case .maxpool2d, .avgpool2d:
            guard let sizeV = v["size"] else {
                bag.error(.fieldMissing, obj, "field 'size' is missing; give the pooling window, e.g. 2 or [2, 2]")
                return nil
            }
            let size = pair(sizeV, field: "size", obj: obj, default: (1, 1), min: 1)
            guard let size else { return nil }
            let stride = pair(v["stride"], field: "stride", obj: obj, default: size, min: 1)
            // Explicit padding for max pooling only: padded positions never win a max, while an
            // average would need a rule for its divisor (windows are clipped to the input).
            let padding = paddingSpec(v["padding"], obj: obj, allowExplicit: op == .maxpool2d)
            guard let stride, let padding else { return nil }
            let p = Pool2D(sizeH: size.0, sizeW: size.1, strideH: stride.0, strideW: stride.1, paddingSpec: padding, padding: .zero)
            return op == .maxpool2d ? .maxpool2d(p) : .avgpool2d(p)
        case .flatten:
            return .flatten
        case .add:
            return .add
        case .integrateAndFire, .lif, .cubaLIF:
            return parseLIF(op, v, obj: obj).map { .lif($0) }
        case .readout:
            let tv = v["tau_phi"] ?? readoutDefault
            guard let tv else {
                bag.error(.fieldMissing, obj, "field 'tau_phi' is missing (neither the node nor defaults.readout gives it)",
                          notes: ["the paper smooths the readout with tau_phi = 50 ms"])
                return nil
            }
            guard let t = number(tv, field: "tau_phi", obj: obj, required: true, check: { $0 > 0 }, rule: "> 0") else { return nil }
            // A leaky readout (NIR's LI: tau_mem; CubaLI: tau_mem and tau_syn), else none.
            guard v["tau_mem"] != nil || v["tau_syn"] != nil else {
                for k in ["r", "v_leak", "w_in"] where v[k] != nil {
                    bag.error(.fieldValue, obj, "field '\(k)' belongs to a leaky readout, which needs 'tau_mem'")
                    return nil
                }
                return .readout(tauPhi: t)
            }
            func num(_ key: String, _ fallback: Double?) -> Double? {
                guard v[key] != nil || fallback == nil else { return fallback }
                return number(v[key], field: key, obj: obj, required: true, check: { $0.isFinite }, rule: "finite")
            }
            let cuba = v["tau_syn"] != nil
            guard let tm = num("tau_mem", nil), let r = num("r", 1), let vl = num("v_leak", 0), let w = num("w_in", 1),
                  let ts = cuba ? num("tau_syn", nil) : .infinity else { return nil }
            let leak = LIFParameters(kind: cuba ? .currentBased : .leaky, vThreshold: 1, reset: .subtract, r: r, tauMem: tm, vLeak: vl, tauSyn: ts, wIn: w)
            for problem in leak.problems { bag.error(.paramRange, obj, problem) }
            guard leak.problems.isEmpty else { return nil }
            guard leak.r > 0 else {
                bag.error(.paramRange, obj, "a leaky readout needs r > 0 (the class is its largest membrane)")
                return nil
            }
            return .readout(tauPhi: t, leak: leak)
        }
    }

    mutating func requireLayoutOnce(_ key: String, node: String) {
        guard !reportedLayouts.contains(key) else { return }
        if let l = layoutsValue, l[key] != nil { return }
        reportedLayouts.insert(key)
        let example = key == "dense" ? "\"out_in\" (PyTorch) or \"in_out\" (Keras)" : "\"OIHW\" (PyTorch) or \"HWIO\" (Keras)"
        bag.error(.fieldMissing, node, "the file does not state layouts.\(key), so this node's weights cannot be read",
                  notes: ["add \"layouts\": {\"\(key)\": \(example)}"])
    }

    /// The numeric ASN fields and their sign rules (the ranges are `ASNParameters.problems`).
    static let asnNumberRules: [(key: String, check: @Sendable (Double) -> Bool, rule: String)] = [
        ("tau_gamma", { $0 > 0 }, "> 0 ms"), ("tau_eta", { $0 > 0 }, "> 0 ms"),
        ("tau_beta", { $0 > 0 }, "> 0 ms"), ("tau_phi", { $0 > 0 }, "> 0 ms"),
        ("theta0", { $0 > 0 }, "> 0"), ("m_f", { $0 >= 0 }, "≥ 0"),
    ]

    mutating func parseASN(_ v: JSONValue, obj: String) -> ASNParameters? {
        func value(_ key: String) -> JSONValue? { v[key] ?? asnDefaults[key] }
        var missing: [String] = []
        var ok = true
        var nums: [String: Double] = [:]
        for (key, check, rule) in Self.asnNumberRules {
            guard let jv = value(key) else { missing.append(key); continue }
            if let d = number(jv, field: key, obj: obj, required: true, check: check, rule: rule) { nums[key] = d } else { ok = false }
        }
        var h = SpikeHeight.normalize
        if let hv = value("h") {
            if hv.string == "normalize" {
                h = .normalize
            } else if hv.isNumber {
                if let d = number(hv, field: "h", obj: obj, required: true, check: { $0 > 0 }, rule: "> 0") { h = .value(d) } else { ok = false }
            } else {
                bag.error(.fieldType, obj, "field 'h' must be a positive number or \"normalize\", found \(describe(hv))")
                ok = false
            }
        } else {
            missing.append("h")
        }
        var spike = SpikeMode.binary
        if let sv = value("spike") {
            if let s = sv.string, let m = SpikeMode(rawValue: s) { spike = m } else {
                bag.error(.fieldValue, obj, "field 'spike' must be \"binary\" or \"graded\", found \(describe(sv))")
                ok = false
            }
        }
        if !missing.isEmpty {
            bag.error(.asnParamMissing, obj, "ASN parameter\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) not given by the node or defaults.asn",
                      notes: ["the paper uses tau_gamma 15, tau_eta 50, tau_beta 50, tau_phi 5 (2.5 in the authors' code), theta0 = m_f, h \"normalize\""])
            ok = false
        }
        guard ok else { return nil }
        let p = ASNParameters(tauGamma: nums["tau_gamma"]!, tauEta: nums["tau_eta"]!, tauBeta: nums["tau_beta"]!,
                              tauPhi: nums["tau_phi"]!, theta0: nums["theta0"]!, mf: nums["m_f"]!, h: h, spike: spike)
        for problem in p.problems { bag.error(.paramRange, obj, problem) }
        return p.problems.isEmpty ? p : nil
    }

    /// An `if`, `lif` or `cuba_lif` node: every field on the node itself (no defaults), the
    /// ranges of `LIFParameters.problems`.
    mutating func parseLIF(_ op: OpKind, _ v: JSONValue, obj: String) -> LIFParameters? {
        let kind: LIFParameters.Kind = op == .integrateAndFire ? .integrateAndFire : (op == .lif ? .leaky : .currentBased)
        var ok = true
        func num(_ key: String, required: Bool) -> Double?? {
            guard v[key] != nil || required else { return .some(nil) }
            let d = number(v[key], field: key, obj: obj, required: true, check: { _ in true }, rule: "finite")
            if d == nil { ok = false }
            return d.map { .some($0) }
        }
        let threshold = num("v_threshold", required: true)
        let tauMem = kind == .integrateAndFire ? .some(nil) : num("tau_mem", required: true)
        let tauSyn = kind == .currentBased ? num("tau_syn", required: true) : .some(nil)
        let vReset = num("v_reset", required: false), r = num("r", required: false), vLeak = num("v_leak", required: false)
        let wIn = num("w_in", required: false), height = num("spike_height", required: false)
        var reset = ResetRule.subtract
        if let rv = v["reset"] {
            if let s = rv.string, let rule = ResetRule(rawValue: s) { reset = rule } else {
                bag.error(.fieldValue, obj, "field 'reset' must be \"subtract\" (v ← v − v_threshold) or \"value\" (v ← v_reset), found \(describe(rv))")
                ok = false
            }
        } else {
            bag.error(.fieldMissing, obj, "field 'reset' is missing; say what a spike does to the membrane",
                      notes: ["\"subtract\": v ← v − v_threshold (rate-coded conversion, snnTorch's default); \"value\": v ← v_reset (NIR, Norse)"])
            ok = false
        }
        var timing = ResetTiming.immediate
        if let tv = v["reset_timing"] {
            if let s = tv.string, let t = ResetTiming(rawValue: s) { timing = t } else {
                bag.error(.fieldValue, obj, "field 'reset_timing' must be \"immediate\" (after the spike test) or \"next_step\" (on the next step's membrane, as snnTorch), found \(describe(tv))")
                ok = false
            }
        }
        guard ok, let t = threshold ?? nil else { return nil }
        let p = LIFParameters(kind: kind, vThreshold: t, reset: reset, resetTiming: timing, vReset: (vReset ?? nil) ?? 0, r: (r ?? nil) ?? 1,
                              tauMem: (tauMem ?? nil) ?? .infinity, vLeak: (vLeak ?? nil) ?? 0, tauSyn: (tauSyn ?? nil) ?? .infinity,
                              wIn: (wIn ?? nil) ?? 1, spikeHeight: (height ?? nil) ?? 1)
        for problem in p.problems { bag.error(.paramRange, obj, problem) }
        return p.problems.isEmpty ? p : nil
    }

    /// The graded ASN a relu node becomes, from `defaults.asn` alone; nil if incomplete (a plain
    /// ANN needs none; the spiking paths then say `asn-param-missing`). Values that are given are
    /// checked by the same rules as an `asn` node's, so inspect, simulate and compile agree.
    mutating func reluAsGradedASN(obj: String) -> ASNParameters? {
        var nums: [String: Double] = [:]
        var ok = true
        for (key, check, rule) in Self.asnNumberRules {
            guard let jv = asnDefaults[key] else { continue }
            if let d = number(jv, field: "defaults.asn." + key, obj: obj, required: true, check: check, rule: rule) { nums[key] = d } else { ok = false }
        }
        guard ok, let tg = nums["tau_gamma"], let te = nums["tau_eta"], let tb = nums["tau_beta"], let tp = nums["tau_phi"],
              let t0 = nums["theta0"], let mf = nums["m_f"] else { return nil }
        let p = ASNParameters(tauGamma: tg, tauEta: te, tauBeta: tb, tauPhi: tp, theta0: t0, mf: mf, h: .value(1), spike: .graded)
        for problem in p.problems { bag.error(.paramRange, obj, "defaults.asn (the graded ASN a relu runs as): " + problem) }
        return p.problems.isEmpty ? p : nil
    }

    // MARK: small field readers

    mutating func number(_ v: JSONValue?, field: String, obj: String, required: Bool,
                         check: (Double) -> Bool, rule: String) -> Double? {
        guard let v else {
            if required { bag.error(.fieldMissing, obj, "field '\(field)' is missing") }
            return nil
        }
        guard let d = v.double else {
            bag.error(.fieldType, obj, "field '\(field)' must be a number, found \(v.kind.article)")
            return nil
        }
        guard d.isFinite, check(d) else {
            bag.error(.paramRange, obj, "field '\(field)' is \(d), must be \(rule)")
            return nil
        }
        return d
    }

    mutating func intArray(_ v: JSONValue, field: String, obj: String) -> [Int]? {
        guard v.kind == .array else {
            bag.error(.fieldType, obj, "field '\(field)' must be an array of integers, found \(v.kind.article)")
            return nil
        }
        var out: [Int] = []
        for e in v.elements {
            guard let i = e.int else {
                bag.error(.fieldType, obj, "field '\(field)' must hold integers, found \(describe(e))")
                return nil
            }
            out.append(i)
        }
        return out
    }

    /// An int or an [a, b] pair; nil (with a diagnostic) when malformed.
    mutating func pair(_ v: JSONValue?, field: String, obj: String, default d: (Int, Int), min: Int) -> (Int, Int)? {
        guard let v else { return d }
        var p: (Int, Int)? = nil
        if let i = v.int { p = (i, i) } else if v.kind == .array, v.count == 2, let a = v.element(0)?.int, let b = v.element(1)?.int { p = (a, b) }
        guard let p else {
            bag.error(.fieldType, obj, "field '\(field)' must be an integer or [height, width], found \(describe(v))")
            return nil
        }
        guard p.0 >= min, p.1 >= min, p.0 <= 1 << 20, p.1 <= 1 << 20 else {
            bag.error(.paramRange, obj, "field '\(field)' is [\(p.0), \(p.1)], each must be between \(min) and \(1 << 20)")
            return nil
        }
        return p
    }

    mutating func paddingSpec(_ v: JSONValue?, obj: String, allowExplicit: Bool) -> PaddingSpec? {
        guard let v else { return .valid }
        if let s = v.string {
            if s == "valid" { return .valid }
            if s == "same" { return .same }
            bag.error(.fieldValue, obj, "field 'padding' must be \"valid\" or \"same\"\(allowExplicit ? " or explicit" : ""), found \"\(s)\"")
            return nil
        }
        guard allowExplicit else {
            bag.error(.fieldType, obj, "field 'padding' must be \"valid\" or \"same\", found \(describe(v))")
            return nil
        }
        var nums: [Int] = []
        if let i = v.int { nums = [i] } else if v.kind == .array {
            for e in v.elements {
                guard let i = e.int else { nums = []; break }
                nums.append(i)
            }
        }
        let p: Padding2D
        switch nums.count {
        case 1: p = Padding2D(top: nums[0], bottom: nums[0], left: nums[0], right: nums[0])
        case 2: p = Padding2D(top: nums[0], bottom: nums[0], left: nums[1], right: nums[1])
        case 4: p = Padding2D(top: nums[0], bottom: nums[1], left: nums[2], right: nums[3])
        default:
            bag.error(.fieldType, obj, "field 'padding' must be \"valid\", \"same\", an integer, [pad_h, pad_w] or [top, bottom, left, right], found \(describe(v))")
            return nil
        }
        guard [p.top, p.bottom, p.left, p.right].allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            bag.error(.paramRange, obj, "padding values must be between 0 and \(1 << 20), found \(describe(v))")
            return nil
        }
        return .explicit(p)
    }

    // MARK: tensors

    mutating func requiredTensor(_ v: JSONValue, _ field: String, obj: String) -> Tensor? {
        guard let tv = v[field] else {
            bag.error(.fieldMissing, obj, "field '\(field)' is missing")
            return nil
        }
        return tensor(tv, field: field, obj: obj)
    }

    mutating func optionalTensor(_ v: JSONValue, _ field: String, obj: String) -> (ok: Bool, tensor: Tensor?) {
        guard let tv = v[field], !tv.isNull else { return (true, nil) }
        let t = tensor(tv, field: field, obj: obj)
        return (t != nil, t)
    }

    /// A tensor: nested arrays, {"shape": [...], "data": [...]} or {"ref": "name"} into the weights file.
    mutating func tensor(_ v: JSONValue, field: String, obj: String) -> Tensor? {
        var t: Tensor
        switch v.kind {
        case .array:
            guard let nested = nestedTensor(v, field: field, obj: obj) else { return nil }
            t = nested
        case .object:
            if let ref = v["ref"] {
                guard let name = ref.string else {
                    bag.error(.fieldType, obj, "\(field).ref must be a tensor name (string), found \(ref.kind.article)")
                    return nil
                }
                guard let r = referencedTensor(name, field: field, obj: obj) else { return nil }
                t = r
            } else if let sv = v["shape"], let dv = v["data"] {
                guard let shape = intArray(sv, field: "\(field).shape", obj: obj) else { return nil }
                guard checkShape(shape, what: "\(field) shape", obj: obj), let n = elementCount(shape) else { return nil }
                guard dv.kind == .array else {
                    bag.error(.fieldType, obj, "\(field).data must be a flat array of numbers, found \(dv.kind.article)")
                    return nil
                }
                guard dv.count == n else {
                    bag.error(.tensorShape, obj, "\(field).data holds \(dv.count) numbers but shape \(formatShape(shape)) needs \(n)")
                    return nil
                }
                var values: [Double] = []
                if let bad = dv.appendNumbers(to: &values) {
                    bag.error(.fieldType, obj, "\(field).data[\(bad)] must be a number, found \(dv.element(bad).map { describe($0) } ?? "nothing")")
                    return nil
                }
                t = Tensor(shape: shape, values: values)
            } else {
                bag.error(.fieldType, obj, "field '\(field)' must be nested arrays, {\"shape\", \"data\"} or {\"ref\": name}; found an object with keys \(v.members.map(\.key))")
                return nil
            }
        default:
            bag.error(.fieldType, obj, "field '\(field)' must be a tensor (nested arrays, {\"shape\", \"data\"} or {\"ref\"}), found \(describe(v))")
            return nil
        }
        if let bad = t.firstNonFinite() {
            bag.error(.tensorNonFinite, obj, "\(field)[\(bad)] is \(t[bad]); weights must be finite",
                      notes: ["a NaN or Inf weight usually means training diverged"])
            return nil
        }
        return t
    }

    mutating func referencedTensor(_ name: String, field: String, obj: String) -> Tensor? {
        guard weightsDeclared else {
            bag.error(.weightsFileMissing, obj, "\(field) refers to tensor '\(name)' but the model names no weights file",
                      notes: ["add \"weights\": \"model.safetensors\" at the top level"])
            return nil
        }
        guard let weights else { return nil }  // already diagnosed when the file was opened
        guard let e = weights.entries[name] else {
            let near = suggestion(name, Set(weights.entries.keys))
            bag.error(.tensorMissing, obj, "\(field) refers to tensor '\(name)', which is not in the weights file", notes: near)
            return nil
        }
        guard e.dtype != nil else {
            bag.error(.tensorDtype, obj, "tensor '\(name)' has dtype \(e.dtypeName); snnc reads F16, BF16, F32 and F64")
            return nil
        }
        guard checkShape(e.shape, what: "tensor '\(name)' shape", obj: obj) else { return nil }
        return weights.tensor(e, displayName: fileNameOfWeights())
    }

    func fileNameOfWeights() -> String { weights?.path ?? "" }

    mutating func nestedTensor(_ v: JSONValue, field: String, obj: String) -> Tensor? {
        // The shape is read from the first element at each level; every other level must agree.
        var shape: [Int] = []
        var cur: JSONValue? = v
        while let c = cur, c.kind == .array {
            shape.append(c.count)
            cur = c.element(0)
        }
        guard checkShape(shape, what: "\(field) shape", obj: obj), elementCount(shape) != nil else { return nil }
        var values: [Double] = []
        values.reserveCapacity(elementCount(shape)!)
        var problem: String? = nil
        func walk(_ x: JSONValue, depth: Int, path: String) {
            if problem != nil { return }
            if depth == shape.count - 1 {
                guard x.count == shape[depth], x.kind == .array else {
                    problem = "\(field)\(path) has \(x.kind == .array ? "\(x.count) elements" : x.kind.article), expected \(shape[depth]) numbers"
                    return
                }
                if let bad = x.appendNumbers(to: &values) {
                    problem = "\(field)\(path)[\(bad)] must be a number, found \(x.element(bad).map { $0.kind.article } ?? "nothing")"
                }
                return
            }
            guard x.kind == .array, x.count == shape[depth] else {
                problem = "\(field)\(path) has \(x.kind == .array ? "\(x.count) elements" : x.kind.article), expected \(shape[depth]) (ragged nested arrays)"
                return
            }
            for (i, e) in x.elements.enumerated() { walk(e, depth: depth + 1, path: path + "[\(i)]") }
        }
        walk(v, depth: 0, path: "")
        if let problem {
            bag.error(.tensorShape, obj, problem)
            return nil
        }
        return Tensor(shape: shape, values: values)
    }

    /// Dims ≥ 1 and element count within limits.
    mutating func checkShape(_ shape: [Int], what: String, obj: String) -> Bool {
        if shape.isEmpty || shape.contains(where: { $0 < 1 }) {
            bag.error(.shapeInvalid, obj, "\(what) \(formatShape(shape)) must have at least one dimension, each ≥ 1")
            return false
        }
        if elementCount(shape) == nil {
            bag.error(.tensorTooLarge, obj, "\(what) \(formatShape(shape)) has more than \(maxTensorElements) elements")
            return false
        }
        return true
    }

    // MARK: graph

    /// Checks names, references and cycles; returns the nodes in topological order (file order
    /// where the graph allows it), or nil.
    @discardableResult
    mutating func checkGraph(_ nodes: [Node], knownNames: Set<String>, complete: Bool) -> [Node]? {
        var index: [String: Int] = [:]
        var ok = true
        for (i, n) in nodes.enumerated() {
            if index[n.name] != nil {
                bag.error(.nodeNameDuplicate, "node '\(n.name)'", "the name '\(n.name)' is used by more than one node")
                ok = false
            } else {
                index[n.name] = i
            }
        }
        let allParsed = nodes.count == knownNames.count && complete
        for n in nodes {
            for i in n.inputs where index[i] == nil {
                if complete && !knownNames.contains(i) {
                    bag.error(.inputUnknown, "node '\(n.name)'", "input '\(i)' is not the name of any node", notes: suggestion(i, knownNames))
                }
                ok = false
            }
        }
        if allParsed && !nodes.contains(where: { $0.op == .input }) {
            bag.error(.graphNoInput, nil, "the model has no node with op 'input'")
            ok = false
        }
        guard ok, allParsed else { return nil }
        // Kahn's algorithm, always taking the earliest ready node in file order.
        var indegree = nodes.map { Set($0.inputs).count }
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() { for p in Set(n.inputs) { consumers[index[p]!].append(i) } }
        var ready = Heap(indegree.indices.filter { indegree[$0] == 0 })
        var order: [Int] = []
        while let next = ready.popMin() {
            order.append(next)
            for c in consumers[next] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.insert(c) }
            }
        }
        if order.count < nodes.count {
            // Nodes left over lie on a cycle or downstream of one; peel off those whose
            // outputs feed nothing left over, so only the cycle itself is named.
            var left = Set(nodes.indices).subtracting(order)
            var changed = true
            while changed {
                changed = false
                for i in left.sorted() where !consumers[i].contains(where: { left.contains($0) }) {
                    left.remove(i)
                    changed = true
                }
            }
            let stuck = left.sorted().map { "'\(nodes[$0].name)'" }
            bag.error(.graphCycle, nil, "the graph has a cycle through node\(stuck.count > 1 ? "s" : "") \(stuck.joined(separator: ", "))",
                      notes: ["a model must be a DAG: no node may depend on its own output"])
            return nil
        }
        return order.map { nodes[$0] }
    }
}

// MARK: - helpers

/// A short rendering of a JSON value for messages.
func describe(_ v: JSONValue) -> String { v.shortDescription }

/// "did you mean 'x'?" when a known word is within edit distance 2.
func suggestion(_ word: String, _ candidates: Set<String>) -> [String] {
    let w = Array(word.lowercased())
    guard w.count <= 64 else { return [] }
    var best: (Int, String)? = nil
    for c in candidates.sorted() {
        let d = editDistance(w, Array(c.lowercased()))
        if d <= 2, d < (best?.0 ?? Int.max) { best = (d, c) }
    }
    return best.map { ["did you mean '\($0.1)'?"] } ?? []
}

func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
