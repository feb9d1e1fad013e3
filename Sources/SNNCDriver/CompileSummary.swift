// Helpers of `snnc compile`: where the artefact goes, reading measured rates, the summary printed.
import SNNCIR
import SNNCJSON
import SNNCPasses

extension Compile {
    /// MODEL_DIR/MODEL_BASENAME.PROFILE.snnc
    static func defaultOutput(_ modelPath: String, profile: String) -> String {
        let file = modelPath.split(separator: "/").last.map(String.init) ?? modelPath
        let base = file.hasSuffix(".json") ? String(file.dropLast(5)) : file
        return resolvePath(base + "." + profile + ".snnc", relativeTo: directoryOf(modelPath))
    }

    /// Per-layer firing rates (spikes per neuron per step) from a `snnc simulate --json` result.
    static func readRates(_ path: String) -> Result<[String: Double], DiagnosticsError> {
        func fail(_ m: String) -> Result<[String: Double], DiagnosticsError> {
            .failure(DiagnosticsError([Diagnostic(.error, .ratesFile, file: path, m, notes: ["give the output of `snnc simulate … --json`"])]))
        }
        guard let bytes = try? readWholeFile(path, limit: 1 << 28) else { return fail("cannot read the rates file") }
        guard let doc = try? JSONDocument.parse(bytes) else { return fail("the rates file is not JSON") }
        guard let layers = doc.root["spikes_per_layer"], layers.kind == .array else { return fail("no 'spikes_per_layer' array") }
        var out: [String: Double] = [:]
        for l in layers.elements {
            guard let name = l["layer"]?.string, let hz = l["rate_hz"]?.double, hz.isFinite, hz >= 0 else {
                return fail("a 'spikes_per_layer' entry lacks 'layer' or a finite 'rate_hz'")
            }
            out[name] = hz / 1000
        }
        return .success(out)
    }

    static func summary(_ unit: CompileUnit, dir: String) -> String {
        let part = unit.partition!, place = unit.placement!
        var t = TextTable(headers: ["layer", "neurons", "compartments", "cores", "tile", "binding limit"],
                          alignments: [.left, .right, .right, .right, .left, .left])
        for p in part.layerPlans {
            let l = unit.graph!.layers[p.layer]
            let cores = p.dendriteGroups > 1 ? "\(p.blocks) (\(p.dendriteGroups) dendrite groups)" : "\(p.blocks)"
            t.add([l.name, groupedDigits(l.neurons), groupedDigits(l.compartments), cores, "\(p.tile.rows)×\(p.tile.cols)×\(p.tile.channels)", p.binding])
        }
        let ratio = Double(part.cores.count) / Double(max(1, part.lowerBoundCores))
        var s = "mapping onto '\(unit.profile.name)'\n\n" + t.render() + "\n"
        s += "cores: \(part.cores.count) (lower bound \(part.lowerBoundCores), \(formatFixed(ratio, 3))×)\n"
        let pr = place.naiveCost > 0 ? formatFixed(place.cost / place.naiveCost, 3) + "×" : "—"
        s += "placement: Σ traffic×hops \(formatFixed(place.cost, 2)) vs naive \(formatFixed(place.naiveCost, 2)) (\(pr)); rates: \(place.ratesSource)\n"
        if let r = unit.routing, !r.routers.isEmpty {
            let before = r.routers.map(\.entriesBefore).reduce(0, +), after = r.routers.map { $0.entries.count }.reduce(0, +)
            let largest = r.routers.map { $0.entries.count }.max() ?? 0
            let limit = unit.profile.router.entries.map { " of \($0)" } ?? ""
            s += "routers: \(r.routers.count), entries \(before) → \(after) after compression (largest \(largest)\(limit))\n"
        }
        s += "routes checked: \(unit.routing?.checkedSynapseRoutes ?? 0) source→core deliveries reach exactly their targets\n"
        s += "artefact: \(dir)/ (report.md, report.svg)\n"
        return s
    }
}
