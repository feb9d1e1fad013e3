// ONNX import (Docs/onnx.md): a ReLU network in an .onnx file becomes the same IR a model file
// gives, through the loader's own graph checks and shape inference (ModelLoader.assemble).
// The protobuf is read by swift-protobuf with the code generated from onnx.proto
// (onnx.pb.swift). ONNX is NCHW; snnc is channels-last: the input shape is turned once, and a
// Flatten of a C×H×W value is undone by permuting the columns of the Gemm/MatMul reading it,
// as the PyTorch exporter does. Every refusal names the node, its op and the attribute.
import Foundation
import SNNCIR
import SwiftProtobuf

public enum ONNXLoader {
    /// Opsets read: 11 up to the newest this code was checked against (the default of the
    /// machine's torch.onnx.export and onnx 1.23).
    public static let opsets: ClosedRange<Int64> = 11...23
    /// .onnx files larger than this are refused (ResNet-18 is 45 MB).
    public static let maxFileBytes = 1 << 31

    /// The graded ASN every Relu runs as (the paper's constants, ϑ0 = m_f = 0.1; `--theta0`
    /// overrides ϑ0), and the readout's τ_φ.
    public static let reluASN = ASNParameters(tauGamma: 15, tauEta: 50, tauBeta: 50, tauPhi: 2.5, theta0: 0.1, mf: 0.1, h: .value(1), spike: .graded)
    public static let readoutTauPhi = 50.0

    public static func load(path: String, displayName: String? = nil) -> LoadResult {
        let shown = displayName ?? path
        var bag = DiagnosticBag(file: shown)
        guard let bytes = ModelLoader.readModelFile(path, limit: maxFileBytes, bag: &bag) else { return LoadResult(model: nil, diagnostics: bag.items) }
        let proto: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            proto = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            bag.error(.onnxParse, nil, "not a readable ONNX model (\(error)); the file may be truncated or not an .onnx file")
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        var reader = ONNXReader(proto: proto, baseDirectory: directoryOf(path), bag: bag)
        let name = baseName(path)
        let nodes = reader.read()
        bag = reader.bag
        guard let nodes, !bag.hasErrors else { return LoadResult(model: nil, diagnostics: bag.items) }
        guard reader.externalFiles.count <= 1 else {
            bag.error(.onnxExternalData, nil, "the initializers are spread over \(reader.externalFiles.count) external data files; snnc reads one (onnx.save_model(..., all_tensors_to_one_file=True))")
            return LoadResult(model: nil, diagnostics: bag.items)
        }
        var model = ModelLoader.assemble(nodes: nodes, name: name, file: shown, layouts: Layouts(dense: .outIn, kernel: .oihw), bag: &bag)
        // The external data file travels with the model like a safetensors file (compile copies it).
        model?.weightsFile = reader.externalFiles.first
        return LoadResult(model: bag.hasErrors ? nil : model, diagnostics: bag.items)
    }

    static func baseName(_ path: String) -> String { modelBaseName(path, dropping: ".onnx") }
}

struct ONNXReader {
    let proto: Onnx_ModelProto
    let baseDirectory: String
    var bag: DiagnosticBag
    var nodes: [Node] = []
    var values: [String: ImportedValue] = [:]
    /// Initializers and Constant outputs, as doubles with their dims.
    var constants: [String: (dims: [Int], data: [Double])] = [:]
    var usedNames: Set<String> = []
    /// Dense nodes created from a MatMul without bias, by index in `nodes` (an Add may give it one).
    var biasless: [String: Int] = [:]
    /// Outputs of nodes that were refused: their consumers stay quiet (one problem, one report).
    var refused: Set<String> = []
    /// The external data files read (an artefact copies the model's one such file beside it),
    /// each read once, with the bytes its tensors have taken so far.
    var externalFiles: Set<String> = []
    var externalCache: [String: (bytes: [UInt8], used: Int)] = [:]
    /// The next suffix to try for a node name already taken.
    var nextSuffix: [String: Int] = [:]
    /// How many nodes (and graph outputs) read each ONNX value.
    var consumerCount: [String: Int] = [:]
    /// Strides, dilations, pads and pooling windows above this are refused (as in a model file).
    static let maxGeometry = 1 << 20

    init(proto: Onnx_ModelProto, baseDirectory: String, bag: DiagnosticBag) {
        self.proto = proto
        self.baseDirectory = baseDirectory
        self.bag = bag
    }

    mutating func read() -> [Node]? {
        let opset = proto.opsetImport.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version ?? 0
        if !ONNXLoader.opsets.contains(opset) {
            bag.error(.onnxOpset, nil, "the model uses opset \(opset) of the default domain; snnc reads opsets \(ONNXLoader.opsets.lowerBound) to \(ONNXLoader.opsets.upperBound)",
                      notes: ["re-export with torch.onnx.export(..., opset_version=17)"])
            return nil
        }
        let graph = proto.graph
        for t in graph.initializer {
            guard let c = tensor(t, what: "initializer '\(t.name)'") else {
                refused.insert(t.name)  // its consumers stay quiet
                continue
            }
            constants[t.name] = c
        }
        for n in graph.node { for i in n.input where !i.isEmpty { consumerCount[i, default: 0] += 1 } }
        for o in graph.output { consumerCount[o.name, default: 0] += 1 }
        let initializerNames = Set(graph.initializer.map(\.name))
        let inputs = graph.input.filter { !initializerNames.contains($0.name) }
        guard inputs.count == 1, let input = inputs.first else {
            bag.error(.onnxGraph, nil, "the graph has \(inputs.count) inputs besides its initializers; snnc reads networks with exactly one input")
            return nil
        }
        guard let inputShape = self.inputShape(input) else { return nil }
        var transposed = false
        // A leading Transpose NHWC → NCHW (tf2onnx) reads the channels-last input as it is.
        if let first = graph.node.first, first.opType == "Transpose", first.input.first == input.name, inputShape.count == 3,
           attribute(first, "perm")?.ints == [0, 3, 1, 2] {
            transposed = true
        }
        let hwc = transposed ? inputShape : (inputShape.count == 3 ? [inputShape[1], inputShape[2], inputShape[0]] : inputShape)
        let inputName = unique("input")
        nodes.append(Node(name: inputName, op: .input, inputs: [], attributes: .input(shape: hwc)))
        // With a leading Transpose only its output is the network's input (NCHW): the raw
        // NHWC tensor itself feeds nothing else.
        let value = ImportedValue(node: inputName, shape: transposed ? [hwc[2], hwc[0], hwc[1]] : inputShape)
        if !transposed { values[input.name] = value }
        let outputs = Set(graph.output.map(\.name))
        for (i, n) in graph.node.enumerated() {
            if i == 0 && transposed {
                values[n.output.first ?? ""] = value
                continue
            }
            if !(n.domain == "" || n.domain == "ai.onnx") {
                bag.error(.onnxOpUnsupported, object(n), "op '\(n.domain).\(n.opType)' is not in the ONNX default domain; snnc reads only default-domain ops")
                continue
            }
            node(n, isLast: n.output.allSatisfy { outputs.contains($0) })
            for o in n.output where values[o] == nil && constants[o] == nil { refused.insert(o) }
        }
        if bag.hasErrors { return nil }
        guard graph.output.count == 1, let out = values[graph.output[0].name] else {
            bag.error(.onnxGraph, nil, "the graph has \(graph.output.count) outputs; snnc reads networks with one output (the logits)")
            return nil
        }
        guard out.shape.count == 1, out.flattenedFrom == nil else {
            bag.error(.onnxGraph, nil, "the graph's output has shape \(formatShape(out.shape)) (NCHW, no batch); the readout needs logits, one value per class")
            return nil
        }
        nodes.append(Node(name: unique("readout"), op: .readout, inputs: [out.node], attributes: .readout(tauPhi: ONNXLoader.readoutTauPhi)))
        return nodes
    }

    // MARK: graph input

    mutating func inputShape(_ v: Onnx_ValueInfoProto) -> [Int]? {
        let obj = "input '\(v.name)'"
        guard case .tensorType(let t)? = v.type.value else {
            bag.error(.onnxGraph, obj, "the graph input is not a tensor")
            return nil
        }
        if t.elemType != Int32(Onnx_TensorProto.DataType.float.rawValue) && t.elemType != Int32(Onnx_TensorProto.DataType.double.rawValue) {
            bag.error(.onnxType, obj, "the input's element type is \(typeName(t.elemType)); snnc reads float or double inputs")
            return nil
        }
        var dims: [Int] = []
        for (i, d) in t.shape.dim.enumerated() {
            switch d.value {
            case .dimValue(let x)? where x >= 1 && x <= Int64(maxTensorElements): dims.append(Int(x))
            case .dimParam(let p)? where i == 0: dims.append(1); _ = p  // the batch may be symbolic
            case nil where i == 0: dims.append(1)
            default:
                bag.error(.onnxDynamicShape, obj, "dimension \(i) of the input is \(d.value.map { "\($0)" } ?? "unknown"); snnc needs every dimension but the batch fixed",
                          notes: ["export with a fixed input shape (no dynamic_axes except the batch)"])
                return nil
            }
        }
        guard dims.count == 4 || dims.count == 2 else {
            bag.error(.onnxGraph, obj, "the input has shape \(formatShape(dims)); snnc reads [N, C, H, W] images or [N, F] feature vectors")
            return nil
        }
        guard elementCount(dims) != nil else {
            bag.error(.onnxGraph, obj, "the input has shape \(formatShape(dims)): more than \(maxTensorElements) values")
            return nil
        }
        return Array(dims.dropFirst())
    }

    // MARK: tensors

    /// An initializer or constant as doubles; nil (with a diagnostic) when unreadable.
    mutating func tensor(_ t: Onnx_TensorProto, what: String) -> (dims: [Int], data: [Double])? {
        var dims: [Int] = []
        for d in t.dims {
            guard d >= 1, d <= Int64(maxTensorElements) else {
                bag.error(.onnxInitializer, what, d == 0 ? "has a zero dimension; snnc reads no empty tensors" : "dimension \(d) is out of range")
                return nil
            }
            dims.append(Int(d))
        }
        guard let count = dims.isEmpty ? 1 : elementCount(dims) else {
            bag.error(.tensorTooLarge, what, "shape \(formatShape(dims)) has more than \(maxTensorElements) elements")
            return nil
        }
        var raw: [UInt8]? = nil
        if t.dataLocation == .external {
            guard let r = externalData(t, what: what) else { return nil }
            raw = r
        } else if !t.rawData.isEmpty {
            raw = [UInt8](t.rawData)
        }
        let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType))
        var data: [Double]
        switch type {
        case .float?:
            if let raw {
                guard raw.count == count * 4 else { return sizeError(what, raw.count, count, 4) }
                data = (0..<count).map { i in Double(Float(bitPattern: le32(raw, i * 4))) }
            } else {
                data = t.floatData.map(Double.init)
            }
        case .double?:
            if let raw {
                guard raw.count == count * 8 else { return sizeError(what, raw.count, count, 8) }
                data = (0..<count).map { i in Double(bitPattern: UInt64(le32(raw, i * 8)) | UInt64(le32(raw, i * 8 + 4)) << 32) }
            } else {
                data = t.doubleData
            }
        case .int64?:
            if let raw {
                guard raw.count == count * 8 else { return sizeError(what, raw.count, count, 8) }
                data = (0..<count).map { i in Double(Int64(bitPattern: UInt64(le32(raw, i * 8)) | UInt64(le32(raw, i * 8 + 4)) << 32)) }
            } else {
                data = t.int64Data.map { Double($0) }
            }
        case .int32?:
            if let raw {
                guard raw.count == count * 4 else { return sizeError(what, raw.count, count, 4) }
                data = (0..<count).map { i in Double(Int32(bitPattern: le32(raw, i * 4))) }
            } else {
                data = t.int32Data.map { Double($0) }
            }
        default:
            bag.error(.onnxType, what, "element type \(typeName(t.dataType)) is not read; snnc reads float, double, int32 and int64 tensors")
            return nil
        }
        guard data.count == count else {
            bag.error(.onnxInitializer, what, "holds \(data.count) values but its dims \(formatShape(dims)) need \(count)")
            return nil
        }
        if let bad = data.firstIndex(where: { !$0.isFinite }) {
            bag.error(.tensorNonFinite, what, "element \(bad) is \(data[bad])")
            return nil
        }
        return (dims, data)
    }

    mutating func sizeError(_ what: String, _ bytes: Int, _ count: Int, _ width: Int) -> (dims: [Int], data: [Double])? {
        bag.error(.onnxInitializer, what, "raw data is \(bytes) bytes but its dims need \(count) × \(width) = \(count * width)")
        return nil
    }

    /// The bytes of an external-data tensor: `location` (relative to the model, no `..`),
    /// `offset` and `length`.
    mutating func externalData(_ t: Onnx_TensorProto, what: String) -> [UInt8]? {
        var entries: [String: String] = [:]
        for e in t.externalData { entries[e.key] = e.value }
        guard let location = entries["location"], !location.isEmpty, !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            bag.error(.onnxExternalData, what, "external data needs a 'location' relative to the model's folder, found \(entries["location"].map { "'\($0)'" } ?? "none")")
            return nil
        }
        let offset = Int(entries["offset"] ?? "0") ?? -1
        let length = entries["length"].map { Int($0) ?? -1 }
        guard offset >= 0, length.map({ $0 >= 0 }) ?? true else {
            bag.error(.onnxExternalData, what, "external data offset '\(entries["offset"] ?? "")' or length '\(entries["length"] ?? "")' is not a non-negative integer")
            return nil
        }
        // One name per file: "w.bin" and "./w.bin" are the same file.
        let normalised = location.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let path = baseDirectory.isEmpty ? normalised : baseDirectory + "/" + normalised
        externalFiles.insert(path)
        if externalCache[path] == nil {
            do {
                externalCache[path] = (try readWholeFile(path, limit: ONNXLoader.maxFileBytes), 0)
            } catch {
                bag.error(.onnxExternalData, what, "cannot read external data '\(location)': \(error)")
                return nil
            }
        }
        let (bytes, used) = externalCache[path]!
        guard offset <= bytes.count, length.map({ $0 <= bytes.count - offset }) ?? true else {
            bag.error(.onnxExternalData, what, "external data '\(location)' has \(bytes.count) bytes; offset \(offset) and length \(length ?? 0) reach past its end")
            return nil
        }
        let end = length.map { offset + $0 } ?? bytes.count
        // Tensors do not share bytes: a file's tensors together take at most its size (a small
        // model cannot make snnc decode one large file many times over).
        guard end - offset <= bytes.count - used else {
            bag.error(.onnxExternalData, what, "the tensors read from '\(location)' take more than its \(bytes.count) bytes (overlapping ranges)")
            return nil
        }
        externalCache[path]!.used = used + (end - offset)
        return Array(bytes[offset..<end])
    }

    // MARK: nodes

    func object(_ n: Onnx_NodeProto) -> String {
        "node '\(n.name.isEmpty ? (n.output.first ?? "?") : n.name)' (\(n.opType))"
    }

    func attribute(_ n: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { n.attribute.first { $0.name == name } }

    mutating func ints(_ n: Onnx_NodeProto, _ name: String, default d: [Int]? = nil) -> [Int]? {
        guard let a = attribute(n, name) else { return d }
        return a.ints.map { Int(clamping: $0) }
    }

    /// The `auto_pad` string of a Conv or pool ("NOTSET" when absent).
    func autoPad(_ n: Onnx_NodeProto) -> String {
        attribute(n, "auto_pad").map { String(decoding: $0.s, as: UTF8.self) } ?? "NOTSET"
    }

    mutating func int(_ n: Onnx_NodeProto, _ name: String, default d: Int) -> Int {
        guard let a = attribute(n, name) else { return d }
        return Int(clamping: a.i)
    }

    /// A fresh snnc node name from an ONNX name: characters outside the allowed set become '_'.
    mutating func unique(_ base: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-[]")
        var s = String(base.map { allowed.contains($0) ? $0 : "_" }.prefix(200))
        if s.isEmpty { s = "node" }
        var name = s, k = nextSuffix[s] ?? 1
        while usedNames.contains(name) {
            k += 1
            name = "\(s)_\(k)"
        }
        nextSuffix[s] = k
        usedNames.insert(name)
        return name
    }

    mutating func value(_ n: Onnx_NodeProto, _ i: Int) -> ImportedValue? {
        if i < n.input.count, refused.contains(n.input[i]) { return nil }
        guard i < n.input.count, let v = values[n.input[i]] else {
            let what = i < n.input.count ? "'\(n.input[i])'" : "missing"
            bag.error(.onnxGraph, object(n), "input \(i) (\(what)) is not a tensor the network computes" + (i < n.input.count && constants[n.input[i]] != nil ? " (it is a constant)" : ""))
            return nil
        }
        return v
    }

    mutating func constant(_ n: Onnx_NodeProto, _ i: Int, _ role: String) -> (dims: [Int], data: [Double])? {
        if i < n.input.count, refused.contains(n.input[i]) { return nil }
        guard i < n.input.count, !n.input[i].isEmpty else {
            bag.error(.onnxGraph, object(n), "input \(i) (\(role)) is missing")
            return nil
        }
        guard let c = constants[n.input[i]] else {
            bag.error(.onnxGraph, object(n), "\(role) '\(n.input[i])' must be an initializer or a Constant")
            return nil
        }
        return c
    }

    mutating func refuse(_ n: Onnx_NodeProto, _ attr: String, _ message: String) {
        bag.error(.onnxAttribute, object(n), "attribute '\(attr)': \(message)")
    }

    mutating func emit(_ n: Onnx_NodeProto, _ op: OpKind, _ inputs: [String], _ attrs: NodeAttributes, shape: [Int], flattenedFrom: [Int]? = nil) {
        guard elementCount(shape) != nil else {
            bag.error(.onnxGraph, object(n), "the output has shape \(formatShape(shape)): more than \(maxTensorElements) values")
            return
        }
        let name = unique(n.name.isEmpty ? (n.output.first ?? n.opType) : n.name)
        nodes.append(Node(name: name, op: op, inputs: inputs, attributes: attrs))
        if let out = n.output.first { values[out] = ImportedValue(node: name, shape: shape, flattenedFrom: flattenedFrom) }
    }

    func alias(_ n: Onnx_NodeProto, _ v: ImportedValue) -> [String: ImportedValue] {
        var out = values
        if let o = n.output.first { out[o] = v }
        return out
    }

    mutating func node(_ n: Onnx_NodeProto, isLast: Bool) {
        switch n.opType {
        case "Constant":
            guard let t = attribute(n, "value"), t.hasT, let c = tensor(t.t, what: object(n)) else {
                bag.error(.onnxAttribute, object(n), "only a Constant with a tensor 'value' is read")
                return
            }
            if let o = n.output.first { constants[o] = c }
        case "Identity", "Dropout":
            if let c = n.input.first.flatMap({ constants[$0] }), let o = n.output.first {
                constants[o] = c
            } else if let v = value(n, 0) {
                values = alias(n, v)
            }
        case "Relu":
            guard let v = value(n, 0) else { return }
            emit(n, .relu, [v.node], .relu(ONNXLoader.reluASN), shape: v.shape, flattenedFrom: v.flattenedFrom)
        case "Softmax", "LogSoftmax":
            guard let v = value(n, 0) else { return }
            guard isLast else {
                bag.error(.onnxOpUnsupported, object(n), "a \(n.opType) inside the network is not supported (only as the last op, where argmax is unchanged)")
                return
            }
            bag.warning(.onnxDropped, object(n), "the trailing \(n.opType) is dropped: the readout classifies by argmax, which it does not change")
            values = alias(n, v)
        case "Conv": conv(n)
        case "Gemm": gemm(n)
        case "MatMul": matmul(n)
        case "Add": add(n)
        case "BatchNormalization": batchnorm(n)
        case "MaxPool", "AveragePool": pool(n)
        case "GlobalAveragePool":
            guard let v = value(n, 0) else { return }
            guard v.shape.count == 3, v.flattenedFrom == nil else {
                bag.error(.onnxGraph, object(n), "input has shape \(formatShape(v.shape)); GlobalAveragePool needs [C, H, W]")
                return
            }
            let p = wholeMap(v)
            emit(n, .avgpool2d, [v.node], .avgpool2d(p), shape: [v.shape[0], 1, 1])
        case "ReduceMean":
            // The mean over H and W (torch.onnx's AdaptiveAvgPool2d(1), x.mean((2, 3))): axes
            // from the attribute (opset < 18) or the second input.
            guard let v = value(n, 0) else { return }
            var axes: [Int]
            if n.input.count > 1, !n.input[1].isEmpty {
                guard let a = constant(n, 1, "axes") else { return }
                guard let exact = integers(a.data) else { return refuse(n, "axes", "\(a.data) are not integers") }
                axes = exact
            } else {
                axes = ints(n, "axes", default: []) ?? []
            }
            let keep = int(n, "keepdims", default: 1) != 0
            guard v.shape.count == 3, v.flattenedFrom == nil, axes.count == 2, axes.allSatisfy({ (-4...3).contains($0) }),
                  Set(axes.map { ($0 + 4) % 4 }) == [2, 3] else {
                return refuse(n, "axes", "\(axes) on a \(formatShape(v.shape)) input; only the mean over H and W (axes 2, 3) of a [C, H, W] value is read")
            }
            let p = wholeMap(v)
            if keep {
                emit(n, .avgpool2d, [v.node], .avgpool2d(p), shape: [v.shape[0], 1, 1])
            } else {
                let pooled = unique((n.name.isEmpty ? (n.output.first ?? "mean") : n.name) + "_pool")
                nodes.append(Node(name: pooled, op: .avgpool2d, inputs: [v.node], attributes: .avgpool2d(p)))
                emit(n, .flatten, [pooled], .flatten, shape: [v.shape[0]])
            }
        case "Flatten":
            guard let v = value(n, 0) else { return }
            let axis = int(n, "axis", default: 1)
            guard axis == 1 else { return refuse(n, "axis", "is \(axis); only 1 (keep the batch, flatten the rest)") }
            flatten(n, v)
        case "Reshape":
            guard let v = value(n, 0) else { return }
            guard let target = constant(n, 1, "shape") else { return }
            guard let dims = integers(target.data) else { return refuse(n, "shape", "\(target.data) are not integers") }
            let count = v.shape.reduce(1, *)
            let allowZero = int(n, "allowzero", default: 0) != 0
            // [N, -1], [N, count], [-1, count], [1, count] (0: the batch copied): one feature vector per sample.
            guard dims.count == 2, dims[1] == -1 || dims[1] == count, [-1, 0, 1].contains(dims[0]),
                  !(dims[0] == -1 && dims[1] == -1), !(allowZero && dims[0] == 0) else {
                bag.error(.onnxOpUnsupported, object(n), "reshape to \(dims) is not supported; only to one vector per sample ([N, -1] or [N, \(count)])")
                return
            }
            flatten(n, v)
        default:
            bag.error(.onnxOpUnsupported, object(n), "op '\(n.opType)' is not supported",
                      notes: ["snnc reads Conv, Gemm, MatMul (+ Add), BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, ReduceMean (over H, W), Flatten, Reshape (to 1-D), Add, Identity, Dropout, Constant, a trailing Softmax and a leading NHWC→NCHW Transpose (Docs/onnx.md)"])
        }
    }

    /// Whole numbers as Ints, or nil if any is not one (1.5, 1e30, 2^63).
    func integers(_ data: [Double]) -> [Int]? {
        var out: [Int] = []
        for x in data {
            guard let i = Int(exactly: x) else { return nil }
            out.append(i)
        }
        return out
    }

    /// An average over the whole [C, H, W] map (GlobalAveragePool, ReduceMean over H and W).
    func wholeMap(_ v: ImportedValue) -> Pool2D {
        Pool2D(sizeH: v.shape[1], sizeW: v.shape[2], strideH: v.shape[1], strideW: v.shape[2], paddingSpec: .valid, padding: .zero)
    }

    mutating func flatten(_ n: Onnx_NodeProto, _ v: ImportedValue) {
        if v.shape.count == 1 {
            values = alias(n, v)
            return
        }
        let count = v.shape.reduce(1, *)
        // A channel-major flatten of C×H×W with H·W > 1 orders features (c, h, w); snnc's is (h, w, c).
        emit(n, .flatten, [v.node], .flatten, shape: [count], flattenedFrom: v.shape[1] * v.shape[2] > 1 ? v.shape : nil)
    }

    mutating func conv(_ n: Onnx_NodeProto) {
        guard let v = value(n, 0) else { return }
        guard let w = constant(n, 1, "weight W") else { return }
        guard v.shape.count == 3, v.flattenedFrom == nil else {
            bag.error(.onnxGraph, object(n), "input has shape \(formatShape(v.shape)); Conv needs [C, H, W]")
            return
        }
        let group = int(n, "group", default: 1)
        if group != 1 { return refuse(n, "group", "is \(group); grouped and depthwise convolutions are not supported") }
        guard w.dims.count == 4 else { return refuse(n, "W", "weight has dims \(formatShape(w.dims)); a 2-D Conv has [M, C, kH, kW]") }
        let (m, c, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        guard c == v.shape[0] else { return refuse(n, "W", "weight has \(c) input channels but the input has \(v.shape[0])") }
        if let ks = ints(n, "kernel_shape"), ks != [kh, kw] { return refuse(n, "kernel_shape", "\(ks) disagrees with the weight's [\(kh), \(kw)]") }
        let g = Self.maxGeometry
        guard let strides = ints(n, "strides", default: [1, 1]), strides.count == 2, strides.allSatisfy({ $0 >= 1 && $0 <= g }) else { return refuse(n, "strides", "must be two integers from 1 to \(g)") }
        guard let dil = ints(n, "dilations", default: [1, 1]), dil.count == 2, dil.allSatisfy({ $0 >= 1 && $0 <= g }) else { return refuse(n, "dilations", "must be two integers from 1 to \(g)") }
        let autoPad = self.autoPad(n)
        if autoPad != "NOTSET" && !autoPad.isEmpty, let pads = ints(n, "pads"), pads.contains(where: { $0 != 0 }) {
            return refuse(n, "pads", "\(pads) given with auto_pad '\(autoPad)'; one or the other")
        }
        var spec: PaddingSpec
        switch autoPad {
        case "NOTSET", "":
            guard let pads = ints(n, "pads", default: [0, 0, 0, 0]), pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= g }) else { return refuse(n, "pads", "must be four integers from 0 to \(g)") }
            spec = pads.allSatisfy({ $0 == 0 }) ? .valid : .explicit(Padding2D(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3]))
        case "VALID": spec = .valid
        case "SAME_UPPER": spec = .same
        default: return refuse(n, "auto_pad", "'\(autoPad)' is not supported (NOTSET, VALID, SAME_UPPER)")
        }
        var bias: Tensor? = nil
        if n.input.count > 2, !n.input[2].isEmpty {
            guard let b = constant(n, 2, "bias B") else { return }
            guard b.data.count == m else { return refuse(n, "B", "bias has \(b.data.count) values for \(m) output channels") }
            bias = Tensor(shape: [m], values: b.data)
        }
        let conv = Conv2D(weight: Tensor(shape: w.dims, values: w.data), bias: bias, layout: .oihw, outChannels: m, inChannels: c, kernelH: kh, kernelW: kw,
                          strideH: strides[0], strideW: strides[1], dilationH: dil[0], dilationW: dil[1], paddingSpec: spec, padding: .zero)
        // Output size as ONNX computes it (floor), to track NCHW shapes; snnc's own shape
        // inference checks the same numbers.
        let pad: (Int, Int, Int, Int)
        switch spec {
        case .valid: pad = (0, 0, 0, 0)
        case .same:
            let (t, b) = ShapeInference.samePadding(input: v.shape[1], window: kh, stride: strides[0], dilation: dil[0])
            let (l, r) = ShapeInference.samePadding(input: v.shape[2], window: kw, stride: strides[1], dilation: dil[1])
            pad = (t, b, l, r)
        case .explicit(let p): pad = (p.top, p.bottom, p.left, p.right)
        }
        guard let oh = ShapeInference.outputSize(input: v.shape[1], window: kh, stride: strides[0], dilation: dil[0], padBefore: pad.0, padAfter: pad.1),
              let ow = ShapeInference.outputSize(input: v.shape[2], window: kw, stride: strides[1], dilation: dil[1], padBefore: pad.2, padAfter: pad.3) else {
            bag.error(.onnxGraph, object(n), "the kernel does not fit the [\(v.shape[1]), \(v.shape[2])] input")
            return
        }
        emit(n, .conv2d, [v.node], .conv2d(conv), shape: [m, oh, ow])
    }

    /// Dense weights [out][in] for snnc from ONNX's [in][out] (or [out][in] with `transposed`),
    /// with the columns of a flattened C×H×W input permuted from (c, h, w) to (h, w, c).
    func denseWeight(_ w: [Double], inF: Int, outF: Int, outIn: Bool, flattenedFrom: [Int]?) -> [Double] {
        var out = [Double](repeating: 0, count: inF * outF)
        for o in 0..<outF {
            for i in 0..<inF {
                out[o * inF + i] = outIn ? w[o * inF + i] : w[i * outF + o]
            }
        }
        return channelsLastColumns(out, inF: inF, outF: outF, flattenedFrom: flattenedFrom)
    }

    mutating func gemm(_ n: Onnx_NodeProto) {
        guard let v = value(n, 0) else { return }
        guard let b = constant(n, 1, "weight B") else { return }
        if int(n, "transA", default: 0) != 0 { return refuse(n, "transA", "must be 0 (the activations are A)") }
        if let a = attribute(n, "alpha"), a.f != 1 { return refuse(n, "alpha", "is \(a.f); only 1") }
        if let a = attribute(n, "beta"), a.f != 1, n.input.count > 2 { return refuse(n, "beta", "is \(a.f); only 1") }
        let transB = int(n, "transB", default: 0) != 0
        guard v.shape.count == 1 else {
            bag.error(.onnxGraph, object(n), "input has shape \(formatShape(v.shape)); Gemm needs a flattened vector")
            return
        }
        guard b.dims.count == 2 else { return refuse(n, "B", "weight has dims \(formatShape(b.dims)); Gemm needs a matrix") }
        let inF = v.shape[0]
        let (outF, k) = transB ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
        guard k == inF else { return refuse(n, "B", "weight has dims \(formatShape(b.dims)) (transB \(transB ? 1 : 0)) but the input has \(inF) features") }
        var bias: Tensor? = nil
        if n.input.count > 2, !n.input[2].isEmpty {
            guard let c = constant(n, 2, "bias C") else { return }
            guard c.data.count == outF || c.data.count == 1 else { return refuse(n, "C", "bias has \(c.data.count) values for \(outF) outputs") }
            bias = Tensor(shape: [outF], values: c.data.count == 1 ? [Double](repeating: c.data[0], count: outF) : c.data)
        }
        let w = denseWeight(b.data, inF: inF, outF: outF, outIn: transB, flattenedFrom: v.flattenedFrom)
        emit(n, .dense, [v.node], .dense(Dense(weight: Tensor(shape: [outF, inF], values: w), bias: bias, layout: .outIn, inFeatures: inF, outFeatures: outF)), shape: [outF])
        if bias == nil, let o = n.output.first, values[o] != nil { biasless[o] = nodes.count - 1 }
    }

    mutating func matmul(_ n: Onnx_NodeProto) {
        guard let v = value(n, 0) else { return }
        guard let b = constant(n, 1, "weight B") else { return }
        guard v.shape.count == 1, b.dims.count == 2, b.dims[0] == v.shape[0] else {
            bag.error(.onnxOpUnsupported, object(n), "MatMul is read as a dense layer: a flattened input times a [in, out] initializer; here input \(formatShape(v.shape)) and B \(formatShape(b.dims))")
            return
        }
        let (inF, outF) = (b.dims[0], b.dims[1])
        let w = denseWeight(b.data, inF: inF, outF: outF, outIn: false, flattenedFrom: v.flattenedFrom)
        emit(n, .dense, [v.node], .dense(Dense(weight: Tensor(shape: [outF, inF], values: w), bias: nil, layout: .outIn, inFeatures: inF, outFeatures: outF)), shape: [outF])
        if let o = n.output.first, values[o] != nil { biasless[o] = nodes.count - 1 }
    }

    mutating func add(_ n: Onnx_NodeProto) {
        guard n.input.count == 2 else {
            bag.error(.onnxGraph, object(n), "has \(n.input.count) inputs; Add takes two")
            return
        }
        let (a, b) = (n.input[0], n.input[1])
        // MatMul + Add of a constant: the dense layer's bias.
        if let (tensorName, constName) = values[a] != nil && constants[b] != nil ? (a, b) : values[b] != nil && constants[a] != nil ? (b, a) : nil {
            let c = constants[constName]!
            // Only when the Add is the product's one reader: no other node may see the bias.
            guard consumerCount[tensorName] == 1, let di = biasless.removeValue(forKey: tensorName), case .dense(var d) = nodes[di].attributes,
                  c.data.count == d.outFeatures || c.data.count == 1 else {
                bag.error(.onnxOpUnsupported, object(n), "an Add of a constant is read only as the bias of the MatMul or bias-free Gemm before it, when it is that product's only reader (a constant of \(c.data.count) values here)")
                return
            }
            d.bias = Tensor(shape: [d.outFeatures], values: c.data.count == 1 ? [Double](repeating: c.data[0], count: d.outFeatures) : c.data)
            nodes[di].attributes = .dense(d)
            values = alias(n, values[tensorName]!)
            return
        }
        guard let x = value(n, 0), let y = value(n, 1) else { return }
        guard x.shape == y.shape, x.flattenedFrom == y.flattenedFrom else {
            bag.error(.onnxGraph, object(n), "operand shapes \(formatShape(x.shape)) and \(formatShape(y.shape)) differ; snnc adds equal shapes only (no broadcasting)")
            return
        }
        emit(n, .add, [x.node, y.node], .add, shape: x.shape, flattenedFrom: x.flattenedFrom)
    }

    mutating func batchnorm(_ n: Onnx_NodeProto) {
        guard let v = value(n, 0) else { return }
        guard v.flattenedFrom == nil else {
            bag.error(.onnxOpUnsupported, object(n), "a BatchNormalization of a channel-major flattened value is not supported")
            return
        }
        if n.output.count > 1 && n.output.dropFirst().contains(where: { !$0.isEmpty }) {
            bag.error(.onnxAttribute, object(n), "training-mode outputs (running mean/var) are not supported; export in eval mode")
            return
        }
        if int(n, "training_mode", default: 0) != 0 { return refuse(n, "training_mode", "1 (batch statistics); export in eval mode") }
        var params: [[Double]] = []
        let channels = v.shape[0]
        for (i, role) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
            guard let c = constant(n, i, role) else { return }
            guard c.data.count == channels else { return refuse(n, role, "has \(c.data.count) values for \(channels) channels") }
            params.append(c.data)
        }
        let eps = attribute(n, "epsilon").map { Double($0.f) } ?? 1e-5
        guard eps.isFinite, eps >= 0 else { return refuse(n, "epsilon", "is \(eps); must be ≥ 0") }
        if let i = params[3].firstIndex(where: { $0 < 0 || $0 + eps <= 0 }) {
            bag.error(.paramRange, object(n), "var[\(i)] is \(params[3][i]); a variance must be ≥ 0 and var + epsilon > 0")
            return
        }
        let bn = BatchNorm(gamma: Tensor(shape: [channels], values: params[0]), beta: Tensor(shape: [channels], values: params[1]),
                           mean: Tensor(shape: [channels], values: params[2]), variance: Tensor(shape: [channels], values: params[3]), eps: eps)
        emit(n, .batchnorm, [v.node], .batchnorm(bn), shape: v.shape)
    }

    mutating func pool(_ n: Onnx_NodeProto) {
        guard let v = value(n, 0) else { return }
        guard v.shape.count == 3, v.flattenedFrom == nil else {
            bag.error(.onnxGraph, object(n), "input has shape \(formatShape(v.shape)); \(n.opType) needs [C, H, W]")
            return
        }
        let g = Self.maxGeometry
        guard let k = ints(n, "kernel_shape"), k.count == 2, k.allSatisfy({ $0 >= 1 && $0 <= g }) else { return refuse(n, "kernel_shape", "must be two integers from 1 to \(g)") }
        guard let s = ints(n, "strides", default: [1, 1]), s.count == 2, s.allSatisfy({ $0 >= 1 && $0 <= g }) else { return refuse(n, "strides", "must be two integers from 1 to \(g)") }
        let autoPad = self.autoPad(n)
        guard autoPad == "NOTSET" || autoPad == "VALID" || autoPad.isEmpty else { return refuse(n, "auto_pad", "'\(autoPad)' is not supported") }
        var pad = Padding2D.zero
        if let pads = ints(n, "pads"), pads.contains(where: { $0 != 0 }) {
            if autoPad != "NOTSET" && !autoPad.isEmpty { return refuse(n, "pads", "\(pads) given with auto_pad '\(autoPad)'; one or the other") }
            guard n.opType == "MaxPool", pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= g }) else {
                return refuse(n, "pads", "\(pads): only a MaxPool may be padded (an average's divisor would differ)")
            }
            pad = Padding2D(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
        }
        if int(n, "ceil_mode", default: 0) != 0 { return refuse(n, "ceil_mode", "1 is not supported (only floor)") }
        if let d = ints(n, "dilations"), d.contains(where: { $0 != 1 }) { return refuse(n, "dilations", "\(d) is not supported") }
        if n.opType == "MaxPool" && int(n, "storage_order", default: 0) != 0 { return refuse(n, "storage_order", "only 0") }
        if n.output.count > 1 && n.output.dropFirst().contains(where: { !$0.isEmpty }) { return refuse(n, "Indices", "the indices output is not supported") }
        let p = Pool2D(sizeH: k[0], sizeW: k[1], strideH: s[0], strideW: s[1], paddingSpec: pad == .zero ? .valid : .explicit(pad), padding: .zero)
        guard let oh = ShapeInference.outputSize(input: v.shape[1], window: k[0], stride: s[0], dilation: 1, padBefore: pad.top, padAfter: pad.bottom),
              let ow = ShapeInference.outputSize(input: v.shape[2], window: k[1], stride: s[1], dilation: 1, padBefore: pad.left, padAfter: pad.right) else {
            bag.error(.onnxGraph, object(n), "window \(k) does not fit the [\(v.shape[1]), \(v.shape[2])] input")
            return
        }
        let shape = [v.shape[0], oh, ow]
        if n.opType == "MaxPool" { emit(n, .maxpool2d, [v.node], .maxpool2d(p), shape: shape) } else { emit(n, .avgpool2d, [v.node], .avgpool2d(p), shape: shape) }
    }
}

@inline(__always)
func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

func typeName(_ t: Int32) -> String {
    Onnx_TensorProto.DataType(rawValue: Int(t)).map { "\($0)" } ?? "\(t)"
}
