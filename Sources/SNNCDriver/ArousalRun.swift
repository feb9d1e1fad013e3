// `snnc simulate MODEL --data D --arousal iris|sonar|mnist|…|TSA,LP,HP,P1,P2`: the paper's arousal
// on the float reference. Three runs on the same inputs — all at ϑ0_lp, all at ϑ0_hp, and with
// arousal (ϑ0_lp, switched to ϑ0_hp for the inputs the readout is unsure of) — and what arousal
// saves: firing rate against the all-ϑ0_hp run at its accuracy, selectivity, MT.
// `snnc calibrate-arousal` fits θ_A = p1·t + p2 on a data set, as the paper did on its training set.
import SNNCIR
import SNNCJSON
import SNNCReference

public enum ArousalRun {
    public struct Options: Sendable {
        public var modelPath: String
        public var dataPath: String
        public var limit: Int?
        public var simulation = SimulationOptions()
        public var arousal: Arousal
        public var json = false
        public init(modelPath: String, dataPath: String, arousal: Arousal) {
            self.modelPath = modelPath
            self.dataPath = dataPath
            self.arousal = arousal
        }
    }

    /// A preset name from Table SI4 (`mnist`, …) or five numbers `t_sa,ϑ0_lp,ϑ0_hp,p1,p2`.
    public static func parse(_ s: String) -> Arousal? {
        if let a = Arousal.paper[s.lowercased()] { return a }
        let v = s.split(separator: ",").map { Double($0.trimmed()) }
        guard v.count == 5, v.allSatisfy({ $0 != nil && $0!.isFinite }) else { return nil }
        let n = v.map { $0! }
        guard n[0] >= 0, n[0] <= 1_000_000, n[0] == n[0].rounded(),
              ASNParameters.theta0Range.contains(n[1]), ASNParameters.theta0Range.contains(n[2]) else { return nil }
        return Arousal(startMs: Int(n[0]), theta0Low: n[1], theta0High: n[2], p1: n[3], p2: n[4])
    }

    /// The model lowered at ϑ0_lp and at ϑ0_hp.
    static func networks(_ model: Model, low: Double, high: Double) -> Result<(SpikingNetwork, SpikingNetwork), DiagnosticsError> {
        Sweep.lowered(model, theta0: low).flatMap { l in Sweep.lowered(model, theta0: high).map { (l, $0) } }
    }

    /// The three runs' metrics and selectivity.
    public struct Outcome: Sendable {
        public var low: SimulationMetrics, high: SimulationMetrics, aroused: SimulationMetrics
        public var selected: Int, images: Int
        public var selectivity: Double { Double(selected) / Double(max(1, images)) }
        /// 1 − FR(arousal) / FR(all at ϑ0_hp).
        public var rateSaving: Double { high.firingRateHz > 0 ? 1 - aroused.firingRateHz / high.firingRateHz : 0 }
    }

    public static func run(_ o: Options) -> CommandResult {
        guard o.arousal.decisionStep < o.simulation.durationMs else {
            var r = CommandResult()
            r.stderr = "snnc: the arousal decision (t_sa \(o.arousal.startMs) + \(o.arousal.windowMs) ms) falls after the \(o.simulation.durationMs) ms window\n"
            r.status = .usage
            return r
        }
        let run: Simulate.Run
        switch Simulate.start(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit, threads: o.simulation.threads) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        let t0 = monotonicSeconds()
        let low: SpikingNetwork, high: SpikingNetwork
        switch networks(run.model, low: o.arousal.theta0Low, high: o.arousal.theta0High) {
        case .success(let n): (low, high) = n
        case .failure(let e): return .failure(e.diagnostics)
        }
        let data = run.data
        let bar = ProgressBar(total: 3 * data.count, label: "arousal", enabled: isTerminal(2))
        func metrics(_ net: SpikingNetwork, _ res: [ImageResult]) -> SimulationMetrics {
            SimulationMetrics.compute(network: net, results: res, labels: data.labels, annClasses: run.ann,
                                      durationMs: o.simulation.durationMs, hopDelay: o.simulation.hopDelay)
        }
        let rLow = Simulator(network: low, options: o.simulation).run(images: data.samples) { bar.update($0) }
        let rHigh = Simulator(network: high, options: o.simulation).run(images: data.samples) { bar.update(data.count + $0) }
        var ao = o.simulation
        ao.arousal = o.arousal
        let rAro = Simulator(network: low, options: ao, aroused: high).run(images: data.samples) { bar.update(2 * data.count + $0) }
        let out = Outcome(low: metrics(low, rLow), high: metrics(high, rHigh), aroused: metrics(low, rAro),
                          selected: rAro.filter(\.aroused).count, images: data.count)
        var r = CommandResult()
        r.stdout = o.json ? json(out, o.arousal, model: run.model).serialized() : text(out, o.arousal, model: run.model, data: data, wall: monotonicSeconds() - t0)
        return r
    }

    static func text(_ x: Outcome, _ a: Arousal, model: Model, data: Dataset, wall: Double) -> String {
        var s = "arousal on '\(model.name)', \(x.images) samples of \(data.description), \(x.low.durationMs) ms, hop delay \(x.low.hopDelay), \(fmt(wall, 1)) s\n"
        s += "t_sa \(a.startMs) ms, window \(a.windowMs) ms, ϑ0_lp \(fmt(a.theta0Low, 3)), ϑ0_hp \(fmt(a.theta0High, 3)), "
        s += "θ_A = \(fmt(a.p1, 4))·t + \(fmt(a.p2, 4)) = \(fmt(a.threshold, 2)) at t = \(a.startMs + a.windowMs) ms\n\n"
        var t = TextTable(headers: ["", "all at ϑ0_lp", "all at ϑ0_hp", "arousal"], alignments: [.left, .right, .right, .right])
        t.add(["accuracy", Simulate.pct(x.low.snnAccuracy), Simulate.pct(x.high.snnAccuracy), Simulate.pct(x.aroused.snnAccuracy)])
        t.add(["firing rate", fmt(x.low.firingRateHz, 2) + " Hz", fmt(x.high.firingRateHz, 2) + " Hz", fmt(x.aroused.firingRateHz, 2) + " Hz"])
        t.add(["matching time", "\(x.low.matchingTimeMs) ms", "\(x.high.matchingTimeMs) ms", "\(x.aroused.matchingTimeMs) ms"])
        t.add(["synaptic events / sample", groupedDigits(clampedInt(x.low.synapticEventsPerImage, .towardZero)), groupedDigits(clampedInt(x.high.synapticEventsPerImage, .towardZero)),
               groupedDigits(clampedInt(x.aroused.synapticEventsPerImage, .towardZero))])
        t.add(["selected (switched to ϑ0_hp)", "—", "—", "\(x.selected) of \(x.images) (\(Simulate.pct(x.selectivity)))"])
        s += t.render()
        s += "\narousal against all at ϑ0_hp: firing rate \(fmt(x.rateSaving * 100, 1)) % lower, accuracy \(fmt(100 * (x.aroused.snnAccuracy - x.high.snnAccuracy), 2)) points\n"
        return s
    }

    static func json(_ x: Outcome, _ a: Arousal, model: Model) -> JSONOutput {
        func m(_ v: SimulationMetrics) -> JSONOutput {
            .object([("accuracy", .double(v.snnAccuracy)), ("firing_rate_hz", .double(v.firingRateHz)), ("matching_time_ms", .int(v.matchingTimeMs)),
                     ("synaptic_events_per_sample", .double(v.synapticEventsPerImage))])
        }
        return .object([("model", .string(model.name)), ("images", .int(x.images)),
                        ("arousal", .object([("t_sa_ms", .int(a.startMs)), ("window_ms", .int(a.windowMs)), ("theta0_lp", .double(a.theta0Low)),
                                             ("theta0_hp", .double(a.theta0High)), ("p1", .double(a.p1)), ("p2", .double(a.p2)), ("theta_a", .double(a.threshold))])),
                        ("low", m(x.low)), ("high", m(x.high)), ("aroused", m(x.aroused)),
                        ("selected", .int(x.selected)), ("selectivity", .double(x.selectivity)), ("rate_saving", .double(x.rateSaving))])
    }

    // MARK: calibrate-arousal

    public struct CalibrationOptions: Sendable {
        public var modelPath: String
        public var dataPath: String
        public var offset = 0
        public var limit: Int?
        public var simulation = SimulationOptions()
        public var startMs: Int
        public var windowMs = 50
        public var theta0Low: Double, theta0High: Double
        /// θ_A is this many times the largest gap among the inputs to catch: a maximum over a
        /// calibration set underestimates the one on new inputs.
        public var margin = 2.0
        public var json = false
        public init(modelPath: String, dataPath: String, startMs: Int, theta0Low: Double, theta0High: Double) {
            self.modelPath = modelPath
            self.dataPath = dataPath
            self.startMs = startMs
            self.theta0Low = theta0Low
            self.theta0High = theta0High
        }
    }

    /// Fits θ_A = p1·t + p2 as the paper did: run the calibration inputs at ϑ0_lp and ϑ0_hp;
    /// the inputs arousal must catch are those wrong at ϑ0_lp and right at ϑ0_hp (if none,
    /// those wrong at ϑ0_lp). For window lengths 10, 20, … up to the window, θ(w) is the largest
    /// summed gap among them times the margin; p1 is the least-squares slope of θ over
    /// t = t_sa + w, and p2 puts the line through θ at the full window, so every such input is
    /// selected there.
    public static func calibrate(_ o: CalibrationOptions) -> CommandResult {
        var r = CommandResult()
        guard o.startMs + o.windowMs <= o.simulation.durationMs, o.windowMs >= 10 else {
            r.stderr = "snnc: t_sa + window (\(o.startMs) + \(o.windowMs) ms) must lie within the \(o.simulation.durationMs) ms window, and the window must be at least 10 ms\n"
            r.status = .usage
            return r
        }
        // No ANN pass: calibration compares the two spiking runs with the labels only.
        let model: Model, all: Dataset
        switch Simulate.prepare(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit.map { $0 + o.offset }) {
        case .success(let (m, d, _)): (model, all) = (m, d)
        case .failure(let e): return .failure(e.diagnostics)
        }
        guard o.offset < all.count else {
            r.stderr = "snnc: --offset \(o.offset) leaves no sample of the \(all.count)\n"
            r.status = .usage
            return r
        }
        let data = all.dropFirst(o.offset)
        let low: SpikingNetwork, high: SpikingNetwork
        switch networks(model, low: o.theta0Low, high: o.theta0High) {
        case .success(let n): (low, high) = n
        case .failure(let e): return .failure(e.diagnostics)
        }
        let bar = ProgressBar(total: 2 * data.count, label: "calibrate", enabled: isTerminal(2))
        // The low run records the summed gap; it never switches (θ_A = −∞).
        var lo = o.simulation
        lo.arousal = Arousal(startMs: o.startMs, windowMs: o.windowMs, theta0Low: o.theta0Low, theta0High: o.theta0High, p1: 0, p2: -.infinity)
        let rLow = Simulator(network: low, options: lo, aroused: low).run(images: data.samples) { bar.update($0) }
        let rHigh = Simulator(network: high, options: o.simulation).run(images: data.samples) { bar.update(data.count + $0) }
        let wrongLow = data.labels.indices.filter { Int(rLow[$0].classes.last ?? -1) != data.labels[$0] }
        var catchThese = wrongLow.filter { Int(rHigh[$0].classes.last ?? -1) == data.labels[$0] }
        if catchThese.isEmpty { catchThese = wrongLow }
        var p1 = 0.0, p2 = -1.0
        var theta: [(t: Double, v: Double)] = []
        if !catchThese.isEmpty {
            for w in stride(from: 10, through: o.windowMs, by: 10) {
                theta.append((Double(o.startMs + w), o.margin * catchThese.map { rLow[$0].arousalTrace[w - 1] }.max()!))
            }
            if theta.count >= 2 {
                let mt = theta.reduce(0) { $0 + $1.t } / Double(theta.count), mv = theta.reduce(0) { $0 + $1.v } / Double(theta.count)
                let sxy = theta.reduce(0) { $0 + ($1.t - mt) * ($1.v - mv) }, sxx = theta.reduce(0) { $0 + ($1.t - mt) * ($1.t - mt) }
                p1 = sxx > 0 ? sxy / sxx : 0
            }
            let full = o.margin * catchThese.map { rLow[$0].arousalEvidence }.max()!
            p2 = full - p1 * Double(o.startMs + o.windowMs)
        }
        let a = Arousal(startMs: o.startMs, windowMs: o.windowMs, theta0Low: o.theta0Low, theta0High: o.theta0High, p1: p1, p2: p2)
        let selected = rLow.filter { $0.arousalEvidence <= a.threshold }.count
        let selectivity = Double(selected) / Double(max(1, data.count))
        let spec = "\(a.startMs),\(fmtShort(a.theta0Low)),\(fmtShort(a.theta0High)),\(fmt(a.p1, 6)),\(fmt(a.p2, 6))"
        if o.json {
            r.stdout = JSONOutput.object([("model", .string(model.name)), ("images", .int(data.count)), ("offset", .int(o.offset)),
                                          ("wrong_at_lp", .int(wrongLow.count)), ("to_catch", .int(catchThese.count)),
                                          ("p1", .double(p1)), ("p2", .double(p2)), ("theta_a", .double(a.threshold)),
                                          ("selected", .int(selected)), ("selectivity", .double(selectivity)),
                                          ("arousal", .string(spec))]).serialized()
        } else {
            var s = "calibrated arousal for '\(model.name)' on \(data.count) samples of \(data.description) (from sample \(o.offset))\n"
            s += "at ϑ0_lp \(fmtShort(o.theta0Low)): \(wrongLow.count) wrong; of them \(catchThese.count) right at ϑ0_hp \(fmtShort(o.theta0High)) — the inputs arousal must catch\n"
            if !theta.isEmpty {
                s += "\(fmtShort(o.margin)) × the largest summed gap among them, by window: " + theta.map { "\(Int($0.t) - o.startMs) ms → \(fmt($0.v, 2))" }.joined(separator: ", ") + "\n"
            } else {
                s += "nothing to catch: θ_A below every gap (arousal never switches)\n"
            }
            s += "θ_A = \(fmt(p1, 4))·t + \(fmt(p2, 4)) (= \(fmt(a.threshold, 2)) at t = \(a.startMs + a.windowMs) ms); selects \(selected) of \(data.count) (\(Simulate.pct(selectivity)))\n"
            s += "use: --arousal \(spec)\n"
            r.stdout = s
        }
        return r
    }

    static func fmtShort(_ v: Double) -> String {
        var s = fmt(v, 6)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s
    }
}
