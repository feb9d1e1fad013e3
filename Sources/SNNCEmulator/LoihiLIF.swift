// Loihi's compartment in integers — Docs/fixed-point.md "Loihi", rule by rule, in the order and
// with the names of Lava's bit-accurate model (lava/proc/lif/models.py,
// `AbstractPyLifModelFixed.subthr_dynamics`, `PyLifModelBitAcc.spiking_activation`; lava-nc
// 0.10.0). The constants are the family's (SNNCIR/ChipFamily.swift, LoihiRules). Change one,
// change the other; Benchmarks/peers/lava runs Lava itself against this file.
import SNNCIR

public enum LoihiLIF {
    /// `sign(x)·(|x·m| >> 12)`: Lava's decay, the product in 64 bits, rounded toward zero.
    @inline(__always)
    public static func decay(_ x: Int64, multiplier m: Int64) -> Int64 {
        let p = x &* m
        return p < 0 ? -((0 &- p) >> Int64(LoihiRules.decayShift)) : p >> Int64(LoihiRules.decayShift)
    }

    /// The current: `decayed_curr = int32(decay(u))`; `activation_in << 6` and the sum in the
    /// port's int32 (wrapping as numpy does); then the 24-bit wrap as Lava writes it — above 2^23
    /// subtract 2^24, at or below −2^23 add 2^24, once (so +2^23 itself stays). `wrapped` is set
    /// when the wrap changed the value.
    @inline(__always)
    public static func current(u: Int64, aIn: Int64, multiplier m: Int64, wrapped: inout Int64) -> Int64 {
        let decayed = Int32(truncatingIfNeeded: decay(u, multiplier: m))
        let activation = Int32(truncatingIfNeeded: aIn) &<< Int32(LoihiRules.activationShift)
        let sum = Int64(decayed &+ activation)
        let max = LoihiRules.maxUV
        if sum > max { wrapped |= 1; return sum - 2 * max }
        if sum <= -max { wrapped |= 1; return sum + 2 * max }
        return sum
    }

    /// The voltage: `decay(v) + u + effective_bias` (int32), clipped to ±(2^23 − 1); `clipped`
    /// is set when the clip changed it. The bias is `bias_mant << bias_exp`, in state LSBs.
    @inline(__always)
    public static func voltage(v: Int64, u: Int64, bias: Int64, multiplier m: Int64, clipped: inout Int64) -> Int64 {
        let decayed = Int32(truncatingIfNeeded: decay(v, multiplier: m))
        let sum = Int64(decayed &+ Int32(truncatingIfNeeded: u) &+ Int32(truncatingIfNeeded: bias))
        let limit = LoihiRules.maxUV - 1
        if sum > limit { clipped |= 1; return limit }
        if sum < -limit { clipped |= 1; return -limit }
        return sum
    }

    /// A convolution's output as Lava's `PyConvModelFixed` sends it: `signed_clamp(x, 24)`, i.e.
    /// (x + 2^23) mod 2^24 − 2^23 — a wrap, not a saturation.
    @inline(__always)
    public static func convOutput(_ x: Int64) -> Int64 {
        let base: Int64 = 1 << 24, half: Int64 = 1 << 23
        let m = (x &+ half) % base
        return (m < 0 ? m + base : m) - half
    }

    /// The effective threshold `vth << 6`; a compartment spikes when v exceeds it, and its v is
    /// then 0 (u is kept): FixedPointLIF.spikes and FixedPointLIF.reset with v_reset 0, at once.
    public static func threshold(vth: Int) -> Int64 { Int64(vth) << Int64(LoihiRules.thresholdShift) }

    /// One compartment's step 1–2: u from its synaptic input `aIn` (the dense output Σ w, in
    /// weight units), then v with its bias. An IF or LIF layer has no current of its own: its u
    /// multiplier is 0 (du = 4095), so u is this step's input.
    @inline(__always)
    public static func integrate(u: inout Int64, v: inout Int64, aIn: Int64, bias: Int64, _ k: LIFFixedConstants, _ overflow: inout Int64) {
        u = current(u: u, aIn: k.convInput ? convOutput(aIn) : aIn, multiplier: k.currentBased ? k.synDecay : 0, wrapped: &overflow)
        v = voltage(v: v, u: u, bias: bias, multiplier: k.memDecay, clipped: &overflow)
    }

    /// An input layer's host current on Loihi, in state LSBs. An IF or LIF input layer takes it
    /// as its bias, as netx feeds the input (`bias_mant` = round(x / 2^(s + 6)), ties to even,
    /// clamped to 13 bits, bias_exp 6). A CubaLIF input layer takes it as its synaptic input
    /// `a_in` (a multiple of 2^6 LSBs, clamped to ±2^17 so a_in << 6 fits u), so its current
    /// filters the input as the model's does; `a_in` arrives through Lava's LIF port.
    public static func hostCurrent(_ x: Double, stateExponent s: Int, currentBased: Bool) -> Int64 {
        let units = x / pow2(s + LoihiRules.activationShift)
        if !currentBased { return Int64(LoihiRules.biasMantissa(units)) << Int64(LoihiRules.biasExponent) }
        let r = units.rounded(.toNearestOrEven)
        let limit = Double(1 << 17)
        return Int64(r.isNaN ? 0 : min(max(r, -limit), limit)) << Int64(LoihiRules.activationShift)
    }
}
