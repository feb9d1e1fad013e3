import SNNCIR
// The paper's metrics (asn-model.md, "Metrics"):
// - accuracy at every step (the readout's argmax against the label), final accuracy;
// - FR: spikes per spiking neuron per second, averaged over all spiking neurons and images;
// - MT (matching time): the first time at which 99 % of the maximum accuracy is reached, in ms
//   (step t ends at t + 1 ms);
// - ± : the standard deviation of the accuracy from MT to the end of the window.

public struct LayerSpikes: Sendable, Equatable {
    public var name: String
    public var neurons: Int
    /// Spikes over all images.
    public var spikes: Int
    public var rateHz: Double
}

public struct SimulationMetrics: Sendable {
    public var images: Int
    public var durationMs: Int
    public var hopDelay: Int
    public var annAccuracy: Double
    public var snnAccuracy: Double
    public var accuracyCurve: [Double]
    public var firingRateHz: Double
    public var matchingTimeMs: Int
    public var accuracyStdAfterMT: Double
    public var maxAccuracy: Double
    public var layers: [LayerSpikes]
    public var synapticEventsPerImage: Double
    /// Images whose final SNN class differs from the ANN's class.
    public var disagreementsWithANN: Int

    public static func compute(network: SpikingNetwork, results: [ImageResult], labels: [Int], annClasses: [Int],
                               durationMs: Int, hopDelay: Int) -> SimulationMetrics {
        let n = results.count
        var curve = [Double](repeating: 0, count: durationMs)
        for (r, label) in zip(results, labels) {
            for t in 0..<durationMs where Int(r.classes[t]) == label { curve[t] += 1 }
        }
        if n > 0 { for t in curve.indices { curve[t] /= Double(n) } }
        let maxAcc = curve.max() ?? 0
        let mtStep = curve.firstIndex { $0 >= 0.99 * maxAcc } ?? (durationMs - 1)
        let tail = curve[mtStep...]
        let mean = tail.reduce(0, +) / Double(tail.count)
        let std = (tail.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(tail.count)).squareRoot()
        var layers: [LayerSpikes] = []
        var totalSpikes = 0
        var totalNeurons = 0
        let seconds = Double(durationMs) / 1000
        for li in network.spikingLayerIndices {
            let l = network.layers[li]
            let s = results.reduce(0) { $0 + $1.spikesPerLayer[li] }
            totalSpikes += s
            totalNeurons += l.neurons
            layers.append(LayerSpikes(name: l.name, neurons: l.neurons, spikes: s,
                                      rateHz: n > 0 ? Double(s) / Double(l.neurons) / Double(n) / seconds : 0))
        }
        let annCorrect = zip(annClasses, labels).filter { $0 == $1 }.count
        let disagreements = zip(results, annClasses).filter { Int($0.classes.last ?? -1) != $1 }.count
        return SimulationMetrics(
            images: n, durationMs: durationMs, hopDelay: hopDelay,
            annAccuracy: n > 0 ? Double(annCorrect) / Double(n) : 0,
            snnAccuracy: curve.last ?? 0, accuracyCurve: curve,
            firingRateHz: n > 0 && totalNeurons > 0 ? Double(totalSpikes) / Double(totalNeurons) / Double(n) / seconds : 0,
            matchingTimeMs: mtStep + 1, accuracyStdAfterMT: std, maxAccuracy: maxAcc, layers: layers,
            synapticEventsPerImage: n > 0 ? Double(results.reduce(0) { $0 + $1.synapticEvents }) / Double(n) : 0,
            disagreementsWithANN: disagreements)
    }
}
