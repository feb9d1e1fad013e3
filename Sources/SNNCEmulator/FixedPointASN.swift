// The ASN in integers — mirrors Docs/fixed-point.md rule by rule (same names, same order).
// Change one, change the other.

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

public enum FixedPointASN {
    /// rshift(x, n): x / 2^n rounded by the profile's rule (n ≥ 1); n ≤ 0 shifts left.
    @inline(__always)
    public static func rshift(_ x: Int64, _ n: Int, _ mode: RoundingMode) -> Int64 {
        if n <= 0 { return x << Int64(-n) }
        let q = x >> Int64(n)  // floor
        let r = x &- (q << Int64(n))  // 0 ≤ r < 2^n
        switch mode {
        case .floor: return q
        case .towardZero: return (x < 0 && r != 0) ? q &+ 1 : q
        case .nearestAway:
            let half = Int64(1) << Int64(n - 1)
            if r > half { return q &+ 1 }
            if r < half { return q }
            return x < 0 ? q : q &+ 1
        case .nearestEven:
            let half = Int64(1) << Int64(n - 1)
            if r > half { return q &+ 1 }
            if r < half { return q }
            return q & 1 == 0 ? q : q &+ 1
        }
    }

    /// mul(α, x) = rshift(α·x, k)
    @inline(__always)
    public static func mul(_ a: Int64, _ x: Int64, _ k: Int, _ mode: RoundingMode) -> Int64 { rshift(a &* x, k, mode) }

    /// Clamps (or wraps) x to a signed b-bit integer; `overflowed` is set when it did not fit.
    @inline(__always)
    public static func fit(_ x: Int64, bits b: Int, wrap: Bool, _ overflowed: inout Bool) -> Int64 {
        let hi = (Int64(1) << Int64(b - 1)) - 1, lo = -(Int64(1) << Int64(b - 1))
        if x >= lo && x <= hi { return x }
        overflowed = true
        if !wrap { return x > hi ? hi : lo }
        let m = Int64(1) << Int64(b)
        var w = (x &- lo) % m
        if w < 0 { w = w &+ m }
        return w &+ lo
    }

    /// Step 5's payload on a graded spike: rshift(ϑ, payload_shift), saturated to the profile's
    /// payload width (0: unlimited). A payload that does not fit counts as an overflow.
    @inline(__always)
    public static func payload(_ theta: Int64, _ c: FixedConstants, _ n: FixedNumerics, _ overflowed: inout Bool) -> Int64 {
        let p = c.payloadShift > 0 ? rshift(theta, c.payloadShift, n.rounding) : theta
        return n.payloadBits > 0 && n.payloadBits < 63 ? fit(p, bits: n.payloadBits, wrap: false, &overflowed) : p
    }

    /// Steps 1–2: current and filtered current of one compartment. `host` is the injected
    /// current of an input layer (nil: synaptic input `input`).
    @inline(__always)
    public static func integrate(I: inout Int64, S: inout Int64, input: Int64, host: Int64?, _ c: FixedConstants, _ n: FixedNumerics, _ overflowed: inout Bool) {
        I = fit(host ?? (mul(c.alphaBeta, I, c.k, n.rounding) &+ input), bits: n.currentBits, wrap: n.wrap, &overflowed)
        let one = Int64(1) << Int64(c.k)
        S = fit(rshift((one &- c.alphaPhi) &* I &+ c.alphaPhi &* S, c.k, n.rounding), bits: n.activationBits, wrap: n.wrap, &overflowed)
    }

    /// Steps 4–6 on activation A (step 3: bias + S, or the max over a pooled neuron's
    /// compartments). Returns the payload ϑ when the neuron spikes.
    @inline(__always)
    public static func fire(sHat: inout Int64, thetaDyn: inout Int64, theta: inout Int64, activation A: Int64, _ c: FixedConstants, _ n: FixedNumerics, _ overflowed: inout Bool) -> Int64? {
        sHat = mul(c.alphaEta, sHat, c.k, n.rounding)
        var payload: Int64? = nil
        if 2 &* (A &- sHat) > theta {
            payload = theta
            sHat = sHat &+ theta
            thetaDyn = thetaDyn &+ mul(c.mf, theta, c.k, n.rounding)
        }
        thetaDyn = mul(c.alphaGamma, thetaDyn, c.k, n.rounding)
        sHat = fit(sHat, bits: n.refractoryBits, wrap: n.wrap, &overflowed)
        theta = fit(c.theta0 &+ thetaDyn, bits: n.thresholdBits, wrap: n.wrap, &overflowed)
        thetaDyn = theta &- c.theta0
        return payload
    }
}
