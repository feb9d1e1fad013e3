// A core as the unit of emulation: it owns its compartments' state, its synapse memory (the
// decoded image, CoreProgram), its input axons and its output-axon table. One step is three
// stages, each a function below, each using only FixedPointASN.swift for arithmetic:
//   deliver    — the spikes its input axons received last step → synaptic input per compartment;
//   integrate/fire — every compartment and neuron of its soma blocks (dendrite blocks pass their
//                sums on as partial currents; readout blocks are left for the host);
//   route      — each spike (or partial) looked up in the output-axon table → packets for step + 1.
import SNNCArtefact
import SNNCIR

/// A spike (or partial current) arriving on one input axon of a core.
public struct Packet: Sendable {
    public var axon: Int32
    public var payload: Int64
    public init(axon: Int32, payload: Int64) {
        self.axon = axon
        self.payload = payload
    }
}

/// What a core did in one step — what the cycle model observes.
struct CoreCounters {
    var axonEvents = 0, synapticEvents = 0, packetsOut = 0, hops = 0, maxHops = 0
}

/// The state of one core during a run: its registers, in one allocation the core owns.
struct CoreState {
    /// Per compartment: this step's synaptic input — the 64-bit sum, and the 32-bit sum of the
    /// narrow binary ranges (CoreRange.narrow) — current, filtered current, host current.
    let acc: UnsafeMutablePointer<Int64>
    let acc32: UnsafeMutablePointer<Int32>
    let I: UnsafeMutablePointer<Int64>, S: UnsafeMutablePointer<Int64>
    let host: UnsafeMutablePointer<Int64>
    /// Per neuron of its soma blocks: refractory response, adaptation, threshold; and, for the
    /// block being fired, the spikes before they are routed (payload ϑ and a flag per neuron,
    /// the neurons that spiked in order).
    let sHat: UnsafeMutablePointer<Int64>, thDyn: UnsafeMutablePointer<Int64>, theta: UnsafeMutablePointer<Int64>
    let spikeTheta: UnsafeMutablePointer<Int64>, fired: UnsafeMutablePointer<UInt8>, spikeNeuron: UnsafeMutablePointer<Int32>
    /// Step 3's activation of each neuron of a pooled block.
    let activation: UnsafeMutablePointer<Int64>
    private let memory: Registers
    var inbox: [Packet] = []
    var counters = CoreCounters()

    /// Owns the registers' memory (zeroed), freed with the last copy of the state.
    private final class Registers {
        let words: UnsafeMutableRawPointer
        init(bytes: Int) {
            words = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 8), alignment: 64)
            words.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 8))
        }
        deinit { words.deallocate() }
    }

    init(_ p: CoreProgram, _ layers: [EmuLayer]) {
        let nc = p.compartments, nn = p.neurons
        // Each array starts on a 64-byte line: the 64-bit registers, then the 32-bit ones.
        func pad(_ n: Int) -> Int { (n + 15) & ~15 }
        let words64 = 4 * pad(nc) + 5 * pad(nn), words32 = pad(nc) + pad(nn)
        memory = Registers(bytes: 8 * words64 + 4 * words32 + pad(nn))
        let w = memory.words.bindMemory(to: Int64.self, capacity: words64)
        let v = (memory.words + 8 * words64).bindMemory(to: Int32.self, capacity: words32)
        acc = w; I = w + pad(nc); S = w + 2 * pad(nc); host = w + 3 * pad(nc)
        let n0 = w + 4 * pad(nc)
        sHat = n0; thDyn = n0 + pad(nn); theta = n0 + 2 * pad(nn); spikeTheta = n0 + 3 * pad(nn); activation = n0 + 4 * pad(nn)
        acc32 = v; spikeNeuron = v + pad(nc)
        fired = (memory.words + 8 * words64 + 4 * words32).bindMemory(to: UInt8.self, capacity: pad(nn))
        for b in p.blocks where !b.dendrite && layers[b.layer].kind != .readout {
            for n in 0..<b.neurons { theta[b.neuronBase + n] = layers[b.layer].constants.theta0 }
        }
    }
}

/// Where a core's packets go: the same chip's inboxes, or the spike exchange.
protocol PacketSink {
    mutating func send(from core: Int, to dest: Int, _ packet: Packet)
}

/// Per-layer tallies of one run (spikes, overflow flags of the step, work for the cycle model).
struct LayerTally {
    var spikes: [Int]
    var overflowedThisStep: [Bool]
    var axonEvents: [Int], synapticEvents: [Int], packetsOut: [Int]
    var raster: [[(Int, Int)]]?

    init(layers: Int, raster: Bool) {
        spikes = [Int](repeating: 0, count: layers)
        overflowedThisStep = [Bool](repeating: false, count: layers)
        axonEvents = spikes; synapticEvents = spikes; packetsOut = spikes
        self.raster = raster ? (0..<layers).map { _ in [] } : nil
    }

    /// Adds a worker's tallies of one step to these and clears them.
    mutating func absorb(_ w: inout LayerTally) {
        for l in spikes.indices {
            spikes[l] += w.spikes[l]; axonEvents[l] += w.axonEvents[l]; synapticEvents[l] += w.synapticEvents[l]; packetsOut[l] += w.packetsOut[l]
            if w.overflowedThisStep[l] { overflowedThisStep[l] = true }
            w.spikes[l] = 0; w.axonEvents[l] = 0; w.synapticEvents[l] = 0; w.packetsOut[l] = 0; w.overflowedThisStep[l] = false
        }
        if raster != nil, let r = w.raster {
            for l in r.indices where !r[l].isEmpty { raster![l].append(contentsOf: r[l]) }
            for l in r.indices { w.raster![l].removeAll(keepingCapacity: true) }
        }
    }
}

enum CoreStages {
    /// deliver: every packet of the inbox through its axon's row of runs.
    static func deliver(_ p: CoreProgram, _ s: inout CoreState, _ rounding: RoundingMode, _ tally: inout LayerTally) {
        guard !s.inbox.isEmpty else { return }
        var events = 0
        let acc = s.acc, acc32 = s.acc32
        p.runs.withUnsafeBufferPointer { runs in
            p.weights.withUnsafeBufferPointer { wts in
                p.weights16.withUnsafeBufferPointer { w16 in
                    p.rowStart.withUnsafeBufferPointer { rows in
                        let w0 = wts.baseAddress!, h0 = w16.baseAddress
                        for pk in s.inbox {
                            let a = Int(pk.axon)
                            let r = p.ranges[Int(p.axonRange[a])]
                            let ev = Int(p.rowEvents[a])
                            events += ev
                            tally.axonEvents[r.layer] += 1
                            tally.synapticEvents[r.layer] += ev
                            if r.narrow {
                                if r.weights16, let h0 {
                                    for k in Int(rows[a])..<Int(rows[a + 1]) {
                                        FixedPointASN.addBinary(acc32 + Int(runs[3 * k]), h0 + Int(runs[3 * k + 2]), Int(runs[3 * k + 1]))
                                    }
                                } else {
                                    for k in Int(rows[a])..<Int(rows[a + 1]) {
                                        FixedPointASN.addBinary(acc32 + Int(runs[3 * k]), w0 + Int(runs[3 * k + 2]), Int(runs[3 * k + 1]))
                                    }
                                }
                                continue
                            }
                            for k in Int(rows[a])..<Int(rows[a + 1]) {
                                let t = Int(runs[3 * k]), n = Int(runs[3 * k + 1]), wo = Int(runs[3 * k + 2])
                                switch r.mode {
                                case .binary: FixedPointASN.addBinary(acc + t, w0 + wo, n)
                                case .graded: FixedPointASN.addGraded(acc + t, w0 + wo, n, payload: pk.payload, shift: r.shift, rounding)
                                case .partial: FixedPointASN.addPartial(acc + t, n, payload: pk.payload)
                                }
                            }
                        }
                    }
                }
            }
        }
        s.counters.axonEvents += s.inbox.count
        s.counters.synapticEvents += events
        s.inbox.removeAll(keepingCapacity: true)
    }

    /// integrate/fire: dendrite blocks send their sums; soma blocks update every compartment
    /// (steps 1–2) and every neuron (steps 3–6), routing each spike.
    static func integrateAndFire<Sink: PacketSink>(_ core: Int, _ p: CoreProgram, _ s: inout CoreState, _ net: EmuNetwork, aroused: Bool,
                                                   step t: Int, _ tally: inout LayerTally, _ sink: inout Sink) {
        let num = net.numerics
        for b in p.blocks {
            let l = net.layers[b.layer]
            if l.kind == .readout { continue }
            if b.dendrite {
                for j in b.base..<(b.base + b.count) {
                    let v = FixedPointASN.input(wide: s.acc[j], narrow: s.acc32[j], shift: b.narrowShift)
                    if v != 0 { route(core, p, output: b.firstOutput + j - b.base, payload: v, layer: b.layer, &s.counters, &tally, &sink) }
                    s.acc[j] = 0; s.acc32[j] = 0
                }
                continue
            }
            if let lk = l.lif {
                // An IF-family block: FixedPointLIF's rules; its spikes are binary.
                var overflow: Int64 = 0
                let spikes = somaLIF(b, l, s, lk, num, &overflow)
                for i in 0..<spikes {
                    let n = Int(s.spikeNeuron[i])
                    tally.spikes[b.layer] += 1
                    tally.raster?[b.layer].append((t, Int(b.layerNeuron[n])))
                    route(core, p, output: b.firstOutput + n, payload: 1, layer: b.layer, &s.counters, &tally, &sink)
                }
                if overflow != 0 { tally.overflowedThisStep[b.layer] = true }
                continue
            }
            let k = aroused ? (l.arousedConstants ?? l.constants) : l.constants
            var overflow: Int64 = 0
            // One copy of the block's loops per rounding mode and overflow rule, each folded in.
            let spikes: Int
            switch (num.rounding, num.wrap) {
            case (.nearestEven, false): spikes = soma(NearestEvenRule.self, SaturateRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.nearestAway, false): spikes = soma(NearestAwayRule.self, SaturateRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.towardZero, false): spikes = soma(TowardZeroRule.self, SaturateRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.floor, false): spikes = soma(FloorRule.self, SaturateRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.nearestEven, true): spikes = soma(NearestEvenRule.self, WrapRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.nearestAway, true): spikes = soma(NearestAwayRule.self, WrapRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.towardZero, true): spikes = soma(TowardZeroRule.self, WrapRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            case (.floor, true): spikes = soma(FloorRule.self, WrapRule.self, b, l, s, k, num, aroused: aroused, &overflow)
            }
            for i in 0..<spikes {
                let n = Int(s.spikeNeuron[i])
                tally.spikes[b.layer] += 1
                tally.raster?[b.layer].append((t, Int(b.layerNeuron[n])))
                let payload = l.graded ? FixedPointASN.payload(s.spikeTheta[n], k, num, &overflow) : s.spikeTheta[n]
                route(core, p, output: b.firstOutput + n, payload: payload, layer: b.layer, &s.counters, &tally, &sink)
            }
            if overflow != 0 { tally.overflowedThisStep[b.layer] = true }
        }
    }

    /// Steps 1–6 for one soma block: every compartment, then every neuron. Returns how many
    /// spiked: their neurons in s.spikeNeuron[0..<count], in order; each payload ϑ in s.spikeTheta
    /// at the neuron's index.
    @_specialize(where R == NearestEvenRule, W == SaturateRule) @_specialize(where R == NearestAwayRule, W == SaturateRule)
    @_specialize(where R == TowardZeroRule, W == SaturateRule) @_specialize(where R == FloorRule, W == SaturateRule)
    @_specialize(where R == NearestEvenRule, W == WrapRule) @_specialize(where R == NearestAwayRule, W == WrapRule)
    @_specialize(where R == TowardZeroRule, W == WrapRule) @_specialize(where R == FloorRule, W == WrapRule)
    static func soma<R: RoundingRule, W: OverflowRule>(_: R.Type, _: W.Type, _ b: CoreBlock, _ l: EmuLayer, _ s: CoreState, _ k: FixedConstants,
                                                       _ num0: FixedNumerics, aroused: Bool, _ overflow: inout Int64) -> Int {
        let mode = R.mode
        var num = num0
        num.wrap = W.wrap
        var o: Int64 = 0
        let n = b.count, L = b.narrowShift
        let I = s.I + b.base, S = s.S + b.base, acc = s.acc + b.base, acc32 = s.acc32 + b.base, host = s.host + b.base
        if l.kind == .injected {
            // The host's current replaces the input (spikes never reach an input layer).
            for j in 0..<n {
                FixedPointASN.integrate(I: &I[j], S: &S[j], input: 0, host: host[j], k, num, mode, &o)
                acc[j] = 0; acc32[j] = 0
            }
        } else if aroused && l.arousedConstants != nil {
            let gain = l.arousalGain
            for j in 0..<n {
                let x = FixedPointASN.arousedInput(gain, FixedPointASN.input(wide: acc[j], narrow: acc32[j], shift: L), k, mode)
                FixedPointASN.integrate(I: &I[j], S: &S[j], input: x, host: nil, k, num, mode, &o)
                acc[j] = 0; acc32[j] = 0
            }
        } else {
            for j in 0..<n {
                FixedPointASN.integrate(I: &I[j], S: &S[j], input: FixedPointASN.input(wide: acc[j], narrow: acc32[j], shift: L), host: nil, k, num, mode, &o)
                acc[j] = 0; acc32[j] = 0
            }
        }
        let sHat = s.sHat + b.neuronBase, thDyn = s.thDyn + b.neuronBase, theta = s.theta + b.neuronBase
        let spikeNeuron = s.spikeNeuron, spikeTheta = s.spikeTheta, fired = s.fired
        var spikes = 0
        b.bias.withUnsafeBufferPointer { bias in
            // Step 3 over the pool runs (contiguous compartments per window slot; an unpooled
            // block is one run of window 1), then steps 4–6 on every neuron — loops that
            // vectorise: each neuron's flag and payload first, then the flags scanned for the
            // few that spiked.
            let A = s.activation
            var r = 0
            b.poolRuns.withUnsafeBufferPointer { pr in
                while r < pr.count {
                    let n0 = Int(pr[r]), len = Int(pr[r + 1]), K = Int(pr[r + 2])
                    let a = A + n0
                    for j in 0..<len { a[j] = Int64.min }
                    for q in 0..<K {
                        let c = Int(pr[r + 3 + q])
                        let bq = bias.baseAddress! + c, sq = S + c
                        for j in 0..<len { a[j] = max(a[j], bq[j] &+ sq[j]) }
                    }
                    r += 3 + K
                }
            }
            for i in 0..<b.neurons {
                spikeTheta[i] = theta[i]
                let f = FixedPointASN.fire(sHat: &sHat[i], thetaDyn: &thDyn[i], theta: &theta[i], activation: A[i], k, num, mode, &o)
                fired[i] = f ? 1 : 0
            }
            spikes = compact(fired, b.neurons, into: spikeNeuron)
        }
        overflow |= o
        return spikes
    }

    /// Steps 1–5 of Docs/fixed-point.md "The IF family" for one soma block: every compartment's
    /// synaptic current (CubaLIF) and membrane (S holds v, I the current); the next-step reset of
    /// the neurons that spiked last step (their flag in sHat); each neuron's activation (its
    /// membrane, or the largest of its compartments' when max-pooled) against the threshold; the
    /// immediate reset. Returns how many spiked, their neurons in s.spikeNeuron, in order.
    static func somaLIF(_ b: CoreBlock, _ l: EmuLayer, _ s: CoreState, _ k: LIFFixedConstants, _ num: FixedNumerics, _ overflow: inout Int64) -> Int {
        let mode = num.rounding
        var o: Int64 = 0
        let n = b.count, L = b.narrowShift
        let I = s.I + b.base, V = s.S + b.base, acc = s.acc + b.base, acc32 = s.acc32 + b.base, host = s.host + b.base
        let injected = l.kind == .injected, loihi = k.family == .loihi
        b.bias.withUnsafeBufferPointer { bias in
            for j in 0..<n {
                let syn = injected ? 0 : FixedPointASN.input(wide: acc[j], narrow: acc32[j], shift: L)
                if loihi {
                    // Lava's order: u from the synaptic input (Σ w in units of 2^6 LSBs), then v
                    // with the bias — an input layer's host current is its bias, or a CubaLIF
                    // input layer's synaptic input (LoihiLIF.hostCurrent).
                    let hostIn = injected && k.currentBased, hostBias = injected && !k.currentBased
                    LoihiLIF.integrate(u: &I[j], v: &V[j], aIn: (hostIn ? host[j] : syn) >> Int64(LoihiRules.activationShift),
                                       bias: (hostBias ? host[j] : injected ? 0 : bias[j]) &+ k.leak, k, &o)
                } else {
                    FixedPointLIF.integrate(i: &I[j], v: &V[j], x: injected ? host[j] : syn &+ bias[j], k, num, mode, &o)
                }
                acc[j] = 0; acc32[j] = 0
            }
        }
        let spiked = s.sHat + b.neuronBase, A = s.activation, fired = s.fired
        // Each neuron's compartments through the pool runs: neuron n0 + j has compartments c_q + j.
        func eachCompartment(_ body: (_ neuron: Int, _ compartment: Int) -> Void) {
            b.poolRuns.withUnsafeBufferPointer { pr in
                var r = 0
                while r < pr.count {
                    let n0 = Int(pr[r]), len = Int(pr[r + 1]), K = Int(pr[r + 2])
                    for q in 0..<K {
                        let c = Int(pr[r + 3 + q])
                        for j in 0..<len { body(n0 + j, c + j) }
                    }
                    r += 3 + K
                }
            }
        }
        if k.nextStep { eachCompartment { nn, c in if spiked[nn] != 0 { V[c] = FixedPointLIF.reset(V[c], k, num, &o) } } }
        for i in 0..<b.neurons { A[i] = Int64.min }
        eachCompartment { nn, c in A[nn] = max(A[nn], V[c]) }
        for i in 0..<b.neurons {
            let f = FixedPointLIF.spikes(activation: A[i], k)
            fired[i] = f ? 1 : 0
            spiked[i] = f ? 1 : 0
        }
        if !k.nextStep { eachCompartment { nn, c in if fired[nn] != 0 { V[c] = FixedPointLIF.reset(V[c], k, num, &o) } } }
        overflow |= o
        return compact(fired, b.neurons, into: s.spikeNeuron)
    }

    /// The indices of the non-zero flags among n, in order, scanned eight at a time.
    @inline(__always)
    static func compact(_ fired: UnsafeMutablePointer<UInt8>, _ n: Int, into out: UnsafeMutablePointer<Int32>) -> Int {
        var count = 0, i = 0
        while i + 8 <= n {
            var w = UnsafeRawPointer(fired + i).loadUnaligned(as: UInt64.self)
            while w != 0 {
                out[count] = Int32(truncatingIfNeeded: i + w.trailingZeroBitCount / 8)
                count += 1
                w &= w &- 1
            }
            i += 8
        }
        while i < n {
            if fired[i] != 0 { out[count] = Int32(truncatingIfNeeded: i); count += 1 }
            i += 1
        }
        return count
    }

    /// route: one output's entries in the output-axon table, each a packet for step + 1.
    @inline(__always)
    static func route<Sink: PacketSink>(_ core: Int, _ p: CoreProgram, output o: Int, payload: Int64, layer: Int, _ c: inout CoreCounters,
                                        _ tally: inout LayerTally, _ sink: inout Sink) {
        let lo = Int(p.outStart[o]), hi = Int(p.outStart[o + 1])
        for e in lo..<hi {
            sink.send(from: core, to: Int(p.outCore[e]), Packet(axon: p.outAxon[e], payload: payload))
            let h = Int(p.outHops[e])
            c.hops += h
            if h > c.maxHops { c.maxHops = h }
        }
        c.packetsOut += hi - lo
        tally.packetsOut[layer] += hi - lo
    }
}
