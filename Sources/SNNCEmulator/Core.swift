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
}

/// What a core did in one step — what the cycle model observes.
struct CoreCounters {
    var axonEvents = 0, synapticEvents = 0, packetsOut = 0, hops = 0, maxHops = 0
}

/// The state of one core during a run.
struct CoreState {
    /// Per compartment: this step's synaptic input — the 64-bit sum, and the 32-bit sum of the
    /// narrow binary ranges (CoreRange.narrow) — current, filtered current, host current.
    var acc: [Int64]
    var acc32: [Int32]
    var I: [Int64], S: [Int64]
    var host: [Int64]
    /// Per neuron of its soma blocks: refractory response, adaptation, threshold.
    var sHat: [Int64], thDyn: [Int64], theta: [Int64]
    var inbox: [Packet] = []
    var counters = CoreCounters()

    init(_ p: CoreProgram, _ layers: [EmuLayer]) {
        acc = [Int64](repeating: 0, count: p.compartments)
        acc32 = [Int32](repeating: 0, count: p.compartments)
        I = acc; S = acc; host = acc
        sHat = [Int64](repeating: 0, count: p.neurons)
        thDyn = sHat
        theta = sHat
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
}

enum CoreStages {
    /// deliver: every packet of the inbox through its axon's row of runs.
    static func deliver(_ p: CoreProgram, _ s: inout CoreState, _ rounding: RoundingMode, _ tally: inout LayerTally) {
        guard !s.inbox.isEmpty else { return }
        var events = 0
        s.acc.withUnsafeMutableBufferPointer { accB in
          s.acc32.withUnsafeMutableBufferPointer { acc32B in
            p.runs.withUnsafeBufferPointer { runs in
                p.weights.withUnsafeBufferPointer { wts in
                  p.weights16.withUnsafeBufferPointer { w16 in
                    p.rowStart.withUnsafeBufferPointer { rows in
                        let acc = accB.baseAddress!, w0 = wts.baseAddress!, acc32 = acc32B.baseAddress!, h0 = w16.baseAddress
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
            let over: Bool
            switch num.rounding {
            case .nearestEven: over = soma(NearestEvenRule.self, core, p, b, l, &s, num, aroused: aroused, step: t, &tally, &sink)
            case .nearestAway: over = soma(NearestAwayRule.self, core, p, b, l, &s, num, aroused: aroused, step: t, &tally, &sink)
            case .towardZero: over = soma(TowardZeroRule.self, core, p, b, l, &s, num, aroused: aroused, step: t, &tally, &sink)
            case .floor: over = soma(FloorRule.self, core, p, b, l, &s, num, aroused: aroused, step: t, &tally, &sink)
            }
            if over { tally.overflowedThisStep[b.layer] = true }
        }
    }

    /// Steps 1–6 for one soma block: every compartment, then every neuron; spikes routed.
    /// Returns whether any value overflowed.
    static func soma<R: RoundingRule, Sink: PacketSink>(_: R.Type, _ core: Int, _ p: CoreProgram, _ b: CoreBlock, _ l: EmuLayer, _ s: inout CoreState,
                                                         _ num0: FixedNumerics, aroused: Bool, step t: Int, _ tally: inout LayerTally, _ sink: inout Sink) -> Bool {
        var num = num0
        num.rounding = R.mode
        var over = false
        let k = aroused ? (l.arousedConstants ?? l.constants) : l.constants
        let injected = l.kind == .injected
        let base = b.base
        var spikes: [(Int, Int64)] = []
        s.host.withUnsafeBufferPointer { host in
        s.I.withUnsafeMutableBufferPointer { I in
            s.S.withUnsafeMutableBufferPointer { S in
                s.acc.withUnsafeMutableBufferPointer { acc in
                    s.acc32.withUnsafeMutableBufferPointer { acc32 in
                        // Locals, so nothing the loop reads can alias what it writes.
                        var o = false
                        let k = k, num = num, gain = l.arousalGain, L = b.narrowShift
                        let gained = aroused && l.arousedConstants != nil
                        if injected {
                            // The host's current replaces the input (spikes never reach an input layer).
                            for j in base..<(base + b.count) {
                                FixedPointASN.integrate(I: &I[j], S: &S[j], input: 0, host: host[j], k, num, &o)
                                acc[j] = 0; acc32[j] = 0
                            }
                        } else {
                            for j in base..<(base + b.count) {
                                let x = FixedPointASN.input(wide: acc[j], narrow: acc32[j], shift: L)
                                FixedPointASN.integrate(I: &I[j], S: &S[j], input: gained ? FixedPointASN.arousedInput(gain, x, k, num) : x, host: nil, k, num, &o)
                                acc[j] = 0; acc32[j] = 0
                            }
                        }
                        if o { over = true }
                    }
                }
                s.sHat.withUnsafeMutableBufferPointer { sHat in
                    s.thDyn.withUnsafeMutableBufferPointer { thDyn in
                        s.theta.withUnsafeMutableBufferPointer { theta in
                            b.bias.withUnsafeBufferPointer { bias in
                                b.poolStart.withUnsafeBufferPointer { ps in
                                    b.poolCompartment.withUnsafeBufferPointer { pc in
                                        let Sb = S.baseAddress! + base
                                        var o = false
                                        let k = k, num = num, nb = b.neuronBase
                                        defer { if o { over = true } }
                                        for n in 0..<b.neurons {
                                            var a = Int64.min
                                            for q in Int(ps[n])..<Int(ps[n + 1]) {
                                                let ci = Int(pc[q])
                                                a = max(a, bias[ci] &+ Sb[ci])
                                            }
                                            let ni = nb + n
                                            guard let th = FixedPointASN.fire(sHat: &sHat[ni], thetaDyn: &thDyn[ni], theta: &theta[ni], activation: a, k, num, &o) else { continue }
                                            spikes.append((n, th))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        for (n, th) in spikes {
            tally.spikes[b.layer] += 1
            tally.raster?[b.layer].append((t, Int(b.layerNeuron[n])))
            let payload = l.graded ? FixedPointASN.payload(th, k, num, &over) : th
            route(core, p, output: b.firstOutput + n, payload: payload, layer: b.layer, &s.counters, &tally, &sink)
        }
        return over
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
