// Fixed-point rules of the compiler: how a real weight becomes a b-bit signed mantissa times a
// shared power of two, how decays become k-bit multipliers. Docs/quantization.md states them.
#if canImport(Glibc)
import Glibc
#endif
import SNNCHardware
import SNNCIR

public struct WeightFormat: Sendable, Equatable {
    public var bits: Int
    public var exponent: Int
    /// The mantissas a chip family allows, where they are not a b-bit signed range (Loihi's by
    /// sign mode, LoihiRules.weightRange).
    public var mantissas: ClosedRange<Int>?
    public init(bits: Int, exponent: Int, mantissas: ClosedRange<Int>? = nil) {
        self.bits = bits
        self.exponent = exponent
        self.mantissas = mantissas
    }
    /// Largest and smallest mantissa: 2^(bits−1) − 1 and −2^(bits−1), or the family's range.
    public var maxMantissa: Int { mantissas?.upperBound ?? (1 << (bits - 1)) - 1 }
    public var minMantissa: Int { mantissas?.lowerBound ?? -(1 << (bits - 1)) }
    public var lsb: Double { pow2(exponent) }
}

public enum FixedPoint {
    /// The smallest exponent e (finest LSB) with max|w| ≤ maxMantissa·2^e, clamped to the
    /// profile's range: the most precision without clipping the largest weight.
    public static func chooseExponent(maxAbs: Double, bits: Int, range: ClosedRange<Int>) -> Int {
        guard maxAbs > 0 else { return range.lowerBound }
        // Weights are finite (the loader refuses others), but a product may not be: saturate.
        guard maxAbs.isFinite else { return range.upperBound }
        let maxM = Double((1 << (bits - 1)) - 1)
        // log2 of a finite positive ratio lies in −1100 … 1100: the clamp only bounds the loops.
        var e = min(max(checkedInt(log2(maxAbs / maxM), .up) ?? range.upperBound, range.lowerBound - 1), range.upperBound + 1)
        // Guard against log2 rounding at exact powers of two.
        while e > range.lowerBound && maxAbs <= maxM * pow2(e - 1) { e -= 1 }
        while maxAbs > maxM * pow2(e) { e += 1 }
        return min(max(e, range.lowerBound), range.upperBound)
    }

    /// Rounds x (in LSBs) to an integer by the profile's rule.
    @inline(__always)
    public static func round(_ x: Double, _ mode: RoundingMode) -> Double { mode.round(x) }

    /// The mantissa of w, saturated to the format; `clipped` is true when saturation changed it.
    @inline(__always)
    public static func quantize(_ w: Double, _ f: WeightFormat, _ mode: RoundingMode) -> (mantissa: Int, clipped: Bool) {
        let r = round(w / f.lsb, mode)
        if r > Double(f.maxMantissa) { return (f.maxMantissa, true) }
        if r < Double(f.minMantissa) { return (f.minMantissa, true) }
        return (Int(r), false)
    }

    /// A decay α as a k-bit multiplier: round(α·2^k) (e.g. 12 bits: exp(−1/50) → 4015/4096).
    /// α ≥ 0 is finite and `bits` ≤ 32 (profile and parameter ranges), so this never saturates
    /// in practice; the clamp keeps a caller's mistake from trapping.
    public static func decay(_ alpha: Double, bits: Int) -> Int { clampedInt(alpha * pow2(bits)) }
}

