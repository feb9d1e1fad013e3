// route: input axon numbering, per-core output axon tables (neuron → destination core, axon),
// and for key/mask multicast routers the per-router tables along dimension-order paths,
// compressed until they fit (Docs/mapping.md, "Routing").
import SNNCHardware
import SNNCIR

/// One router entry: packets whose key matches (key & mask) leave on `links` and are delivered
/// to the chip's `cores`.
public struct RouterEntry: Sendable, Equatable {
    public var key: UInt32
    public var mask: UInt32
    public var route: Route
    public func matches(_ k: UInt32) -> Bool { k & mask == key }
}

/// Links are bits 0…3 (east, west, north, south); cores are chip-local core indices.
public struct Route: Sendable, Hashable, Comparable {
    public var links: UInt8
    public var cores: [Int]
    public static func < (a: Route, b: Route) -> Bool { a.links != b.links ? a.links < b.links : a.cores.lexicographicallyPrecedes(b.cores) }
    public static let linkNames = ["E", "W", "N", "S"]
    public var description: String {
        let l = (0..<4).filter { links & (1 << $0) != 0 }.map { Route.linkNames[$0] }
        return (l + cores.map { "c\($0)" }).joined(separator: " ")
    }
}

public struct RouterTable: Sendable {
    public var chip: Int
    public var entriesBefore: Int
    public var entries: [RouterEntry]
}

public struct Routing: Sendable {
    /// Per core: first neuron (output) of each of its blocks, in core-local numbering.
    public var neuronBase: [[Int]]
    /// Per core: first input axon of each of its blocks.
    public var axonBase: [[Int]]
    /// Output axon tables per core, CSR over the core's local neurons.
    public var tableStart: [[Int32]]
    public var tableCore: [[Int32]]
    public var tableAxon: [[Int32]]
    /// Key/mask routers: the routing key of each core-local neuron, and the tables per chip.
    public var keys: [[UInt32]]
    public var routers: [RouterTable]
    /// Estimated spikes per step on each used link (global mesh, dimension-order paths).
    public var linkLoad: [(from: Int, to: Int, spikesPerStep: Double)]
    public var checkedSynapseRoutes: Int
}

public struct RouteSpikes: Pass {
    public let name = "route"
    public let summary = "number input axons, build output axon tables and (key/mask) router tables, compress them to fit"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        guard let graph = unit.graph, let part = unit.partition, let place = unit.placement else { return }
        var r = try RouteBuilder(unit: unit, graph: graph, part: part, place: place).build()
        r.linkLoad = Self.linkLoad(place, MeshGeometry(unit.profile), unit.profile)
        unit.routing = r
    }

    /// Dimension-order (column first, then row) paths on the global mesh, loaded with traffic.
    static func linkLoad(_ place: Placement, _ geo: MeshGeometry, _ p: HardwareProfile) -> [(from: Int, to: Int, spikesPerStep: Double)] {
        let cols = p.chipMesh.cols * p.coreMesh.cols
        var load: [Int: Double] = [:]
        let total = p.chipMesh.rows * p.coreMesh.rows * cols
        for t in place.traffic {
            var a = geo.global(place.slotOfCore[t.from])
            let b = geo.global(place.slotOfCore[t.to])
            while a != b {
                var n = a
                if a.col != b.col { n.col += a.col < b.col ? 1 : -1 } else { n.row += a.row < b.row ? 1 : -1 }
                load[(a.row * cols + a.col) * total + n.row * cols + n.col, default: 0] += t.spikesPerStep
                a = n
            }
        }
        return load.keys.sorted().map { (from: $0 / total, to: $0 % total, spikesPerStep: load[$0]!) }
    }
}

/// Where each neuron of each layer lives: block, core, core-local index.
struct NeuronLocator {
    let graph: MapGraph
    let part: PartitionResult
    var coreOf: [Int]
    var blockBase: [Int]  // core-local index of a block's first neuron
    var firstBlock: [Int]
    init(graph: MapGraph, part: PartitionResult) {
        self.graph = graph
        self.part = part
        coreOf = [Int](repeating: 0, count: part.blocks.count)
        blockBase = [Int](repeating: 0, count: part.blocks.count)
        for (c, bs) in part.cores.enumerated() {
            var n = 0
            for b in bs {
                coreOf[b] = c
                blockBase[b] = n
                n += Self.outputs(part.blocks[b])
            }
        }
        firstBlock = [Int](repeating: -1, count: graph.layers.count)
        for (i, b) in part.blocks.enumerated() where firstBlock[b.layer] < 0 { firstBlock[b.layer] = i }
    }

    /// Outputs of a block: its neurons (soma) or its compartments' partial currents (dendrite).
    static func outputs(_ b: Block) -> Int { b.role == .soma ? b.neurons : b.compartments }

    /// The soma block holding neuron (row, col, ch) of layer l.
    func block(layer l: Int, row: Int, col: Int, ch: Int) -> Int {
        let plan = part.layerPlans[l]
        let (h, w, c) = graph.layers[l].hwc
        _ = h
        let tw = (w + plan.tile.cols - 1) / plan.tile.cols, tc = (c + plan.tile.channels - 1) / plan.tile.channels
        let tile = ((row / plan.tile.rows) * tw + col / plan.tile.cols) * tc + ch / plan.tile.channels
        let g = plan.dendriteGroups
        return firstBlock[l] + (g == 1 ? tile : tile * (g + 1) + g)
    }

    func local(_ b: Int, row: Int, col: Int, ch: Int) -> Int {
        let blk = part.blocks[b]
        return blockBase[b] + ((row - blk.rows.lowerBound) * blk.cols.count + (col - blk.cols.lowerBound)) * blk.channels.count + (ch - blk.channels.lowerBound)
    }
}

struct RouteBuilder {
    let unit: CompileUnit
    let graph: MapGraph
    let part: PartitionResult
    let place: Placement
    var file: String { unit.model.file }

    func build() throws(DiagnosticsError) -> Routing {
        let loc = NeuronLocator(graph: graph, part: part)
        let nCores = part.cores.count
        var neuronBase = [[Int]](repeating: [], count: nCores), axonBase = [[Int]](repeating: [], count: nCores)
        var outputs = [Int](repeating: 0, count: nCores)
        for (c, bs) in part.cores.enumerated() {
            var a = 0
            for b in bs {
                neuronBase[c].append(loc.blockBase[b])
                axonBase[c].append(a)
                a += part.blocks[b].resources.inputAxons
                outputs[c] += NeuronLocator.outputs(part.blocks[b])
            }
        }
        // Every (source output → destination core, axon), visited destination by destination.
        func forEachDelivery(_ body: (_ srcCore: Int, _ srcLocal: Int, _ dstCore: Int, _ axon: Int) -> Void) {
            for (c, bs) in part.cores.enumerated() {
                for (k, b) in bs.enumerated() {
                    var axon = axonBase[c][k]
                    for g in part.blocks[b].axons {
                        switch g.kind {
                        case .partial(let src):
                            for j in 0..<g.count { body(loc.coreOf[src], loc.blockBase[src] + j, c, axon + j) }
                            axon += g.count
                        case .spikes(let l):
                            for y in g.rows { for x in g.cols { for ch in g.channels {
                                let sb = loc.block(layer: l, row: y, col: x, ch: ch)
                                body(loc.coreOf[sb], loc.local(sb, row: y, col: x, ch: ch), c, axon)
                                axon += 1
                            } } }
                        }
                    }
                }
            }
        }
        var count = outputs.map { [Int32](repeating: 0, count: $0 + 1) }
        forEachDelivery { sc, sl, _, _ in count[sc][sl + 1] += 1 }
        for c in 0..<nCores { for i in 0..<outputs[c] { count[c][i + 1] += count[c][i] } }
        let start = count
        var fill = count
        var dst = start.map { [Int32](repeating: 0, count: Int($0.last!)) }
        var axn = dst
        forEachDelivery { sc, sl, dc, a in
            let p = Int(fill[sc][sl])
            dst[sc][p] = Int32(dc)
            axn[sc][p] = Int32(a)
            fill[sc][sl] += 1
        }
        // Output axon limits: table entries (axon-table) or keys (key/mask) per core.
        var problems: [Diagnostic] = []
        let cap = part.capacity
        for c in 0..<nCores {
            let used = unit.profile.router.scheme == .axonTable ? dst[c].count : outputs[c]
            let layers = part.cores[c].map { graph.layers[part.blocks[$0].layer].name }
            if used > cap.outputAxons {
                problems.append(Diagnostic(.error, .coreOutputAxons, file: file, object: "node '\(layers[0])'",
                                           "core \(c) needs \(used) output axons, profile '\(unit.profile.name)' allows \(cap.outputAxons)",
                                           notes: ["each neuron needs one output axon per destination core; smaller destination tiles or a profile with more output axons would fit"]))
            }
            if let maxD = unit.profile.limits(core: place.slotOfCore[c]).maxDestinations {
                let d = Set(dst[c]).count
                if d > maxD {
                    problems.append(Diagnostic(.error, .coreDestinations, file: file, object: "node '\(layers[0])'",
                                               "core \(c) sends to \(d) cores, profile '\(unit.profile.name)' allows \(maxD) destinations per core"))
                }
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        var routing = Routing(neuronBase: neuronBase, axonBase: axonBase, tableStart: start, tableCore: dst, tableAxon: axn,
                              keys: [], routers: [], linkLoad: [], checkedSynapseRoutes: 0)
        if unit.profile.router.scheme == .keyMask {
            try keyMask(&routing, outputs: outputs)
        }
        return routing
    }

    /// Keys: core id in the high bits, then the neuron's position after sorting the core's
    /// neurons by destination set (so neurons with the same destinations share key prefixes).
    func keyMask(_ r: inout Routing, outputs: [Int]) throws(DiagnosticsError) {
        let p = unit.profile
        let geo = MeshGeometry(p)
        let maxOut = max(1, outputs.max() ?? 1)
        var bits = 0
        while (1 << bits) < maxOut { bits += 1 }
        let coreBits = 32 - bits
        guard part.cores.count <= (1 << min(coreBits, 31)) else {
            throw DiagnosticsError([Diagnostic(.error, .routerEntries, file: file, object: "profile '\(p.name)'", "\(part.cores.count) cores × \(maxOut) neurons do not fit 32-bit routing keys")])
        }
        var entries = [Int: [RouterEntry]](minimumCapacity: p.chips)
        r.keys = []
        for c in 0..<part.cores.count {
            let n = outputs[c]
            // Destination set of each neuron.
            var sig: [[Int]] = (0..<n).map { (j: Int) -> [Int] in
                let row: ArraySlice<Int32> = r.tableCore[c][Int(r.tableStart[c][j])..<Int(r.tableStart[c][j + 1])]
                return Array(Set(row.map { Int($0) })).sorted()
            }
            let order: [Int] = (0..<n).sorted { (x: Int, y: Int) -> Bool in
                if sig[x] == sig[y] { return x < y }
                return sig[x].lexicographicallyPrecedes(sig[y])
            }
            var keys = [UInt32](repeating: 0, count: n)
            for (pos, j) in order.enumerated() { keys[j] = UInt32(c) << UInt32(bits) | UInt32(pos) }
            r.keys.append(keys)
            // Groups of equal destination sets → aligned key ranges → entries along the tree.
            var i = 0
            while i < n {
                var e = i
                while e + 1 < n && sig[order[e + 1]] == sig[order[i]] { e += 1 }
                let dests = sig[order[i]]
                if !dests.isEmpty {
                    let base = UInt32(c) << UInt32(bits)
                    let tree = multicastTree(from: place.slotOfCore[c], to: dests.map { place.slotOfCore[$0] }, geo: geo)
                    for (k, m) in Self.prefixes(UInt32(i), UInt32(e + 1)) {
                        let mask: UInt32 = m | ~((UInt32(1) << UInt32(bits)) &- 1)
                        for (chip, route) in tree { entries[chip, default: []].append(RouterEntry(key: base | k, mask: mask, route: route)) }
                    }
                }
                i = e + 1
            }
            sig.removeAll()
        }
        var problems: [Diagnostic] = []
        for chip in entries.keys.sorted() {
            let before = entries[chip]!
            let after = Self.compress(before)
            if let limit = p.router.entries, after.count > limit {
                let k = geo.coordinates(chip * p.applicationCoresPerChip)
                problems.append(Diagnostic(.error, .routerEntries, file: file, object: "router (\(k.cc), \(k.cr))",
                                           "needs \(after.count) entries after compression (\(before.count) before), profile '\(p.name)' allows \(limit)",
                                           notes: ["placing the layers that cross this chip on fewer chips, or fewer destination sets per core, would fit"]))
            }
            r.routers.append(RouterTable(chip: chip, entriesBefore: before.count, entries: after))
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
    }

    /// Aligned power-of-two blocks covering [lo, hi): (key, mask of the low bits).
    static func prefixes(_ lo: UInt32, _ hi: UInt32) -> [(UInt32, UInt32)] {
        var out: [(UInt32, UInt32)] = []
        var a = lo
        while a < hi {
            var size: UInt32 = 1
            while a % (size * 2) == 0 && a + size * 2 <= hi { size *= 2 }
            out.append((a, ~(size - 1)))
            a += size
        }
        return out
    }

    /// Union of dimension-order paths (column first, then row) from the source chip to each
    /// destination chip: for each chip on the tree, the links out and the local cores.
    func multicastTree(from src: Int, to dests: [Int], geo: MeshGeometry) -> [(Int, Route)] {
        let p = unit.profile
        var links: [Int: UInt8] = [:]
        var cores: [Int: Set<Int>] = [:]
        let s = geo.chip(src)
        links[s] = links[s] ?? 0
        for d in dests {
            let dc = geo.chip(d)
            var (r, c) = (s / p.chipMesh.cols, s % p.chipMesh.cols)
            let (tr, tc) = (dc / p.chipMesh.cols, dc % p.chipMesh.cols)
            while (r, c) != (tr, tc) {
                let here = r * p.chipMesh.cols + c
                let bit: UInt8
                if c != tc { bit = c < tc ? 1 : 2; c += c < tc ? 1 : -1 } else { bit = r > tr ? 4 : 8; r += r < tr ? 1 : -1 }
                links[here, default: 0] |= bit
                links[r * p.chipMesh.cols + c] = links[r * p.chipMesh.cols + c] ?? 0
            }
            cores[dc, default: []].insert(d % p.applicationCoresPerChip)
        }
        return links.keys.sorted().map { ($0, Route(links: links[$0]!, cores: (cores[$0] ?? []).sorted())) }
    }

    /// Merges entries with equal routes into wider key/mask entries while no merged entry covers a
    /// key of an entry with another route (so table order does not matter), until nothing merges.
    static func compress(_ input: [RouterEntry]) -> [RouterEntry] {
        var byRoute: [Route: [RouterEntry]] = [:]
        for e in input { byRoute[e.route, default: []].append(e) }
        let routes = byRoute.keys.sorted()
        func overlaps(_ a: RouterEntry, _ b: RouterEntry) -> Bool { (a.key ^ b.key) & a.mask & b.mask == 0 }
        for r in routes {
            var group = byRoute[r]!
            let others = input.filter { $0.route != r }
            var merged = true
            while merged && group.count > 1 {
                merged = false
                var i = 0
                outer: while i < group.count {
                    var j = i + 1
                    while j < group.count {
                        let m = group[i].mask & group[j].mask & ~(group[i].key ^ group[j].key)
                        let cand = RouterEntry(key: group[i].key & m, mask: m, route: r)
                        if !others.contains(where: { overlaps(cand, $0) }) {
                            // Drop every entry of this route the new one covers.
                            group = group.enumerated().filter { k, e in k != i && k != j && !(e.key & cand.mask == cand.key && e.mask & cand.mask == cand.mask) }.map(\.element)
                            group.append(cand)
                            group.sort { ($0.key, $0.mask) < ($1.key, $1.mask) }
                            merged = true
                            continue outer
                        }
                        j += 1
                    }
                    i += 1
                }
            }
            byRoute[r] = group
        }
        return routes.flatMap { byRoute[$0]! }.sorted { ($0.key, $0.mask) < ($1.key, $1.mask) }
    }
}
