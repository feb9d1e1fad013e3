// `snnc emulate DIR --data D [--check]`: runs the compiled artefact in the fixed-point emulator
// and, with --check, the float reference (same hop delay as the hardware: 1) on the same
// inputs; compares accuracy, per-layer spikes, FR, MT and the images classified differently,
// and fails (exit 1) past --max-accuracy-drop points or --max-spike-deviation percent.
import SNNCArtefact
import SNNCEmulator
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCReference

public enum Emulate {
    public struct Options: Sendable {
        public var directory: String
        public var dataPath: String
        public var limit: Int?
        public var durationMs = 500
        public var threads = 0
        public var check = false
        public var strict = false
        public var maxAccuracyDrop = 0.5
        /// The check fails when more than this share of the images (and more than one) is
        /// classified differently by the fixed point and the float reference, whatever the accuracy.
        public var maxDifferingPercent = 0.5
        public var maxSpikeDeviation = 5.0
        public var json = false
        public var junitPath: String?
        public var progress = true
        /// --check: a neuron whose cumulative spike counts differ by more than this many spikes
        /// marks the first divergence (reported when the check fails).
        public var divergenceSpikes = 3
        /// --trace FILE --cores …: per-step spikes and state of these cores for sample `traceSample`.
        public var tracePath: String?
        public var traceCores: [Int] = []
        public var traceSample = 0
        /// How the samples run (nil: all in this process, on `threads`): the MPI front end
        /// (snnc-mpi) spreads them over ranks and hands every rank all the results.
        /// The artefact already loaded (and verified) from `directory`, e.g. by snnc-mpi's start
        /// check; nil: `run` loads it.
        public var network: EmuNetwork?
        public var runFixed: (@Sendable (Emulator, [[Double]]) -> [EmulatedImage])?
        public var runFloat: (@Sendable (Simulator, [[Double]]) -> [ImageResult])?
        /// The front end's own figures for the report (called after the run): a text line and
        /// a JSON field `distribution`.
        public var distribution: (@Sendable () -> (text: String, json: JSONOutput))?
        public init(directory: String, dataPath: String) {
            self.directory = directory
            self.dataPath = dataPath
        }
    }

    public struct LayerCheck: Sendable {
        public var name: String
        public var fixed: Int, float: Int
        public var overflows: Int
        public var deviationPercent: Double
        public var ok: Bool
    }

    public static func run(_ o: Options) -> CommandResult {
        let t0 = monotonicSeconds()
        let net: EmuNetwork
        if let given = o.network { net = given } else {
            do { net = try ArtefactReader.load(o.directory) } catch {
                return .failure([Diagnostic(.error, .artefactInvalid, file: error.file, error.message)])
            }
        }
        // The source model (copied into the artefact) gives the data check and the float reference.
        let run: Simulate.Run
        let nir: NIROptions
        switch Artefact.nirOptions(in: o.directory) {
        case .success(let n): nir = n
        case .failure(let e): return .failure(e.diagnostics)
        }
        switch Simulate.start(modelPath: Artefact.sourceModelPath(in: o.directory), dataPath: o.dataPath, limit: o.limit, threads: o.threads, nir: nir) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        let (data, threads, ann) = (run.data, run.threads, run.ann)
        let refNet: SpikingNetwork, refHigh: SpikingNetwork?
        switch reference(net, run) {
        case .success(let r): (refNet, refHigh) = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        var eo = EmulationOptions()
        eo.durationMs = o.durationMs
        eo.threads = threads
        eo.strict = o.strict
        let emu = Emulator(net, options: eo)
        let bar = ProgressBar(total: data.count * (o.check ? 2 : 1), label: "emulate", enabled: o.progress && isTerminal(2))
        let fixed = o.runFixed?(emu, data.samples) ?? emu.run(images: data.samples) { bar.update($0) }
        let wallFixed = monotonicSeconds() - t0
        var r = CommandResult()
        if let path = o.tracePath {
            if let bad = o.traceCores.first(where: { $0 < 0 || $0 >= net.cores.count }) {
                return .failure([Diagnostic(.error, .artefactInvalid, file: o.directory, "--cores names core \(bad); the artefact has cores 0 … \(net.cores.count - 1)")])
            }
            guard o.traceSample < data.count else {
                return .failure([Diagnostic(.error, .dataFormat, file: o.dataPath, "--trace-sample \(o.traceSample): the data has \(data.count) samples")])
            }
            do { try writeFileAtomically(path, Array(Trace.record(emu, sample: data.samples[o.traceSample], cores: o.traceCores).utf8)) } catch {
                return .failure([Diagnostic(.error, .outputUnwritable, file: path, "cannot write the trace: \(error)")])
            }
        }
        if let f = fixed.first(where: { $0.strictFailure != nil })?.strictFailure {
            return .failure([Diagnostic(.error, .overflowPossible, file: o.directory, object: "node '\(f.layer)'", "overflow at step \(f.step) (--strict)",
                                        notes: ["without --strict overflows saturate (or wrap, as the profile says) and are counted per layer"])])
        }
        let asResults = asReferenceResults(fixed, net, refNet)
        let mFixed = SimulationMetrics.compute(network: refNet, results: asResults, labels: data.labels, annClasses: ann, durationMs: o.durationMs, hopDelay: 1)
        var overflows = [String: Int]()
        for (li, l) in net.layers.enumerated() { overflows[l.name] = fixed.reduce(0) { $0 + $1.overflowsPerLayer[li] } }
        let cyc = cycles(net, fixed, steps: o.durationMs)
        guard o.check else {
            let arousedText = net.arousal == nil ? "" : ", aroused \(fixed.filter(\.aroused).count) of \(data.count)"
            let dist = o.distribution?()
            let fields: [(String, JSONOutput)] = [("fixed", metricsJSON(mFixed, overflows)), ("cycle_model", cycleJSON(cyc)), ("aroused", .int(fixed.filter(\.aroused).count))]
            let extra: [(String, JSONOutput)] = dist.map { [("distribution", $0.json)] } ?? []
            r.stdout = o.json ? JSONOutput.object(fields + extra).serialized()
                : "emulated '\(net.model)' on '\(net.profile)': \(data.count) samples, \(o.durationMs) steps, \(fmt(wallFixed, 1)) s\n"
                + "fixed-point accuracy \(Simulate.pct(mFixed.snnAccuracy))\(arousedText), FR \(fmt(mFixed.firingRateHz, 1)) Hz, MT \(mFixed.matchingTimeMs) ms, "
                + "\(groupedDigits(clampedInt(mFixed.synapticEventsPerImage, .towardZero))) synaptic events per image, overflows \(overflows.values.reduce(0, +))\n"
                + cycleText(cyc, net) + (dist.map { $0.text + "\n" } ?? "")
            return r
        }
        var so = SimulationOptions()
        so.durationMs = o.durationMs
        so.hopDelay = 1
        so.threads = threads
        so.arousal = net.arousal
        let sim = Simulator(network: refNet, options: so, aroused: refHigh)
        let floatRes = o.runFloat?(sim, data.samples) ?? sim.run(images: data.samples) { bar.update(data.count + $0) }
        let mFloat = SimulationMetrics.compute(network: refNet, results: floatRes, labels: data.labels, annClasses: ann, durationMs: o.durationMs, hopDelay: 1)
        let differ = zip(asResults, floatRes).filter { $0.classes.last != $1.classes.last }.count
        var layers: [LayerCheck] = []
        for (lf, lq) in zip(mFloat.layers, mFixed.layers) {
            let dev = lf.spikes == 0 ? (lq.spikes == 0 ? 0 : 100) : 100 * Double(lq.spikes - lf.spikes) / Double(lf.spikes)
            layers.append(LayerCheck(name: lf.name, fixed: lq.spikes, float: lf.spikes, overflows: overflows[lf.name] ?? 0,
                                     deviationPercent: dev, ok: abs(dev) <= o.maxSpikeDeviation))
        }
        let drop = 100 * (mFloat.snnAccuracy - mFixed.snnAccuracy)
        // Both directions: a fixed point far better than its reference is as wrong as one worse,
        // and equal accuracies can hide different classes.
        let accOK = abs(drop) <= o.maxAccuracyDrop
        let differPercent = data.count > 0 ? 100 * Double(differ) / Double(data.count) : 0
        let differOK = differ <= 1 || differPercent <= o.maxDifferingPercent
        let pass = accOK && differOK && layers.allSatisfy(\.ok)
        // Where it fails: the first image classified differently (else the one whose spike
        // counts moved most), re-run in both engines with rasters.
        var divergence: Divergence? = nil
        if !pass, !data.samples.isEmpty {
            let moved = zip(asResults, floatRes).map { zip($0.spikesPerLayer, $1.spikesPerLayer).reduce(0) { $0 + abs($1.0 - $1.1) } }
            let image = asResults.indices.first { asResults[$0].classes.last != floatRes[$0].classes.last } ?? moved.indices.max { moved[$0] < moved[$1] } ?? 0
            var ro = so
            ro.recordRaster = true
            ro.threads = 1
            divergence = Divergence.find(image: image, sample: data.samples[image], emulator: emu, reference: Simulator(network: refNet, options: ro, aroused: refHigh), tolerance: o.divergenceSpikes)
        }
        let wall = monotonicSeconds() - t0
        if o.json {
            let fields: [(String, JSONOutput)] = [
                ("model", .string(net.model)), ("profile", .string(net.profile)), ("images", .int(data.count)), ("duration_ms", .int(o.durationMs)),
                ("pass", .bool(pass)), ("float", metricsJSON(mFloat, [:])), ("fixed", metricsJSON(mFixed, overflows)),
                ("accuracy_drop_points", .double(drop)), ("max_accuracy_drop", .double(o.maxAccuracyDrop)),
                ("images_classified_differently", .int(differ)), ("images_classified_differently_percent", .double(differPercent)),
                ("max_differing_percent", .double(o.maxDifferingPercent)), ("first_divergence", divergence?.json ?? .null), ("cycle_model", cycleJSON(cyc)),
                ("aroused_float", .int(floatRes.filter(\.aroused).count)), ("aroused_fixed", .int(fixed.filter(\.aroused).count)),
                ("layers", .array(layers.map { .object([("layer", .string($0.name)), ("float_spikes", .int($0.float)), ("fixed_spikes", .int($0.fixed)),
                                                        ("deviation_percent", .double($0.deviationPercent)), ("overflows", .int($0.overflows)), ("ok", .bool($0.ok))]) })),
            ]
            let extra: [(String, JSONOutput)] = o.distribution.map { [("distribution", $0().json)] } ?? []
            r.stdout = JSONOutput.object(fields + extra).serialized()
        } else {
            var t = TextTable(headers: ["layer", "float spikes", "fixed spikes", "fixed / float", "overflows", "check"], alignments: [.left, .right, .right, .right, .right, .left])
            for l in layers {
                t.add([l.name, groupedDigits(l.float), groupedDigits(l.fixed), l.float > 0 ? fmt(Double(l.fixed) / Double(l.float), 4) : "—", groupedDigits(l.overflows),
                       l.ok ? "ok" : "FAIL (\(fmt(l.deviationPercent, 2)) % > \(fmt(o.maxSpikeDeviation, 1)) %)"])
            }
            var m = TextTable(headers: ["", "float reference", "fixed point (emulator)"], alignments: [.left, .right, .right])
            m.add(["accuracy", Simulate.pct(mFloat.snnAccuracy), Simulate.pct(mFixed.snnAccuracy)])
            m.add(["firing rate", fmt(mFloat.firingRateHz, 2) + " Hz", fmt(mFixed.firingRateHz, 2) + " Hz"])
            m.add(["matching time", "\(mFloat.matchingTimeMs) ms", "\(mFixed.matchingTimeMs) ms"])
            m.add(["synaptic events / image", groupedDigits(clampedInt(mFloat.synapticEventsPerImage, .towardZero)), groupedDigits(clampedInt(mFixed.synapticEventsPerImage, .towardZero))])
            if net.arousal != nil {
                let sf = floatRes.filter(\.aroused).count, sq = fixed.filter(\.aroused).count
                m.add(["aroused (switched to ϑ0_hp)", "\(sf) of \(data.count)", "\(sq) of \(data.count)"])
            }
            r.stdout = "check of '\(net.model)' on '\(net.profile)': \(data.count) samples × \(o.durationMs) steps, hop delay 1, \(fmt(wall, 1)) s\n\n"
                + m.render() + "\n" + t.render()
                + "\naccuracy drop \(fmt(drop, 2)) points (limit ±\(fmt(o.maxAccuracyDrop, 2)))\(accOK ? "" : " — FAIL"); images classified differently: \(differ) (\(fmt(differPercent, 2)) %, limit \(fmt(o.maxDifferingPercent, 2)) % and more than one)\(differOK ? "" : " — FAIL")\n"
                + cycleText(cyc, net)
                + (divergence.map { $0.text + "\n" } ?? "")
                + (o.distribution.map { $0().text + "\n" } ?? "")
                + (pass ? "check passed\n" : "check FAILED\n")
        }
        if let path = o.junitPath {
            do { try writeFileAtomically(path, junit(net: net, drop: drop, accOK: accOK && differOK, limit: o.maxAccuracyDrop, layers: layers, maxDev: o.maxSpikeDeviation, seconds: wall)) } catch {
                return .failure([Diagnostic(.error, .outputUnwritable, file: path, "cannot write the JUnit report: \(error)")])
            }
        }
        if !pass {
            r.status = .badInput
            r.stderr += "\(o.directory): error[check-failed]: the fixed-point network departs from the float reference (accuracy drop \(fmt(drop, 2)) points, \(differ) of \(data.count) images classified differently; see the table)\n"
        }
        return r
    }

    /// The emulator's runs as the reference network's results, its layers aligned by name (for
    /// SimulationMetrics).
    public static func asReferenceResults(_ fixed: [EmulatedImage], _ net: EmuNetwork, _ refNet: SpikingNetwork) -> [ImageResult] {
        let refIndex = Dictionary(refNet.layers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        return fixed.map { e in
            var spikes = [Int](repeating: 0, count: refNet.layers.count)
            for (li, l) in net.layers.enumerated() { if let ri = refIndex[l.name] { spikes[ri] = e.spikesPerLayer[li] } }
            return ImageResult(classes: e.classes, spikesPerLayer: spikes, synapticEvents: e.synapticEvents)
        }
    }

    /// The float reference of an artefact: the source model at the ϑ0 the artefact was compiled
    /// at (`--theta0`, or arousal's ϑ0_lp), and at ϑ0_hp when arousal is compiled in.
    public static func reference(_ net: EmuNetwork, _ run: Simulate.Run) -> Result<(SpikingNetwork, SpikingNetwork?), DiagnosticsError> {
        var low = run.network
        if let t = net.theta0Override {
            switch Sweep.lowered(run.model, theta0: t) {
            case .success(let n): low = n
            case .failure(let e): return .failure(e)
            }
        }
        guard let a = net.arousal else { return .success((low, nil)) }
        return Sweep.lowered(run.model, theta0: a.theta0High).map { (low, $0) }
    }

    public struct CycleSummary: Sendable {
        public var available: Bool
        public var meanStepUs: Double, worstStepUs: Double, worstStepHops: Int, stepsOverBudget: Int, steps: Int
        public var realTimeFactor: Double
        public var energyPerImageUJ: Double
        public var slowestCores: [(core: Int, share: Double)]
        /// Per layer: mean cycles per step and share of all layers' cycles.
        public var layers: [(name: String, cyclesPerStep: Double, share: Double)]
    }

    /// The cycle model over a run (Docs/core-timing.md).
    public static func cycles(_ net: EmuNetwork, _ runs: [EmulatedImage], steps: Int) -> CycleSummary {
        let t = net.timing
        let n = max(1, runs.count)
        let totalSteps = Double(n * steps)
        let slowest = runs.reduce(0) { $0 + $1.slowestCoreCycles }
        let meanStepUs = slowest / totalSteps / t.clockHz * 1e6
        let worst = runs.max { $0.worstStepCycles < $1.worstStepCycles }
        let graded = net.layers.contains { $0.graded }
        let energy = runs.reduce(0.0) { acc, r in
            acc + CycleModel.energyPJ(synapticOpPJ: t.synapticOpPJ, neuronUpdatePJ: t.neuronUpdatePJ, spikeHopPJ: t.spikeHopPJ, payloadBitPJ: t.payloadBitPJ,
                                      synapticOps: Double(r.synapticEvents), neuronUpdates: Double(r.neuronUpdates),
                                      packetHops: Double(r.packetHops), payloadBits: graded ? t.payloadBits : 0)
        } / Double(n) * 1e-6
        var perCore = [Double](repeating: 0, count: net.cores.count)
        for r in runs { for (c, v) in r.coreCycles.enumerated() { perCore[c] += v } }
        let total = max(1e-300, perCore.reduce(0, +))
        let top = perCore.enumerated().sorted { $0.element > $1.element }.prefix(3).map { (core: $0.offset, share: $0.element / total) }
        var perLayer = [Double](repeating: 0, count: net.layers.count)
        for r in runs { for (l, v) in r.layerCycles.enumerated() where l < perLayer.count { perLayer[l] += v } }
        let layerTotal = max(1e-300, perLayer.reduce(0, +))
        let layers = net.layers.indices.map { (name: net.layers[$0].name, cyclesPerStep: perLayer[$0] / totalSteps, share: perLayer[$0] / layerTotal) }
        return CycleSummary(available: t.hasCycles, meanStepUs: meanStepUs, worstStepUs: (worst?.worstStepCycles ?? 0) / t.clockHz * 1e6,
                            worstStepHops: worst?.worstStepHops ?? 0, stepsOverBudget: runs.reduce(0) { $0 + $1.stepsOverBudget }, steps: n * steps,
                            realTimeFactor: meanStepUs / t.timestepUs, energyPerImageUJ: energy, slowestCores: top, layers: layers)
    }

    static func cycleText(_ c: CycleSummary, _ net: EmuNetwork) -> String {
        guard c.available else { return "cycle model: the profile gives no timing.cycles\n" }
        var s = "cycle model (profile costs, Docs/core-timing.md): mean step \(fmt(c.meanStepUs, 2)) µs on the slowest core, worst step \(fmt(c.worstStepUs, 2)) µs (\(c.worstStepHops) hops), "
        s += "\(c.stepsOverBudget) of \(c.steps) steps over the \(fmt(net.timing.timestepUs, 0)) µs timestep; real-time factor \(fmt(c.realTimeFactor, 4)); energy \(fmt(c.energyPerImageUJ, 2)) µJ per image\n"
        s += "busiest cores: " + c.slowestCores.map { "core \($0.core) \(fmt($0.share * 100, 1)) %" }.joined(separator: ", ") + " of all core cycles\n"
        s += "work per layer (cycles per step, share): " + c.layers.map { "\($0.name) \(groupedDigits(clampedInt($0.cyclesPerStep))) (\(fmt($0.share * 100, 1)) %)" }.joined(separator: ", ") + "\n"
        return s
    }

    static func cycleJSON(_ c: CycleSummary) -> JSONOutput {
        .object([("available", .bool(c.available)), ("mean_step_us", .double(c.meanStepUs)), ("worst_step_us", .double(c.worstStepUs)),
                 ("worst_step_hops", .int(c.worstStepHops)), ("steps_over_timestep", .int(c.stepsOverBudget)), ("real_time_factor", .double(c.realTimeFactor)),
                 ("energy_per_image_uj", .double(c.energyPerImageUJ)),
                 ("busiest_cores", .array(c.slowestCores.map { .object([("core", .int($0.core)), ("share", .double($0.share))]) })),
                 ("layers", .array(c.layers.map { .object([("layer", .string($0.name)), ("cycles_per_step", .double($0.cyclesPerStep)), ("share", .double($0.share))]) }))])
    }

    static func metricsJSON(_ m: SimulationMetrics, _ overflows: [String: Int]) -> JSONOutput {
        .object([("accuracy", .double(m.snnAccuracy)), ("firing_rate_hz", .double(m.firingRateHz)), ("matching_time_ms", .int(m.matchingTimeMs)),
                 ("synaptic_events_per_image", .double(m.synapticEventsPerImage)),
                 ("spikes_per_layer", .array(m.layers.map { .object([("layer", .string($0.name)), ("spikes", .int($0.spikes)), ("rate_hz", .double($0.rateHz)),
                                                                     ("overflows", .int(overflows[$0.name] ?? 0))]) }))])
    }

    static func junit(net: EmuNetwork, drop: Double, accOK: Bool, limit: Double, layers: [LayerCheck], maxDev: Double, seconds: Double) -> String {
        func esc(_ s: String) -> String { SVGPlot.escape(s) }
        let failures = (accOK ? 0 : 1) + layers.filter { !$0.ok }.count
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        s += "  <testsuite name=\"snnc emulate --check \(esc(net.model)) on \(esc(net.profile))\" tests=\"\(1 + layers.count)\" failures=\"\(failures)\" time=\"\(fmt(seconds, 3))\">\n"
        s += "    <testcase classname=\"snnc.check\" name=\"accuracy\">"
        if !accOK { s += "<failure message=\"accuracy drop \(fmt(drop, 2)) points (limit ±\(fmt(limit, 2))), or too many images classified differently\"/>" }
        s += "</testcase>\n"
        for l in layers {
            s += "    <testcase classname=\"snnc.check.spikes\" name=\"\(esc(l.name))\">"
            if !l.ok { s += "<failure message=\"spike count deviates \(fmt(l.deviationPercent, 2)) % (fixed \(l.fixed), float \(l.float)); limit \(fmt(maxDev, 1)) %\"/>" }
            s += "</testcase>\n"
        }
        return s + "  </testsuite>\n</testsuites>\n"
    }
}
