// `snnc simulate MODEL --data D --stream STEPS`: the second seed's streaming experiment on the
// float reference. The samples are shown one after another, each for STEPS steps, without
// resetting the network; the readout classifies at every step. Reported: per-frame accuracy
// (class at the end of each frame), the latency to the new class after each switch (steps until
// the readout settles on the frame's label for the rest of the frame), and the network updates
// used — synaptic events per frame — against an ANN recomputed every frame (its MACs).
import SNNCIR
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

    public static func run(_ o: Simulate.Options, stepsPerFrame: Int) -> CommandResult {
        guard stepsPerFrame >= 1 && stepsPerFrame <= 1_000_000 else {
            var r = CommandResult()
            r.stderr = "snnc: --stream takes the steps per frame, 1 … 1000000\n"
            r.status = .usage
            return r
        }
        let run: Simulate.Run
        switch Simulate.start(modelPath: o.modelPath, dataPath: o.dataPath, limit: o.limit, threads: o.simulation.threads) {
        case .success(let r): run = r
        case .failure(let e): return .failure(e.diagnostics)
        }
        let (model, data, net, ann) = (run.model, run.data, run.network, run.ann)
        let sim = Simulator(network: net, options: o.simulation)
        let (res, epf) = sim.stream(frames: data.samples, stepsPerFrame: stepsPerFrame)
        let s = summarize(classes: res.classes, labels: data.labels, ann: ann, eventsPerFrame: epf, stepsPerFrame: stepsPerFrame, macs: annMACs(model))
        var r = CommandResult()
        r.stdout = o.json ? json(s, model: model).serialized() : text(s, model: model, data: data)
        return r
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
            let lo = f * stepsPerFrame, hi = lo + stepsPerFrame
            let last = Int(classes[hi - 1])
            frameClasses.append(last)
            if last == labels[f] { correct += 1 }
            // The first step from which the class stays the label to the end of the frame.
            var d: Int? = nil
            var t = hi - 1
            while t >= lo && Int(classes[t]) == labels[f] { d = t - lo; t -= 1 }
            latencies.append(d)
        }
        return Summary(frames: frames, stepsPerFrame: stepsPerFrame, snnCorrect: correct, annCorrect: zip(ann, labels).filter { $0 == $1 }.count,
                       latencies: latencies, eventsPerFrame: eventsPerFrame, annMACsPerFrame: macs, frameClasses: frameClasses)
    }

    static func text(_ s: Summary, model: Model, data: Dataset) -> String {
        let reached = s.latencies.compactMap { $0 }
        let mean = reached.isEmpty ? 0 : Double(reached.reduce(0, +)) / Double(reached.count)
        let sorted = reached.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        let events = Double(s.eventsPerFrame.reduce(0, +)) / Double(max(1, s.frames))
        var t = TextTable(headers: ["measure", "value"], alignments: [.left, .right])
        t.add(["frames × steps", "\(s.frames) × \(s.stepsPerFrame) (no reset between frames)"])
        t.add(["accuracy, class at frame end", "\(Simulate.pct(Double(s.snnCorrect) / Double(max(1, s.frames)))) (\(s.snnCorrect)/\(s.frames))"])
        t.add(["ANN accuracy, per frame", "\(Simulate.pct(Double(s.annCorrect) / Double(max(1, s.frames)))) (\(s.annCorrect)/\(s.frames))"])
        t.add(["latency to the new class (mean / median)", "\(fmt(mean, 1)) / \(median) steps, settled in \(reached.count) of \(s.frames) frames"])
        t.add(["synaptic events per frame (mean)", groupedDigits(Int(events.rounded()))])
        t.add(["ANN MACs per frame (recomputed each frame)", groupedDigits(s.annMACsPerFrame)])
        t.add(["updates / ANN cost", fmt(events / Double(max(1, s.annMACsPerFrame)), 3)])
        return "model '\(model.name)', streaming \(data.description)\n\n" + t.render()
    }

    static func json(_ s: Summary, model: Model) -> JSONOutput {
        let events = Double(s.eventsPerFrame.reduce(0, +)) / Double(max(1, s.frames))
        return .object([
            ("model", .string(model.name)), ("frames", .int(s.frames)), ("steps_per_frame", .int(s.stepsPerFrame)),
            ("snn_accuracy", .double(Double(s.snnCorrect) / Double(max(1, s.frames)))), ("ann_accuracy", .double(Double(s.annCorrect) / Double(max(1, s.frames)))),
            ("synaptic_events_per_frame", .double(events)), ("ann_macs_per_frame", .int(s.annMACsPerFrame)),
            ("updates_over_ann", .double(events / Double(max(1, s.annMACsPerFrame)))),
            ("per_frame", .array(s.latencies.indices.map { f in
                .object([("class", .int(s.frameClasses[f])), ("latency_steps", s.latencies[f].map { .int($0) } ?? .null), ("synaptic_events", .int(s.eventsPerFrame[f]))])
            })),
        ])
    }
}
