// Reads a compiled artefact directory (Docs/artefact.md) — and nothing else — into the network
// the emulator runs: layers with their integer constants, cores with their synapse memory
// (built from weights.bin and the blocks' axon groups) and output axon tables.
import SNNCArtefact
import SNNCIR
import SNNCJSON
#if canImport(Glibc)
import Glibc
#endif

public struct EmuProjection: Sendable {
    public enum Kind: Sendable, Equatable { case dense, conv, identity }
    public var source: Int
    public var kind: Kind
    public var inShape: [Int] = [], outShape: [Int] = []
    public var kernel = (0, 0), stride = (1, 1), dilation = (1, 1), padding = (0, 0)
    public var mantissas: [Int32] = []
    public var exponent = 0
    public var weightShape: [Int] = []
}

public struct EmuLayer: Sendable {
    public enum Kind: String, Sendable { case injected, spiking, readout }
    public var name: String
    public var kind: Kind
    /// Neurons as H × W × C (flat layers 1 × 1 × N) and compartments' H × W.
    public var h: Int, w: Int, c: Int
    public var ch: Int, cw: Int
    public var pool: (kh: Int, kw: Int, sh: Int, sw: Int, pt: Int, pl: Int)?
    public var graded: Bool
    public var spikeHeight: Double
    public var stateExponent: Int
    public var constants: FixedConstants
    public var readoutTauPhi: Double
    public var hostScale: [Double], hostShift: [Double]
    /// A host chain (HostEncoding.swift) when the input layer's current is more than an affine.
    public var hostSteps: [HostStep] = []
    /// Arousal: the constants after the switch to ϑ0_hp, the k-bit gain on the summed input
    /// (h_hp / h_lp), and the readout's float gain.
    public var arousedConstants: FixedConstants?
    public var arousalGain: Int64 = 0
    public var readoutArousalGain = 1.0
    public var inputs: [EmuProjection]
    /// Bias per compartment: integer LSBs (spiking) or float (readout).
    public var bias: [Int64]
    public var biasFloat: [Double]
    public var neurons: Int { h * w * c }
    public var compartments: Int { ch * cw * c }
}

/// One range of a core's input axons and how its synapses add.
public struct AxonRange: Sendable {
    /// Readout (host-side, float) inputs: `readoutPartial` partial sums travel as float64 bit patterns.
    public enum Mode: Sendable { case binary, graded(shift: Int), partial, readoutBinary(scale: Double), readoutGraded(scale: Double), readoutPartial }
    public var lo: Int, hi: Int
    public var mode: Mode
    /// Target accumulator: a layer's compartments (dendrite: -1 - dendrite block index).
    public var target: Int
}

public struct EmuCore: Sendable {
    public var ranges: [AxonRange]
    /// Synapse memory, CSR over input axons: target accumulator index and weight.
    public var synStart: [Int32]
    public var synTarget: [Int32]
    public var synWeight: [Int32]
    /// Output axon table, CSR over the core's outputs.
    public var outStart: [Int32]
    public var outCore: [Int32]
    public var outAxon: [Int32]
}

public struct DendriteBlock: Sendable {
    public var layer: Int
    public var core: Int
    public var firstOutput: Int
    public var compartments: Int
}

/// The profile's timing and energy numbers (cores.json "timing"), for the cycle model.
public struct EmuTiming: Sendable {
    public var clockHz: Double, timestepUs: Double
    public var axonEvent: Double, synapticOp: Double, neuronUpdate: Double, spikeOut: Double, stepOverhead: Double
    public var hasCycles: Bool
    public var hopLatencyNs: Double
    public var payloadBits: Int
    public var synapticOpPJ: Double, neuronUpdatePJ: Double, spikeHopPJ: Double, payloadBitPJ: Double
}

public struct EmuNetwork: Sendable {
    public var timing: EmuTiming
    /// Per core: global mesh position (row, column) and chip (row, column), for hop counts.
    public var position: [(row: Int, col: Int, chipRow: Int, chipCol: Int)]
    /// Per core: compartments it updates every step.
    public var compartmentsOnCore: [Int]
    public var model: String
    public var profile: String
    public var numerics: FixedNumerics
    public var layers: [EmuLayer]
    public var cores: [EmuCore]
    public var dendrites: [DendriteBlock]
    /// Per layer, per neuron: (core, output) its spikes leave from (-1: not routed).
    public var outputOf: [[(core: Int32, output: Int32)]]
    /// Arousal policy compiled in (layers.json "arousal"), and the ϑ0 the network was compiled at.
    public var arousal: Arousal?
    public var theta0Override: Double?
    public var synapses: Int { cores.reduce(0) { $0 + $1.synTarget.count } }
}

/// The required fields of one object of an artefact file: a missing, mistyped or out-of-range
/// field is an error naming the file, the object and the field — the reader takes no defaults.
struct Fields {
    let file: String
    let object: String
    let value: JSONValue

    init(file: String, object: String, _ value: JSONValue?) throws(ArtefactError) {
        guard let value, value.kind == .object else { throw ArtefactError(file: file, message: "\(object) is missing or not an object") }
        self.file = file
        self.object = object
        self.value = value
    }

    func fail(_ key: String, _ what: String) -> ArtefactError { ArtefactError(file: file, message: "\(object): field '\(key)' \(what)") }

    func int(_ key: String, _ range: ClosedRange<Int>) throws(ArtefactError) -> Int {
        guard let v = value[key] else { throw fail(key, "is missing") }
        guard let i = v.int else { throw fail(key, "must be an integer, found \(v.shortDescription)") }
        guard range.contains(i) else { throw fail(key, "is \(i); it must be \(range.lowerBound) … \(range.upperBound)") }
        return i
    }

    func double(_ key: String, _ range: ClosedRange<Double>) throws(ArtefactError) -> Double {
        guard let v = value[key] else { throw fail(key, "is missing") }
        guard let d = v.double else { throw fail(key, "must be a number, found \(v.shortDescription)") }
        guard range.contains(d) else { throw fail(key, "is \(d); it must be \(range.lowerBound) … \(range.upperBound)") }
        return d
    }

    func string(_ key: String, oneOf allowed: [String]) throws(ArtefactError) -> String {
        guard let v = value[key] else { throw fail(key, "is missing") }
        guard let t = v.string, allowed.contains(t) else { throw fail(key, "must be one of \(allowed.joined(separator: ", ")), found \(v.shortDescription)") }
        return t
    }

    func object(_ key: String) throws(ArtefactError) -> Fields {
        guard let v = value[key], v.kind == .object else { throw fail(key, "is missing or not an object") }
        return try Fields(file: file, object: "\(object).\(key)", v)
    }
}

public enum ArtefactReader {
    /// Reads a `host_encoding` of op `chain`: its steps, weights and biases from host.bin.
    static func hostChain(_ he: JSONValue, layer name: String, dir: String) throws(ArtefactError) -> [HostStep] {
        let path = dir + "/host.bin"
        guard let bytes = try? readWholeFile(path, limit: 1 << 32), bytes.count >= 8, String(decoding: bytes[0..<8], as: UTF8.self) == ArtefactFormat.hostMagic else {
            throw ArtefactError(file: path, message: "layer '\(name)': a host chain needs host.bin (magic SNNCHST1)")
        }
        func doubles(_ offset: Int?, _ count: Int) throws(ArtefactError) -> [Double] {
            guard let offset, offset >= 8, offset <= bytes.count, count >= 0, count <= (bytes.count - offset) / 8 else {
                throw ArtefactError(file: path, message: "layer '\(name)': a host step's values lie outside host.bin")
            }
            return (0..<count).map { ArtefactFormat.f64(bytes, offset + 8 * $0) }
        }
        var steps: [HostStep] = []
        var size: Int? = nil  // values flowing between steps, once known
        for sv in he["steps"]?.elements ?? [] {
            let ints = { (k: String) in (sv[k]?.elements ?? []).compactMap(\.int) }
            let step: HostStep
            switch sv["op"]?.string {
            case "affine":
                let scale = (sv["scale"]?.elements ?? []).compactMap(\.double), shift = (sv["shift"]?.elements ?? []).compactMap(\.double)
                guard !scale.isEmpty, scale.count == shift.count else { throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a host affine's scale and shift differ in length") }
                step = .affine(scale: scale, shift: shift)
            case "dense":
                guard let i = sv["in_features"]?.int, let o = sv["out_features"]?.int, (1...(1 << 24)).contains(i), (1...(1 << 24)).contains(o), i * o <= 1 << 28 else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a malformed host dense step")
                }
                step = .dense(inFeatures: i, outFeatures: o, weights: try doubles(sv["weights_offset"]?.int, i * o), bias: try doubles(sv["bias_offset"]?.int, o))
            case "conv":
                let inS = ints("in"), outS = ints("out"), k = ints("kernel"), st = ints("stride"), dl = ints("dilation"), pd = ints("padding")
                guard inS.count == 3, outS.count == 3, k.count == 2, st.count == 2, dl.count == 2, pd.count == 2,
                      (inS + outS).allSatisfy({ (1...(1 << 16)).contains($0) }), (k + st + dl).allSatisfy({ (1...1024).contains($0) }),
                      pd.allSatisfy({ (0...1024).contains($0) }), outS[0] * outS[1] * outS[2] <= 1 << 28, outS[2] * k[0] * k[1] * inS[2] <= 1 << 28 else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a malformed host convolution")
                }
                step = .conv(inShape: inS, outShape: outS, kernel: (k[0], k[1]), stride: (st[0], st[1]), dilation: (dl[0], dl[1]), padding: (pd[0], pd[1]),
                             weights: try doubles(sv["weights_offset"]?.int, outS[2] * k[0] * k[1] * inS[2]), bias: try doubles(sv["bias_offset"]?.int, outS[2]))
            default:
                throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': host step '\(sv["op"]?.string ?? "?")' is not one the emulator computes (affine, dense, conv)")
            }
            if let need = step.sizes.input, let have = size, need != have {
                throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a host step expects \(need) values, the one before gives \(have)")
            }
            if let out = step.sizes.output { size = out }
            steps.append(step)
        }
        guard !steps.isEmpty else { throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': an empty host chain") }
        return steps
    }

    /// `maxSynapses`: the most synapses the artefact may expand to (8 bytes each), counted as they
    /// are built; the default is far above any shipped example (MNIST on spinnaker: 41 M), and
    /// the fuzz target sets it lower to bound memory.
    /// `verifyManifest`: check every file against manifest.json first (size and SHA-256; the
    /// manifest against its own hash) — always, but for the fuzz target, which mutates the files
    /// behind the manifest's back to reach the decoders.
    public static func load(_ dir: String, maxSynapses: Int = 1 << 28, verifyManifest: Bool = true) throws(ArtefactError) -> EmuNetwork {
        if verifyManifest {
            try ArtefactFormat.verify(dir)
        }
        func json(_ name: String) throws(ArtefactError) -> JSONDocument {
            let path = dir + "/" + name
            guard let bytes = try? readWholeFile(path, limit: 1 << 31), let d = try? JSONDocument.parse(bytes) else {
                throw ArtefactError(file: path, message: "missing or not JSON; give a directory written by `snnc compile`")
            }
            return d
        }
        func bin(_ name: String) throws(ArtefactError) -> [UInt8] {
            guard let b = try? readWholeFile(dir + "/" + name, limit: 1 << 34) else { throw ArtefactError(file: dir + "/" + name, message: "missing") }
            return b
        }
        let layersDoc = try json("layers.json"), coresDoc = try json("cores.json")
        let weights = try bin("weights.bin"), tables = try bin("axon-tables.bin")
        guard weights.count >= 8, String(decoding: weights[0..<8], as: UTF8.self) == ArtefactFormat.weightsMagic,
              tables.count >= 8, String(decoding: tables[0..<8], as: UTF8.self) == ArtefactFormat.tablesMagic else {
            throw ArtefactError(file: dir, message: "weights.bin or axon-tables.bin has the wrong magic")
        }
        let i32 = ArtefactFormat.i32
        let root = layersDoc.root
        let layersFile = dir + "/layers.json"
        let nv = try Fields(file: layersFile, object: "numerics", root["numerics"])
        let widths = 2...62
        let numerics = FixedNumerics(rounding: RoundingMode(rawValue: try nv.string("rounding", oneOf: RoundingMode.allCases.map(\.rawValue)))!,
                                     wrap: try nv.string("overflow", oneOf: ["saturate", "wrap"]) == "wrap",
                                     currentBits: try nv.int("current_bits", widths), activationBits: try nv.int("activation_bits", widths),
                                     refractoryBits: try nv.int("refractory_bits", widths), thresholdBits: try nv.int("threshold_bits", widths),
                                     payloadBits: try nv.int("payload_bits", 0...62))
        var layers: [EmuLayer] = []
        var index: [String: Int] = [:]
        for lv in root["layers"]?.elements ?? [] {
            guard let name = lv["name"]?.string, !name.isEmpty else { throw ArtefactError(file: layersFile, message: "layers[\(layers.count)]: field 'name' is missing") }
            let lf = try Fields(file: layersFile, object: "layer '\(name)'", lv)
            let kind = EmuLayer.Kind(rawValue: try lf.string("kind", oneOf: ["injected", "spiking", "readout"]))!
            let graded = try lf.string("spikes", oneOf: ["binary", "graded"]) == "graded"
            let shape = (lv["shape"]?.elements ?? []).compactMap(\.int), cshape = (lv["compartment_shape"]?.elements ?? []).compactMap(\.int)
            let (h, w, c) = shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, 1, checkedProduct(shape) ?? -1)
            let (chh, cww) = cshape.count == 3 ? (cshape[0], cshape[1]) : (1, 1)
            var pool: (Int, Int, Int, Int, Int, Int)? = nil
            if let p = lv["max_pool"] {
                let sz = (p["size"]?.elements ?? []).compactMap(\.int), st = (p["stride"]?.elements ?? []).compactMap(\.int), pd = (p["padding"]?.elements ?? []).compactMap(\.int)
                guard sz.count == 2, st.count == 2, pd.count == 2, sz.allSatisfy({ (1...64).contains($0) }), st.allSatisfy({ (1...64).contains($0) }),
                      pd.allSatisfy({ (0...64).contains($0) }) else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a malformed max-pool window")
                }
                pool = (sz[0], sz[1], st[0], st[1], pd[0], pd[1])
            }
            // Spiking and injected layers carry their integer constants; a readout has none.
            let nf = kind == .readout ? nil : try lf.object("neuron")
            let alphaRange = 0...(1 << 30)
            var consts = FixedConstants(k: 1, alphaBeta: 0, alphaPhi: 0, alphaEta: 0, alphaGamma: 0, mf: 0, theta0: 1)
            var stateExponent = 0
            if let nf {
                consts = FixedConstants(k: try nf.int("decay_bits", 1...30), alphaBeta: Int64(try nf.int("alpha_beta", alphaRange)),
                                        alphaPhi: Int64(try nf.int("alpha_phi", alphaRange)), alphaEta: Int64(try nf.int("alpha_eta", alphaRange)),
                                        alphaGamma: Int64(try nf.int("alpha_gamma", alphaRange)), mf: Int64(try nf.int("m_f", 0...(1 << 40))),
                                        theta0: Int64(try nf.int("theta0", 1...(1 << 62))), payloadShift: graded ? try nf.int("payload_shift", 0...62) : 0)
                stateExponent = try nf.int("state_exponent", -1000...1000)
            }
            let spikeHeight = kind != .readout && !graded ? try lf.double("h", 1e-300...1e300) : 1
            let readoutTauPhi = kind == .readout ? try lf.double("readout_tau_phi", 1e-300...1e300) : 0
            var scale: [Double] = [], shift: [Double] = []
            var hostSteps: [HostStep] = []
            if let he = lv["host_encoding"], he["op"]?.string == "affine" {
                scale = (he["scale"]?.elements ?? []).compactMap(\.double)
                shift = (he["shift"]?.elements ?? []).compactMap(\.double)
                guard scale.count == shift.count, !scale.isEmpty else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': the host encoding's scale and shift differ in length")
                }
            } else if let he = lv["host_encoding"], he["op"]?.string == "chain" {
                hostSteps = try hostChain(he, layer: name, dir: dir)
            } else if let he = lv["host_encoding"], he["op"]?.string != "identity" {
                throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': the host encoding '\(he["op"]?.string ?? "?")' is not one the emulator computes (affine, chain or identity)")
            }
            guard pool != nil || (chh == h && cww == w) else {
                throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': \(chh)×\(cww) compartments for \(h)×\(w) neurons without a max-pool window")
            }
            guard h >= 1, w >= 1, c >= 1, chh >= 1, cww >= 1, (checkedProduct([h, w, c]) ?? Int.max) <= 1 << 28,
                  (checkedProduct([chh, cww, c]) ?? Int.max) <= 1 << 28 else {
                throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': shape or constants out of range")
            }
            var layer = EmuLayer(name: name, kind: kind, h: h, w: w, c: c, ch: chh, cw: cww, pool: pool,
                                 graded: graded, spikeHeight: spikeHeight, stateExponent: stateExponent,
                                 constants: consts, readoutTauPhi: readoutTauPhi, hostScale: scale, hostShift: shift, inputs: [],
                                 bias: [], biasFloat: [])
            if !hostSteps.isEmpty {
                guard hostSteps.last?.sizes.output.map({ $0 == layer.compartments }) ?? true else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': the host chain's output does not match the layer's \(layer.compartments) compartments")
                }
                layer.hostSteps = hostSteps
            }
            if let av = nf?.value["arousal"] {
                guard let t0 = av["theta0"]?.int, let mf = av["m_f"]?.int, let g = av["input_gain"]?.int, (1...(1 << 40)).contains(t0), (0...(1 << 30)).contains(mf),
                      (0...(1 << 40)).contains(g) else {
                    throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': malformed arousal registers")
                }
                var c = consts
                c.theta0 = Int64(t0)
                c.mf = Int64(mf)
                layer.arousedConstants = c
                layer.arousalGain = Int64(g)
            }
            if let g = lv["arousal_input_gain"]?.double, g.isFinite, g >= 0 { layer.readoutArousalGain = g }
            layer.bias = [Int64](repeating: 0, count: layer.compartments)
            layer.biasFloat = [Double](repeating: 0, count: layer.compartments)
            for pv in lv["inputs"]?.elements ?? [] {
                guard let src = pv["source"]?.string, let si = index[src] else { throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': unknown source") }
                var p = EmuProjection(source: si, kind: .identity)
                switch pv["kind"]?.string {
                case "dense": p.kind = .dense
                case "conv":
                    p.kind = .conv
                    func pair(_ k: String) -> (Int, Int) { let a = (pv[k]?.elements ?? []).compactMap(\.int); return a.count == 2 ? (a[0], a[1]) : (1, 1) }
                    p.inShape = (pv["in"]?.elements ?? []).compactMap(\.int)
                    p.outShape = (pv["out"]?.elements ?? []).compactMap(\.int)
                    p.kernel = pair("kernel"); p.stride = pair("stride"); p.dilation = pair("dilation")
                    let pd = (pv["padding"]?.elements ?? []).compactMap(\.int)
                    p.padding = pd.count == 2 ? (pd[0], pd[1]) : (0, 0)
                    guard p.kernel.0 >= 1, p.kernel.1 >= 1, p.kernel.0 <= 1024, p.kernel.1 <= 1024, p.stride.0 >= 1, p.stride.1 >= 1, p.dilation.0 >= 1, p.dilation.1 >= 1,
                          (-(1 << 20)...(1 << 20)).contains(p.padding.0), (-(1 << 20)...(1 << 20)).contains(p.padding.1), p.stride.0 <= 1 << 20, p.stride.1 <= 1 << 20, p.dilation.0 <= 1 << 20, p.dilation.1 <= 1 << 20 else {
                        throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': a malformed convolution")
                    }
                default: p.kind = .identity
                }
                if let wb = pv["weights_bin"], let off = wb["offset"]?.int, let cnt = wb["count"]?.int {
                    guard off >= 8, off <= weights.count, cnt >= 0, cnt <= (weights.count - off) / 4 else { throw ArtefactError(file: dir + "/weights.bin", message: "layer '\(name)': weights out of range") }
                    p.mantissas = (0..<cnt).map { i32(weights, off + 4 * $0) }
                    p.exponent = wb["exponent"]?.int ?? 0
                    guard (-1000...1000).contains(p.exponent) else { throw ArtefactError(file: dir + "/layers.json", message: "layer '\(name)': weight exponent \(p.exponent) out of range") }
                    p.weightShape = (wb["shape"]?.elements ?? []).compactMap(\.int)
                    if let bo = wb["bias_offset"]?.int, let bc = wb["bias_count"]?.int, bc > 0 {
                        let isFloat = wb["bias_float64"]?.bool ?? false
                        guard bo >= 8, bo <= weights.count, bc <= (weights.count - bo) / (isFloat ? 8 : 4) else { throw ArtefactError(file: dir + "/weights.bin", message: "bias out of range") }
                        for j in 0..<layer.compartments {
                            if isFloat { layer.biasFloat[j] += ArtefactFormat.f64(weights, bo + 8 * (j % bc)) } else { layer.bias[j] += Int64(i32(weights, bo + 4 * (j % bc))) }
                        }
                    }
                }
                layer.inputs.append(p)
            }
            index[name] = layers.count
            layers.append(layer)
        }
        // Cores: synapse memory from the axon groups, output tables from axon-tables.bin.
        var cores: [EmuCore] = []
        var dendrites: [DendriteBlock] = []
        var outputOf = layers.map { [(core: Int32, output: Int32)](repeating: (-1, -1), count: $0.neurons) }
        var dendriteOfBlock: [Int: Int] = [:]
        var synapseCount = 0
        let coreList = coresDoc.root["cores"]?.elements ?? []
        // First pass: dendrite blocks get accumulator ids.
        for (ci, cv) in coreList.enumerated() {
            for bv in cv["blocks"]?.elements ?? [] where bv["role"]?.string == "dendrite" {
                guard let l = index[bv["layer"]?.string ?? ""], let b = bv["block"]?.int else { continue }
                let rows = (bv["compartment_rows"]?.elements ?? []).count, cols = (bv["compartment_cols"]?.elements ?? []).count
                let chs = (bv["channels"]?.elements ?? []).compactMap(\.int)
                guard (0...(1 << 28)).contains(bv["first_output"]?.int ?? 0), chs.count == 2, chs[0] <= chs[1], chs[0] >= 0, (checkedProduct([rows, cols, chs[1] - chs[0]]) ?? Int.max) <= 1 << 28 else { throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): negative first_output") }
                dendriteOfBlock[b] = dendrites.count
                dendrites.append(DendriteBlock(layer: l, core: ci, firstOutput: bv["first_output"]?.int ?? 0, compartments: rows * cols * (chs.count == 2 ? chs[1] - chs[0] : 0)))
            }
        }
        for (ci, cv) in coreList.enumerated() {
            var ranges: [AxonRange] = []
            var lists: [[(Int32, Int32)]] = []
            for bv in cv["blocks"]?.elements ?? [] {
                guard let li = index[bv["layer"]?.string ?? ""] else { throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): unknown layer") }
                let L = layers[li]
                let ints = { (k: String) in (bv[k]?.elements ?? []).compactMap(\.int) }
                let rows = ints("rows"), cols = ints("cols"), chans = ints("channels")
                let compRows = ints("compartment_rows"), compCols = ints("compartment_cols")
                guard rows.count == 2, cols.count == 2, chans.count == 2, rows[0] >= 0, rows[0] <= rows[1], rows[1] <= L.h, cols[0] >= 0, cols[0] <= cols[1],
                      cols[1] <= L.w, chans[0] >= 0, chans[0] <= chans[1], chans[1] <= L.c,
                      compRows.allSatisfy({ $0 >= 0 && $0 < L.ch }), compCols.allSatisfy({ $0 >= 0 && $0 < L.cw }) else {
                    throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): a block of layer '\(L.name)' lies outside the layer")
                }
                let isDendrite = bv["role"]?.string == "dendrite"
                let dIndex = isDendrite ? dendriteOfBlock[bv["block"]?.int ?? -1] ?? -1 : -1
                let firstOutput = bv["first_output"]?.int ?? 0
                guard (0...(1 << 28)).contains(firstOutput) else { throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): negative first_output") }
                if !isDendrite {
                    var j = firstOutput
                    for y in rows[0]..<rows[1] { for x in cols[0]..<cols[1] { for c in chans[0]..<chans[1] {
                        outputOf[li][(y * L.w + x) * L.c + c] = (Int32(ci), Int32(clamping: j))
                        j += 1
                    } } }
                }
                var rowIdx = [Int](repeating: -1, count: L.ch), colIdx = [Int](repeating: -1, count: L.cw)
                for (i, r) in compRows.enumerated() where r < L.ch { rowIdx[r] = i }
                for (i, c) in compCols.enumerated() where c < L.cw { colIdx[c] = i }
                func target(_ cy: Int, _ cx: Int, _ o: Int) -> Int32 {
                    // Out-of-range targets are caught by the check after the cores are built.
                    if isDendrite { return Int32(clamping: (rowIdx[cy] * compCols.count + colIdx[cx]) * (chans[1] - chans[0]) + (o - chans[0])) }
                    return Int32(clamping: (cy * L.cw + cx) * L.c + o)
                }
                for av in bv["axons"]?.elements ?? [] {
                    let ar = (av["rows"]?.elements ?? []).compactMap(\.int), ac = (av["cols"]?.elements ?? []).compactMap(\.int)
                    let achs = (av["channels"]?.elements ?? []).compactMap(\.int)
                    guard achs.count == 2, achs[0] >= 0, achs[0] <= achs[1], (checkedProduct([ar.count, ac.count, achs[1] - achs[0]]) ?? Int.max) <= 1 << 26 else {
                        throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): a malformed axon group")
                    }
                    if av["kind"]?.string == "partial" {
                        guard ar.allSatisfy({ rowIdx.indices.contains($0) && rowIdx[$0] >= 0 }), ac.allSatisfy({ colIdx.indices.contains($0) && colIdx[$0] >= 0 }),
                              achs[0] >= chans[0], achs[1] <= chans[1] else {
                            throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): partial currents for compartments the block does not hold")
                        }
                    } else if let pi = av["projection"]?.int, pi >= 0, pi < L.inputs.count {
                        let S = layers[L.inputs[pi].source]
                        let (sh, sw, sc) = L.inputs[pi].kind == .identity ? (L.ch, L.cw, L.c) : (S.h, S.w, S.c)
                        guard ar.allSatisfy({ $0 >= 0 && $0 < sh }), ac.allSatisfy({ $0 >= 0 && $0 < sw }), achs[1] <= sc else {
                            throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): an axon group names neurons its source layer does not have")
                        }
                        if L.inputs[pi].kind == .identity {
                            guard ar.allSatisfy({ rowIdx[$0] >= 0 }), ac.allSatisfy({ colIdx[$0] >= 0 }), achs[0] >= chans[0], achs[1] <= chans[1] else {
                                throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): identity inputs for compartments the block does not hold")
                            }
                        }
                    }
                    let lo = lists.count
                    let tgt = isDendrite ? -1 - dIndex : li
                    if av["kind"]?.string == "partial" {
                        // Axon k carries the partial current of the soma's compartment k.
                        for y in ar { for x in ac { for c in achs[0]..<achs[1] { lists.append([(target(y, x, c), 1)]) } } }
                        ranges.append(AxonRange(lo: lo, hi: lists.count, mode: L.kind == .readout ? .readoutPartial : .partial, target: tgt))
                        continue
                    }
                    guard let pi = av["projection"]?.int, pi >= 0, pi < L.inputs.count else { throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): axon group without projection") }
                    let p = L.inputs[pi]
                    let S = layers[p.source]
                    switch p.kind {
                    case .dense:
                        guard p.weightShape.count == 2, p.weightShape[0] >= L.c, p.weightShape[1] >= S.neurons, p.mantissas.count == checkedProduct(p.weightShape) else {
                            throw ArtefactError(file: dir + "/layers.json", message: "layer '\(L.name)': dense weights do not match the layers")
                        }
                    case .conv:
                        guard p.weightShape.count == 4, p.weightShape[0] >= L.c, p.weightShape[1] == p.kernel.0, p.weightShape[2] == p.kernel.1, p.weightShape[3] >= S.c,
                              p.mantissas.count == checkedProduct(p.weightShape), p.stride.0 >= 1, p.stride.1 >= 1, p.dilation.0 >= 1, p.dilation.1 >= 1 else {
                            throw ArtefactError(file: dir + "/layers.json", message: "layer '\(L.name)': conv weights do not match the layers")
                        }
                    case .identity: break
                    }
                    let sExp = L.stateExponent
                    func toState(_ m: Int32) -> Int32 { Int32(clamping: FixedPointASN.rshift(Int64(m), sExp - p.exponent, numerics.rounding)) }
                    for y in ar { for x in ac { for sc in achs[0]..<achs[1] {
                        var syn: [(Int32, Int32)] = []
                        switch p.kind {
                        case .identity:
                            let wgt: Int32 = L.kind == .readout ? 1 : (S.graded ? 1 : Int32(clamping: saturatingInt64((S.spikeHeight / pow2(sExp)).rounded())))
                            syn.append((target(y, x, sc), wgt))
                        case .dense:
                            let i = (y * S.w + x) * S.c + sc
                            let inF = p.weightShape.count == 2 ? p.weightShape[1] : 0
                            for o in chans[0]..<chans[1] {
                                let m = p.mantissas[o * inF + i]
                                if m == 0 { continue }
                                syn.append((target(0, 0, o), L.kind == .readout || S.graded ? m : toState(m)))
                            }
                        case .conv:
                            let (kh, kw) = p.kernel, (sh, sw) = p.stride, (dh, dw) = p.dilation, (pt, pl) = p.padding
                            let inC = p.weightShape.count == 4 ? p.weightShape[3] : 1
                            for ky in 0..<kh {
                                let ny = y + pt - ky * dh
                                guard ny >= 0, ny % sh == 0, ny / sh < L.ch, rowIdx[ny / sh] >= 0 else { continue }
                                for kx in 0..<kw {
                                    let nx = x + pl - kx * dw
                                    guard nx >= 0, nx % sw == 0, nx / sw < L.cw, colIdx[nx / sw] >= 0 else { continue }
                                    for o in chans[0]..<chans[1] {
                                        let m = p.mantissas[((o * kh + ky) * kw + kx) * inC + sc]
                                        if m == 0 { continue }
                                        syn.append((target(ny / sh, nx / sw, o), S.graded ? m : toState(m)))
                                    }
                                }
                            }
                        }
                        synapseCount += syn.count
                        guard synapseCount <= maxSynapses else {
                            throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): more than \(maxSynapses) synapses in the artefact ")
                        }
                        lists.append(syn)
                    } } }
                    let mode: AxonRange.Mode
                    if L.kind == .readout {
                        mode = S.graded ? .readoutGraded(scale: pow2(p.exponent) * pow2(S.stateExponent + S.constants.payloadShift)) : (p.kind == .identity ? .readoutBinary(scale: S.spikeHeight) : .readoutBinary(scale: pow2(p.exponent)))
                    } else if S.graded {
                        let ps = S.constants.payloadShift
                        mode = .graded(shift: p.kind == .identity ? S.stateExponent + ps - sExp : p.exponent + S.stateExponent + ps - sExp)
                    } else {
                        mode = .binary
                    }
                    ranges.append(AxonRange(lo: lo, hi: lists.count, mode: mode, target: tgt))
                }
            }
            var start: [Int32] = [0], tg: [Int32] = [], wt: [Int32] = []
            for l in lists {
                for (t, w) in l { tg.append(t); wt.append(w) }
                start.append(Int32(tg.count))
            }
            // Output table.
            guard let off = cv["axon_table_offset"]?.int, off >= 8, off <= tables.count - 8 else { throw ArtefactError(file: dir + "/axon-tables.bin", message: "core \(ci): table offset out of range") }
            let outs = Int(i32(tables, off)), entries = Int(i32(tables, off + 4))
            guard outs >= 0, entries >= 0, off + 8 + 4 * (outs + 1) + 8 * entries <= tables.count else {
                throw ArtefactError(file: dir + "/axon-tables.bin", message: "core \(ci): table runs past the file")
            }
            let os = (0...outs).map { i32(tables, off + 8 + 4 * $0) }
            guard os.first == 0, os.last == Int32(entries), zip(os, os.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw ArtefactError(file: dir + "/axon-tables.bin", message: "core \(ci): the table's starts are not increasing")
            }
            let base = off + 8 + 4 * (outs + 1)
            let oc = (0..<entries).map { i32(tables, base + 8 * $0) }, oa = (0..<entries).map { i32(tables, base + 8 * $0 + 4) }
            for (li, outs2) in outputOf.enumerated() { for o in outs2 where o.core == Int32(ci) && Int(o.output) >= outs {
                throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): layer '\(layers[li].name)' has outputs beyond the core's table")
            } }
            for d in dendrites where d.core == ci && (checkedAdd(d.firstOutput, d.compartments) ?? Int.max) > outs {
                throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): a dendrite block's outputs lie beyond the core's table")
            }
            cores.append(EmuCore(ranges: ranges, synStart: start, synTarget: tg, synWeight: wt, outStart: os, outCore: oc, outAxon: oa))
        }
        // Every synapse must land in its accumulator.
        for (ci, c) in cores.enumerated() {
            for r in c.ranges {
                let size = r.target >= 0 ? layers[r.target].compartments : (dendrites.indices.contains(-1 - r.target) ? dendrites[-1 - r.target].compartments : 0)
                for k in Int(c.synStart[r.lo])..<Int(c.synStart[r.hi]) where c.synTarget[k] < 0 || Int(c.synTarget[k]) >= size {
                    throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): a synapse targets compartment \(c.synTarget[k]) of \(size)")
                }
            }
        }
        // Every routed entry must name an existing core and axon.
        for (ci, c) in cores.enumerated() {
            for k in c.outCore.indices where Int(c.outCore[k]) >= cores.count || c.outCore[k] < 0 || Int(c.outAxon[k]) >= cores[Int(c.outCore[k])].synStart.count - 1 || c.outAxon[k] < 0 {
                throw ArtefactError(file: dir + "/axon-tables.bin", message: "core \(ci): entry \(k) names core \(c.outCore[k]) axon \(c.outAxon[k]), which does not exist")
            }
        }
        let coresFile = dir + "/cores.json"
        let tf = try Fields(file: coresFile, object: "timing", coresDoc.root["timing"])
        let en = try tf.object("energy_pj")
        let cost = 0.0...1e18
        var timing = EmuTiming(clockHz: try tf.double("clock_hz", 1...1e18), timestepUs: try tf.double("timestep_us", 1e-3...1e18),
                               axonEvent: 0, synapticOp: 0, neuronUpdate: 0, spikeOut: 0, stepOverhead: 0, hasCycles: false,
                               hopLatencyNs: try tf.double("hop_latency_ns", cost), payloadBits: try tf.int("payload_bits", 0...62),
                               synapticOpPJ: try en.double("synaptic_op", cost), neuronUpdatePJ: try en.double("neuron_update", cost),
                               spikeHopPJ: try en.double("spike_hop", cost), payloadBitPJ: try en.double("payload_bit", cost))
        // Cycle costs are optional (a profile may not give them); given, all five are required.
        if tf.value["cycles"] != nil {
            let cyc = try tf.object("cycles")
            timing.axonEvent = try cyc.double("axon_event", cost)
            timing.synapticOp = try cyc.double("synaptic_op", cost)
            timing.neuronUpdate = try cyc.double("neuron_update", cost)
            timing.spikeOut = try cyc.double("spike_out", cost)
            timing.stepOverhead = try cyc.double("step_overhead", cost)
            timing.hasCycles = true
        }
        let tv: JSONValue? = tf.value
        let coreMesh = (tv?["mesh"]?["core_mesh"]?.elements ?? []).compactMap(\.int), chipMesh = (tv?["mesh"]?["chip_mesh"]?.elements ?? []).compactMap(\.int)
        let meshLimit = 1 << 20
        guard (coreMesh + chipMesh).allSatisfy({ (1...meshLimit).contains($0) }) else {
            throw ArtefactError(file: dir + "/cores.json", message: "timing.mesh: mesh sizes must be 1 … \(meshLimit)")
        }
        let cmr = coreMesh.count == 2 ? coreMesh[0] : 1, cmc = coreMesh.count == 2 ? coreMesh[1] : 1
        let chc = chipMesh.count == 2 ? chipMesh[1] : 1
        var position: [(row: Int, col: Int, chipRow: Int, chipCol: Int)] = []
        var compsOnCore: [Int] = []
        for (ci, cv) in coreList.enumerated() {
            guard let chip = cv["chip"].map({ $0.int }) ?? 0 else {
                throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): 'chip' must be an integer")
            }
            let cc = (cv["chip_core"]?.elements ?? []).compactMap(\.int)
            let (r, c) = cc.count == 2 ? (cc[0], cc[1]) : (0, 0)
            guard (0..<meshLimit * meshLimit).contains(chip), (0..<meshLimit).contains(r), (0..<meshLimit).contains(c) else {
                throw ArtefactError(file: dir + "/cores.json", message: "core \(ci): chip \(chip) or chip_core [\(r), \(c)] out of range")
            }
            position.append(((chip / chc) * cmr + r, (chip % chc) * cmc + c, chip / chc, chip % chc))
            var n = 0
            for bv in cv["blocks"]?.elements ?? [] {
                let rows = (bv["compartment_rows"]?.elements ?? []).count, cols = (bv["compartment_cols"]?.elements ?? []).count
                let chs = (bv["channels"]?.elements ?? []).compactMap(\.int)
                n += rows * cols * (chs.count == 2 ? min(max(0, chs[1] - chs[0]), 1 << 28) : 0)
            }
            compsOnCore.append(n)
        }
        var arousal: Arousal? = nil
        if let a = root["arousal"], let tsa = a["t_sa_ms"]?.int, let w = a["window_ms"]?.int, let lp = a["theta0_lp"]?.double, let hp = a["theta0_hp"]?.double,
           let p1 = a["p1"]?.double, let p2 = a["p2"]?.double {
            guard (0...1_000_000).contains(tsa), (1...1_000_000).contains(w), lp > 0, hp > 0, p1.isFinite, p2.isFinite, layers.allSatisfy({ $0.kind == .readout || $0.arousedConstants != nil }) else {
                throw ArtefactError(file: dir + "/layers.json", message: "a malformed arousal policy, or a layer without its arousal registers")
            }
            arousal = Arousal(startMs: tsa, windowMs: w, theta0Low: lp, theta0High: hp, p1: p1, p2: p2)
        }
        let override = root["theta0_override"]?.double.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        return EmuNetwork(timing: timing, position: position, compartmentsOnCore: compsOnCore, model: root["model"]?.string ?? "", profile: root["profile"]?.string ?? "", numerics: numerics, layers: layers,
                          cores: cores, dendrites: dendrites, outputOf: outputOf, arousal: arousal, theta0Override: override)
    }
}

/// A Double as Int64, saturated at the limits (NaN → 0): nothing read from a file may trap.
@inline(__always)
func saturatingInt64(_ d: Double) -> Int64 {
    if d.isNaN { return 0 }
    if d >= 9.2e18 { return Int64.max }
    if d <= -9.2e18 { return Int64.min }
    return Int64(d)
}

