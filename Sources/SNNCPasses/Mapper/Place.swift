// place: cores onto the chips' 2-D core mesh, minimising Σ spike traffic × hops (inter-chip
// hops weighted by the profile). A serpentine space-filling-curve start in layer order, refined
// by seeded simulated annealing over swaps and moves; reported against naive row-major placement.
import SNNCHardware
import SNNCIR
#if canImport(Glibc)
import Glibc
#endif

public struct Placement: Sendable {
    /// Mesh slot of each core (slot = chip × application cores + core within the chip).
    public var slotOfCore: [Int]
    public var cost: Double
    public var naiveCost: Double
    public var curveCost: Double
    /// Spikes per step between core pairs (a < b order not implied: a sends to b).
    public var traffic: [(from: Int, to: Int, spikesPerStep: Double)]
    /// Where the firing rates came from.
    public var ratesSource: String
    public var iterations: Int
}

/// The position of a slot on the global mesh and the cost of a hop between two slots.
public struct MeshGeometry: Sendable {
    public let profile: HardwareProfile
    public init(_ p: HardwareProfile) { profile = p }

    public func chip(_ slot: Int) -> Int { slot / profile.applicationCoresPerChip }
    /// (chip row, chip col, core row, core col).
    public func coordinates(_ slot: Int) -> (cr: Int, cc: Int, r: Int, c: Int) {
        let ch = chip(slot), i = slot % profile.applicationCoresPerChip
        return (ch / profile.chipMesh.cols, ch % profile.chipMesh.cols, i / profile.coreMesh.cols, i % profile.coreMesh.cols)
    }
    /// Global row and column (chips side by side).
    public func global(_ slot: Int) -> (row: Int, col: Int) {
        let k = coordinates(slot)
        return (k.cr * profile.coreMesh.rows + k.r, k.cc * profile.coreMesh.cols + k.c)
    }
    /// Hops between two slots: mesh distance on a chip; between chips the chip distance weighted
    /// by the profile's inter-chip hop cost, plus the distance on each chip to its edge router.
    public func cost(_ a: Int, _ b: Int) -> Double {
        if a == b { return 0 }
        let x = coordinates(a), y = coordinates(b)
        if x.cr == y.cr && x.cc == y.cc { return Double(abs(x.r - y.r) + abs(x.c - y.c)) }
        let chipHops = abs(x.cr - y.cr) + abs(x.cc - y.cc)
        return Double(abs(x.r - y.r) + abs(x.c - y.c)) + Double(chipHops) * profile.interChipHopCost
    }
}

public struct Place: Pass {
    public let name = "place"
    public let summary = "put cores on the chip mesh: space-filling-curve start, simulated annealing on Σ traffic × hops"
    public init() {}

    /// Spikes per neuron per step assumed when no measured rates are given (50 Hz at 1 ms).
    public static let uniformRate = 0.05
    public static let seed: UInt64 = 0x5EED_CAFE

    public func run(_ unit: inout CompileUnit) throws(DiagnosticsError) {
        guard let graph = unit.graph, let part = unit.partition else { return }
        let geo = MeshGeometry(unit.profile)
        let traffic = Self.traffic(graph, part, rates: unit.measuredRates)
        let n = part.cores.count
        // Neighbour lists for incremental cost.
        var adj = [[(Int, Double)]](repeating: [], count: n)
        for t in traffic {
            adj[t.from].append((t.to, t.spikesPerStep))
            adj[t.to].append((t.from, t.spikesPerStep))
        }
        func total(_ slot: [Int]) -> Double {
            traffic.reduce(0) { $0 + $1.spikesPerStep * geo.cost(slot[$1.from], slot[$1.to]) }
        }
        let naive = Array(0..<n)
        // Serpentine order over the global mesh, chips in a serpentine too, so consecutive cores
        // (consecutive tiles of a layer, then the next layer) stay neighbours.
        let curve = Self.serpentine(unit.profile)
        var slot = (0..<n).map { curve[$0] }
        let naiveCost = total(naive)
        let curveCost = total(slot)
        if curveCost > naiveCost { slot = naive }
        // Simulated annealing: swap two cores or move one to a free slot.
        let slots = unit.profile.totalCores
        var occupant = [Int](repeating: -1, count: slots)
        for (c, s) in slot.enumerated() { occupant[s] = c }
        var rng = SeededRandom(seed: Self.seed)
        var cost = total(slot)
        var best = slot, bestCost = cost
        let iterations = n < 2 ? 0 : min(400_000, 400 * n)
        var temperature = max(cost / Double(max(1, traffic.count)), 1e-9)
        let cooling = pow(1e-4, 1 / Double(max(1, iterations)))
        func delta(_ c: Int, from a: Int, to b: Int, other: Int?) -> Double {
            var d = 0.0
            for (m, w) in adj[c] where m != other {
                d += w * (geo.cost(b, slot[m]) - geo.cost(a, slot[m]))
            }
            return d
        }
        for _ in 0..<iterations {
            let c = Int(rng.next() % UInt64(n))
            // Candidate slot: near a neighbour of c (or anywhere, sometimes).
            var target: Int
            if !adj[c].isEmpty && rng.uniform() < 0.8 {
                let (m, _) = adj[c][Int(rng.next() % UInt64(adj[c].count))]
                let g = geo.global(slot[m])
                let rows = unit.profile.chipMesh.rows * unit.profile.coreMesh.rows, cols = unit.profile.chipMesh.cols * unit.profile.coreMesh.cols
                let r = min(rows - 1, max(0, g.row + Int(rng.next() % 5) - 2)), col = min(cols - 1, max(0, g.col + Int(rng.next() % 5) - 2))
                target = Self.slot(atGlobalRow: r, col: col, unit.profile) ?? Int(rng.next() % UInt64(slots))
            } else {
                target = Int(rng.next() % UInt64(slots))
            }
            let a = slot[c]
            if target == a { continue }
            let o = occupant[target]
            var d = delta(c, from: a, to: target, other: o >= 0 ? o : nil)
            if o >= 0 { d += delta(o, from: target, to: a, other: c) }
            if d <= 0 || rng.uniform() < exp(-d / temperature) {
                slot[c] = target
                occupant[target] = c
                occupant[a] = o
                if o >= 0 { slot[o] = a }
                cost += d
                if cost < bestCost - 1e-12 {
                    bestCost = cost
                    best = slot
                }
            }
            temperature *= cooling
        }
        // Recompute exactly (the running sum accumulates rounding).
        unit.placement = Placement(slotOfCore: best, cost: total(best), naiveCost: naiveCost, curveCost: curveCost, traffic: traffic,
                                   ratesSource: unit.measuredRates == nil ? "uniform estimate (\(Self.uniformRate) spikes per neuron per step)" : "measured (--rates)",
                                   iterations: iterations)
    }

    static func slot(atGlobalRow r: Int, col c: Int, _ p: HardwareProfile) -> Int? {
        let cr = r / p.coreMesh.rows, cc = c / p.coreMesh.cols
        let i = (r % p.coreMesh.rows) * p.coreMesh.cols + (c % p.coreMesh.cols)
        guard i < p.applicationCoresPerChip, cr < p.chipMesh.rows, cc < p.chipMesh.cols else { return nil }
        return (cr * p.chipMesh.cols + cc) * p.applicationCoresPerChip + i
    }

    /// All slots in serpentine order: chips in a serpentine over the chip mesh, and inside each
    /// chip a serpentine over its core mesh.
    static func serpentine(_ p: HardwareProfile) -> [Int] {
        var out: [Int] = []
        for cr in 0..<p.chipMesh.rows {
            let ccs = cr % 2 == 0 ? Array(0..<p.chipMesh.cols) : Array((0..<p.chipMesh.cols).reversed())
            for (k, cc) in ccs.enumerated() {
                let chip = cr * p.chipMesh.cols + cc
                var inChip: [Int] = []
                for r in 0..<p.coreMesh.rows {
                    let cols = (r + k) % 2 == 0 ? Array(0..<p.coreMesh.cols) : Array((0..<p.coreMesh.cols).reversed())
                    for c in cols where r * p.coreMesh.cols + c < p.applicationCoresPerChip { inChip.append(r * p.coreMesh.cols + c) }
                }
                out += inChip.map { chip * p.applicationCoresPerChip + $0 }
            }
        }
        return out
    }

    /// Spikes per step from core to core: a source core's neurons inside a destination block's
    /// axon groups, times their layer's rate; dendrite blocks send one partial per compartment.
    static func traffic(_ graph: MapGraph, _ part: PartitionResult, rates: [String: Double]?) -> [(from: Int, to: Int, spikesPerStep: Double)] {
        var coreOf = [Int](repeating: 0, count: part.blocks.count)
        for (c, bs) in part.cores.enumerated() { for b in bs { coreOf[b] = c } }
        var blocksOfLayer = [[Int]](repeating: [], count: graph.layers.count)
        for (i, b) in part.blocks.enumerated() where b.role == .soma { blocksOfLayer[b.layer].append(i) }
        var pair: [Int: Double] = [:]
        let n = part.cores.count
        for (bi, b) in part.blocks.enumerated() {
            for g in b.axons {
                switch g.kind {
                case .partial(let src):
                    if coreOf[src] != coreOf[bi] { pair[coreOf[src] * n + coreOf[bi], default: 0] += Double(g.count) }
                case .spikes(let l):
                    let rate = rates?[graph.layers[l].name] ?? uniformRate
                    let lo = g.rows.first ?? 0, hi = (g.rows.last ?? -1) + 1
                    let clo = g.cols.first ?? 0, chi = (g.cols.last ?? -1) + 1
                    for s in blocksOfLayer[l] {
                        let a = part.blocks[s]
                        if a.rows.upperBound <= lo || a.rows.lowerBound >= hi || a.cols.upperBound <= clo || a.cols.lowerBound >= chi { continue }
                        let ch = max(0, min(a.channels.upperBound, g.channels.upperBound) - max(a.channels.lowerBound, g.channels.lowerBound))
                        if ch == 0 { continue }
                        let rr = g.rows.reduce(0) { $0 + (a.rows.contains($1) ? 1 : 0) }
                        let cc = g.cols.reduce(0) { $0 + (a.cols.contains($1) ? 1 : 0) }
                        let count = rr * cc * ch
                        if count > 0 && coreOf[s] != coreOf[bi] { pair[coreOf[s] * n + coreOf[bi], default: 0] += Double(count) * rate }
                    }
                }
            }
        }
        return pair.keys.sorted().map { (from: $0 / n, to: $0 % n, spikesPerStep: pair[$0]!) }
    }
}
