// The cycle-by-cycle emulator: every step, each core applies the spikes its input axons received
// (synapse memory from the artefact), every neuron is updated in fixed point
// (FixedPointASN.swift, Docs/fixed-point.md), and each spike is looked up in its core's output
// axon table and delivered to (core, axon) for the next step — one hop delay per step,
// barrier-synchronised. Integer sums do not depend on order, and images run independently, so
// results are bit-identical for any thread count.
import Dispatch
import Synchronization
import SNNCIR

public struct EmulationOptions: Sendable {
    public var durationMs = 500
    public var threads = 0
    /// Stop at the first overflow instead of counting it.
    public var strict = false
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
}

public final class Emulator: Sendable {
    public let net: EmuNetwork
    public let options: EmulationOptions
    /// For each pooled layer, each neuron's compartments (global indices).
    let poolStart: [[Int32]]
    let poolIndex: [[Int32]]
    /// Accumulators of all layers' compartments, then all dendrite blocks', in one array.
    let layerOffset: [Int]
    let dendriteOffset: [Int]
    let accumulators: Int
    /// Per core, the axon range of each input axon.
    let rangeOfAxon: [[Int32]]

    public init(_ net: EmuNetwork, options: EmulationOptions) {
        self.net = net
        self.options = options
        var ps: [[Int32]] = [], pi: [[Int32]] = []
        for l in net.layers {
            guard let p = l.pool else { ps.append([]); pi.append([]); continue }
            var s: [Int32] = [0], idx: [Int32] = []
            for oy in 0..<l.h { for ox in 0..<l.w { for c in 0..<l.c {
                for ky in 0..<p.kh {
                    let iy = oy * p.sh - p.pt + ky
                    if iy < 0 || iy >= l.ch { continue }
                    for kx in 0..<p.kw {
                        let ix = ox * p.sw - p.pl + kx
                        if ix < 0 || ix >= l.cw { continue }
                        idx.append(Int32((iy * l.cw + ix) * l.c + c))
                    }
                }
                s.append(Int32(idx.count))
            } } }
            ps.append(s)
            pi.append(idx)
        }
        poolStart = ps
        poolIndex = pi
        var off = 0
        var lo: [Int] = [], doff: [Int] = []
        for l in net.layers { lo.append(off); off += l.compartments }
        for d in net.dendrites { doff.append(off); off += d.compartments }
        layerOffset = lo
        dendriteOffset = doff
        accumulators = off
        rangeOfAxon = net.cores.map { c in
            var r = [Int32](repeating: 0, count: max(0, c.synStart.count - 1))
            for (k, range) in c.ranges.enumerated() { for a in range.lo..<range.hi { r[a] = Int32(k) } }
            return r
        }
    }

    public func run(images: [[Double]], progress: (@Sendable (Int) -> Void)? = nil) -> [EmulatedImage] {
        let n = images.count
        let threads = max(1, min(options.threads > 0 ? options.threads : 2, n))
        let results = Mutex([EmulatedImage?](repeating: nil, count: n))
        let next = Atomic<Int>(0), done = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= n { break }
                let r = emulate(images[i])
                results.withLock { $0[i] = r }
                progress?(done.add(1, ordering: .relaxed).newValue)
            }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// One image from a fresh state, for `options.durationMs` steps.
    public func emulate(_ image: [Double], recordRaster: Bool = false) -> EmulatedImage {
        emulate(frames: [image], stepsPerFrame: options.durationMs, recordRaster: recordRaster)
    }

    /// The host currents of the input layers for one sample: round(host(x) / 2^s) per
    /// compartment (`nearest-even`), host(x) the layer's host encoding.
    func hostCurrents(_ image: [Double]) -> [[Int64]] {
        net.layers.map { l in
            guard l.kind == .injected else { return [] }
            let lsb = pow2(l.stateExponent)
            let chained = l.hostSteps.isEmpty ? [] : l.hostSteps.reduce(image) { $1.apply($0) }
            return (0..<l.compartments).map { j in
                let v: Double
                if !l.hostSteps.isEmpty {
                    v = j < chained.count ? chained[j] : 0
                } else {
                    let x = j < image.count ? image[j] : 0
                    let ch = j % l.c
                    v = l.hostScale.isEmpty ? x : x * l.hostScale[ch % l.hostScale.count] + l.hostShift[ch % l.hostShift.count]
                }
                return saturatingInt64((v / lsb).rounded(.toNearestOrEven))
            }
        }
    }

    /// A sequence of samples, each shown for `stepsPerFrame` steps, from a fresh state and
    /// without any reset between frames (the streaming experiment): only the host currents
    /// change at a frame boundary. `classes` has one entry per step of the whole sequence.
    public func emulate(frames: [[Double]], stepsPerFrame: Int, recordRaster: Bool = false) -> EmulatedImage {
        let L = net.layers
        let num = net.numerics
        let totalSteps = frames.count * stepsPerFrame
        var eventsPerFrame: [Int] = []
        var eventsAtFrameStart = 0
        var I = L.map { [Int64](repeating: 0, count: $0.compartments) }
        var S = I
        var accAll = [Int64](repeating: 0, count: accumulators)
        var sHat = L.map { [Int64](repeating: 0, count: $0.neurons) }
        var thDyn = sHat
        var theta = L.enumerated().map { [Int64](repeating: $0.element.constants.theta0, count: $0.element.neurons) }
        // Readout (host side, float).
        var rI = L.map { $0.kind == .readout ? [Double](repeating: 0, count: $0.compartments) : [] }
        var rS = rI, racc = rI
        // Dendrite blocks of the readout accumulate in float.
        var rdacc = net.dendrites.map { L[$0.layer].kind == .readout ? [Double](repeating: 0, count: $0.compartments) : [] }
        // Host currents of input layers, computed at the start of every frame.
        var host: [[Int64]] = L.map { _ in [] }
        // Readout constants: the source layer's τ_β (as its k-bit multiplier), its own τ_φ.
        let readoutAlpha: [(Double, Double)] = L.map { l in
            guard l.kind == .readout, let src = l.inputs.first?.source else { return (0, 0) }
            let s = L[src].constants
            return (Double(s.alphaBeta) / Double(1 << s.k), exp(-1 / l.readoutTauPhi))
        }
        let nc = net.cores.count
        var axonEvents = [Int](repeating: 0, count: nc), synOps = [Int](repeating: 0, count: nc), spikesOut = [Int](repeating: 0, count: nc)
        var coreCycles = [Double](repeating: 0, count: nc)
        var slowestSum = 0.0, worstStep = 0.0, worstHops = 0, overBudget = 0, packets = 0, packetHops = 0, neuronUpdates = 0
        let tm = net.timing
        let budget = tm.timestepUs * 1e-6 * tm.clockHz
        func hops(_ a: Int, _ b: Int) -> Int {
            let p = net.position[a], q = net.position[b]
            return abs(p.row - q.row) + abs(p.col - q.col)
        }
        var stepMaxHops = 0
        var layerWork = [Double](repeating: 0, count: L.count)
        let layerOfRange = { (target: Int) -> Int in target >= 0 ? target : self.net.dendrites[-1 - target].layer }
        var inbox = [[(Int32, Int64)]](repeating: [], count: net.cores.count)
        var nextInbox = inbox
        var classes = [Int32](repeating: 0, count: totalSteps)
        var spikes = [Int](repeating: 0, count: L.count)
        var overflows = [Int](repeating: 0, count: L.count)
        var events = 0
        var failure: (String, Int)? = nil
        var raster: [[(Int, Int)]]? = recordRaster ? L.map { _ in [] } : nil
        // Arousal (single inputs only; Docs/fixed-point.md): the host sums the readout gap over
        // the window and, below θ_A, writes the ϑ0_hp registers and the input gains.
        let arousal = frames.count == 1 ? net.arousal : nil
        var evidence = 0.0, aroused = false
        var readoutValues = [Double]()
        for t in 0..<totalSteps {
            if t % stepsPerFrame == 0 {
                host = hostCurrents(frames[t / stepsPerFrame])
                if t > 0 { eventsPerFrame.append(events - eventsAtFrameStart); eventsAtFrameStart = events }
            }
            // 1. Each core applies the spikes its axons received.
            for c in 0..<net.cores.count where !inbox[c].isEmpty {
                let core = net.cores[c]
                let ranges = rangeOfAxon[c]
                let eventsBefore = events
                axonEvents[c] += inbox[c].count
                accAll.withUnsafeMutableBufferPointer { acc in
                    core.synTarget.withUnsafeBufferPointer { tg in
                        core.synWeight.withUnsafeBufferPointer { wt in
                            for (axon, payload) in inbox[c] {
                                let a = Int(axon)
                                let range = core.ranges[Int(ranges[a])]
                                let lo = Int(core.synStart[a]), hi = Int(core.synStart[a + 1])
                                events += hi - lo
                                layerWork[layerOfRange(range.target)] += tm.axonEvent + tm.synapticOp * Double(hi - lo)
                                let base = range.target >= 0 ? layerOffset[range.target] : dendriteOffset[-1 - range.target]
                                switch range.mode {
                                case .binary:
                                    for k in lo..<hi { acc[base + Int(tg[k])] &+= Int64(wt[k]) }
                                case .graded(let shift):
                                    for k in lo..<hi { acc[base + Int(tg[k])] &+= FixedPointASN.rshift(Int64(wt[k]) &* payload, -shift, num.rounding) }
                                case .partial:
                                    for k in lo..<hi { acc[base + Int(tg[k])] &+= payload }
                                case .readoutBinary(let scale):
                                    if range.target >= 0 {
                                        for k in lo..<hi { racc[range.target][Int(tg[k])] += Double(wt[k]) * scale }
                                    } else {
                                        for k in lo..<hi { rdacc[-1 - range.target][Int(tg[k])] += Double(wt[k]) * scale }
                                    }
                                case .readoutGraded(let scale):
                                    if range.target >= 0 {
                                        for k in lo..<hi { racc[range.target][Int(tg[k])] += Double(wt[k]) * scale * Double(payload) }
                                    } else {
                                        for k in lo..<hi { rdacc[-1 - range.target][Int(tg[k])] += Double(wt[k]) * scale * Double(payload) }
                                    }
                                case .readoutPartial:
                                    let v = Double(bitPattern: UInt64(bitPattern: payload))
                                    for k in lo..<hi { racc[range.target][Int(tg[k])] += v }
                                }
                            }
                        }
                    }
                }
                synOps[c] += events - eventsBefore
                inbox[c].removeAll(keepingCapacity: true)
            }
            // Dendrite blocks send this step's partial currents to their somas.
            for (d, db) in net.dendrites.enumerated() {
                let core = net.cores[db.core]
                if L[db.layer].kind == .readout {
                    for j in 0..<db.compartments where rdacc[d][j] != 0 {
                        let o = db.firstOutput + j
                        let bits = Int64(bitPattern: rdacc[d][j].bitPattern)
                        for e in Int(core.outStart[o])..<Int(core.outStart[o + 1]) {
                            nextInbox[Int(core.outCore[e])].append((core.outAxon[e], bits))
                            let hh = hops(db.core, Int(core.outCore[e]))
                            packetHops += hh; stepMaxHops = max(stepMaxHops, hh)
                        }
                        spikesOut[db.core] += Int(core.outStart[o + 1] - core.outStart[o])
                        layerWork[db.layer] += tm.spikeOut * Double(core.outStart[o + 1] - core.outStart[o])
                        rdacc[d][j] = 0
                    }
                    continue
                }
                let off = dendriteOffset[d]
                for j in 0..<db.compartments where accAll[off + j] != 0 {
                    let o = db.firstOutput + j
                    for e in Int(core.outStart[o])..<Int(core.outStart[o + 1]) {
                        nextInbox[Int(core.outCore[e])].append((core.outAxon[e], accAll[off + j]))
                        let hh = hops(db.core, Int(core.outCore[e]))
                        packetHops += hh; stepMaxHops = max(stepMaxHops, hh)
                    }
                    spikesOut[db.core] += Int(core.outStart[o + 1] - core.outStart[o])
                    layerWork[db.layer] += tm.spikeOut * Double(core.outStart[o + 1] - core.outStart[o])
                    accAll[off + j] = 0
                }
            }
            // 2. Every layer's neurons, in fixed point.
            for (li, l) in L.enumerated() {
                if l.kind == .readout {
                    let (ab, ap) = readoutAlpha[li]
                    let gain = aroused ? l.readoutArousalGain : 1
                    for j in 0..<l.compartments {
                        rI[li][j] = ab * rI[li][j] + gain * racc[li][j]
                        racc[li][j] = 0
                        rS[li][j] = (1 - ap) * rI[li][j] + ap * rS[li][j]
                    }
                    var best = 0
                    for j in 1..<max(1, l.compartments) where l.biasFloat[j] + rS[li][j] > l.biasFloat[best] + rS[li][best] { best = j }
                    classes[t] = Int32(best)
                    if let a = arousal, t >= a.startMs, t <= a.decisionStep {
                        readoutValues = (0..<l.compartments).map { l.biasFloat[$0] + rS[li][$0] }
                        evidence += Arousal.gap(readoutValues)
                        if t == a.decisionStep && evidence <= a.threshold { aroused = true }
                    }
                    continue
                }
                var over = false
                let k = aroused ? (l.arousedConstants ?? l.constants) : l.constants
                let gain: Int64? = aroused && l.arousedConstants != nil ? l.arousalGain : nil
                let injected = l.kind == .injected
                let off = layerOffset[li]
                I[li].withUnsafeMutableBufferPointer { Ib in
                    S[li].withUnsafeMutableBufferPointer { Sb in
                        for j in 0..<l.compartments {
                            let input = gain.map { FixedPointASN.mul($0, accAll[off + j], k.k, num.rounding) } ?? accAll[off + j]
                            FixedPointASN.integrate(I: &Ib[j], S: &Sb[j], input: input, host: injected ? host[li][j] : nil, k, num, &over)
                            accAll[off + j] = 0
                        }
                    }
                }
                let pooled = l.pool != nil
                for n in 0..<l.neurons {
                    var a: Int64
                    if pooled {
                        a = Int64.min
                        for q in Int(poolStart[li][n])..<Int(poolStart[li][n + 1]) {
                            let ci = Int(poolIndex[li][q])
                            a = max(a, l.bias[ci] &+ S[li][ci])
                        }
                    } else {
                        a = l.bias[n] &+ S[li][n]
                    }
                    guard let payload = FixedPointASN.fire(sHat: &sHat[li][n], thetaDyn: &thDyn[li][n], theta: &theta[li][n], activation: a, k, num, &over) else { continue }
                    spikes[li] += 1
                    raster?[li].append((t, n))
                    let (c, o) = net.outputOf[li][n]
                    if c < 0 { continue }
                    let core = net.cores[Int(c)]
                    let p = l.graded ? FixedPointASN.payload(payload, k, num, &over) : payload
                    for e in Int(core.outStart[Int(o)])..<Int(core.outStart[Int(o) + 1]) {
                        nextInbox[Int(core.outCore[e])].append((core.outAxon[e], p))
                        let hh = hops(Int(c), Int(core.outCore[e]))
                        packetHops += hh; stepMaxHops = max(stepMaxHops, hh)
                    }
                    spikesOut[Int(c)] += Int(core.outStart[Int(o) + 1] - core.outStart[Int(o)])
                    layerWork[li] += tm.spikeOut * Double(core.outStart[Int(o) + 1] - core.outStart[Int(o)])
                }
                if over {
                    overflows[li] += 1
                    if options.strict && failure == nil { failure = (l.name, t) }
                }
            }
            // Cycle model: each core's work this step; the step takes the slowest core plus the
            // longest route's hops.
            var slowest = 0.0
            for c in 0..<nc {
                let cyc = tm.stepOverhead + tm.axonEvent * Double(axonEvents[c]) + tm.synapticOp * Double(synOps[c])
                    + tm.neuronUpdate * Double(net.compartmentsOnCore[c]) + tm.spikeOut * Double(spikesOut[c])
                coreCycles[c] += cyc
                slowest = max(slowest, cyc)
                packets += spikesOut[c]
                neuronUpdates += net.compartmentsOnCore[c]
                axonEvents[c] = 0; synOps[c] = 0; spikesOut[c] = 0
            }
            let stepCycles = slowest + Double(stepMaxHops) * tm.hopLatencyNs * 1e-9 * tm.clockHz
            slowestSum += slowest
            if stepCycles > worstStep { worstStep = stepCycles; worstHops = stepMaxHops }
            if tm.hasCycles && stepCycles > budget { overBudget += 1 }
            stepMaxHops = 0
            swap(&inbox, &nextInbox)
            if options.strict && failure != nil { break }
        }
        eventsPerFrame.append(events - eventsAtFrameStart)
        let steps = Double(classes.count)
        for (li, l) in L.enumerated() { layerWork[li] += tm.neuronUpdate * Double(l.compartments) * steps }
        for d in net.dendrites { layerWork[d.layer] += tm.neuronUpdate * Double(d.compartments) * steps }
        return EmulatedImage(classes: classes, spikesPerLayer: spikes, synapticEvents: events, overflowsPerLayer: overflows,
                             strictFailure: failure.map { (layer: $0.0, step: $0.1) }, raster: raster, coreCycles: coreCycles,
                             slowestCoreCycles: slowestSum, worstStepCycles: worstStep, worstStepHops: worstHops, stepsOverBudget: overBudget,
                             packets: packets, packetHops: packetHops, neuronUpdates: neuronUpdates, eventsPerFrame: eventsPerFrame, aroused: aroused, layerCycles: layerWork)
    }
}

#if canImport(Glibc)
import Glibc
#endif
