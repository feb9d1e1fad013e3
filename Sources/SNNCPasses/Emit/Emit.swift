// emit: the artefact's machine-readable files (Docs/artefact.md) from the compile unit —
// layers.json, cores.json, every core's image (cores.bin), the output-axon tables, the
// quantised weights, the host's float64 steps, the router tables and the quantisation report.
// The driver adds the source model, the placement report and the manifest, and writes them.
import SNNCArtefact
import SNNCHardware
import SNNCIR
import SNNCJSON

public struct Emit: Pass {
    public let name = "emit"
    public let summary = "the artefact's files: layers, cores and their images, axon tables, weights, host steps, routing"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        guard unit.routing != nil, unit.coreImages.count == unit.partition?.cores.count else { return }
        unit.artefactFiles = Self.files(unit)
    }

    static func files(_ unit: CompileUnit) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        let (weightsBin, weightIndex) = weights(unit)
        var hostBin: [UInt8] = Array(ArtefactFormat.hostMagic.utf8)
        out.append((ArtefactFormat.layers, Array(layersJSON(unit, weightIndex, &hostBin).serialized().utf8)))
        let (tables, offsets) = axonTables(unit)
        // cores.bin (built by build-synapses): "SNNCCOR1", then each core's image as a zlib stream
        // (deflate level 1).
        let imageAt = unit.coreImages.at.map { ($0.offset, $0.bytes, $0.raw) }
        out.append((ArtefactFormat.cores, Array(coresJSON(unit, offsets, imageAt).serialized().utf8)))
        out.append((ArtefactFormat.coreImages, unit.coreImages.bin))
        out.append((ArtefactFormat.axonTables, tables))
        out.append((ArtefactFormat.weights, weightsBin))
        if hostBin.count > 8 { out.append((ArtefactFormat.host, hostBin)) }
        out.append(("routing.json", Array(routingJSON(unit).serialized().utf8)))
        out.append(("routing.txt", Array(routingText(unit).utf8)))
        out.append(("quantization.json", Array(quantizationJSON(unit).serialized().utf8)))
        return out
    }

    /// weights.bin: per weighted node, int32 mantissas (dense [out][in], conv [out][ky][kx][in]),
    /// then int32 biases in the target layer's state LSBs.
    static func weights(_ unit: CompileUnit) -> ([UInt8], [String: JSONOutput]) {
        var out: [UInt8] = Array(ArtefactFormat.weightsMagic.utf8)
        var index: [String: JSONOutput] = [:]
        let q = Dictionary(unit.quantization.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        for n in unit.model.nodes {
            guard let lq = q[n.name] else { continue }
            let offset = out.count
            let shape: [Int], bias: Tensor?
            switch n.attributes {
            case .dense(let d): (shape, bias) = ([d.outFeatures, d.inFeatures], d.bias)
            case .conv2d(let c): (shape, bias) = ([c.outChannels, c.kernelH, c.kernelW, c.inChannels], c.bias)
            default: continue
            }
            let (m, _) = Quantize.mantissas(of: n.name, unit)
            for v in m { ArtefactFormat.le32(v, &out) }
            let count = m.count
            var fields: [(String, JSONOutput)] = [("offset", .int(offset)), ("count", .int(count)), ("shape", .array(shape.map { .int($0) })),
                                                  ("bits", .int(lq.bits)), ("exponent", .int(lq.exponent))]
            if let b = bias, let target = unit.drivenLayer(by: n.name, includingReadout: true) {
                let bo = out.count
                if let f = unit.neuronFormats[target], let lsbs = Quantize.biasLSBs(of: n.name, stateExponent: f.stateExponent, unit) {
                    for v in lsbs { ArtefactFormat.le32(v, &out) }
                    fields += [("bias_offset", .int(bo)), ("bias_count", .int(b.count)), ("bias_state_exponent", .int(f.stateExponent))]
                } else {
                    // The readout (read by the host): float64 biases.
                    for v in b.toDoubles() { ArtefactFormat.le64(v, &out) }
                    fields += [("bias_offset", .int(bo)), ("bias_count", .int(b.count)), ("bias_float64", .bool(true))]
                }
            }
            index[n.name] = .object(fields)
        }
        return (out, index)
    }

    static func layersJSON(_ unit: CompileUnit, _ weightIndex: [String: JSONOutput], _ hostBin: inout [UInt8]) -> JSONOutput {
        let g = unit.graph!
        let num = unit.profile.numerics
        return .object([
            ("model", .string(unit.model.name)), ("profile", .string(unit.profile.name)),
            ("numerics", .object([("rounding", .string(num.rounding.rawValue)), ("overflow", .string(num.overflow.rawValue)),
                                  ("current_bits", .int(num.currentBits)), ("activation_bits", .int(num.activationBits)),
                                  ("refractory_bits", .int(num.refractoryBits)), ("threshold_bits", .int(num.thresholdBits)),
                                  ("decay_bits", .int(num.decayBits)), ("weight_bits", .int(num.weightBits)),
                                  ("payload_bits", .int(unit.profile.spikes.payloadBits))])),
            ("theta0_override", unit.theta0Override.map { .double($0) } ?? .null),
            ("arousal", unit.arousal.map { a in
                .object([("t_sa_ms", .int(a.startMs)), ("window_ms", .int(a.windowMs)), ("theta0_lp", .double(a.theta0Low)), ("theta0_hp", .double(a.theta0High)),
                         ("p1", .double(a.p1)), ("p2", .double(a.p2))])
            } ?? .null),
            ("layers", .array(g.layers.map { (l: MapLayer) -> JSONOutput in
                var f: [(String, JSONOutput)] = [("name", .string(l.name)), ("kind", .string(l.kind.rawValue)),
                                                 ("shape", .array(l.shape.map { .int($0) })), ("compartment_shape", .array(l.compartmentShape.map { .int($0) })),
                                                 ("spikes", .string(l.graded ? "graded" : "binary"))]
                if let p = l.pool {
                    f.append(("max_pool", .object([("size", .array([.int(p.sizeH), .int(p.sizeW)])), ("stride", .array([.int(p.strideH), .int(p.strideW)])),
                                                    ("padding", .array([.int(p.padding.top), .int(p.padding.left)]))])))
                }
                if let h = unit.spikeHeight(of: l.name) { f.append(("h", .double(h))) }
                if let nf = unit.neuronFormats[l.name], let lif = nf.lif {
                    f.append(("neuron", .object([("model", .string(lif.kind.rawValue)), ("state_exponent", .int(nf.stateExponent)), ("decay_bits", .int(nf.decayBits)),
                                                  ("threshold", .int(lif.threshold)), ("mem_decay", .int(lif.memDecay))]
                                                 + (lif.kind == .currentBased ? [("syn_decay", .int(lif.synDecay))] : [])
                                                 + [("leak", .int(lif.leak)), ("v_reset", .int(lif.vReset)), ("reset", .string(lif.subtract ? "subtract" : "value")),
                                                    ("reset_timing", .string(lif.nextStep ? "next_step" : "immediate")), ("input_gain", .double(unit.inputGain(of: l.name))),
                                                    ("family", .string(unit.profile.family.rawValue))])))
                } else if let nf = unit.neuronFormats[l.name] {
                    f.append(("neuron", .object([("state_exponent", .int(nf.stateExponent)), ("theta0", .int(nf.theta0)), ("m_f", .int(nf.mf)),
                                                  ("decay_bits", .int(nf.decayBits)), ("alpha_beta", .int(nf.alphaBeta)), ("alpha_phi", .int(nf.alphaPhi)),
                                                  ("alpha_eta", .int(nf.alphaEta)), ("alpha_gamma", .int(nf.alphaGamma))]
                                                 + (l.graded ? [("payload_shift", .int(nf.payloadShift))] : [])
                                                 + (nf.arousal.map { [("arousal", .object([("theta0", .int($0.theta0)), ("m_f", .int($0.mf)), ("input_gain", .int($0.inputGain))]))] } ?? []))))
                }
                if case .readout(let tau, let leak) = unit.model.node(named: l.name)?.attributes {
                    f.append(("readout_tau_phi", .double(tau)))
                    // A readout fed by IF-family layers integrates (the float reference's membrane readout).
                    if let p = leak {
                        // Its own leaky dynamics, in float64 on the host (Docs/fixed-point.md "Readout").
                        f.append(("decoding", .string("leaky")))
                        f.append(("leak", .object([("mem_decay", .double(p.memDecay)), ("mem_gain", .double(p.memGain)), ("mem_leak", .double(p.memLeak))]
                                                  + (p.kind == .currentBased ? [("syn_decay", .double(p.synDecay)), ("syn_gain", .double(p.synGain))] : []))))
                    } else if l.inputs.contains(where: { unit.model.node(named: g.layers[$0.source].name)?.isIntegrateAndFire == true }) {
                        f.append(("decoding", .string("integrate")))
                    }
                    // The host reads the readout's accumulators as integers × readout_lsb, plus its float bias.
                    f.append(("readout_lsb", .double(unit.readoutLSB[l.name] ?? 1)))
                    f.append(("bias", .array(readoutBias(l, unit).map { .double($0) })))
                    if unit.arousal != nil { f.append(("arousal_input_gain", .double(Quantize.arousalGain(into: l.name, unit)))) }
                }
                if l.kind == .injected { f.append(("host_encoding", hostEncoding(l.name, unit, &hostBin))) }
                f.append(("inputs", .array(l.inputs.map { p in
                    var pf: [(String, JSONOutput)] = [("source", .string(g.layers[p.source].name))]
                    switch p.kind {
                    case .dense(let n): pf += [("kind", .string("dense")), ("in_features", .int(n))]
                    case .identity: pf += [("kind", .string("identity"))]
                    case .conv(let c):
                        pf += [("kind", .string("conv")), ("in", .array([.int(c.inH), .int(c.inW), .int(c.inC)])), ("out", .array([.int(c.outH), .int(c.outW), .int(c.outC)])),
                               ("kernel", .array([.int(c.kh), .int(c.kw)])), ("stride", .array([.int(c.sh), .int(c.sw)])),
                               ("dilation", .array([.int(c.dh), .int(c.dw)])), ("padding", .array([.int(c.padTop), .int(c.padLeft)]))]
                    }
                    if let w = p.weightNode { pf += [("weights", .string(w)), ("weights_bin", weightIndex[w] ?? .null)] }
                    return .object(pf)
                })))
                return .object(f)
            })),
        ])
    }

    /// How the host computes an input layer's current from the data: the per-feature affine of
    /// the batch-norm before it (x·scale + shift), the identity, or a chain of float64 host
    /// steps (dense, conv, affine; weights and biases in host.bin) — a standard network's first
    /// weighted layer, which reads the analog input and so stays on the host.
    static func hostEncoding(_ layer: String, _ unit: CompileUnit, _ hostBin: inout [UInt8]) -> JSONOutput {
        guard let n = unit.model.node(named: layer), let src = unit.model.node(named: n.inputs[0]) else { return .null }
        switch src.attributes {
        case .input: return .object([("op", .string("identity"))])
        case .batchnorm(let b) where unit.model.node(named: src.inputs[0])?.op == .input:
            let (scale, shift) = b.affine
            return .object([("op", .string("affine")), ("scale", .array(scale.map { .double($0) })), ("shift", .array(shift.map { .double($0) }))])
        default: break
        }
        // A chain of single-input nodes back to the input.
        var chain: [Node] = []
        var cur: Node? = src
        while let c = cur, c.op != .input {
            guard c.inputs.count == 1, [.dense, .conv2d, .batchnorm, .flatten].contains(c.op) else { chain = []; break }
            chain.insert(c, at: 0)
            cur = unit.model.node(named: c.inputs[0])
        }
        guard !chain.isEmpty else {
            return .object([("op", .string("host-graph")), ("note", .string("computed by the host from the model's nodes \(unit.hostNodes.joined(separator: ", "))"))])
        }
        func put(_ values: [Double]) -> Int {
            let offset = hostBin.count
            for v in values { ArtefactFormat.le64(v, &hostBin) }
            return offset
        }
        var steps: [JSONOutput] = []
        for c in chain {
            switch c.attributes {
            case .dense(let d):
                var w: [Double] = []
                w.reserveCapacity(d.outFeatures * d.inFeatures)
                for o in 0..<d.outFeatures { for i in 0..<d.inFeatures { w.append(d.weight(out: o, in: i)) } }
                let bias = d.bias?.toDoubles() ?? [Double](repeating: 0, count: d.outFeatures)
                steps.append(.object([("op", .string("dense")), ("in_features", .int(d.inFeatures)), ("out_features", .int(d.outFeatures)),
                                      ("weights_offset", .int(put(w))), ("bias_offset", .int(put(bias)))]))
            case .conv2d(let cv):
                let inShape = unit.model.node(named: c.inputs[0])?.shape ?? []
                guard inShape.count == 3, c.shape.count == 3 else { continue }
                var w: [Double] = []
                w.reserveCapacity(cv.outChannels * cv.kernelH * cv.kernelW * cv.inChannels)
                for o in 0..<cv.outChannels { for ky in 0..<cv.kernelH { for kx in 0..<cv.kernelW { for i in 0..<cv.inChannels {
                    w.append(cv.weight(out: o, in: i, ky: ky, kx: kx))
                } } } }
                let bias = cv.bias?.toDoubles() ?? [Double](repeating: 0, count: cv.outChannels)
                steps.append(.object([("op", .string("conv")), ("in", .array(inShape.map { .int($0) })), ("out", .array(c.shape.map { .int($0) })),
                                      ("kernel", .array([.int(cv.kernelH), .int(cv.kernelW)])), ("stride", .array([.int(cv.strideH), .int(cv.strideW)])),
                                      ("dilation", .array([.int(cv.dilationH), .int(cv.dilationW)])), ("padding", .array([.int(cv.padding.top), .int(cv.padding.left)])),
                                      ("weights_offset", .int(put(w))), ("bias_offset", .int(put(bias)))]))
            case .batchnorm(let b):
                let (scale, shift) = b.affine
                steps.append(.object([("op", .string("affine")), ("scale", .array(scale.map { .double($0) })), ("shift", .array(shift.map { .double($0) }))]))
            default: break  // flatten: channels-last data is already flat
            }
        }
        return .object([("op", .string("chain")), ("steps", .array(steps)),
                        ("note", .string("float64 on the host, weights in host.bin (little-endian float64; dense [out][in], conv [out][ky][kx][in])"))])
    }


    /// axon-tables.bin: "SNNCAXT1", then per core: u32 outputs, u32 entries, (outputs+1) u32
    /// starts, entries × (u32 destination core, u32 axon). Returns the bytes and each core's offset.
    static func axonTables(_ unit: CompileUnit) -> ([UInt8], [Int]) {
        let r = unit.routing!
        var out: [UInt8] = Array(ArtefactFormat.tablesMagic.utf8)
        var offsets: [Int] = []
        for c in r.tableStart.indices {
            offsets.append(out.count)
            ArtefactFormat.le32(Int32(r.tableStart[c].count - 1), &out)
            ArtefactFormat.le32(Int32(r.tableCore[c].count), &out)
            for s in r.tableStart[c] { ArtefactFormat.le32(s, &out) }
            for k in r.tableCore[c].indices {
                ArtefactFormat.le32(r.tableCore[c][k], &out)
                ArtefactFormat.le32(r.tableAxon[c][k], &out)
            }
        }
        return (out, offsets)
    }

    /// The readout's bias per compartment (float64, summed over the weighted nodes feeding it).
    static func readoutBias(_ l: MapLayer, _ unit: CompileUnit) -> [Double] {
        var out = [Double](repeating: 0, count: l.compartments)
        for p in l.inputs {
            guard let w = p.weightNode, let v = Quantize.bias(of: w, unit)?.toDoubles(), !v.isEmpty else { continue }
            for j in out.indices { out[j] += v[j % v.count] }
        }
        return out
    }

    static func coresJSON(_ unit: CompileUnit, _ offsets: [Int], _ imageAt: [(Int, Int, Int)]) -> JSONOutput {
        let part = unit.partition!, place = unit.placement!, r = unit.routing!, g = unit.graph!
        let geo = MeshGeometry(unit.profile)
        let pr = unit.profile
        var timing: [(String, JSONOutput)] = [("clock_hz", .double(pr.clockHz)), ("timestep_us", .double(pr.timestepUs))]
        if let c = pr.cycles {
            timing.append(("cycles", .object([("axon_event", .double(c.axonEvent)), ("synaptic_op", .double(c.synapticOp)), ("neuron_update", .double(c.neuronUpdate)),
                                              ("spike_out", .double(c.spikeOut)), ("step_overhead", .double(c.stepOverhead))])))
        }
        timing += [("hop_latency_ns", .double(pr.router.hopLatencyNs)), ("link_spikes_per_step", .int(pr.router.linkSpikesPerStep)),
                   ("packet_bits", .int(pr.router.packetBits)), ("payload_bits", .int(pr.spikes.payloadBits)),
                   ("energy_pj", .object([("synaptic_op", .double(pr.energy.synapticOpPJ)), ("neuron_update", .double(pr.energy.neuronUpdatePJ)),
                                          ("spike_hop", .double(pr.energy.spikeHopPJ)), ("payload_bit", .double(pr.energy.payloadBitPJ))])),
                   ("mesh", .object([("chip_mesh", .array([.int(pr.chipMesh.rows), .int(pr.chipMesh.cols)])), ("core_mesh", .array([.int(pr.coreMesh.rows), .int(pr.coreMesh.cols)])),
                                     ("application_cores", .int(pr.applicationCoresPerChip))]))]
        return .object([
            ("profile", .string(unit.profile.name)), ("router", .string(unit.profile.router.scheme.rawValue)),
            ("timing", .object(timing)),
            ("cores", .array(part.cores.enumerated().map { c, bs in
                let slot = place.slotOfCore[c]
                let k = geo.coordinates(slot)
                var f: [(String, JSONOutput)] = [("core", .int(c)), ("slot", .int(slot)), ("chip", .int(geo.chip(slot))),
                                                 ("chip_core", .array([.int(k.r), .int(k.c)])), ("axon_table_offset", .int(offsets[c])),
                                                 ("image", .object([("offset", .int(imageAt[c].0)), ("bytes", .int(imageAt[c].1)), ("raw_bytes", .int(imageAt[c].2))]))]
                f.append(("blocks", .array(bs.enumerated().map { i, b in
                    let blk = part.blocks[b]
                    var bf: [(String, JSONOutput)] = [("block", .int(b)), ("layer", .string(g.layers[blk.layer].name))]
                    switch blk.role {
                    case .soma: bf.append(("role", .string("soma")))
                    case .dendrite(let gr, let n, let soma): bf += [("role", .string("dendrite")), ("group", .int(gr)), ("groups", .int(n)), ("soma_block", .int(soma))]
                    }
                    bf += [("rows", .array([.int(blk.rows.lowerBound), .int(blk.rows.upperBound)])), ("cols", .array([.int(blk.cols.lowerBound), .int(blk.cols.upperBound)])),
                           ("channels", .array([.int(blk.channels.lowerBound), .int(blk.channels.upperBound)])),
                           ("compartment_rows", .array(blk.compRows.map { .int($0) })), ("compartment_cols", .array(blk.compCols.map { .int($0) })),
                           ("first_output", .int(r.neuronBase[c][i])), ("first_axon", .int(r.axonBase[c][i])),
                           ("state_layout", .string("per compartment, row-major (row, col, channel): I, S, Ŝ, ϑ (\(unit.profile.limits(core: 0).stateBitsPerNeuron) bits)")),
                           ("axons", .array(blk.axons.map { a in
                               var af: [(String, JSONOutput)] = []
                               switch a.kind {
                               case .spikes(let l): af += [("kind", .string("spikes")), ("source", .string(g.layers[l].name))]
                               case .partial(let sb): af += [("kind", .string("partial")), ("block", .int(sb))]
                               }
                               if let pi = a.projection { af.append(("projection", .int(pi))) }
                               af += [("rows", .array(a.rows.map { .int($0) })), ("cols", .array(a.cols.map { .int($0) })),
                                      ("channels", .array([.int(a.channels.lowerBound), .int(a.channels.upperBound)])), ("count", .int(a.count))]
                               return .object(af)
                           }))]
                    let res = blk.resources
                    bf.append(("resources", .object([("neurons", .int(res.neurons)), ("state_bytes", .int(res.stateBytes)), ("input_axons", .int(res.inputAxons)),
                                                     ("synapse_bits", .int(res.synapseBits))])))
                    return .object(bf)
                })))
                if !r.keys.isEmpty { f.append(("keys", .array(r.keys[c].map { .int(Int($0)) }))) }
                return .object(f)
            })),
        ])
    }

    static func routingJSON(_ unit: CompileUnit) -> JSONOutput {
        let r = unit.routing!
        return .object([
            ("scheme", .string(unit.profile.router.scheme.rawValue)),
            ("routers", .array(r.routers.map { t in .object([
                ("chip", .int(t.chip)), ("entries_before", .int(t.entriesBefore)),
                ("entries", .array(t.entries.map { e in .object([("key", .int(Int(e.key))), ("mask", .int(Int(e.mask))),
                                                                  ("links", .array((0..<4).filter { e.route.links & (1 << $0) != 0 }.map { .string(Route.linkNames[$0]) })),
                                                                  ("cores", .array(e.route.cores.map { .int($0) }))]) })),
            ]) })),
        ])
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func routingText(_ unit: CompileUnit) -> String {
        let r = unit.routing!, part = unit.partition!, g = unit.graph!
        var s = "# routing of '\(unit.model.name)' on '\(unit.profile.name)' (\(unit.profile.router.scheme.rawValue))\n"
        if unit.profile.router.scheme == .keyMask {
            for t in r.routers {
                s += "\nrouter chip \(t.chip): \(t.entries.count) entries (\(t.entriesBefore) before compression)\n"
                for e in t.entries { s += "  key \(hex(e.key)) mask \(hex(e.mask)) → \(e.route.description)\n" }
            }
        }
        s += "\n# output axon tables: per core, destinations of each output (core:axon)\n"
        for c in r.tableStart.indices {
            let layers = part.cores[c].map { g.layers[part.blocks[$0].layer].name }.joined(separator: ", ")
            s += "\ncore \(c) (\(layers)): \(r.tableCore[c].count) entries\n"
            let shown = min(r.tableStart[c].count - 1, 8)
            for j in 0..<shown {
                let lo = Int(r.tableStart[c][j]), hi = Int(r.tableStart[c][j + 1])
                s += "  output \(j) → " + (lo..<hi).map { "\(r.tableCore[c][$0]):\(r.tableAxon[c][$0])" }.joined(separator: " ") + "\n"
            }
            if r.tableStart[c].count - 1 > shown { s += "  … \(r.tableStart[c].count - 1 - shown) more outputs (axon-tables.bin has all)\n" }
        }
        return s
    }

    public static func quantizationJSON(_ unit: CompileUnit) -> JSONOutput {
        .object([
            ("model", .string(unit.model.name)), ("profile", .string(unit.profile.name)),
            ("layers", .array(unit.quantization.map { q in
                .object([("layer", .string(q.node)), ("weights", .int(q.weights)), ("bits", .int(q.bits)), ("exponent", .int(q.exponent)),
                         ("max_abs_error", .double(q.maxAbsError)), ("sqnr_db", q.sqnrDB.isFinite ? .double(q.sqnrDB) : .null),
                         ("zeroed", .int(q.zeroed)), ("zeroed_percent", .double(q.zeroedPercent)), ("clipped", .int(q.clipped)),
                         ("worst_case_input", .double(q.worstCaseInput)), ("accumulator_limit", .double(q.accumulatorLimit))])
            })),
            ("payloads", .array(unit.payloads.map { q in
                .object([("layer", .string(q.layer)), ("bits", .int(q.bits)), ("shift", .int(q.shift)), ("theta0_lsbs", .int(q.theta0)),
                         ("bound_lsbs", .int(q.bound)), ("sqnr_db", q.sqnrDB.isFinite ? .double(q.sqnrDB) : .null),
                         ("max_relative_error", .double(q.maxRelativeError))])
            })),
        ])
    }}
