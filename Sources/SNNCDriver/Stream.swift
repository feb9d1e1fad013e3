// `snnc simulate MODEL --data D --stream STEPS`: the second seed's streaming experiment on the
// float reference. The samples are shown one after another, each for STEPS steps, without
// resetting the network; the readout classifies at every step. Reported: per-frame accuracy
// (class at the end of each frame), the latency to the new class after each switch (steps until
// the readout settles on the frame's label for the rest of the frame), and the network updates
// used — synaptic events per frame — against an ANN recomputed every frame (its MACs).
import Dispatch
import SNNCEmulator
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCReference

public enum Stream {
    public struct Summary: Sendable {
        public var frames: Int, stepsPerFrame: Int
        public var snnCorrect: Int, annCorrect: Int
        public var latencies: [Int?]
        public var eventsPerFrame: [Int]
        public var annMACsPerFrame: Int
        public var frameClasses: [Int]
    }

    public static func run(_ o: Simulate.Options, stepsPerFrame: Int, runs: Int = 1) -> CommandResult {
        if let bad = badFrameLength(stepsPerFrame) { return bad }
        var run: Simulate.Run
        switch Simulate.start(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit, threads: o.simulation.threads, theta0: o.theta0) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        reorder(&run, runs: runs)
        let (model, data, net, ann) = (run.model, run.data, run.network, run.ann)
        let sim = Simulator(network: net, options: o.simulation)
        let (res, epf) = sim.stream(frames: data.samples, stepsPerFrame: stepsPerFrame)
        let s = summarize(classes: res.classes, labels: data.labels, ann: ann, eventsPerFrame: epf, stepsPerFrame: stepsPerFrame, macs: annMACs(model))
        var r = CommandResult()
        r.stdout = o.json ? json(s, model: model).serialized() : text(s, model: model, data: data)
        return r
    }

    /// `snnc emulate DIR --data D --stream STEPS`: the same sequence through the fixed-point
    /// emulator (spikes through the emitted tables) and the float reference with the hardware's
    /// hop delay (1), side by side; the two run concurrently, each on one thread.
    public static func runEmulated(_ o: Emulate.Options, stepsPerFrame: Int, runs: Int = 1) -> CommandResult {
        if let bad = badFrameLength(stepsPerFrame) { return bad }
        let net: EmuNetwork
        do { net = try ArtefactReader.load(o.directory) } catch {
            return .failure([Diagnostic(.error, .artefactInvalid, file: error.file, error.message)])
        }
        let nir: NIROptions
        switch Artefact.nirOptions(in: o.directory) {
        case .success(let n): nir = n
        case .failure(let e): return .failure(e.diagnostics)
        }
        var run: Simulate.Run
        switch Simulate.start(modelPath: Artefact.sourceModelPath(in: o.directory), dataPath: o.dataPath, limit: o.limit, threads: 1, nir: nir) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        reorder(&run, runs: runs)
        let t0 = monotonicSeconds()
        var so = SimulationOptions()
        so.hopDelay = 1
        so.threads = 1
        var eo = EmulationOptions()
        eo.threads = 1
        let reference: SpikingNetwork
        switch Emulate.reference(net, run) {
        case .success(let r): reference = r.0
        case .failure(let e): return .failure(e.diagnostics)
        }
        let emulator = Emulator(net, options: eo), sim = Simulator(network: reference, options: so)
        let frames = run.data.samples
        nonisolated(unsafe) var fixed: EmulatedImage? = nil
        nonisolated(unsafe) var float: (result: ImageResult, eventsPerFrame: [Int])? = nil
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 { fixed = emulator.emulate(frames: frames, stepsPerFrame: stepsPerFrame) } else { float = sim.stream(frames: frames, stepsPerFrame: stepsPerFrame) }
        }
        let macs = annMACs(run.model)
        let sFixed = summarize(classes: fixed!.classes, labels: run.data.labels, ann: run.ann, eventsPerFrame: fixed!.eventsPerFrame, stepsPerFrame: stepsPerFrame, macs: macs)
        let sFloat = summarize(classes: float!.result.classes, labels: run.data.labels, ann: run.ann, eventsPerFrame: float!.eventsPerFrame, stepsPerFrame: stepsPerFrame, macs: macs)
        var r = CommandResult()
        if o.json {
            r.stdout = JSONOutput.object([("model", .string(net.model)), ("profile", .string(net.profile)), ("hop_delay", .int(1)),
                                          ("fixed", json(sFixed, model: run.model)), ("float", json(sFloat, model: run.model))]).serialized()
        } else {
            r.stdout = "model '\(net.model)' on '\(net.profile)', streaming \(run.data.description), hop delay 1, \(fmt(monotonicSeconds() - t0, 1)) s\n\n"
                + table([("float reference", sFloat), ("fixed point (emulator)", sFixed)]).render()
        }
        return r
    }

    /// The streaming measures, one column per run.
    static func table(_ runs: [(String, Summary)]) -> TextTable {
        var t = TextTable(headers: ["measure"] + runs.map(\.0), alignments: [.left] + runs.map { _ in .right })
        func row(_ name: String, _ f: (Summary) -> String) { t.add([name] + runs.map { f($0.1) }) }
        func events(_ s: Summary) -> Double { Double(s.eventsPerFrame.reduce(0, +)) / Double(max(1, s.frames)) }
        func latency(_ s: Summary) -> (mean: Double, median: Int, settled: Int) {
            let reached = s.latencies.compactMap { $0 }.sorted()
            return (reached.isEmpty ? 0 : Double(reached.reduce(0, +)) / Double(reached.count), reached.isEmpty ? 0 : reached[reached.count / 2], reached.count)
        }
        row("frames × steps") { "\($0.frames) × \($0.stepsPerFrame) (no reset between frames)" }
        row("accuracy, class at frame end") { "\(Simulate.pct(Double($0.snnCorrect) / Double(max(1, $0.frames)))) (\($0.snnCorrect)/\($0.frames))" }
        row("ANN accuracy, per frame") { "\(Simulate.pct(Double($0.annCorrect) / Double(max(1, $0.frames)))) (\($0.annCorrect)/\($0.frames))" }
        row("latency to the new class (mean / median)") { s in let l = latency(s); return "\(fmt(l.mean, 1)) / \(l.median) steps, settled after \(l.settled) of \(s.latencies.count) switches" }
        row("synaptic events per frame (mean)") { groupedDigits(clampedInt(events($0))) }
        row("ANN MACs per frame (recomputed each frame)") { groupedDigits($0.annMACsPerFrame) }
        row("updates / ANN cost") { fmt(events($0) / Double(max(1, $0.annMACsPerFrame)), 3) }
        return t
    }

    /// The usage error for a frame length outside 1 … 1,000,000 steps (nil when it is fine).
    static func badFrameLength(_ steps: Int) -> CommandResult? {
        guard steps < 1 || steps > 1_000_000 else { return nil }
        var r = CommandResult()
        r.stderr = "snnc: --stream takes the steps per frame, 1 … 1000000\n"
        r.status = .usage
        return r
    }

    /// The data as a sequence of runs: `runs` consecutive samples of one class (file order within
    /// a class), classes taking turns in order of first appearance — a camera that keeps seeing
    /// one object while its frames change. `runs` ≤ 1 keeps the file order.
    public static func sequence(_ data: Dataset, runs: Int) -> [Int] {
        guard runs > 1 else { return Array(0..<data.count) }
        var byClass: [Int: [Int]] = [:], order: [Int] = []
        for (i, l) in data.labels.enumerated() {
            if byClass[l] == nil { order.append(l) }
            byClass[l, default: []].append(i)
        }
        var next = [Int: Int](), out: [Int] = []
        while out.count < data.count {
            for c in order {
                let k = next[c, default: 0], list = byClass[c]!
                guard k < list.count else { continue }
                out += list[k..<min(k + runs, list.count)]
                next[c] = k + runs
            }
        }
        return out
    }

    static func reorder(_ run: inout Simulate.Run, runs: Int) {
        guard runs > 1 else { return }
        let order = sequence(run.data, runs: runs)
        run.data.samples = order.map { run.data.samples[$0] }
        run.data.labels = order.map { run.data.labels[$0] }
        run.ann = order.map { run.ann[$0] }
        run.data.description += ", in runs of \(runs) per class"
    }

    /// MACs of one ANN evaluation: every weighted node's multiply-accumulates.
    public static func annMACs(_ model: Model) -> Int {
        var shapes: [String: [Int]] = [:]
        for n in model.nodes { shapes[n.name] = n.shape }
        return model.nodes.reduce(0) { $0 + GraphStats.stats(of: $1, inputShapes: $1.inputs.map { shapes[$0] ?? [] }).macs }
    }

    public static func summarize(classes: [Int32], labels: [Int], ann: [Int], eventsPerFrame: [Int], stepsPerFrame: Int, macs: Int) -> Summary {
        let frames = labels.count
        var latencies: [Int?] = []
        var frameClasses: [Int] = []
        var correct = 0
        for f in 0..<frames {
            let last = Int(classes[f * stepsPerFrame + stepsPerFrame - 1])
            frameClasses.append(last)
            if last == labels[f] { correct += 1 }
        }
        // A switch: a frame whose label differs from the previous frame's. Its latency: the first
        // step from which the class stays the label to the end of the run of frames with that
        // label (nil when it never settles).
        var f = 0
        while f < frames {
            var end = f + 1
            while end < frames && labels[end] == labels[f] { end += 1 }
            let lo = f * stepsPerFrame
            var d: Int? = nil
            var t = end * stepsPerFrame - 1
            while t >= lo && Int(classes[t]) == labels[f] { d = t - lo; t -= 1 }
            latencies.append(d)
            f = end
        }
        return Summary(frames: frames, stepsPerFrame: stepsPerFrame, snnCorrect: correct, annCorrect: zip(ann, labels).filter { $0 == $1 }.count,
                       latencies: latencies, eventsPerFrame: eventsPerFrame, annMACsPerFrame: macs, frameClasses: frameClasses)
    }

    static func text(_ s: Summary, model: Model, data: Dataset) -> String {
        "model '\(model.name)', streaming \(data.description)\n\n" + table([("value", s)]).render()
    }

    static func json(_ s: Summary, model: Model) -> JSONOutput {
        let events = Double(s.eventsPerFrame.reduce(0, +)) / Double(max(1, s.frames))
        return .object([
            ("model", .string(model.name)), ("frames", .int(s.frames)), ("steps_per_frame", .int(s.stepsPerFrame)),
            ("snn_accuracy", .double(Double(s.snnCorrect) / Double(max(1, s.frames)))), ("ann_accuracy", .double(Double(s.annCorrect) / Double(max(1, s.frames)))),
            ("synaptic_events_per_frame", .double(events)), ("ann_macs_per_frame", .int(s.annMACsPerFrame)),
            ("updates_over_ann", .double(events / Double(max(1, s.annMACsPerFrame)))),
            ("latency_after_switch_steps", .array(s.latencies.map { $0.map { .int($0) } ?? .null })),
            ("per_frame", .array(s.frameClasses.indices.map { f in
                .object([("class", .int(s.frameClasses[f])), ("synaptic_events", .int(s.eventsPerFrame[f]))])
            })),
        ])
    }
}
