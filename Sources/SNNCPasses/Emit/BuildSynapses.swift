// build-synapses: every core's image (SNNCArtefact/CoreImage.swift) — the compartments of its
// blocks with their biases and pool windows, and the synapse memory of its input axons: a row
// of runs per axon, in the profile's weight bits with the layer's exponent; conv kernels stored
// once per core (shared storage where the profile has it, explicit rows otherwise).
import SNNCArtefact
import SNNCHardware
import SNNCIR

public struct BuildSynapses: Pass {
    public let name = "build-synapses"
    public let summary = "every core's image: compartments, biases, pool windows, input axons and their synapse rows"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        guard let g = unit.graph, let part = unit.partition, let routing = unit.routing else { return }
        // Every cache filled once, then each worker builds, encodes and deflates whole cores from
        // its own copy: images are independent, results come back in core order, so the bytes
        // are the same at any thread count, and only the compressed images stay in memory.
        var b = Builder(unit: unit, graph: g)
        for (li, l) in g.layers.enumerated() {
            _ = b.bias(li)
            for p in l.inputs { if let w = p.weightNode { _ = b.weights(w) } }
        }
        let warm = b
        var images = StoredImages()
        // In chunks, so at most a chunk of compressed images exists outside cores.bin's bytes.
        let chunk = 64
        for start in stride(from: 0, to: part.cores.count, by: chunk) {
            let n = min(chunk, part.cores.count - start)
            let built = WorkerPool.map(n, threads: 0, state: { warm }) { i, builder -> Result<([UInt8], Int, [String: Double]), DiagnosticsError> in
                let c = start + i
                builder.readoutLSB = [:]
                do throws(DiagnosticsError) {
                    let img = try builder.image(core: c, blocks: part.cores[c].map { part.blocks[$0] }, firstOutputs: routing.neuronBase[c])
                    let raw = img.encoded()
                    return .success((Zlib.deflate(raw, level: 1), raw.count, builder.readoutLSB))
                } catch {
                    return .failure(error)
                }
            }
            for r in built {
                let (bytes, raw, lsbs) = try r.get()
                for (layer, lsb) in lsbs.sorted(by: { $0.key < $1.key }) { try b.setReadoutLSB(layer, lsb) }
                images.append(compressed: bytes, raw: raw)
            }
        }
        unit.coreImages = images
        unit.readoutLSB = b.readoutLSB
    }

    struct Builder {
        let unit: CompileUnit
        let graph: MapGraph
        let weightBytes: Int
        /// Per weighted node: its mantissas (dense [out][in], conv [out][ky][kx][in]) and exponent.
        var mantissas: [String: (m: [Int32], exponent: Int)] = [:]
        /// Per layer: its bias per channel in state LSBs (integer layers).
        var biasCache: [Int: [Int64]] = [:]
        var readoutLSB: [String: Double] = [:]

        init(unit: CompileUnit, graph: MapGraph) {
            self.unit = unit
            self.graph = graph
            weightBytes = unit.profile.numerics.weightBits <= 16 ? 2 : 4
        }

        mutating func weights(_ node: String) -> (m: [Int32], exponent: Int) {
            if let w = mantissas[node] { return w }
            let w = Quantize.mantissas(of: node, unit)
            mantissas[node] = w
            return w
        }

        /// The bias of a layer's compartments by channel, in its state LSBs (sum over the
        /// weighted nodes that feed it).
        mutating func bias(_ li: Int) -> [Int64] {
            if let b = biasCache[li] { return b }
            let l = graph.layers[li]
            var out = [Int64](repeating: 0, count: l.compartmentHWC.c)
            if let f = unit.neuronFormats[l.name] {
                for p in l.inputs {
                    guard let w = p.weightNode, let b = Quantize.biasLSBs(of: w, stateExponent: f.stateExponent, unit) else { continue }
                    for ch in out.indices where !b.isEmpty { out[ch] += Int64(b[ch % b.count]) }
                }
            }
            biasCache[li] = out
            return out
        }

        /// Where a block's compartments sit in its core: compartment (row, col, channel) of the
        /// layer is block-local index (rowIdx[row] · cols + colIdx[col]) · channels + (channel − first).
        struct Local {
            let rowIdx: [Int], colIdx: [Int], cols: Int, channels: Range<Int>
            init(_ blk: Block, _ l: MapLayer) {
                var r = [Int](repeating: -1, count: l.compHW.h), c = [Int](repeating: -1, count: l.compHW.w)
                for (i, y) in blk.compRows.enumerated() { r[y] = i }
                for (i, x) in blk.compCols.enumerated() { c[x] = i }
                rowIdx = r; colIdx = c; cols = blk.compCols.count; channels = blk.channels
            }
            /// The block-local index of compartment (y, x, first channel).
            func at(_ y: Int, _ x: Int) -> Int { (rowIdx[y] * cols + colIdx[x]) * channels.count }
            func at(_ y: Int, _ x: Int, _ o: Int) -> Int { at(y, x) + (o - channels.lowerBound) }
        }

        mutating func image(core c: Int, blocks: [Block], firstOutputs: [Int]) throws(DiagnosticsError) -> CoreImage {
            var img = CoreImage()
            img.weightBytes = weightBytes
            var base: [Int] = [], locals: [Local] = []
            var acc = 0
            for (bi, blk) in blocks.enumerated() {
                let l = graph.layers[blk.layer]
                let (_, cw, cc) = l.compartmentHWC
                let (_, w, ch) = l.hwc
                let local = Local(blk, l)
                locals.append(local)
                var lc: [Int32] = []
                lc.reserveCapacity(blk.compartments)
                for y in blk.compRows { for x in blk.compCols { for o in blk.channels { lc.append(Int32((y * cw + x) * cc + o)) } } }
                let isDendrite = blk.role != .soma
                var bias = [Int64](repeating: 0, count: lc.count)
                if !isDendrite && l.kind != .readout {
                    let bc = self.bias(blk.layer)
                    for j in lc.indices { bias[j] = bc[Int(lc[j]) % cc] }
                }
                var ib = CoreImage.Block(layer: blk.layer, dendrite: isDendrite, firstOutput: firstOutputs[bi], layerCompartment: lc, bias: bias,
                                         layerNeuron: [], poolStart: [0], poolCompartment: [])
                if !isDendrite {
                    for y in blk.rows { for x in blk.cols { for o in blk.channels {
                        ib.layerNeuron.append(Int32((y * w + x) * ch + o))
                        if let p = l.pool {
                            for iy in poolRows(y, p, size: l.compHW.h) { for ix in poolCols(x, p, size: l.compHW.w) {
                                ib.poolCompartment.append(Int32(local.at(iy, ix, o)))
                            } }
                        } else {
                            ib.poolCompartment.append(Int32(local.at(y, x, o)))
                        }
                        ib.poolStart.append(Int32(ib.poolCompartment.count))
                    } } }
                }
                base.append(acc)
                acc += lc.count
                img.blocks.append(ib)
            }
            // Input axons: each block's groups in order, one range per group.
            for (bi, blk) in blocks.enumerated() {
                for group in blk.axons {
                    try addRange(&img, group, block: bi, base: base[bi], blk, locals[bi], core: c)
                }
            }
            return img
        }

        mutating func addRange(_ img: inout CoreImage, _ a: AxonGroup, block bi: Int, base: Int, _ blk: Block, _ local: Local, core c: Int) throws(DiagnosticsError) {
            let L = graph.layers[blk.layer]
            let nch = blk.channels.count
            let rowIdx = local.rowIdx, colIdx = local.colIdx
            func target(_ cy: Int, _ cx: Int) -> Int { base + local.at(cy, cx) }
            let firstAxon = img.axons
            let ws = img.weights.count
            var mode = SynapseMode.binary, source = SynapseSource.partial, storage = SynapseStorage.explicit, shift = 0
            func run(_ t: Int, _ len: Int, _ w: Int) { img.runs.append(Int32(t)); img.runs.append(Int32(len)); img.runs.append(Int32(w)) }
            func endRow() { img.rowStart.append(Int32(img.runCount)) }
            let readout = L.kind == .readout
            let sExp = unit.neuronFormats[L.name]?.stateExponent ?? 0
            switch a.kind {
            case .partial:
                // Axon k carries the partial current of the soma's compartment k.
                mode = .partial
                img.weights.append(1)
                for y in a.rows { for x in a.cols { for o in a.channels {
                    run(target(y, x) + (o - blk.channels.lowerBound), 1, ws)
                    endRow()
                } } }
            case .spikes(let sl):
                guard let pi = a.projection else { break }
                let p = L.inputs[pi]
                let S = graph.layers[sl]
                let sf = unit.neuronFormats[S.name]
                let sourceExp = (sf?.stateExponent ?? 0) + (S.graded ? sf?.payloadShift ?? 0 : 0)
                let (_, sw, sc) = S.hwc
                switch p.kind {
                case .identity:
                    source = .identity
                    var wgt: Int32 = 1
                    if S.graded {
                        mode = .graded
                        shift = readout ? 0 : sExp - sourceExp
                        if readout { try setReadoutLSB(L.name, pow2(sourceExp)) }
                    } else {
                        let h = unit.spikeHeight(of: S.name) ?? 1
                        if readout { try setReadoutLSB(L.name, h) } else { wgt = Int32(clamping: clampedInt(h * unit.inputGain(of: L.name) / pow2(sExp))) }
                    }
                    img.weights.append(wgt)
                    for y in a.rows { for x in a.cols { for o in a.channels {
                        run(target(y, x) + (o - blk.channels.lowerBound), 1, ws)
                        endRow()
                    } } }
                case .dense, .conv:
                    guard let wn = p.weightNode else { break }
                    let (m, exponent) = weights(wn)
                    if S.graded {
                        mode = .graded
                        shift = readout ? 0 : sExp - (exponent + sourceExp)
                        if readout { try setReadoutLSB(L.name, pow2(exponent + sourceExp)) }
                    } else {
                        shift = readout ? 0 : sExp - exponent
                        if readout { try setReadoutLSB(L.name, pow2(exponent)) }
                    }
                    if case .conv(let cs) = p.kind {
                        source = .conv
                        storage = unit.profile.sharedWeights ? .shared : .explicit
                        // The kernel slice of the block's channels, [ky][kx][in ∈ group][out ∈ block].
                        let nIn = a.channels.count
                        for ky in 0..<cs.kh { for kx in 0..<cs.kw { for i in a.channels { for o in blk.channels {
                            img.weights.append(m[((o * cs.kh + ky) * cs.kw + kx) * cs.inC + i])
                        } } } }
                        for y in a.rows { for x in a.cols { for i in a.channels {
                            for ky in 0..<cs.kh {
                                let ny = y + cs.padTop - ky * cs.dh
                                guard ny >= 0, ny % cs.sh == 0, ny / cs.sh < L.compHW.h, rowIdx[ny / cs.sh] >= 0 else { continue }
                                for kx in 0..<cs.kw {
                                    let nx = x + cs.padLeft - kx * cs.dw
                                    guard nx >= 0, nx % cs.sw == 0, nx / cs.sw < L.compHW.w, colIdx[nx / cs.sw] >= 0 else { continue }
                                    run(target(ny / cs.sh, nx / cs.sw), nch, ws + ((ky * cs.kw + kx) * nIn + (i - a.channels.lowerBound)) * nch)
                                }
                            }
                            endRow()
                        } } }
                    } else if case .dense(let inF) = p.kind {
                        source = .dense
                        for y in a.rows { for x in a.cols { for i in a.channels {
                            let src = (y * sw + x) * sc + i
                            run(target(0, 0), nch, img.weights.count)
                            for o in blk.channels { img.weights.append(m[o * inF + src]) }
                            endRow()
                        } } }
                    }
                }
            }
            let axons = img.axons - firstAxon
            guard axons > 0 else { return }
            img.ranges.append(CoreImage.Range(firstAxon: firstAxon, axons: axons, block: bi, mode: mode, source: source, storage: storage, shift: shift,
                                              weightStart: ws, weightCount: img.weights.count - ws))
            guard (-62...62).contains(shift) else {
                throw DiagnosticsError([Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(L.name)'",
                                                   "core \(c): its synaptic input needs a shift of \(shift) bits; the fixed-point rules allow at most 62")])
            }
        }

        /// The readout's accumulators hold integers in one LSB, read by the host as float.
        mutating func setReadoutLSB(_ layer: String, _ lsb: Double) throws(DiagnosticsError) {
            if let have = readoutLSB[layer], have != lsb {
                throw DiagnosticsError([Diagnostic(.error, .unsupportedPattern, file: unit.model.file, object: "node '\(layer)'",
                                                   "the readout sums inputs of different scales (2^\(Int(log2(have))) and 2^\(Int(log2(lsb)))); it must read one weighted layer",
                                                   notes: ["put a single dense layer before the readout"])])
            }
            readoutLSB[layer] = lsb
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
