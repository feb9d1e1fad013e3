// The host beside the chips: it encodes each sample into the input layers' currents, reads the
// readout every step (float64, Docs/fixed-point.md "Readout"), and runs the arousal policy —
// which, when it switches, writes the cores' ϑ0_hp registers (the `aroused` flag every core
// reads from the next step on). Arithmetic from FixedPointASN.swift.
import SNNCIR

struct Host {
    let net: EmuNetwork
    /// Per readout layer (by layer index): r_I, r_S per compartment; its source's α_β / 2^k and a_φ.
    var rI: [[Double]], rS: [[Double]]
    let alpha: [(beta: Double, phi: Double)]
    let arousal: Arousal?
    /// The (core, block) pairs of the readout's blocks and of the input layers' blocks.
    let readoutBlocks: [(core: Int, block: Int)], injectedBlocks: [(core: Int, block: Int)]
    /// Each readout layer's place among the readout layers, and where its sums start.
    let readoutRank: [Int], readoutOffset: [Int]
    var evidence = 0.0
    var aroused = false

    init(_ net: EmuNetwork, arousal: Bool) {
        self.net = net
        rI = net.layers.map { $0.kind == .readout ? [Double](repeating: 0, count: $0.compartments) : [] }
        rS = rI
        alpha = net.layers.map { l in
            guard l.kind == .readout else { return (0, 0) }
            let s = net.layers[l.readoutSource].constants
            return (Double(s.alphaBeta) / Double(1 << s.k), exp(-1 / l.readoutTauPhi))
        }
        self.arousal = arousal ? net.arousal : nil
        let soma = net.cores.indices.flatMap { c in net.cores[c].blocks.indices.filter { !net.cores[c].blocks[$0].dendrite }.map { (core: c, block: $0) } }
        readoutBlocks = soma.filter { net.layers[net.cores[$0.core].blocks[$0.block].layer].kind == .readout }
        injectedBlocks = soma.filter { net.layers[net.cores[$0.core].blocks[$0.block].layer].kind == .injected }
        var rank = [Int](repeating: 0, count: net.layers.count), offset = [0]
        for (li, l) in net.layers.enumerated() where l.kind == .readout {
            rank[li] = offset.count - 1
            offset.append(offset.last! + l.compartments)
        }
        readoutRank = rank
        readoutOffset = offset
    }

    /// Host currents of every input layer for one sample, per layer compartment.
    func encode(_ x: [Double]) -> [[Int64]] {
        net.layers.map { l in
            guard l.kind == .injected else { return [] }
            let chained = l.hostSteps.isEmpty ? [] : l.hostSteps.reduce(x) { $1.apply($0) }
            return (0..<l.compartments).map { j in
                let v: Double
                if !l.hostSteps.isEmpty {
                    v = j < chained.count ? chained[j] : 0
                } else {
                    let xj = j < x.count ? x[j] : 0
                    let ch = j % l.c
                    v = l.hostScale.isEmpty ? xj : xj * l.hostScale[ch % l.hostScale.count] + l.hostShift[ch % l.hostShift.count]
                }
                if let k = l.lif, k.family == .loihi { return LoihiLIF.hostCurrent(v * l.hostGain, stateExponent: l.stateExponent, currentBased: k.currentBased) }
                return FixedPointASN.hostCurrent(l.lif != nil ? v * l.hostGain : v, stateExponent: l.stateExponent)
            }
        }
    }

    /// Writes the sample's currents into the cores holding the input layers.
    func inject(_ currents: [[Int64]], _ states: inout [CoreState]) {
        for (c, bi) in injectedBlocks {
            let b = net.cores[c].blocks[bi]
            for j in 0..<b.count { states[c].host[b.base + j] = currents[b.layer][Int(b.layerCompartment[j])] }
        }
    }

    /// Reads (and clears) every readout block's accumulators: per readout layer, per compartment,
    /// flat in layer order (summed over processes when the cores are spread).
    func readoutSums(_ states: inout [CoreState]) -> [Int64] {
        var acc = [Int64](repeating: 0, count: readoutOffset.last ?? 0)
        for (ci, bi) in readoutBlocks {
            let b = net.cores[ci].blocks[bi]
            let o = readoutOffset[readoutRank[b.layer]]
            for j in b.base..<(b.base + b.count) {
                acc[o + Int(b.layerCompartment[j - b.base])] &+= FixedPointASN.input(wide: states[ci].acc[j], narrow: states[ci].acc32[j], shift: b.narrowShift)
                states[ci].acc[j] = 0
                states[ci].acc32[j] = 0
            }
        }
        return acc
    }

    /// Updates the readout from this step's sums and returns the class: argmax of bias + r_S
    /// (the lowest index on ties); the last readout layer decides. Then arousal: over the window
    /// it sums the gap between the two largest readout values and, at the window's last step,
    /// switches when the sum is at most θ_A.
    mutating func readout(step t: Int, sums: [Int64]) -> Int32 {
        var cls: Int32 = 0
        for (li, l) in net.layers.enumerated() where l.kind == .readout {
            let gain = aroused ? l.readoutArousalGain : 1
            let o = readoutOffset[readoutRank[li]]
            var best = 0
            if let k = l.readoutLeak {
                for j in 0..<l.compartments {
                    FixedPointLIF.leakyReadout(v: &rS[li][j], i: &rI[li][j], acc: sums[o + j], lsb: l.readoutLSB, bias: l.readoutBias[j], k)
                }
                for j in 1..<max(1, l.compartments) where rS[li][j] > rS[li][best] { best = j }
            } else {
                for j in 0..<l.compartments {
                    FixedPointASN.readout(rI: &rI[li][j], rS: &rS[li][j], acc: sums[o + j], lsb: l.readoutLSB, gain: gain, alphaBeta: alpha[li].beta, aPhi: alpha[li].phi)
                }
                for j in 1..<max(1, l.compartments) where l.readoutBias[j] + rS[li][j] > l.readoutBias[best] + rS[li][best] { best = j }
            }
            cls = Int32(best)
            if let a = arousal, t >= a.startMs, t <= a.decisionStep {
                evidence += Arousal.gap((0..<l.compartments).map { l.readoutBias[$0] + rS[li][$0] })
                if t == a.decisionStep && evidence <= a.threshold { aroused = true }
            }
        }
        return cls
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension EmuNetwork {
    /// The host currents of every input layer for one sample (per layer compartment, in state
    /// LSBs): what the emulator writes into the input layers' cores.
    public func hostCurrents(_ x: [Double]) -> [[Int64]] { Host(self, arousal: false).encode(x) }
}
