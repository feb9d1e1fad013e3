// `snnc compare model.json --data D --calibrate C`: the paper's central comparison on the user's
// own network — the network as it is (AdSNN, or an ASNN of graded spikes for a ReLU network)
// against its rate-coded IF conversion (`snnc convert --to if`), side by side in the float
// reference on the same samples: accuracy over time, and the spikes and synaptic events each
// needs to come within a tolerance of the ANN.
// With `--profile P` both are also compiled for P and run in the fixed-point emulator, and the
// cycle model's energy is read at the step each first reaches the target.
import SNNCEmulator
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCReference
#if canImport(Glibc)
import Glibc
#endif

public enum Compare {
    public struct Options: Sendable {
        public var modelPath: String
        public var dataPath: String
        public var limit: Int?
        public var simulation = SimulationOptions()
        public var calibratePath: String?
        public var calibrateLimit = 500
        public var percentile = 99.9
        /// The target: the ANN's accuracy less this many points.
        public var tolerancePoints = 0.3
        public var json = false
        public var svgPath: String?
        public var progress = true
        /// How a .nir model's neurons are read (Docs/nir.md).
        public var nir = NIROptions()
        /// Also compile both networks for this profile and run them in the emulator.
        public var profile: String?
        public init(modelPath: String, dataPath: String) {
            self.modelPath = modelPath
            self.dataPath = dataPath
        }
    }

    /// One network's run.
    public struct Side: Sendable {
        public var label: String
        public var model: Model
        public var metrics: SimulationMetrics
        /// Mean spikes and synaptic events per sample from the start to the end of each step.
        public var spikesSoFar: [Double]
        public var eventsSoFar: [Double]
        /// The first step (0-based) at which the accuracy reaches the target, if any.
        public var reached: Int?
        public var wallSeconds: Double
        /// `--profile`: the compiled network in the emulator.
        public var compiled: Compiled?
    }

    /// One network compiled for the profile and run in the fixed-point emulator (hop delay 1).
    public struct Compiled: Sendable {
        public var profile: String
        public var cores: Int
        public var metrics: SimulationMetrics
        /// Mean per sample from the start to the end of each step: the cycle model's energy (µJ)
        /// and the spikes of all layers.
        public var energySoFarUJ: [Double]
        public var spikesSoFar: [Double]
        public var reached: Int?
        public var wallSeconds: Double
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let loaded = ModelFiles.load(path: o.modelPath, nir: o.nir)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        r.report(loaded.diagnostics.filter { $0.severity != .error })
        if o.profile != nil && (ModelFiles.isONNX(o.modelPath) || ModelFiles.isNIR(o.modelPath)) {
            return .failure([Diagnostic(.error, .formatUnknown, file: o.modelPath, "compare --profile compiles the IF conversion, which snnc writes for model.json sources only",
                                        notes: ["run compare without --profile for the float reference, or export the network as model.json"])])
        }
        if Convert.spikingNodes(model).isEmpty {
            return .failure([Diagnostic(.error, .unsupportedPattern, file: model.file, "the model has no relu or asn node; compare runs an ASN network against its IF conversion")])
        }
        let scales: [String: Double], calibrationSamples: Int
        switch Convert.calibrated(model: model, calibratePath: o.calibratePath, limit: o.calibrateLimit, percentile: o.percentile) {
        case .failure(let e): return .failure(e.diagnostics)
        case .success(let (s, n, w)):
            scales = s
            calibrationSamples = n
            r.report(w)
        }
        let ifModel = Convert.toIF(model, scales: scales)
        var prepared: [(Model, Dataset, SpikingNetwork)] = []
        for m in [model, ifModel] {
            switch Simulate.prepare(model: m, dataPath: o.dataPath, limit: o.limit) {
            case .success(let p): prepared.append(p)
            case .failure(let e): return .failure(e.diagnostics)
            }
        }
        let data = prepared[0].1
        let threads = o.simulation.threads > 0 ? o.simulation.threads : activeCoreCount()
        let ann = Simulate.annClasses(prepared[0].2.prepared, data, threads: threads)
        let annAccuracy = Double(zip(ann, data.labels).filter { $0 == $1 }.count) / Double(max(data.count, 1))
        let reluANN = Simulate.annClasses(prepared[1].2.prepared, data, threads: threads)
        let reluAccuracy = Double(zip(reluANN, data.labels).filter { $0 == $1 }.count) / Double(max(data.count, 1))
        let target = annAccuracy - o.tolerancePoints / 100
        var sim = o.simulation
        sim.recordCounts = true
        let graded = model.nodes.contains { if case .relu = $0.attributes { return true }; if case .asn(let p) = $0.attributes { return p.spike == .graded }; return false }
        var sides: [Side] = []
        for (k, (m, _, net)) in prepared.enumerated() {
            let label = k == 1 ? "IF (rate-coded)" : (graded ? "ASNN (graded ASN)" : "AdSNN (ASN)")
            let bar = ProgressBar(total: data.count, label: k == 1 ? "IF" : "ASN", enabled: o.progress && isTerminal(2))
            let t0 = monotonicSeconds()
            let results = Simulator(network: net, options: sim).run(images: data.samples) { bar.update($0) }
            let metrics = SimulationMetrics.compute(network: net, results: results, labels: data.labels, annClasses: ann,
                                                    durationMs: sim.durationMs, hopDelay: sim.hopDelay)
            var spikes = [Double](repeating: 0, count: sim.durationMs), events = spikes
            for res in results {
                for t in 0..<sim.durationMs {
                    spikes[t] += Double(res.spikesSoFar![t])
                    events[t] += Double(res.eventsSoFar![t])
                }
            }
            let n = Double(max(results.count, 1))
            spikes = spikes.map { $0 / n }
            events = events.map { $0 / n }
            let reached = metrics.accuracyCurve.firstIndex { $0 >= target - 1e-12 }
            sides.append(Side(label: label, model: m, metrics: metrics, spikesSoFar: spikes, eventsSoFar: events, reached: reached,
                              wallSeconds: monotonicSeconds() - t0))
        }
        if let profile = o.profile {
            let scratch = (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/snnc-compare-\(getpid())"
            defer { for k in 0..<2 { removeDirectoryOfFiles(scratch + "/\(k).snnc") }; removeDirectoryOfFiles(scratch) }
            let ifPath = scratch + "/if/" + Convert.fileName(o.modelPath)
            if let problem = Convert.write(model, from: o.modelPath, scales: scales, percentile: o.percentile, how: "for snnc compare", to: ifPath) {
                return .failure([problem])
            }
            defer {
                if let w = model.weightsFile { unlink(scratch + "/if/" + Convert.fileName(w)) }
                unlink(ifPath)
                rmdir(scratch + "/if")
            }
            for k in 0..<2 {
                var co = Compile.Options(modelPath: k == 0 ? o.modelPath : ifPath)
                co.profile = profile
                co.output = scratch + "/\(k).snnc"
                co.nir = o.nir
                let cr = Compile.run(co)
                guard cr.status == .success else { return .failure(cr.diagnostics) }
                let net: EmuNetwork
                do { net = try ArtefactReader.load(co.output!) } catch {
                    return .failure([Diagnostic(.error, .artefactInvalid, file: error.file, error.message)])
                }
                var eo = EmulationOptions()
                eo.durationMs = sim.durationMs
                eo.threads = threads
                let bar = ProgressBar(total: data.count, label: k == 1 ? "IF on \(profile)" : "ASN on \(profile)", enabled: o.progress && isTerminal(2))
                let t0 = monotonicSeconds()
                let fixed = Emulator(net, options: eo).run(images: data.samples) { bar.update($0) }
                let refNet = prepared[k].2
                let metrics = SimulationMetrics.compute(network: refNet, results: Emulate.asReferenceResults(fixed, net, refNet), labels: data.labels, annClasses: ann, durationMs: sim.durationMs, hopDelay: 1)
                var energy = [Double](repeating: 0, count: sim.durationMs), spikes = energy
                for e in fixed {
                    for t in 0..<min(sim.durationMs, e.energySoFarPJ.count) { energy[t] += e.energySoFarPJ[t] * 1e-6 }
                    for t in 0..<min(sim.durationMs, e.spikesSoFar.count) { spikes[t] += Double(e.spikesSoFar[t]) }
                }
                let n = Double(max(fixed.count, 1))
                sides[k].compiled = Compiled(profile: net.profile, cores: net.cores.count, metrics: metrics, energySoFarUJ: energy.map { $0 / n },
                                             spikesSoFar: spikes.map { $0 / n }, reached: metrics.accuracyCurve.firstIndex { $0 >= target - 1e-12 },
                                             wallSeconds: monotonicSeconds() - t0)
            }
        }
        r.stdout = o.json ? json(sides, o: o, data: data, ann: annAccuracy, reluANN: reluAccuracy, target: target, scales: scales, calibrationSamples: calibrationSamples).serialized()
                          : text(sides, o: o, data: data, ann: annAccuracy, reluANN: reluAccuracy, target: target)
        if let path = o.svgPath { r.write(path, svg(sides, model: model, ann: annAccuracy, target: target), what: "plot") }
        return r
    }

    static func pct(_ v: Double) -> String { fmt(v * 100, 2) + " %" }

    static func text(_ sides: [Side], o: Options, data: Dataset, ann: Double, reluANN: Double, target: Double) -> String {
        let m0 = sides[0].metrics
        var s = "model '\(sides[0].model.name)' against its IF conversion, \(m0.images) samples of \(data.description), \(m0.durationMs) ms at 1 ms steps, hop delay \(m0.hopDelay)\n"
        s += "ANN \(pct(ann)) (the IF network's ReLU ANN \(pct(reluANN))); target: ANN − \(fmt(o.tolerancePoints, 2)) points = \(pct(target))\n\n"
        var t = TextTable(headers: ["metric"] + sides.map(\.label), alignments: [.left] + sides.map { _ in .right })
        func row(_ name: String, _ f: (Side) -> String) { t.add([name] + sides.map(f)) }
        row("accuracy at \(m0.durationMs) ms") { pct($0.metrics.snnAccuracy) }
        row("max accuracy") { pct($0.metrics.maxAccuracy) }
        row("MT (99 % of max)") { "\($0.metrics.matchingTimeMs) ms" }
        row("firing rate FR") { fmt($0.metrics.firingRateHz, 2) + " Hz" }
        row("spikes / sample (\(m0.durationMs) ms)") { groupedDigits(clampedInt($0.spikesSoFar.last ?? 0)) }
        row("synaptic events / sample") { groupedDigits(clampedInt($0.eventsSoFar.last ?? 0)) }
        row("reaches the target at") { $0.reached.map { "\($0 + 1) ms" } ?? "never" }
        row("spikes / sample until then") { side in side.reached.map { groupedDigits(clampedInt(side.spikesSoFar[$0])) } ?? "—" }
        row("synaptic events / sample until then") { side in side.reached.map { groupedDigits(clampedInt(side.eventsSoFar[$0])) } ?? "—" }
        row("wall time") { fmt($0.wallSeconds, 1) + " s" }
        if let c0 = sides[0].compiled {
            t.addRule()
            row("compiled for '\(c0.profile)': cores") { "\($0.compiled!.cores)" }
            row("  accuracy at \(m0.durationMs) ms (emulator, hop delay 1)") { pct($0.compiled!.metrics.snnAccuracy) }
            row("  energy / sample (\(m0.durationMs) ms, cycle model)") { fmt($0.compiled!.energySoFarUJ.last ?? 0, 3) + " µJ" }
            row("  reaches the target at") { $0.compiled!.reached.map { "\($0 + 1) ms" } ?? "never" }
            row("  spikes / sample until then") { side in side.compiled!.reached.map { groupedDigits(clampedInt(side.compiled!.spikesSoFar[$0])) } ?? "—" }
            row("  energy / sample until then") { side in side.compiled!.reached.map { fmt(side.compiled!.energySoFarUJ[$0], 3) + " µJ" } ?? "—" }
            row("  wall time") { fmt($0.compiled!.wallSeconds, 1) + " s" }
        }
        s += t.render()
        if let a = sides[0].reached, let b = sides[1].reached {
            s += "\nto the target the IF network needs \(fmt(sides[1].spikesSoFar[b] / max(sides[0].spikesSoFar[a], 1), 2))× the spikes and \(fmt(sides[1].eventsSoFar[b] / max(sides[0].eventsSoFar[a], 1), 2))× the synaptic events of the \(sides[0].label)\n"
        }
        if let c0 = sides[0].compiled, let c1 = sides[1].compiled, let a = c0.reached, let b = c1.reached {
            s += "compiled for '\(c0.profile)', to the target the IF network spends \(fmt(c1.energySoFarUJ[b] / max(c0.energySoFarUJ[a], 1e-300), 2))× the energy of the \(sides[0].label)\n"
        }
        s += "\n"
        var l = TextTable(headers: ["layer", "neurons"] + sides.map { $0.label + " Hz" }, alignments: [.left, .right] + sides.map { _ in .right })
        for (j, x) in m0.layers.enumerated() {
            l.add([x.name, groupedDigits(x.neurons)] + sides.map { j < $0.metrics.layers.count ? fmt($0.metrics.layers[j].rateHz, 2) : "—" })
        }
        return s + l.render()
    }

    static func json(_ sides: [Side], o: Options, data: Dataset, ann: Double, reluANN: Double, target: Double, scales: [String: Double], calibrationSamples: Int) -> JSONOutput {
        .object([
            ("model", .string(sides[0].model.name)),
            ("samples", .int(sides[0].metrics.images)),
            ("duration_ms", .int(sides[0].metrics.durationMs)),
            ("hop_delay", .int(sides[0].metrics.hopDelay)),
            ("ann_accuracy", .double(ann)),
            ("if_ann_accuracy", .double(reluANN)),
            ("tolerance_points", .double(o.tolerancePoints)),
            ("target_accuracy", .double(target)),
            ("calibration", .object([("data", o.calibratePath.map { .string($0) } ?? .null), ("samples", .int(calibrationSamples)),
                                     ("percentile", .double(o.percentile)),
                                     ("thresholds", .object(scales.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }))])),
            ("networks", .array(sides.map { side in
                let m = side.metrics
                return .object([
                    ("network", .string(side.label)),
                    ("accuracy", .double(m.snnAccuracy)),
                    ("max_accuracy", .double(m.maxAccuracy)),
                    ("matching_time_ms", .int(m.matchingTimeMs)),
                    ("firing_rate_hz", .double(m.firingRateHz)),
                    ("spikes_per_sample", .double(side.spikesSoFar.last ?? 0)),
                    ("synaptic_events_per_sample", .double(side.eventsSoFar.last ?? 0)),
                    ("reaches_target_ms", side.reached.map { .int($0 + 1) } ?? .null),
                    ("spikes_per_sample_to_target", side.reached.map { .double(side.spikesSoFar[$0]) } ?? .null),
                    ("synaptic_events_per_sample_to_target", side.reached.map { .double(side.eventsSoFar[$0]) } ?? .null),
                    ("spikes_per_layer", .array(m.layers.map { x in
                        .object([("layer", .string(x.name)), ("neurons", .int(x.neurons)), ("spikes", .int(x.spikes)), ("rate_hz", .double(x.rateHz))])
                    })),
                    ("accuracy_curve", .array(m.accuracyCurve.map { .double($0) })),
                    ("spikes_per_sample_curve", .array(side.spikesSoFar.map { .double($0) })),
                    ("compiled", side.compiled.map { c in
                        .object([("profile", .string(c.profile)), ("cores", .int(c.cores)), ("accuracy", .double(c.metrics.snnAccuracy)),
                                 ("max_accuracy", .double(c.metrics.maxAccuracy)), ("matching_time_ms", .int(c.metrics.matchingTimeMs)),
                                 ("firing_rate_hz", .double(c.metrics.firingRateHz)), ("hop_delay", .int(1)),
                                 ("energy_uj_per_sample", .double(c.energySoFarUJ.last ?? 0)), ("spikes_per_sample", .double(c.spikesSoFar.last ?? 0)),
                                 ("reaches_target_ms", c.reached.map { .int($0 + 1) } ?? .null),
                                 ("spikes_per_sample_to_target", c.reached.map { .double(c.spikesSoFar[$0]) } ?? .null),
                                 ("energy_uj_per_sample_to_target", c.reached.map { .double(c.energySoFarUJ[$0]) } ?? .null),
                                 ("accuracy_curve", .array(c.metrics.accuracyCurve.map { .double($0) })),
                                 ("energy_uj_per_sample_curve", .array(c.energySoFarUJ.map { .double($0) }))])
                    } ?? .null),
                ])
            })),
        ])
    }

    /// Accuracy against the spikes spent per sample so far, one curve per network.
    static func svg(_ sides: [Side], model: Model, ann: Double, target: Double) -> String {
        var p = SVGPlot(title: "\(model.name): accuracy against spikes per sample", xLabel: "spikes per sample so far", yLabel: "accuracy (%)")
        for side in sides {
            p.add(side.label, zip(side.spikesSoFar, side.metrics.accuracyCurve).map { ($0, $1 * 100) })
        }
        p.hLines.append((ann * 100, "ANN \(fmt(ann * 100, 2)) %", "#555"))
        p.hLines.append((target * 100, "target \(fmt(target * 100, 2)) %", "#d62728"))
        let xMax = sides.map { $0.spikesSoFar.last ?? 0 }.max() ?? 1
        return p.render(xRange: 0...max(xMax, 1), yRange: nil)
    }
}
