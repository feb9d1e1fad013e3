// partition: every layer into core-sized blocks under all of the profile's per-core limits
// (Docs/mapping.md). Spatial layers are tiled rows × columns × channel groups by a search that
// minimises cores; flat layers are split by neurons; a neuron whose fan-in exceeds a core's input
// axons gets dendrite blocks on graded-spike profiles, else a diagnostic; small layers share
// cores where the profile allows it.
import SNNCHardware
import SNNCIR

/// What one core spends (or may spend) of each limited resource.
public struct CoreResources: Sendable, Equatable {
    public var neurons = 0
    public var stateBytes = 0
    public var inputAxons = 0
    public var synapseBits = 0
    public var outputAxons = 0

    public static func + (a: CoreResources, b: CoreResources) -> CoreResources {
        CoreResources(neurons: a.neurons + b.neurons, stateBytes: a.stateBytes + b.stateBytes, inputAxons: a.inputAxons + b.inputAxons,
                      synapseBits: a.synapseBits + b.synapseBits, outputAxons: a.outputAxons + b.outputAxons)
    }

    public init(neurons: Int = 0, stateBytes: Int = 0, inputAxons: Int = 0, synapseBits: Int = 0, outputAxons: Int = 0) {
        self.neurons = neurons
        self.stateBytes = stateBytes
        self.inputAxons = inputAxons
        self.synapseBits = synapseBits
        self.outputAxons = outputAxons
    }

    public static func capacity(_ l: CoreLimits) -> CoreResources {
        CoreResources(neurons: l.neurons, stateBytes: l.stateMemoryBytes, inputAxons: l.inputAxons, synapseBits: l.synapseMemoryBits, outputAxons: l.outputAxons)
    }

    /// (resource name, used, limit, diagnostic id), in report order.
    public func items(_ cap: CoreResources) -> [(name: String, used: Int, limit: Int, id: DiagnosticID)] {
        [("neurons", neurons, cap.neurons, .coreNeurons), ("state memory bytes", stateBytes, cap.stateBytes, .coreStateMemory),
         ("input axons", inputAxons, cap.inputAxons, .coreFanIn), ("synapse memory bits", synapseBits, cap.synapseBits, .coreSynapseMemory),
         ("output axons", outputAxons, cap.outputAxons, .coreOutputAxons)]
    }

    public func fits(_ cap: CoreResources) -> Bool {
        neurons <= cap.neurons && stateBytes <= cap.stateBytes && inputAxons <= cap.inputAxons && synapseBits <= cap.synapseBits && outputAxons <= cap.outputAxons
    }
}

/// A range of source neurons a core receives on consecutive input axons: rows × cols × channels
/// of the source layer (flat layers are 1 × 1 × N), or the partial currents of a dendrite block.
public struct AxonGroup: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case spikes(sourceLayer: Int)
        /// Partial currents from dendrite block `block` (one axon per compartment, graded).
        case partial(block: Int)
    }
    public var kind: Kind
    public var rows: [Int]
    public var cols: [Int]
    public var channels: Range<Int>
    /// Which of the layer's input projections these axons feed (nil: partial currents).
    public var projection: Int? = nil
    public var count: Int { rows.count * cols.count * channels.count }
}

/// One layer's slice on one core: pooled-neuron rows × cols × channels (flat layers: 1 × 1 × a
/// range of neurons). A dendrite block computes partial currents for a soma block's compartments
/// from one group of its input channels.
public struct Block: Sendable {
    public enum Role: Sendable, Equatable {
        case soma
        case dendrite(group: Int, groups: Int, soma: Int)
    }
    public var layer: Int
    public var role: Role
    public var rows: Range<Int>
    public var cols: Range<Int>
    public var channels: Range<Int>
    /// Pre-pool rows and columns held as compartments.
    public var compRows: [Int]
    public var compCols: [Int]
    /// Input axons, in axon order.
    public var axons: [AxonGroup]
    public var resources: CoreResources

    public var neurons: Int { rows.count * cols.count * channels.count }
    public var compartments: Int { compRows.count * compCols.count * channels.count }
}

public struct PartitionResult: Sendable {
    public var blocks: [Block]
    /// The blocks of each core (one, or several small layers' blocks sharing a core).
    public var cores: [[Int]]
    /// Per layer: the tile chosen and the limit that bound it.
    public var layerPlans: [LayerPlan]
    /// Per resource: total demand and ⌈demand / capacity⌉.
    public var lowerBound: [(resource: String, demand: Int, capacity: Int, cores: Int)]
    public var lowerBoundCores: Int { lowerBound.map(\.cores).max() ?? 0 }
    public var capacity: CoreResources
}

public struct LayerPlan: Sendable {
    public var layer: Int
    public var tile: (rows: Int, cols: Int, channels: Int)
    public var dendriteGroups: Int
    public var blocks: Int
    /// The resource closest to its limit in the layer's largest block.
    public var binding: String
}

/// Geometry helpers: a layer as H × W × C (flat layers 1 × 1 × N).
extension MapLayer {
    var hwc: (h: Int, w: Int, c: Int) { shape.count == 3 ? (shape[0], shape[1], shape[2]) : (1, 1, neurons) }
    /// Compartments as H × W × C: what an identity projection into this layer must match.
    var compartmentHWC: (h: Int, w: Int, c: Int) { compartmentShape.count == 3 ? (compartmentShape[0], compartmentShape[1], compartmentShape[2]) : (1, 1, compartments) }
    var compHW: (h: Int, w: Int) { compartmentShape.count == 3 ? (compartmentShape[0], compartmentShape[1]) : (1, 1) }

    /// Pre-pool rows held by pooled rows `r` (the union of their windows).
    func compRows(_ r: Range<Int>) -> [Int] {
        guard let p = pool else { return Array(r) }
        return ConvShape.reach(r, k: p.sizeH, s: p.strideH, d: 1, pad: p.padding.top, size: compHW.h)
    }
    func compCols(_ r: Range<Int>) -> [Int] {
        guard let p = pool else { return Array(r) }
        return ConvShape.reach(r, k: p.sizeW, s: p.strideW, d: 1, pad: p.padding.left, size: compHW.w)
    }
}

public struct Partition: Pass {
    public let name = "partition"
    public let summary = "split every layer into core-sized blocks under all per-core limits; report the lower bound"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        let graph = try MapGraph.build(unit)
        unit.graph = graph
        let result = try Partitioner(unit: unit, graph: graph).run()
        // Kept even when it does not fit the profile's chips: `snnc fit` reports what it needs.
        unit.partition = result
        // `--chips auto`: the smallest listed board that holds it (the partition does not depend
        // on the chip count; only the mesh the next passes place on does).
        if unit.boardChoice == .auto, let b = unit.profile.smallestBoard(holding: result.cores.count) ?? unit.profile.boards.last {
            unit.profile = unit.profile.on(b)
        }
        if let refusal = Partitioner(unit: unit, graph: graph).tooManyCores(result) { throw DiagnosticsError([refusal]) }
    }
}

struct Partitioner {
    let unit: CompileUnit
    let graph: MapGraph
    let cap: CoreResources
    let limits: CoreLimits
    let profile: HardwareProfile

    init(unit: CompileUnit, graph: MapGraph) {
        self.unit = unit
        self.graph = graph
        profile = unit.profile
        // Heterogeneous chips: the smallest core's limits hold everywhere.
        var l = profile.cores[0]
        for c in profile.cores {
            l.neurons = min(l.neurons, c.neurons); l.stateMemoryBytes = min(l.stateMemoryBytes, c.stateMemoryBytes)
            l.inputAxons = min(l.inputAxons, c.inputAxons); l.outputAxons = min(l.outputAxons, c.outputAxons)
            l.synapseMemoryBits = min(l.synapseMemoryBits, c.synapseMemoryBits)
        }
        limits = l
        cap = CoreResources.capacity(l)
    }

    var file: String { unit.model.file }

    /// Source channels a projection's weights read per target compartment (dense: all features).
    func sourceChannels(_ p: MapProjection) -> Int {
        let s = graph.layers[p.source]
        switch p.kind {
        case .conv(let g): return g.inC
        case .dense: return s.hwc.c
        case .identity: return 1
        }
    }

    /// The input axon groups of a tile (for dendrite group `g` of `groups`, only that slice of the
    /// weighted projections' source channels; identity inputs go to the soma).
    func axonGroups(_ layer: MapLayer, compRows: [Int], compCols: [Int], channels: Range<Int>, group: Int?, groups: Int) -> [AxonGroup] {
        var out: [AxonGroup] = []
        for (pi, p) in layer.inputs.enumerated() {
            let src = graph.layers[p.source]
            let sc = src.hwc
            func slice(_ c: Int) -> Range<Int> {
                guard let g = group else { return 0..<c }
                let per = (c + groups - 1) / groups
                return min(c, g * per)..<min(c, (g + 1) * per)
            }
            switch p.kind {
            case .conv(let cs):
                let rows = ConvShape.reach(compRows, k: cs.kh, s: cs.sh, d: cs.dh, pad: cs.padTop, size: cs.inH)
                let cols = ConvShape.reach(compCols, k: cs.kw, s: cs.sw, d: cs.dw, pad: cs.padLeft, size: cs.inW)
                out.append(AxonGroup(kind: .spikes(sourceLayer: p.source), rows: rows, cols: cols, channels: slice(cs.inC), projection: pi))
            case .dense:
                out.append(AxonGroup(kind: .spikes(sourceLayer: p.source), rows: Array(0..<sc.h), cols: Array(0..<sc.w), channels: slice(sc.c), projection: pi))
            case .identity:
                if group != nil { continue }
                out.append(AxonGroup(kind: .spikes(sourceLayer: p.source), rows: layer.isSpatial ? compRows : [0], cols: layer.isSpatial ? compCols : [0], channels: channels, projection: pi))
            }
        }
        return out.filter { $0.count > 0 }
    }

    /// State bits per compartment of a layer on this core: the profile's (the ASN's registers), or
    /// an IF-family layer's fewer.
    func stateBits(_ layer: MapLayer) -> Int { min(limits.stateBitsPerNeuron, layer.stateBitsNeeded ?? .max) }

    /// Resources of a tile, before output axons (known after routing) — exactly what its core
    /// image will hold (CoreImageTests measures it from the emitted bytes): a conv's kernel slice
    /// once where the profile shares kernels, else one synapse per (compartment, tap inside the
    /// input, source channel); a dense layer one per (compartment, source neuron of the slice);
    /// an identity input and a partial current one per compartment.
    func resources(_ layer: MapLayer, compRows: [Int], compCols: [Int], channels: Int, group: Int?, groups: Int, dendriteAxons: Int) -> CoreResources {
        let compartments = compRows.count * compCols.count * channels
        var r = CoreResources()
        r.neurons = compartments
        r.stateBytes = (compartments * stateBits(layer) + 7) / 8
        var synapses = dendriteAxons
        func slice(_ c: Int) -> Int {
            guard let g = group else { return c }
            let per = (c + groups - 1) / groups
            return max(0, min(c, (g + 1) * per) - min(c, g * per))
        }
        for p in layer.inputs {
            switch p.kind {
            case .conv(let cs):
                let cin = slice(cs.inC)
                if profile.sharedWeights {
                    synapses += cs.kh * cs.kw * cin * channels
                } else {
                    synapses += ConvShape.validTaps(compRows, cs, rows: true) * ConvShape.validTaps(compCols, cs, rows: false) * cin * channels
                }
            case .dense:
                let sc = graph.layers[p.source].hwc
                synapses += compartments * sc.h * sc.w * slice(sc.c)
            case .identity:
                if group == nil { synapses += compartments }
            }
        }
        r.synapseBits = synapses * limits.bitsPerSynapse
        return r
    }

    /// The next larger tile size than `t` among `candidates` (descending), or `t` itself.
    static func larger(_ t: Int, _ candidates: [Int]) -> Int {
        guard let i = candidates.firstIndex(of: t), i > 0 else { return t }
        return candidates[i - 1]
    }

    /// Tile sizes worth trying along an axis of n: one per distinct number of tiles.
    static func candidates(_ n: Int) -> [Int] {
        var out: [Int] = []
        for k in 1...max(1, n) {
            let t = (n + k - 1) / k
            if out.last != t { out.append(t) }
        }
        return out
    }

    /// Layers planned with some tiles forced, memoised by (layer, forced tile, its consumers'
    /// tiles): a layer's plan depends only on its own tile choice and its consumers' tiles.
    struct PlanCache {
        var entries: [PlanKey: Result<Planned, DiagnosticsError>] = [:]
    }
    struct PlanKey: Hashable { var layer: Int, forced: TileShape?, consumerTiles: [TileShape?] }

    /// Every layer planned, consumers first (a layer's output axons depend on its consumers' tiles).
    func planAll(_ forced: [Int: TileShape], _ cache: inout PlanCache) -> [Result<Planned, DiagnosticsError>] {
        var results = [Result<Planned, DiagnosticsError>?](repeating: nil, count: graph.layers.count)
        var planned: [Int: LayerPlan] = [:]
        for li in graph.layers.indices.reversed() {
            let tiles = graph.consumers[li].map { t in planned[t].map { TileShape(rows: $0.tile.rows, cols: $0.tile.cols, channels: $0.tile.channels) } }
            let key = PlanKey(layer: li, forced: forced[li], consumerTiles: tiles)
            let r = cache.entries[key] ?? plan(li, graph.layers[li], dests: destinations(li, planned), forced: key.forced)
            cache.entries[key] = r
            if case .success(let p) = r { planned[li] = p.plan }
            results[li] = r
        }
        return results.map { $0! }
    }

    /// The layers' blocks in one list (block indices made global), or every layer's diagnostics.
    func assemble(_ results: [Result<Planned, DiagnosticsError>]) -> Result<(plans: [LayerPlan], blocks: [Block]), DiagnosticsError> {
        var blocks: [Block] = []
        var plans: [LayerPlan] = []
        var problems: [Diagnostic] = []
        for r in results {
            switch r {
            case .success(let p):
                plans.append(p.plan)
                // Block indices inside a layer's plan are local; make them global.
                let offset = blocks.count
                blocks += p.blocks.map { blk in
                    var x = blk
                    if case .dendrite(let g, let n, let soma) = x.role { x.role = .dendrite(group: g, groups: n, soma: soma + offset) }
                    x.axons = x.axons.map { a in
                        var y = a
                        if case .partial(let k) = a.kind { y.kind = .partial(block: offset + (-1 - k)) }
                        return y
                    }
                    return x
                }
            case .failure(let d): problems += d.diagnostics
            }
        }
        return problems.isEmpty ? .success((plans, blocks)) : .failure(DiagnosticsError(problems))
    }

    /// Blocks onto cores where the profile allows several layers per core: first-fit decreasing
    /// by the block's fullest resource, at most one block of a layer per core and
    /// `layers_per_core` layers, under every limit (dendrite layers keep a core per block).
    func pack(_ blocks: [Block], _ plans: [LayerPlan]) -> [[Int]] {
        var cores: [[Int]] = []
        let packable = Set(plans.filter { $0.dendriteGroups == 1 }.map(\.layer))
        if profile.layersPerCore > 1 {
            func size(_ r: CoreResources) -> Double { r.items(cap).map { Double($0.used) / Double(max(1, $0.limit)) }.max() ?? 0 }
            let sizes = blocks.map { size($0.resources) }
            let order = blocks.indices.filter { packable.contains(blocks[$0].layer) }.sorted { (sizes[$0], -$0) > (sizes[$1], -$1) }
            // Bins with room for another layer, by index; a bin at `layers_per_core` leaves the list.
            var bins: [(blocks: [Int], layers: [Int], r: CoreResources)] = []
            var open: [Int] = []
            for bi in order {
                let b = blocks[bi]
                if let o = open.firstIndex(where: { !bins[$0].layers.contains(b.layer) && (bins[$0].r + b.resources).fits(cap) }) {
                    let k = open[o]
                    bins[k].blocks.append(bi)
                    bins[k].layers.append(b.layer)
                    bins[k].r = bins[k].r + b.resources
                    if bins[k].layers.count >= profile.layersPerCore { open.remove(at: o) }
                } else {
                    bins.append(([bi], [b.layer], b.resources))
                    if profile.layersPerCore > 1 { open.append(bins.count - 1) }
                }
            }
            cores = bins.map { $0.blocks.sorted() }
            cores += blocks.indices.filter { !packable.contains(blocks[$0].layer) }.map { [$0] }
        } else {
            cores = blocks.indices.map { [$0] }
        }
        cores.sort { $0[0] < $1[0] }
        return cores
    }

    /// Alternative tiles tried per layer by the packing search, and the most blocks it searches.
    static let packingAlternatives = 6
    static let packingSearchBlocks = 4096

    func run() throws(DiagnosticsError) -> PartitionResult {
        var cache = PlanCache()
        var forced: [Int: TileShape] = [:]
        var results = planAll(forced, &cache)
        var (plans, blocks) = try assemble(results).get()
        var cores = pack(blocks, plans)
        // The packing search: a layer's tile with the fewest blocks can leave its cores too full
        // to share (an input layer at 100 % of its output axons beside a dense layer at 1 %).
        // Per layer, consumers first, try its next feasible tiles with the others re-planned
        // around it; keep one when the packed total falls. Deterministic: fixed order, strict gain.
        if profile.layersPerCore > 1 && blocks.count <= Self.packingSearchBlocks {
            for li in graph.layers.indices.reversed() where plans[li].dendriteGroups == 1 {
                guard case .success(let p) = results[li] else { continue }
                let current = TileShape(rows: p.plan.tile.rows, cols: p.plan.tile.cols, channels: p.plan.tile.channels)
                for alt in p.alternatives.filter({ $0 != current }).prefix(Self.packingAlternatives) {
                    var f = forced
                    f[li] = alt
                    let r = planAll(f, &cache)
                    guard case .success(let (pl, bl)) = assemble(r) else { continue }
                    let c = pack(bl, pl)
                    if c.count < cores.count { (forced, results, plans, blocks, cores) = (f, r, pl, bl, c) }
                }
            }
        }
        // Lower bound: demand per resource over capacity (the problem's, not this solution's).
        let bound = lowerBound()
        return PartitionResult(blocks: blocks, cores: cores, layerPlans: plans, lowerBound: bound, capacity: cap)
    }

    /// `chip-cores` when the partition needs more cores than the profile's chips hold.
    func tooManyCores(_ result: PartitionResult) -> Diagnostic? {
        guard result.cores.count > profile.totalCores else { return nil }
        let fitting = profile.smallestBoard(holding: result.cores.count)
        let byLayer = result.layerPlans.sorted { $0.blocks > $1.blocks }.prefix(3).map { "'\(graph.layers[$0.layer].name)' \($0.blocks)" }
        let binding = result.lowerBound.max { $0.cores < $1.cores }?.resource ?? "neurons"
        return Diagnostic(.error, .chipCores, file: file, object: "model '\(unit.model.name)'",
                          "needs \(result.cores.count) cores, profile '\(profile.name)' on board '\(profile.board.name)' has \(profile.totalCores) (\(Board.count(profile.chips)) × \(profile.applicationCoresPerChip))",
                          notes: ["lower bound \(result.lowerBoundCores) cores (\(binding)); largest layers: \(byLayer.joined(separator: ", "))",
                                  fitting.map { "board '\($0.name)' (\($0.chips) chips, `--chips \($0.chips)`) holds it; `--chips auto` picks the smallest board that does" }
                                    ?? "the largest board of '\(profile.name)' (\(profile.boards.last.map { "'\($0.name)', \($0.chips) chips" } ?? "")) is too small; a profile with larger cores, or a smaller network, would fit"])
    }

    /// Where the neurons of one layer send: per consumer projection, the consumer tiles a source
    /// row reaches, those a source column reaches, and a factor (channel tiles, or every tile of a
    /// dense consumer). Neuron (y, x) needs Σ rows[y] · cols[x] · factor output axons with axon
    /// tables — exactly the table entries routing emits, one per (projection, destination block).
    struct Destinations {
        struct Term { var rows: [Int], cols: [Int], factor: Int }
        var terms: [Term] = []

        /// Output axons of the neurons rows × cols × `channels` channels.
        func axons(rows: Range<Int>, cols: Range<Int>, channels: Int) -> Int {
            terms.reduce(0) { acc, t in acc + rows.reduce(0) { $0 + t.rows[$1] } * cols.reduce(0) { $0 + t.cols[$1] } * t.factor * channels }
        }

        /// An upper bound on the output axons of the fullest th × tw × tc tile of an h × w layer
        /// (per term the fullest row window times the fullest column window; exact with one term).
        func worst(th: Int, tw: Int, h: Int, w: Int, channels: Int) -> Int {
            func fullest(_ v: [Int], _ n: Int, _ t: Int) -> Int {
                stride(from: 0, to: n, by: t).map { i in v[i..<min(n, i + t)].reduce(0, +) }.max() ?? 0
            }
            return terms.reduce(0) { $0 + fullest($1.rows, h, th) * fullest($1.cols, w, tw) * $1.factor * channels }
        }
    }

    /// The destination tiles of every neuron of layer `li`, given its consumers' tiles (nil plan:
    /// the consumer could not be planned; counted as one core).
    func destinations(_ li: Int, _ plans: [Int: LayerPlan]) -> Destinations {
        let (sh, sw, _) = graph.layers[li].hwc
        let ones = (rows: [Int](repeating: 1, count: sh), cols: [Int](repeating: 1, count: sw))
        var d = Destinations()
        for t in graph.consumers[li] {
            let tl = graph.layers[t]
            guard let plan = plans[t] else { d.terms.append(.init(rows: ones.rows, cols: ones.cols, factor: 1)); continue }
            let (h, w, c) = tl.hwc
            let chanTiles = (c + plan.tile.channels - 1) / plan.tile.channels
            let tiles = ((h + plan.tile.rows - 1) / plan.tile.rows) * ((w + plan.tile.cols - 1) / plan.tile.cols) * chanTiles
            // Per source row (column): the consumer tiles along that axis it reaches.
            func axisTiles(_ size: Int, _ forward: (Int) -> [Int], pooledOf: (Int) -> [Int], tile: Int) -> [Int] {
                (0..<size).map { y in
                    var set = Set<Int>()
                    for cr in forward(y) { for r in pooledOf(cr) { set.insert(r / tile) } }
                    return set.count
                }
            }
            func pooled(_ cr: Int, _ k: Int?, _ s: Int, _ pad: Int, _ n: Int) -> [Int] {
                guard let k else { return [cr] }
                return (0..<n).filter { r in r * s - pad <= cr && cr < r * s - pad + k }
            }
            let p = tl.pool
            for proj in tl.inputs where proj.source == li {
                switch proj.kind {
                case .dense: d.terms.append(.init(rows: ones.rows, cols: ones.cols, factor: tiles))
                case .identity:
                    let rt = axisTiles(sh, { [$0] }, pooledOf: { pooled($0, p?.sizeH, p?.strideH ?? 1, p?.padding.top ?? 0, h) }, tile: plan.tile.rows)
                    let ct = axisTiles(sw, { [$0] }, pooledOf: { pooled($0, p?.sizeW, p?.strideW ?? 1, p?.padding.left ?? 0, w) }, tile: plan.tile.cols)
                    d.terms.append(.init(rows: rt, cols: ct, factor: 1))
                case .conv(let g):
                    func fwd(_ v: Int, _ k: Int, _ s: Int, _ dil: Int, _ pad: Int, _ out: Int) -> [Int] {
                        (0..<k).compactMap { kk in
                            let num = v + pad - kk * dil
                            return num >= 0 && num % s == 0 && num / s < out ? num / s : nil
                        }
                    }
                    let rt = axisTiles(g.inH, { fwd($0, g.kh, g.sh, g.dh, g.padTop, g.outH) }, pooledOf: { pooled($0, p?.sizeH, p?.strideH ?? 1, p?.padding.top ?? 0, h) }, tile: plan.tile.rows)
                    let ct = axisTiles(g.inW, { fwd($0, g.kw, g.sw, g.dw, g.padLeft, g.outW) }, pooledOf: { pooled($0, p?.sizeW, p?.strideW ?? 1, p?.padding.left ?? 0, w) }, tile: plan.tile.cols)
                    d.terms.append(.init(rows: rt, cols: ct, factor: chanTiles))
                }
            }
        }
        return d
    }

    /// Chooses the tile of one layer: fewest cores under every limit.
    /// A tile shape: pooled rows × columns × channels.
    struct TileShape: Hashable { var rows: Int, cols: Int, channels: Int }

    /// One layer's plan, its blocks, and the other feasible tile shapes by increasing block count
    /// (what the packing search tries).
    typealias Planned = (plan: LayerPlan, blocks: [Block], alternatives: [TileShape])

    /// Plans layer `li`: the tile with the fewest blocks under every limit, or `forced` when it fits.
    func plan(_ li: Int, _ layer: MapLayer, dests: Destinations, forced: TileShape? = nil) -> Result<Planned, DiagnosticsError> {
        let keyed = profile.router.scheme == .keyMask
        let (h, w, c) = layer.hwc
        // Output axons: one key per neuron (key/mask), else one table entry per destination block.
        func outputAxons(rows: Range<Int>, cols: Range<Int>, channels: Int) -> Int {
            keyed ? rows.count * cols.count * channels : dests.axons(rows: rows, cols: cols, channels: channels)
        }
        func worstOutputAxons(_ th: Int, _ tw: Int, _ tc: Int) -> Int {
            keyed ? min(th, h) * min(tw, w) * tc : dests.worst(th: th, tw: tw, h: h, w: w, channels: tc)
        }
        let obj = "node '\(layer.name)'"
        // Fan-in of one neuron (a 1×1×1 tile): when it exceeds the input axons, dendrite blocks.
        // (A neuron in the middle: at the borders, padding shrinks the receptive field.)
        let midR = layer.compRows((h / 2)..<(h / 2 + 1)), midC = layer.compCols((w / 2)..<(w / 2 + 1))
        let one = axonGroups(layer, compRows: midR, compCols: midC, channels: 0..<1, group: nil, groups: 1)
        let fanIn = one.reduce(0) { $0 + $1.count }
        var groups = 1
        if fanIn > cap.inputAxons {
            let weighted = layer.inputs.contains { $0.kind != .identity }
            guard profile.spikes.graded && weighted else {
                let what = profile.spikes.graded ? "" : "profile '\(profile.name)' has binary spikes only, so a neuron's input cannot be split into partial sums on other cores"
                return .failure(DiagnosticsError([Diagnostic(.error, .coreFanIn, file: file, object: obj,
                                           "needs \(fanIn) input axons for one neuron, profile '\(profile.name)' allows \(cap.inputAxons)",
                                           notes: [what, "a profile with graded spikes (e.g. loihi2) splits it into dendrite blocks; or reduce the layer's fan-in to ≤ \(cap.inputAxons) (fewer channels or a smaller input before it)"].filter { !$0.isEmpty })]))
            }
            // The fewest groups whose single-neuron slice fits (half the axons left for the soma).
            groups = 2
            while groups <= 4096 {
                let g = axonGroups(layer, compRows: midR, compCols: midC, channels: 0..<1, group: 0, groups: groups)
                if g.reduce(0, { $0 + $1.count }) <= cap.inputAxons { break }
                groups += 1
            }
            if groups > 4096 || groups > (layer.inputs.map(sourceChannels).max() ?? 1) {
                return .failure(DiagnosticsError([Diagnostic(.error, .coreFanIn, file: file, object: obj,
                                           "needs \(fanIn) input axons for one neuron, profile '\(profile.name)' allows \(cap.inputAxons), and splitting its input channels into dendrite blocks does not bring a slice under the limit",
                                           notes: ["a receptive field of one input channel already exceeds the limit"])]))
            }
        }
        struct Choice { var th: Int, tw: Int, tc: Int, cores: Int, axons: Int, r: CoreResources }
        var best: Choice? = nil
        var closest: (CoreResources, Int, Int, Int)? = nil  // the smallest tile's needs, for the diagnostic
        // The worst tile: rows and columns are independent, so the worst is the product of the
        // worst row set and the worst column set (receptive fields at the borders are clipped).
        func worstSets(_ th: Int, _ tw: Int) -> ([Int], [Int]) {
            var rowSets: [[Int]] = [], colSets: [[Int]] = []
            var i = 0
            while i < h { rowSets.append(layer.compRows(i..<min(h, i + th))); i += th }
            i = 0
            while i < w { colSets.append(layer.compCols(i..<min(w, i + tw))); i += tw }
            func count(_ r: [Int], _ c: [Int]) -> Int {
                axonGroups(layer, compRows: r, compCols: c, channels: 0..<1, group: nil, groups: 1).reduce(0) { $0 + $1.count } + r.count * c.count
            }
            var bestR = rowSets[0], bestC = colSets[0], m = -1
            for r in rowSets { let v = count(r, colSets[0]); if v > m { m = v; bestR = r } }
            m = -1
            for cset in colSets { let v = count(bestR, cset); if v > m { m = v; bestC = cset } }
            return (bestR, bestC)
        }
        func tileAxons(_ r: [Int], _ c: [Int], _ tc: Int, group: Int?) -> Int {
            axonGroups(layer, compRows: r, compCols: c, channels: 0..<tc, group: group, groups: groups).reduce(0) { $0 + $1.count }
        }
        /// The worst tile of shape th × tw × tc: its resources, the layer's cores and total axons
        /// (nil: more compartments than a core has).
        var worstCache: [Int: ([Int], [Int])] = [:]
        func evaluate(_ th: Int, _ tw: Int, _ tc: Int) -> (r: CoreResources, cores: Int, axons: Int)? {
            let key = th * (w + 1) + tw
            let (cr, cc) = worstCache[key] ?? worstSets(th, tw)
            worstCache[key] = (cr, cc)
            let comps = cr.count * cc.count * tc
            if comps > cap.neurons { return nil }
            let nTiles = ((h + th - 1) / th) * ((w + tw - 1) / tw) * ((c + tc - 1) / tc)
            let cores = nTiles * (groups == 1 ? 1 : groups + 1)
            var r: CoreResources
            var axonsTotal: Int
            if groups == 1 {
                let ax = tileAxons(cr, cc, tc, group: nil)
                r = resources(layer, compRows: cr, compCols: cc, channels: tc, group: nil, groups: 1, dendriteAxons: 0)
                r.inputAxons = ax
                axonsTotal = ax * nTiles
            } else {
                let somaIdentity = axonGroups(layer, compRows: cr, compCols: cc, channels: 0..<tc, group: nil, groups: 1)
                    .enumerated().filter { layer.inputs[$0.offset].kind == .identity }.reduce(0) { $0 + $1.element.count }
                var rs = resources(layer, compRows: cr, compCols: cc, channels: tc, group: nil, groups: groups, dendriteAxons: groups * comps)
                rs.synapseBits = (groups * comps + somaIdentity) * limits.bitsPerSynapse
                rs.inputAxons = groups * comps + somaIdentity
                let dax = tileAxons(cr, cc, tc, group: 0)
                var rd = resources(layer, compRows: cr, compCols: cc, channels: tc, group: 0, groups: groups, dendriteAxons: 0)
                rd.inputAxons = dax
                r = CoreResources(neurons: max(rs.neurons, rd.neurons), stateBytes: max(rs.stateBytes, rd.stateBytes),
                                  inputAxons: max(rs.inputAxons, rd.inputAxons), synapseBits: max(rs.synapseBits, rd.synapseBits))
                axonsTotal = (dax * groups + rs.inputAxons) * nTiles
            }
            r.outputAxons = worstOutputAxons(th, tw, tc)
            return (r, cores, axonsTotal)
        }
        let thC = Self.candidates(h), twC = Self.candidates(w), tcC = Self.candidates(c)
        // Per block count, the feasible tile with the fewest total input axons; shapes needing
        // more than twice the best's blocks (plus two) are not worth packing and are skipped.
        var byCores: [Int: Choice] = [:]
        var forcedChoice: Choice? = nil
        for th in thC {
            for tw in twC {
                for tc in tcC {
                    let isForced = forced == TileShape(rows: th, cols: tw, channels: tc)
                    // A cheap reject before the resource count.
                    if !isForced, let b = best, ((h + th - 1) / th) * ((w + tw - 1) / tw) * ((c + tc - 1) / tc) * (groups == 1 ? 1 : groups + 1) > 2 * b.cores + 2 { continue }
                    guard let (r, cores, axonsTotal) = evaluate(th, tw, tc) else { continue }
                    if th == 1 && tw == 1 && tc == 1 { closest = (r, 1, 1, 1) }
                    guard r.fits(cap) else { continue }
                    let choice = Choice(th: th, tw: tw, tc: tc, cores: cores, axons: axonsTotal, r: r)
                    if isForced { forcedChoice = choice }
                    if byCores[cores].map({ axonsTotal < $0.axons }) ?? true { byCores[cores] = choice }
                    if let b = best, cores > b.cores || cores == b.cores && axonsTotal >= b.axons { continue }
                    best = choice
                }
            }
        }
        let alternatives = byCores.values.filter { c in best.map { c.cores <= 2 * $0.cores + 2 } ?? false }
            .sorted { ($0.cores, $0.axons, $0.th, $0.tw, $0.tc) < ($1.cores, $1.axons, $1.th, $1.tw, $1.tc) }
            .map { TileShape(rows: $0.th, cols: $0.tw, channels: $0.tc) }
        let chosen = forcedChoice ?? best
        guard let b = chosen else {
            let need = closest?.0 ?? CoreResources()
            let over = need.items(cap).filter { $0.used > $0.limit }
            let first = over.first ?? ("neurons", layer.compHW.h * layer.compHW.w, cap.neurons, DiagnosticID.coreNeurons)
            return .failure(DiagnosticsError([Diagnostic(.error, first.id, file: file, object: obj,
                                       "needs \(first.used) \(first.name) for its smallest block (one neuron\(layer.pool != nil ? " with its pool window" : "")), profile '\(profile.name)' allows \(first.limit)",
                                       notes: over.dropFirst().map { "also \($0.name): \($0.used) > \($0.limit)" } + ["a profile with larger cores, or a smaller fan-in for this layer, would fit"])]))
        }
        // Emit the blocks.
        var out: [Block] = []
        var somaIndex = 0
        for r0 in stride(from: 0, to: h, by: b.th) {
            for c0 in stride(from: 0, to: w, by: b.tw) {
                for ch0 in stride(from: 0, to: c, by: b.tc) {
                    let rows = r0..<min(h, r0 + b.th), cols = c0..<min(w, c0 + b.tw), chans = ch0..<min(c, ch0 + b.tc)
                    let cr = layer.compRows(rows), cc = layer.compCols(cols)
                    let comps = cr.count * cc.count * chans.count
                    if groups == 1 {
                        let ax = axonGroups(layer, compRows: cr, compCols: cc, channels: chans, group: nil, groups: 1)
                        var r = resources(layer, compRows: cr, compCols: cc, channels: chans.count, group: nil, groups: 1, dendriteAxons: 0)
                        r.inputAxons = ax.reduce(0) { $0 + $1.count }
                        r.outputAxons = outputAxons(rows: rows, cols: cols, channels: chans.count)
                        out.append(Block(layer: li, role: .soma, rows: rows, cols: cols, channels: chans, compRows: cr, compCols: cc, axons: ax, resources: r))
                    } else {
                        // Dendrite blocks first, then the soma that sums their partial currents.
                        somaIndex = out.count + groups
                        var partials: [AxonGroup] = []
                        for g in 0..<groups {
                            let ax = axonGroups(layer, compRows: cr, compCols: cc, channels: chans, group: g, groups: groups)
                            var r = resources(layer, compRows: cr, compCols: cc, channels: chans.count, group: g, groups: groups, dendriteAxons: 0)
                            r.inputAxons = ax.reduce(0) { $0 + $1.count }
                            r.outputAxons = comps
                            partials.append(AxonGroup(kind: .partial(block: -1 - out.count), rows: cr, cols: cc, channels: chans))
                            out.append(Block(layer: li, role: .dendrite(group: g, groups: groups, soma: somaIndex), rows: rows, cols: cols, channels: chans,
                                             compRows: cr, compCols: cc, axons: ax, resources: r))
                        }
                        let identity = axonGroups(layer, compRows: cr, compCols: cc, channels: chans, group: nil, groups: 1)
                            .enumerated().filter { layer.inputs[$0.offset].kind == .identity }.map(\.element)
                        let ax = identity + partials
                        let n = ax.reduce(0) { $0 + $1.count }
                        let r = CoreResources(neurons: comps, stateBytes: (comps * stateBits(layer) + 7) / 8, inputAxons: n, synapseBits: n * limits.bitsPerSynapse,
                                              outputAxons: outputAxons(rows: rows, cols: cols, channels: chans.count))
                        out.append(Block(layer: li, role: .soma, rows: rows, cols: cols, channels: chans, compRows: cr, compCols: cc, axons: ax, resources: r))
                    }
                }
            }
        }
        // The binding limit: the resource that stops the tile from growing — over its limit in
        // the most of the next larger tiles along each axis (ties: the fuller in this tile).
        var stops: [String: Int] = [:]
        for (th, tw, tc) in [(Self.larger(b.th, thC), b.tw, b.tc), (b.th, Self.larger(b.tw, twC), b.tc), (b.th, b.tw, Self.larger(b.tc, tcC))]
        where (th, tw, tc) != (b.th, b.tw, b.tc) {
            guard let (r, _, _) = evaluate(th, tw, tc) else { stops["neurons", default: 0] += 1; continue }
            for item in r.items(cap) where item.used > item.limit { stops[item.name, default: 0] += 1 }
        }
        let fullest = b.r.items(cap).max { Double($0.used) / Double($0.limit) < Double($1.used) / Double($1.limit) }!.name
        let binding: String
        if thC.count == 1 && twC.count == 1 && tcC.count == 1 || (b.th == h && b.tw == w && b.tc == c) {
            binding = "none (whole layer on one core)"
        } else {
            binding = b.r.items(cap).map(\.name).max { (stops[$0] ?? 0, $0 == fullest ? 1 : 0) < (stops[$1] ?? 0, $1 == fullest ? 1 : 0) }!
        }
        return .success((LayerPlan(layer: li, tile: (b.th, b.tw, b.tc), dendriteGroups: groups, blocks: out.count, binding: binding), out, alternatives))
    }
}
