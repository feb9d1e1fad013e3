// The mapper's lower bound is a true lower bound: on small random networks an exhaustive search
// over every partition of every layer into blocks (any rows × columns × channel boxes, uneven,
// not only the partitioner's grids) and every packing of those blocks onto cores never needs
// fewer cores than the bound. The search counts each core's resources in its own plain loops
// (receptive fields, synapses, destination blocks), not with the partitioner's code.
import Foundation
import SNNCHardware
import SNNCIR
import SNNCPasses
import Testing

/// One small random network and profile.
struct TinyCase: CustomStringConvertible {
    var seed: UInt64
    var input: (h: Int, w: Int, c: Int)
    var conv: (k: Int, s: Int, same: Bool, outC: Int)?  // nil: flatten → dense
    var denseOut: Int
    var classes: Int
    var limits: CoreLimits
    var layersPerCore: Int
    var keyMask: Bool
    var sharedWeights: Bool

    var description: String {
        "seed \(seed): input \(input.h)×\(input.w)×\(input.c), " + (conv.map { "conv k\($0.k) s\($0.s) \($0.same ? "same" : "valid") → \($0.outC) ch" } ?? "dense → \(denseOut)")
            + ", \(classes) classes; cores: \(limits.neurons) neurons, \(limits.inputAxons) in, \(limits.outputAxons) out, \(limits.synapseMemoryBits) syn bits, "
            + "\(limits.stateMemoryBytes) state B; \(layersPerCore) layers/core, \(keyMask ? "key/mask" : "axon tables"), \(sharedWeights ? "shared" : "unshared") kernels"
    }

    static func random(_ seed: UInt64) -> TinyCase {
        var g = SeededRandom(seed: seed)
        func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(g.next() % UInt64(r.count)) }
        var input = (int(1...3), int(1...4), int(1...2))
        while input.0 * input.1 * input.2 > 8 { input = (int(1...3), int(1...4), int(1...2)) }
        let conv: (Int, Int, Bool, Int)? = int(0...2) > 0 ? (int(1...3), int(1...2), int(0...1) == 1, int(1...2)) : nil
        var l = try! ProfileLoader.load(path: repoRoot + "/HardwareProfiles/generic.json").get().cores[0]
        l.neurons = int(2...4)
        l.inputAxons = int(4...18)
        l.outputAxons = int(3...14)
        l.bitsPerSynapse = 8
        l.synapseMemoryBits = 8 * int(6...60)
        l.stateBitsPerNeuron = 64
        l.stateMemoryBytes = 8 * int(2...4)
        return TinyCase(seed: seed, input: input, conv: conv, denseOut: int(2...4), classes: int(1...2), limits: l,
                        layersPerCore: int(1...3), keyMask: int(0...1) == 1, sharedWeights: int(0...1) == 1)
    }

    func model() -> Model? {
        var g = SeededRandom(seed: seed ^ 0xABCD)
        func weights(_ n: Int) -> [Float] { (0..<n).map { _ in Float(0.2 + g.uniform()) * (g.uniform() < 0.5 ? -1 : 1) } }
        var w = ModelWriter(name: "tiny", placement: .inline, asnDefaults: ModelWriter.paperASNDefaults())
        w.add("x", .input, inputs: [], [("shape", .array([.int(input.h), .int(input.w), .int(input.c)]))])
        w.add("a0", .asn, inputs: ["x"])
        var last = "a0"
        var features = input.h * input.w * input.c
        if let cv = conv {
            w.add("conv", .conv2d, inputs: ["a0"], [("stride", .int(cv.s)), ("padding", .string(cv.same ? "same" : "valid")),
                                                   ("weight", w.tensor("conv.weight", [cv.outC, input.c, cv.k, cv.k], weights(cv.outC * input.c * cv.k * cv.k)))])
            w.add("a1", .asn, inputs: ["conv"])
            let oh = cv.same ? (input.h + cv.s - 1) / cv.s : (input.h - cv.k) / cv.s + 1
            let ow = cv.same ? (input.w + cv.s - 1) / cv.s : (input.w - cv.k) / cv.s + 1
            guard oh >= 1, ow >= 1 else { return nil }
            features = oh * ow * cv.outC
            guard features <= 8 else { return nil }  // small enough to search exhaustively
            w.add("flat", .flatten, inputs: ["a1"])
            last = "flat"
        } else {
            w.add("flat", .flatten, inputs: ["a0"])
            w.add("fc0", .dense, inputs: ["flat"], [("weight", w.tensor("fc0.weight", [denseOut, features], weights(denseOut * features)))])
            w.add("a1", .asn, inputs: ["fc0"])
            features = denseOut
            last = "a1"
        }
        w.add("fc", .dense, inputs: [last], [("weight", w.tensor("fc.weight", [classes, features], weights(classes * features)))])
        w.add("out", .readout, inputs: ["fc"])
        let dir = NSTemporaryDirectory() + "snnc-lb-\(seed)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard (try? w.write(directory: dir)) != nil else { return nil }
        return ModelLoader.load(path: dir + "/model.json").model
    }

    func profile() -> HardwareProfile {
        var p = try! ProfileLoader.load(path: repoRoot + "/HardwareProfiles/generic.json").get()
        p.cores = p.cores.map { _ in limits }
        p.layersPerCore = layersPerCore
        p.router.scheme = keyMask ? .keyMask : .axonTable
        p.sharedWeights = sharedWeights
        return p
    }
}

/// The exhaustive search, on the mapper's graph (layer shapes and projections) only.
struct ExhaustivePartition {
    struct Box { var rows: Range<Int>, cols: Range<Int>, chans: Range<Int> }
    let graph: MapGraph
    let profile: HardwareProfile
    var cap: CoreLimits { profile.cores[0] }

    func hwc(_ l: MapLayer) -> (Int, Int, Int) { l.shape.count == 3 ? (l.shape[0], l.shape[1], l.shape[2]) : (1, 1, l.neurons) }

    /// Source cells (y, x) of the source map that output row/col `o` reads, by plain loops.
    func taps(_ o: Int, k: Int, s: Int, d: Int, pad: Int, size: Int) -> [Int] {
        (0..<k).map { o * s - pad + $0 * d }.filter { $0 >= 0 && $0 < size }
    }

    /// Every exact cover of an h × w × c layer by boxes whose neurons fit a core.
    func covers(_ h: Int, _ w: Int, _ c: Int, limit: Int) -> [[Box]] {
        var used = [Bool](repeating: false, count: h * w * c)
        var out: [[Box]] = []
        var current: [Box] = []
        func idx(_ y: Int, _ x: Int, _ z: Int) -> Int { (y * w + x) * c + z }
        func recurse() {
            guard let first = used.firstIndex(of: false) else { out.append(current); return }
            if out.count >= limit { return }
            let y0 = first / (w * c), x0 = (first / c) % w, z0 = first % c
            for y1 in (y0 + 1)...h {
                for x1 in (x0 + 1)...w {
                    for z1 in (z0 + 1)...c {
                        let b = Box(rows: y0..<y1, cols: x0..<x1, chans: z0..<z1)
                        guard b.rows.count * b.cols.count * b.chans.count <= cap.neurons else { continue }
                        var free = true
                        for y in b.rows { for x in b.cols { for z in b.chans where used[idx(y, x, z)] { free = false } } }
                        guard free else { continue }
                        for y in b.rows { for x in b.cols { for z in b.chans { used[idx(y, x, z)] = true } } }
                        current.append(b)
                        recurse()
                        current.removeLast()
                        for y in b.rows { for x in b.cols { for z in b.chans { used[idx(y, x, z)] = false } } }
                    }
                }
            }
        }
        recurse()
        return out
    }

    /// A block's resources other than output axons: [neurons, state bytes, input axons, synapse bits].
    func resources(_ li: Int, _ b: Box) -> [Int] {
        let l = graph.layers[li]
        let n = b.rows.count * b.cols.count * b.chans.count
        var axons = 0, synapses = 0
        for p in l.inputs {
            let (sh, sw, sc) = hwc(graph.layers[p.source])
            switch p.kind {
            case .conv(let g):
                var rows = Set<Int>(), cols = Set<Int>(), tapsIn = 0
                for y in b.rows {
                    let ty = taps(y, k: g.kh, s: g.sh, d: g.dh, pad: g.padTop, size: g.inH)
                    rows.formUnion(ty)
                    for x in b.cols {
                        let tx = taps(x, k: g.kw, s: g.sw, d: g.dw, pad: g.padLeft, size: g.inW)
                        cols.formUnion(tx)
                        tapsIn += ty.count * tx.count
                    }
                }
                axons += rows.count * cols.count * g.inC
                synapses += profile.sharedWeights ? g.kh * g.kw * g.inC * b.chans.count : tapsIn * g.inC * b.chans.count
            case .dense(let f):
                axons += sh * sw * sc
                synapses += n * f
            case .identity:
                axons += n
                synapses += n
            }
        }
        return [n, (n * cap.stateBitsPerNeuron + 7) / 8, axons, synapses * cap.bitsPerSynapse]
    }

    /// Output axons of block `b` of layer `li` when its consumers are covered by `consumerCovers`.
    func outputAxons(_ li: Int, _ b: Box, _ coverOf: [Int: [Box]]) -> Int {
        let n = b.rows.count * b.cols.count * b.chans.count
        if profile.router.scheme == .keyMask { return n }
        var total = 0
        for t in graph.consumers[li] {
            let tl = graph.layers[t]
            for p in tl.inputs where p.source == li {
                for y in b.rows { for x in b.cols { for z in b.chans {
                    // Consumer blocks holding a neuron that reads source neuron (y, x, z).
                    total += coverOf[t]!.filter { cb in
                        switch p.kind {
                        case .dense: return true
                        case .identity: return cb.rows.contains(y) && cb.cols.contains(x) && cb.chans.contains(z)
                        case .conv(let g):
                            return cb.rows.contains { taps($0, k: g.kh, s: g.sh, d: g.dh, pad: g.padTop, size: g.inH).contains(y) }
                                && cb.cols.contains { taps($0, k: g.kw, s: g.sw, d: g.dw, pad: g.padLeft, size: g.inW).contains(x) }
                        }
                    }.count
                } } }
            }
        }
        return total
    }

    /// The fewest cores of any partition and packing (nil: none fits), searching below `ceiling`.
    func minimumCores(below ceiling: Int) -> Int? {
        let caps = [cap.neurons, cap.stateMemoryBytes, cap.inputAxons, cap.synapseMemoryBits, cap.outputAxons]
        // Per layer, its covers whose blocks fit every limit but output axons (known per combination).
        let perLayer: [[(boxes: [Box], r: [[Int]])]] = graph.layers.indices.map { li in
            let (h, w, c) = hwc(graph.layers[li])
            return covers(h, w, c, limit: 20000).compactMap { cover in
                let r = cover.map { resources(li, $0) }
                return r.allSatisfy({ zip($0, caps).allSatisfy { $0 <= $1 } }) ? (cover, r) : nil
            }
        }
        var best = ceiling
        var found = false
        var choice = [Int](repeating: 0, count: graph.layers.count)
        func search(_ li: Int) {
            if li == graph.layers.count {
                var coverOf: [Int: [Box]] = [:]
                for (i, k) in choice.enumerated() { coverOf[i] = perLayer[i][k].boxes }
                let counts = choice.enumerated().map { perLayer[$0.offset][$0.element].boxes.count }
                guard max(counts.max() ?? 0, (counts.reduce(0, +) + profile.layersPerCore - 1) / profile.layersPerCore) < best else { return }
                var blocks: [(layer: Int, r: [Int])] = []
                for (i, k) in choice.enumerated() {
                    for (b, r0) in zip(perLayer[i][k].boxes, perLayer[i][k].r) {
                        let r = r0 + [outputAxons(i, b, coverOf)]
                        guard r[4] <= caps[4] else { return }
                        blocks.append((i, r))
                    }
                }
                if let c = pack(blocks, caps, below: best) { best = c; found = true }
                return
            }
            for k in perLayer[li].indices {
                choice[li] = k
                search(li + 1)
            }
        }
        search(0)
        return found ? best : nil
    }

    /// The fewest cores holding `blocks` (≤ one block per layer, ≤ layers_per_core per core,
    /// every resource under its limit), if fewer than `below`.
    func pack(_ blocks: [(layer: Int, r: [Int])], _ caps: [Int], below: Int) -> Int? {
        let order = blocks.sorted { $0.r[0] > $1.r[0] }
        var cores: [(layers: Set<Int>, r: [Int])] = []
        var best = below
        func place(_ i: Int) {
            if cores.count >= best { return }
            if i == order.count { best = cores.count; return }
            let b = order[i]
            for k in cores.indices where !cores[k].layers.contains(b.layer) && cores[k].layers.count < profile.layersPerCore {
                let sum = zip(cores[k].r, b.r).map { $0 + $1 }
                guard zip(sum, caps).allSatisfy({ $0 <= $1 }) else { continue }
                let saved = cores[k]
                cores[k] = (saved.layers.union([b.layer]), sum)
                place(i + 1)
                cores[k] = saved
            }
            cores.append(([b.layer], b.r))
            place(i + 1)
            cores.removeLast()
        }
        place(0)
        return best < below ? best : nil
    }
}

@Suite struct LowerBoundTests {
    /// 150 small random networks (≥ 50 asked) (conv or dense hidden layer, tiny cores, 1–3 layers per core,
    /// both routing schemes, shared or per-position kernels): the exhaustive minimum is never
    /// below the bound, and never above the partitioner's own cores (the search sees its blocks).
    @Test func boundNeverExceedsTheExhaustiveMinimum() throws {
        var checked = 0, tight = 0
        var seed: UInt64 = 1
        while checked < 150 && seed < 1000 {
            defer { seed += 1 }
            let tc = TinyCase.random(seed)
            guard let model = tc.model() else { continue }
            var unit = CompileUnit(model: model, profile: tc.profile())
            _ = try? Pipeline.run(&unit, through: "partition", clock: { 0 }, rss: { 0 })
            guard unit.completed.contains("partition"),
                  let part = unit.partition, let graph = unit.graph,
                  part.layerPlans.allSatisfy({ $0.dendriteGroups == 1 }) else { continue }
            let search = ExhaustivePartition(graph: graph, profile: tc.profile())
            let minimum = search.minimumCores(below: part.cores.count + 1)
            #expect(minimum != nil, "\(tc): the search found no partition, the partitioner found \(part.cores.count) cores")
            guard let m = minimum else { continue }
            #expect(part.lowerBoundCores <= m, "\(tc): bound \(part.lowerBoundCores) > exhaustive minimum \(m); \(part.lowerBound.map { "\($0.resource) \($0.cores)" })")
            if part.lowerBoundCores == m { tight += 1 }
            checked += 1
        }
        #expect(checked >= 150, "only \(checked) random networks mapped")
        // The bound is not vacuous: on most of them it is the exact optimum.
        #expect(tight * 2 >= checked, "bound tight on only \(tight) of \(checked)")
    }
}
