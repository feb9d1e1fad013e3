// `snnc export-lava ARTEFACT -o model.net [--data D [--limit N]]`: a network compiled for a
// Loihi-family profile as a lava-dl netx file (SNNCImport/LavaExport.swift) with exactly the
// integers the emulator runs — Lava's du, dv, vth, weights and bias mantissas — so that Lava's
// `fixed_pt` CPU models (PyLifModelBitAcc, PyDenseModelBitAcc) step the same network. Beside it:
// `model.export.json` (which snnc layer each netx layer is) and, with --data, `model.inputs.npy`
// (per sample, the input layer's bias_mant: netx feeds the input through the bias). What netx
// cannot carry is refused by name (`lava-export`). Docs/lava.md.
import SNNCArtefact
import SNNCEmulator
import SNNCImport
import SNNCIR
import SNNCJSON
import SNNCReference

public enum ExportLava {
    public struct Options: Sendable {
        public var directory: String
        public var outputPath: String
        public var dataPath: String?
        public var limit: Int?
        public init(directory: String, outputPath: String) {
            self.directory = directory
            self.outputPath = outputPath
        }
    }

    /// The files beside `model.net`: `model.export.json` and `model.inputs.npy`.
    public static func sidecar(_ netPath: String, _ suffix: String) -> String {
        (netPath.hasSuffix(".net") ? String(netPath.dropLast(4)) : netPath) + suffix
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let net: EmuNetwork
        do { net = try ArtefactReader.load(o.directory) } catch {
            r.fail([Diagnostic(.error, .artefactInvalid, file: error.file, error.message)])
            return r
        }
        let layers: [NetxLayer], names: [String]
        switch netx(net, directory: o.directory) {
        case .failure(let e):
            r.fail(e.diagnostics)
            return r
        case .success(let x): (layers, names) = x
        }
        if let problem = LavaExport.write(layers, to: o.outputPath) {
            r.fail([Diagnostic(.error, .outputUnwritable, file: o.outputPath, "cannot write the netx file: \(problem)")])
            return r
        }
        var samples = 0
        if let dataPath = o.dataPath {
            // The data checked against the artefact's source model, as `emulate` checks it.
            let data: Dataset
            switch Artefact.nirOptions(in: o.directory).flatMap({ nir in
                Simulate.start(modelPath: Artefact.sourceModelPath(in: o.directory), dataPath: dataPath, limit: o.limit, threads: 1, nir: nir)
            }) {
            case .success(let run): data = run.data
            case .failure(let e):
                r.fail(e.diagnostics)
                return r
            }
            let n = min(o.limit ?? data.count, data.count)
            guard let input = net.layers.firstIndex(where: { $0.kind == .injected }), let leak = net.layers[input].lif?.leak,
                  layers.first?.kind == .input, layers[0].neurons == net.layers[input].neurons else {
                r.fail([Diagnostic(.error, .lavaExport, file: o.directory, "the network has no IF-family input layer for the samples to drive")])
                return r
            }
            var rows: [Int32] = []
            for s in 0..<n {
                let currents = Self.channelsFirst(net.hostCurrents(data.samples[s])[input], net.layers[input])
                rows += currents.map { Int32(truncatingIfNeeded: ($0 &+ leak) >> Int64(LoihiRules.biasExponent)) }
            }
            samples = n
            r.writeBytes(sidecar(o.outputPath, ".inputs.npy"), NumPyFile.int32(rows, shape: [n, layers[0].neurons]), what: "the input biases")
        }
        let meta = JSONOutput.object([
            ("format", .string("snnc-lava-export")), ("version", .int(1)), ("model", .string(net.model)), ("profile", .string(net.profile)),
            ("net", .string(o.outputPath.split(separator: "/").last.map(String.init) ?? o.outputPath)),
            // "netx": the block's place in netx's Network.layers (a flatten is not a block).
            ("layers", .array(zip(layers.indices.filter { layers[$0].kind != .flatten }, names).enumerated().map { b, x in
                let (i, name) = x
                return .object([("netx", .int(b)), ("file_layer", .int(i)), ("snnc_layer", .string(name)), ("type", .string(layers[i].kind.rawValue)),
                         ("shape", .array(layers[i].shape.map { .int($0) })), ("neurons", .int(layers[i].neurons))])
            })),
            ("order", .string("a layer of shape [C, H, W] lists its neurons as netx and lava_run.py do, c·H·W + h·W + w; snnc's traces index them channels-last, (h·W + w)·C + c")),
            ("cores", .int(net.cores.count)),
            ("inputs", samples > 0 ? .object([("file", .string(sidecar(o.outputPath, ".inputs.npy").split(separator: "/").last.map(String.init)!)), ("samples", .int(samples)),
                                              ("meaning", .string("per sample, the input layer's bias_mant (bias_exp 6), constant over the sample's steps"))]) : .null),
        ])
        r.write(sidecar(o.outputPath, ".export.json"), meta.serialized(), what: "the export's layer map")
        if r.status == .success {
            r.stdout += "wrote \(o.outputPath): \(layers.count) netx layers (\(layers.map { $0.kind == .flatten ? "flatten" : "\($0.kind.rawValue) \($0.neurons)" }.joined(separator: ", ")))\(samples > 0 ? "; input biases of \(samples) samples" : "")\n"
        }
        return r
    }

    /// The netx layers of a compiled Loihi-family network, and the snnc layer each one is.
    static func netx(_ net: EmuNetwork, directory: String) -> Result<([NetxLayer], [String]), DiagnosticsError> {
        let file = directory + "/" + ArtefactFormat.layers
        var problems: [Diagnostic] = []
        var out: [NetxLayer] = [], names: [String] = []
        // A refused layer still takes its place in the chain, so its consumers are not refused for it.
        func refuse(_ layer: String, _ why: String) {
            problems.append(Diagnostic(.error, .lavaExport, file: directory, object: "layer '\(layer)'", why))
            names.append(layer)
        }
        guard let doc = (try? readWholeFile(file, limit: 1 << 28)).flatMap({ try? JSONDocument.parse($0) }),
              let weights = try? readWholeFile(directory + "/" + ArtefactFormat.weights, limit: 1 << 32) else {
            return .failure(DiagnosticsError([Diagnostic(.error, .artefactInvalid, file: file, "cannot read layers.json and weights.bin")]))
        }
        let records = doc.root["layers"]?.elements ?? []
        /// A projection's int32 values at `offset`, `count` of them (nil when out of bounds).
        func ints(_ offset: Int?, _ count: Int) -> [Int64]? {
            guard let offset, offset >= 0, count >= 0, offset + 4 * count <= weights.count else { return nil }
            return (0..<count).map { Int64(ArtefactFormat.i32(weights, offset + 4 * $0)) }
        }
        /// The netx shape of a layer: [C, H, W] when it is spatial, else [n].
        func shape(_ l: EmuLayer) -> [Int] { l.h * l.w > 1 ? [l.c, l.h, l.w] : [l.neurons] }
        for (li, l) in net.layers.enumerated() {
            let rec = li < records.count ? records[li] : nil
            let inputs = rec?["inputs"]?.elements ?? []
            let source = inputs.first.flatMap { $0["source"]?.string }.flatMap { n in net.layers.first { $0.name == n } }
            if l.kind == .readout {
                // Identity from the last layer: the host counts its spikes; dense: a non-spiking integrator.
                guard let p = inputs.first, inputs.count == 1, p["source"]?.string == names.last else { refuse(l.name, "the readout must read the last spiking layer alone"); continue }
                if p["kind"]?.string == "identity" { continue }
                guard p["kind"]?.string == "dense", let wb = p["weights_bin"], let n = wb["count"]?.int, let w = ints(wb["offset"]?.int, n), let src = source else {
                    refuse(l.name, "the readout reads its source through '\(p["kind"]?.string ?? "?")'; export-lava writes a dense readout")
                    continue
                }
                let range = LoihiRules.weightRange(.mixed)
                guard w.allSatisfy({ range.contains(Int($0)) }) else { refuse(l.name, "readout weights leave Loihi's range \(range)"); continue }
                guard n == l.neurons * src.neurons else { refuse(l.name, "its weights_bin count \(n) is not \(l.neurons) × \(src.neurons)"); continue }
                if src.h * src.w > 1 { out.append(NetxLayer(kind: .flatten, shape: [])) }
                out.append(NetxLayer(kind: .dense, shape: [l.neurons], iDecay: LoihiRules.du(currentMultiplier: 0) + 1, vDecay: 0,
                                     vThMant: LoihiRules.thresholdMantissa.upperBound, inFeatures: src.neurons, weight: Self.flattenColumns(w, rows: l.neurons, src)))
                names.append(l.name)
                continue
            }
            guard let k = l.lif, k.family == .loihi else {
                refuse(l.name, "only IF-family layers compiled for a Loihi-family profile (loihi, loihi2) run in Lava's LIF; this one is \(l.lif == nil ? "an ASN" : "compiled for the generic core")")
                continue
            }
            guard !k.subtract, k.vReset == 0, !k.nextStep else {
                refuse(l.name, "Lava's LIF resets v to 0 at once; this layer resets \(k.subtract ? "by subtraction" : "to \(k.vReset)")\(k.nextStep ? " at the next step" : "")")
                continue
            }
            guard l.neurons == l.compartments else { refuse(l.name, "a max-pooled IF layer has no Lava process (netx has no pooling layer)"); continue }
            let du = LoihiRules.du(currentMultiplier: k.currentBased ? Int(k.synDecay) : 0), dv = LoihiRules.dv(voltageMultiplier: Int(k.memDecay))
            let vth = Int(k.threshold >> Int64(LoihiRules.thresholdShift))
            if l.kind == .injected {
                guard out.isEmpty else { refuse(l.name, "netx has one input layer, first"); continue }
                guard !k.currentBased else {
                    refuse(l.name, "a CubaLIF input layer filters its input in u (snnc feeds the host current as a_in); netx feeds an input layer through its bias only")
                    continue
                }
                out.append(NetxLayer(kind: .input, shape: shape(l), iDecay: du + 1, vDecay: dv, vThMant: vth))
                names.append(l.name)
                continue
            }
            guard inputs.count == 1, let p = inputs.first, p["source"]?.string == names.last, let src = source else {
                refuse(l.name, "netx is a chain: each layer reads the one before it alone (this one reads \(inputs.compactMap { $0["source"]?.string }.joined(separator: ", ")))")
                continue
            }
            let kind = p["kind"]?.string ?? "?"
            guard kind == "dense" || kind == "conv", let wb = p["weights_bin"], let n = wb["count"]?.int, let w = ints(wb["offset"]?.int, n) else {
                refuse(l.name, "its input is '\(kind)'; netx layers read dense or conv projections")
                continue
            }
            // netx re-derives a dense matrix's sign mode and weight exponent (optimize_weight_bits),
            // and Lava's Dense its own sign mode: they agree on mixed and excitatory matrices only.
            guard kind == "conv" || w.contains(where: { $0 > 0 }) else {
                refuse(l.name, "its weights are all ≤ 0: netx's optimize_weight_bits and Lava's Dense disagree on an inhibitory (or all-zero) matrix and would not run these integers")
                continue
            }
            var bias = [Int64](repeating: 0, count: kind == "conv" ? l.c : l.neurons)
            if let bo = wb["bias_offset"]?.int, let bc = wb["bias_count"]?.int, bc == bias.count, let b = ints(bo, bc) { bias = b }
            let biasMant = bias.map { ($0 &+ k.leak) >> Int64(LoihiRules.biasExponent) }
            let expected = kind == "dense" ? l.neurons * src.neurons : l.c * src.c * (p["kernel"]?.elements ?? []).compactMap(\.int).reduce(1, *)
            guard n == expected else {
                problems.append(Diagnostic(.error, .artefactInvalid, file: file, object: "layer '\(l.name)'", "its weights_bin count is \(n), its shapes need \(expected)"))
                names.append(l.name)
                continue
            }
            if kind == "dense" {
                if src.h * src.w > 1 { out.append(NetxLayer(kind: .flatten, shape: [])) }
                out.append(NetxLayer(kind: .dense, shape: [l.neurons], iDecay: du + 1, vDecay: dv, vThMant: vth, inFeatures: src.neurons,
                                     weight: Self.flattenColumns(w, rows: l.neurons, src), bias: biasMant))
            } else {
                func pair(_ key: String) -> [Int] { (p[key]?.elements ?? []).compactMap(\.int) }
                let (kern, stride, dil, pad) = (pair("kernel"), pair("stride"), pair("dilation"), pair("padding"))
                guard kern.count == 2, stride.count == 2, dil.count == 2, pad.count == 2 else { refuse(l.name, "its conv geometry is incomplete in layers.json"); continue }
                // netx pads both sides alike: the output size must follow from the top/left padding.
                let same = (0..<2).allSatisfy { d in
                    let (inn, outn) = d == 0 ? (src.h, l.h) : (src.w, l.w)
                    return (inn + 2 * pad[d] - dil[d] * (kern[d] - 1) - 1) / stride[d] + 1 == outn
                }
                guard same else { refuse(l.name, "its padding is not the same on both sides; netx's conv pads both sides by one amount"); continue }
                // weights.bin: [out][ky][kx][in] → netx (torch): [out][in][ky][kx].
                let (co, ci, kh, kw) = (l.c, src.c, kern[0], kern[1])
                var oihw = [Int64](repeating: 0, count: w.count)
                for o in 0..<co { for y in 0..<kh { for x in 0..<kw { for i in 0..<ci { oihw[((o * ci + i) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * ci + i] } } } }
                var c = NetxLayer(kind: .conv, shape: shape(l), iDecay: du + 1, vDecay: dv, vThMant: vth, inFeatures: ci, weight: oihw, bias: biasMant)
                (c.kernel, c.stride, c.padding, c.dilation) = (kern, stride, pad, dil)
                out.append(c)
            }
            names.append(l.name)
        }
        return problems.isEmpty ? .success((out, names)) : .failure(DiagnosticsError(problems))
    }
}

extension ExportLava {
    /// A dense matrix [rows][source neurons] whose columns follow snnc's channels-last order
    /// ((h·W + w)·C + c), reordered to netx's flatten order (c·H·W + h·W + w: netx transposes
    /// Lava's (W, H, C) to (C, H, W) and flattens).
    static func flattenColumns(_ w: [Int64], rows: Int, _ src: EmuLayer) -> [Int64] {
        guard src.h * src.w > 1 else { return w }
        let n = src.neurons
        var out = w
        for r in 0..<rows { for h in 0..<src.h { for x in 0..<src.w { for c in 0..<src.c {
            out[r * n + (c * src.h + h) * src.w + x] = w[r * n + (h * src.w + x) * src.c + c]
        } } } }
        return out
    }

    /// A layer's values in snnc's channels-last order, reordered to netx's C, H, W.
    static func channelsFirst(_ v: [Int64], _ l: EmuLayer) -> [Int64] {
        guard l.h * l.w > 1 else { return v }
        var out = v
        for h in 0..<l.h { for x in 0..<l.w { for c in 0..<l.c { out[(c * l.h + h) * l.w + x] = v[(h * l.w + x) * l.c + c] } } }
        return out
    }
}

/// NumPy's .npy format, version 1.0 (a little-endian header dict padded to 64 bytes, then the
/// data in C order): what the Lava harness reads with numpy.load.
enum NumPyFile {
    static func int32(_ values: [Int32], shape: [Int]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (\(dims)), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        for v in values { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        return out
    }
}
