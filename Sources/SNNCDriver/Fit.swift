// `snnc fit model.json [--profile P …|--all] [--json]`: which chip fits this network, and how
// many. For each profile the compile pipeline runs up to `check-routes` (the mapping decided and
// every route checked) — the same passes, so the verdict and the cores are compile's — but no
// core image or file is built. Then the cycle model (Docs/core-timing.md) on rates estimated
// from the mapping gives the time and energy of one inference.
import SNNCArtefact
import SNNCHardware
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCPasses

public enum Fit {
    public struct Options: Sendable {
        public var modelPath: String
        /// Profile names or paths; empty: every profile `snnc profile --list` shows.
        public var profiles: [String] = []
        public var json = false
        /// A `snnc simulate --json` result: measured per-layer rates for the cycle model.
        public var rates: String?
        /// Steps (ms) of one inference, for its latency and energy.
        public var durationMs = 500
        /// How a .nir model is read (Docs/nir.md).
        public var nir = NIROptions()
        public init(modelPath: String) { self.modelPath = modelPath }
    }

    /// One profile's answer.
    public struct Row: Sendable {
        public var profile: String
        public var fits: Bool
        /// Cores the partition needs (nil when refused before partitioning).
        public var cores: Int?
        public var lowerBound: Int?
        public var lowerBoundResource: String?
        public var coresPerChip: Int
        public var chips: Int
        /// The smallest listed board that holds the partition (the largest when none does).
        public var board: String = ""
        /// Chips the cores need: ⌈cores / application cores per chip⌉.
        public var chipsNeeded: Int? { cores.map { ($0 + coresPerChip - 1) / coresPerChip } }
        /// The first error, when it does not fit.
        public var refusal: Diagnostic?
        /// Per layer: cores and the resource that binds its tile.
        public var layers: [(name: String, cores: Int, binding: String)] = []
        /// The cycle model per step (nil: refused before placement, or no cycle costs).
        public var coreUs: Double?, networkUs: Double?, energyPJ: Double?
        public var timestepUs: Double
        public var ratesSource: String?
    }

    /// Runs the pipeline through `check-routes` for one profile.
    public static func evaluate(_ model: Model, _ profile: HardwareProfile, rates: [String: Double]?) -> Row {
        var unit = CompileUnit(model: model, profile: profile)
        unit.measuredRates = rates
        unit.boardChoice = .auto
        var row = Row(profile: profile.name, fits: true, coresPerChip: profile.applicationCoresPerChip, chips: profile.chips,
                      timestepUs: profile.timestepUs)
        do {
            _ = try Pipeline.run(&unit, through: Pipeline.mappingDecided, clock: { 0 }, rss: { 0 })
        } catch {
            row.fits = false
            row.refusal = error.diagnostics.first { $0.severity == .error } ?? error.diagnostics.first
        }
        row.board = unit.profile.board.name
        row.chips = unit.profile.chips
        if let part = unit.partition, let graph = unit.graph {
            row.cores = part.cores.count
            row.lowerBound = part.lowerBoundCores
            row.lowerBoundResource = part.lowerBound.max { $0.cores < $1.cores }?.resource
            row.layers = part.layerPlans.map { (name: graph.layers[$0.layer].name, cores: $0.blocks, binding: $0.binding) }
        }
        if let est = StepEstimate(unit) {
            row.ratesSource = est.ratesSource
            if let c = est.cost(unit.profile) { (row.coreUs, row.networkUs, row.energyPJ) = (c.coreUs, c.networkUs, c.energyPJ) }
        }
        return row
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let loaded = ModelFiles.load(path: o.modelPath, nir: o.nir)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        r.report(loaded.diagnostics)
        var rates: [String: Double]?
        if let rf = o.rates {
            switch Compile.readRates(rf) {
            case .success(let m): rates = m
            case .failure(let e): return .failure(e.diagnostics)
            }
        }
        let names = o.profiles.isEmpty ? ProfileCatalog.entries(directories: Profiles.directories()).map { $0.path ?? $0.name } : o.profiles
        var profiles: [HardwareProfile] = []
        var problems: [Diagnostic] = []
        for n in names {
            switch Profiles.load(n) {
            case .success(let p): profiles.append(p)
            case .failure(let e): problems += e.diagnostics
            }
        }
        guard problems.isEmpty else {
            var f = CommandResult.failure(problems)
            f.stderr = r.stderr + f.stderr
            return f
        }
        let rows = profiles.map { evaluate(model, $0, rates: rates) }
        r.stdout = o.json ? json(model, rows, o).serialized() : text(model, rows, o)
        // The answer is the table; exit 1 only when no profile fits (scripts can test one chip).
        if !rows.contains(where: \.fits) { r.status = .badInput }
        return r
    }

    static func latencyMs(_ row: Row, _ o: Options) -> Double? {
        guard let c = row.coreUs, let n = row.networkUs else { return nil }
        return Double(o.durationMs) * max(row.timestepUs, c + n) / 1000
    }

    static func text(_ model: Model, _ rows: [Row], _ o: Options) -> String {
        var s = "fit of '\(model.name)' (\(model.file)): the compile passes through \(Pipeline.mappingDecided) on each profile; no artefact written\n\n"
        var t = TextTable(headers: ["profile", "fits", "cores", "bound", "chips needed", "board", "step µs", "latency ms", "energy µJ", "binding / refusal"],
                          alignments: [.left, .left, .right, .right, .right, .left, .right, .right, .right, .left])
        for row in rows {
            let chips = row.chipsNeeded.map { "\($0) of \(row.chips)" } ?? "—"
            let binding: String
            if let d = row.refusal {
                binding = "error[\(d.id.rawValue)]" + (d.object.map { " " + $0 } ?? "")
            } else {
                binding = row.lowerBoundResource.map { "bound by \($0)" } ?? ""
            }
            t.add([row.profile, row.fits ? "yes" : "no", row.cores.map(groupedDigits) ?? "—", row.lowerBound.map(groupedDigits) ?? "—", chips, row.board,
                   row.coreUs.map { fmt($0, 2) } ?? "—", latencyMs(row, o).map { fmt($0, 1) } ?? "—",
                   row.energyPJ.map { fmt($0 * Double(o.durationMs) * 1e-6, 2) } ?? "—", binding])
        }
        s += t.render()
        let refused = rows.filter { $0.refusal != nil }
        if !refused.isEmpty {
            s += "\nrefusals (the first error of each):\n"
            for row in refused { s += "- \(row.profile): \(row.refusal!.description)\n" }
        }
        // Per layer: cores and the binding resource on every profile that partitioned.
        let partitioned = rows.filter { !$0.layers.isEmpty }
        if let first = partitioned.first {
            s += "\ncores per layer and the limit that binds its tile:\n"
            var lt = TextTable(headers: ["layer"] + partitioned.map(\.profile), alignments: [.left] + partitioned.map { _ in .left })
            for (i, l) in first.layers.enumerated() {
                lt.add([l.name] + partitioned.map { row in i < row.layers.count ? "\(groupedDigits(row.layers[i].cores)) · \(row.layers[i].binding)" : "" })
            }
            s += lt.render()
        }
        let source = rows.compactMap(\.ratesSource).first ?? "uniform estimate"
        s += "\ncycle model (Docs/core-timing.md) on the mapping at \(source) rates: step = the slowest core's time; latency = \(o.durationMs) steps "
            + "× the longer of the profile's timestep and step + network time; energy per inference of \(o.durationMs) steps. "
            + "`snnc emulate` measures the same costs on real spikes.\n"
        return s
    }

    static func json(_ model: Model, _ rows: [Row], _ o: Options) -> JSONOutput {
        func opt(_ v: Int?) -> JSONOutput { v.map { .int($0) } ?? .null }
        func optD(_ v: Double?) -> JSONOutput { v.map { .double($0) } ?? .null }
        return .object([
            ("model", .string(model.name)), ("file", .string(model.file)), ("duration_ms", .int(o.durationMs)),
            ("profiles", .array(rows.map { row in
                .object([
                    ("profile", .string(row.profile)), ("fits", .bool(row.fits)), ("cores", opt(row.cores)), ("lower_bound", opt(row.lowerBound)),
                    ("lower_bound_resource", row.lowerBoundResource.map { .string($0) } ?? .null),
                    ("chips_needed", opt(row.chipsNeeded)), ("chips", .int(row.chips)), ("board", .string(row.board)), ("cores_per_chip", .int(row.coresPerChip)),
                    ("refusal", row.refusal.map { d in .object([("id", .string(d.id.rawValue)), ("object", d.object.map { .string($0) } ?? .null),
                                                                  ("message", .string(d.message)), ("text", .string(d.description))]) } ?? .null),
                    ("layers", .array(row.layers.map { .object([("name", .string($0.name)), ("cores", .int($0.cores)), ("binding", .string($0.binding))]) })),
                    ("step_us", optD(row.coreUs)), ("network_us", optD(row.networkUs)), ("latency_ms", optD(latencyMs(row, o))),
                    ("energy_uj_per_inference", optD(row.energyPJ.map { $0 * Double(o.durationMs) * 1e-6 })),
                    ("rates", row.ratesSource.map { .string($0) } ?? .null),
                ])
            })),
        ])
    }
}
