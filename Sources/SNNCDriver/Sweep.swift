// `snnc sweep model.json --data … --theta0 0.05,0.1,0.2,…`: simulate the network at each ϑ0
// (= m_f, h re-normalised so f(1) = 1) and report accuracy, FR and MT per value and the
// lowest-FR value whose accuracy matches the ANN (the paper's Fig. 3a and Table 2).
import SNNCIR
import SNNCJSON
import SNNCReference

public enum Sweep {
    public struct Options: Sendable {
        public var modelPath: String
        public var dataPath: String
        public var theta0s: [Double]
        public var limit: Int?
        public var simulation = SimulationOptions()
        /// Accuracy within this many points of the ANN counts as matching it.
        public var tolerancePoints = 0.0
        public var json = false
        public var svgPath: String?
        public init(modelPath: String, dataPath: String, theta0s: [Double]) {
            self.modelPath = modelPath
            self.dataPath = dataPath
            self.theta0s = theta0s
        }
    }

    /// The model with every ASN (and every relu's graded ASN) at ϑ0 = m_f = `theta0`, binary
    /// spike heights h normalised again; refused (`param-range`) where that leaves a layer's
    /// parameters out of range (e.g. ϑ0 so high that h "normalize" has no f(1) to normalise).
    public static func withThreshold(_ model: Model, theta0: Double) -> Result<Model, DiagnosticsError> {
        var m = model
        var problems: [Diagnostic] = []
        for i in m.nodes.indices {
            var p: ASNParameters
            switch m.nodes[i].attributes {
            case .asn(let x): p = x
            case .relu(let x?): p = x
            default: continue
            }
            p.theta0 = theta0
            p.mf = theta0
            if case .asn = m.nodes[i].attributes, p.spike == .binary { p.h = .normalize }
            for problem in p.problems {
                problems.append(Diagnostic(.error, .paramRange, file: model.file, object: "node '\(m.nodes[i].name)'", "at ϑ0 = m_f = \(theta0): " + problem))
            }
            if case .asn = m.nodes[i].attributes { m.nodes[i].attributes = .asn(p) } else { m.nodes[i].attributes = .relu(p) }
        }
        return problems.isEmpty ? .success(m) : .failure(DiagnosticsError(problems))
    }

    /// The spiking network of `model` at ϑ0 = m_f = `theta0`.
    public static func lowered(_ model: Model, theta0: Double) -> Result<SpikingNetwork, DiagnosticsError> {
        withThreshold(model, theta0: theta0).flatMap { SpikingNetwork.lower($0) }
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let run: Simulate.Run
        switch Simulate.start(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit, threads: o.simulation.threads) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        let (model, data, ann) = (run.model, run.data, run.ann)
        var rows: [(Double, SimulationMetrics)] = []
        let bar = ProgressBar(total: o.theta0s.count * data.count, label: "sweep", enabled: isTerminal(2))
        for (k, t) in o.theta0s.enumerated() {
            guard case .success(let net) = lowered(model, theta0: t) else { continue }
            let done = k * data.count
            let results = Simulator(network: net, options: o.simulation).run(images: data.samples) { bar.update(done + $0) }
            rows.append((t, SimulationMetrics.compute(network: net, results: results, labels: data.labels, annClasses: ann,
                                                      durationMs: o.simulation.durationMs, hopDelay: o.simulation.hopDelay)))
        }
        let annAcc = rows.first?.1.annAccuracy ?? 0
        let matching = rows.filter { $0.1.snnAccuracy * 100 >= annAcc * 100 - o.tolerancePoints - 1e-9 }
        let best = matching.min { $0.1.firingRateHz < $1.1.firingRateHz }
        if o.json {
            r.stdout = JSONOutput.object([
                ("model", .string(model.name)), ("images", .int(data.count)), ("ann_accuracy", .double(annAcc)),
                ("tolerance_points", .double(o.tolerancePoints)),
                ("points", .array(rows.map { t, m in
                    .object([("theta0", .double(t)), ("snn_accuracy", .double(m.snnAccuracy)), ("firing_rate_hz", .double(m.firingRateHz)),
                             ("matching_time_ms", .int(m.matchingTimeMs)), ("accuracy_std_after_mt", .double(m.accuracyStdAfterMT)),
                             ("synaptic_events_per_image", .double(m.synapticEventsPerImage))])
                })),
                ("lowest_fr_matching_theta0", best.map { .double($0.0) } ?? .null),
            ]).serialized()
        } else {
            var t = TextTable(headers: ["ϑ0 = m_f", "SNN accuracy", "FR Hz", "MT ms", "std after MT", "events/sample", ""],
                              alignments: [.right, .right, .right, .right, .right, .right, .left])
            for (v, m) in rows {
                t.add([fmt(v, 3), Simulate.pct(m.snnAccuracy), fmt(m.firingRateHz, 2), "\(m.matchingTimeMs)", Simulate.pct(m.accuracyStdAfterMT),
                       groupedDigits(clampedInt(m.synapticEventsPerImage)), best?.0 == v ? "← lowest FR matching the ANN" : ""])
            }
            r.stdout = "model '\(model.name)', \(data.count) samples, ANN accuracy \(Simulate.pct(annAcc)), \(o.simulation.durationMs) ms, hop delay \(o.simulation.hopDelay)\n\n" + t.render()
            if best == nil { r.stdout += "no ϑ0 reached the ANN accuracy (tolerance \(fmt(o.tolerancePoints, 2)) points)\n" }
        }
        if let path = o.svgPath {
            var p = SVGPlot(title: "\(model.name): accuracy against firing rate (ϑ0 sweep)", xLabel: "firing rate (Hz)", yLabel: "accuracy (%)")
            p.add("AdSNN", rows.map { ($0.1.firingRateHz, $0.1.snnAccuracy * 100) }, markers: true)
            p.hLines.append((annAcc * 100, "ANN \(fmt(annAcc * 100, 2)) %", "#555"))
            r.write(path, p.render(), what: "plot")
        }
        return r
    }
}
