// The emulator: the chips step in lock-step, one hop delay per step, barrier-synchronised.
// Each step, every core runs its stages (Core.swift: deliver → integrate/fire → route), packets
// that leave a chip pass through the SpikeExchange (SpikeExchange.swift), and the host
// (Host.swift) reads the readout and runs arousal; the cycle model observes what each core did.
// Integer sums do not depend on order and images run independently, so results are
// bit-identical for any thread count.
import Dispatch
import SNNCArtefact
import SNNCIR

public struct EmulationOptions: Sendable {
    public var durationMs = 500
    public var threads = 0
    /// Stop at the first overflow instead of counting it.
    public var strict = false
    /// Threads that step one image's cores together, within each step (a single long stream;
    /// `run` also gives idle threads to its images). Results do not depend on it.
    public var coreThreads = 1
    public init() {}
}

public struct EmulatedImage: Sendable {
    public var classes: [Int32]
    public var spikesPerLayer: [Int]
    public var synapticEvents: Int
    public var overflowsPerLayer: [Int]
    /// Set in strict mode: the first overflow (layer, step).
    public var strictFailure: (layer: String, step: Int)?
    /// Per layer, every spike as (step, neuron) — only when asked (tests).
    public var raster: [[(Int, Int)]]?
    /// Cycle model (Docs/core-timing.md): per core, cycles summed over steps; Σ over steps of
    /// the slowest core's cycles; the slowest step's cycles; steps whose time exceeds the
    /// profile's timestep; packets sent and their hops; neuron updates; payload bits × hops.
    public var coreCycles: [Double] = []
    public var slowestCoreCycles: Double = 0
    public var worstStepCycles: Double = 0
    public var worstStepHops: Int = 0
    public var stepsOverBudget: Int = 0
    public var packets: Int = 0
    public var packetHops: Int = 0
    public var neuronUpdates: Int = 0
    /// Streaming (`emulate(frames:)`): synaptic events within each frame.
    public var eventsPerFrame: [Int] = []
    /// Arousal: whether this input switched the network to ϑ0_hp.
    public var aroused = false
    /// Cycle model per layer: the cycles of its axon events, synaptic updates, neuron updates
    /// (dendrite blocks included) and spikes sent, summed over steps (per-core overhead excluded).
    public var layerCycles: [Double] = []
    /// The cycle model's energy (pJ) and the spikes of all layers from the start to the end of
    /// each step (`snnc compare --profile`: what reaching a target accuracy costs).
    public var energySoFarPJ: [Double] = []
    public var spikesSoFar: [Int] = []

    /// An empty result (to be filled field by field, e.g. when received from another process).
    public init() {
        classes = []
        spikesPerLayer = []
        synapticEvents = 0
        overflowsPerLayer = []
    }

    init(classes: [Int32], spikesPerLayer: [Int], synapticEvents: Int, overflowsPerLayer: [Int], strictFailure: (layer: String, step: Int)?,
         raster: [[(Int, Int)]]?, coreCycles: [Double], slowestCoreCycles: Double, worstStepCycles: Double, worstStepHops: Int, stepsOverBudget: Int,
         packets: Int, packetHops: Int, neuronUpdates: Int, eventsPerFrame: [Int], aroused: Bool, layerCycles: [Double],
         energySoFarPJ: [Double], spikesSoFar: [Int]) {
        (self.classes, self.spikesPerLayer, self.synapticEvents, self.overflowsPerLayer, self.strictFailure, self.raster) =
            (classes, spikesPerLayer, synapticEvents, overflowsPerLayer, strictFailure, raster)
        (self.coreCycles, self.slowestCoreCycles, self.worstStepCycles, self.worstStepHops, self.stepsOverBudget) =
            (coreCycles, slowestCoreCycles, worstStepCycles, worstStepHops, stepsOverBudget)
        (self.packets, self.packetHops, self.neuronUpdates, self.eventsPerFrame, self.aroused, self.layerCycles) =
            (packets, packetHops, neuronUpdates, eventsPerFrame, aroused, layerCycles)
        (self.energySoFarPJ, self.spikesSoFar) = (energySoFarPJ, spikesSoFar)
    }
}

public final class Emulator: Sendable {
    public let net: EmuNetwork
    public let options: EmulationOptions
    /// Per core: the index (in net.chips) of its chip.
    public let chipOfCore: [Int32]

    public init(_ net: EmuNetwork, options: EmulationOptions) {
        self.net = net
        self.options = options
        var chipOf = [Int32](repeating: 0, count: net.cores.count)
        for (k, cores) in net.chips.enumerated() { for c in cores { chipOf[c] = Int32(k) } }
        chipOfCore = chipOf
    }

    public func run(images: [[Double]], progress: (@Sendable (Int) -> Void)? = nil) -> [EmulatedImage] {
        // Fewer images than threads: the spare threads step each image's cores.
        let threads = options.threads > 0 ? options.threads : WorkerPool.activeCores()
        let perImage = images.isEmpty || images.count >= threads ? options.coreThreads : max(options.coreThreads, threads / images.count)
        return WorkerPool.map(images.count, threads: options.threads, progress: progress) {
            emulate(frames: [images[$0]], stepsPerFrame: options.durationMs, coreThreads: perImage)
        }
    }

    /// One worker's share of step t: its cores, chip by chip — deliver, then integrate/fire and route.
    func step(_ group: [Int], _ st: UnsafeMutableBufferPointer<CoreState>, aroused: Bool, step t: Int, _ sink: inout WorkerSink, _ tally: inout LayerTally) {
        for c in group {
            sink.chip = chipOfCore[c]
            CoreStages.deliver(net.cores[c], &st[c], net.numerics.rounding, &tally)
            CoreStages.integrateAndFire(c, net.cores[c], &st[c], net, aroused: aroused, step: t, &tally, &sink)
        }
    }

    /// The cores each of `workers` threads steps: contiguous in chip order, balanced by the
    /// work they hold (compartment updates and synapses).
    func coreGroups(_ workers: Int, cores order: [Int]) -> [[Int]] {
        let cost = order.map { net.cores[$0].work }
        let total = cost.reduce(0, +)
        var groups = [[Int]](repeating: [], count: workers)
        var sum = 0
        for (i, c) in order.enumerated() {
            groups[min(workers - 1, sum * workers / max(total, 1))].append(c)
            sum += cost[i]
        }
        return groups
    }

    /// One image from a fresh state, for `options.durationMs` steps.
    public func emulate(_ image: [Double], recordRaster: Bool = false) -> EmulatedImage {
        emulate(frames: [image], stepsPerFrame: options.durationMs, recordRaster: recordRaster)
    }

    /// A sequence of samples, each shown for `stepsPerFrame` steps, from a fresh state and
    /// without any reset between frames (the streaming experiment): only the host currents
    /// change at a frame boundary. `classes` has one entry per step of the whole sequence.
    /// `trace`: called after every step with the step and the states of the cores (tracing).
    /// `coreThreads`: threads that step the cores within each step (default: the options').
    /// `processes`: this process steps only `processes.chips`; packets between processes go
    /// through its exchange and every per-step and per-run total through its collective, so each
    /// process returns the same result as one process stepping every chip (raster: local only).
    public func emulate(frames: [[Double]], stepsPerFrame: Int, recordRaster: Bool = false, coreThreads: Int? = nil,
                        processes: ProcessShare? = nil, trace: ((Int, CoreTrace) -> Void)? = nil) -> EmulatedImage {
        let L = net.layers
        let cores = net.cores
        let nc = cores.count
        let totalSteps = frames.count * stepsPerFrame
        var states = cores.map { CoreState($0, L) }
        var host = Host(net, arousal: frames.count == 1)
        let localChips = processes?.chips ?? Array(net.chips.indices)
        var exchange: any SpikeExchange = processes?.exchange ?? InProcessExchange(chipOfCore: chipOfCore, chips: net.chips.count)
        var collective = processes?.collective
        let localCores = localChips.flatMap { net.chips[$0] }
        let W = max(1, min(coreThreads ?? options.coreThreads, max(1, localCores.count)))
        let groups = coreGroups(W, cores: localCores)
        var sinks = (0..<W).map { _ in WorkerSink(chipOfCore: chipOfCore, chips: net.chips.count) }
        var tallies = (0..<W).map { _ in LayerTally(layers: L.count, raster: recordRaster) }
        var tally = LayerTally(layers: L.count, raster: recordRaster)
        var cycles = CycleObserver(net, cores: localCores)
        var classes = [Int32](repeating: 0, count: totalSteps)
        var overflows = [Int](repeating: 0, count: L.count)
        var failure: (String, Int)? = nil
        var eventsPerFrame: [Int] = []
        var events = 0, eventsAtFrameStart = 0
        var spikesSoFar: [Int] = []
        spikesSoFar.reserveCapacity(totalSteps)
        for t in 0..<totalSteps {
            if t % stepsPerFrame == 0 {
                host.inject(host.encode(frames[t / stepsPerFrame]), &states)
                if t > 0 { eventsPerFrame.append(events - eventsAtFrameStart); eventsAtFrameStart = events }
            }
            let aroused = host.aroused
            // Every worker steps its cores.
            states.withUnsafeMutableBufferPointer { st in
                if W == 1 { return step(groups[0], st, aroused: aroused, step: t, &sinks[0], &tallies[0]) }
                sinks.withUnsafeMutableBufferPointer { sk in
                    tallies.withUnsafeMutableBufferPointer { tl in
                        nonisolated(unsafe) let st = st, sk = sk, tl = tl
                        DispatchQueue.concurrentPerform(iterations: W) { w in step(groups[w], st, aroused: aroused, step: t, &sk[w], &tl[w]) }
                    }
                }
            }
            for w in 0..<W { tally.absorb(&tallies[w]) }
            spikesSoFar.append(tally.spikes.reduce(0, &+))
            // The spike exchange (each chip's packets for other chips, workers in order), then
            // next step's inboxes: same-chip packets (workers in order), then the exchange's.
            for k in localChips {
                if W == 1 {
                    exchange.send(fromChip: k, sinks[0].outgoing[k])
                } else {
                    var merged = OutgoingPackets()
                    for w in 0..<W {
                        merged.destCore.append(contentsOf: sinks[w].outgoing[k].destCore)
                        merged.packets.append(contentsOf: sinks[w].outgoing[k].packets)
                    }
                    exchange.send(fromChip: k, merged)
                }
                for w in 0..<W { sinks[w].outgoing[k].removeAll() }
            }
            exchange.exchange()
            for k in localChips {
                let chipCores = net.chips[k]
                let incoming = exchange.receive(chip: k)
                if W == 1 {
                    for (i, dc) in incoming.destCore.enumerated() { sinks[0].nextInbox[Int(dc)].append(incoming.packets[i]) }
                    for c in chipCores { swap(&states[c].inbox, &sinks[0].nextInbox[c]) }
                } else {
                    for c in chipCores {
                        for w in 0..<W where !sinks[w].nextInbox[c].isEmpty {
                            states[c].inbox.append(contentsOf: sinks[w].nextInbox[c])
                            sinks[w].nextInbox[c].removeAll(keepingCapacity: true)
                        }
                    }
                    for (i, dc) in incoming.destCore.enumerated() { states[Int(dc)].inbox.append(incoming.packets[i]) }
                }
            }
            // The host: readout, class, arousal. Over processes: one sum of the readout's
            // accumulators, the layers' overflow flags and the step's synaptic events.
            var sums = host.readoutSums(&states)
            var stepEvents = 0
            for c in localCores { stepEvents += states[c].counters.synapticEvents }
            if collective != nil {
                let r = sums.count
                sums += L.indices.map { tally.overflowedThisStep[$0] ? 1 : 0 } + [Int64(stepEvents)]
                collective!.sum(&sums)
                for li in L.indices { tally.overflowedThisStep[li] = sums[r + li] > 0 }
                stepEvents = Int(sums[r + L.count])
                sums.removeLast(L.count + 1)
            }
            classes[t] = host.readout(step: t, sums: sums)
            events += stepEvents
            cycles.observe(&states)
            trace?(t, CoreTrace(states: states, emulator: self))
            for li in L.indices where tally.overflowedThisStep[li] {
                overflows[li] += 1
                if options.strict && failure == nil { failure = (L[li].name, t) }
                tally.overflowedThisStep[li] = false
            }
            if options.strict && failure != nil {
                classes.removeLast(totalSteps - t - 1)
                break
            }
        }
        eventsPerFrame.append(events - eventsAtFrameStart)
        if collective != nil {
            // The run's totals over processes: per-layer tallies, then the cycle model.
            var v = (tally.spikes + tally.axonEvents + tally.synapticEvents + tally.packetsOut).map(Int64.init)
            collective!.sum(&v)
            let n = L.count
            tally.spikes = v[0..<n].map { Int($0) }; tally.axonEvents = v[n..<(2 * n)].map { Int($0) }
            tally.synapticEvents = v[(2 * n)..<(3 * n)].map { Int($0) }; tally.packetsOut = v[(3 * n)..<(4 * n)].map { Int($0) }
            cycles.combine(&collective!)
            var s = spikesSoFar.map(Int64.init)
            collective!.sum(&s)
            spikesSoFar = s.map { Int($0) }
        }
        cycles.finish()
        let raster = tally.raster.map { r in r.map { $0.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 } } }
        let steps = classes.count
        return EmulatedImage(classes: classes, spikesPerLayer: tally.spikes, synapticEvents: events, overflowsPerLayer: overflows,
                             strictFailure: failure.map { (layer: $0.0, step: $0.1) }, raster: raster, coreCycles: cycles.coreCycles,
                             slowestCoreCycles: cycles.slowestSum, worstStepCycles: cycles.worstStep, worstStepHops: cycles.worstHops, stepsOverBudget: cycles.overBudget,
                             packets: cycles.packets, packetHops: cycles.packetHops, neuronUpdates: cycles.neuronUpdates, eventsPerFrame: eventsPerFrame,
                             aroused: host.aroused, layerCycles: cycles.layerCycles(tally, steps: steps), energySoFarPJ: cycles.energySoFar,
                             spikesSoFar: Array(spikesSoFar.prefix(steps)))
    }
}

/// The cycle model (Docs/core-timing.md), observing each core's counters after every step: a
/// core's cycles are its overhead plus its axon events, synaptic events, compartment updates and
/// packets sent at their profile costs; the step takes the slowest core plus the longest route.
struct CycleObserver {
    let net: EmuNetwork
    let tm: EmuTiming
    let budget: Double
    /// The cores this process steps.
    let cores: [Int]
    var coreCycles: [Double]
    /// Per step: the slowest core's cycles and the longest route's hops (over processes: maxima).
    var stepSlowest: [Double] = [], stepHops: [Double] = []
    /// Per step: this process's synaptic events, compartment updates and packet hops in it, flat;
    /// `finish` turns their running sums into the energy so far (pJ).
    var stepCounts: [Int64] = []
    var energySoFar: [Double] = []
    let payloadBits: Int
    var slowestSum = 0.0, worstStep = 0.0, worstHops = 0, overBudget = 0, packets = 0, packetHops = 0, neuronUpdates = 0

    init(_ net: EmuNetwork, cores: [Int]) {
        self.net = net
        self.cores = cores
        tm = net.timing
        budget = tm.timestepUs * 1e-6 * tm.clockHz
        coreCycles = [Double](repeating: 0, count: net.cores.count)
        payloadBits = net.layers.contains { $0.graded } ? tm.payloadBits : 0
    }

    mutating func observe(_ states: inout [CoreState]) {
        var slowest = 0.0, hops = 0
        var synaptic = 0, updates = 0, hopsThisStep = 0
        for c in cores {
            let k = states[c].counters
            let cyc = CycleModel.coreCycles(stepOverhead: tm.stepOverhead, axonEvent: tm.axonEvent, synapticOp: tm.synapticOp,
                                            neuronUpdate: tm.neuronUpdate, spikeOut: tm.spikeOut, axonEvents: Double(k.axonEvents),
                                            synapticOps: Double(k.synapticEvents), compartments: Double(net.cores[c].compartments),
                                            packetsOut: Double(k.packetsOut))
            coreCycles[c] += cyc
            slowest = max(slowest, cyc)
            packets += k.packetsOut
            packetHops += k.hops
            hops = max(hops, k.maxHops)
            neuronUpdates += net.cores[c].compartments
            synaptic += k.synapticEvents
            updates += net.cores[c].compartments
            hopsThisStep += k.hops
            states[c].counters = CoreCounters()
        }
        stepCounts += [Int64(synaptic), Int64(updates), Int64(hopsThisStep)]
        stepSlowest.append(slowest)
        stepHops.append(Double(hops))
    }

    /// Over processes: each core's cycles are one process's (the others hold 0), per-step maxima,
    /// summed counts.
    mutating func combine(_ g: inout any Collective) {
        g.sum(&coreCycles)
        g.max(&stepSlowest)
        g.max(&stepHops)
        g.sum(&stepCounts)
        var v = [Int64(packets), Int64(packetHops), Int64(neuronUpdates)]
        g.sum(&v)
        (packets, packetHops, neuronUpdates) = (Int(v[0]), Int(v[1]), Int(v[2]))
    }

    /// The step totals, in step order: Σ slowest, the worst step (slowest core + longest route)
    /// and the steps over the profile's timestep.
    mutating func finish() {
        var total: (Int64, Int64, Int64) = (0, 0, 0)
        energySoFar = stride(from: 0, to: stepCounts.count - 2, by: 3).map { i in
            total = (total.0 &+ stepCounts[i], total.1 &+ stepCounts[i + 1], total.2 &+ stepCounts[i + 2])
            return CycleModel.energyPJ(synapticOpPJ: tm.synapticOpPJ, neuronUpdatePJ: tm.neuronUpdatePJ, spikeHopPJ: tm.spikeHopPJ, payloadBitPJ: tm.payloadBitPJ,
                                       synapticOps: Double(total.0), neuronUpdates: Double(total.1), packetHops: Double(total.2), payloadBits: payloadBits)
        }
        for (slowest, h) in zip(stepSlowest, stepHops) {
            let hops = Int(h)
            let stepCycles = slowest + Double(hops) * tm.hopLatencyNs * 1e-9 * tm.clockHz
            slowestSum += slowest
            if stepCycles > worstStep { worstStep = stepCycles; worstHops = hops }
            if tm.hasCycles && stepCycles > budget { overBudget += 1 }
        }
    }

    /// Per layer: its axon events, synaptic events, packets sent and compartment updates (dendrite
    /// blocks included) at their costs, over the run.
    func layerCycles(_ t: LayerTally, steps: Int) -> [Double] {
        var comps = [Int](repeating: 0, count: net.layers.count)
        for p in net.cores { for b in p.blocks { comps[b.layer] += b.count } }
        return net.layers.indices.map { li in
            tm.axonEvent * Double(t.axonEvents[li]) + tm.synapticOp * Double(t.synapticEvents[li]) + tm.spikeOut * Double(t.packetsOut[li])
                + tm.neuronUpdate * Double(comps[li]) * Double(steps)
        }
    }
}

/// The cores' state after a step, for `--trace`.
public struct CoreTrace {
    let states: [CoreState]
    let emulator: Emulator

    /// Core c's compartments (layer, layer compartment, I, S) and neurons (layer, layer neuron, Ŝ, ϑ).
    public func state(core c: Int) -> (compartments: [(layer: Int, index: Int, I: Int64, S: Int64)], neurons: [(layer: Int, index: Int, sHat: Int64, theta: Int64)]) {
        let s = states[c]
        var comps: [(layer: Int, index: Int, I: Int64, S: Int64)] = [], neurons: [(layer: Int, index: Int, sHat: Int64, theta: Int64)] = []
        for b in emulator.net.cores[c].blocks where !b.dendrite {
            for j in 0..<b.count { comps.append((b.layer, Int(b.layerCompartment[j]), s.I[b.base + j], s.S[b.base + j])) }
            for n in 0..<b.neurons { neurons.append((b.layer, Int(b.layerNeuron[n]), s.sHat[b.neuronBase + n], s.theta[b.neuronBase + n])) }
        }
        return (comps, neurons)
    }
}
