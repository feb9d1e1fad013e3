// `snnc simulate model.json --data …`: the float reference on a data set — ANN accuracy, then the
// spiking network's accuracy at every step, FR, MT, spikes per layer.
import Dispatch
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCReference

public enum Simulate {
    public struct Options: Sendable {
        public var modelPath: String
        public var dataPath: String
        public var limit: Int?
        public var simulation = SimulationOptions()
        public var json = false
        public var svgPath: String?
        public var progress = true
        /// Only evaluate the ANN (no spiking simulation).
        public var annOnly = false
        /// With annOnly: write every sample's ANN logits (the readout's input) to this CSV file,
        /// one row per sample, shortest round-trip decimals.
        public var logitsPath: String?
        /// Run every ASN (and graded relu) at ϑ0 = m_f = this value instead of the file's.
        public var theta0: Double?
        /// How a .nir model's neurons are read (Docs/nir.md).
        public var nir = NIROptions()
        public init(modelPath: String, dataPath: String) {
            self.modelPath = modelPath
            self.dataPath = dataPath
        }
    }

    /// Loads model and data and checks they fit each other.
    public static func prepare(modelPath: String, dataPath: String, limit: Int?, theta0: Double? = nil,
                               nir: NIROptions = NIROptions()) -> Result<(Model, Dataset, SpikingNetwork), DiagnosticsError> {
        let loaded = ModelFiles.load(path: modelPath, nir: nir)
        guard var model = loaded.model else { return .failure(DiagnosticsError(loaded.diagnostics)) }
        if let theta0 {
            switch Sweep.withThreshold(model, theta0: theta0) {
            case .success(let m): model = m
            case .failure(let e): return .failure(e)
            }
        }
        return prepare(model: model, dataPath: dataPath, limit: limit)
    }

    /// Lowers a loaded model and loads the data set (its first `limit` samples), checking they
    /// fit each other.
    public static func prepare(model: Model, dataPath: String, limit: Int?) -> Result<(Model, Dataset, SpikingNetwork), DiagnosticsError> {
        let net: SpikingNetwork
        switch SpikingNetwork.lower(model) {
        case .success(let n): net = n
        case .failure(let e): return .failure(e)
        }
        var data: Dataset
        switch DataLoader.load(path: dataPath) {
        case .success(let d): data = d
        case .failure(let e): return .failure(e)
        }
        if let limit { data = data.prefix(limit) }
        let input = model.nodes.first { $0.op == .input }!
        let classes = net.layers[net.readoutLayer!].neurons
        let problems = DataLoader.check(data, inputShape: input.shape, classes: classes, file: dataPath)
        if problems.contains(where: { $0.severity == .error }) { return .failure(DiagnosticsError(problems)) }
        return .success((model, data, net))
    }

    /// What a run over a data set starts from: the model, the data, the spiking network, the
    /// worker threads (0: all cores) and the ANN's class of every sample.
    public struct Run: Sendable {
        public var model: Model
        public var data: Dataset
        public var network: SpikingNetwork
        public var threads: Int
        public var ann: [Int]
    }

    public static func start(modelPath: String, dataPath: String, limit: Int?, threads: Int, theta0: Double? = nil,
                             nir: NIROptions = NIROptions()) -> Result<Run, DiagnosticsError> {
        switch prepare(modelPath: modelPath, dataPath: dataPath, limit: limit, theta0: theta0, nir: nir) {
        case .failure(let e): return .failure(e)
        case .success(let (model, data, net)):
            let t = threads > 0 ? threads : activeCoreCount()
            return .success(Run(model: model, data: data, network: net, threads: t, ann: annClasses(net.prepared, data, threads: t)))
        }
    }

    /// ANN classes of every sample: batches through BLAS (BatchedANN) over `threads` workers;
    /// the same classes for any thread count.
    public static func annClasses(_ pm: PreparedModel, _ data: Dataset, threads: Int) -> [Int] {
        BatchedANN(pm).classify(data.samples, threads: max(1, threads))
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let prepared: (Model, Dataset, SpikingNetwork)
        switch prepare(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit, theta0: o.theta0, nir: o.nir) {
        case .success(let p): prepared = p
        case .failure(let e): return .failure(e.diagnostics)
        }
        let (model, data, net) = prepared
        let threads = o.simulation.threads > 0 ? o.simulation.threads : activeCoreCount()
        let t0 = monotonicSeconds()
        let ann: [Int]
        if o.annOnly, let path = o.logitsPath {
            let logits = BatchedANN(net.prepared).outputs(data.samples, threads: max(1, threads))
            r.write(path, logits.map { $0.map { "\($0)" }.joined(separator: ",") + "\n" }.joined(), what: "logits")
            ann = logits.map(argmax)
        } else {
            ann = annClasses(net.prepared, data, threads: threads)
        }
        if o.annOnly {
            let correct = zip(ann, data.labels).filter { $0 == $1 }.count
            let acc = Double(correct) / Double(max(data.count, 1))
            r.stdout = o.json
                ? JSONOutput.object([("model", .string(model.name)), ("images", .int(data.count)), ("ann_accuracy", .double(acc)), ("ann_correct", .int(correct))]).serialized()
                : "model '\(model.name)', \(data.count) samples of \(data.description): ANN accuracy \(pct(acc)) (\(correct)/\(data.count)), \(fmt(monotonicSeconds() - t0, 2)) s\n"
            return r
        }
        let bar = ProgressBar(total: data.count, label: "simulate", enabled: o.progress && isTerminal(2))
        let sim = Simulator(network: net, options: o.simulation)
        let results = sim.run(images: data.samples) { bar.update($0) }
        let wall = monotonicSeconds() - t0
        let m = SimulationMetrics.compute(network: net, results: results, labels: data.labels, annClasses: ann,
                                          durationMs: o.simulation.durationMs, hopDelay: o.simulation.hopDelay)
        r.stdout = o.json ? json(m, model: model, data: data).serialized() : text(m, model: model, data: data, wall: wall)
        if let path = o.svgPath {
            r.write(path, svg(m, title: "\(model.name): accuracy over time (\(m.images) images)"), what: "plot")
        }
        return r
    }

    static func pct(_ v: Double) -> String { fmt(v * 100, 2) + " %" }

    static func text(_ m: SimulationMetrics, model: Model, data: Dataset, wall: Double) -> String {
        var s = "model '\(model.name)', \(m.images) samples of \(data.description), \(m.durationMs) ms at 1 ms steps, hop delay \(m.hopDelay)\n\n"
        var t = TextTable(headers: ["metric", "value"], alignments: [.left, .right])
        t.add(["ANN accuracy", pct(m.annAccuracy)])
        t.add(["SNN accuracy (end)", pct(m.snnAccuracy)])
        t.add(["SNN max accuracy", pct(m.maxAccuracy)])
        t.add(["matching time MT", "\(m.matchingTimeMs) ms"])
        t.add(["accuracy std after MT", pct(m.accuracyStdAfterMT)])
        t.add(["firing rate FR", fmt(m.firingRateHz, 2) + " Hz"])
        t.add(["synaptic events / sample", groupedDigits(clampedInt(m.synapticEventsPerImage))])
        t.add(["final class ≠ ANN class", "\(m.disagreementsWithANN) of \(m.images)"])
        t.add(["wall time", fmt(wall, 2) + " s"])
        s += t.render() + "\n"
        var l = TextTable(headers: ["layer", "neurons", "spikes", "rate Hz"], alignments: [.left, .right, .right, .right])
        for x in m.layers { l.add([x.name, groupedDigits(x.neurons), groupedDigits(x.spikes), fmt(x.rateHz, 2)]) }
        return s + l.render()
    }

    static func json(_ m: SimulationMetrics, model: Model, data: Dataset) -> JSONOutput {
        .object([
            ("model", .string(model.name)),
            ("images", .int(m.images)),
            ("duration_ms", .int(m.durationMs)),
            ("hop_delay", .int(m.hopDelay)),
            ("ann_accuracy", .double(m.annAccuracy)),
            ("snn_accuracy", .double(m.snnAccuracy)),
            ("max_accuracy", .double(m.maxAccuracy)),
            ("firing_rate_hz", .double(m.firingRateHz)),
            ("matching_time_ms", .int(m.matchingTimeMs)),
            ("accuracy_std_after_mt", .double(m.accuracyStdAfterMT)),
            ("synaptic_events_per_image", .double(m.synapticEventsPerImage)),
            ("disagreements_with_ann", .int(m.disagreementsWithANN)),
            ("spikes_per_layer", .array(m.layers.map { x in
                .object([("layer", .string(x.name)), ("neurons", .int(x.neurons)), ("spikes", .int(x.spikes)), ("rate_hz", .double(x.rateHz))])
            })),
            ("accuracy_curve", .array(m.accuracyCurve.map { .double($0) })),
        ])
    }

    static func svg(_ m: SimulationMetrics, title: String) -> String {
        var p = SVGPlot(title: title, xLabel: "time (ms)", yLabel: "accuracy (%)")
        p.add("AdSNN (float reference)", m.accuracyCurve.enumerated().map { (Double($0.offset + 1), $0.element * 100) })
        p.hLines.append((m.annAccuracy * 100, "ANN \(fmt(m.annAccuracy * 100, 2)) %", "#555"))
        p.vLines.append((Double(m.matchingTimeMs), "MT \(m.matchingTimeMs) ms", "#d62728"))
        return p.render(xRange: 0...Double(m.durationMs), yRange: nil)
    }
}

/// Wraps a value the caller guarantees is used safely across threads (disjoint writes).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

#if canImport(Glibc)
import Glibc
#endif

func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

public func activeCoreCount() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
