// Reads a compiled artefact directory (Docs/artefact.md) — and nothing else — after checking it
// against its manifest: layers.json (the layers' constants and what the host computes),
// cores.json (where each core sits, where its image and table are), cores.bin (every core's
// image, decoded by SNNCArtefact's CoreImage) and axon-tables.bin. Small decoders; no defaults.
import SNNCArtefact
import SNNCIR
import SNNCJSON
#if canImport(Glibc)
import Glibc
#endif

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

    /// `maxSynapses`: the most synapse runs and weights the artefact may hold (the fuzz target
    /// sets it low to bound memory). `verifyManifest`: check every file against manifest.json
    /// first (size and SHA-256; the manifest against its own hash) — always, but for the fuzz
    /// target, which mutates the files behind the manifest's back to reach the decoders.
    public static func load(_ dir: String, maxSynapses: Int = 1 << 30, verifyManifest: Bool = true) throws(ArtefactError) -> EmuNetwork {
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
        func bin(_ name: String, _ magic: String) throws(ArtefactError) -> [UInt8] {
            guard let b = try? readWholeFile(dir + "/" + name, limit: 1 << 34) else { throw ArtefactError(file: dir + "/" + name, message: "missing") }
            guard b.count >= 8, String(decoding: b[0..<8], as: UTF8.self) == magic else { throw ArtefactError(file: dir + "/" + name, message: "does not start with \(magic)") }
            return b
        }
        let layersDoc = try json(ArtefactFormat.layers), coresDoc = try json(ArtefactFormat.cores)
        let images = try bin(ArtefactFormat.coreImages, ArtefactFormat.coreImagesMagic), tables = try bin(ArtefactFormat.axonTables, ArtefactFormat.tablesMagic)
        let root = layersDoc.root
        let layersFile = dir + "/" + ArtefactFormat.layers, coresFile = dir + "/" + ArtefactFormat.cores
        let numerics = try self.numerics(try Fields(file: layersFile, object: "numerics", root["numerics"]))
        var layers: [EmuLayer] = []
        var index: [String: Int] = [:]
        for lv in root["layers"]?.elements ?? [] {
            let l = try layer(lv, at: layers.count, index: index, file: layersFile, dir: dir)
            index[l.name] = layers.count
            layers.append(l)
        }
        guard !layers.isEmpty else { throw ArtefactError(file: layersFile, message: "no layers") }
        // Cores: their images, tables and positions.
        let tf = try Fields(file: coresFile, object: "timing", coresDoc.root["timing"])
        let timing = try self.timing(tf)
        let meshLimit = 1 << 20
        let mesh = try tf.object("mesh")
        func pair(_ f: Fields, _ key: String) throws(ArtefactError) -> (Int, Int) {
            let v = (f.value[key]?.elements ?? []).compactMap(\.int)
            guard v.count == 2, v.allSatisfy({ (1...meshLimit).contains($0) }) else { throw f.fail(key, "must be two integers 1 … \(meshLimit)") }
            return (v[0], v[1])
        }
        let (cmr, cmc) = try pair(mesh, "core_mesh"), (_, chc) = try pair(mesh, "chip_mesh")
        let coreList = coresDoc.root["cores"]?.elements ?? []
        guard !coreList.isEmpty, coreList.count <= 1 << 20 else { throw ArtefactError(file: coresFile, message: "field 'cores' must list 1 … \(1 << 20) cores") }
        let sizes = layers.map { (compartments: $0.compartments, neurons: $0.neurons) }
        var cores: [CoreProgram] = []
        var budget = maxSynapses
        var chipOf: [Int] = []
        for (ci, cv) in coreList.enumerated() {
            let f = try Fields(file: coresFile, object: "core \(ci)", cv)
            let chip = try f.int("chip", 0...(meshLimit * meshLimit - 1))
            let cc = (cv["chip_core"]?.elements ?? []).compactMap(\.int)
            guard cc.count == 2, (0..<cmr).contains(cc[0]), (0..<cmc).contains(cc[1]) else { throw f.fail("chip_core", "must be [row, column] within the \(cmr)×\(cmc) core mesh") }
            let im = try f.object("image")
            let off = try im.int("offset", 8...images.count), n = try im.int("bytes", 0...(images.count - off))
            let rawLimit = min(1 << 31, maxSynapses * 32 + (1 << 20))
            let raw = try im.int("raw_bytes", 0...rawLimit)
            guard let bytes = Zlib.inflateZlib(images[off..<(off + n)], expected: raw) else {
                throw ArtefactError(file: dir + "/" + ArtefactFormat.coreImages, message: "core \(ci): its image is not a zlib stream of \(raw) bytes")
            }
            let img = try CoreImage.decode(bytes[...], core: ci, layerSizes: sizes, limit: 1 << 28)
            budget -= img.runCount + img.weights.count
            guard budget >= 0 else { throw ArtefactError(file: dir + "/" + ArtefactFormat.coreImages, message: "core \(ci): more than \(maxSynapses) synapse runs and weights in the artefact") }
            let table = try outputTable(tables, at: try f.int("axon_table_offset", 8...tables.count), core: ci, file: dir + "/" + ArtefactFormat.axonTables)
            cores.append(try program(img, table: table, core: ci, layers: layers, numerics: numerics, file: dir + "/" + ArtefactFormat.coreImages))
            cores[ci].chip = chip
            cores[ci].row = (chip / chc) * cmr + cc[0]
            cores[ci].col = (chip % chc) * cmc + cc[1]
            chipOf.append(chip)
        }
        // Every table entry names an existing core and axon; hops from the mesh positions.
        for ci in cores.indices {
            var hops = [Int32](repeating: 0, count: cores[ci].outCore.count)
            for k in hops.indices {
                let d = Int(cores[ci].outCore[k]), a = Int(cores[ci].outAxon[k])
                guard d >= 0, d < cores.count, a >= 0, a < cores[d].axonRange.count else {
                    throw ArtefactError(file: dir + "/" + ArtefactFormat.axonTables, message: "core \(ci): entry \(k) names core \(d) axon \(a), which does not exist")
                }
                hops[k] = Int32(abs(cores[ci].row - cores[d].row) + abs(cores[ci].col - cores[d].col))
            }
            cores[ci].outHops = hops
        }
        widenSharedAxons(&cores)
        let chipIDs = Array(Set(chipOf)).sorted()
        let chips = chipIDs.map { id in cores.indices.filter { chipOf[$0] == id } }
        var arousal: Arousal? = nil
        if let a = root["arousal"], a.kind == .object {
            let af = try Fields(file: layersFile, object: "arousal", a)
            arousal = Arousal(startMs: try af.int("t_sa_ms", 0...1_000_000), windowMs: try af.int("window_ms", 1...1_000_000),
                              theta0Low: try af.double("theta0_lp", 1e-300...1e300), theta0High: try af.double("theta0_hp", 1e-300...1e300),
                              p1: try af.double("p1", -1e300...1e300), p2: try af.double("p2", -1e300...1e300))
            guard layers.allSatisfy({ $0.kind == .readout || $0.arousedConstants != nil }) else {
                throw ArtefactError(file: layersFile, message: "an arousal policy, but a layer without its arousal registers")
            }
        }
        let override = root["theta0_override"]?.double.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        return EmuNetwork(timing: timing, model: root["model"]?.string ?? "", profile: root["profile"]?.string ?? "", numerics: numerics,
                          layers: layers, cores: cores, chips: chips, arousal: arousal, theta0Override: override)
    }

    static func numerics(_ nv: Fields) throws(ArtefactError) -> FixedNumerics {
        let widths = 2...62
        return FixedNumerics(rounding: RoundingMode(rawValue: try nv.string("rounding", oneOf: RoundingMode.allCases.map(\.rawValue)))!,
                             wrap: try nv.string("overflow", oneOf: ["saturate", "wrap"]) == "wrap",
                             currentBits: try nv.int("current_bits", widths), activationBits: try nv.int("activation_bits", widths),
                             refractoryBits: try nv.int("refractory_bits", widths), thresholdBits: try nv.int("threshold_bits", widths),
                             payloadBits: try nv.int("payload_bits", 0...62))
    }

    static func timing(_ tf: Fields) throws(ArtefactError) -> EmuTiming {
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
        return timing
    }

    /// One layer of layers.json.
    static func layer(_ lv: JSONValue, at i: Int, index: [String: Int], file: String, dir: String) throws(ArtefactError) -> EmuLayer {
        guard let name = lv["name"]?.string, !name.isEmpty else { throw ArtefactError(file: file, message: "layers[\(i)]: field 'name' is missing") }
        let lf = try Fields(file: file, object: "layer '\(name)'", lv)
        let kind = EmuLayer.Kind(rawValue: try lf.string("kind", oneOf: ["injected", "spiking", "readout"]))!
        let graded = try lf.string("spikes", oneOf: ["binary", "graded"]) == "graded"
        let shape = (lv["shape"]?.elements ?? []).compactMap(\.int), cshape = (lv["compartment_shape"]?.elements ?? []).compactMap(\.int)
        let (h, w, c) = shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, 1, checkedProduct(shape) ?? -1)
        let (chh, cww, cc) = cshape.count == 3 ? (cshape[0], cshape[1], cshape[2]) : (1, 1, checkedProduct(cshape) ?? -1)
        guard h >= 1, w >= 1, c >= 1, chh >= 1, cww >= 1, cc == c, (checkedProduct([h, w, c]) ?? Int.max) <= 1 << 28,
              (checkedProduct([chh, cww, c]) ?? Int.max) <= 1 << 28 else {
            throw lf.fail("shape", "or compartment_shape is missing or out of range")
        }
        // Spiking and injected layers carry their integer constants; a readout has none.
        var consts = FixedConstants(k: 1, alphaBeta: 0, alphaPhi: 0, alphaEta: 0, alphaGamma: 0, mf: 0, theta0: 1)
        var l = EmuLayer(name: name, kind: kind, h: h, w: w, c: c, ch: chh, cw: cww, graded: graded, spikeHeight: 1, stateExponent: 0, constants: consts)
        if kind == .readout {
            l.readoutTauPhi = try lf.double("readout_tau_phi", 1e-300...1e300)
            l.readoutLSB = try lf.double("readout_lsb", 1e-300...1e300)
            let bias = (lv["bias"]?.elements ?? []).compactMap(\.double)
            guard bias.count == l.compartments else { throw lf.fail("bias", "must list \(l.compartments) numbers") }
            l.readoutBias = bias
            guard let src = lv["inputs"]?.elements.first?["source"]?.string, let si = index[src] else { throw lf.fail("inputs", "must name the readout's source layer first") }
            l.readoutSource = si
            if let d = lv["decoding"] {
                guard let t = d.string, ["filter", "integrate", "leaky"].contains(t) else { throw lf.fail("decoding", "must be filter, integrate or leaky") }
                if t == "integrate" { l.readoutLeak = .integrator }
                if t == "leaky" {
                    let k = try lf.object("leak")
                    let cuba = k.value["syn_decay"] != nil
                    let any = -1e12...1e12
                    l.readoutLeak = ReadoutLeak(memDecay: try k.double("mem_decay", any), memGain: try k.double("mem_gain", any), memLeak: try k.double("mem_leak", any),
                                                currentBased: cuba, synDecay: cuba ? try k.double("syn_decay", any) : 0, synGain: cuba ? try k.double("syn_gain", any) : 0)
                }
            }
            if let g = lv["arousal_input_gain"] { guard let d = g.double, d.isFinite, d >= 0 else { throw lf.fail("arousal_input_gain", "must be a number ≥ 0") }; l.readoutArousalGain = d }
            return l
        }
        let nf = try lf.object("neuron")
        if nf.value["model"] != nil {
            // An IF-family layer (Docs/artefact.md): its own record; binary spikes.
            let model = try nf.string("model", oneOf: ["if", "lif", "cuba_lif"])
            guard !graded else { throw lf.fail("spikes", "must be binary for an IF-family layer") }
            let k = try nf.int("decay_bits", 1...30)
            let act = (1 << 62) - 1
            let lk = LIFFixedConstants(k: k, memDecay: Int64(try nf.int("mem_decay", 0...(1 << k))),
                                       synDecay: model == "cuba_lif" ? Int64(try nf.int("syn_decay", 0...(1 << k))) : 0,
                                       currentBased: model == "cuba_lif", threshold: Int64(try nf.int("threshold", 1...act)),
                                       vReset: Int64(try nf.int("v_reset", -act...act)), leak: Int64(try nf.int("leak", -act...act)),
                                       subtract: try nf.string("reset", oneOf: ["subtract", "value"]) == "subtract",
                                       nextStep: try nf.string("reset_timing", oneOf: ["immediate", "next_step"]) == "next_step",
                                       family: ChipFamily(rawValue: try nf.string("family", oneOf: ChipFamily.allCases.map(\.rawValue)))!)
            l.lif = lk
            l.lif!.convInput = lk.family == .loihi && lv["inputs"]?.elements.first?["kind"]?.string == "conv"
            l.stateExponent = try nf.int("state_exponent", -1000...1000)
            l.spikeHeight = try lf.double("h", 1e-300...1e300)
            l.hostGain = try nf.double("input_gain", -1e12...1e12)
            guard nf.value["arousal"] == nil else { throw nf.fail("arousal", "is not defined for an IF-family layer") }
        } else {
            let alphaRange = 0...(1 << 30)
            consts = FixedConstants(k: try nf.int("decay_bits", 1...30), alphaBeta: Int64(try nf.int("alpha_beta", alphaRange)),
                                    alphaPhi: Int64(try nf.int("alpha_phi", alphaRange)), alphaEta: Int64(try nf.int("alpha_eta", alphaRange)),
                                    alphaGamma: Int64(try nf.int("alpha_gamma", alphaRange)), mf: Int64(try nf.int("m_f", 0...(1 << 40))),
                                    theta0: Int64(try nf.int("theta0", 1...(1 << 62))), payloadShift: graded ? try nf.int("payload_shift", 0...62) : 0)
            l.constants = consts
            l.stateExponent = try nf.int("state_exponent", -1000...1000)
            if !graded { l.spikeHeight = try lf.double("h", 1e-300...1e300) }
            if let av = nf.value["arousal"] {
                let a = try Fields(file: file, object: "layer '\(name)'.neuron.arousal", av)
                var k = consts
                k.theta0 = Int64(try a.int("theta0", 1...(1 << 40)))
                k.mf = Int64(try a.int("m_f", 0...(1 << 30)))
                l.arousedConstants = k
                l.arousalGain = Int64(try a.int("input_gain", 0...(1 << 40)))
            }
        }
        if kind == .injected {
            let he = try lf.object("host_encoding")
            switch try he.string("op", oneOf: ["identity", "affine", "chain"]) {
            case "affine":
                l.hostScale = (he.value["scale"]?.elements ?? []).compactMap(\.double)
                l.hostShift = (he.value["shift"]?.elements ?? []).compactMap(\.double)
                guard l.hostScale.count == l.hostShift.count, !l.hostScale.isEmpty else { throw he.fail("scale", "and 'shift' must be lists of the same non-zero length") }
            case "chain":
                l.hostSteps = try hostChain(he.value, layer: name, dir: dir)
                guard l.hostSteps.last?.sizes.output.map({ $0 == l.compartments }) ?? true else {
                    throw ArtefactError(file: file, message: "layer '\(name)': the host chain's output does not match the layer's \(l.compartments) compartments")
                }
            default: break
            }
        }
        return l
    }

    /// One core's output-axon table in axon-tables.bin.
    static func outputTable(_ tables: [UInt8], at off: Int, core ci: Int, file: String) throws(ArtefactError) -> (start: [Int32], core: [Int32], axon: [Int32]) {
        let i32 = ArtefactFormat.i32
        guard off <= tables.count - 8 else { throw ArtefactError(file: file, message: "core \(ci): table offset out of range") }
        let outs = Int(i32(tables, off)), entries = Int(i32(tables, off + 4))
        guard outs >= 0, entries >= 0, outs < 1 << 28, entries < 1 << 28, off + 8 + 4 * (outs + 1) + 8 * entries <= tables.count else {
            throw ArtefactError(file: file, message: "core \(ci): table runs past the file")
        }
        let os = (0...outs).map { i32(tables, off + 8 + 4 * $0) }
        guard os.first == 0, os.last == Int32(entries), zip(os, os.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw ArtefactError(file: file, message: "core \(ci): the table's starts are not increasing")
        }
        let base = off + 8 + 4 * (outs + 1)
        return (os, (0..<entries).map { i32(tables, base + 8 * $0) }, (0..<entries).map { i32(tables, base + 8 * $0 + 4) })
    }

    /// A block's pool windows as runs (CoreBlock.poolRuns): consecutive neurons whose windows
    /// have the same size and whose every window slot moves on by one compartment (a run of
    /// channels, channels-last), so step 3's maximum runs over contiguous compartments.
    static func poolRuns(start ps: [Int32], compartment pc: [Int32]) -> [Int32] {
        var runs: [Int32] = []
        var n = 0
        let neurons = ps.count - 1
        while n < neurons {
            let lo = Int(ps[n]), K = Int(ps[n + 1]) - lo
            var len = 1
            extend: while n + len < neurons {
                let m = n + len, mlo = Int(ps[m])
                guard Int(ps[m + 1]) - mlo == K else { break }
                for q in 0..<K where Int(pc[mlo + q]) != Int(pc[lo + q]) + len { break extend }
                len += 1
            }
            runs.append(contentsOf: [Int32(n), Int32(len), Int32(K)])
            runs.append(contentsOf: pc[lo..<(lo + K)])
            n += len
        }
        return runs
    }

    /// A decoded image made runnable: blocks placed in the core's state, weights converted to
    /// what each synapse adds (FixedPointASN.synapticWeight), events per axon counted.
    static func program(_ img: CoreImage, table: (start: [Int32], core: [Int32], axon: [Int32]), core ci: Int, layers: [EmuLayer],
                        numerics: FixedNumerics, file: String) throws(ArtefactError) -> CoreProgram {
        var blocks: [CoreBlock] = []
        var base = 0, nb = 0
        let outputs = table.start.count - 1
        for b in img.blocks {
            let l = layers[b.layer]
            let outs = b.dendrite ? b.layerCompartment.count : b.layerNeuron.count
            guard (checkedAdd(b.firstOutput, outs) ?? Int.max) <= outputs else {
                throw ArtefactError(file: file, message: "core \(ci): a block of layer '\(l.name)' has outputs beyond the core's \(outputs) in its table")
            }
            blocks.append(CoreBlock(layer: b.layer, dendrite: b.dendrite, base: base, count: b.layerCompartment.count, firstOutput: b.firstOutput,
                                    layerCompartment: b.layerCompartment, bias: b.bias, layerNeuron: b.layerNeuron, poolStart: b.poolStart,
                                    poolCompartment: b.poolCompartment, neuronBase: nb))
            blocks[blocks.count - 1].poolRuns = poolRuns(start: b.poolStart, compartment: b.poolCompartment)
            base += b.layerCompartment.count
            nb += b.layerNeuron.count
        }
        var weights = img.weights
        var axonRange = [Int32](repeating: 0, count: img.axons), rowEvents = [Int32](repeating: 0, count: img.axons)
        var ranges: [CoreRange] = []
        // nonzero[i]: weights before i that are not 0, so a run's events are a difference.
        var nonzero = [Int32](repeating: 0, count: img.weights.count + 1)
        for (i, w) in img.weights.enumerated() { nonzero[i + 1] = nonzero[i] + (w != 0 ? 1 : 0) }
        for (ri, r) in img.ranges.enumerated() {
            ranges.append(CoreRange(mode: r.mode, shift: r.shift, block: r.block, layer: img.blocks[r.block].layer))
            let countsZero = r.source == .identity || r.source == .partial
            for a in r.firstAxon..<(r.firstAxon + r.axons) {
                axonRange[a] = Int32(ri)
                var ev = 0
                for k in Int(img.rowStart[a])..<Int(img.rowStart[a + 1]) {
                    let w = Int(img.runs[3 * k + 2]), n = Int(img.runs[3 * k + 1])
                    ev += countsZero ? n : Int(nonzero[w + n] - nonzero[w])
                }
                rowEvents[a] = Int32(ev)
            }
            if r.mode == .binary {
                for k in r.weightStart..<(r.weightStart + r.weightCount) { weights[k] = FixedPointASN.synapticWeight(img.weights[k], shift: r.shift, numerics.rounding) }
            }
        }
        var program = CoreProgram(chip: 0, row: 0, col: 0, blocks: blocks, compartments: base, neurons: nb, ranges: ranges, axonRange: axonRange, rowEvents: rowEvents,
                                  rowStart: img.rowStart, runs: img.runs, weights: weights, synapses: img.synapses,
                                  outStart: table.start, outCore: table.core, outAxon: table.axon, outHops: [])
        narrow(&program, img)
        return program
    }

    /// Marks the binary ranges that can run narrow (CoreRange.narrow): their 32-bit sums are
    /// exact because every compartment's Σ|w| over its binary synapses stays below 2^31 — the
    /// most one step can add when each axon carries at most one spike per step (checked over all
    /// tables). Where every binary range into a block converts its mantissas by the same left
    /// shift L without saturating (w = m · 2^L), the block sums the 16-bit mantissas and shifts
    /// once, when the sum is read: Σ m · 2^L = Σ w exactly (`CoreBlock.narrowShift`).
    static func narrow(_ p: inout CoreProgram, _ img: CoreImage) {
        let fits16 = { (v: Int32) in v >= Int32(Int16.min) && v <= Int32(Int16.max) }
        var w16 = [Int16](repeating: 0, count: p.weights.count)
        var any16 = false
        for (bi, blk) in p.blocks.enumerated() {
            let binary = img.ranges.indices.filter { img.ranges[$0].mode == .binary && img.ranges[$0].block == bi }
            guard !binary.isEmpty else { continue }
            let shifts = Set(binary.map { img.ranges[$0].shift })
            // Mantissa mode: one left shift, no weight saturated by it, mantissas of 16 bits.
            var mantissa = false
            if shifts.count == 1, let sh = shifts.first, sh <= 0 {
                mantissa = binary.allSatisfy { ri in
                    let r = img.ranges[ri]
                    return img.weights[r.weightStart..<(r.weightStart + r.weightCount)].allSatisfy { fits16($0) && Int64($0.magnitude) << Int64(-sh) <= Int64(Int32.max) }
                }
            }
            var bound = [Int64](repeating: 0, count: blk.count)
            for ri in binary {
                let r = img.ranges[ri]
                for a in r.firstAxon..<(r.firstAxon + r.axons) {
                    for k in Int(img.rowStart[a])..<Int(img.rowStart[a + 1]) {
                        let t = Int(img.runs[3 * k]) - blk.base, n = Int(img.runs[3 * k + 1]), w = Int(img.runs[3 * k + 2])
                        for i in 0..<n {
                            let m = Int64(mantissa ? img.weights[w + i].magnitude : p.weights[w + i].magnitude)
                            bound[t + i] = min(bound[t + i] &+ m, Int64(1) << 40)
                        }
                    }
                }
            }
            guard bound.allSatisfy({ $0 < Int64(Int32.max) }) else { continue }
            if mantissa { p.blocks[bi].narrowShift = -(shifts.first ?? 0) }
            for ri in binary {
                let r = img.ranges[ri]
                p.ranges[ri].narrow = true
                let src = mantissa ? img.weights : p.weights
                let seg = r.weightStart..<(r.weightStart + r.weightCount)
                guard src[seg].allSatisfy(fits16) else { continue }
                p.ranges[ri].weights16 = true
                any16 = true
                for k in seg { w16[k] = Int16(truncatingIfNeeded: src[k]) }
            }
        }
        if any16 { p.weights16 = w16 }
    }

    /// A core whose axons may receive two spikes in one step (two table entries naming the same
    /// axon) cannot rely on the narrow bound: its ranges run wide.
    static func widenSharedAxons(_ cores: inout [CoreProgram]) {
        var sources = cores.map { [UInt8](repeating: 0, count: $0.axonRange.count) }
        var shared = [Bool](repeating: false, count: cores.count)
        for c in cores {
            for k in c.outCore.indices {
                let d = Int(c.outCore[k]), a = Int(c.outAxon[k])
                if sources[d][a] > 0 { shared[d] = true } else { sources[d][a] = 1 }
            }
        }
        for d in cores.indices where shared[d] {
            for ri in cores[d].ranges.indices { cores[d].ranges[ri].narrow = false; cores[d].ranges[ri].weights16 = false }
        }
    }
}
