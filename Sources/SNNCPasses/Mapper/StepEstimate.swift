// What one step of a mapped network costs, estimated from the mapping and firing rates instead
// of measured (`snnc fit`): per core the counts the cycle model prices (Docs/core-timing.md) —
// axon events, synaptic ops, compartment updates, packets sent — and the packets' hops. The
// emulator measures the same counts step by step; the arithmetic on them is SNNCArtefact's
// CycleModel for both.
import SNNCArtefact
import SNNCHardware

public struct StepEstimate: Sendable {
    public var axonEvents: [Double]
    public var synapticOps: [Double]
    public var compartments: [Double]
    public var packetsOut: [Double]
    /// Σ over packets of their hops on the global mesh, per step.
    public var packetHops: Double
    /// The longest route any estimated traffic takes (hops).
    public var maxHops: Int
    public var graded: Bool
    public var ratesSource: String

    /// The estimate for a unit that has been partitioned and placed (nil before): every layer
    /// fires at its measured rate (`--rates`) or at `Place.uniformRate` spikes per neuron per step.
    public init?(_ unit: CompileUnit) {
        guard let graph = unit.graph, let part = unit.partition, let place = unit.placement else { return nil }
        let n = part.cores.count
        let rates = unit.measuredRates
        func rate(_ layer: Int) -> Double { rates?[graph.layers[layer].name] ?? Place.uniformRate }
        axonEvents = [Double](repeating: 0, count: n)
        synapticOps = axonEvents
        compartments = axonEvents
        packetsOut = axonEvents
        var coreOf = [Int](repeating: 0, count: part.blocks.count)
        for (c, bs) in part.cores.enumerated() { for b in bs { coreOf[b] = c } }
        for (bi, b) in part.blocks.enumerated() {
            let c = coreOf[bi]
            compartments[c] += Double(b.compartments)
            let layer = graph.layers[b.layer]
            for g in b.axons {
                switch g.kind {
                case .partial:
                    // A dendrite block's partial current arrives every step, one per compartment.
                    axonEvents[c] += Double(g.count)
                    synapticOps[c] += Double(g.count)
                case .spikes(let src):
                    let r = rate(src)
                    axonEvents[c] += Double(g.count) * r
                    guard let pi = g.projection, pi < layer.inputs.count else { continue }
                    switch layer.inputs[pi].kind {
                    case .dense:
                        synapticOps[c] += Double(g.count) * Double(b.compartments) * r
                    case .conv(let cs):
                        // Taps inside the input, per axis, over the block's compartments (this is
                        // exact for the synapses; each fires at the source's rate).
                        let taps = ConvShape.validTaps(b.compRows, cs, rows: true) * ConvShape.validTaps(b.compCols, cs, rows: false)
                        synapticOps[c] += Double(taps) * Double(g.channels.count) * Double(b.channels.count) * r
                    case .identity:
                        synapticOps[c] += Double(g.count) * r
                    }
                }
            }
        }
        let geo = MeshGeometry(unit.profile)
        var hops = 0.0, longest = 0
        for t in place.traffic {
            packetsOut[t.from] += t.spikesPerStep
            let a = geo.global(place.slotOfCore[t.from]), z = geo.global(place.slotOfCore[t.to])
            let h = abs(a.row - z.row) + abs(a.col - z.col)
            hops += t.spikesPerStep * Double(h)
            longest = max(longest, h)
        }
        packetHops = hops
        maxHops = longest
        graded = graph.layers.contains { $0.graded }
        ratesSource = place.ratesSource
    }

    /// The cycle model on the estimate, per step: the slowest core's time and the longest
    /// route's network time (µs), and the energy (pJ). Nil when the profile gives no cycle costs.
    public func cost(_ p: HardwareProfile) -> (coreUs: Double, networkUs: Double, energyPJ: Double)? {
        guard let cy = p.cycles else { return nil }
        var slowest = 0.0
        for c in axonEvents.indices {
            slowest = max(slowest, CycleModel.coreCycles(stepOverhead: cy.stepOverhead, axonEvent: cy.axonEvent, synapticOp: cy.synapticOp,
                                                         neuronUpdate: cy.neuronUpdate, spikeOut: cy.spikeOut, axonEvents: axonEvents[c],
                                                         synapticOps: synapticOps[c], compartments: compartments[c], packetsOut: packetsOut[c]))
        }
        let network = Double(maxHops) * p.router.hopLatencyNs * 1e-3
        let e = p.energy
        let energy = CycleModel.energyPJ(synapticOpPJ: e.synapticOpPJ, neuronUpdatePJ: e.neuronUpdatePJ, spikeHopPJ: e.spikeHopPJ, payloadBitPJ: e.payloadBitPJ,
                                         synapticOps: synapticOps.reduce(0, +), neuronUpdates: compartments.reduce(0, +),
                                         packetHops: packetHops, payloadBits: graded ? p.spikes.payloadBits : 0)
        return (slowest / p.clockHz * 1e6, network, energy)
    }
}
