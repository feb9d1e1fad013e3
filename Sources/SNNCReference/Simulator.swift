// The float reference simulator: the lowered spiking network stepped in float64, layer by layer
// in topological order each 1 ms step, spikes delivered event-driven (work ∝ spikes × fan-out).
// Images run in parallel on all cores; each image's result depends on that image alone, so
// results are identical for any thread count.
import Dispatch
import Synchronization
import SNNCIR

public struct SimulationOptions: Sendable {
    public var durationMs = 500
    /// Steps between a spike and its arrival at the next layer: 0 (the authors' code) or 1 (hardware).
    public var hopDelay = 0
    public var threads = 0  // 0: all cores
    /// Keep each neuron's spike count (ImageResult.neuronSpikes).
    public var recordNeuronSpikes = false
    /// Keep every spike as (step, neuron) per layer (ImageResult.raster).
    public var recordRaster = false
    /// Arousal (the paper's attention): with a Simulator given the network at ϑ0_hp.
    public var arousal: Arousal?
    /// Keep each layer's largest |I|, |S|, Ŝ and ϑ over the run (ImageResult.stateRanges;
    /// `snnc compile --calibrate`).
    public var recordRanges = false
    /// Keep the spikes and synaptic events so far after every step (ImageResult.spikesSoFar,
    /// .eventsSoFar; `snnc compare`).
    public var recordCounts = false
    public init() {}
}

/// What one image produced.
public struct ImageResult: Sendable {
    /// The readout's class at every step.
    public var classes: [Int32]
    public var spikesPerLayer: [Int]
    public var synapticEvents: Int
    public var finalReadout: [Double]
    /// Per layer, per neuron spike counts (only with `recordNeuronSpikes`).
    public var neuronSpikes: [[Int32]]?
    /// Per layer, every spike as (step, neuron) in order (only with `recordRaster`).
    public var raster: [[SpikeEvent]]?
    /// The readout's values at every step (only with `recordRaster`).
    public var readoutTrace: [[Double]]?
    /// Arousal: whether this input switched the network to ϑ0_hp, and the summed readout gap
    /// at the decision.
    public var aroused = false
    public var arousalEvidence = 0.0
    /// The summed gap after each step of the window (for `snnc calibrate-arousal`).
    public var arousalTrace: [Double] = []
    /// Per layer, the largest register magnitudes reached (only with `recordRanges`; zero for
    /// the readout).
    public var stateRanges: [StateRange]?
    /// Spikes of every spiking layer, and synaptic events, from the start to the end of each
    /// step (only with `recordCounts`).
    public var spikesSoFar: [Int]?
    public var eventsSoFar: [Int]?

    public init(classes: [Int32], spikesPerLayer: [Int], synapticEvents: Int, finalReadout: [Double] = [],
                neuronSpikes: [[Int32]]? = nil, raster: [[SpikeEvent]]? = nil, readoutTrace: [[Double]]? = nil) {
        self.classes = classes
        self.spikesPerLayer = spikesPerLayer
        self.synapticEvents = synapticEvents
        self.finalReadout = finalReadout
        self.neuronSpikes = neuronSpikes
        self.raster = raster
        self.readoutTrace = readoutTrace
    }
}

public struct SpikeEvent: Sendable, Equatable, CustomStringConvertible {
    public var step: Int32
    public var neuron: Int32
    public init(step: Int32, neuron: Int32) {
        self.step = step
        self.neuron = neuron
    }
    public var description: String { "\(step):\(neuron)" }
}

public final class Simulator: Sendable {
    public let network: SpikingNetwork
    public let options: SimulationOptions
    /// With `options.arousal`: the same network at ϑ0_hp (same structure, other constants and h).
    public let aroused: SpikingNetwork?

    public init(network: SpikingNetwork, options: SimulationOptions, aroused: SpikingNetwork? = nil) {
        self.network = network
        self.options = options
        self.aroused = aroused
    }

    /// Runs every image; `progress` is called with the number of images done so far.
    public func run(images: [[Double]], progress: (@Sendable (Int) -> Void)? = nil) -> [ImageResult] {
        WorkerPool.map(images.count, threads: options.threads, progress: progress, state: { NetworkState(network) }) { i, state in simulate(images[i], &state) }
    }

    /// One image, from a fresh state.
    public func simulate(_ image: [Double]) -> ImageResult {
        var state = NetworkState(network)
        return simulate(image, &state)
    }

    func simulate(_ image: [Double], _ st: inout NetworkState) -> ImageResult {
        simulate(frames: [image], stepsPerFrame: options.durationMs, &st).result
    }

    /// Streaming (the second seed's experiment): the frames one after another, each for
    /// `stepsPerFrame` steps, with no reset between them. Classes are per step over the whole
    /// sequence; synaptic events are also counted per frame.
    public func stream(frames: [[Double]], stepsPerFrame: Int) -> (result: ImageResult, eventsPerFrame: [Int]) {
        var state = NetworkState(network)
        return simulate(frames: frames, stepsPerFrame: stepsPerFrame, &state)
    }

    func simulate(frames: [[Double]], stepsPerFrame: Int, _ st: inout NetworkState) -> (result: ImageResult, eventsPerFrame: [Int]) {
        st.reset(network)
        st.ranges = options.recordRanges ? [StateRange](repeating: StateRange(), count: network.layers.count) : nil
        var layers = network.layers
        let pm = network.prepared
        // Arousal (single inputs only): the readout gap summed over the window, then the switch.
        let arousal = frames.count == 1 && aroused != nil ? options.arousal : nil
        var evidence = 0.0, switched = false
        var trace: [Double] = []
        // Injected currents: the analog chain from the input, computed once per frame.
        func currents(_ image: [Double]) -> [[Double]] {
            var memo: [Int: [Double]] = [:]
            for (i, op) in pm.ops.enumerated() { if case .input = op { memo[i] = image } }
            var injected = [[Double]](repeating: [], count: layers.count)
            for (li, l) in layers.enumerated() {
                if case .injected(let pre) = l.kind { injected[li] = pm.value(pre, &memo) }
            }
            return injected
        }
        var injected = currents(frames.first ?? [])
        let totalSteps = stepsPerFrame * frames.count
        var eventsPerFrame = [Int](repeating: 0, count: frames.count)
        var classes = [Int32](repeating: 0, count: totalSteps)
        var spikes = [Int](repeating: 0, count: layers.count)
        var events = 0
        var fired: [(Int32, Double)] = []
        var perNeuron: [[Int32]]? = options.recordNeuronSpikes ? layers.map { [Int32](repeating: 0, count: $0.neurons) } : nil
        var raster: [[SpikeEvent]]? = options.recordRaster ? layers.map { _ in [] } : nil
        var readoutTrace: [[Double]]? = options.recordRaster ? [] : nil
        var spikesSoFar: [Int]? = options.recordCounts ? [] : nil, eventsSoFar: [Int]? = options.recordCounts ? [] : nil
        for t in 0..<totalSteps {
            defer {
                spikesSoFar?.append(spikes.reduce(0, +))
                eventsSoFar?.append(events)
            }
            if t > 0 && t % stepsPerFrame == 0 {
                eventsPerFrame[t / stepsPerFrame - 1] = events - eventsPerFrame.reduce(0, +)
                injected = currents(frames[t / stepsPerFrame])
            }
            if options.hopDelay == 1 { st.advanceDelayLine() }
            for li in layers.indices {
                let l = layers[li]
                fired.removeAll(keepingCapacity: true)
                st.step(li, l, injected: injected[li], fired: &fired)
                if l.kind == .readout {
                    classes[t] = Int32(argmax(st.readoutS))
                    readoutTrace?.append(st.readoutS)
                    if let a = arousal, t >= a.startMs, t <= a.decisionStep {
                        evidence += Arousal.gap(st.readoutS)
                        trace.append(evidence)
                        if t == a.decisionStep && evidence <= a.threshold, let hp = aroused {
                            switched = true
                            layers = hp.layers
                        }
                    }
                    continue
                }
                spikes[li] += fired.count
                if perNeuron != nil { for (n, _) in fired { perNeuron![li][Int(n)] += 1 } }
                if raster != nil { for (n, _) in fired { raster![li].append(SpikeEvent(step: Int32(t), neuron: n)) } }
                if fired.isEmpty { continue }
                for (target, pi) in network.fanOut[li] {
                    events += st.deliver(fired, layers[target].projections[pi], target: target, binaryHeight: l.graded ? nil : l.h,
                                         delayed: options.hopDelay == 1)
                }
            }
        }
        if !frames.isEmpty { eventsPerFrame[frames.count - 1] = events - eventsPerFrame.reduce(0, +) }
        var result = ImageResult(classes: classes, spikesPerLayer: spikes, synapticEvents: events, finalReadout: st.readoutS, neuronSpikes: perNeuron,
                                 raster: raster, readoutTrace: readoutTrace)
        result.aroused = switched
        result.arousalEvidence = evidence
        result.arousalTrace = trace
        result.stateRanges = st.ranges
        result.spikesSoFar = spikesSoFar
        result.eventsSoFar = eventsSoFar
        return (result, eventsPerFrame)
    }
}

/// One layer's state for one image, as columns (structure of arrays) so the per-step updates
/// vectorise: per compartment I, S_dyn and the input arriving this step (and the next, with a
/// hop delay); per neuron Ŝ, ϑ − ϑ0 and ϑ, plus scratch for the activation of pooled neurons and
/// the spike test's outcome. Owned by one worker.
final class LayerState {
    let compartments: Int, neurons: Int
    let current, sDyn: UnsafeMutablePointer<Double>
    var acc, accNext: UnsafeMutablePointer<Double>
    let sHat, thetaDyn, theta, activation, payload: UnsafeMutablePointer<Double>
    let spiked: UnsafeMutablePointer<UInt8>

    /// Per group of eight pooled neurons (full groups only): whether pooling slot j of
    /// neuron n + i is compartment (slot j of neuron n) + i, so the max loads them as vectors.
    let poolRegular: [Bool]

    init(_ l: SpikingLayer) {
        compartments = l.compartments
        neurons = l.neurons
        if let ps = l.poolStart, let pidx = l.poolIndex {
            poolRegular = (0..<(l.neurons / 8)).map { g in
                let n = g * 8, k = ps[n + 1] - ps[n]
                for i in 1..<8 where ps[n + i + 1] - ps[n + i] != k { return false }
                for i in 1..<8 {
                    for j in 0..<Int(k) where pidx[Int(ps[n + i]) + j] != pidx[Int(ps[n]) + j] + Int32(i) { return false }
                }
                return true
            }
        } else {
            poolRegular = []
        }
        // Cache-line aligned, so 8-wide loads of a position's channels stay within lines.
        func column(_ n: Int) -> UnsafeMutablePointer<Double> {
            UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 8, alignment: 64).bindMemory(to: Double.self, capacity: max(n, 1))
        }
        current = column(compartments); sDyn = column(compartments)
        acc = column(compartments); accNext = column(compartments)
        sHat = column(neurons); thetaDyn = column(neurons); theta = column(neurons)
        activation = column(neurons); payload = column(neurons)
        spiked = .allocate(capacity: max(neurons, 1))
        reset(theta0: l.theta0)
    }

    func reset(theta0: Double) {
        for p in [current, sDyn, acc, accNext] { p.update(repeating: 0, count: compartments) }
        for p in [sHat, thetaDyn, activation, payload] { p.update(repeating: 0, count: neurons) }
        theta.update(repeating: theta0, count: neurons)
        spiked.update(repeating: 0, count: neurons)
    }

    deinit {
        for p in [current, sDyn, acc, accNext, sHat, thetaDyn, theta, activation, payload] { p.deallocate() }
        spiked.deallocate()
    }
}

/// Mutable state of every layer for one image.
struct NetworkState {
    let layers: [LayerState]
    var readoutS: [Double] = []
    /// With `recordRanges`: per layer, the largest magnitudes so far.
    var ranges: [StateRange]?

    /// Scratch for gathered conv delivery, reused across steps and images.
    let scratch = GatherScratch()

    init(_ net: SpikingNetwork) { layers = net.layers.map(LayerState.init) }

    func reset(_ net: SpikingNetwork) {
        for (li, l) in net.layers.enumerated() { layers[li].reset(theta0: l.theta0) }
    }

    func advanceDelayLine() {
        for s in layers {
            swap(&s.acc, &s.accNext)
            s.accNext.update(repeating: 0, count: s.compartments)
        }
    }

    /// Integrates and fires layer `li` (Neuron's column updates); appends (neuron, payload) of
    /// each spike to `fired`, in neuron order.
    mutating func step(_ li: Int, _ l: SpikingLayer, injected: [Double], fired: inout [(Int32, Double)]) {
        let s = layers[li]
        let spikes: Int
        switch l.dynamics {
        case .asn(let k): spikes = stepASN(l, s, k, injected: injected)
        case .lif(let k): spikes = stepLIF(l, s, k, injected: injected)
        }
        if ranges != nil { recordRange(li, s) }
        if spikes == 0 { return }
        fired.reserveCapacity(spikes)
        // The spike flags eight at a time: most words are zero.
        var n = 0
        while n + 8 <= s.neurons {
            var word = UnsafeRawPointer(s.spiked + n).loadUnaligned(as: UInt64.self)
            while word != 0 {
                let j = n + word.trailingZeroBitCount / 8
                fired.append((Int32(j), s.payload[j]))
                word &= word &- 1
            }
            n += 8
        }
        for j in n..<s.neurons where s.spiked[j] != 0 { fired.append((Int32(j), s.payload[j])) }
    }

    /// An IF-family layer (IFNeuron.swift): the synaptic currents in `current`, the membranes
    /// in `sDyn`; the readout of an IF-family network integrates and never fires (its
    /// `readoutS` is the membrane).
    mutating func stepLIF(_ l: SpikingLayer, _ s: LayerState, _ k: LIFConstants, injected: [Double]) -> Int {
        l.bias.withUnsafeBufferPointer { bp in
            if case .injected = l.kind {
                injected.withUnsafeBufferPointer { inj in
                    LIFNeuron.integrate(current: s.current, v: s.sDyn, input: UnsafeMutablePointer(mutating: inj.baseAddress!), bias: bp.baseAddress!,
                                        count: min(inj.count, s.compartments), injected: true, k)
                }
            } else {
                LIFNeuron.integrate(current: s.current, v: s.sDyn, input: s.acc, bias: bp.baseAddress!, count: s.compartments, injected: false, k)
            }
        }
        if l.kind == .readout {
            readoutS = Array(UnsafeBufferPointer(start: s.sDyn, count: l.compartments))
            return 0
        }
        return withPool(l) { ps, pi in
            if k.resetNextStep { LIFNeuron.resetPending(v: s.sDyn, poolStart: ps, poolIndex: pi, count: s.neurons, k, spiked: s.spiked) }
            return LIFNeuron.fire(v: s.sDyn, poolStart: ps, poolIndex: pi, count: s.neurons, k, height: l.h, spiked: s.spiked, payload: s.payload)
        }
    }

    /// An ASN layer (Neuron.swift's column updates), or the readout of an ASN network.
    mutating func stepASN(_ l: SpikingLayer, _ s: LayerState, _ k: NeuronConstants, injected: [Double]) -> Int {
        if case .injected = l.kind {
            // The injected current is only read.
            injected.withUnsafeBufferPointer { inj in
                Neuron.integrate(current: s.current, sDyn: s.sDyn, input: UnsafeMutablePointer(mutating: inj.baseAddress!),
                                 count: min(inj.count, s.compartments), injected: true, k)
            }
        } else {
            Neuron.integrate(current: s.current, sDyn: s.sDyn, input: s.acc, count: s.compartments, injected: false, k)
        }
        return l.bias.withUnsafeBufferPointer { bp in
            let bias = bp.baseAddress!, sDyn = s.sDyn
            if l.kind == .readout {
                readoutS = (0..<l.compartments).map { bias[$0] + sDyn[$0] }
                return 0
            }
            if let ps = l.poolStart, let pidx = l.poolIndex {
                // S of a pooled neuron: the max over its compartments, in compartment order
                // (Swift's max(a, x) keeps x when x ≥ a). Eight neurons at a time where their
                // compartments are eight consecutive ones per pooling slot (channels-last).
                typealias V = SIMD8<Double>
                var n = 0
                for g in 0..<(s.neurons / 8) {
                    n = g * 8
                    if !s.poolRegular[g] { continue }
                    var a = V(repeating: -.infinity)
                    for q in Int(ps[n])..<Int(ps[n + 1]) {
                        let ci = Int(pidx[q])
                        let x = UnsafeRawPointer(bias + ci).loadUnaligned(as: V.self) + UnsafeRawPointer(sDyn + ci).loadUnaligned(as: V.self)
                        a = a.replacing(with: x, where: x .>= a)
                    }
                    UnsafeMutableRawPointer(s.activation + n).storeBytes(of: a, as: V.self)
                }
                for g in 0..<((s.neurons + 7) / 8) where g * 8 + 8 > s.neurons || !s.poolRegular[g] {
                    for n in (g * 8)..<min(g * 8 + 8, s.neurons) {
                        var a = -Double.infinity
                        for q in Int(ps[n])..<Int(ps[n + 1]) {
                            let ci = Int(pidx[q])
                            a = max(a, bias[ci] + sDyn[ci])
                        }
                        s.activation[n] = a
                    }
                }
                return Neuron.fire(sHat: s.sHat, thetaDyn: s.thetaDyn, theta: s.theta, a: s.activation, b: nil, count: s.neurons, k,
                                   spiked: s.spiked, payload: s.payload)
            }
            return Neuron.fire(sHat: s.sHat, thetaDyn: s.thetaDyn, theta: s.theta, a: bias, b: sDyn, count: s.neurons, k,
                               spiked: s.spiked, payload: s.payload)
        }
    }

    /// Calls `body` with a pooled layer's compartment lists (nil, nil for an unpooled layer).
    func withPool<R>(_ l: SpikingLayer, _ body: (UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R) -> R {
        guard let ps = l.poolStart, let pi = l.poolIndex else { return body(nil, nil) }
        return ps.withUnsafeBufferPointer { psb in pi.withUnsafeBufferPointer { pib in body(psb.baseAddress, pib.baseAddress) } }
    }

    /// Raises layer `li`'s recorded maxima to this step's registers (after integrate and fire).
    mutating func recordRange(_ li: Int, _ s: LayerState) {
        var r = ranges![li]
        for c in 0..<s.compartments {
            r.current = max(r.current, abs(s.current[c]))
            r.activation = max(r.activation, abs(s.sDyn[c]))
        }
        for n in 0..<s.neurons {
            r.refractory = max(r.refractory, abs(s.sHat[n]))
            r.threshold = max(r.threshold, abs(s.theta[n]))
        }
        ranges![li] = r
    }

    /// Delivers spikes through projection `p` into layer `target`'s input (this step's, or the
    /// next step's with a hop delay); returns the synaptic events.
    func deliver(_ fired: [(Int32, Double)], _ p: Projection, target: Int, binaryHeight: Double?, delayed: Bool) -> Int {
        let s = layers[target]
        return p.scatter(fired, binaryHeight: binaryHeight, into: UnsafeMutableBufferPointer(start: delayed ? s.accNext : s.acc, count: s.compartments),
                         scratch: scratch)
    }
}

/// How a conv projection's spikes reach their targets. Both orders give every target the same
/// sums in the same order (spike order), so the same bits; they differ in memory traffic.
public enum DeliveryMode: Sendable {
    /// Gather where the projection allows it and the step has spikes enough to pay for the
    /// sweep over output positions, else scatter.
    case automatic
    /// Each spike adds its weight rows to its targets (targets read and written per spike).
    case scatter
    /// Per output position, every spike reaching it summed in registers, then written once
    /// (only for `Projection.gatherable`; scatter otherwise).
    case gather
}

/// Per-worker scratch of gathered delivery: the step's spikes grouped by source pixel, and one
/// output position's weight rows. Grown on demand, reused across steps and images.
public final class GatherScratch {
    var pixels = 0, entries = 0, rowCapacity = 0
    /// Per source pixel, its entries' range in `channel`/`value` (start −1: no spike).
    var pixStart: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var pixEnd: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var active: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var channel: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var value: UnsafeMutablePointer<Double> = .allocate(capacity: 1)
    var rows: UnsafeMutablePointer<UnsafePointer<Double>> = .allocate(capacity: 1)
    var rowValue: UnsafeMutablePointer<Double> = .allocate(capacity: 1)
    var positions = 0
    var rowStart: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)

    public init() {}

    func reserve(pixels p: Int, entries e: Int, rows r: Int, positions n: Int) {
        if n + 1 > positions {
            rowStart.deallocate()
            rowStart = .allocate(capacity: n + 1)
            positions = n + 1
        }
        if p > pixels {
            pixStart.deallocate(); pixEnd.deallocate(); active.deallocate()
            pixStart = .allocate(capacity: p); pixEnd = .allocate(capacity: p); active = .allocate(capacity: p)
            pixStart.update(repeating: -1, count: p)
            pixels = p
        }
        if e > entries {
            channel.deallocate(); value.deallocate()
            channel = .allocate(capacity: e); value = .allocate(capacity: e)
            entries = e
        }
        if r > rowCapacity {
            rows.deallocate(); rowValue.deallocate()
            rows = .allocate(capacity: r); rowValue = .allocate(capacity: r)
            rowCapacity = r
        }
    }

    deinit {
        pixStart.deallocate(); pixEnd.deallocate(); active.deallocate()
        channel.deallocate(); value.deallocate(); rows.deallocate(); rowValue.deallocate(); rowStart.deallocate()
    }
}

extension Projection {
    /// Adds the effect of `spikes` (source neuron, payload) to the target currents `out`: a
    /// binary spike delivers `binaryHeight` (h), a graded one (binaryHeight nil) its payload
    /// ϑ(t_s), times the synaptic weights. Returns the number of synaptic events.
    /// With a `scratch` and a gatherable conv, `mode` picks the delivery order (same bits).
    public func scatter(_ spikes: [(Int32, Double)], binaryHeight: Double?, into out: UnsafeMutableBufferPointer<Double>,
                        scratch: GatherScratch? = nil, mode: DeliveryMode = .automatic) -> Int {
        if let scratch, let kernel = alignedKernel, case let .conv(_, g) = op, mode != .scatter,
           mode == .gather || spikes.count * g.outC >= 4 * g.outH * g.outW {
            var events = 0
            for (n, _) in spikes { events += Int(eventsPerSpike[Int(n)]) }
            gather(spikes, binaryHeight: binaryHeight, kernel: kernel.base, g, into: out.baseAddress!, scratch)
            return events
        }
        var events = 0
        preStart.withUnsafeBufferPointer { ps in
            preIndex.withUnsafeBufferPointer { pi in
                preFactor.withUnsafeBufferPointer { pf in
                    switch op {
                    case let .dense(wt, _, outF):
                        wt.withUnsafeBufferPointer { w in
                            guard let wb = w.baseAddress, let yb = out.baseAddress else { return }
                            for (n, payload) in spikes {
                                let v0 = binaryHeight ?? payload
                                events += Int(eventsPerSpike[Int(n)])
                                for q in Int(ps[Int(n)])..<Int(ps[Int(n) + 1]) {
                                    let v = v0 * pf[q]
                                    // Row pointers, so the target loop has no index arithmetic
                                    // to check and vectorises (each sum is still out[o] + v·w).
                                    axpy(v, wb + Int(pi[q]) * outF, yb, outF)
                                }
                            }
                        }
                    case let .conv(kernel, g):
                        kernel.withUnsafeBufferPointer { kp in
                            guard let kb0 = kp.baseAddress, let yb = out.baseAddress else { return }
                            // Stride 1 (most convolutions): no divisions in the tap loop.
                            let unitStride = g.sh == 1 && g.sw == 1
                            for (n, payload) in spikes {
                                let v0 = binaryHeight ?? payload
                                events += Int(eventsPerSpike[Int(n)])
                                for q in Int(ps[Int(n)])..<Int(ps[Int(n) + 1]) {
                                    let v = v0 * pf[q]
                                    let flat = Int(pi[q])
                                    let i = flat % g.inC
                                    let pos = flat / g.inC
                                    let iy = pos / g.inW, ix = pos % g.inW
                                    for ky in 0..<g.kh {
                                        let ny = iy + g.padTop - ky * g.dh
                                        if ny < 0 || (!unitStride && ny % g.sh != 0) { continue }
                                        let oy = unitStride ? ny : ny / g.sh
                                        if oy >= g.outH { continue }
                                        for kx in 0..<g.kw {
                                            let nx = ix + g.padLeft - kx * g.dw
                                            if nx < 0 || (!unitStride && nx % g.sw != 0) { continue }
                                            let ox = unitStride ? nx : nx / g.sw
                                            if ox >= g.outW { continue }
                                            let ob = (oy * g.outW + ox) * g.outC
                                            let kb = ((ky * g.kw + kx) * g.inC + i) * g.outC
                                            axpy(v, kb0 + kb, yb + ob, g.outC)
                                        }
                                    }
                                }
                            }
                        }
                    case .identity:
                        for (n, payload) in spikes {
                            let v0 = binaryHeight ?? payload
                            events += Int(eventsPerSpike[Int(n)])
                            for q in Int(ps[Int(n)])..<Int(ps[Int(n) + 1]) { out[Int(pi[q])] += v0 * pf[q] }
                        }
                    }
                }
            }
        }
        return events
    }
}

extension Projection {
    /// Gathered conv delivery: the spikes grouped by source pixel (their positions rise, see
    /// `gatherable`), then per output position the weight rows of every (tap, spike) reaching
    /// it, in source-position order — which is spike order — summed onto the target in
    /// registers, 32 output channels at a time over all positions, and stored once. Each target gets
    /// out[o] + v·w term by term in the order scatter adds them (no fused multiply-add).
    func gather(_ spikes: [(Int32, Double)], binaryHeight: Double?, kernel kb0: UnsafePointer<Double>, _ g: ConvGeometry,
                into out: UnsafeMutablePointer<Double>, _ sc: GatherScratch) {
        let entryCount = preStart.withUnsafeBufferPointer { ps in spikes.reduce(0) { $0 + Int(ps[Int($1.0) + 1] - ps[Int($1.0)]) } }
        if entryCount == 0 { return }
        sc.reserve(pixels: g.inH * g.inW, entries: entryCount, rows: entryCount * g.kh * g.kw, positions: g.outH * g.outW)
        let pixStart = sc.pixStart, pixEnd = sc.pixEnd, channel = sc.channel, value = sc.value
        var activeCount = 0, e = 0
        preStart.withUnsafeBufferPointer { ps in
            preIndex.withUnsafeBufferPointer { pi in
                preFactor.withUnsafeBufferPointer { pf in
                    for (n, payload) in spikes {
                        let v0 = binaryHeight ?? payload
                        for q in Int(ps[Int(n)])..<Int(ps[Int(n) + 1]) {
                            let flat = Int(pi[q])
                            let pix = flat / g.inC
                            if pixStart[pix] < 0 {
                                pixStart[pix] = Int32(e)
                                sc.active[activeCount] = Int32(pix)
                                activeCount += 1
                            }
                            channel[e] = Int32(flat - pix * g.inC)
                            value[e] = v0 * pf[q]
                            e += 1
                            pixEnd[pix] = Int32(e)
                        }
                    }
                }
            }
        }
        // Per output position, the (tap, spike) pairs reaching it in source-position order:
        // rows[rowStart[p]..<rowStart[p + 1]] with their values.
        let rows = sc.rows, rowValue = sc.rowValue, rowStart = sc.rowStart, outC = g.outC, tapStride = g.inC * g.outC
        var m = 0
        for oy in 0..<g.outH {
            for ox in 0..<g.outW {
                rowStart[oy * g.outW + ox] = Int32(m)
                for ky in 0..<g.kh {
                    let iy = g.inputRow(oy, ky)
                    if iy < 0 || iy >= g.inH { continue }
                    for kx in 0..<g.kw {
                        let ix = g.inputColumn(ox, kx)
                        if ix < 0 || ix >= g.inW { continue }
                        let pix = iy * g.inW + ix
                        let start = Int(pixStart[pix])
                        if start < 0 { continue }
                        let tap = kb0 + (ky * g.kw + kx) * tapStride
                        for c in start..<Int(pixEnd[pix]) {
                            rows[m] = tap + Int(channel[c]) * outC
                            rowValue[m] = value[c]
                            m &+= 1
                        }
                    }
                }
            }
        }
        rowStart[g.outH * g.outW] = Int32(m)
        for j in 0..<activeCount { pixStart[Int(sc.active[j])] = -1 }
        // 32 output channels at a time over every position, so the kernel's slice for those
        // channels stays in cache; each target summed in registers and stored once.
        typealias V = SIMD8<Double>
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        let positions = g.outH * g.outW
        var o = 0
        while o + 32 <= outC {
            for pos in 0..<positions {
                let r0 = Int(rowStart[pos]), r1 = Int(rowStart[pos + 1])
                if r0 == r1 { continue }
                let y = out + pos * outC + o
                var a0 = load(y), a1 = load(y + 8), a2 = load(y + 16), a3 = load(y + 24)
                for c in r0..<r1 {
                    let v = V(repeating: rowValue[c]), w = rows[c] + o
                    a0 = a0 + v * load(w); a1 = a1 + v * load(w + 8)
                    a2 = a2 + v * load(w + 16); a3 = a3 + v * load(w + 24)
                }
                store(a0, y); store(a1, y + 8); store(a2, y + 16); store(a3, y + 24)
            }
            o &+= 32
        }
        if o == outC { return }
        for pos in 0..<positions {
            let r0 = Int(rowStart[pos]), r1 = Int(rowStart[pos + 1])
            if r0 == r1 { continue }
            let y = out + pos * outC
            var t = o
            while t + 8 <= outC {
                var a = load(y + t)
                for c in r0..<r1 { a = a + V(repeating: rowValue[c]) * load(rows[c] + t) }
                store(a, y + t)
                t &+= 8
            }
            while t < outC {
                var a = y[t]
                for c in r0..<r1 { a = a + rowValue[c] * rows[c][t] }
                y[t] = a
                t &+= 1
            }
        }
    }
}

/// y[o] += v · x[o] for o < n, in order per element (no fused multiply-add: the same sums as a
/// scalar loop), over raw pointers so LLVM vectorises it.
@inline(__always)
func axpy(_ v: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    var o = 0
    while o < n {
        y[o] += v * x[o]
        o &+= 1
    }
}

func activeCores() -> Int { WorkerPool.activeCores() }

#if canImport(Glibc)
import Glibc
#endif
