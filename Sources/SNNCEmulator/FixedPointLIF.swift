// The IF family (IF, LIF, CubaLIF) in integers — the rules of Docs/fixed-point.md, "The IF
// family", in the same order and with the same names. Rounding, multipliers and saturation are
// FixedPointASN's (one definition of each). Change one, change the other.
import SNNCIR

/// Per-layer integer constants of an IF-family layer.
public struct LIFFixedConstants: Sendable, Equatable {
    /// Multiplier bits (decay_bits).
    public var k: Int
    /// (1 − 1/τ_mem)·2^k, or 2^k for IF (no decay); (1 − 1/τ_syn)·2^k for CubaLIF.
    public var memDecay: Int64, synDecay: Int64
    public var currentBased: Bool
    /// v_threshold, v_reset and the leak v_leak/τ_mem, in the layer's state LSBs.
    public var threshold: Int64, vReset: Int64, leak: Int64
    /// Reset by subtracting the threshold (else to v_reset); on the next step (else at once).
    public var subtract: Bool, nextStep: Bool
    /// Whose arithmetic integrates: `generic` (this file) or `loihi` (LoihiLIF.swift: memDecay
    /// is then the voltage's multiplier 4096 − dv, synDecay the current's 4096 − (du + 1)).
    public var family: ChipFamily = .generic
    /// Loihi: the layer's synaptic input comes through a convolution, whose output Lava wraps to
    /// 24 bits (`signed_clamp`, lava/proc/conv/utils.py) before the LIF's shift.
    public var convInput = false

    public init(k: Int, memDecay: Int64, synDecay: Int64 = 0, currentBased: Bool = false, threshold: Int64, vReset: Int64 = 0, leak: Int64 = 0,
                subtract: Bool, nextStep: Bool = false, family: ChipFamily = .generic) {
        self.k = k
        self.memDecay = memDecay
        self.synDecay = synDecay
        self.currentBased = currentBased
        self.threshold = threshold
        self.vReset = vReset
        self.leak = leak
        self.subtract = subtract
        self.nextStep = nextStep
        self.family = family
    }
}

/// A leaky readout's coefficients per step (layers.json `leak`).
public struct ReadoutLeak: Sendable, Equatable {
    public var memDecay: Double, memGain: Double, memLeak: Double
    public var currentBased: Bool
    public var synDecay: Double, synGain: Double
    public init(memDecay: Double, memGain: Double, memLeak: Double, currentBased: Bool, synDecay: Double, synGain: Double) {
        (self.memDecay, self.memGain, self.memLeak, self.currentBased, self.synDecay, self.synGain) = (memDecay, memGain, memLeak, currentBased, synDecay, synGain)
    }

    /// The readout of an IF-family network (`"decoding": "integrate"`): v ← v + x, exactly.
    public static let integrator = ReadoutLeak(memDecay: 1, memGain: 1, memLeak: 0, currentBased: false, synDecay: 0, synGain: 0)
}

public enum FixedPointLIF {
    /// Steps 1–2 for one compartment: `x` is this step's input — the synaptic sum plus the bias
    /// (the compiler folded the input gains into both), or the host current of an input layer.
    /// CubaLIF: i ← mul(d_syn, i) + x, saturated to current_bits, and the drive is i; otherwise
    /// the drive is x. Then v ← mul(d_mem, v) + drive + leak, saturated to activation_bits.
    @inline(__always)
    public static func integrate(i: inout Int64, v: inout Int64, x: Int64, _ k: LIFFixedConstants, _ num: FixedNumerics, _ mode: RoundingMode,
                                 _ overflow: inout Int64) {
        var drive = x
        if k.currentBased {
            i = FixedPointASN.fit(FixedPointASN.mul(k.synDecay, i, k.k, mode) &+ x, bits: num.currentBits, wrap: num.wrap, &overflow)
            drive = i
        }
        v = FixedPointASN.fit(FixedPointASN.mul(k.memDecay, v, k.k, mode) &+ drive &+ k.leak, bits: num.activationBits, wrap: num.wrap, &overflow)
    }

    /// The reset of one compartment: v − θ (saturated) or v_reset. Step 3 applies it to every
    /// compartment of a neuron that spiked in the previous step (reset timing "next_step"),
    /// step 5 to those of a neuron spiking now (timing "immediate").
    @inline(__always)
    public static func reset(_ v: Int64, _ k: LIFFixedConstants, _ num: FixedNumerics, _ overflow: inout Int64) -> Int64 {
        k.subtract ? FixedPointASN.fit(v &- k.threshold, bits: num.activationBits, wrap: num.wrap, &overflow) : k.vReset
    }

    /// Step 4: a neuron spikes when its activation — its membrane, or the largest membrane of
    /// its compartments when max-pooled — exceeds the threshold.
    @inline(__always)
    public static func spikes(activation a: Int64, _ k: LIFFixedConstants) -> Bool { a > k.threshold }

    /// The readout of an IF-family network on the host in float64 — integrating (`integrator`:
    /// v ← v + x, exact) or leaky (NIR's LI, CubaLI) — in the float reference's arithmetic and order:
    /// x = acc·lsb + bias; CubaLI first i ← syn_decay·i + syn_gain·x and the drive is i; then
    /// v ← mem_decay·v + mem_gain·drive + mem_leak. The class is the largest v.
    @inline(__always)
    public static func leakyReadout(v: inout Double, i: inout Double, acc: Int64, lsb: Double, bias: Double, _ k: ReadoutLeak) {
        let x = Double(acc) * lsb + bias
        var drive = x
        if k.currentBased {
            i = k.synDecay * i + k.synGain * x
            drive = i
        }
        v = k.memDecay * v + k.memGain * drive + k.memLeak
    }
}
