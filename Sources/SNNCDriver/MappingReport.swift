// The placement report: what went where and why. Built from a compiled unit, written as
// report.json (the data), report.md (tables) and report.svg (the core mesh); `snnc report DIR`
// reads report.json back and renders the other two again.
import SNNCHardware
import SNNCIR
import SNNCJSON
import SNNCPasses

public struct MappingReport: Sendable {
    public struct Layer: Sendable {
        public var name: String, kind: String
        public var neurons: Int, compartments: Int, cores: Int
        public var tile: [Int]
        public var dendriteGroups: Int
        public var binding: String
        /// Largest block's use of each resource, as a fraction of the limit.
        public var utilisation: [(String, Double)]
    }
    public struct Core: Sendable {
        public var core: Int, slot: Int, chip: Int, row: Int, col: Int
        public var layers: [String]
        public var slices: [String]
        public var used: [(String, Int)]
        public var limit: [(String, Int)]
    }
    public struct RouterRow: Sendable { public var chip: Int, before: Int, after: Int, limit: Int? }
    public struct Link: Sendable { public var fromRow: Int, fromCol: Int, toRow: Int, toCol: Int, load: Double }

    public var model: String, profile: String
    /// The board: its name and chips.
    public var board: String, chips: Int
    public var meshRows: Int, meshCols: Int, coresPerChipRow: Int, coresPerChipCol: Int
    public var cores: Int, lowerBound: Int, lowerBoundResource: String
    public var lowerBoundDetail: [(String, Int, Int, Int)]
    public var cost: Double, naiveCost: Double, curveCost: Double
    public var ratesSource: String
    public var checkedRoutes: Int
    public var layers: [Layer]
    public var coreRows: [Core]
    public var routers: [RouterRow]
    public var links: [Link]
    public var linkCapacity: Int
    public var warnings: [String]

    public init(_ unit: CompileUnit) {
        let part = unit.partition!, place = unit.placement!, routing = unit.routing!, graph = unit.graph!
        let p = unit.profile
        let geo = MeshGeometry(p)
        model = unit.model.name
        profile = p.name
        board = p.board.name
        chips = p.chips
        meshRows = p.chipMesh.rows * p.coreMesh.rows
        meshCols = p.chipMesh.cols * p.coreMesh.cols
        coresPerChipRow = p.coreMesh.rows
        coresPerChipCol = p.coreMesh.cols
        cores = part.cores.count
        lowerBound = part.lowerBoundCores
        lowerBoundResource = part.lowerBound.max { $0.cores < $1.cores }?.resource ?? ""
        lowerBoundDetail = part.lowerBound.map { ($0.resource, $0.demand, $0.capacity, $0.cores) }
        cost = place.cost
        naiveCost = place.naiveCost
        curveCost = place.curveCost
        ratesSource = place.ratesSource
        checkedRoutes = routing.checkedSynapseRoutes
        let cap = part.capacity
        layers = part.layerPlans.map { plan in
            let l = graph.layers[plan.layer]
            let blocks = part.blocks.filter { $0.layer == plan.layer }
            let util = cap.items(cap).indices.map { k -> (String, Double) in
                let name = cap.items(cap)[k].name
                let worst = blocks.map { Double($0.resources.items(cap)[k].used) }.max() ?? 0
                return (name, worst / Double(max(1, cap.items(cap)[k].limit)))
            }
            let coresOfLayer = Set(part.cores.indices.filter { c in part.cores[c].contains { part.blocks[$0].layer == plan.layer } }).count
            return Layer(name: l.name, kind: l.kind.rawValue, neurons: l.neurons, compartments: l.compartments, cores: coresOfLayer,
                         tile: [plan.tile.rows, plan.tile.cols, plan.tile.channels], dendriteGroups: plan.dendriteGroups, binding: plan.binding, utilisation: util)
        }
        coreRows = part.cores.enumerated().map { c, bs in
            let slot = place.slotOfCore[c]
            let g = geo.global(slot)
            var used = CoreResources()
            for b in bs { used = used + part.blocks[b].resources }
            if p.router.scheme == .axonTable { used.outputAxons = routing.tableCore[c].count }
            let slices = bs.map { b -> String in
                let blk = part.blocks[b]
                let l = graph.layers[blk.layer]
                var s = l.isSpatial ? "\(l.name)[\(blk.rows.lowerBound)..<\(blk.rows.upperBound), \(blk.cols.lowerBound)..<\(blk.cols.upperBound), \(blk.channels.lowerBound)..<\(blk.channels.upperBound)]"
                                    : "\(l.name)[\(blk.channels.lowerBound)..<\(blk.channels.upperBound)]"
                if case .dendrite(let gr, let n, _) = blk.role { s += " dendrite \(gr + 1)/\(n)" }
                return s
            }
            return Core(core: c, slot: slot, chip: geo.chip(slot), row: g.row, col: g.col,
                        layers: bs.map { graph.layers[part.blocks[$0].layer].name }, slices: slices,
                        used: used.items(cap).map { ($0.name, $0.used) }, limit: cap.items(cap).map { ($0.name, $0.limit) })
        }
        routers = routing.routers.map { RouterRow(chip: $0.chip, before: $0.entriesBefore, after: $0.entries.count, limit: p.router.entries) }
        let mc = meshCols
        links = routing.linkLoad.map { l in
            Link(fromRow: l.from / mc, fromCol: l.from % mc, toRow: l.to / mc, toCol: l.to % mc, load: l.spikesPerStep)
        }
        linkCapacity = p.router.linkSpikesPerStep
        warnings = unit.diagnostics.filter { $0.severity == .warning }.map { "\($0.object.map { $0 + ": " } ?? "")\($0.message)" }
        for l in links where l.load > Double(linkCapacity) {
            warnings.append("link (\(l.fromRow),\(l.fromCol))→(\(l.toRow),\(l.toCol)) carries an estimated \(formatFixed(l.load, 0)) spikes per step, more than its \(linkCapacity)")
        }
    }

    // MARK: JSON

    public func json() -> JSONOutput {
        func pairs(_ xs: [(String, Int)]) -> JSONOutput { .object(xs.map { ($0.0, .int($0.1)) }) }
        return .object([
            ("format", .string("snnc-placement-report")), ("version", .int(1)),
            ("model", .string(model)), ("profile", .string(profile)),
            ("board", .object([("name", .string(board)), ("chips", .int(chips))])),
            ("mesh", .object([("rows", .int(meshRows)), ("cols", .int(meshCols)), ("chip_rows", .int(coresPerChipRow)), ("chip_cols", .int(coresPerChipCol))])),
            ("totals", .object([
                ("cores", .int(cores)), ("lower_bound", .int(lowerBound)), ("lower_bound_resource", .string(lowerBoundResource)),
                ("cores_over_lower_bound", .fixed(Double(cores) / Double(max(1, lowerBound)), 4)),
                ("traffic_hops", .fixed(cost, 4)), ("naive_traffic_hops", .fixed(naiveCost, 4)), ("curve_traffic_hops", .fixed(curveCost, 4)),
                ("placement_over_naive", naiveCost > 0 ? .fixed(cost / naiveCost, 4) : .null),
                ("rates", .string(ratesSource)), ("checked_routes", .int(checkedRoutes)),
                ("max_link_spikes_per_step", .fixed(links.map(\.load).max() ?? 0, 4)), ("link_capacity", .int(linkCapacity)),
            ])),
            ("lower_bound", .array(lowerBoundDetail.map { .object([("resource", .string($0.0)), ("demand", .int($0.1)), ("per_core", .int($0.2)), ("cores", .int($0.3))]) })),
            ("layers", .array(layers.map { l in .object([
                ("layer", .string(l.name)), ("kind", .string(l.kind)), ("neurons", .int(l.neurons)), ("compartments", .int(l.compartments)),
                ("cores", .int(l.cores)), ("tile", .array(l.tile.map { .int($0) })), ("dendrite_groups", .int(l.dendriteGroups)), ("binding", .string(l.binding)),
                ("utilisation", .object(l.utilisation.map { ($0.0, .fixed($0.1, 4)) })),
            ]) })),
            ("cores", .array(coreRows.map { c in .object([
                ("core", .int(c.core)), ("slot", .int(c.slot)), ("chip", .int(c.chip)), ("row", .int(c.row)), ("col", .int(c.col)),
                ("layers", .array(c.layers.map { .string($0) })), ("slices", .array(c.slices.map { .string($0) })),
                ("used", pairs(c.used)), ("limit", pairs(c.limit)),
            ]) })),
            ("routers", .array(routers.map { .object([("chip", .int($0.chip)), ("entries_before", .int($0.before)), ("entries_after", .int($0.after)), ("limit", $0.limit.map { .int($0) } ?? .null)]) })),
            ("links", .array(links.map { .object([("from", .array([.int($0.fromRow), .int($0.fromCol)])), ("to", .array([.int($0.toRow), .int($0.toCol)])), ("spikes_per_step", .fixed($0.load, 4))]) })),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }

    /// Reads report.json back (for `snnc report DIR`).
    public init?(json v: JSONValue) {
        guard v["format"]?.string == "snnc-placement-report", let t = v["totals"], let m = v["mesh"] else { return nil }
        func pairs(_ x: JSONValue?) -> [(String, Int)] { x?.members.map { ($0.key, $0.value.int ?? 0) } ?? [] }
        model = v["model"]?.string ?? ""
        profile = v["profile"]?.string ?? ""
        board = v["board"]?["name"]?.string ?? ""
        chips = v["board"]?["chips"]?.int ?? 1
        meshRows = m["rows"]?.int ?? 0
        meshCols = m["cols"]?.int ?? 0
        coresPerChipRow = m["chip_rows"]?.int ?? 1
        coresPerChipCol = m["chip_cols"]?.int ?? 1
        cores = t["cores"]?.int ?? 0
        lowerBound = t["lower_bound"]?.int ?? 0
        lowerBoundResource = t["lower_bound_resource"]?.string ?? ""
        cost = t["traffic_hops"]?.double ?? 0
        naiveCost = t["naive_traffic_hops"]?.double ?? 0
        curveCost = t["curve_traffic_hops"]?.double ?? 0
        ratesSource = t["rates"]?.string ?? ""
        checkedRoutes = t["checked_routes"]?.int ?? 0
        linkCapacity = t["link_capacity"]?.int ?? 0
        lowerBoundDetail = (v["lower_bound"]?.elements ?? []).map { ($0["resource"]?.string ?? "", $0["demand"]?.int ?? 0, $0["per_core"]?.int ?? 0, $0["cores"]?.int ?? 0) }
        layers = (v["layers"]?.elements ?? []).map { l in
            Layer(name: l["layer"]?.string ?? "", kind: l["kind"]?.string ?? "", neurons: l["neurons"]?.int ?? 0, compartments: l["compartments"]?.int ?? 0,
                  cores: l["cores"]?.int ?? 0, tile: (l["tile"]?.elements ?? []).compactMap(\.int), dendriteGroups: l["dendrite_groups"]?.int ?? 1,
                  binding: l["binding"]?.string ?? "", utilisation: l["utilisation"]?.members.map { ($0.key, $0.value.double ?? 0) } ?? [])
        }
        coreRows = (v["cores"]?.elements ?? []).map { c in
            Core(core: c["core"]?.int ?? 0, slot: c["slot"]?.int ?? 0, chip: c["chip"]?.int ?? 0, row: c["row"]?.int ?? 0, col: c["col"]?.int ?? 0,
                 layers: (c["layers"]?.elements ?? []).compactMap(\.string), slices: (c["slices"]?.elements ?? []).compactMap(\.string),
                 used: pairs(c["used"]), limit: pairs(c["limit"]))
        }
        routers = (v["routers"]?.elements ?? []).map { RouterRow(chip: $0["chip"]?.int ?? 0, before: $0["entries_before"]?.int ?? 0, after: $0["entries_after"]?.int ?? 0, limit: $0["limit"]?.int) }
        links = (v["links"]?.elements ?? []).map { l in
            let f = (l["from"]?.elements ?? []).compactMap(\.int), to = (l["to"]?.elements ?? []).compactMap(\.int)
            return Link(fromRow: f.first ?? 0, fromCol: f.last ?? 0, toRow: to.first ?? 0, toCol: to.last ?? 0, load: l["spikes_per_step"]?.double ?? 0)
        }
        warnings = (v["warnings"]?.elements ?? []).compactMap(\.string)
    }

    /// "Kapoho Bay (2 chips)", or just "4 chips" for a board without a product name.
    var boardLabel: String {
        let count = Board.count(chips)
        return board.isEmpty || board == count ? count : "\(board) (\(count))"
    }

    // MARK: Markdown

    public func markdown() -> String {
        var s = "# Placement report: '\(model)' on '\(profile)'\n\n"
        s += "| total | value |\n|---|---|\n"
        s += "| board | \(boardLabel)\(chips > 1 ? ", chip boundaries outlined in the mesh picture" : "") |\n"
        s += "| cores used | \(cores) |\n"
        s += "| lower bound | \(lowerBound) (\(lowerBoundResource)); used / bound = \(formatFixed(Double(cores) / Double(max(1, lowerBound)), 3)) |\n"
        s += "| Σ traffic × hops | \(formatFixed(cost, 2)) (naive row-major \(formatFixed(naiveCost, 2)), space-filling curve \(formatFixed(curveCost, 2))); placed / naive = \(naiveCost > 0 ? formatFixed(cost / naiveCost, 3) : "—") |\n"
        s += "| firing rates | \(ratesSource) |\n"
        s += "| most loaded link | \(formatFixed(links.map(\.load).max() ?? 0, 2)) spikes per step (capacity \(linkCapacity)) |\n"
        s += "| routes checked | \(checkedRoutes) (source neuron → core deliveries) |\n\n"
        s += "## Lower bound\n\n| resource | demand | per core | cores |\n|---|---:|---:|---:|\n"
        for b in lowerBoundDetail { s += "| \(b.0) | \(groupedDigits(b.1)) | \(groupedDigits(b.2)) | \(b.3) |\n" }
        s += "\n## Layers\n\n| layer | kind | neurons | compartments | cores | tile (rows × cols × channels) | dendrite groups | binding limit | " + (layers.first?.utilisation.map { "\($0.0) %" }.joined(separator: " | ") ?? "") + " |\n"
        s += "|---|---|---:|---:|---:|---|---:|---|" + String(repeating: "---:|", count: layers.first?.utilisation.count ?? 0) + "\n"
        for l in layers {
            s += "| \(l.name) | \(l.kind) | \(groupedDigits(l.neurons)) | \(groupedDigits(l.compartments)) | \(l.cores) | \(l.tile.map(String.init).joined(separator: " × ")) | \(l.dendriteGroups) | \(l.binding) | "
            s += l.utilisation.map { formatFixed($0.1 * 100, 1) }.joined(separator: " | ") + " |\n"
        }
        s += "\n## Cores\n\n| core | chip | mesh (row, col) | slice | " + (coreRows.first?.used.map(\.0).joined(separator: " | ") ?? "") + " |\n"
        s += "|---:|---:|---|---|" + String(repeating: "---:|", count: coreRows.first?.used.count ?? 0) + "\n"
        for c in coreRows {
            s += "| \(c.core) | \(c.chip) | (\(c.row), \(c.col)) | \(c.slices.joined(separator: "; ")) | "
            s += zip(c.used, c.limit).map { "\(groupedDigits($0.1)) / \(groupedDigits($1.1))" }.joined(separator: " | ") + " |\n"
        }
        if !routers.isEmpty {
            s += "\n## Routers\n\n| chip | entries before compression | after | limit |\n|---:|---:|---:|---:|\n"
            for r in routers { s += "| \(r.chip) | \(r.before) | \(r.after) | \(r.limit.map(String.init) ?? "—") |\n" }
        }
        s += "\n## Warnings\n\n" + (warnings.isEmpty ? "none\n" : warnings.map { "- \($0)\n" }.joined())
        return s
    }

    // MARK: SVG

    /// The mesh: one square per core slot, used cores coloured by layer (lightness by their
    /// highest utilisation), chips outlined, links drawn with width by estimated traffic.
    public func svg() -> String {
        let cell = max(8, min(28, 900 / max(1, meshCols)))
        let legendH = 18 * min(layers.count, 24) + 30
        let w = meshCols * cell + 260, h = max(meshRows * cell + 60, legendH + 20)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
        s += "<text x=\"10\" y=\"18\" font-size=\"14\">\(SVGPlot.escape(model)) on \(SVGPlot.escape(profile)), \(SVGPlot.escape(boardLabel)): \(cores) cores (bound \(lowerBound)), traffic×hops \(formatFixed(cost, 1)) vs naive \(formatFixed(naiveCost, 1))</text>\n"
        let top = 30
        let layerIndex = Dictionary(layers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        func color(_ i: Int, _ u: Double) -> String {
            let hue = (i * 137) % 360
            let light = Int(80 - 45 * min(1, max(0, u)))
            return "hsl(\(hue),65%,\(light)%)"
        }
        var occupied: [Int: Core] = [:]
        for c in coreRows { occupied[c.row * meshCols + c.col] = c }
        for r in 0..<meshRows {
            for c in 0..<meshCols {
                let x = 10 + c * cell, y = top + r * cell
                if let core = occupied[r * meshCols + c] {
                    let u = zip(core.used, core.limit).map { Double($0.1) / Double(max(1, $1.1)) }.max() ?? 0
                    let li = layerIndex[core.layers.first ?? ""] ?? 0
                    s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" fill=\"\(color(li, u))\"><title>core \(core.core): \(SVGPlot.escape(core.slices.joined(separator: "; "))) — highest use \(formatFixed(u * 100, 0)) %</title></rect>\n"
                } else {
                    s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" fill=\"#f2f2f2\"/>\n"
                }
            }
        }
        // Chip outlines.
        for cr in stride(from: 0, to: meshRows, by: coresPerChipRow) {
            for cc in stride(from: 0, to: meshCols, by: coresPerChipCol) {
                s += "<rect x=\"\(10 + cc * cell - 1)\" y=\"\(top + cr * cell - 1)\" width=\"\(coresPerChipCol * cell + 1)\" height=\"\(coresPerChipRow * cell + 1)\" fill=\"none\" stroke=\"#555\" stroke-width=\"1\"/>\n"
            }
        }
        let maxLoad = max(1e-12, links.map(\.load).max() ?? 1)
        for l in links {
            let x1 = 10 + l.fromCol * cell + cell / 2, y1 = top + l.fromRow * cell + cell / 2
            let x2 = 10 + l.toCol * cell + cell / 2, y2 = top + l.toRow * cell + cell / 2
            let width = 0.5 + 4 * l.load / maxLoad
            s += "<line x1=\"\(x1)\" y1=\"\(y1)\" x2=\"\(x2)\" y2=\"\(y2)\" stroke=\"black\" stroke-opacity=\"0.55\" stroke-width=\"\(formatFixed(width, 2))\"><title>\(formatFixed(l.load, 2)) spikes/step</title></line>\n"
        }
        // Legend.
        let lx = 20 + meshCols * cell
        s += "<text x=\"\(lx)\" y=\"\(top + 10)\" font-weight=\"bold\">layers (darker = fuller)</text>\n"
        for (i, l) in layers.prefix(24).enumerated() {
            let y = top + 20 + i * 18
            s += "<rect x=\"\(lx)\" y=\"\(y)\" width=\"12\" height=\"12\" fill=\"\(color(i, 0.6))\"/><text x=\"\(lx + 18)\" y=\"\(y + 10)\">\(SVGPlot.escape(l.name)): \(l.cores) core\(l.cores == 1 ? "" : "s")</text>\n"
        }
        return s + "</svg>\n"
    }
}
