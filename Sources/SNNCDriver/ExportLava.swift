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
            let data: Dataset
            switch DataLoader.load(path: dataPath) {
            case .success(let d): data = d
            case .failure(let e):
                r.fail(e.diagnostics)
                return r
            }
            let n = min(o.limit ?? data.count, data.count)
            let input = net.layers.firstIndex { $0.kind == .injected }!
            let leak = net.layers[input].lif!.leak
            var rows: [Int32] = []
            for s in 0..<n {
                let currents = net.hostCurrents(data.samples[s])[input]
                rows += currents.map { Int32(truncatingIfNeeded: ($0 &+ leak) >> Int64(LoihiRules.biasExponent)) }
            }
            samples = n
            r.writeBytes(sidecar(o.outputPath, ".inputs.npy"), NumPyFile.int32(rows, shape: [n, layers[0].neurons]), what: "the input biases")
        }
        let meta = JSONOutput.object([
            ("format", .string("snnc-lava-export")), ("version", .int(1)), ("model", .string(net.model)), ("profile", .string(net.profile)),
            ("net", .string(o.outputPath.split(separator: "/").last.map(String.init) ?? o.outputPath)),
            ("layers", .array(zip(layers, names).enumerated().map { i, x in
                .object([("netx", .int(i)), ("snnc_layer", .string(x.1)), ("type", .string(x.0.kind.rawValue)), ("neurons", .int(x.0.neurons))])
            })),
            ("cores", .int(net.cores.count)),
            ("inputs", samples > 0 ? .object([("file", .string(sidecar(o.outputPath, ".inputs.npy").split(separator: "/").last.map(String.init)!)), ("samples", .int(samples)),
                                              ("meaning", .string("per sample, the input layer's bias_mant (bias_exp 6), constant over the sample's steps"))]) : .null),
        ])
        r.write(sidecar(o.outputPath, ".export.json"), meta.serialized(), what: "the export's layer map")
        if r.status == .success {
            r.stdout += "wrote \(o.outputPath): \(layers.count) netx layers (\(layers.map { "\($0.kind.rawValue) \($0.neurons)" }.joined(separator: ", ")))\(samples > 0 ? "; input biases of \(samples) samples" : "")\n"
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
            return (0..<count).map { k in
                let b = offset + 4 * k
                return Int64(Int32(bitPattern: UInt32(weights[b]) | UInt32(weights[b + 1]) << 8 | UInt32(weights[b + 2]) << 16 | UInt32(weights[b + 3]) << 24))
            }
        }
        for (li, l) in net.layers.enumerated() {
            let rec = li < records.count ? records[li] : nil
            let inputs = rec?["inputs"]?.elements ?? []
            if l.kind == .readout {
                // Identity from the last layer: the host counts its spikes; dense: a non-spiking integrator.
                guard let p = inputs.first, inputs.count == 1, p["source"]?.string == names.last else { refuse(l.name, "the readout must read the last spiking layer alone"); continue }
                if p["kind"]?.string == "identity" { continue }
                guard p["kind"]?.string == "dense", let wb = p["weights_bin"], let n = wb["count"]?.int, let w = ints(wb["offset"]?.int, n) else {
                    refuse(l.name, "netx layers are dense here; the readout reads its source through '\(p["kind"]?.string ?? "?")'")
                    continue
                }
                let range = LoihiRules.weightRange(.mixed)
                guard w.allSatisfy({ range.contains(Int($0)) }) else { refuse(l.name, "readout weights leave Loihi's range \(range)"); continue }
                out.append(NetxLayer(kind: .dense, neurons: l.neurons, iDecay: LoihiRules.du(currentMultiplier: 0) + 1, vDecay: 0,
                                     vThMant: LoihiRules.thresholdMantissa.upperBound, inFeatures: n / max(1, l.neurons), weight: w))
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
            guard l.neurons == l.compartments else { refuse(l.name, "a max-pooled IF layer has no Lava process"); continue }
            let du = LoihiRules.du(currentMultiplier: k.currentBased ? Int(k.synDecay) : 0), dv = LoihiRules.dv(voltageMultiplier: Int(k.memDecay))
            let vth = Int(k.threshold >> Int64(LoihiRules.thresholdShift))
            if l.kind == .injected {
                guard out.isEmpty else { refuse(l.name, "netx has one input layer, first"); continue }
                guard !k.currentBased else {
                    refuse(l.name, "a CubaLIF input layer filters its input in u (snnc feeds the host current as a_in); netx feeds an input layer through its bias only")
                    continue
                }
                out.append(NetxLayer(kind: .input, neurons: l.neurons, iDecay: du + 1, vDecay: dv, vThMant: vth))
                names.append(l.name)
                continue
            }
            guard inputs.count == 1, let p = inputs.first, p["source"]?.string == names.last else {
                refuse(l.name, "netx is a chain: each layer reads the one before it alone (this one reads \(inputs.compactMap { $0["source"]?.string }.joined(separator: ", ")))")
                continue
            }
            guard p["kind"]?.string == "dense", let wb = p["weights_bin"], let n = wb["count"]?.int, let w = ints(wb["offset"]?.int, n) else {
                refuse(l.name, "its input is '\(p["kind"]?.string ?? "?")'; export-lava writes dense projections (conv layers are not yet exported)")
                continue
            }
            // netx re-derives the sign mode and weight exponent from the matrix (optimize_weight_bits),
            // and Lava's Dense its own sign mode: they agree on mixed and excitatory matrices only.
            guard w.contains(where: { $0 > 0 }) else {
                refuse(l.name, "its weights are all ≤ 0: netx's optimize_weight_bits and Lava's Dense disagree on an inhibitory (or all-zero) matrix and would not run these integers")
                continue
            }
            var bias = [Int64](repeating: 0, count: l.neurons)
            if let bo = wb["bias_offset"]?.int, let bc = wb["bias_count"]?.int, let b = ints(bo, bc) {
                for j in 0..<l.neurons { bias[j] = b[bc == l.neurons ? j : j % max(1, bc)] }
            }
            let biasMant = bias.map { ($0 &+ k.leak) >> Int64(LoihiRules.biasExponent) }
            out.append(NetxLayer(kind: .dense, neurons: l.neurons, iDecay: du + 1, vDecay: dv, vThMant: vth, inFeatures: n / max(1, l.neurons), weight: w, bias: biasMant))
            names.append(l.name)
        }
        return problems.isEmpty ? .success((out, names)) : .failure(DiagnosticsError(problems))
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
