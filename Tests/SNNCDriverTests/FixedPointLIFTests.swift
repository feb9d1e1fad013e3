import SNNCEmulator
import SNNCIR
import Testing

/// The IF family's integer rules (FixedPointLIF.swift, Docs/fixed-point.md "The IF family") on
/// hand-derived traces: every value below was worked out on paper, in state LSBs, with k = 4
/// (multipliers in sixteenths).
@Suite struct FixedPointLIFTests {
    let wide = FixedNumerics(rounding: .nearestEven, wrap: false, currentBits: 24, activationBits: 24, refractoryBits: 24, thresholdBits: 24, payloadBits: 8)

    /// Steps a one-compartment neuron on a constant input; returns v after each step and the spike steps.
    func run(_ k: LIFFixedConstants, x: Int64, steps: Int, _ num: FixedNumerics, overflow: inout Int64) -> (i: [Int64], v: [Int64], spikes: [Int]) {
        var i: Int64 = 0, v: Int64 = 0, spiked = false
        var iv: [Int64] = [], vs: [Int64] = [], spikes: [Int] = []
        for t in 0..<steps {
            FixedPointLIF.integrate(i: &i, v: &v, x: x, k, num, num.rounding, &overflow)
            if k.nextStep && spiked { v = FixedPointLIF.reset(v, k, num, &overflow) }
            spiked = FixedPointLIF.spikes(activation: v, k)
            if spiked {
                spikes.append(t)
                if !k.nextStep { v = FixedPointLIF.reset(v, k, num, &overflow) }
            }
            iv.append(i)
            vs.append(v)
        }
        return (iv, vs, spikes)
    }

    @Test func ifSubtractInIntegers() {
        // IF (d_mem = 16 = 2^k: no decay), θ 8, x 3: 3, 6, 9 → 1, 4, 7, 10 → 2, 5, 8 (not above), 11 → 3.
        var o: Int64 = 0
        let r = run(LIFFixedConstants(k: 4, memDecay: 16, threshold: 8, subtract: true), x: 3, steps: 9, wide, overflow: &o)
        #expect(r.v == [3, 6, 1, 4, 7, 2, 5, 8, 3] && r.spikes == [2, 5, 8] && o == 0)
    }

    @Test func lifDecayRoundsByTheProfilesRule() {
        // d_mem 12 (0.75), θ 16, x 8. Nearest-even: 8; 96/16 = 6 → 14; 168/16 = 10.5 → 10 → 18
        // → spike → 2; 24/16 = 1.5 → 2 → 10; 120/16 = 7.5 → 8 → 16 (not above); 192/16 = 12 → 20 → 4.
        var o: Int64 = 0
        let k = LIFFixedConstants(k: 4, memDecay: 12, threshold: 16, subtract: true)
        let even = run(k, x: 8, steps: 6, wide, overflow: &o)
        #expect(even.v == [8, 14, 2, 10, 16, 4] && even.spikes == [2, 5])
        // Floor: 10.5 → 10 → 18 → 2; 1.5 → 1 → 9; 108/16 = 6.75 → 6 → 14; 168/16 = 10.5 → 10 → 18 → 2.
        var floor = wide
        floor.rounding = .floor
        let f = run(k, x: 8, steps: 6, floor, overflow: &o)
        #expect(f.v == [8, 14, 2, 9, 14, 2] && f.spikes == [2, 5] && o == 0)
    }

    @Test func cubaLIFFiltersTheCurrent() {
        // d_syn 8, d_mem 8 (halves), θ 16, reset to 0, x 8:
        // i 8, 12, 14, 15, 16 (15·8/16 = 7.5 → 8); v 8, 16 (not above), 22 → 0, 15, 24 → 0.
        var o: Int64 = 0
        let k = LIFFixedConstants(k: 4, memDecay: 8, synDecay: 8, currentBased: true, threshold: 16, vReset: 0, subtract: false)
        let r = run(k, x: 8, steps: 5, wide, overflow: &o)
        #expect(r.i == [8, 12, 14, 15, 16] && r.v == [8, 16, 0, 15, 0] && r.spikes == [2, 4] && o == 0)
        // v_leak/τ in LSBs adds every step. Leak 2, no input, d_mem 8: 0 + 2 = 2; 16/16 = 1 → 3;
        // 24/16 = 1.5 → 2 (nearest-even) → 4; 32/16 = 2 → 4, the fixed point leak/(1 − 1/2).
        let leak = run(LIFFixedConstants(k: 4, memDecay: 8, threshold: 16, leak: 2, subtract: true), x: 0, steps: 4, wide, overflow: &o)
        #expect(leak.v == [2, 3, 4, 4])
    }

    @Test func nextStepResetIsSnnTorchsInIntegers() {
        // d_mem 12, θ 16, x 8, subtract on the next step: 8, 14, 18 (spike, kept), 12·18/16 = 13.5
        // → 14 + 8 = 22 − 16 = 6, 72/16 = 4.5 → 4 → 12, 144/16 = 9 → 17 (spike), 204/16 = 12.75
        // → 13 + 8 = 21 − 16 = 5.
        var o: Int64 = 0
        let r = run(LIFFixedConstants(k: 4, memDecay: 12, threshold: 16, subtract: true, nextStep: true), x: 8, steps: 7, wide, overflow: &o)
        #expect(r.v == [8, 14, 18, 6, 12, 17, 5] && r.spikes == [2, 5])
    }

    @Test func membraneSaturatesAndCountsTheOverflow() {
        // 5-bit membrane (−16 … 15), IF with θ 100 (never reached): 10, 15 (20 clamped), 15.
        var narrow = wide
        narrow.activationBits = 5
        var o: Int64 = 0
        let r = run(LIFFixedConstants(k: 4, memDecay: 16, threshold: 100, subtract: true), x: 10, steps: 3, narrow, overflow: &o)
        #expect(r.v == [10, 15, 15] && o != 0)
        // Wrapping instead: 20 → 20 − 32 = −12, then −2.
        narrow.wrap = true
        var w: Int64 = 0
        #expect(run(LIFFixedConstants(k: 4, memDecay: 16, threshold: 100, subtract: true), x: 10, steps: 3, narrow, overflow: &w).v == [10, -12, -2] && w != 0)
    }
}
