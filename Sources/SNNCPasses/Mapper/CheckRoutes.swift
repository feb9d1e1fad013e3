// check-routes: proves that the emitted tables deliver every spike to exactly the cores that
// hold its targets. Independent of how `route` built the tables: the needed destinations are
// derived forward, from each source neuron through the projections' geometry to the target
// compartments and the blocks that hold them; the tables are then walked — axon entries decoded
// back to their source, key/mask packets followed router by router (no loops, no drops, no
// strays). Runs on every compile; a failure is an error (a compiler bug, never the user's).
import SNNCHardware
import SNNCIR

public struct CheckRoutes: Pass {
    public let name = "check-routes"
    public let summary = "walk every source neuron's spikes through the emitted tables: exactly its targets, no loops, no strays"
    public init() {}

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        guard let graph = unit.graph, let part = unit.partition, let place = unit.placement, var routing = unit.routing else { return }
        let errors = Self.check(graph: graph, part: part, place: place, routing: routing, profile: unit.profile)
        if !errors.isEmpty {
            throw DiagnosticsError(errors.prefix(20).map { Diagnostic(.error, .routeCheck, file: unit.model.file, object: nil, $0) })
        }
        routing.checkedSynapseRoutes = routing.tableCore.reduce(0) { $0 + $1.count }
        unit.routing = routing
    }

    /// The problems found (empty: the tables are right).
    public static func check(graph: MapGraph, part: PartitionResult, place: Placement, routing: Routing, profile: HardwareProfile) -> [String] {
        let loc = NeuronLocator(graph: graph, part: part)
        var errors: [String] = []
        // Decode (core, axon) → (source core, source local index), from the destination's side.
        func decode(_ core: Int, _ axon: Int) -> (Int, Int)? {
            for (k, b) in part.cores[core].enumerated().reversed() where axon >= routing.axonBase[core][k] {
                var a = axon - routing.axonBase[core][k]
                for g in part.blocks[b].axons {
                    if a < g.count {
                        switch g.kind {
                        case .partial(let src): return (loc.coreOf[src], loc.blockBase[src] + a)
                        case .spikes(let l):
                            let per = g.cols.count * g.channels.count
                            let y = g.rows[a / per], x = g.cols[(a % per) / g.channels.count], ch = g.channels.lowerBound + a % g.channels.count
                            let sb = loc.block(layer: l, row: y, col: x, ch: ch)
                            return (loc.coreOf[sb], loc.local(sb, row: y, col: x, ch: ch))
                        }
                    }
                    a -= g.count
                }
                return nil
            }
            return nil
        }
        // Blocks of each layer, for the forward derivation.
        var tables: [Int: Int] = [:]
        for (i, t) in routing.routers.enumerated() { tables[t.chip] = i }
        var blocksOf = [[Int]](repeating: [], count: graph.layers.count)
        for (i, b) in part.blocks.enumerated() { blocksOf[b.layer].append(i) }
        // Per (target layer, projection): for each source row the target blocks whose rows it
        // reaches, and for each source column a mask of the blocks whose columns it reaches;
        // `channelReaches` then decides the channel.
        var hits: [Int: (rows: [[Int]], cols: [[Bool]])] = [:]
        func hitTable(_ p: MapProjection, target t: Int, source l: Int) -> (rows: [[Int]], cols: [[Bool]]) {
            let (sh, sw, _) = graph.layers[l].hwc
            let bs = blocksOf[t].map { part.blocks[$0] }
            func axis(_ v: Int, _ b: Block, row: Bool) -> Bool {
                let held = row ? b.compRows : b.compCols
                switch p.kind {
                case .dense: return true
                case .identity: return held.contains(v)
                case .conv(let cs):
                    let (k, st, d, pad, out) = row ? (cs.kh, cs.sh, cs.dh, cs.padTop, cs.outH) : (cs.kw, cs.sw, cs.dw, cs.padLeft, cs.outW)
                    for kk in 0..<k {
                        let num = v + pad - kk * d
                        if num >= 0 && num % st == 0 && num / st < out && held.contains(num / st) { return true }
                    }
                    return false
                }
            }
            let rows = (0..<sh).map { y in bs.indices.filter { axis(y, bs[$0], row: true) } }
            let cols = (0..<sw).map { x in bs.map { axis(x, $0, row: false) } }
            return (rows, cols)
        }
        for (c, bs) in part.cores.enumerated() {
            for (k, b) in bs.enumerated() {
                let blk = part.blocks[b]
                let base = routing.neuronBase[c][k]
                for j in 0..<NeuronLocator.outputs(blk) {
                    let local = base + j
                    let lo = Int(routing.tableStart[c][local]), hi = Int(routing.tableStart[c][local + 1])
                    // What the tables deliver, each entry decoded back to its source.
                    var got = Set<Int>()
                    for e in lo..<hi {
                        let d = Int(routing.tableCore[c][e]), a = Int(routing.tableAxon[c][e])
                        guard d >= 0 && d < part.cores.count, let s = decode(d, a), s == (c, local) else {
                            errors.append("core \(c) output \(local): entry → core \(d) axon \(a) does not decode back to it")
                            continue
                        }
                        got.insert(d)
                    }
                    // What the graph needs.
                    var need = Set<Int>()
                    if case .dendrite(_, _, let soma) = blk.role {
                        need.insert(loc.coreOf[soma])
                    } else {
                        let (y, x, ch) = position(blk, j)
                        for t in graph.consumers[blk.layer] {
                            for (pi, p) in graph.layers[t].inputs.enumerated() where p.source == blk.layer {
                                let key = t * 4096 + pi
                                if hits[key] == nil { hits[key] = hitTable(p, target: t, source: blk.layer) }
                                let h = hits[key]!
                                for k in h.rows[y] where h.cols[x][k] {
                                    let tb = blocksOf[t][k]
                                    if channelReaches(p, ch: ch, target: part.blocks[tb], source: graph.layers[blk.layer],
                                                      dendrites: part.layerPlans[t].dendriteGroups > 1) {
                                        need.insert(loc.coreOf[tb])
                                    }
                                }
                            }
                        }
                    }
                    if got != need {
                        errors.append("core \(c) output \(local) (layer '\(graph.layers[blk.layer].name)'): tables reach cores \(got.sorted()), the graph needs \(need.sorted())")
                    }
                    if profile.router.scheme == .keyMask && !routing.keys.isEmpty && !need.isEmpty {
                        let r = walk(key: routing.keys[c][local], from: place.slotOfCore[c], routing: routing, tables: tables, profile: profile)
                        let want = Set(need.map { place.slotOfCore[$0] })
                        if let e = r.error { errors.append("core \(c) output \(local): key 0x\(String(r.key, radix: 16)): \(e)") } else if r.delivered != want {
                            errors.append("core \(c) output \(local): key 0x\(String(r.key, radix: 16)) reaches slots \(r.delivered.sorted()), needs \(want.sorted())")
                        }
                    }
                    if errors.count > 20 { return errors }
                }
            }
        }
        return errors
    }

    static func position(_ b: Block, _ j: Int) -> (Int, Int, Int) {
        let ch = b.channels.lowerBound + j % b.channels.count
        let rest = j / b.channels.count
        return (b.rows.lowerBound + rest / b.cols.count, b.cols.lowerBound + rest % b.cols.count, ch)
    }

    /// Whether a source neuron of channel `ch` feeds target block `tb`, given that its row and
    /// column reach the block (the hit table, derived forward from the projection's geometry):
    /// the channel groups of dendrite blocks, the channels of identity inputs, and somas of
    /// dendrite layers taking only identity inputs.
    static func channelReaches(_ p: MapProjection, ch: Int, target tb: Block, source: MapLayer, dendrites: Bool) -> Bool {
        // With dendrite blocks, weighted inputs go to the dendrites; the soma sums their partials.
        if dendrites && tb.role == .soma && p.kind != .identity { return false }
        switch (p.kind, tb.role) {
        case (.identity, .dendrite): return false
        case (.identity, .soma): return tb.channels.contains(ch)
        case (.dense, .soma), (.conv, .soma): return true
        case (.conv(let cs), .dendrite(let g, let n, _)):
            let per = (cs.inC + n - 1) / n
            return ch >= g * per && ch < (g + 1) * per
        case (.dense, .dendrite(let g, let n, _)):
            let per = (source.hwc.c + n - 1) / n
            return ch >= g * per && ch < (g + 1) * per
        }
    }

    /// Follows a key/mask packet from its source chip: first matching entry at each router.
    static func walk(key: UInt32, from slot: Int, routing: Routing, tables: [Int: Int], profile p: HardwareProfile) -> (key: UInt32, delivered: Set<Int>, error: String?) {
        let geo = MeshGeometry(p)
        var delivered = Set<Int>()
        var stack = [geo.chip(slot)]
        var visited = Set<Int>()
        while let chip = stack.popLast() {
            if visited.contains(chip) { return (key, delivered, "visits router \(chip) twice (a loop or two paths)") }
            visited.insert(chip)
            guard let ti = tables[chip], let e = routing.routers[ti].entries.first(where: { $0.matches(key) }) else {
                return (key, delivered, "no entry at router \(chip): the packet would be dropped or default-routed")
            }
            for c in e.route.cores { delivered.insert(chip * p.applicationCoresPerChip + c) }
            let (r, c) = (chip / p.chipMesh.cols, chip % p.chipMesh.cols)
            for bit in 0..<4 where e.route.links & (1 << bit) != 0 {
                let (nr, nc) = [(r, c + 1), (r, c - 1), (r - 1, c), (r + 1, c)][bit]
                guard nr >= 0 && nr < p.chipMesh.rows && nc >= 0 && nc < p.chipMesh.cols else { return (key, delivered, "router \(chip) sends off the mesh") }
                stack.append(nr * p.chipMesh.cols + nc)
            }
        }
        return (key, delivered, nil)
    }
}
