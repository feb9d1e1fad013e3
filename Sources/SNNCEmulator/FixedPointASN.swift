// The ASN in integers — every fixed-point rule of the emulator, mirroring Docs/fixed-point.md
// rule by rule (same names, same order): numbers and rounding, saturation, synaptic input,
// host current, the step, the readout, arousal. Change one, change the other. The cores
// (Core.swift) and the host (Host.swift) call these and nothing else for arithmetic.

import SNNCIR

/// Per-layer integer constants (layers.json "neuron").
public struct FixedConstants: Sendable, Equatable {
    public var k: Int
    public var alphaBeta: Int64, alphaPhi: Int64, alphaEta: Int64, alphaGamma: Int64, mf: Int64
    public var theta0: Int64
    /// Graded layers: the payload is rshift(ϑ, payloadShift).
    public var payloadShift: Int = 0

    public init(k: Int, alphaBeta: Int64, alphaPhi: Int64, alphaEta: Int64, alphaGamma: Int64, mf: Int64, theta0: Int64, payloadShift: Int = 0) {
        self.k = k
        self.alphaBeta = alphaBeta
        self.alphaPhi = alphaPhi
        self.alphaEta = alphaEta
        self.alphaGamma = alphaGamma
        self.mf = mf
        self.theta0 = theta0
        self.payloadShift = payloadShift
    }
}

/// Widths, rounding and overflow rule (layers.json "numerics").
public struct FixedNumerics: Sendable, Equatable {
    public var rounding: RoundingMode
    public var wrap: Bool
    public var currentBits: Int, activationBits: Int, refractoryBits: Int, thresholdBits: Int, payloadBits: Int

    public init(rounding: RoundingMode, wrap: Bool, currentBits: Int, activationBits: Int, refractoryBits: Int, thresholdBits: Int, payloadBits: Int) {
        self.rounding = rounding
        self.wrap = wrap
        self.currentBits = currentBits
        self.activationBits = activationBits
        self.refractoryBits = refractoryBits
        self.thresholdBits = thresholdBits
        self.payloadBits = payloadBits
    }
}

/// A rounding mode as a type, so a core's step is compiled once per mode with the mode's
/// branch folded away (the arithmetic is `rshift(_:_:_:)`'s, with `mode`).
protocol RoundingRule { static var mode: RoundingMode { get } }
enum NearestEvenRule: RoundingRule { static var mode: RoundingMode { .nearestEven } }
enum NearestAwayRule: RoundingRule { static var mode: RoundingMode { .nearestAway } }
enum TowardZeroRule: RoundingRule { static var mode: RoundingMode { .towardZero } }
enum FloorRule: RoundingRule { static var mode: RoundingMode { .floor } }

/// The overflow rule as a type, for the same reason (`fit(_:bits:wrap:_:)` with `wrap`).
protocol OverflowRule { static var wrap: Bool { get } }
enum SaturateRule: OverflowRule { static var wrap: Bool { false } }
enum WrapRule: OverflowRule { static var wrap: Bool { true } }

public enum FixedPointASN {
    /// rshift(x, n): x / 2^n rounded by the profile's rule (n ≥ 1); n ≤ 0 shifts left.
    /// |n| ≤ 62 always (the reader refuses wider shifts), so masking shifts are exact here.
    @_transparent
    public static func rshift(_ x: Int64, _ n: Int, _ mode: RoundingMode) -> Int64 {
        n <= 0 ? x &<< Int64(0 &- n) : rshiftRounded(x, n, mode)
    }

    /// rshift for n ≥ 1: the rounding itself, branch-free (one comparison decides whether to
    /// round up), so the loops over a block's compartments vectorise.
    @_transparent
    public static func rshiftRounded(_ x: Int64, _ n: Int, _ mode: RoundingMode) -> Int64 {
        let q = x &>> Int64(n)  // floor
        let r = x &- (q &<< Int64(n))  // 0 ≤ r < 2^n
        let half = Int64(1) &<< Int64(n &- 1)
        switch mode {
        case .floor: return q
        case .towardZero: return q &+ ((x &>> 63) & (r != 0 ? 1 : 0))  // negative and inexact
        case .nearestAway: return q &+ (r &+ ((~x &>> 63) & 1) > half ? 1 : 0)  // ties up when x ≥ 0
        case .nearestEven: return q &+ (r &+ (q & 1) > half ? 1 : 0)  // ties up when q is odd
        }
    }

    /// mul(α, x) = rshift(α·x, k), k ≥ 1 (decay_bits is 1…30).
    @_transparent
    public static func mul(_ a: Int64, _ x: Int64, _ k: Int, _ mode: RoundingMode) -> Int64 { rshiftRounded(a &* x, k, mode) }

    /// Clamps (or wraps) x to a signed b-bit integer (2 ≤ b ≤ 62). Branch-free: `overflow`
    /// accumulates (result XOR x), non-zero once a value did not fit.
    @_transparent
    public static func fit(_ x: Int64, bits b: Int, wrap: Bool, _ overflow: inout Int64) -> Int64 {
        let hi = (Int64(1) &<< Int64(b &- 1)) &- 1, lo = ~hi
        // Wrapping: x − lo modulo 2^b, plus lo (two's complement, so a mask is the modulo).
        let y = wrap ? ((x &- lo) & ((Int64(1) &<< Int64(b)) &- 1)) &+ lo : min(max(x, lo), hi)
        overflow |= y ^ x
        return y
    }

    // MARK: synaptic input

    /// Binary spike: the weight a synapse of mantissa m adds, m · 2^(e − s) = rshift(m, s − e)
    /// (`shift` = s − e; a left shift when negative), saturated to 32 bits — computed once, when
    /// the core's synapse memory is loaded. An identity synapse's weight round(h · 2^−s) comes
    /// from the compiler with shift 0.
    @inline(__always)
    public static func synapticWeight(_ m: Int32, shift: Int, _ mode: RoundingMode) -> Int32 {
        Int32(clamping: rshift(Int64(m), shift, mode))
    }

    /// One run of synapses, binary: in[k] += w[k]. Sums are 64-bit and wrap; saturation comes
    /// when step 1 stores I.
    @inline(__always)
    static func addBinary(_ acc: UnsafeMutablePointer<Int64>, _ w: UnsafePointer<Int32>, _ n: Int) {
        for k in 0..<n { acc[k] &+= Int64(w[k]) }
    }

    /// The same, for a narrow range: into a 32-bit sum (from 16- or 32-bit weights), exact
    /// because the reader proved that no compartment's sum of |w| over one step reaches 2^31
    /// (one spike per axon per step).
    @inline(__always)
    static func addBinary(_ acc: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int16>, _ n: Int) {
        for k in 0..<n { acc[k] &+= Int32(w[k]) }
    }

    @inline(__always)
    static func addBinary(_ acc: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, _ n: Int) {
        for k in 0..<n { acc[k] &+= w[k] }
    }

    /// A compartment's synaptic input this step: the 64-bit sum plus the narrow 32-bit sum
    /// shifted by its block's mantissa shift L (0 unless the block sums mantissas).
    @inline(__always)
    public static func input(wide: Int64, narrow: Int32, shift L: Int) -> Int64 {
        wide &+ (Int64(narrow) &<< Int64(L))
    }

    /// One run, graded: in[k] += rshift(w[k] · p, shift) — `shift` = s − (e + s′ + r′); a left
    /// shift (exact) when negative, else rounded per synapse by the profile's rule.
    @inline(__always)
    static func addGraded(_ acc: UnsafeMutablePointer<Int64>, _ w: UnsafePointer<Int32>, _ n: Int, payload p: Int64, shift: Int, _ mode: RoundingMode) {
        if shift <= 0 {
            let l = Int64(-shift)
            for k in 0..<n { acc[k] &+= (Int64(w[k]) &* p) << l }
            return
        }
        switch mode {
        case .floor: for k in 0..<n { acc[k] &+= rshift(Int64(w[k]) &* p, shift, .floor) }
        case .towardZero: for k in 0..<n { acc[k] &+= rshift(Int64(w[k]) &* p, shift, .towardZero) }
        case .nearestAway: for k in 0..<n { acc[k] &+= rshift(Int64(w[k]) &* p, shift, .nearestAway) }
        case .nearestEven: for k in 0..<n { acc[k] &+= rshift(Int64(w[k]) &* p, shift, .nearestEven) }
        }
    }

    /// One run, partial current from a dendrite block (same layer, same LSB): in[k] += p.
    @inline(__always)
    static func addPartial(_ acc: UnsafeMutablePointer<Int64>, _ n: Int, payload p: Int64) {
        for k in 0..<n { acc[k] &+= p }
    }

    /// Host current of an input layer: I = round(x / 2^s), ties to even, saturated to 64 bits
    /// (NaN → 0).
    @inline(__always)
    public static func hostCurrent(_ x: Double, stateExponent s: Int) -> Int64 {
        let d = (x / pow2(s)).rounded(.toNearestOrEven)
        if d.isNaN { return 0 }
        if d >= 9.2e18 { return Int64.max }
        if d <= -9.2e18 { return Int64.min }
        return Int64(d)
    }

    // MARK: one step

    /// Step 5's payload on a graded spike: rshift(ϑ, payload_shift), saturated to the profile's
    /// payload width (0: unlimited). A payload that does not fit counts as an overflow.
    @_transparent
    public static func payload(_ theta: Int64, _ c: FixedConstants, _ n: FixedNumerics, _ overflow: inout Int64) -> Int64 {
        let p = c.payloadShift > 0 ? rshiftRounded(theta, c.payloadShift, n.rounding) : theta
        return n.payloadBits > 0 && n.payloadBits < 63 ? fit(p, bits: n.payloadBits, wrap: false, &overflow) : p
    }

    /// Steps 1–2: current and filtered current of one compartment. `host` is the injected
    /// current of an input layer (nil: synaptic input `input`). `mode` is n.rounding, passed
    /// apart so that a caller's loop is compiled once per mode.
    @_transparent
    public static func integrate(I: inout Int64, S: inout Int64, input: Int64, host: Int64?, _ c: FixedConstants, _ n: FixedNumerics,
                                 _ mode: RoundingMode, _ overflow: inout Int64) {
        I = fit(host ?? (mul(c.alphaBeta, I, c.k, mode) &+ input), bits: n.currentBits, wrap: n.wrap, &overflow)
        let one = Int64(1) &<< Int64(c.k)
        S = fit(rshiftRounded((one &- c.alphaPhi) &* I &+ c.alphaPhi &* S, c.k, mode), bits: n.activationBits, wrap: n.wrap, &overflow)
    }

    /// Steps 4–6 on activation A (step 3: bias + S, or the max over a pooled neuron's
    /// compartments). Returns whether the neuron spikes; the spike's payload is ϑ as it was
    /// before the call. Branch-free (a spike is a mask), so a block's loop does not mispredict.
    @_transparent
    public static func fire(sHat: inout Int64, thetaDyn: inout Int64, theta: inout Int64, activation A: Int64, _ c: FixedConstants, _ n: FixedNumerics,
                            _ mode: RoundingMode, _ overflow: inout Int64) -> Bool {
        let decayed = mul(c.alphaEta, sHat, c.k, mode)
        let spikes = 2 &* (A &- decayed) > theta
        let m: Int64 = spikes ? -1 : 0
        let sh = decayed &+ (theta & m)
        let td = mul(c.alphaGamma, thetaDyn &+ (mul(c.mf, theta, c.k, mode) & m), c.k, mode)
        sHat = fit(sh, bits: n.refractoryBits, wrap: n.wrap, &overflow)
        theta = fit(c.theta0 &+ td, bits: n.thresholdBits, wrap: n.wrap, &overflow)
        thetaDyn = theta &- c.theta0
        return spikes
    }

    // MARK: readout (the host, float64)

    /// The readout's input this step: its accumulator (integers in `lsb`, the readout's single
    /// weighted input: 2^e for binary spikes, 2^(e + s′ + r′) for graded) × lsb × the arousal gain;
    /// then r_I ← α_β·r_I + input, r_S ← (1 − a_φ)·r_I + a_φ·r_S with the source layer's α_β / 2^k
    /// and a_φ = exp(−1/τ_φ).
    @inline(__always)
    public static func readout(rI: inout Double, rS: inout Double, acc: Int64, lsb: Double, gain: Double, alphaBeta: Double, aPhi: Double) {
        rI = alphaBeta * rI + gain * (Double(acc) * lsb)
        rS = (1 - aPhi) * rI + aPhi * rS
    }

    // MARK: arousal

    /// Step 1's input of a switched layer: mul(input_gain, in).
    @inline(__always)
    public static func arousedInput(_ gain: Int64, _ input: Int64, _ c: FixedConstants, _ mode: RoundingMode) -> Int64 {
        mul(gain, input, c.k, mode)
    }
}
