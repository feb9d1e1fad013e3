// The lower bound on cores (Docs/mapping.md, "Lower bound"): per limited resource, the least
// total demand any partition must place, over one core's capacity; the bound is the largest.
// Neurons, state and synapse memory have a fixed total whatever the tiling. Input and output
// axons depend on it: per layer, the fewest input axons per neuron any tile shape can need
// (every shape under the neuron and axon limits, at the position that needs the fewest), and
// the fewest destination cores per neuron its consumers can have.
import SNNCHardware
import SNNCIR

extension Partitioner {
    /// Per tile length t (index t − 1) along one axis of `layer`: the fewest compartments
    /// (pre-pool rows) and, per input projection, the fewest source rows any placement needs.
    struct AxisNeeds {
        var comp: [Int]
        var reach: [[Int]]
    }

    /// Placements tried per tile length: all of them on short axes; on long ones both ends and
    /// the middle (the count of rows a contiguous window reaches grows away from the borders
    /// and is flat inside, so its minimum is at an end).
    static func placements(_ n: Int, _ t: Int) -> [Int] {
        n <= 48 ? Array(0...(n - t)) : Array(Set([0, (n - t) / 2, n - t])).sorted()
    }

    func axisNeeds(_ layer: MapLayer, rows: Bool) -> AxisNeeds {
        let (h, w, _) = layer.hwc
        let n = rows ? h : w
        var need = AxisNeeds(comp: [], reach: layer.inputs.map { _ in [] })
        for t in 1...max(1, n) {
            var comp = Int.max
            var reach = [Int](repeating: Int.max, count: layer.inputs.count)
            for r0 in Self.placements(n, t) {
                let cr = rows ? layer.compRows(r0..<(r0 + t)) : layer.compCols(r0..<(r0 + t))
                comp = min(comp, cr.count)
                for (pi, p) in layer.inputs.enumerated() {
                    let sc = graph.layers[p.source].hwc
                    let count: Int
                    switch p.kind {
                    case .conv(let cs):
                        count = rows ? ConvShape.reach(cr, k: cs.kh, s: cs.sh, d: cs.dh, pad: cs.padTop, size: cs.inH).count
                                     : ConvShape.reach(cr, k: cs.kw, s: cs.sw, d: cs.dw, pad: cs.padLeft, size: cs.inW).count
                    case .dense: count = rows ? sc.h : sc.w
                    case .identity: count = layer.isSpatial ? cr.count : 1
                    }
                    reach[pi] = min(reach[pi], count)
                }
            }
            need.comp.append(comp)
            for pi in reach.indices { need.reach[pi].append(reach[pi]) }
        }
        return need
    }

    /// The fewest input axons per neuron any tile of `layer` needs (0 without inputs or when no
    /// tile shape fits a core). Axons of a tile: per weighted projection, the source rows × columns
    /// it reaches × all its source channels (a dendrite split divides them among blocks without
    /// reducing the total); per identity projection, the tile's own compartments. The axon limit
    /// filters shapes only where one neuron's fan-in fits a core (else dendrite blocks share it).
    func minInputAxonsPerNeuron(_ layer: MapLayer) -> Double {
        guard !layer.inputs.isEmpty else { return 0 }
        let (h, w, c) = layer.hwc
        let rowsNeed = axisNeeds(layer, rows: true), colsNeed = axisNeeds(layer, rows: false)
        var fixed = [Int](repeating: 0, count: layer.inputs.count), perChannel = [Bool](repeating: false, count: layer.inputs.count)
        for (pi, p) in layer.inputs.enumerated() {
            switch p.kind {
            case .conv(let cs): fixed[pi] = cs.inC
            case .dense: fixed[pi] = graph.layers[p.source].hwc.c
            case .identity: perChannel[pi] = true
            }
        }
        func axons(_ th: Int, _ tw: Int) -> (x: Int, y: Int) {
            var x = 0, y = 0
            for pi in layer.inputs.indices {
                let a = rowsNeed.reach[pi][th - 1] * colsNeed.reach[pi][tw - 1]
                if perChannel[pi] { y += a } else { x += a * fixed[pi] }
            }
            return (x, y)
        }
        // The partitioner's rule: dendrite blocks where a middle neuron's fan-in exceeds the axons.
        let midR = layer.compRows((h / 2)..<(h / 2 + 1)), midC = layer.compCols((w / 2)..<(w / 2 + 1))
        let splittable = axonGroups(layer, compRows: midR, compCols: midC, channels: 0..<1, group: nil, groups: 1).reduce(0) { $0 + $1.count } > cap.inputAxons
        var best = Double.infinity
        for th in 1...h {
            for tw in 1...w {
                let comps = rowsNeed.comp[th - 1] * colsNeed.comp[tw - 1]
                guard comps > 0, comps <= cap.neurons else { continue }
                let (x, y) = axons(th, tw)
                // Axons per neuron fall as channels grow: take the most channels allowed.
                var tc = min(c, cap.neurons / comps)
                if !splittable {
                    guard x + y <= cap.inputAxons else { continue }
                    if y > 0 { tc = min(tc, (cap.inputAxons - x) / y) }
                }
                guard tc >= 1 else { continue }
                best = min(best, Double(x + y * tc) / Double(th * tw * tc))
            }
        }
        return best.isFinite ? best : 0
    }

    /// The fewest output axons layer `li` can need: with key/mask routing one key per neuron;
    /// with axon tables one entry per (neuron, destination block) — a dense consumer has at least
    /// ⌈its compartments / neurons per core⌉ blocks, and without dendrite splits (binary spikes)
    /// at least ⌈its synapse bits / synapse memory per core⌉, every one of them reached by every
    /// source neuron; any other consumer is reached at least once by each source neuron it reads.
    func minOutputAxons(_ li: Int) -> Int {
        let src = graph.layers[li]
        if profile.router.scheme == .keyMask { return src.neurons }
        var n = 0
        for t in graph.consumers[li] {
            let tl = graph.layers[t]
            for p in tl.inputs where p.source == li {
                switch p.kind {
                case .dense(let f):
                    var blocks = (tl.compartments + cap.neurons - 1) / cap.neurons
                    if !profile.spikes.graded, cap.synapseBits > 0 {
                        blocks = max(blocks, (tl.compartments * f * limits.bitsPerSynapse + cap.synapseBits - 1) / cap.synapseBits)
                    }
                    n += src.neurons * blocks
                case .conv(let cs):
                    let (oh, ow) = (cs.outH, cs.outW)
                    let rows = ConvShape.reach(0..<oh, k: cs.kh, s: cs.sh, d: cs.dh, pad: cs.padTop, size: cs.inH).count
                    let cols = ConvShape.reach(0..<ow, k: cs.kw, s: cs.sw, d: cs.dw, pad: cs.padLeft, size: cs.inW).count
                    n += rows * cols * src.hwc.c
                case .identity: n += src.neurons
                }
            }
        }
        return n
    }

    /// Per resource: total demand, capacity and ⌈demand / capacity⌉ (the bound is the largest).
    func lowerBound() -> [(resource: String, demand: Int, capacity: Int, cores: Int)] {
        var neurons = 0, synapseBits = 0, outputAxons = 0, stateBitCount = 0
        var inputAxons = 0.0
        for (li, l) in graph.layers.enumerated() {
            neurons += l.compartments
            stateBitCount += l.compartments * stateBits(l)
            inputAxons += minInputAxonsPerNeuron(l) * Double(l.neurons)
            outputAxons += minOutputAxons(li)
            for p in l.inputs {
                switch p.kind {
                case .conv(let cs):
                    let (h, w) = l.compHW
                    synapseBits += (profile.sharedWeights ? cs.kh * cs.kw * cs.inC * cs.outC
                                    : ConvShape.validTaps(Array(0..<h), cs, rows: true) * ConvShape.validTaps(Array(0..<w), cs, rows: false) * cs.inC * cs.outC) * limits.bitsPerSynapse
                case .dense(let f): synapseBits += l.compartments * f * limits.bitsPerSynapse
                case .identity: synapseBits += l.compartments * limits.bitsPerSynapse
                }
            }
        }
        let state = (stateBitCount + 7) / 8
        func cdiv(_ a: Int, _ b: Int) -> Int { b > 0 ? (a + b - 1) / b : 0 }
        // Rounded down by a hair so float error never lifts the bound past a true optimum.
        let inAx = Int((inputAxons * (1 - 1e-12)).rounded(.up))
        return [("neurons", neurons, cap.neurons, cdiv(neurons, cap.neurons)),
                ("state memory bytes", state, cap.stateBytes, cdiv(state, cap.stateBytes)),
                ("input axons", inAx, cap.inputAxons, cdiv(inAx, cap.inputAxons)),
                ("synapse memory bits", synapseBits, cap.synapseBits, cdiv(synapseBits, cap.synapseBits)),
                ("output axons", outputAxons, cap.outputAxons, cdiv(outputAxons, cap.outputAxons)),
                ("layers", graph.layers.count, profile.layersPerCore, cdiv(graph.layers.count, profile.layersPerCore))]
    }
}
