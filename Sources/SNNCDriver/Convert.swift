// `snnc convert model.json --to if --calibrate DATA -o OUT.json`: the rate-coded baseline the
// paper measures the ASN against. Every spiking node (relu, or asn run as its ReLU) becomes an
// IF neuron with subtractive reset (Rueckauer et al. 2017), normalised by data: λ of a layer is
// the p-th percentile (default 99.9) of its positive activations in the analog network over the
// calibration samples (after a max-pool where the layer is pooled). The normalisation is put in
// the neuron, not the weights — v_threshold = spike_height = λ, an exact rewrite of dividing a
// layer's weights and biases by λ and multiplying its consumers' weights by it (threshold
// balancing) — so the tensors are untouched and the converted file shares them. The analog
// network of the result is the ReLU network: its ANN accuracy is the ReLU network's.
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCReference

public enum Convert {
    public struct Options: Sendable {
        public var modelPath: String
        public var outputPath: String
        public var calibratePath: String?
        public var calibrateLimit = 500
        public var percentile = 99.9
        /// The IF neurons' reset: subtractive (Rueckauer's; the default) or to zero at once, the
        /// only reset of Loihi's compartment (profile 'loihi', Docs/lava.md).
        public var zeroReset = false
        public init(modelPath: String, outputPath: String) {
            self.modelPath = modelPath
            self.outputPath = outputPath
        }
    }

    /// The spiking nodes of `model` that convert (relu and asn), in model order.
    static func spikingNodes(_ model: Model) -> [Int] {
        model.nodes.indices.filter {
            switch model.nodes[$0].attributes {
            case .asn, .relu: return true
            default: return false
            }
        }
    }

    /// The model with every relu and asn node an IF neuron of threshold and spike height λ
    /// (`scales`, by node name; 1 where absent).
    public static func toIF(_ model: Model, scales: [String: Double]) -> Model {
        var m = model
        for i in spikingNodes(model) {
            let lambda = scales[m.nodes[i].name] ?? 1
            m.nodes[i].op = .integrateAndFire
            m.nodes[i].attributes = .lif(LIFParameters(kind: .integrateAndFire, vThreshold: lambda, reset: .subtract, spikeHeight: lambda))
        }
        m.name = model.name + "-if"
        return m
    }

    /// Per spiking node, the `percentile` of its positive outputs in the ReLU network over
    /// `samples` (the pooled outputs where the node feeds only a max-pool, as the spiking layer
    /// is then the pooled positions). A layer that is never positive gets 1.
    public static func scales(_ model: Model, samples: [[Double]], percentile: Double) -> (scales: [String: Double], silent: [String]) {
        let relu = toIF(model, scales: [:])
        let pm = PreparedModel(relu)
        let consumers = relu.consumers
        var observed: [(name: String, node: Int)] = []
        for i in spikingNodes(model) {
            let name = relu.nodes[i].name
            var node = i
            if let c = consumers[name], c.count == 1, let j = pm.index[c[0]], relu.nodes[j].op == .maxpool2d { node = j }
            observed.append((name, node))
        }
        var values = [[Float]](repeating: [], count: observed.count)
        for x in samples {
            let all = pm.forward(x)
            for (k, o) in observed.enumerated() { for v in all[o.node] where v > 0 { values[k].append(Float(v)) } }
        }
        var out: [String: Double] = [:]
        var silent: [String] = []
        for (k, o) in observed.enumerated() {
            if values[k].isEmpty {
                out[o.name] = 1
                silent.append(o.name)
            } else {
                out[o.name] = percentileOf(&values[k], percentile)
            }
        }
        return (out, silent)
    }

    /// The p-th percentile with linear interpolation between order statistics (numpy's default).
    static func percentileOf(_ v: inout [Float], _ p: Double) -> Double {
        v.sort()
        let pos = p / 100 * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, v.count - 1)
        let f = pos - Double(lo)
        return Double(v[lo]) + (Double(v[hi]) - Double(v[lo])) * f
    }

    /// Loads the model and the calibration data and computes the scales; the diagnostics of
    /// either, or a warning per silent layer.
    public static func calibrated(model: Model, calibratePath: String?, limit: Int, percentile: Double) -> Result<(scales: [String: Double], samples: Int, warnings: [Diagnostic]), DiagnosticsError> {
        guard let path = calibratePath else {
            let w = Diagnostic(.warning, .calibrationData, file: model.file, "no --calibrate data: every IF threshold is 1 (no normalisation), so layers whose activations exceed 1 saturate at one spike per step",
                               notes: ["give --calibrate with training samples for Rueckauer et al.'s data-based normalisation"])
            return .success(([:], 0, [w]))
        }
        var data: Dataset
        switch DataLoader.load(path: path) {
        case .success(let d): data = d
        case .failure(let e): return .failure(e)
        }
        data = data.prefix(limit)
        let input = model.nodes.first { $0.op == .input }!
        let problems = DataLoader.check(data, inputShape: input.shape, classes: Int.max, file: path).filter { $0.severity == .error && $0.id != .dataLabel }
        if !problems.isEmpty { return .failure(DiagnosticsError(problems)) }
        let (s, silent) = scales(model, samples: data.samples, percentile: percentile)
        let warnings = silent.map {
            Diagnostic(.warning, .calibrationData, file: path, object: "node '\($0)'", "never positive on the \(data.count) calibration samples; its IF threshold is 1")
        }
        return .success((s, data.count, warnings))
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        guard !ModelFiles.isONNX(o.modelPath) else {
            return .failure([Diagnostic(.error, .formatUnknown, file: o.modelPath, "convert rewrites a model file (.json); it does not write ONNX",
                                        notes: ["import the ONNX file's network as model.json first (`python -m snnc_train export`), or compare it directly with `snnc compare model.onnx`"])])
        }
        let loaded = ModelFiles.load(path: o.modelPath)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        r.report(loaded.diagnostics)
        if spikingNodes(model).isEmpty {
            return .failure([Diagnostic(.error, .unsupportedPattern, file: model.file, "the model has no relu or asn node to convert")])
        }
        let scales: [String: Double], used: Int
        switch calibrated(model: model, calibratePath: o.calibratePath, limit: o.calibrateLimit, percentile: o.percentile) {
        case .failure(let e): return .failure(loaded.diagnostics + e.diagnostics)
        case .success(let (s, n, w)):
            scales = s
            used = n
            r.report(w)
        }
        let how = o.calibratePath.map { "data-based normalisation on \(used) samples of \($0), percentile \(o.percentile)" } ?? "no normalisation (thresholds 1)"
        if let problem = write(model, from: o.modelPath, scales: scales, percentile: o.percentile, how: how, zeroReset: o.zeroReset, to: o.outputPath) {
            r.report([problem])
            r.status = .badInput
            return r
        }
        guard r.status == .success else { return r }
        var t = TextTable(headers: ["node", "was", "λ (v_threshold = spike_height)"], alignments: [.left, .left, .right])
        for i in spikingNodes(model) { t.add([model.nodes[i].name, model.nodes[i].op.rawValue, fmt(scales[model.nodes[i].name] ?? 1, 6)]) }
        r.stdout = "converted '\(model.name)' to a rate-coded IF network (\(how)) → \(o.outputPath)\n\n" + t.render()
        return r
    }

    /// Writes the IF conversion of `model` (read from the JSON at `path`) to `output`: the source
    /// JSON with each converted node rewritten, everything else as it was, and the weights file
    /// copied beside it. Returns the problem, if any.
    static func write(_ model: Model, from path: String, scales: [String: Double], percentile: Double, how: String, zeroReset: Bool = false, to output: String) -> Diagnostic? {
        let doc: JSONDocument
        do {
            doc = try JSONDocument.parse(readWholeFile(path, limit: 1 << 30))
        } catch {
            return Diagnostic(.error, .fileUnreadable, file: path, "cannot read it again: \(error)")
        }
        let converted = Set(spikingNodes(model).map { model.nodes[$0].name })
        var top: [(String, JSONOutput)] = []
        for (k, v) in doc.root.members {
            switch k {
            case "name": top.append((k, .string(model.name + "-if")))
            case "comment": continue
            case "nodes":
                top.append((k, .array(v.elements.map { n in
                    guard let name = n["name"]?.string, converted.contains(name) else { return jsonOutput(n) }
                    let lambda = scales[name] ?? 1
                    return .object([("name", .string(name)), ("op", .string(OpKind.integrateAndFire.rawValue)),
                                    ("inputs", jsonOutput(n["inputs"]!)), ("v_threshold", .double(lambda)), ("spike_height", .double(lambda)),
                                    ("reset", .string(zeroReset ? ResetRule.value.rawValue : ResetRule.subtract.rawValue))] + (zeroReset ? [("v_reset", .double(0))] : []) + [
                                    ("comment", .string("was '\(n["op"]?.string ?? "?")'; λ = p\(percentile) of its positive activations"))])
                })))
            case "weights":
                top.append((k, .string(fileName(model.weightsFile ?? v.string ?? ""))))
            default: top.append((k, jsonOutput(v)))
            }
        }
        top.insert(("comment", .string("Rate-coded IF conversion of '\(model.name)' by snnc convert (Rueckauer et al. 2017, \(zeroReset ? "reset to zero" : "subtractive reset"), \(how)).")), at: min(3, top.count))
        let outDir = directoryOf(output)
        if let problem = makeDirectories(outDir) {
            return Diagnostic(.error, .outputUnwritable, file: outDir, "cannot create the output directory: \(problem)")
        }
        if let w = model.weightsFile {
            let target = resolvePath(fileName(w), relativeTo: outDir)
            if realPath(target) != realPath(w) {
                do { try writeFileAtomically(target, readWholeFile(w, limit: 1 << 34)) } catch {
                    return Diagnostic(.error, .outputUnwritable, file: target, "cannot copy the weights: \(error)")
                }
            }
        }
        do { try writeFileAtomically(output, Array(JSONOutput.object(top).serialized(pretty: true).utf8)) } catch {
            return Diagnostic(.error, .outputUnwritable, file: output, "cannot write the converted model: \(error)")
        }
        return nil
    }

    /// `mkdir -p`: nil when the directory exists afterwards, else the reason.
    static func makeDirectories(_ path: String) -> String? {
        if path.isEmpty || fileExists(path) { return nil }
        let parent = directoryOf(path)
        if parent != path, let p = makeDirectories(parent) { return p }
        if mkdir(path, 0o755) != 0 && !fileExists(path) { return String(cString: strerror(errno)) }
        return nil
    }

    static func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    static func realPath(_ p: String) -> String {
        guard let c = realpath(p, nil) else { return p }
        defer { free(c) }
        return String(cString: c)
    }
}

/// A parsed JSON value as an output value (numbers keep their integer or double kind).
func jsonOutput(_ v: JSONValue) -> JSONOutput {
    switch v.kind {
    case .null: return .null
    case .bool: return .bool(v.bool ?? false)
    case .integer: return v.int.map { .int($0) } ?? .double(v.double ?? 0)
    case .double: return .double(v.double ?? 0)
    case .string: return .string(v.string ?? "")
    case .array: return .array(v.elements.map(jsonOutput))
    case .object: return .object(v.members.map { ($0.key, jsonOutput($0.value)) })
    }
}

#if canImport(Glibc)
import Glibc
#endif
